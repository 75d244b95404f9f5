//! Pruning and defaulting of custom resources, mirroring the cases of upstream's
//! `pruning/algorithm_test.go` (`TestPrune`), `defaulting/algorithm_test.go` (`TestDefault`)
//! and `defaulting/prunenulls_test.go`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use kubespec_engine::api::crd::defaults::{default, prune_non_nullable_nulls_without_defaults};
use kubespec_engine::api::crd::prune::prune;
use kubespec_engine::api::crd::{strict_decoding_error, unknown_field_warnings};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn schema(v: Value) -> JSONSchemaProps {
    serde_json::from_value(v).expect("test schema parses")
}

#[track_caller]
fn check_prune(
    obj: Value,
    s: Option<Value>,
    root: bool,
    expected: Value,
    expected_pruned: &[&str],
) {
    let s = s.map(schema);
    let mut got = obj;
    let pruned = prune(&mut got, s.as_ref(), root);
    assert_eq!(got, expected);
    assert_eq!(pruned, expected_pruned);
    // Idempotent.
    let again = prune(&mut got, s.as_ref(), root);
    assert!(again.is_empty(), "second pruning dropped {again:?}");
    assert_eq!(got, expected);
}

#[test]
fn prune_scalars_and_arrays() {
    check_prune(json!(null), None, false, json!(null), &[]);
    check_prune(json!(4), Some(json!({})), false, json!(4), &[]);
    check_prune(
        json!([1, 2]),
        Some(json!({"items": {}})),
        false,
        json!([1, 2]),
        &[],
    );
    check_prune(
        json!([{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}]),
        Some(json!({"items": {"properties": {"a": {}, "c": {}}}})),
        false,
        json!([{"a": 1}, {}, {"a": 1, "c": 3}]),
        &["[1].b", "[2].b"],
    );
    check_prune(
        json!([{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}]),
        None,
        false,
        json!([{}, {}, {}]),
        &["[0].a", "[1].b", "[2].a", "[2].b", "[2].c"],
    );
}

#[test]
fn prune_object_array_object() {
    check_prune(
        json!({"array": [{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}], "unspecified": {"a": 1}, "specified": {"a": 1, "b": 2, "c": 3}}),
        Some(json!({"properties": {
            "array": {"items": {"properties": {"a": {}, "c": {}}}},
            "specified": {"properties": {"a": {}, "c": {}}}
        }})),
        false,
        json!({"array": [{"a": 1}, {}, {"a": 1, "c": 3}], "specified": {"a": 1, "c": 3}}),
        &["array[1].b", "array[2].b", "specified.b", "unspecified"],
    );
}

#[test]
fn prune_respects_nested_preserve_unknown_fields() {
    let obj = json!({
        "unspecified": "bar",
        "alpha": "abc",
        "beta": 42.0,
        "unspecifiedObject": {"unspecified": "bar"},
        "pruning": {
            "unspecified": "bar",
            "unspecifiedObject": {"unspecified": "bar"},
            "pruning": {"unspecified": "bar"},
            "apiVersion": "unknown",
            "preserving": {"unspecified": "bar"}
        },
        "preserving": {
            "unspecified": "bar",
            "unspecifiedObject": {"unspecified": "bar"},
            "pruning": {"unspecified": "bar"},
            "preserving": {"unspecified": "bar"}
        },
        "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields": {
            "foo": {"specified": {"unspecified": "bar"}, "unspecified": "bar"}
        },
        "preservingAdditionalPropertiesKeyPruneValues": {
            "foo": {"specified": {"unspecified": "bar"}, "unspecified": "bar"}
        }
    });
    let s = json!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
            "alpha": {"type": "string"},
            "beta": {"type": "number"},
            "pruning": {"type": "object", "properties": {
                "preserving": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "pruning": {"type": "object"}
            }},
            "preserving": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {
                "preserving": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "pruning": {"type": "object"}
            }},
            "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "additionalProperties": {"type": "object", "properties": {"specified": {"type": "object"}}}
            },
            "preservingAdditionalPropertiesKeyPruneValues": {
                "type": "object",
                "additionalProperties": {"type": "object", "properties": {"specified": {"type": "object"}}}
            }
        }
    });
    let expected = json!({
        "unspecified": "bar",
        "alpha": "abc",
        "beta": 42.0,
        "unspecifiedObject": {"unspecified": "bar"},
        "pruning": {"pruning": {}, "preserving": {"unspecified": "bar"}},
        "preserving": {
            "unspecified": "bar",
            "unspecifiedObject": {"unspecified": "bar"},
            "pruning": {},
            "preserving": {"unspecified": "bar"}
        },
        "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields": {"foo": {"specified": {}}},
        "preservingAdditionalPropertiesKeyPruneValues": {"foo": {"specified": {}}}
    });
    check_prune(
        obj,
        Some(s),
        false,
        expected,
        &[
            "preserving.pruning.unspecified",
            "preservingAdditionalPropertiesKeyPruneValues.foo.specified.unspecified",
            "preservingAdditionalPropertiesKeyPruneValues.foo.unspecified",
            "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.specified.unspecified",
            "preservingAdditionalPropertiesNotInheritingXPreserveUnknownFields.foo.unspecified",
            "pruning.apiVersion",
            "pruning.pruning.unspecified",
            "pruning.unspecified",
            "pruning.unspecifiedObject",
        ],
    );
}

#[test]
fn prune_additional_properties_schema_and_bool() {
    check_prune(
        json!({"a": 1, "b": 1, "c": {"a": 1, "b": 2, "c": {"a": 1}}}),
        Some(json!({"properties": {"a": {}, "c": {"additionalProperties": {"type": "integer"}}}})),
        false,
        json!({"a": 1, "c": {"a": 1, "b": 2, "c": {}}}),
        &["b", "c.c.a"],
    );
    check_prune(
        json!({"a": 1, "b": 1, "c": {"a": 1, "b": 2, "c": {"a": 1, "apiVersion": "unknown"}}}),
        Some(json!({"properties": {"a": {}, "c": {"additionalProperties": false}}})),
        false,
        json!({"a": 1, "c": {"a": 1, "b": 2, "c": {}}}),
        &["b", "c.c.a", "c.c.apiVersion"],
    );
}

fn embedded_object() -> Value {
    let inner = || {
        json!({
            "apiVersion": "foo/v1", "kind": "Foo", "unspecified": "bar",
            "metadata": {"name": "instance", "unspecified": "bar"},
            "spec": {"unspecified": "bar"}
        })
    };
    let mut nested = inner();
    nested["spec"]["embedded"] = inner();
    json!({
        "apiVersion": "foo/v1", "kind": "Foo",
        "metadata": {"name": "instance", "unspecified": "bar"},
        "unspecified": "bar",
        "pruned": inner(),
        "preserving": inner(),
        "nested": nested
    })
}

fn embedded_schema() -> Value {
    json!({"type": "object", "properties": {
        "pruned": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}},
        "preserving": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
        "nested": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "properties": {
            "embedded": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object"}}}
        }}}}
    }})
}

fn embedded_expected(root: bool) -> Value {
    let meta = json!({"name": "instance", "unspecified": "bar"});
    let pruned = json!({"apiVersion": "foo/v1", "kind": "Foo", "metadata": meta, "spec": {}});
    let mut nested = pruned.clone();
    nested["spec"] = json!({"embedded": pruned.clone()});
    let mut out = json!({
        "pruned": pruned,
        "preserving": {
            "apiVersion": "foo/v1", "kind": "Foo", "unspecified": "bar",
            "metadata": meta, "spec": {"unspecified": "bar"}
        },
        "nested": nested
    });
    if root {
        out["apiVersion"] = json!("foo/v1");
        out["kind"] = json!("Foo");
        out["metadata"] = meta;
    }
    out
}

const EMBEDDED_PRUNED: &[&str] = &[
    "nested.spec.embedded.spec.unspecified",
    "nested.spec.embedded.unspecified",
    "nested.spec.unspecified",
    "nested.unspecified",
    "pruned.spec.unspecified",
    "pruned.unspecified",
    "unspecified",
];

#[test]
fn prune_embedded_resources_keeps_their_meta() {
    // Not a resource root: the root's apiVersion, kind and metadata go, without being reported.
    check_prune(
        embedded_object(),
        Some(embedded_schema()),
        false,
        embedded_expected(false),
        EMBEDDED_PRUNED,
    );
    check_prune(
        embedded_object(),
        Some(embedded_schema()),
        true,
        embedded_expected(true),
        EMBEDDED_PRUNED,
    );
}

#[test]
fn unknown_fields_become_a_strict_error_or_warnings() {
    let pruned = vec!["spec.foo".to_string(), "spec.items[0].bar".to_string()];
    let err = strict_decoding_error(&pruned);
    assert_eq!(
        err.message,
        r#"strict decoding error: unknown field "spec.foo", unknown field "spec.items[0].bar""#
    );
    assert_eq!(err.reason, kubespec_engine::api::Reason::BadRequest);
    assert_eq!(
        unknown_field_warnings(&pruned),
        vec![
            r#"unknown field "spec.foo""#,
            r#"unknown field "spec.items[0].bar""#
        ]
    );
}

#[track_caller]
fn check_default(obj: Value, s: Value, expected: Value) {
    let s = schema(s);
    let mut got = obj;
    prune_non_nullable_nulls_without_defaults(&mut got, &s);
    default(&mut got, &s);
    assert_eq!(got, expected);
}

#[test]
fn defaults_fill_missing_fields_in_objects_arrays_and_maps() {
    check_default(json!(null), json!({}), json!(null));
    check_default(json!(4), json!({"default": "foo"}), json!(4));
    check_default(
        json!([1, 2]),
        json!({"items": {"default": "foo"}}),
        json!([1, 2]),
    );
    check_default(
        json!([{"a": 1}, {"b": 1}, {"c": 1}]),
        json!({"items": {"properties": {
            "a": {"default": "A"}, "b": {"default": "B"}, "c": {"default": "C"}}}}),
        json!([{"a": 1, "b": "B", "c": "C"}, {"a": "A", "b": 1, "c": "C"}, {"a": "A", "b": "B", "c": 1}]),
    );
    let ab = json!({"properties": {"a": {"default": "A"}, "b": {"default": "B"}}});
    check_default(
        json!({"array": [{"a": 1}, {"b": 2}], "object": {"a": 1}, "additionalProperties": {"x": {"a": 1}, "y": {"b": 2}}}),
        json!({"properties": {
            "array": {"items": ab.clone()},
            "object": ab.clone(),
            "additionalProperties": {"additionalProperties": ab}
        }}),
        json!({"array": [{"a": 1, "b": "B"}, {"a": "A", "b": 2}], "object": {"a": 1, "b": "B"},
               "additionalProperties": {"x": {"a": 1, "b": "B"}, "y": {"a": "A", "b": 2}}}),
    );
}

#[test]
fn defaults_replace_non_nullable_nulls() {
    check_default(
        json!([null]),
        json!({"items": {"default": "A", "nullable": true}}),
        json!([null]),
    );
    check_default(
        json!([null]),
        json!({"items": {"default": "A"}}),
        json!(["A"]),
    );
    check_default(
        json!({"a": null}),
        json!({"properties": {"a": {"default": "A", "nullable": true}}}),
        json!({"a": null}),
    );
    check_default(
        json!({"a": null}),
        json!({"properties": {"a": {"default": "A"}}}),
        json!({"a": "A"}),
    );
    check_default(
        json!({"a": null}),
        json!({"additionalProperties": {"default": "A", "nullable": true}}),
        json!({"a": null}),
    );
    check_default(
        json!({"a": null}),
        json!({"additionalProperties": {"default": "A"}}),
        json!({"a": "A"}),
    );
    check_default(
        json!({"a": null}),
        json!({"additionalProperties": true}),
        json!({"a": null}),
    );
}

#[test]
fn defaulted_objects_are_defaulted_inside() {
    // A defaulted property is itself defaulted (nested defaults apply to the new value).
    check_default(
        json!({}),
        json!({"properties": {"spec": {"type": "object", "default": {}, "properties": {
            "replicas": {"type": "integer", "default": 1}}}}}),
        json!({"spec": {"replicas": 1}}),
    );
}

#[test]
fn nulls_without_defaults_disappear_unless_nullable() {
    check_default(
        json!({"a": null, "b": null, "c": {"d": null}}),
        json!({"properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "nullable": true},
            "c": {"type": "object", "properties": {"d": {"type": "integer"}}}
        }}),
        json!({"b": null, "c": {}}),
    );
}

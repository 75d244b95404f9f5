//! Properties of CRD and custom resource admission over random schemas and objects:
//! validate ∘ default ∘ prune never panics, pruning is idempotent (a pruned object prunes to
//! itself and reports nothing), admission of what was admitted reports no unknown field, and
//! CRD validation of any schema never panics. Seeds are fixed (see `common`); a failure prints
//! the shrunk schema and object.

mod common;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use kubespec_engine::api::crd::ResourceDescription;
use kubespec_engine::api::crd::defaults::{default, prune_non_nullable_nulls_without_defaults};
use kubespec_engine::api::crd::prune::prune;
use kubespec_engine::api::crd::resource::{admit_create, admit_update};
use kubespec_engine::api::crd::validate::{validate, validate_list_sets_and_maps};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const KEYS: &[&str] = &[
    "a",
    "b",
    "spec",
    "status",
    "metadata",
    "kind",
    "apiVersion",
    "replicas",
    "x",
];

fn arb_key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS).prop_map(str::to_string)
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-20i64..20).prop_map(Value::from),
        (-1e3f64..1e3).prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "",
            "a",
            "ABC",
            "* * * * *",
            "2024-01-01T00:00:00Z",
            "10.0.0.1",
            "é"
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Random schemas, structural or not, with every keyword the admission code reads.
fn arb_schema() -> impl Strategy<Value = Value> {
    let scalar = (
        prop::sample::select(vec!["string", "integer", "number", "boolean", ""]),
        prop::option::of(prop::sample::select(vec![
            "date-time",
            "byte",
            "int32",
            "uuid",
        ])),
        prop::option::of(prop::sample::select(vec!["^[a-z]+$", "(", "\\d+"])),
        prop::option::of(-5i64..5),
        prop::option::of(-5i64..5),
        prop::option::of(arb_json()),
        any::<bool>(),
        prop::option::of(prop::collection::vec(arb_json(), 0..3)),
        any::<bool>(),
    )
        .prop_map(
            |(t, format, pattern, min, max, default, nullable, enum_, int_or_string)| {
                let mut s = Map::new();
                if !t.is_empty() {
                    s.insert("type".into(), json!(t));
                }
                if let Some(f) = format {
                    s.insert("format".into(), json!(f));
                }
                if let Some(p) = pattern {
                    s.insert("pattern".into(), json!(p));
                }
                if let Some(m) = min {
                    s.insert("minimum".into(), json!(m));
                    s.insert("minLength".into(), json!(m.abs()));
                    s.insert("minItems".into(), json!(m.abs()));
                }
                if let Some(m) = max {
                    s.insert("maximum".into(), json!(m));
                    s.insert("maxLength".into(), json!(m.abs()));
                    s.insert("maxProperties".into(), json!(m.abs()));
                    s.insert("multipleOf".into(), json!(m));
                }
                if let Some(d) = default {
                    s.insert("default".into(), d);
                }
                if nullable {
                    s.insert("nullable".into(), json!(true));
                }
                if let Some(e) = enum_ {
                    s.insert("enum".into(), Value::Array(e));
                }
                if int_or_string {
                    s.insert("x-kubernetes-int-or-string".into(), json!(true));
                }
                Value::Object(s)
            },
        );
    scalar.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map(arb_key(), inner.clone(), 0..4),
                prop::collection::vec(arb_key(), 0..2),
                any::<bool>(),
                prop::option::of(inner.clone()),
                prop::option::of(inner.clone()),
            )
                .prop_map(|(props, required, preserve, additional, one_of)| {
                    let mut s =
                        json!({"type": "object", "properties": props, "required": required});
                    if preserve {
                        s["x-kubernetes-preserve-unknown-fields"] = json!(true);
                    }
                    if let Some(a) = additional {
                        s["additionalProperties"] = a;
                    }
                    if let Some(o) = one_of {
                        s["oneOf"] = json!([o, {"required": ["a"]}]);
                        s["not"] = json!({"required": ["b"]});
                    }
                    s
                }),
            (
                inner.clone(),
                prop::option::of(prop::sample::select(vec!["set", "map", "atomic"])),
                any::<bool>()
            )
                .prop_map(|(items, list_type, unique)| {
                    let mut s = json!({"type": "array", "items": items, "uniqueItems": unique});
                    if let Some(lt) = list_type {
                        s["x-kubernetes-list-type"] = json!(lt);
                        if lt == "map" {
                            s["x-kubernetes-list-map-keys"] = json!(["a"]);
                        }
                    }
                    s
                }),
            prop::collection::vec(inner, 1..3)
                .prop_map(|all| json!({"allOf": all, "anyOf": [{"minimum": 0}, {"maxLength": 2}]})),
        ]
    })
}

fn to_schema(v: &Value) -> Option<JSONSchemaProps> {
    serde_json::from_value(v.clone()).ok()
}

proptest! {
    #![proptest_config(common::proptest_config(0x00c2_d5a1))]

    #[test]
    fn prune_is_idempotent_and_the_pipeline_never_panics(s in arb_schema(), obj in arb_json(), root in any::<bool>()) {
        let schema = to_schema(&s);
        prop_assume!(schema.is_some(), "schema does not parse");
        let Some(schema) = schema else { return Ok(()) };
        let mut x = obj.clone();
        let first = prune(&mut x, Some(&schema), root);
        let mut y = x.clone();
        let second = prune(&mut y, Some(&schema), root);
        prop_assert!(second.is_empty(), "pruned twice: {:?} then {:?}", first, second);
        prop_assert_eq!(&x, &y);
        let mut sorted = first.clone();
        sorted.sort();
        prop_assert_eq!(&first, &sorted);

        prune_non_nullable_nulls_without_defaults(&mut x, &schema);
        default(&mut x, &schema);
        let _ = validate(&x, &schema, None);
        let _ = validate(&x, &schema, Some("spec.default"));
        let _ = validate_list_sets_and_maps("", &schema, &x);
    }

    #[test]
    fn crd_validation_of_any_schema_never_panics(s in arb_schema(), status in any::<bool>()) {
        let crd = json!({
            "metadata": {"name": "things.example.com"},
            "spec": {
                "group": "example.com", "scope": "Namespaced",
                "names": {"plural": "things", "kind": "Thing"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": if status { json!({"status": {}}) } else { Value::Null },
                    "schema": {"openAPIV3Schema": s}}]
            }
        });
        let crd = serde_json::from_value::<CustomResourceDefinition>(crd);
        prop_assume!(crd.is_ok(), "CRD does not parse");
        let Ok(crd) = crd else { return Ok(()) };
        let _ = kubespec_engine::api::crd::definition::admit_create(crd);
    }

    #[test]
    fn readmitting_an_admitted_object_reports_no_unknown_field(spec in arb_json(), status in arb_json(), extra in arb_json()) {
        let desc = things();
        let obj = json!({
            "apiVersion": "example.com/v1", "kind": "Thing",
            "metadata": {"name": "t", "namespace": "default"},
            "spec": spec, "status": status, "extra": extra
        });
        let admitted = admit_create(&desc, "v1", obj);
        if let Ok(admitted) = admitted {
            let again = admit_update(&desc, "v1", &admitted.object, admitted.object.clone());
            let again = again.expect("what was admitted is admitted again");
            prop_assert_eq!(again.unknown_fields, Vec::<String>::new());
            prop_assert_eq!(&again.object["metadata"]["generation"], &json!(1));
        }
    }
}

/// A Thing with nested objects, maps, lists and defaults, for the admission property.
fn things() -> ResourceDescription {
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "metadata": {"name": "things.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "things", "kind": "Thing"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "a": {"type": "string", "default": "A"},
                        "b": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "integer"}}}},
                        "x": {"type": "object", "additionalProperties": {"type": "string"}},
                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }},
                    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}
                }}}}]
        }
    }))
    .expect("test CRD parses");
    let crd = kubespec_engine::api::crd::definition::admit_create(crd).expect("test CRD is valid");
    ResourceDescription::from_crd(&crd)
}

//! Schema validation of custom resources, one rule at a time: `check(schema, object,
//! expected)` validates `object` against `schema` and compares every field error, rendered as
//! the API server prints it (`spec.size: Required value`), with kube-openapi's and
//! apiextensions' messages.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use kubespec_engine::api::crd::validate::{validate, validate_list_sets_and_maps};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn schema(v: Value) -> JSONSchemaProps {
    serde_json::from_value(v).expect("test schema parses")
}

/// A root object schema with one property, `spec`.
fn spec_schema(spec: Value) -> JSONSchemaProps {
    schema(json!({"type": "object", "properties": {"spec": spec}}))
}

#[track_caller]
fn check(spec: Value, object: Value, expected: &[&str]) {
    let s = spec_schema(spec);
    let obj = json!({ "spec": object });
    let got: Vec<String> = validate(&obj, &s, None)
        .0
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(got, expected, "object: {obj}");
}

#[test]
fn type_mismatches_name_the_expected_and_found_types() {
    check(json!({"type": "string"}), json!("ok"), &[]);
    check(
        json!({"type": "string"}),
        json!(5),
        &[r#"spec: Invalid value: "integer": spec in body must be of type string: "integer""#],
    );
    check(
        json!({"type": "integer"}),
        json!("5"),
        &[r#"spec: Invalid value: "string": spec in body must be of type integer: "string""#],
    );
    check(
        json!({"type": "object"}),
        json!([1]),
        &[r#"spec: Invalid value: "array": spec in body must be of type object: "array""#],
    );
    check(
        json!({"type": "boolean"}),
        json!({"a": 1}),
        &[r#"spec: Invalid value: "object": spec in body must be of type boolean: "object""#],
    );
}

#[test]
fn numbers_integers_and_int_or_string() {
    // An integral float is an integer; an integer is a number.
    check(json!({"type": "integer"}), json!(3.0), &[]);
    check(json!({"type": "number"}), json!(3), &[]);
    check(
        json!({"type": "integer"}),
        json!(3.5),
        &[r#"spec: Invalid value: "number": spec in body must be of type integer: "number""#],
    );
    check(
        json!({"x-kubernetes-int-or-string": true}),
        json!("25%"),
        &[],
    );
    check(json!({"x-kubernetes-int-or-string": true}), json!(3), &[]);
    check(
        json!({"x-kubernetes-int-or-string": true}),
        json!(true),
        &[
            r#"spec: Invalid value: "boolean": spec in body must be of type integer,string: "boolean""#,
        ],
    );
    // int32 is not a supported format: it neither bounds nor types the value.
    check(
        json!({"type": "integer", "format": "int32"}),
        json!(9_000_000_000_i64),
        &[],
    );
}

#[test]
fn null_is_refused_unless_nullable() {
    check(
        json!({"type": "string"}),
        json!(null),
        &[r#"spec: Invalid value: "null": spec in body must be of type string: "null""#],
    );
    check(
        json!({"type": "string", "nullable": true}),
        json!(null),
        &[],
    );
}

#[test]
fn string_formats() {
    check(
        json!({"type": "string", "format": "date-time"}),
        json!("2024-05-01T10:00:00Z"),
        &[],
    );
    check(
        json!({"type": "string", "format": "date-time"}),
        json!("tomorrow"),
        &[r#"spec: Invalid value: "tomorrow": spec in body must be of type date-time: "tomorrow""#],
    );
    check(
        json!({"type": "string", "format": "byte"}),
        json!("not base64!"),
        &[
            r#"spec: Invalid value: "not base64!": spec in body must be of type byte: "not base64!""#,
        ],
    );
    // An unknown format is stripped, as apiextensions does.
    check(
        json!({"type": "string", "format": "k8s-whatever"}),
        json!("x"),
        &[],
    );
}

#[test]
fn enum_lists_the_supported_values() {
    check(
        json!({"type": "object", "properties": {"color": {"type": "string", "enum": ["red", "blue"]}}}),
        json!({"color": "pink"}),
        &[r#"spec.color: Unsupported value: "pink": supported values: "red", "blue""#],
    );
    check(
        json!({"type": "string", "enum": ["red", "blue"]}),
        json!("blue"),
        &[],
    );
    check(
        json!({"type": "integer", "enum": [1, 2]}),
        json!(3),
        &[r#"spec: Unsupported value: 3: supported values: "1", "2""#],
    );
    check(json!({"type": "integer", "enum": [1, 2]}), json!(2.0), &[]);
}

#[test]
fn required_fields() {
    check(
        json!({"type": "object", "required": ["size", "name"], "properties": {
            "size": {"type": "integer"}, "name": {"type": "string"}}}),
        json!({"name": "x"}),
        &["spec.size: Required value"],
    );
    check(
        json!({"type": "object", "required": ["size", "name"]}),
        json!({}),
        &["spec.size: Required value", "spec.name: Required value"],
    );
}

#[test]
fn numeric_bounds() {
    let s = json!({"type": "integer", "minimum": 1, "maximum": 10});
    check(s.clone(), json!(5), &[]);
    check(
        s.clone(),
        json!(0),
        &["spec: Invalid value: 0: spec in body should be greater than or equal to 1"],
    );
    check(
        s,
        json!(15),
        &["spec: Invalid value: 15: spec in body should be less than or equal to 10"],
    );
    let excl = json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1.5, "exclusiveMaximum": true});
    check(
        excl.clone(),
        json!(0),
        &["spec: Invalid value: 0: spec in body should be greater than 0"],
    );
    check(
        excl,
        json!(1.5),
        &["spec: Invalid value: 1.5: spec in body should be less than 1.5"],
    );
    check(
        json!({"type": "integer", "multipleOf": 5}),
        json!(12),
        &["spec: Invalid value: 12: spec in body should be a multiple of 5"],
    );
    check(
        json!({"type": "number", "multipleOf": 0.5}),
        json!(2.5),
        &[],
    );
}

#[test]
fn string_lengths_and_patterns() {
    check(
        json!({"type": "string", "maxLength": 3}),
        json!("abcd"),
        &["spec: Too long: may not be more than 3 bytes"],
    );
    check(
        json!({"type": "string", "maxLength": 1}),
        json!("ab"),
        &["spec: Too long: may not be more than 1 byte"],
    );
    // Characters, not bytes, are counted.
    check(json!({"type": "string", "maxLength": 2}), json!("éé"), &[]);
    check(
        json!({"type": "string", "minLength": 2}),
        json!("a"),
        &[r#"spec: Invalid value: "a": spec in body should be at least 2 chars long"#],
    );
    check(
        json!({"type": "string", "pattern": "^[a-z]+$"}),
        json!("ABC"),
        &[r#"spec: Invalid value: "ABC": spec in body should match '^[a-z]+$'"#],
    );
    // Only the first failing string rule is reported.
    check(
        json!({"type": "string", "maxLength": 2, "pattern": "^[a-z]+$"}),
        json!("ABC"),
        &["spec: Too long: may not be more than 2 bytes"],
    );
}

#[test]
fn array_sizes_uniqueness_and_items() {
    let s = json!({"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}});
    check(
        s.clone(),
        json!([]),
        &["spec: Invalid value: 0: spec in body should have at least 1 items"],
    );
    check(
        s.clone(),
        json!(["a", "b", "c"]),
        &["spec: Too many: 3: must have at most 2 items"],
    );
    check(
        s,
        json!(["a", 1]),
        &[
            r#"spec[1]: Invalid value: "integer": spec[1] in body must be of type string: "integer""#,
        ],
    );
    check(
        json!({"type": "array", "uniqueItems": true, "items": {"type": "integer"}}),
        json!([1, 2, 1]),
        &[r#"spec: Invalid value: "": spec in body shouldn't contain duplicates"#],
    );
    check(
        json!({"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}),
        json!([{"name": "a"}, {}]),
        &["spec[1].name: Required value"],
    );
}

#[test]
fn object_property_counts_and_additional_properties() {
    check(
        json!({"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}}),
        json!({}),
        &["spec: Invalid value: 0: spec in body should have at least 1 properties"],
    );
    check(
        json!({"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}}),
        json!({"a": "x", "b": "y"}),
        &["spec: Too many: 2: must have at most 1 item"],
    );
    check(
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
        json!({"a": "x", "b": 2}),
        &[r#"spec.b: Invalid value: "integer": spec.b in body must be of type string: "integer""#],
    );
    check(
        json!({"type": "object", "additionalProperties": false}),
        json!({"a": 1}),
        &[r#"spec: Invalid value: "a": spec.a in body is a forbidden property"#],
    );
}

#[test]
fn junctors_report_on_the_nil_path() {
    let one_of = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "oneOf": [{"required": ["a"]}, {"required": ["b"]}]});
    check(one_of.clone(), json!({"a": "x"}), &[]);
    check(
        one_of.clone(),
        json!({"a": "x", "b": "y"}),
        &[
            r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives"#,
        ],
    );
    check(
        one_of,
        json!({}),
        &[
            r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found none valid"#,
            "spec.a: Required value",
        ],
    );
    check(
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "not": {"required": ["a"]}}),
        json!({"a": "x"}),
        &[r#"<nil>: Invalid value: "": "spec" must not validate the schema (not)"#],
    );
    check(
        json!({"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 0}]}),
        json!(5),
        &[
            r#"<nil>: Invalid value: "": "spec" must validate at least one schema (anyOf)"#,
            "spec: Invalid value: 5: spec in body should be greater than or equal to 10",
        ],
    );
    check(
        json!({"type": "integer", "allOf": [{"minimum": 1}, {"maximum": 3}]}),
        json!(4),
        &[
            "spec: Invalid value: 4: spec in body should be less than or equal to 3",
            r#"<nil>: Invalid value: "": "spec" must validate all the schemas (allOf)"#,
        ],
    );
}

#[test]
fn nested_paths_join_with_dots_and_indexes() {
    check(
        json!({"type": "object", "properties": {"containers": {"type": "array", "items": {
            "type": "object", "properties": {"ports": {"type": "array", "items": {"type": "integer", "maximum": 65535}}}}}}}),
        json!({"containers": [{"ports": [80]}, {"ports": [80, 70000]}]}),
        &[
            "spec.containers[1].ports[1]: Invalid value: 70000: spec.containers[1].ports[1] in body should be less than or equal to 65535",
        ],
    );
}

#[test]
fn list_type_set_and_map_report_duplicates() {
    let s = schema(json!({"type": "object", "properties": {
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name", "protocol"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "protocol": {"type": "string"}, "port": {"type": "integer"}}}}
    }}));
    let obj = json!({
        "tags": ["a", "b", "a", "a"],
        "ports": [
            {"name": "http", "protocol": "TCP", "port": 80},
            {"name": "http", "protocol": "UDP", "port": 80},
            {"name": "http", "protocol": "TCP", "port": 8080}
        ]
    });
    let got: Vec<String> = validate_list_sets_and_maps("spec", &s, &obj)
        .0
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            r#"spec.ports[2]: Duplicate value: {"name":"http","protocol":"TCP"}"#,
            r#"spec.tags[2]: Duplicate value: "a""#,
        ]
    );
    let ok = json!({"tags": ["a", "b"], "ports": [{"name": "a"}, {"name": "b"}]});
    assert!(validate_list_sets_and_maps("spec", &s, &ok).is_empty());
    let bad_item = json!({"ports": ["x"]});
    let got: Vec<String> = validate_list_sets_and_maps("spec", &s, &bad_item)
        .0
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            r#"spec.ports[0]: Invalid value: "x": must be an object for an array of list-type map"#
        ]
    );
}

#[test]
fn preserve_unknown_fields_without_type_accepts_anything() {
    check(
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        json!({"anything": [1, {"goes": true}]}),
        &[],
    );
    check(
        json!({"x-kubernetes-preserve-unknown-fields": true}),
        json!(42),
        &[],
    );
}

//! Static validation of a CRD version's `openAPIV3Schema`: mirrors, in apiextensions-apiserver,
//! `validateCustomResourceDefinitionValidation` and `ValidateCustomResourceDefinitionOpenAPISchema`
//! (`pkg/apis/apiextensions/validation/validation.go`), `ValidateStructural`
//! (`pkg/apiserver/schema/validation.go`, completeness in `complete.go`) and `ValidateDefaults`
//! (`pkg/apiserver/schema/defaulting/validation.go`). Entry point: [`validate_version_schema`].
//!
//! A schema is *structural* when every level states its `type` (unless
//! `x-kubernetes-int-or-string` or `x-kubernetes-preserve-unknown-fields`), `allOf`/`anyOf`/
//! `oneOf`/`not` only restrict values (no `type`, `default`, `description`, … inside them),
//! and root `metadata` restricts at most `name` and `generateName`.
//!
//! NOTE: `x-kubernetes-validations` rules are checked for shape only (a rule must be
//! non-empty, messages single-line); they are neither compiled nor cost-estimated.

use super::errors::{ErrorList, go_json, join_path, render_value};
use super::schema::Additional;
use super::schema::{
    additional, default_of, embedded, int_or_string, items, nullable, preserve_unknown, type_of,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

fn key(path: &str, segment: &str, k: &str) -> String {
    format!("{path}.{segment}[{k}]")
}

fn idx(path: &str, segment: &str, i: usize) -> String {
    format!("{path}.{segment}[{i}]")
}

fn child(path: &str, c: &str) -> String {
    join_path(path, c)
}

/// `validateCustomResourceDefinitionValidation` for one version's schema; `path` is
/// `spec.versions[i].schema`.
pub fn validate_version_schema(
    schema: &JSONSchemaProps,
    status_enabled: bool,
    path: &str,
) -> ErrorList {
    let mut errs = ErrorList::default();
    let root = child(path, "openAPIV3Schema");
    if status_enabled {
        validate_root_with_status(&mut errs, schema, path);
    }
    if nullable(schema) {
        errs.forbidden(
            child(path, "openAPIV3Schema.nullable"),
            "nullable cannot be true at the root",
        );
    }
    let structural = validate_structural(schema, &root);
    if !structural.is_empty() {
        errs.extend(structural);
    } else {
        errs.extend(validate_defaults(schema, &root));
    }
    let ssv = Ssv {
        allow_defaults: true,
        disallow_defaults_reason: String::new(),
        inside_resource_meta: false,
    };
    validate_openapi_schema(&mut errs, schema, &root, &ssv, true);
    errs
}

// ---------------------------------------------------------------------------------------------
// Root restrictions when the status subresource is enabled
// ---------------------------------------------------------------------------------------------

const ALLOWED_AT_ROOT: &[&str] = &[
    "Description",
    "Type",
    "Format",
    "Title",
    "Maximum",
    "ExclusiveMaximum",
    "Minimum",
    "ExclusiveMinimum",
    "MaxLength",
    "MinLength",
    "Pattern",
    "MaxItems",
    "MinItems",
    "UniqueItems",
    "MultipleOf",
    "Required",
    "Items",
    "Properties",
    "ExternalDocs",
    "Example",
    "XPreserveUnknownFields",
    "XValidations",
];

/// The non-zero fields of a schema, in the Go struct's field order.
fn set_fields(s: &JSONSchemaProps) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, set: bool| {
        if set {
            out.push(name)
        }
    };
    add("ID", s.id.as_deref().is_some_and(|v| !v.is_empty()));
    add("Schema", s.schema.as_deref().is_some_and(|v| !v.is_empty()));
    add("Ref", s.ref_path.is_some());
    add(
        "Description",
        s.description.as_deref().is_some_and(|v| !v.is_empty()),
    );
    add("Type", !type_of(s).is_empty());
    add("Nullable", nullable(s));
    add("Format", s.format.as_deref().is_some_and(|v| !v.is_empty()));
    add("Title", s.title.as_deref().is_some_and(|v| !v.is_empty()));
    add("Default", s.default.is_some());
    add("Maximum", s.maximum.is_some());
    add("ExclusiveMaximum", s.exclusive_maximum == Some(true));
    add("Minimum", s.minimum.is_some());
    add("ExclusiveMinimum", s.exclusive_minimum == Some(true));
    add("MaxLength", s.max_length.is_some());
    add("MinLength", s.min_length.is_some());
    add(
        "Pattern",
        s.pattern.as_deref().is_some_and(|v| !v.is_empty()),
    );
    add("MaxItems", s.max_items.is_some());
    add("MinItems", s.min_items.is_some());
    add("UniqueItems", s.unique_items == Some(true));
    add("MultipleOf", s.multiple_of.is_some());
    add("Enum", s.enum_.as_ref().is_some_and(|v| !v.is_empty()));
    add("MaxProperties", s.max_properties.is_some());
    add("MinProperties", s.min_properties.is_some());
    add(
        "Required",
        s.required.as_ref().is_some_and(|v| !v.is_empty()),
    );
    add("Items", s.items.is_some());
    add("AllOf", s.all_of.as_ref().is_some_and(|v| !v.is_empty()));
    add("OneOf", s.one_of.as_ref().is_some_and(|v| !v.is_empty()));
    add("AnyOf", s.any_of.as_ref().is_some_and(|v| !v.is_empty()));
    add("Not", s.not.is_some());
    add(
        "Properties",
        s.properties.as_ref().is_some_and(|v| !v.is_empty()),
    );
    add("AdditionalProperties", s.additional_properties.is_some());
    add(
        "PatternProperties",
        s.pattern_properties.as_ref().is_some_and(|v| !v.is_empty()),
    );
    add(
        "Dependencies",
        s.dependencies.as_ref().is_some_and(|v| !v.is_empty()),
    );
    add("AdditionalItems", s.additional_items.is_some());
    add(
        "Definitions",
        s.definitions.as_ref().is_some_and(|v| !v.is_empty()),
    );
    add("ExternalDocs", s.external_docs.is_some());
    add("Example", s.example.is_some());
    add(
        "XPreserveUnknownFields",
        s.x_kubernetes_preserve_unknown_fields.is_some(),
    );
    add("XEmbeddedResource", embedded(s));
    add("XIntOrString", int_or_string(s));
    add(
        "XListMapKeys",
        s.x_kubernetes_list_map_keys
            .as_ref()
            .is_some_and(|v| !v.is_empty()),
    );
    add("XListType", s.x_kubernetes_list_type.is_some());
    add("XMapType", s.x_kubernetes_map_type.is_some());
    add(
        "XValidations",
        s.x_kubernetes_validations
            .as_ref()
            .is_some_and(|v| !v.is_empty()),
    );
    out
}

fn validate_root_with_status(errs: &mut ErrorList, s: &JSONSchemaProps, path: &str) {
    for f in set_fields(s) {
        if f == "Type" {
            if type_of(s) != "object" {
                errs.invalid_value(
                    child(path, "openAPIV3Schema.type"),
                    &Value::String(type_of(s).into()),
                    r#"only "object" is allowed as the type at the root of the schema if the status subresource is enabled"#,
                );
                break;
            }
            continue;
        }
        if !ALLOWED_AT_ROOT.contains(&f) {
            let rendered = serde_json::to_value(s)
                .map(|v| go_json(&v))
                .unwrap_or_default();
            errs.invalid(
                child(path, "openAPIV3Schema"),
                rendered,
                &format!(
                    "only [{}] fields are allowed at the root of the schema if the status subresource is enabled",
                    ALLOWED_AT_ROOT.join(" ")
                ),
            );
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ValidateStructural (apiserver/schema/validation.go)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// `ValidateStructural`: invariants, then completeness; sorted by message as upstream does.
pub fn validate_structural(s: &JSONSchemaProps, path: &str) -> ErrorList {
    let mut errs = ErrorList::default();
    structural_invariants(&mut errs, s, Level::Root, path);
    structural_completeness(&mut errs, s, path);
    errs.0.sort_by_key(|e| e.to_string());
    errs
}

/// Whether `anyOf` is exactly `[{type: integer}, {type: string}]`.
fn is_int_or_string_any_of(any_of: Option<&Vec<JSONSchemaProps>>) -> bool {
    let Some(a) = any_of else { return false };
    a.len() == 2 && a[0] == only_type("integer") && a[1] == only_type("string")
}

fn only_type(t: &str) -> JSONSchemaProps {
    JSONSchemaProps {
        type_: Some(t.into()),
        ..Default::default()
    }
}

fn structural_invariants(errs: &mut ErrorList, s: &JSONSchemaProps, lvl: Level, path: &str) {
    let t = type_of(s);
    if t == "array" && items(s).is_none() && s.items.is_none() {
        errs.required(child(path, "items"), "must be specified");
    }
    if let Some(it) = items(s) {
        structural_invariants(errs, it, Level::Item, &child(path, "items"));
    }
    for (k, p) in s.properties.iter().flatten() {
        structural_invariants(errs, p, Level::Field, &key(path, "properties", k));
    }
    if s.additional_properties.is_some() {
        if lvl == Level::Root {
            errs.forbidden(
                child(path, "additionalProperties"),
                "must not be used at the root",
            );
        }
        if let Additional::Schema(a) = additional(s) {
            structural_invariants(errs, a, Level::Field, &child(path, "additionalProperties"));
        }
    }
    // validateExtensions
    if int_or_string(s) && preserve_unknown(s) {
        errs.invalid(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            "true".into(),
            "must be false if x-kubernetes-int-or-string is true",
        );
    }
    if int_or_string(s) && embedded(s) {
        errs.invalid(
            child(path, "x-kubernetes-embedded-resource"),
            "true".into(),
            "must be false if x-kubernetes-int-or-string is true",
        );
    }
    let skip_any_of = is_int_or_string_any_of(s.any_of.as_ref());
    let skip_first_all_of_any_of = s
        .all_of
        .as_ref()
        .and_then(|a| a.first())
        .is_some_and(|f| is_int_or_string_any_of(f.any_of.as_ref()));
    value_validation(errs, s, skip_any_of, skip_first_all_of_any_of, lvl, path);

    let check_metadata = lvl == Level::Root || embedded(s);
    if embedded(s) && t != "object" {
        if t.is_empty() {
            errs.required(
                child(path, "type"),
                "must be object if x-kubernetes-embedded-resource is true",
            );
        } else {
            errs.invalid_value(
                child(path, "type"),
                &Value::String(t.into()),
                "must be object if x-kubernetes-embedded-resource is true",
            );
        }
    } else if t.is_empty() && !int_or_string(s) && !preserve_unknown(s) {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.required(child(path, "type"), detail);
    }
    if embedded(s) && s.additional_properties.is_some() {
        errs.forbidden(
            child(path, "additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        );
    }
    if lvl == Level::Root && !t.is_empty() && t != "object" {
        errs.invalid_value(
            child(path, "type"),
            &Value::String(t.into()),
            "must be object at the root",
        );
    }
    for meta in ["kind", "apiVersion"] {
        if let Some(p) = s.properties.as_ref().and_then(|p| p.get(meta))
            && check_metadata
            && type_of(p) != "string"
        {
            errs.invalid_value(
                child(&key(path, "properties", meta), "type"),
                &Value::String(type_of(p).into()),
                "must be string",
            );
        }
    }
    if let Some(m) = s.properties.as_ref().and_then(|p| p.get("metadata")) {
        let mpath = key(path, "properties", "metadata");
        if check_metadata && type_of(m) != "object" {
            errs.invalid_value(
                child(&mpath, "type"),
                &Value::String(type_of(m).into()),
                "must be object",
            );
        }
        if lvl == Level::Root && !metadata_is_name_only(m) {
            errs.forbidden(
                mpath,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            );
        }
    }
    if embedded(s) && !preserve_unknown(s) && s.properties.as_ref().is_none_or(|p| p.is_empty()) {
        errs.required(
            child(path, "properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        );
    }
}

/// `validateStructuralMetadataInvariants` at the root: once `type`, `default` and a
/// `properties` holding only `name`/`generateName` are ignored, nothing may be left.
fn metadata_is_name_only(m: &JSONSchemaProps) -> bool {
    let mut rest = m.clone();
    rest.type_ = None;
    rest.default = None;
    if let Some(p) = rest.properties.as_ref() {
        let only_names = !p.is_empty() && p.keys().all(|k| k == "name" || k == "generateName");
        if only_names {
            rest.properties = None;
        }
    }
    if rest.properties.as_ref().is_some_and(|p| p.is_empty()) {
        rest.properties = None;
    }
    rest == JSONSchemaProps::default()
}

/// `validateValueValidation`: the junctors of a structural node, and its pattern.
fn value_validation(
    errs: &mut ErrorList,
    s: &JSONSchemaProps,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    lvl: Level,
    path: &str,
) {
    if !skip_any_of {
        for (i, a) in s.any_of.iter().flatten().enumerate() {
            nested_value_validation(errs, a, false, false, lvl, &idx(path, "anyOf", i));
        }
    }
    for (i, a) in s.all_of.iter().flatten().enumerate() {
        let skip = skip_first_all_of_any_of && i == 0;
        nested_value_validation(errs, a, skip, false, lvl, &idx(path, "allOf", i));
    }
    for (i, a) in s.one_of.iter().flatten().enumerate() {
        nested_value_validation(errs, a, false, false, lvl, &idx(path, "oneOf", i));
    }
    if let Some(n) = s.not.as_deref() {
        nested_value_validation(errs, n, false, false, lvl, &child(path, "not"));
    }
    if let Some(p) = s.pattern.as_deref().filter(|p| !p.is_empty())
        && let Err(e) = super::pattern::compile(p)
    {
        errs.invalid_value(
            child(path, "pattern"),
            &Value::String(p.into()),
            &format!("must be a valid regular expression, but isn't: {e}"),
        );
    }
}

/// `validateNestedValueValidation`: inside a junctor only value validations are allowed.
fn nested_value_validation(
    errs: &mut ErrorList,
    v: &JSONSchemaProps,
    skip_any_of: bool,
    skip_all_of_any_of: bool,
    lvl: Level,
    path: &str,
) {
    value_validation(errs, v, skip_any_of, skip_all_of_any_of, lvl, path);
    if let Some(it) = items(v) {
        nested_value_validation(errs, it, false, false, lvl, &child(path, "items"));
    }
    for (k, p) in v.properties.iter().flatten() {
        nested_value_validation(
            errs,
            p,
            false,
            false,
            Level::Field,
            &key(path, "properties", k),
        );
    }
    if !type_of(v).is_empty() {
        errs.forbidden(child(path, "type"), "must be empty to be structural");
    }
    if v.additional_properties.is_some() {
        errs.forbidden(
            child(path, "additionalProperties"),
            "must be undefined to be structural",
        );
    }
    if v.default.is_some() {
        errs.forbidden(child(path, "default"), "must be undefined to be structural");
    }
    if v.title.as_deref().is_some_and(|t| !t.is_empty()) {
        errs.forbidden(child(path, "title"), "must be empty to be structural");
    }
    if v.description.as_deref().is_some_and(|t| !t.is_empty()) {
        errs.forbidden(child(path, "description"), "must be empty to be structural");
    }
    if nullable(v) {
        errs.forbidden(child(path, "nullable"), "must be false to be structural");
    }
    if v.external_docs.is_some() {
        errs.forbidden(
            child(path, "externalDocs"),
            "must be undefined to be structural",
        );
    }
    if preserve_unknown(v) {
        errs.forbidden(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            "must be false to be structural",
        );
    }
    if embedded(v) {
        errs.forbidden(
            child(path, "x-kubernetes-embedded-resource"),
            "must be false to be structural",
        );
    }
    if int_or_string(v) {
        errs.forbidden(
            child(path, "x-kubernetes-int-or-string"),
            "must be false to be structural",
        );
    }
    if v.x_kubernetes_list_map_keys
        .as_ref()
        .is_some_and(|k| !k.is_empty())
    {
        errs.forbidden(
            child(path, "x-kubernetes-list-map-keys"),
            "must be empty to be structural",
        );
    }
    if v.x_kubernetes_list_type.is_some() {
        errs.forbidden(
            child(path, "x-kubernetes-list-type"),
            "must be undefined to be structural",
        );
    }
    if v.x_kubernetes_map_type.is_some() {
        errs.forbidden(
            child(path, "x-kubernetes-map-type"),
            "must be undefined to be structural",
        );
    }
    if v.x_kubernetes_validations
        .as_ref()
        .is_some_and(|x| !x.is_empty())
    {
        errs.forbidden(
            child(path, "x-kubernetes-validations"),
            "must be empty to be structural",
        );
    }
    if v.properties
        .as_ref()
        .is_some_and(|p| p.contains_key("metadata"))
    {
        errs.forbidden(
            key(path, "properties", "metadata"),
            "must not be specified in a nested context",
        );
    }
}

/// `validateStructuralCompleteness`: every property or items a *root-level* junctor talks
/// about must exist in the structural schema. (Upstream only inspects the root's junctors.)
fn structural_completeness(errs: &mut ErrorList, s: &JSONSchemaProps, path: &str) {
    value_validation_completeness(errs, s, Some(s), path, path);
}

fn value_validation_completeness(
    errs: &mut ErrorList,
    v: &JSONSchemaProps,
    s: Option<&JSONSchemaProps>,
    s_path: &str,
    v_path: &str,
) {
    let Some(s) = s else {
        if has_junctors(v) {
            errs.required(s_path, &format!("because it is defined in {v_path}"));
        }
        return;
    };
    if let Some(n) = v.not.as_deref() {
        nested_completeness(errs, n, Some(s), s_path, &child(v_path, "not"));
    }
    for (i, a) in v.all_of.iter().flatten().enumerate() {
        nested_completeness(errs, a, Some(s), s_path, &idx(v_path, "allOf", i));
    }
    for (i, a) in v.any_of.iter().flatten().enumerate() {
        nested_completeness(errs, a, Some(s), s_path, &idx(v_path, "anyOf", i));
    }
    for (i, a) in v.one_of.iter().flatten().enumerate() {
        nested_completeness(errs, a, Some(s), s_path, &idx(v_path, "oneOf", i));
    }
}

fn has_junctors(v: &JSONSchemaProps) -> bool {
    v.not.is_some()
        || v.all_of.as_ref().is_some_and(|a| !a.is_empty())
        || v.any_of.as_ref().is_some_and(|a| !a.is_empty())
        || v.one_of.as_ref().is_some_and(|a| !a.is_empty())
}

fn nested_completeness(
    errs: &mut ErrorList,
    v: &JSONSchemaProps,
    s: Option<&JSONSchemaProps>,
    s_path: &str,
    v_path: &str,
) {
    let Some(s) = s else {
        errs.required(s_path, &format!("because it is defined in {v_path}"));
        return;
    };
    value_validation_completeness(errs, v, Some(s), s_path, v_path);
    if let Some(vi) = items(v) {
        nested_completeness(
            errs,
            vi,
            items(s),
            &child(s_path, "items"),
            &child(v_path, "items"),
        );
    }
    for (k, vf) in v.properties.iter().flatten() {
        match s.properties.as_ref().and_then(|p| p.get(k)) {
            None => errs.required(
                key(s_path, "properties", k),
                &format!("because it is defined in {}", key(v_path, "properties", k)),
            ),
            Some(sf) => nested_completeness(
                errs,
                vf,
                Some(sf),
                &key(s_path, "properties", k),
                &key(v_path, "properties", k),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ValidateDefaults (apiserver/schema/defaulting/validation.go)
// ---------------------------------------------------------------------------------------------

/// `ValidateDefaults`: each `default` must be pruned (no unknown fields) and valid against
/// its own schema. Defaults inside an embedded resource's metadata are not checked here.
pub fn validate_defaults(s: &JSONSchemaProps, path: &str) -> ErrorList {
    let mut errs = ErrorList::default();
    defaults_node(&mut errs, s, path, false);
    errs
}

fn defaults_node(errs: &mut ErrorList, s: &JSONSchemaProps, path: &str, inside_meta: bool) {
    let inside_meta = inside_meta && !embedded(s);
    if let Some(d) = default_of(s)
        && !inside_meta
    {
        let dpath = child(path, "default");
        let mut pruned = d.clone();
        super::prune::prune(&mut pruned, Some(s), embedded(s));
        if &pruned != d {
            errs.invalid_value(dpath.clone(), d, "must not have unknown fields");
        }
        errs.extend(super::validate::validate(d, s, Some(&dpath)));
    }
    if let Some(it) = items(s) {
        defaults_node(errs, it, &child(path, "items"), inside_meta);
    }
    for (k, p) in s.properties.iter().flatten() {
        let sub_meta = inside_meta
            || (embedded(s) && matches!(k.as_str(), "metadata" | "apiVersion" | "kind"));
        defaults_node(errs, p, &key(path, "properties", k), sub_meta);
    }
}

// ---------------------------------------------------------------------------------------------
// ValidateCustomResourceDefinitionOpenAPISchema (apis/apiextensions/validation/validation.go)
// ---------------------------------------------------------------------------------------------

/// `specStandardValidatorV3`.
#[derive(Clone)]
struct Ssv {
    allow_defaults: bool,
    disallow_defaults_reason: String,
    inside_resource_meta: bool,
}

impl Ssv {
    fn with_forbidden_defaults(&self, reason: &str) -> Ssv {
        Ssv {
            allow_defaults: false,
            disallow_defaults_reason: reason.into(),
            ..self.clone()
        }
    }
    fn with_inside_resource_meta(&self) -> Ssv {
        Ssv {
            inside_resource_meta: true,
            ..self.clone()
        }
    }

    /// `specStandardValidatorV3.validate`.
    fn validate(&self, errs: &mut ErrorList, s: &JSONSchemaProps, path: &str) {
        const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];
        let t = type_of(s);
        if !t.is_empty() && !TYPES.contains(&t) {
            let supported: Vec<String> = TYPES.iter().map(|s| s.to_string()).collect();
            errs.not_supported(
                child(path, "type"),
                render_value(&Value::String(t.into())),
                &supported,
            );
        }
        if s.default.is_some() && !self.allow_defaults {
            let mut detail = "must not be set".to_string();
            if !self.disallow_defaults_reason.is_empty() {
                detail.push(' ');
                detail.push_str(&self.disallow_defaults_reason);
            }
            errs.forbidden(child(path, "default"), &detail);
        }
        if s.id.as_deref().is_some_and(|i| !i.is_empty()) {
            errs.forbidden(child(path, "id"), "id is not supported");
        }
        if s.additional_items.is_some() {
            errs.forbidden(
                child(path, "additionalItems"),
                "additionalItems is not supported",
            );
        }
        if s.pattern_properties.as_ref().is_some_and(|p| !p.is_empty()) {
            errs.forbidden(
                child(path, "patternProperties"),
                "patternProperties is not supported",
            );
        }
        if s.definitions.as_ref().is_some_and(|p| !p.is_empty()) {
            errs.forbidden(child(path, "definitions"), "definitions is not supported");
        }
        if s.dependencies.is_some() {
            errs.forbidden(child(path, "dependencies"), "dependencies is not supported");
        }
        if s.ref_path.is_some() {
            errs.forbidden(child(path, "$ref"), "$ref is not supported");
        }
        if t == "null" {
            errs.forbidden(
                child(path, "type"),
                "type cannot be set to null, use nullable as an alternative",
            );
        }
        if matches!(s.items, Some(JSONSchemaPropsOrArray::Schemas(ref v)) if !v.is_empty()) {
            errs.forbidden(
                child(path, "items"),
                "items must be a schema object and not an array",
            );
        }
        if self.inside_resource_meta && embedded(s) {
            errs.forbidden(
                child(path, "x-kubernetes-embedded-resource"),
                "must not be used inside of resource meta",
            );
        }
    }
}

fn validate_openapi_schema(
    errs: &mut ErrorList,
    s: &JSONSchemaProps,
    path: &str,
    ssv: &Ssv,
    is_root: bool,
) {
    ssv.validate(errs, s, path);
    if s.unique_items == Some(true) {
        errs.forbidden(
            child(path, "uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        );
    }
    let has_props = s.properties.as_ref().is_some_and(|p| !p.is_empty());
    if let Some(ap) = s.additional_properties.as_ref() {
        if has_props && !matches!(ap, JSONSchemaPropsOrBool::Bool(true)) {
            errs.forbidden(
                child(path, "additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            );
        }
        let sub = if ssv.inside_resource_meta {
            ssv.with_forbidden_defaults("inside additionalProperties applying to object metadata")
        } else {
            ssv.clone()
        };
        if let JSONSchemaPropsOrBool::Schema(a) = ap {
            validate_openapi_schema(errs, a, &child(path, "additionalProperties"), &sub, false);
        }
    }
    for (k, p) in s.properties.iter().flatten() {
        let mut sub = ssv.clone();
        if (is_root || embedded(s)) && matches!(k.as_str(), "metadata" | "kind" | "apiVersion") {
            sub = sub.with_inside_resource_meta();
            if is_root {
                sub = sub.with_forbidden_defaults(&format!("in top-level {k}"));
            }
        }
        validate_openapi_schema(errs, p, &key(path, "properties", k), &sub, false);
    }
    if let Some(n) = s.not.as_deref() {
        validate_openapi_schema(errs, n, &child(path, "not"), ssv, false);
    }
    for (seg, list) in [
        ("allOf", &s.all_of),
        ("oneOf", &s.one_of),
        ("anyOf", &s.any_of),
    ] {
        for (i, a) in list.iter().flatten().enumerate() {
            validate_openapi_schema(errs, a, &idx(path, seg, i), ssv, false);
        }
    }
    for (k, d) in s.definitions.iter().flatten() {
        validate_openapi_schema(errs, d, &key(path, "definitions", k), ssv, false);
    }
    match s.items.as_ref() {
        Some(JSONSchemaPropsOrArray::Schema(it)) => {
            validate_openapi_schema(errs, it, &child(path, "items"), ssv, false)
        }
        Some(JSONSchemaPropsOrArray::Schemas(v)) => {
            for (i, it) in v.iter().enumerate() {
                validate_openapi_schema(errs, it, &format!("{path}.items[{i}]"), ssv, false);
            }
        }
        None => {}
    }
    if s.x_kubernetes_preserve_unknown_fields == Some(false) {
        errs.invalid(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            "false".into(),
            "must be true or undefined",
        );
    }
    let t = type_of(s);
    let tv = Value::String(t.into());
    if let Some(mt) = s.x_kubernetes_map_type.as_deref() {
        if t != "object" {
            if t.is_empty() {
                errs.required(
                    child(path, "type"),
                    "must be object if x-kubernetes-map-type is specified",
                );
            } else {
                errs.invalid_value(
                    child(path, "type"),
                    &tv,
                    "must be object if x-kubernetes-map-type is specified",
                );
            }
        }
        if mt != "atomic" && mt != "granular" {
            errs.not_supported(
                child(path, "x-kubernetes-map-type"),
                render_value(&Value::String(mt.into())),
                &["atomic".into(), "granular".into()],
            );
        }
    }
    let list_type = s.x_kubernetes_list_type.as_deref();
    if let Some(lt) = list_type {
        if t != "array" {
            if t.is_empty() {
                errs.required(
                    child(path, "type"),
                    "must be array if x-kubernetes-list-type is specified",
                );
            } else {
                errs.invalid_value(
                    child(path, "type"),
                    &tv,
                    "must be array if x-kubernetes-list-type is specified",
                );
            }
        } else if lt == "set"
            && let Some(is) = items(s)
        {
            match type_of(is) {
                "array" => {
                    if let Some(ilt) = is
                        .x_kubernetes_list_type
                        .as_deref()
                        .filter(|l| *l != "atomic")
                    {
                        errs.invalid_value(
                            child(path, "items.x-kubernetes-list-type"),
                            &Value::String(ilt.into()),
                            "must be atomic as item of a list with x-kubernetes-list-type=set",
                        );
                    }
                }
                "object" if is.x_kubernetes_map_type.as_deref() != Some("atomic") => {
                    // Upstream passes the items' list type as the bad value.
                    let bad = is
                        .x_kubernetes_list_type
                        .as_ref()
                        .map_or("null".to_string(), |l| l.clone());
                    errs.invalid_value(
                        child(path, "items.x-kubernetes-map-type"),
                        &Value::String(bad),
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    );
                }
                _ => {}
            }
        }
        if !matches!(lt, "atomic" | "set" | "map") {
            errs.not_supported(
                child(path, "x-kubernetes-list-type"),
                render_value(&Value::String(lt.into())),
                &["atomic".into(), "set".into(), "map".into()],
            );
        }
    }
    let map_keys = s.x_kubernetes_list_map_keys.as_deref().unwrap_or(&[]);
    let keys_value = Value::Array(map_keys.iter().map(|k| Value::String(k.clone())).collect());
    if !map_keys.is_empty() {
        match list_type {
            None => errs.required(
                child(path, "x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            ),
            Some(lt) if lt != "map" => errs.invalid_value(
                child(path, "x-kubernetes-list-type"),
                &Value::String(lt.into()),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            ),
            _ => {}
        }
    }
    if list_type == Some("map") {
        if map_keys.is_empty() {
            errs.required(
                child(path, "x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            );
        }
        match s.items.as_ref() {
            None => errs.required(
                child(path, "items"),
                "must have a schema if x-kubernetes-list-type is map",
            ),
            Some(JSONSchemaPropsOrArray::Schemas(v)) => {
                let rendered = serde_json::to_value(v)
                    .map(|v| go_json(&v))
                    .unwrap_or_default();
                errs.invalid(
                    child(path, "items"),
                    rendered,
                    "must only have a single schema if x-kubernetes-list-type is map",
                );
            }
            Some(JSONSchemaPropsOrArray::Schema(is)) => {
                let it = type_of(is);
                if it != "object" {
                    errs.invalid_value(
                        child(path, "items.type"),
                        &Value::String(it.into()),
                        "must be object if parent array's x-kubernetes-list-type is map",
                    );
                } else {
                    let mut seen: Vec<&str> = Vec::new();
                    for k in map_keys {
                        match is.properties.as_ref().and_then(|p| p.get(k)) {
                            Some(ks) => {
                                if matches!(type_of(ks), "array" | "object") {
                                    errs.invalid_value(
                                        child(&key(&child(path, "items"), "properties", k), "type"),
                                        &Value::String(it.into()),
                                        "must be a scalar type if parent array's x-kubernetes-list-type is map",
                                    );
                                }
                            }
                            None => errs.invalid_value(
                                child(path, "x-kubernetes-list-map-keys"),
                                &keys_value,
                                "entries must all be names of item properties",
                            ),
                        }
                        if seen.contains(&k.as_str()) {
                            errs.invalid_value(
                                child(path, "x-kubernetes-list-map-keys"),
                                &keys_value,
                                "must not contain duplicate entries",
                            );
                        }
                        seen.push(k);
                    }
                }
            }
        }
    }
    validate_map_list_keys_map_set(errs, s, path);
    for (i, rule) in s.x_kubernetes_validations.iter().flatten().enumerate() {
        let rpath = idx(path, "x-kubernetes-validations", i);
        let trimmed_rule = rule.rule.trim();
        let msg = rule.message.as_deref().unwrap_or("");
        let trimmed_msg = msg.trim();
        if trimmed_rule.is_empty() {
            errs.required(child(&rpath, "rule"), "rule is not specified");
        } else if !msg.is_empty() && trimmed_msg.is_empty() {
            errs.invalid_value(
                child(&rpath, "message"),
                &Value::String(msg.into()),
                "message must be non-empty if specified",
            );
        } else if trimmed_msg.contains(['\n', '\r']) {
            errs.invalid_value(
                child(&rpath, "message"),
                &Value::String(msg.into()),
                "message must not contain line breaks",
            );
        } else if trimmed_rule.contains(['\n', '\r']) && trimmed_msg.is_empty() {
            errs.required(
                child(&rpath, "message"),
                "message must be specified if rule contains line breaks",
            );
        }
        if let Some(reason) = rule.reason.as_deref() {
            let supported = [
                "FieldValueDuplicate",
                "FieldValueForbidden",
                "FieldValueInvalid",
                "FieldValueRequired",
            ];
            if !supported.contains(&reason) {
                let s: Vec<String> = supported.iter().map(|s| s.to_string()).collect();
                errs.not_supported(
                    child(&rpath, "reason"),
                    render_value(&Value::String(reason.into())),
                    &s,
                );
            }
        }
    }
}

/// `validateMapListKeysMapSet`.
fn validate_map_list_keys_map_set(errs: &mut ErrorList, s: &JSONSchemaProps, path: &str) {
    let Some(is) = items(s) else { return };
    let Some(lt) = s.x_kubernetes_list_type.as_deref() else {
        return;
    };
    if lt != "set" && lt != "map" {
        return;
    }
    if nullable(is) {
        errs.forbidden(
            child(path, "items.nullable"),
            &format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
        );
    }
    if lt == "map" {
        let required = is.required.as_deref().unwrap_or(&[]);
        for k in s.x_kubernetes_list_map_keys.iter().flatten() {
            let Some(ks) = is.properties.as_ref().and_then(|p| p.get(k)) else {
                continue;
            };
            let kpath = key(&child(path, "items"), "properties", k);
            if !required.contains(k) && ks.default.is_none() {
                errs.required(
                    child(&kpath, "default"),
                    "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                );
            }
            if nullable(ks) {
                errs.forbidden(
                    child(&kpath, "nullable"),
                    "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                );
            }
        }
    }
}

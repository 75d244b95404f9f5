//! Read access to a `JSONSchemaProps` node the way upstream's `Structural` type sees it
//! (`apiserver/schema/structural.go`, `NewStructural`): the structural part (`type`,
//! `properties`, `items`, `additionalProperties`, `nullable`, `default` and the
//! `x-kubernetes-*` extensions) at the node itself, value validations alongside.
//!
//! We work on `JSONSchemaProps` directly rather than converting to a separate structural
//! type: a v1 CRD is only accepted when its schema is structural (see [`super::structural`]),
//! so the two views coincide for every schema that reaches pruning, defaulting and validation.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// `additionalProperties` as `Structural.AdditionalProperties` holds it.
pub enum Additional<'a> {
    /// Not specified.
    None,
    /// `additionalProperties: true|false`: keys are kept, their values have no schema.
    Bool(bool),
    /// `additionalProperties: {schema}`.
    Schema(&'a JSONSchemaProps),
}

pub fn type_of(s: &JSONSchemaProps) -> &str {
    s.type_.as_deref().unwrap_or("")
}

pub fn properties(s: &JSONSchemaProps) -> Option<&BTreeMap<String, JSONSchemaProps>> {
    s.properties.as_ref()
}

pub fn property<'a>(s: &'a JSONSchemaProps, k: &str) -> Option<&'a JSONSchemaProps> {
    s.properties.as_ref().and_then(|p| p.get(k))
}

/// `items` when it is a single schema (an array of schemas is not structural).
pub fn items(s: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match s.items.as_ref()? {
        JSONSchemaPropsOrArray::Schema(b) => Some(b),
        JSONSchemaPropsOrArray::Schemas(_) => None,
    }
}

pub fn additional(s: &JSONSchemaProps) -> Additional<'_> {
    match s.additional_properties.as_ref() {
        None => Additional::None,
        Some(JSONSchemaPropsOrBool::Bool(b)) => Additional::Bool(*b),
        Some(JSONSchemaPropsOrBool::Schema(b)) => Additional::Schema(b),
    }
}

pub fn additional_schema(s: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match additional(s) {
        Additional::Schema(b) => Some(b),
        _ => None,
    }
}

pub fn preserve_unknown(s: &JSONSchemaProps) -> bool {
    s.x_kubernetes_preserve_unknown_fields == Some(true)
}

pub fn embedded(s: &JSONSchemaProps) -> bool {
    s.x_kubernetes_embedded_resource == Some(true)
}

pub fn int_or_string(s: &JSONSchemaProps) -> bool {
    s.x_kubernetes_int_or_string == Some(true)
}

pub fn nullable(s: &JSONSchemaProps) -> bool {
    s.nullable == Some(true)
}

pub fn default_of(s: &JSONSchemaProps) -> Option<&Value> {
    s.default.as_ref().map(|j| &j.0)
}

pub fn list_type(s: &JSONSchemaProps) -> Option<&str> {
    s.x_kubernetes_list_type.as_deref()
}

pub fn list_map_keys(s: &JSONSchemaProps) -> &[String] {
    s.x_kubernetes_list_map_keys.as_deref().unwrap_or(&[])
}

/// Every schema node below `s` (properties, items, additionalProperties, junctors), `s`
/// included, in a fixed order; used for "does the schema anywhere have X" questions
/// (upstream `SchemaHas`).
pub fn any_node(s: &JSONSchemaProps, pred: &dyn Fn(&JSONSchemaProps) -> bool) -> bool {
    if pred(s) {
        return true;
    }
    let children = s
        .properties
        .iter()
        .flat_map(|m| m.values())
        .chain(s.all_of.iter().flatten())
        .chain(s.any_of.iter().flatten())
        .chain(s.one_of.iter().flatten())
        .chain(s.not.as_deref())
        .chain(additional_schema(s))
        .chain(s.pattern_properties.iter().flat_map(|m| m.values()))
        .chain(s.definitions.iter().flat_map(|m| m.values()));
    for c in children {
        if any_node(c, pred) {
            return true;
        }
    }
    match s.items.as_ref() {
        Some(JSONSchemaPropsOrArray::Schema(b)) => any_node(b, pred),
        Some(JSONSchemaPropsOrArray::Schemas(v)) => v.iter().any(|c| any_node(c, pred)),
        None => false,
    }
}

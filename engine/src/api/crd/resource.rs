//! Admission of custom resources (objects of a CRD's kind): mirrors the custom resource
//! registry in apiextensions-apiserver (`pkg/registry/customresource/strategy.go`,
//! `status_strategy.go`, `validator.go`) and the decoding path of `customresource_handler.go`
//! that prunes and defaults every object it reads.
//!
//! Entry points: [`admit_create`], [`admit_update`], [`admit_status_update`]; the strategy's
//! building blocks [`reset_status`] and [`spec_changed`] are public for the server's patch
//! and apply paths.
//!
//! **Order**, as upstream: prune unknown fields → drop non-nullable nulls → apply defaults →
//! `PrepareForCreate`/`PrepareForUpdate` (status reset, generation) → validate (type meta,
//! object meta, schema, scale paths, list types).
//!
//! NOTE: not covered here: CEL rules (`x-kubernetes-validations`), validation ratcheting on
//! update, owner references, finalizers and managed fields, and the object meta of embedded
//! resources (their `apiVersion` and `kind` are checked).

use super::defaults::{default, prune_non_nullable_nulls_without_defaults};
use super::description::{ResourceDescription, ScaleDescription, VersionDescription};
use super::errors::{ErrorList, go_json, go_quote, render_value};
use super::names::{
    is_dns1123_label, is_qualified_name, is_valid_label_value, name_is_dns_subdomain,
};
use super::prune::prune;
use super::schema::{additional_schema, embedded, items, property};
use super::validate::{validate, validate_at, validate_list_sets_and_maps};
use crate::api::ApiError;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::{Map, Value};

/// An admitted object and the unknown fields pruning removed from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Admitted {
    /// The object to store.
    pub object: Value,
    /// Sorted paths of the dropped unknown fields (`spec.foo`): under
    /// `fieldValidation=Strict` the server refuses the request with
    /// [`super::strict_decoding_error`], under `Warn` it sends
    /// [`super::unknown_field_warnings`].
    pub unknown_fields: Vec<String>,
}

fn version_of<'a>(
    desc: &'a ResourceDescription,
    version: &str,
) -> Result<&'a VersionDescription, ApiError> {
    desc.version(version).ok_or_else(|| {
        ApiError::bad_request(format!(
            "the server could not find the requested resource: version {} of {}",
            go_quote(version),
            desc.qualified_resource()
        ))
    })
}

fn as_object(obj: &Value) -> Result<&Map<String, Value>, ApiError> {
    match obj {
        Value::Object(m) => Ok(m),
        other => Err(ApiError::bad_request(format!(
            "Object 'Kind' is missing in '{}'",
            go_json(other)
        ))),
    }
}

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Decoding: the body must be an object with a `kind`, and `metadata` (if any) an object.
fn check_decodable(obj: &Value) -> Result<(), ApiError> {
    let m = as_object(obj)?;
    if m.get("kind")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::bad_request(format!(
            "Object 'Kind' is missing in '{}'",
            go_json(obj)
        )));
    }
    if let Some(meta) = m.get("metadata")
        && !meta.is_object()
        && !meta.is_null()
    {
        return Err(ApiError::bad_request(format!(
            ".metadata accessor error: {} is of the type {}, expected map[string]interface{{}}",
            go_v(meta),
            go_type(meta)
        )));
    }
    Ok(())
}

/// Prune (the schema's unknown fields and `metadata`'s), drop non-nullable nulls, default:
/// what upstream's codec does to every object.
fn decode(obj: &mut Value, v: &VersionDescription) -> Vec<String> {
    let mut pruned = prune(obj, v.schema.as_ref(), true);
    pruned.extend(prune_object_meta(obj));
    pruned.sort();
    if let Some(schema) = v.schema.as_ref() {
        prune_non_nullable_nulls_without_defaults(obj, schema);
        default(obj, schema);
    }
    pruned
}

fn set_generation(obj: &mut Value, generation: i64) {
    if let Value::Object(m) = obj {
        let meta = m
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        if let Value::Object(meta) = meta {
            meta.insert("generation".into(), Value::from(generation));
        }
    }
}

fn generation_of(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// `customResourceStrategy.PrepareForCreate` + `Validate`, after decoding.
///
/// # Errors
/// `BadRequest` when the body is not an object with a kind or the version is unknown;
/// `Invalid` (`CronTab.stable.example.com "c" is invalid: …`) with one cause per field.
pub fn admit_create(
    desc: &ResourceDescription,
    version: &str,
    mut obj: Value,
) -> Result<Admitted, ApiError> {
    let v = version_of(desc, version)?;
    check_decodable(&obj)?;
    let unknown_fields = decode(&mut obj, v);
    if v.status_subresource
        && let Value::Object(m) = &mut obj
    {
        m.remove("status");
    }
    set_generation(&mut obj, 1);
    let errs = validate_object(desc, v, &obj, None);
    if !errs.is_empty() {
        return Err(errs.into_invalid(&desc.qualified_kind(), &name_of(&obj)));
    }
    Ok(Admitted {
        object: obj,
        unknown_fields,
    })
}

/// `customResourceStrategy.PrepareForUpdate` + `ValidateUpdate`, after decoding: with the
/// status subresource the old status is kept; the generation moves only when something
/// other than metadata (and, with the subresource, status) changed.
///
/// # Errors
/// As [`admit_create`]; also `metadata.name`/`metadata.namespace` are immutable.
pub fn admit_update(
    desc: &ResourceDescription,
    version: &str,
    old: &Value,
    mut new: Value,
) -> Result<Admitted, ApiError> {
    let v = version_of(desc, version)?;
    check_decodable(&new)?;
    let unknown_fields = decode(&mut new, v);
    if v.status_subresource {
        reset_status(old, &mut new);
    }
    let generation = generation_of(old) + i64::from(spec_changed(old, &new));
    set_generation(&mut new, generation);
    let errs = validate_object(desc, v, &new, Some(old));
    if !errs.is_empty() {
        return Err(errs.into_invalid(&desc.qualified_kind(), &name_of(&new)));
    }
    Ok(Admitted {
        object: new,
        unknown_fields,
    })
}

/// A write to the `status` subresource (`statusStrategy.PrepareForUpdate` +
/// `ValidateUpdate`): the stored object is the old one with the new `.status` (dropped if
/// the request has none); metadata and spec changes are ignored.
///
/// # Errors
/// `BadRequest` when the version has no status subresource; `Invalid` when the status
/// breaks the schema (messages read `status.replicas in body …`).
pub fn admit_status_update(
    desc: &ResourceDescription,
    version: &str,
    old: &Value,
    mut new: Value,
) -> Result<Admitted, ApiError> {
    let v = version_of(desc, version)?;
    if !v.status_subresource {
        return Err(ApiError::bad_request(format!(
            "the server could not find the requested resource: {}/status",
            desc.qualified_resource()
        )));
    }
    check_decodable(&new)?;
    let unknown_fields = decode(&mut new, v);
    let mut obj = old.clone();
    match new.get("status") {
        Some(st) => {
            if let Value::Object(m) = &mut obj {
                m.insert("status".into(), st.clone());
            }
        }
        None => {
            if let Value::Object(m) = &mut obj {
                m.remove("status");
            }
        }
    }
    let mut errs = validate_type_meta(desc, v, &obj);
    if !errs.is_empty() {
        return Err(errs.into_invalid(&desc.qualified_kind(), &name_of(&obj)));
    }
    validate_meta_update(&mut errs, old, &obj);
    if let (Some(schema), Some(status)) = (
        v.schema.as_ref().and_then(|s| property(s, "status")),
        obj.get("status"),
    ) {
        errs.extend(validate_at(status, schema, "status", None));
    }
    if let Some(scale) = v.scale.as_ref() {
        validate_scale_status(&mut errs, &obj, scale);
    }
    if let Some(schema) = v.schema.as_ref() {
        errs.extend(validate_list_sets_and_maps("", schema, &obj));
    }
    if !errs.is_empty() {
        return Err(errs.into_invalid(&desc.qualified_kind(), &name_of(&obj)));
    }
    Ok(Admitted {
        object: obj,
        unknown_fields,
    })
}

/// The status-subresource rule of `PrepareForUpdate`: `new.status` becomes `old.status`
/// (removed when the old object has none).
pub fn reset_status(old: &Value, new: &mut Value) {
    let Value::Object(m) = new else { return };
    match old.get("status") {
        Some(st) => {
            m.insert("status".into(), st.clone());
        }
        None => {
            m.remove("status");
        }
    }
}

/// Whether anything but `metadata` differs (`copyNonMetadata` compared with
/// `apiequality.Semantic.DeepEqual`): the condition for bumping `metadata.generation`.
///
/// With the status subresource, call it after [`reset_status`] (as [`admit_update`] does),
/// so that a status change alone never bumps the generation.
pub fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Map<String, Value> {
        match v {
            Value::Object(m) => m
                .iter()
                .filter(|(k, _)| k.as_str() != "metadata")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => Map::new(),
        }
    };
    strip(old) != strip(new)
}

/// `customResourceStrategy.Validate` / `ValidateUpdate`.
fn validate_object(
    desc: &ResourceDescription,
    v: &VersionDescription,
    obj: &Value,
    old: Option<&Value>,
) -> ErrorList {
    let mut errs = validate_type_meta(desc, v, obj);
    if !errs.is_empty() {
        return errs;
    }
    validate_meta(&mut errs, desc, obj);
    if let Some(old) = old {
        validate_meta_update(&mut errs, old, obj);
    }
    if let Some(schema) = v.schema.as_ref() {
        errs.extend(validate(obj, schema, None));
    }
    if let Some(scale) = v.scale.as_ref() {
        validate_scale_spec(&mut errs, obj, scale);
        validate_scale_status(&mut errs, obj, scale);
    }
    if let Some(schema) = v.schema.as_ref() {
        validate_embedded_resources(&mut errs, "", obj, schema);
        errs.extend(validate_list_sets_and_maps("", schema, obj));
    }
    errs
}

/// The type-meta part of `schemaobjectmeta.Validate` (`apiserver/schema/objectmeta/validation.go`,
/// `validateEmbeddedResource`): every `x-kubernetes-embedded-resource` value below the root
/// needs a string `apiVersion` (a valid group/version) and a string `kind`.
fn validate_embedded_resources(errs: &mut ErrorList, path: &str, x: &Value, s: &JSONSchemaProps) {
    let child = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match x {
        Value::Object(m) => {
            if embedded(s) && !path.is_empty() {
                if !m.contains_key("apiVersion") {
                    errs.required(child("apiVersion"), "must not be empty");
                }
                if !m.contains_key("kind") {
                    errs.required(child("kind"), "must not be empty");
                }
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("apiVersion" | "kind", Value::String(t)) if t.is_empty() => {
                            errs.invalid(child(k), go_quote(t), "must not be empty")
                        }
                        ("apiVersion", Value::String(t)) if t.matches('/').count() > 1 => errs
                            .invalid(
                                child(k),
                                go_quote(t),
                                &format!("unexpected GroupVersion string: {t}"),
                            ),
                        ("apiVersion" | "kind", Value::String(_)) => {}
                        ("apiVersion" | "kind", other) => {
                            errs.invalid_value(child(k), other, "must be a string")
                        }
                        _ => {}
                    }
                }
            }
            for (k, v) in m {
                if let Some(sub) = property(s, k) {
                    validate_embedded_resources(errs, &child(k), v, sub);
                } else if let Some(a) = additional_schema(s) {
                    validate_embedded_resources(errs, &format!("{path}[{k}]"), v, a);
                }
            }
        }
        Value::Array(list) => {
            if let Some(item) = items(s) {
                for (i, v) in list.iter().enumerate() {
                    validate_embedded_resources(errs, &format!("{path}[{i}]"), v, item);
                }
            }
        }
        _ => {}
    }
}

/// `ValidateTypeMeta`: the caller reports these errors alone, without going on.
fn validate_type_meta(
    desc: &ResourceDescription,
    v: &VersionDescription,
    obj: &Value,
) -> ErrorList {
    let mut errs = ErrorList::default();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind != desc.kind {
        errs.invalid("kind", go_quote(kind), &format!("must be {}", desc.kind));
    }
    let want = format!("{}/{}", desc.group, v.name);
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if api_version != want {
        errs.invalid(
            "apiVersion",
            go_quote(api_version),
            &format!("must be {want}"),
        );
    }
    errs
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `ValidateObjectMetaAccessor` with `NameIsDNSSubdomain`.
fn validate_meta(errs: &mut ErrorList, desc: &ResourceDescription, obj: &Value) {
    let gn = meta_str(obj, "generateName");
    if !gn.is_empty() {
        for msg in name_is_dns_subdomain(gn, true) {
            errs.invalid("metadata.generateName", go_quote(gn), &msg);
        }
    }
    let name = meta_str(obj, "name");
    if name.is_empty() {
        errs.required("metadata.name", "name or generateName is required");
    } else {
        for msg in name_is_dns_subdomain(name, false) {
            errs.invalid("metadata.name", go_quote(name), &msg);
        }
    }
    let ns = meta_str(obj, "namespace");
    if desc.namespaced {
        if ns.is_empty() {
            errs.required("metadata.namespace", "");
        } else {
            for msg in is_dns1123_label(ns) {
                errs.invalid("metadata.namespace", go_quote(ns), &msg);
            }
        }
    } else if !ns.is_empty() {
        errs.forbidden("metadata.namespace", "not allowed on this type");
    }
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if generation < 0 {
        errs.invalid(
            "metadata.generation",
            generation.to_string(),
            "must be greater than or equal to 0",
        );
    }
    validate_labels_and_annotations(errs, obj);
}

/// `ValidateLabels` and `ValidateAnnotations`: keys are qualified names (annotation keys
/// compared lower-cased), label values valid label values, annotations at most 256 KiB;
/// every error is reported at the map's own path.
fn validate_labels_and_annotations(errs: &mut ErrorList, obj: &Value) {
    if let Some(Value::Object(labels)) = obj.pointer("/metadata/labels") {
        for (k, v) in labels {
            for msg in is_qualified_name(k) {
                errs.invalid("metadata.labels", go_quote(k), &msg);
            }
            if let Value::String(v) = v {
                for msg in is_valid_label_value(v) {
                    errs.invalid("metadata.labels", go_quote(v), &msg);
                }
            }
        }
    }
    if let Some(Value::Object(annotations)) = obj.pointer("/metadata/annotations") {
        let mut total = 0usize;
        for (k, v) in annotations {
            for msg in is_qualified_name(&k.to_lowercase()) {
                errs.invalid("metadata.annotations", go_quote(k), &msg);
            }
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * (1 << 10);
        if total > TOTAL_ANNOTATION_SIZE_LIMIT_B {
            errs.too_long("metadata.annotations", TOTAL_ANNOTATION_SIZE_LIMIT_B as i64);
        }
    }
}

/// The fields of `metav1.ObjectMeta`; any other key under a root `metadata` is an unknown
/// field (`GetObjectMetaWithOptions` with `ReturnUnknownFieldPaths`).
const OBJECT_META_FIELDS: &[&str] = &[
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "finalizers",
    "generateName",
    "generation",
    "labels",
    "managedFields",
    "name",
    "namespace",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
    "uid",
];

/// Drops the unknown keys of the root `metadata` and returns their paths.
fn prune_object_meta(obj: &mut Value) -> Vec<String> {
    let Some(Value::Object(meta)) = obj.get_mut("metadata") else {
        return Vec::new();
    };
    let unknown: Vec<String> = meta
        .keys()
        .filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    for k in &unknown {
        meta.remove(k);
    }
    unknown
        .into_iter()
        .map(|k| format!("metadata.{k}"))
        .collect()
}

/// The parts of `ValidateObjectMetaAccessorUpdate` a user can trip: name and namespace are
/// immutable.
fn validate_meta_update(errs: &mut ErrorList, old: &Value, new: &Value) {
    for field in ["name", "namespace"] {
        let (o, n) = (meta_str(old, field), meta_str(new, field));
        if o != n {
            errs.invalid(
                format!("metadata.{field}"),
                go_quote(n),
                "field is immutable",
            );
        }
    }
}

/// `unstructured.NestedFieldNoCopy` along a `.a.b` path: `Ok(None)` when absent, `Err` with
/// apimachinery's accessor message when an intermediate value is not an object.
fn nested<'a>(obj: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    let fields: Vec<&str> = path.trim_start_matches('.').split('.').collect();
    let mut cur = obj;
    for (i, f) in fields.iter().enumerate() {
        match cur {
            Value::Null => return Ok(None),
            Value::Object(m) => match m.get(*f) {
                Some(v) => cur = v,
                None => return Ok(None),
            },
            other => {
                return Err(format!(
                    ".{} accessor error: {} is of the type {}, expected map[string]interface{{}}",
                    fields[..=i].join("."),
                    go_v(other),
                    go_type(other)
                ));
            }
        }
    }
    Ok(Some(cur))
}

/// Go's `%T` of an unstructured value.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `%v` of an unstructured scalar (compound values print as JSON here).
fn go_v(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => render_value(other),
    }
}

/// `NestedInt64` then the replica checks of `ValidateScaleSpec`/`ValidateScaleStatus`.
fn validate_replicas(errs: &mut ErrorList, obj: &Value, path: &str) {
    let value = match nested(obj, path) {
        Err(e) => {
            errs.invalid(path, "0".into(), &e);
            return;
        }
        Ok(None) => return,
        Ok(Some(v)) => v,
    };
    match value.as_i64() {
        None => errs.invalid(
            path,
            "0".into(),
            &format!(
                "{path} accessor error: {} is of the type {}, expected int64",
                go_v(value),
                go_type(value)
            ),
        ),
        Some(r) if r < 0 => errs.invalid(path, r.to_string(), "should be a non-negative integer"),
        Some(r) if r > i64::from(i32::MAX) => errs.invalid(
            path,
            r.to_string(),
            &format!("should be less than or equal to {}", i32::MAX),
        ),
        Some(_) => {}
    }
}

/// `ValidateScaleSpec`.
fn validate_scale_spec(errs: &mut ErrorList, obj: &Value, scale: &ScaleDescription) {
    validate_replicas(errs, obj, &scale.spec_replicas_path);
}

/// `ValidateScaleStatus`: status replicas, and a label selector that is a string.
fn validate_scale_status(errs: &mut ErrorList, obj: &Value, scale: &ScaleDescription) {
    validate_replicas(errs, obj, &scale.status_replicas_path);
    if let Some(lsp) = scale.label_selector_path.as_deref() {
        match nested(obj, lsp) {
            Err(e) => errs.invalid(lsp, "\"\"".into(), &e),
            Ok(Some(v)) if !v.is_string() => errs.invalid(
                lsp,
                "\"\"".into(),
                &format!(
                    "{lsp} accessor error: {} is of the type {}, expected string",
                    go_v(v),
                    go_type(v)
                ),
            ),
            _ => {}
        }
    }
}

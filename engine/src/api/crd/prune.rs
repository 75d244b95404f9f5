//! Pruning of unknown fields: mirrors `pruning.PruneWithOptions` in
//! `apiextensions-apiserver/pkg/apiserver/schema/pruning/algorithm.go`, returning the paths
//! of the dropped fields (`spec.foo`, `spec.items[0].bar`) so the server can refuse them
//! under `fieldValidation=Strict` or warn about them under `Warn`.
//!
//! **Invariant.** Pruning is idempotent: `prune(prune(x))` drops nothing more. Only object
//! keys are ever removed; scalars and list lengths are never changed.

use super::schema::{Additional, additional, embedded, items, preserve_unknown, property};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

/// Prunes `obj` against `schema` and returns the dropped paths, sorted.
///
/// `is_resource_root` marks `obj` as a whole object (as opposed to, say, a default value):
/// its `apiVersion`, `kind` and `metadata` are then left alone, as for an
/// `x-kubernetes-embedded-resource` (upstream clones the schema with `XEmbeddedResource`).
/// A `None` schema prunes every object field (what upstream does for a nil `Structural`).
pub fn prune(
    obj: &mut Value,
    schema: Option<&JSONSchemaProps>,
    is_resource_root: bool,
) -> Vec<String> {
    let mut pruned = Vec::new();
    prune_node(obj, schema, is_resource_root, "", &mut pruned);
    pruned.sort();
    pruned
}

fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Whether an embedded resource's meta field is left to ObjectMeta handling: `apiVersion` and
/// `kind` when they are strings, `metadata` when it is an object.
fn is_skipped_meta(embedded_here: bool, k: &str, v: &Value) -> bool {
    embedded_here
        && match k {
            "apiVersion" | "kind" => v.is_string(),
            "metadata" => v.is_object(),
            _ => false,
        }
}

/// `prune`.
fn prune_node(
    x: &mut Value,
    s: Option<&JSONSchemaProps>,
    root_embedded: bool,
    path: &str,
    pruned: &mut Vec<String>,
) {
    if let Some(s) = s.filter(|s| preserve_unknown(s)) {
        skip_prune(x, s, root_embedded, path, pruned);
        return;
    }
    match x {
        Value::Object(map) => {
            let Some(s) = s else {
                pruned.extend(map.keys().map(|k| child(path, k)));
                map.clear();
                return;
            };
            let embedded_here = root_embedded || embedded(s);
            let mut drop = Vec::new();
            for (k, v) in map.iter_mut() {
                if is_skipped_meta(embedded_here, k, v) {
                    continue;
                }
                if let Some(prop) = property(s, k) {
                    prune_node(v, Some(prop), false, &child(path, k), pruned);
                } else {
                    match additional(s) {
                        Additional::Schema(a) => {
                            prune_node(v, Some(a), false, &child(path, k), pruned)
                        }
                        Additional::Bool(_) => prune_node(v, None, false, &child(path, k), pruned),
                        Additional::None => {
                            // A root `metadata` of the wrong type is dropped without being
                            // reported: ObjectMeta decoding reports it.
                            if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                                || !path.is_empty()
                            {
                                pruned.push(child(path, k));
                            }
                            drop.push(k.clone());
                        }
                    }
                }
            }
            for k in drop {
                map.remove(&k);
            }
        }
        Value::Array(list) => {
            let item_schema = s.and_then(items);
            for (i, v) in list.iter_mut().enumerate() {
                prune_node(v, item_schema, false, &format!("{path}[{i}]"), pruned);
            }
        }
        _ => {}
    }
}

/// `skipPrune`: under `x-kubernetes-preserve-unknown-fields` unknown keys stay, but known
/// ones are still pruned below.
fn skip_prune(
    x: &mut Value,
    s: &JSONSchemaProps,
    root_embedded: bool,
    path: &str,
    pruned: &mut Vec<String>,
) {
    match x {
        Value::Object(map) => {
            let embedded_here = root_embedded || embedded(s);
            for (k, v) in map.iter_mut() {
                if is_skipped_meta(embedded_here, k, v) {
                    continue;
                }
                if let Some(prop) = property(s, k) {
                    prune_node(v, Some(prop), false, &child(path, k), pruned);
                } else if let Additional::Schema(a) = additional(s) {
                    prune_node(v, Some(a), false, &child(path, k), pruned);
                } else if let Additional::Bool(_) = additional(s) {
                    prune_node(v, None, false, &child(path, k), pruned);
                }
            }
        }
        Value::Array(list) => {
            if let Some(item_schema) = items(s) {
                for (i, v) in list.iter_mut().enumerate() {
                    skip_prune(v, item_schema, false, &format!("{path}[{i}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

/// The `fieldValidation=Strict` refusal: `strict decoding error: unknown field "spec.foo",
/// unknown field "spec.bar"` (`runtime.NewStrictDecodingError`), a BadRequest.
///
/// # Panics
/// Never; an empty list gives the bare prefix.
pub fn strict_decoding_error(pruned: &[String]) -> super::super::ApiError {
    super::super::ApiError::bad_request(format!(
        "strict decoding error: {}",
        unknown_field_warnings(pruned).join(", ")
    ))
}

/// The `fieldValidation=Warn` warnings, one per dropped field: `unknown field "spec.foo"`.
pub fn unknown_field_warnings(pruned: &[String]) -> Vec<String> {
    pruned
        .iter()
        .map(|p| format!("unknown field {}", super::errors::go_quote(p)))
        .collect()
}

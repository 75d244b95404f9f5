//! Defaulting of custom resources from the `default`s in their schema: mirrors
//! `structuraldefaulting.PruneNonNullableNullsWithoutDefaults` (`defaulting/prunenulls.go`)
//! and `structuraldefaulting.Default` (`defaulting/algorithm.go`).
//!
//! Upstream applies both, in that order, to every object it decodes (requests and storage),
//! after pruning: a `null` for a non-nullable field without a default disappears, a missing
//! or `null` non-nullable field with a default gets a deep copy of the default.

use super::schema::{Additional, additional, default_of, items, nullable, property};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

/// `PruneNonNullableNullsWithoutDefaults`: drops object fields whose value is `null` when
/// their schema is neither `nullable` nor carries a `default`.
pub fn prune_non_nullable_nulls_without_defaults(x: &mut Value, s: &JSONSchemaProps) {
    match x {
        Value::Object(map) => {
            let mut drop = Vec::new();
            for (k, v) in map.iter_mut() {
                let sub = match property(s, k) {
                    Some(p) => p,
                    None => match additional(s) {
                        Additional::Schema(a) => a,
                        _ => continue,
                    },
                };
                if v.is_null() && !nullable(sub) && default_of(sub).is_none() {
                    drop.push(k.clone());
                } else {
                    prune_non_nullable_nulls_without_defaults(v, sub);
                }
            }
            for k in drop {
                map.remove(&k);
            }
        }
        Value::Array(list) => {
            if let Some(item) = items(s) {
                for v in list.iter_mut() {
                    prune_non_nullable_nulls_without_defaults(v, item);
                }
            }
        }
        _ => {}
    }
}

fn is_non_nullable_null(x: &Value, s: Option<&JSONSchemaProps>) -> bool {
    x.is_null() && s.is_some_and(|s| !nullable(s))
}

/// `Default`: fills missing (or non-nullable `null`) properties from their schema's
/// `default`, then recurses into properties, `additionalProperties` values and array items.
///
/// NOTE: as upstream, a `null` *array item* or *additionalProperties value* replaced by its
/// default is not itself defaulted further (Go recurses into the stale `nil`), while a
/// defaulted *property* is (Go's map iteration sees the new value).
pub fn default(x: &mut Value, s: &JSONSchemaProps) {
    match x {
        Value::Object(map) => {
            if let Some(props) = s.properties.as_ref() {
                for (k, prop) in props {
                    let Some(d) = default_of(prop) else { continue };
                    let missing = match map.get(k) {
                        None => true,
                        Some(v) => is_non_nullable_null(v, Some(prop)),
                    };
                    if missing {
                        map.insert(k.clone(), d.clone());
                    }
                }
            }
            for (k, v) in map.iter_mut() {
                if let Some(prop) = property(s, k) {
                    default(v, prop);
                } else if let Additional::Schema(a) = additional(s) {
                    if is_non_nullable_null(v, Some(a)) {
                        *v = default_of(a).cloned().unwrap_or(Value::Null);
                    } else {
                        default(v, a);
                    }
                }
            }
        }
        Value::Array(list) => {
            let Some(item) = items(s) else { return };
            for v in list.iter_mut() {
                if is_non_nullable_null(v, Some(item)) {
                    *v = default_of(item).cloned().unwrap_or(Value::Null);
                } else {
                    default(v, item);
                }
            }
        }
        _ => {}
    }
}

//! Strategic merge patch, ported from `k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`
//! (the apply half: `StrategicMergeMapPatch` and what it calls). See [`strategic_merge_patch`].
//!
//! Lists merge according to the field's `patchStrategy` and `patchMergeKey` from [`meta`]:
//! lists of objects with a merge key merge element-wise, lists of scalars with strategy `merge`
//! union, every other list is replaced. The directives `$patch: replace | delete | merge`,
//! `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` and `$retainKeys` behave as
//! upstream's. Function names are upstream's in snake_case, so the Go file and this one can be read
//! side by side.
//!
//! NOTE: upstream mutates its inputs; here the original and the patch are taken by value.
//!
//! [`meta`]: super::meta

use super::meta::{Schema, Strategy};
use super::{PatchError, Result};
use serde_json::{Map, Value};
use std::fmt::Write as _;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

// The `mergepatch` package's errors, with their text.
const ERR_BAD_JSON_DOC: &str = "invalid JSON document";
const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";
const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST: &str =
    "invalid patch format of setElementOrder list";

fn bad(msg: impl Into<String>) -> PatchError {
    PatchError::BadRequest(msg.into())
}

/// `mergepatch.ErrNoMergeKey`.
fn err_no_merge_key(m: &Map<String, Value>, key: &str) -> PatchError {
    bad(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt(&Value::Object(m.clone()))
    ))
}

/// `mergepatch.ErrBadArgType`: `expected a slice, but received a string`.
fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    bad(format!(
        "expected a {expected}, but received a {}",
        go_kind(actual)
    ))
}

/// `mergepatch.ErrBadPatchType`.
fn err_bad_patch_type(t: &Value, m: &Map<String, Value>) -> PatchError {
    bad(format!(
        "unknown patch type: {} in map: {}",
        go_fmt(t),
        go_fmt(&Value::Object(m.clone()))
    ))
}

/// Applies the strategic merge patch `patch` to `original`, a `kind` whose metadata is `schema`
/// (`StrategicMergeMapPatch` with `MergeParallelList` and `IgnoreUnmatchedNulls` set, as the API
/// server calls it).
///
/// # Errors
///
/// `BadRequest` with upstream's message when the patch is malformed: not an object, an unknown
/// `$patch`, a list element without its merge key, an inconsistent `$setElementOrder` or
/// `$retainKeys`; `Unprocessable` for lists of lists.
pub fn strategic_merge_patch(original: &Value, patch: &Value, schema: Schema) -> Result<Value> {
    let Value::Object(o) = original else {
        return Err(bad(ERR_BAD_JSON_DOC));
    };
    let Value::Object(p) = patch else {
        return Err(bad(ERR_BAD_JSON_DOC));
    };
    merge_map(o.clone(), p.clone(), schema).map(Value::Object)
}

/// `mergeMap`: merges the fields of `patch` into `original`.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Schema,
) -> Result<Map<String, Value>> {
    if let Some(v) = patch.get(DIRECTIVE_MARKER).cloned() {
        return handle_directive_in_merge_map(&v, patch);
    }
    apply_retain_keys_directive(&mut original, &mut patch)?;
    merge_patch_into_original(&mut original, &mut patch, schema)?;

    for (key, mut patch_v) in patch {
        // `preprocessDeletionListForMerging`.
        let (k, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            (extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?, true)
        } else {
            (key, false)
        };

        // A null deletes the key; unmatched nulls are dropped (IgnoreUnmatchedNulls).
        if patch_v.is_null() {
            original.remove(&k);
            continue;
        }

        let Some(original_v) = original.remove(&k) else {
            // Not in the original document: take the patch value, without its directives.
            if !is_delete_list {
                discard_null_values_from_patch(&mut patch_v);
                if let Some(v) = remove_directives(patch_v) {
                    original.insert(k, v);
                }
            }
            continue;
        };

        if std::mem::discriminant(&original_v) != std::mem::discriminant(&patch_v) {
            if is_delete_list {
                original.insert(k, original_v);
            } else {
                discard_null_values_from_patch(&mut patch_v);
                if let Some(v) = remove_directives(patch_v) {
                    original.insert(k, v);
                }
            }
            continue;
        }

        let meta = schema.field(&k);
        let sub = schema.child(&k);
        let strategy = extract_retain_keys_patch_strategy(meta.strategy);
        let merged = match (original_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                Some(Value::Object(merge_map_handler(o, p, sub, strategy)?))
            }
            (Value::Array(o), Value::Array(p)) => Some(Value::Array(merge_slice_handler(
                o,
                p,
                sub,
                strategy,
                meta.merge_key,
                is_delete_list,
            )?)),
            (_, p) => remove_directives(p),
        };
        if let Some(v) = merged {
            original.insert(k, v);
        }
    }
    Ok(original)
}

/// The strategy that matters for merging once `retainKeys` is set aside
/// (`extractRetainKeysPatchStrategy`): `merge`, `replace` or none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MergeStrategy {
    Merge,
    Replace,
    None,
}

fn extract_retain_keys_patch_strategy(s: Strategy) -> MergeStrategy {
    if s.merge {
        MergeStrategy::Merge
    } else if s.replace {
        MergeStrategy::Replace
    } else {
        MergeStrategy::None
    }
}

/// `mergeMapHandler`.
fn merge_map_handler(
    original: Map<String, Value>,
    patch: Map<String, Value>,
    schema: Schema,
    strategy: MergeStrategy,
) -> Result<Map<String, Value>> {
    if strategy == MergeStrategy::Replace {
        Ok(patch)
    } else {
        merge_map(original, patch, schema)
    }
}

/// `mergeSliceHandler`: lists merge only under strategy `merge`; otherwise the patch list
/// replaces the original.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema,
    strategy: MergeStrategy,
    merge_key: Option<&str>,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if strategy == MergeStrategy::Merge {
        merge_slice(original, patch, schema, merge_key, is_delete_list)
    } else {
        Ok(patch)
    }
}

/// `handleDirectiveInMergeMap`: `$patch: replace` keeps the patch alone, `$patch: delete`
/// empties the map.
fn handle_directive_in_merge_map(
    directive: &Value,
    mut patch: Map<String, Value>,
) -> Result<Map<String, Value>> {
    match directive.as_str() {
        Some(REPLACE_DIRECTIVE) => {
            patch.remove(DIRECTIVE_MARKER);
            Ok(patch)
        }
        Some(DELETE_DIRECTIVE) => Ok(Map::new()),
        _ => Err(err_bad_patch_type(directive, &patch)),
    }
}

/// `applyRetainKeysDirective`: with `$retainKeys`, keys of `original` not in the list are
/// cleared, and every key the patch sets must be in the list.
fn apply_retain_keys_directive(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(list) = retain else {
        return Err(bad(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
    };
    let retained = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(k) {
            return Err(bad(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS));
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// `mergePatchIntoOriginal`: processes each `$setElementOrder/<field>` with the `<field>` list
/// of the patch. Precedence of order: `$setElementOrder` > order in the patch list > order in
/// the live list (design proposal "preserve-order-in-strategic-merge-patch").
fn merge_patch_into_original(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: Schema,
) -> Result<()> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(err_bad_arg_type("slice", &order));
        };
        let original_key = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
        let original_list = match original.get(&original_key) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_arg_type("slice", other)),
        };
        let patch_list = match patch.get(&original_key) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_arg_type("slice", other)),
        };
        let meta = schema.field(&original_key);
        let sub = schema.child(&original_key);
        let strategy = extract_retain_keys_patch_strategy(meta.strategy);
        let merge_key = meta.merge_key;
        validate_patch_with_set_order_list(
            patch_list.as_deref().unwrap_or(&[]),
            &order,
            merge_key,
        )?;

        let original_field = original_list.clone().unwrap_or_default();
        let patch_field = patch_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(v)) => v,
                _ => continue,
            },
            (Some(o), Some(p)) => merge_slice_handler(o, p, sub, strategy, merge_key, false)?,
            (None, None) => continue,
        };

        let (patch_items, server_only) = match merge_key {
            None => partition_primitives_by_present_in_list(merged, &order),
            Some(mk) => partition_maps_by_present_in_list(merged, &order, mk)?,
        };
        let kind = slice_element_type(&[&original_field, &patch_field])?;
        let both = normalize_element_order(
            patch_items,
            server_only,
            &order,
            &original_field,
            merge_key,
            kind,
        )?;
        original.insert(original_key.clone(), Value::Array(both));
        patch.remove(&original_key);
    }
    Ok(())
}

/// `extractKey`: `$setElementOrder/containers` → `containers`.
fn extract_key(s: &str, prefix: &str) -> Result<String> {
    match s.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_string()),
        _ => Err(bad(if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX {
            ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST
        } else {
            ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST
        })),
    }
}

/// `validatePatchWithSetOrderList`: the patch list (deletions aside) must be a subsequence of
/// the `$setElementOrder` list.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<Value> = match merge_key {
        Some(_) => extract_to_delete_items(patch_list.to_vec())?.0,
        None => patch_list.to_vec(),
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if contains_directive_marker(&non_delete[pi]) {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(&non_delete[pi], &order[oi], merge_key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(bad(format!(
            "the order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}",
            go_fmt(&Value::Array(patch_list.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

fn contains_directive_marker(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
}

/// `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: Option<&str>) -> Result<bool> {
    let Some(mk) = merge_key else {
        return Ok(left == right);
    };
    let l = left
        .as_object()
        .ok_or_else(|| err_bad_arg_type("map", left))?;
    let r = right
        .as_object()
        .ok_or_else(|| err_bad_arg_type("map", right))?;
    let lv = l.get(mk).ok_or_else(|| err_no_merge_key(l, mk))?;
    let rv = r.get(mk).ok_or_else(|| err_no_merge_key(r, mk))?;
    Ok(lv == rv)
}

/// `partitionPrimitivesByPresentInList`.
fn partition_primitives_by_present_in_list(
    original: Vec<Value>,
    by: &[Value],
) -> (Vec<Value>, Vec<Value>) {
    original.into_iter().partition(|v| by.contains(v))
}

/// `partitionMapsByPresentInList`.
fn partition_maps_by_present_in_list(
    original: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut patch = Vec::new();
    let mut server_only = Vec::new();
    for v in original {
        let m = v.as_object().ok_or_else(|| err_bad_arg_type("map", &v))?;
        let mv = m
            .get(merge_key)
            .ok_or_else(|| err_no_merge_key(m, merge_key))?;
        if find_map_in_slice_based_on_key_value(by, merge_key, mv)?.is_some() {
            patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((patch, server_only))
}

/// `removeDirectives`: drops maps that carry `$patch` (at any depth); `None` when `v` itself is
/// one.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// `discardNullValuesFromPatch`.
fn discard_null_values_from_patch(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_null_values_from_patch);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_null_values_from_patch),
        _ => {}
    }
}

/// The kind of the elements of a list, as `reflect.Kind` matters to upstream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ElemKind {
    Map,
    Scalar,
}

/// `sliceElementType`: all elements of all slices must have one type; lists of lists are refused.
fn slice_element_type(slices: &[&[Value]]) -> Result<ElemKind> {
    let mut prev: Option<std::mem::Discriminant<Value>> = None;
    let mut kind = None;
    for s in slices {
        for v in s.iter() {
            let d = std::mem::discriminant(v);
            match prev {
                None => {
                    if v.is_array() {
                        return Err(PatchError::Unprocessable(ERR_NO_LIST_OF_LISTS.into()));
                    }
                    prev = Some(d);
                    kind = Some(if v.is_object() {
                        ElemKind::Map
                    } else {
                        ElemKind::Scalar
                    });
                }
                Some(p) if p != d => {
                    let all: Vec<Value> = slices.iter().map(|s| Value::Array(s.to_vec())).collect();
                    return Err(bad(format!(
                        "list element types are not identical: {}",
                        go_fmt(&Value::Array(all))
                    )));
                }
                Some(_) => {}
            }
        }
    }
    kind.ok_or_else(|| bad("no elements in any of the given slices"))
}

/// `mergeSlice`: merges two lists under strategy `merge`.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema,
    merge_key: Option<&str>,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = slice_element_type(&[&original, &patch])?;
    let (merged, original, patch) = if kind != ElemKind::Map {
        if is_delete_list {
            return Ok(delete_from_slice(original, &patch));
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (deduplicate_scalars(both), original, patch)
    } else {
        let Some(mk) = merge_key else {
            return Err(bad("cannot merge lists without merge key for type map"));
        };
        let (original, patch) = merge_slice_with_special_elements(original, patch, mk)?;
        let merged = merge_slice_without_special_elements(original.clone(), &patch, mk, schema)?;
        (merged, original, patch)
    };

    let (patch_items, server_only) = match merge_key.filter(|_| kind == ElemKind::Map) {
        None => partition_primitives_by_present_in_list(merged, &patch),
        Some(mk) => partition_maps_by_present_in_list(merged, &patch, mk)?,
    };
    normalize_element_order(
        patch_items,
        server_only,
        &patch,
        &original,
        merge_key.filter(|_| kind == ElemKind::Map),
        kind,
    )
}

/// `mergeSliceWithSpecialElements`: applies `$patch: delete` (by merge key) and
/// `$patch: replace` elements; returns the new original and the patch without them.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut without = Vec::new();
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type("map", &v));
        };
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            without.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let Some(mv) = m.get(merge_key) else {
                    return Err(err_no_merge_key(m, merge_key));
                };
                original = delete_matching_entries(original, merge_key, mv)?;
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(bad("merging lists cannot yet be specified in the patch"));
            }
            _ => return Err(err_bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((without, Vec::new()))
    } else {
        Ok((original, without))
    }
}

/// `deleteMatchingEntries`.
fn delete_matching_entries(
    mut original: Vec<Value>,
    merge_key: &str,
    value: &Value,
) -> Result<Vec<Value>> {
    while let Some((i, _)) = find_map_in_slice_based_on_key_value(&original, merge_key, value)? {
        original.remove(i);
    }
    Ok(original)
}

/// `mergeSliceWithoutSpecialElements`: elements with the same merge key value merge
/// (recursively), others are appended.
fn merge_slice_without_special_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    schema: Schema,
) -> Result<Vec<Value>> {
    for v in patch {
        let Some(pm) = v.as_object() else {
            return Err(err_bad_arg_type("map", v));
        };
        let Some(mv) = pm.get(merge_key) else {
            return Err(err_no_merge_key(pm, merge_key));
        };
        match find_map_in_slice_based_on_key_value(&original, merge_key, mv)? {
            Some((i, om)) => {
                let merged = merge_map(om, pm.clone(), schema)?;
                original[i] = Value::Object(merged);
            }
            None => original.push(v.clone()),
        }
    }
    Ok(original)
}

/// `deleteFromSlice`: the parallel `$deleteFromPrimitiveList` list.
fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Vec<Value> {
    current
        .into_iter()
        .filter(|v| !to_delete.contains(v))
        .collect()
}

/// `findMapInSliceBasedOnKeyValue`: the first element whose `key` is `value`.
fn find_map_in_slice_based_on_key_value(
    list: &[Value],
    key: &str,
    value: &Value,
) -> Result<Option<(usize, Map<String, Value>)>> {
    for (i, v) in list.iter().enumerate() {
        let Some(m) = v.as_object() else {
            return Err(bad(format!("value for key {i} is not a map.")));
        };
        if m.get(key) == Some(value) {
            return Ok(Some((i, m.clone())));
        }
    }
    Ok(None)
}

/// `deduplicateScalars`, including its order: a duplicate is replaced by the last element.
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut length = s.len() as isize - 1;
    let mut i: isize = 0;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if s[i as usize] == s[j as usize] {
                s.swap(j as usize, length as usize);
                s.truncate(length as usize);
                length -= 1;
                j -= 1;
            }
            j += 1;
        }
        i += 1;
    }
    s
}

/// `extractToDeleteItems`: (elements kept, elements carrying `$patch: delete`).
fn extract_to_delete_items(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for v in list {
        let m = v.as_object().ok_or_else(|| err_bad_arg_type("map", &v))?;
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

/// `index`: position of `v` in `list`, by merge key value for maps and by value otherwise.
fn index(list: &[Value], v: &Value, merge_key: Option<&str>, kind: ElemKind) -> Option<usize> {
    let key = |x: &Value| -> Option<Value> {
        match (kind, merge_key) {
            (ElemKind::Map, Some(mk)) => x.get(mk).cloned(),
            (ElemKind::Map, None) => None,
            _ => Some(x.clone()),
        }
    };
    let want = key(v);
    list.iter().position(|x| key(x) == want)
}

/// `normalizeElementOrder`: sorts the patch items by `patch_order` and the server-only items
/// by `server_order`, then interleaves them ([`merge_sorted_slice`]).
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
    kind: ElemKind,
) -> Result<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// `normalizeSliceOrder`: a stable sort of `to_sort` by position in `order`; deletions last.
///
/// NOTE: upstream's comparator is not a strict order when an element is missing from `order`
/// (it answers "less" for both); that never happens for the partitions it is called with, and
/// here such elements sort first.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: Option<&str>,
    kind: ElemKind,
) -> Result<Vec<Value>> {
    let (mut to_sort, to_delete) = if kind == ElemKind::Map {
        let mk = merge_key.unwrap_or_default();
        for v in to_sort.iter().chain(order) {
            let m = v.as_object().ok_or_else(|| err_bad_arg_type("map", v))?;
            if !m.contains_key(mk) {
                return Err(err_no_merge_key(m, mk));
            }
        }
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    to_sort.sort_by_key(|v| index(order, v, merge_key, kind).map_or(-1, |i| i as isize));
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// `mergeSortedSlice`: inserts each item of `left` (server-only items) into `right` (patch
/// items) before the first right item it precedes in `server_order`; relative order within each
/// list is kept.
///
/// Worked example: live `[a, b, c]`, patch items `[c, x]`, server-only `[a, b]`. `a` vs `c`: both
/// live, `a` first → `a`; `b` vs `c` → `b`; then the rest of right: `[a, b, c, x]`.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: Option<&str>,
    kind: ElemKind,
) -> Vec<Value> {
    let less = |l: &Value, r: &Value| -> bool {
        match (
            index(server_order, l, merge_key, kind),
            index(server_order, r, merge_key, kind),
        ) {
            (Some(li), Some(ri)) => li < ri,
            _ => false,
        }
    };
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.next()),
            (None, Some(_)) => out.extend(right.next()),
            (Some(l), Some(r)) => {
                if less(l, r) {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    out
}

/// Go's `reflect.Kind` name of a decoded JSON value, for error messages.
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "invalid",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "slice",
        Value::Object(_) => "map",
    }
}

/// Go's `%v` of a decoded JSON value (`map[name:web]`, `[1 2]`), for error messages.
fn go_fmt(v: &Value) -> String {
    let mut s = String::new();
    go_fmt_into(&mut s, v);
    s
}

fn go_fmt_into(s: &mut String, v: &Value) {
    match v {
        Value::Null => s.push_str("<nil>"),
        Value::Bool(b) => {
            let _ = write!(s, "{b}");
        }
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or_default();
            // strconv.FormatFloat(f, 'g', -1, 64): exponent form from 1e21 up or below 1e-4.
            if f != 0.0 && (f.abs() >= 1e21 || f.abs() < 1e-4) {
                let e = format!("{f:e}");
                let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
                let x: i32 = x.parse().unwrap_or(0);
                let _ = write!(s, "{m}e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs());
            } else {
                let _ = write!(s, "{f}");
            }
        }
        Value::String(t) => s.push_str(t),
        Value::Array(a) => {
            s.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                go_fmt_into(s, x);
            }
            s.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            s.push_str("map[");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(k);
                s.push(':');
                go_fmt_into(s, &m[k.as_str()]);
            }
            s.push(']');
        }
    }
}

#[cfg(test)]
mod tests;

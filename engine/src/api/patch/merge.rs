//! JSON merge patch (RFC 7386): `null` deletes a key, objects merge, everything else replaces.
//! See [`merge_patch`]; [`create_merge_patch`] is its inverse (the diff).

use serde_json::{Map, Value};

/// Applies the merge patch `patch` to `target` (RFC 7386 §2, `MergePatch`), as
/// `github.com/evanphx/json-patch`'s `MergePatch` does for `application/merge-patch+json`.
///
/// A patch that is not an object replaces the whole target; `null` members delete keys, also
/// inside members that did not exist before (they are never stored as `null`).
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    for (k, v) in p {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = merge_patch(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

/// The merge patch that turns `original` into `modified` (the RFC 7386 diff, as
/// `jsonpatch.CreateMergePatch`): removed keys become `null`, changed objects recurse, anything
/// else that differs is sent whole.
///
/// NOTE: a merge patch cannot store a `null` value, so a `modified` holding `null` members
/// round-trips to the object without them.
pub fn create_merge_patch(original: &Value, modified: &Value) -> Value {
    match (original, modified) {
        (Value::Object(o), Value::Object(m)) => {
            let mut patch = Map::new();
            for k in o.keys() {
                if !m.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            for (k, mv) in m {
                match o.get(k) {
                    Some(ov) if ov == mv => {}
                    Some(ov @ Value::Object(_)) if mv.is_object() => {
                        patch.insert(k.clone(), create_merge_patch(ov, mv));
                    }
                    _ => {
                        patch.insert(k.clone(), mv.clone());
                    }
                }
            }
            Value::Object(patch)
        }
        _ => modified.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn check(original: Value, patch: Value, expected: Value) {
        pretty_assertions::assert_eq!(merge_patch(&original, &patch), expected);
    }

    /// The examples of RFC 7386 Appendix A.
    #[test]
    fn rfc7386_appendix_a() {
        check(json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"}));
        check(json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"}));
        check(json!({"a":"b"}), json!({"a":null}), json!({}));
        check(
            json!({"a":"b","b":"c"}),
            json!({"a":null}),
            json!({"b":"c"}),
        );
        check(json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"}));
        check(json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]}));
        check(
            json!({"a":{"b":"c"}}),
            json!({"a":{"b":"d","c":null}}),
            json!({"a":{"b":"d"}}),
        );
        check(json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]}));
        check(json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"]));
        check(json!({"a":"b"}), json!(["c"]), json!(["c"]));
        check(json!({"a":"foo"}), json!(null), json!(null));
        check(json!({"a":"foo"}), json!("bar"), json!("bar"));
        check(json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1}));
        check(json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"}));
        check(
            json!({}),
            json!({"a":{"bb":{"ccc":null}}}),
            json!({"a":{"bb":{}}}),
        );
    }

    #[test]
    fn lists_are_replaced_not_merged() {
        check(
            json!({"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b"}]}}),
            json!({"spec":{"containers":[{"name":"a","image":"a:2"}]}}),
            json!({"spec":{"containers":[{"name":"a","image":"a:2"}]}}),
        );
    }

    #[test]
    fn create_merge_patch_examples() {
        assert_eq!(
            create_merge_patch(
                &json!({"a":1,"b":{"c":2,"d":3},"e":[1]}),
                &json!({"b":{"c":2,"d":4},"e":[1,2],"f":null})
            ),
            json!({"a":null,"b":{"d":4},"e":[1,2],"f":null})
        );
        assert_eq!(
            create_merge_patch(&json!({"a":1}), &json!({"a":1})),
            json!({})
        );
    }

    /// JSON without `null` members (a merge patch cannot carry them, see the NOTE above).
    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            (-100i64..100).prop_map(|n| json!(n)),
            "[a-c]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[a-d]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_object() -> impl Strategy<Value = Value> {
        prop::collection::btree_map("[a-d]", arb_json(), 0..5)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    proptest! {
        /// For any objects a and b, merge-patching a with the diff from a to b gives b.
        #[test]
        fn create_then_apply_round_trips(a in arb_object(), b in arb_object()) {
            let p = create_merge_patch(&a, &b);
            prop_assert_eq!(merge_patch(&a, &p), b);
        }

        /// Applying a merge patch twice is the same as applying it once.
        #[test]
        fn merge_patch_is_idempotent(a in arb_object(), p in arb_object()) {
            let once = merge_patch(&a, &p);
            prop_assert_eq!(merge_patch(&once, &p), once.clone());
        }
    }
}

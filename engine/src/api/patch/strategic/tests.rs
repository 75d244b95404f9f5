//! Strategic merge patch cases: upstream's `patch_test.go` cases over its test struct
//! `mergeItem`, then built-in kinds.

use super::*;
use crate::api::patch::meta::{Field, ListType, Type, schema_for};
use serde_json::json;

/// Upstream's test struct `mergeItem` (`strategicpatch/patch_test.go`), with the tags that
/// matter.
static MERGE_ITEM: Type = Type {
    name: "mergeItem",
    atomic: false,
    fields: &[
        Field {
            name: "mergingList",
            strategy: Strategy::MERGE,
            merge_key: Some("name"),
            list_type: Some(ListType::Map(&["name"])),
            elem: Some(&MERGE_ITEM),
        },
        Field {
            name: "mergingIntList",
            strategy: Strategy::MERGE,
            merge_key: None,
            list_type: Some(ListType::Set),
            elem: None,
        },
        Field {
            name: "replacingItem",
            strategy: Strategy {
                merge: false,
                retain_keys: false,
                replace: true,
            },
            merge_key: None,
            list_type: None,
            elem: None,
        },
        Field {
            name: "retainKeysMap",
            strategy: Strategy::RETAIN_KEYS,
            merge_key: None,
            list_type: None,
            elem: Some(&MERGE_ITEM),
        },
        Field {
            name: "retainKeysMergingList",
            strategy: Strategy::MERGE_RETAIN_KEYS,
            merge_key: Some("name"),
            list_type: Some(ListType::Map(&["name"])),
            elem: Some(&MERGE_ITEM),
        },
    ],
};

fn item() -> Schema {
    Schema::of(&MERGE_ITEM)
}

fn check(original: Value, patch: Value, expected: Value) {
    let got = strategic_merge_patch(&original, &patch, item())
        .unwrap_or_else(|e| panic!("patch {patch} failed: {e}"));
    pretty_assertions::assert_eq!(got, expected, "patch {}", patch);
}

fn check_err(original: Value, patch: Value, message: &str) {
    match strategic_merge_patch(&original, &patch, item()) {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => assert_eq!(e.to_string(), message),
    }
}

#[test]
fn maps_merge_and_null_deletes() {
    check(
        json!({"name":"1","value":"1","other":"a"}),
        json!({"value":"2","other":null,"new":"x"}),
        json!({"name":"1","value":"2","new":"x"}),
    );
    // A null for a key that is not there is dropped (IgnoreUnmatchedNulls).
    check(
        json!({}),
        json!({"a":null,"b":{"c":null,"d":1}}),
        json!({"b":{"d":1}}),
    );
}

#[test]
fn merging_list_merges_by_name() {
    check(
        json!({"mergingList":[{"name":"1","value":"1"},{"name":"2","value":"2"}]}),
        json!({"mergingList":[{"name":"1","value":"a","other":"b"}]}),
        json!({"mergingList":[{"name":"1","value":"a","other":"b"},{"name":"2","value":"2"}]}),
    );
}

/// Without `$setElementOrder`, new items come before the server-only items: upstream's
/// `mergeSortedSlice` only places a server item first when both are in the live list.
#[test]
fn new_items_without_set_element_order_come_first() {
    check(
        json!({"mergingList":[{"name":"1"},{"name":"2"}]}),
        json!({"mergingList":[{"name":"3"}]}),
        json!({"mergingList":[{"name":"3"},{"name":"1"},{"name":"2"}]}),
    );
    check(
        json!({"mergingIntList":[1,2]}),
        json!({"mergingIntList":[3]}),
        json!({"mergingIntList":[3,1,2]}),
    );
}

/// `patch_test.go`: "add a new item to a list of maps with $setElementOrder".
#[test]
fn set_element_order_places_items() {
    check(
        json!({"mergingList":[{"name":"1"},{"name":"2"}]}),
        json!({"$setElementOrder/mergingList":[{"name":"1"},{"name":"3"},{"name":"2"}],
               "mergingList":[{"name":"3","value":"3"}]}),
        json!({"mergingList":[{"name":"1"},{"name":"3","value":"3"},{"name":"2"}]}),
    );
    check(
        json!({"mergingIntList":[1,2]}),
        json!({"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3]}),
        json!({"mergingIntList":[1,2,3]}),
    );
    // Reordering alone, with no patch list.
    check(
        json!({"mergingList":[{"name":"1"},{"name":"2"},{"name":"3"}]}),
        json!({"$setElementOrder/mergingList":[{"name":"3"},{"name":"2"},{"name":"1"}]}),
        json!({"mergingList":[{"name":"3"},{"name":"2"},{"name":"1"}]}),
    );
    // A server-only item goes before the first patch item it precedes in the live list:
    // `2` precedes `3` live, so it comes first (upstream's `mergeSortedSlice`).
    check(
        json!({"mergingList":[{"name":"1"},{"name":"2"},{"name":"3"}]}),
        json!({"$setElementOrder/mergingList":[{"name":"3"},{"name":"1"}],
               "mergingList":[{"name":"3","v":1}]}),
        json!({"mergingList":[{"name":"2"},{"name":"3","v":1},{"name":"1"}]}),
    );
}

#[test]
fn set_element_order_errors() {
    check_err(
        json!({"mergingList":[{"name":"1"},{"name":"2"}]}),
        json!({"$setElementOrder/mergingList":[{"name":"1"}],
               "mergingList":[{"name":"2","v":1}]}),
        "the order in patch list:\n[map[name:2 v:1]]\n doesn't match $setElementOrder list:\n[map[name:1]]",
    );
    check_err(
        json!({}),
        json!({"$setElementOrder":[1]}),
        "invalid patch format of setElementOrder list",
    );
    check_err(
        json!({}),
        json!({"$setElementOrder/mergingIntList":"x"}),
        "expected a slice, but received a string",
    );
}

/// `patch_test.go`: "delete one item from a merging list" and "delete all duplicate entries".
#[test]
fn patch_delete_in_a_list() {
    check(
        json!({"mergingList":[{"name":"1","value":"1"},{"name":"2","value":"2"},{"name":"1","value":"x"}]}),
        json!({"mergingList":[{"name":"1","$patch":"delete"}]}),
        json!({"mergingList":[{"name":"2","value":"2"}]}),
    );
    // A deletion for an item that does not exist is a no-op.
    check(
        json!({"mergingList":[{"name":"2"}]}),
        json!({"mergingList":[{"name":"9","$patch":"delete"}]}),
        json!({"mergingList":[{"name":"2"}]}),
    );
    // Into a missing list, directives are dropped.
    check(
        json!({}),
        json!({"mergingList":[{"name":"1","$patch":"delete"},{"name":"2"}]}),
        json!({"mergingList":[{"name":"2"}]}),
    );
}

#[test]
fn patch_replace_in_a_list_and_a_map() {
    check(
        json!({"mergingList":[{"name":"1"},{"name":"2"}]}),
        json!({"mergingList":[{"name":"3","value":"3"},{"$patch":"replace"}]}),
        json!({"mergingList":[{"name":"3","value":"3"}]}),
    );
    check(
        json!({"simpleMap":{"a":"1","b":"2"}}),
        json!({"simpleMap":{"$patch":"replace","c":"3"}}),
        json!({"simpleMap":{"c":"3"}}),
    );
    // `$patch: delete` on a map empties it (upstream returns an empty map, not a deletion).
    check(
        json!({"simpleMap":{"a":"1"},"other":1}),
        json!({"simpleMap":{"$patch":"delete"}}),
        json!({"simpleMap":{},"other":1}),
    );
    // The whole document.
    check(
        json!({"a":1,"b":2}),
        json!({"$patch":"replace","c":3}),
        json!({"c":3}),
    );
}

#[test]
fn replace_strategy_replaces_a_map() {
    check(
        json!({"replacingItem":{"a":1,"b":2}}),
        json!({"replacingItem":{"c":3}}),
        json!({"replacingItem":{"c":3}}),
    );
}

#[test]
fn directive_errors() {
    check_err(
        json!({"mergingList":[{"name":"1"}]}),
        json!({"mergingList":[{"name":"1","$patch":"frob"}]}),
        "unknown patch type: frob in map: map[$patch:frob name:1]",
    );
    check_err(
        json!({"a":{}}),
        json!({"a":{"$patch":"frob"}}),
        "unknown patch type: frob in map: map[$patch:frob]",
    );
    check_err(
        json!({"mergingList":[{"name":"1"}]}),
        json!({"mergingList":[{"$patch":"merge"}]}),
        "merging lists cannot yet be specified in the patch",
    );
    check_err(
        json!({"mergingList":[{"name":"1"}]}),
        json!({"mergingList":[{"value":"1"}]}),
        "map: map[value:1] does not contain declared merge key: name",
    );
    check_err(
        json!({"mergingList":[{"name":"1"}]}),
        json!({"mergingList":[{"name":"2","$patch":"delete"},{"value":"x"}]}),
        "map: map[value:x] does not contain declared merge key: name",
    );
    check_err(
        json!({"mergingList":[{"name":"1"}]}),
        json!({"mergingList":["x"]}),
        "list element types are not identical: [[map[name:1]] [x]]",
    );
    check_err(
        json!({"mergingIntList":[[1]]}),
        json!({"mergingIntList":[[2]]}),
        "lists of lists are not supported",
    );
    check_err(json!({}), json!([1]), "invalid JSON document");
}

/// `patch_test.go`: the parallel deletion list for primitives.
#[test]
fn delete_from_primitive_list() {
    check(
        json!({"mergingIntList":[1,2,3]}),
        json!({"$deleteFromPrimitiveList/mergingIntList":[2,9]}),
        json!({"mergingIntList":[1,3]}),
    );
    // Together with additions and an order.
    check(
        json!({"mergingIntList":[1,2,3]}),
        json!({"$setElementOrder/mergingIntList":[1,3,4],
               "$deleteFromPrimitiveList/mergingIntList":[2],
               "mergingIntList":[4]}),
        json!({"mergingIntList":[1,3,4]}),
    );
    // Nothing to delete from.
    check(
        json!({}),
        json!({"$deleteFromPrimitiveList/mergingIntList":[2]}),
        json!({}),
    );
    check_err(
        json!({}),
        json!({"$deleteFromPrimitiveList":[2]}),
        "invalid patch format of primitive list",
    );
}

#[test]
fn primitive_merge_list_is_a_union() {
    check(
        json!({"mergingIntList":[1,2]}),
        json!({"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[2,3]}),
        json!({"mergingIntList":[1,2,3]}),
    );
}

#[test]
fn lists_without_strategy_are_replaced() {
    check(
        json!({"nonMergingList":[{"name":"1","value":"1"},{"name":"2"}]}),
        json!({"nonMergingList":[{"name":"1","value":"2"}]}),
        json!({"nonMergingList":[{"name":"1","value":"2"}]}),
    );
    check(
        json!({"nonMergingIntList":[1,2]}),
        json!({"nonMergingIntList":[3]}),
        json!({"nonMergingIntList":[3]}),
    );
}

/// `patch_test.go`: retainKeys cases.
#[test]
fn retain_keys() {
    check(
        json!({"retainKeysMap":{"name":"foo","value":"bar","other":"x"}}),
        json!({"retainKeysMap":{"$retainKeys":["name","value"],"value":"baz"}}),
        json!({"retainKeysMap":{"name":"foo","value":"baz"}}),
    );
    // Without the directive a retainKeys field merges like any map.
    check(
        json!({"retainKeysMap":{"name":"foo","other":"x"}}),
        json!({"retainKeysMap":{"value":"baz"}}),
        json!({"retainKeysMap":{"name":"foo","other":"x","value":"baz"}}),
    );
    // In list elements merged by name.
    check(
        json!({"retainKeysMergingList":[{"name":"1","a":1,"b":2},{"name":"2","a":1}]}),
        json!({"retainKeysMergingList":[{"$retainKeys":["name","c"],"name":"1","c":3}]}),
        json!({"retainKeysMergingList":[{"name":"1","c":3},{"name":"2","a":1}]}),
    );
    check_err(
        json!({"retainKeysMap":{"name":"foo"}}),
        json!({"retainKeysMap":{"$retainKeys":["name"],"value":"baz"}}),
        "invalid patch format of retainKeys",
    );
    check_err(
        json!({"retainKeysMap":{"name":"foo"}}),
        json!({"retainKeysMap":{"$retainKeys":"name"}}),
        "invalid patch format of retainKeys",
    );
}

#[test]
fn nested_lists_use_the_element_schema() {
    check(
        json!({"mergingList":[{"name":"1","mergingList":[{"name":"a","v":1},{"name":"b"}]}]}),
        json!({"mergingList":[{"name":"1","mergingList":[{"name":"a","v":2}]}]}),
        json!({"mergingList":[{"name":"1","mergingList":[{"name":"a","v":2},{"name":"b"}]}]}),
    );
}

#[test]
fn type_changes_replace() {
    check(
        json!({"a":{"b":1},"c":[1]}),
        json!({"a":"x","c":{"d":1}}),
        json!({"a":"x","c":{"d":1}}),
    );
}

// ---- built-in kinds -------------------------------------------------------------------------

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "finalizers": ["a"], "labels": {"app": "web"},
                     "ownerReferences": [{"uid": "u1", "name": "o1", "kind": "X", "apiVersion": "v1"}]},
        "spec": {
            "replicas": 3,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.0", "args": ["-a"],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "sidecar", "image": "envoy:1"}
                ],
                "volumes": [{"name": "data", "emptyDir": {}}]
            }}
        }
    })
}

fn check_kind(kind: (&str, &str), original: Value, patch: Value, expected: Value) {
    let schema = schema_for(kind.0, kind.1).expect("a built-in kind");
    let got = strategic_merge_patch(&original, &patch, schema)
        .unwrap_or_else(|e| panic!("patch {patch} failed: {e}"));
    pretty_assertions::assert_eq!(got, expected);
}

const DEPLOYMENT: (&str, &str) = ("apps/v1", "Deployment");

#[test]
fn kubectl_set_image_patch() {
    let mut expected = deployment();
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.1");
    check_kind(
        DEPLOYMENT,
        deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.1"}]}}}}),
        expected,
    );
}

#[test]
fn env_merges_by_name_and_args_are_replaced() {
    let mut expected = deployment();
    let c = &mut expected["spec"]["template"]["spec"]["containers"][0];
    c["env"] = json!([{"name": "C", "value": "3"}, {"name": "A", "value": "9"}, {"name": "B", "value": "2"}]);
    c["args"] = json!(["-b"]);
    check_kind(
        DEPLOYMENT,
        deployment(),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"web","args":["-b"],
            "env":[{"name":"C","value":"3"},{"name":"A","value":"9"}]}]}}}}),
        expected,
    );
}

#[test]
fn delete_a_container_and_add_a_port() {
    let mut expected = deployment();
    let cs = &mut expected["spec"]["template"]["spec"]["containers"];
    *cs = json!([{"name": "web", "image": "nginx:1.0", "args": ["-a"],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "ports": [{"containerPort": 443}, {"containerPort": 80, "protocol": "TCP"}]}]);
    check_kind(
        DEPLOYMENT,
        deployment(),
        json!({"spec":{"template":{"spec":{"containers":[
            {"name":"sidecar","$patch":"delete"},
            {"name":"web","ports":[{"containerPort":443}]}]}}}}),
        expected,
    );
}

/// What `kubectl apply` (client side) sends to switch a Deployment to `Recreate`.
#[test]
fn deployment_strategy_retain_keys() {
    let mut expected = deployment();
    expected["spec"]["strategy"] = json!({"type": "Recreate"});
    check_kind(
        DEPLOYMENT,
        deployment(),
        json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}),
        expected,
    );
}

#[test]
fn volume_source_switch_with_retain_keys() {
    let mut expected = deployment();
    expected["spec"]["template"]["spec"]["volumes"] =
        json!([{"name": "data", "configMap": {"name": "cm"}}]);
    check_kind(
        DEPLOYMENT,
        deployment(),
        json!({"spec":{"template":{"spec":{"volumes":[
            {"$retainKeys":["configMap","name"],"name":"data","configMap":{"name":"cm"}}]}}}}),
        expected,
    );
}

#[test]
fn finalizers_union_and_owner_references_by_uid() {
    let mut expected = deployment();
    expected["metadata"]["finalizers"] = json!(["b", "a"]);
    expected["metadata"]["ownerReferences"] = json!([
        {"uid": "u1", "name": "renamed", "kind": "X", "apiVersion": "v1"}
    ]);
    check_kind(
        DEPLOYMENT,
        deployment(),
        json!({"metadata":{"finalizers":["b","a"],"ownerReferences":[{"uid":"u1","name":"renamed"}]}}),
        expected,
    );
    let mut expected = deployment();
    expected["metadata"]["finalizers"] = json!([]);
    check_kind(
        DEPLOYMENT,
        deployment(),
        json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}),
        expected,
    );
}

#[test]
fn pod_conditions_merge_by_type() {
    check_kind(
        ("v1", "Pod"),
        json!({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}]}}),
        json!({"status":{"conditions":[{"type":"Ready","status":"True"}]}}),
        json!({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}]}}),
    );
}

#[test]
fn service_ports_merge_by_port() {
    check_kind(
        ("v1", "Service"),
        json!({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}}),
        json!({"spec":{"ports":[{"port":80,"targetPort":9090}]}}),
        json!({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}}),
    );
}

#[test]
fn stateful_set_volume_claim_templates_are_replaced() {
    check_kind(
        ("apps/v1", "StatefulSet"),
        json!({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}}),
        json!({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"c"}}]}}),
        json!({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"c"}}]}}),
    );
}

#[test]
fn go_fmt_matches_go() {
    assert_eq!(
        go_fmt(&json!({"b":[1,"x",true],"a":null})),
        "map[a:<nil> b:[1 x true]]"
    );
    assert_eq!(go_fmt(&json!(1.5)), "1.5");
    assert_eq!(go_fmt(&json!(1e21)), "1e+21");
}

mod properties {
    use super::{Schema, Value, item, json, strategic_merge_patch};
    use crate::api::patch::merge::merge_patch;
    use proptest::prelude::*;

    /// JSON without `$` keys and without `null` (nulls are added as object members below).
    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            (-5i64..5).prop_map(|n| json!(n)),
            "[a-c]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[a-d]", prop::option::of(inner), 0..4).prop_map(|m| {
                    Value::Object(
                        m.into_iter()
                            .map(|(k, v)| (k, v.unwrap_or(Value::Null)))
                            .collect(),
                    )
                }),
            ]
        })
    }

    fn arb_object() -> impl Strategy<Value = Value> {
        arb_json().prop_map(|v| match v {
            Value::Object(_) => v,
            other => json!({ "a": other }),
        })
    }

    /// Nulls only as object members outside lists: where RFC 7386 and upstream's
    /// `discardNullValuesFromPatch` agree.
    fn no_nulls_in_lists(v: &Value, in_list: bool) -> bool {
        match v {
            Value::Null => !in_list,
            Value::Array(a) => a.iter().all(|x| no_nulls_in_lists(x, true)),
            Value::Object(m) => m.values().all(|x| no_nulls_in_lists(x, in_list)),
            _ => true,
        }
    }

    proptest! {
        /// Without patch metadata and directives, a strategic merge patch is a JSON merge patch.
        #[test]
        fn without_metadata_strategic_is_merge(
            a in arb_object().prop_filter("no nulls in the live object", |v| !v.to_string().contains("null")),
            p in arb_object().prop_filter("nulls outside lists only", |v| no_nulls_in_lists(v, false)),
        ) {
            let smp = strategic_merge_patch(&a, &p, Schema::UNKNOWN).unwrap();
            prop_assert_eq!(smp, merge_patch(&a, &p));
        }

        /// Patching with the live object itself changes nothing, whatever the metadata.
        #[test]
        fn self_patch_is_identity_for_named_lists(names in prop::collection::btree_set("[a-e]", 0..5), v in 0i64..3) {
            let list: Vec<Value> = names.iter().map(|n| json!({"name": n, "v": v})).collect();
            let live = json!({"mergingList": list, "mergingIntList": [1, 2, 3]});
            prop_assert_eq!(strategic_merge_patch(&live, &live, item()).unwrap(), live);
        }
    }
}

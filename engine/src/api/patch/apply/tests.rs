//! Server-side apply cases, after structured-merge-diff's `merge/*_test.go` and the apiserver's
//! `fieldmanager` tests: apply twice, conflicts between managers, force, updates after applies.

use super::*;
use serde_json::json;

const DEPLOY: TypeRef<'static> = TypeRef {
    api_version: "apps/v1",
    kind: "Deployment",
    openapi_schema: None,
};
const T1: &str = "2026-01-01T00:00:00Z";
const T2: &str = "2026-01-01T00:01:00Z";

fn config(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]}
            }
        }
    })
}

fn apply_ok(live: Option<&Value>, cfg: &Value, manager: &str, force: bool, now: &str) -> Value {
    apply(DEPLOY, live, cfg, manager, force, now)
        .unwrap_or_else(|e| panic!("apply by {manager} failed: {e}"))
}

fn entry<'a>(obj: &'a Value, manager: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
}

fn owns(obj: &Value, manager: &str, path: &[PathElement]) -> bool {
    entry(obj, manager)
        .and_then(|e| FieldSet::from_fields_v1(&e["fieldsV1"]))
        .is_some_and(|s| s.contains(path))
}

fn f(name: &str) -> PathElement {
    PathElement::Field(name.into())
}

fn replicas() -> Vec<PathElement> {
    vec![f("spec"), f("replicas")]
}

#[test]
fn apply_creates_and_records_fields_v1_as_upstream() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "kubectl", false, T1);
    assert_eq!(obj["spec"]["replicas"], 3);
    let e = entry(&obj, "kubectl").expect("an entry for kubectl");
    pretty_assertions::assert_eq!(
        e,
        &json!({
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T1,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                            ".": {}, "f:image": {}, "f:name": {}
                        }}}
                    }
                }
            }
        })
    );
}

#[test]
fn applying_again_without_a_field_removes_it() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "kubectl", false, T1);
    let mut cfg = config(3, "nginx:1");
    cfg["metadata"]["labels"]["tier"] = json!("front");
    let obj = apply_ok(Some(&obj), &cfg, "kubectl", false, T2);
    assert_eq!(obj["metadata"]["labels"]["tier"], "front");
    // Drop the label and replicas: both go, since nobody else owns them.
    let mut cfg = config(3, "nginx:1");
    cfg["spec"].as_object_mut().unwrap().remove("replicas");
    let obj = apply_ok(Some(&obj), &cfg, "kubectl", false, T2);
    assert_eq!(obj["metadata"]["labels"], json!({"app": "web"}));
    assert!(obj["spec"].get("replicas").is_none(), "{obj}");
    assert!(!owns(&obj, "kubectl", &replicas()));
    assert_eq!(entry(&obj, "kubectl").unwrap()["time"], T2);
}

#[test]
fn a_no_op_apply_changes_nothing_not_even_the_time() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "kubectl", false, T1);
    let again = apply_ok(Some(&obj), &config(3, "nginx:1"), "kubectl", false, T2);
    assert_eq!(again, obj);
    assert_eq!(entry(&again, "kubectl").unwrap()["time"], T1);
    // A change stamps the new time.
    let changed = apply_ok(Some(&obj), &config(4, "nginx:1"), "kubectl", false, T2);
    assert_eq!(entry(&changed, "kubectl").unwrap()["time"], T2);
}

#[test]
fn dropping_a_container_removes_the_element() {
    let mut cfg = config(3, "nginx:1");
    cfg["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "web", "image": "nginx:1"}, {"name": "log", "image": "busybox"}]);
    let obj = apply_ok(None, &cfg, "kubectl", false, T1);
    let obj = apply_ok(Some(&obj), &config(3, "nginx:1"), "kubectl", false, T2);
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx:1"}])
    );
}

#[test]
fn two_appliers_with_different_values_conflict() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "alice", false, T1);
    let err = apply(DEPLOY, Some(&obj), &config(5, "nginx:1"), "bob", false, T2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas"
    );
    assert_eq!(err.code(), 409);
    let api: crate::api::ApiError = err.into();
    assert_eq!(api.causes.len(), 1);
    assert_eq!(api.causes[0].field, ".spec.replicas");
    assert_eq!(api.causes[0].detail, "conflict with \"alice\"");
}

#[test]
fn same_values_are_shared_and_survive_one_owner_leaving() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "alice", false, T1);
    let obj = apply_ok(Some(&obj), &config(3, "nginx:1"), "bob", false, T2);
    assert!(owns(&obj, "alice", &replicas()) && owns(&obj, "bob", &replicas()));
    // Alice stops applying replicas: Bob still owns it, so it stays.
    let mut cfg = config(3, "nginx:1");
    cfg["spec"].as_object_mut().unwrap().remove("replicas");
    let obj = apply_ok(Some(&obj), &cfg, "alice", false, T2);
    assert_eq!(obj["spec"]["replicas"], 3);
    assert!(!owns(&obj, "alice", &replicas()) && owns(&obj, "bob", &replicas()));
}

#[test]
fn force_takes_ownership() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "alice", false, T1);
    let obj = apply_ok(Some(&obj), &config(5, "nginx:2"), "bob", true, T2);
    assert_eq!(obj["spec"]["replicas"], 5);
    assert!(owns(&obj, "bob", &replicas()));
    assert!(!owns(&obj, "alice", &replicas()));
    // Alice keeps what did not conflict.
    assert!(owns(&obj, "alice", &[f("metadata"), f("labels"), f("app")]));
    // Now Alice conflicts with Bob.
    let err = apply(
        DEPLOY,
        Some(&obj),
        &config(3, "nginx:1"),
        "alice",
        false,
        T2,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"bob\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
    );
}

#[test]
fn update_then_apply_conflicts_with_the_updater() {
    // `kubectl create` then `kubectl apply --server-side` with other replicas.
    let created =
        update_managed_fields(None, &config(3, "nginx:1"), "kubectl-client-side-apply", T1);
    let e = entry(&created, "kubectl-client-side-apply").unwrap();
    assert_eq!(e["operation"], "Update");
    assert_eq!(e["time"], T1);
    let err = apply(
        DEPLOY,
        Some(&created),
        &config(5, "nginx:1"),
        "kubectl",
        false,
        T2,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1 at {T1}: .spec.replicas"
        )
    );
    // The same values do not conflict.
    apply_ok(Some(&created), &config(3, "nginx:1"), "kubectl", false, T2);
}

#[test]
fn an_update_takes_ownership_of_what_it_changes() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "kubectl", false, T1);
    // `kubectl scale` (an update by another manager) changes replicas.
    let mut scaled = obj.clone();
    scaled["spec"]["replicas"] = json!(7);
    let scaled = update_managed_fields(Some(&obj), &scaled, "kubectl-scale", T2);
    assert!(owns(&scaled, "kubectl-scale", &replicas()));
    assert!(!owns(&scaled, "kubectl", &replicas()));
    // The image stays with the applier.
    let image = vec![
        f("spec"),
        f("template"),
        f("spec"),
        f("containers"),
        PathElement::Key(vec![("name".into(), "\"web\"".into())]),
        f("image"),
    ];
    assert!(owns(&scaled, "kubectl", &image));
    // Re-applying the old replicas now conflicts with the scaler.
    let err = apply(
        DEPLOY,
        Some(&scaled),
        &config(3, "nginx:1"),
        "kubectl",
        false,
        T2,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("conflict with \"kubectl-scale\" using apps/v1"),
        "{err}"
    );
}

#[test]
fn an_update_that_removes_a_field_disowns_it() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "kubectl", false, T1);
    let mut edited = obj.clone();
    edited["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("app");
    let edited = update_managed_fields(Some(&obj), &edited, "kubectl-edit", T2);
    assert!(!owns(
        &edited,
        "kubectl",
        &[f("metadata"), f("labels"), f("app")]
    ));
    // The now empty map is a leaf the editor set (upstream shows such leaves as `f:labels: {}`).
    assert!(owns(&edited, "kubectl-edit", &[f("metadata"), f("labels")]));
    assert!(!owns(&edited, "kubectl-edit", &replicas()));
}

#[test]
fn an_update_with_no_change_keeps_the_entries() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "kubectl", false, T1);
    let again = update_managed_fields(Some(&obj), &obj, "someone", T2);
    assert_eq!(again, obj);
}

#[test]
fn first_apply_to_an_unmanaged_object_gives_existing_fields_to_before_first_apply() {
    let live = config(3, "nginx:1");
    let err = apply(
        DEPLOY,
        Some(&live),
        &config(4, "nginx:1"),
        "kubectl",
        false,
        T1,
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"before-first-apply\""), "{err}");
    let obj = apply_ok(Some(&live), &config(3, "nginx:1"), "kubectl", false, T1);
    assert!(owns(&obj, "kubectl", &replicas()) && owns(&obj, BEFORE_FIRST_APPLY, &replicas()));
}

#[test]
fn associative_lists_merge_by_key_and_keep_other_managers_items() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "alice", false, T1);
    let mut cfg = config(3, "nginx:1");
    cfg["spec"]["template"]["spec"]["containers"] = json!([{"name": "sidecar", "image": "envoy"}]);
    let obj = apply_ok(Some(&obj), &cfg, "bob", false, T2);
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx:1"}, {"name": "sidecar", "image": "envoy"}])
    );
}

#[test]
fn container_ports_are_keyed_with_the_default_protocol() {
    let mut cfg = config(3, "nginx:1");
    cfg["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
    let obj = apply_ok(None, &cfg, "kubectl", false, T1);
    let fields = &entry(&obj, "kubectl").unwrap()["fieldsV1"];
    let ports = &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:ports"];
    assert_eq!(
        ports,
        &json!({"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}})
    );
    // The defaulted live object matches the same element.
    let mut live = obj.clone();
    live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("TCP");
    let obj = apply_ok(Some(&live), &cfg, "kubectl", false, T2);
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
}

#[test]
fn sets_are_owned_by_value() {
    let mut cfg = config(3, "nginx:1");
    cfg["metadata"]["finalizers"] = json!(["example.com/a"]);
    let obj = apply_ok(None, &cfg, "alice", false, T1);
    assert_eq!(
        entry(&obj, "alice").unwrap()["fieldsV1"]["f:metadata"]["f:finalizers"],
        json!({"v:\"example.com/a\"": {}})
    );
    let mut cfg = config(3, "nginx:1");
    cfg["metadata"]["finalizers"] = json!(["example.com/b"]);
    let obj = apply_ok(Some(&obj), &cfg, "bob", false, T2);
    assert_eq!(
        obj["metadata"]["finalizers"],
        json!(["example.com/a", "example.com/b"])
    );
}

#[test]
fn atomic_lists_are_replaced_and_owned_whole() {
    let mut cfg = config(3, "nginx:1");
    cfg["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["-a", "-b"]);
    let obj = apply_ok(None, &cfg, "alice", false, T1);
    let c = &entry(&obj, "alice").unwrap()["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ["k:{\"name\":\"web\"}"];
    assert_eq!(c["f:args"], json!({}));
    cfg["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["-c"]);
    let obj = apply_ok(Some(&obj), &cfg, "alice", false, T2);
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["-c"])
    );
}

#[test]
fn visit_list_items_order() {
    let l = [json!("a"), json!("b"), json!("c")];
    let r = [json!("c"), json!("d"), json!("a")];
    let out = visit_list_items(
        &l,
        &r,
        |v| Some(PathElement::Value(v.to_string())),
        |_, r| r.clone(),
    );
    assert_eq!(out, vec![json!("b"), json!("c"), json!("d"), json!("a")]);
}

#[test]
fn status_is_ignored_by_an_apply_to_the_main_resource() {
    let mut cfg = config(3, "nginx:1");
    cfg["status"] = json!({"replicas": 99});
    let obj = apply_ok(None, &cfg, "kubectl", false, T1);
    assert!(obj.get("status").is_none());
    assert!(
        entry(&obj, "kubectl").unwrap()["fieldsV1"]
            .get("f:status")
            .is_none()
    );
}

#[test]
fn bad_apply_bodies() {
    let wrong_version = json!({"apiVersion": "apps/v1beta1", "kind": "Deployment"});
    assert_eq!(
        apply(DEPLOY, None, &wrong_version, "m", false, T1)
            .unwrap_err()
            .to_string(),
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1"
    );
    let wrong_kind = json!({"apiVersion": "apps/v1", "kind": "StatefulSet"});
    assert_eq!(
        apply(DEPLOY, None, &wrong_kind, "m", false, T1)
            .unwrap_err()
            .code(),
        400
    );
    let mut managed = config(1, "x");
    managed["metadata"]["managedFields"] = json!([]);
    assert_eq!(
        apply(DEPLOY, None, &managed, "m", false, T1)
            .unwrap_err()
            .to_string(),
        "metadata.managedFields must be nil"
    );
    let mut no_key = config(1, "x");
    no_key["spec"]["template"]["spec"]["containers"] = json!([{"image": "x"}]);
    let e = apply(DEPLOY, None, &no_key, "m", false, T1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)"
    );
    // A null managedFields is no managedFields.
    let mut null_managed = config(1, "x");
    null_managed["metadata"]["managedFields"] = Value::Null;
    apply_ok(None, &null_managed, "m", false, T1);
    assert_eq!(
        apply(DEPLOY, None, &json!([1]), "m", false, T1)
            .unwrap_err()
            .code(),
        400
    );
}

#[test]
fn apply_bodies_may_be_yaml() {
    let v = decode_apply_body(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: \"1\"\n").unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}})
    );
    assert_eq!(decode_apply_body(b"a: [").unwrap_err().code(), 400);
}

#[test]
fn fields_v1_round_trips() {
    let v = json!({
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}},
                   "f:list": {"i:0": {}}, "f:set": {"v:1": {}}}
    });
    let s = FieldSet::from_fields_v1(&v).expect("decodes");
    assert_eq!(s.to_fields_v1(), v);
    assert!(s.contains(&[f("metadata"), f("labels")]));
    assert!(FieldSet::from_fields_v1(&json!({"x:y": {}})).is_none());
    assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_none());
}

#[test]
fn custom_resources_have_atomic_lists() {
    let ty = TypeRef::new("example.com/v1", "Widget");
    let cfg = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                     "spec": {"items": [{"name": "a"}], "size": 1}});
    let obj = apply(ty, None, &cfg, "op", false, T1).unwrap();
    assert_eq!(
        entry(&obj, "op").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:items": {}, "f:size": {}}})
    );
    let cfg2 = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                      "spec": {"items": [{"name": "b"}]}});
    let obj = apply(ty, Some(&obj), &cfg2, "op", false, T2).unwrap();
    assert_eq!(obj["spec"], json!({"items": [{"name": "b"}]}));
}

#[test]
fn managed_fields_reset_only_with_a_single_empty_entry() {
    let obj = apply_ok(None, &config(3, "nginx:1"), "kubectl", false, T1);
    let mut cleared = obj.clone();
    cleared["metadata"]["managedFields"] = json!([{}]);
    let out = update_managed_fields(Some(&obj), &cleared, "kubectl-edit", T2);
    assert!(out["metadata"].get("managedFields").is_none(), "{out}");
    // An empty list is a client unaware of the field: the stored entries stay.
    let mut unaware = obj.clone();
    unaware["metadata"]["managedFields"] = json!([]);
    let out = update_managed_fields(Some(&obj), &unaware, "kubectl-edit", T2);
    assert_eq!(
        out["metadata"]["managedFields"],
        obj["metadata"]["managedFields"]
    );
}

#[test]
fn status_writes_are_their_own_manager() {
    let obj = update_managed_fields(None, &config(3, "nginx:1"), "kube-controller-manager", T1);
    let mut with_status = obj.clone();
    with_status["status"] = json!({"replicas": 3});
    let out = record_update(
        DEPLOY,
        Some(&obj),
        &with_status,
        "kube-controller-manager",
        Some("status"),
        T2,
    );
    let entries = out["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let status = entries
        .iter()
        .find(|e| e["subresource"] == "status")
        .unwrap();
    assert_eq!(status["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
    // Conflict messages name the subresource, as upstream's `printManager`.
    let e = ManagedFieldsEntry::from_json(status).unwrap();
    assert_eq!(
        e.printed(),
        format!("\"kube-controller-manager\" with subresource \"status\" using apps/v1 at {T2}")
    );
}

/// The YAML parser's depth limits refuse what would otherwise recurse deeply here.
#[test]
fn deeply_nested_bodies_are_bad_requests() {
    let deep = format!("{}1{}", "[".repeat(20_000), "]".repeat(20_000));
    let e = decode_apply_body(deep.as_bytes()).unwrap_err();
    assert_eq!(e.code(), 400);
    assert!(!e.to_string().contains('\n'), "one line: {e}");
    let mut nested = String::from("apiVersion: apps/v1\nkind: Deployment\nspec:\n");
    for depth in 1..2_000 {
        nested.push_str(&" ".repeat(depth * 2));
        nested.push_str("a:\n");
    }
    assert_eq!(
        decode_apply_body(nested.as_bytes()).unwrap_err().code(),
        400
    );
}

/// A custom resource whose schema declares a list-map (with a defaulted key), a set and an
/// atomic map: apply follows it as structured-merge-diff does for a CRD.
#[test]
fn custom_resources_follow_their_openapi_schema() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "routes": {"type": "array", "x-kubernetes-list-type": "map",
                   "x-kubernetes-list-map-keys": ["name", "port"],
                   "items": {"type": "object", "properties": {
                       "name": {"type": "string"}, "port": {"type": "integer", "default": 80},
                       "weight": {"type": "integer"}}}},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "selector": {"type": "object", "x-kubernetes-map-type": "atomic"},
        "plain": {"type": "array", "items": {"type": "string"}}
    }}}});
    let ty = TypeRef::new("example.com/v1", "Route").with_openapi_schema(&schema);
    let cfg = |routes: Value, tags: Value| {
        json!({"apiVersion": "example.com/v1", "kind": "Route", "metadata": {"name": "r"},
               "spec": {"routes": routes, "tags": tags, "selector": {"a": "1"}, "plain": ["x"]}})
    };
    let obj = apply(
        ty,
        None,
        &cfg(json!([{"name": "a", "weight": 1}]), json!(["t1"])),
        "alice",
        false,
        T1,
    )
    .unwrap();
    pretty_assertions::assert_eq!(
        entry(&obj, "alice").unwrap()["fieldsV1"],
        json!({"f:spec": {
            "f:plain": {},
            "f:routes": {"k:{\"name\":\"a\",\"port\":80}": {".": {}, "f:name": {}, "f:weight": {}}},
            "f:selector": {},
            "f:tags": {"v:\"t1\"": {}}
        }})
    );
    // Bob adds his own route and tag; Alice's stay.
    let obj = apply(
        ty,
        Some(&obj),
        &cfg(json!([{"name": "b", "port": 81}]), json!(["t2"])),
        "bob",
        false,
        T2,
    )
    .unwrap();
    assert_eq!(
        obj["spec"]["routes"],
        json!([{"name": "a", "weight": 1}, {"name": "b", "port": 81}])
    );
    assert_eq!(obj["spec"]["tags"], json!(["t1", "t2"]));
    // The selector is atomic: Bob's differs from Alice's as a whole, a conflict on the map.
    let mut other = cfg(json!([]), json!([]));
    other["spec"]["selector"] = json!({"b": "2"});
    let e = apply(ty, Some(&obj), &other, "bob", false, T2).unwrap_err();
    assert!(e.to_string().contains(".spec.selector"), "{e}");
    // Without its key, a route is refused.
    let e = apply(
        ty,
        None,
        &cfg(json!([{"weight": 1}]), json!([])),
        "m",
        false,
        T1,
    )
    .unwrap_err();
    assert!(e.to_string().contains("omits key field \"name\""), "{e}");
}

//! Deletion propagation and finalizers, through the API's verbs: what a `kubectl delete
//! --cascade=foreground|background|orphan` and an operator's finalizer see.

use kubespec_engine::api::rest::{
    self, ResourceInfo, Selectors, Subresource, create, delete, find, find_in, get,
    install_namespaces, list, update,
};
use kubespec_engine::trace::Verb;
use kubespec_engine::{Cluster, ClusterConfig, Millis, Propagation};
use serde_json::{Value, json};

fn cluster() -> Cluster {
    let mut c = Cluster::new(ClusterConfig::default());
    c.enable_change_log(100_000);
    install_namespaces(&mut c);
    c
}

fn r(group: &str, plural: &str) -> &'static ResourceInfo {
    find(group, "v1", plural).unwrap()
}

fn deployment(name: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
            },
        },
    })
}

/// Creates a Deployment and lets its pods come up.
fn running_deployment(c: &mut Cluster, name: &str, replicas: i32) {
    create(
        c,
        r("apps", "deployments"),
        "default",
        deployment(name, replicas),
    )
    .unwrap();
    let until = c.now() + Millis::from_secs(30);
    c.run_until(until);
}

fn pods(c: &Cluster) -> Vec<Value> {
    let sel = Selectors::parse("Pod", None, None).unwrap();
    list(c, r("", "pods"), Some("default"), &sel, None, None)
        .unwrap()
        .items
}

fn replica_sets(c: &Cluster) -> Vec<Value> {
    let sel = Selectors::parse("ReplicaSet", None, None).unwrap();
    list(
        c,
        r("apps", "replicasets"),
        Some("default"),
        &sel,
        None,
        None,
    )
    .unwrap()
    .items
}

/// The (kind, name) of every DELETED entry of the change log, in order.
fn deletions(c: &Cluster) -> Vec<(String, String)> {
    c.change_log()
        .unwrap()
        .since(c.change_log().unwrap().floor())
        .unwrap()
        .filter(|ch| ch.verb == Verb::Deleted)
        .map(|ch| (ch.kind.clone(), ch.key.name.to_string()))
        .collect()
}

fn finalizers(v: &Value) -> Vec<String> {
    v["metadata"]["finalizers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn foreground_deletion_keeps_the_owner_until_its_pods_and_replica_set_are_gone() {
    let mut c = cluster();
    running_deployment(&mut c, "web", 2);
    let deployments = r("apps", "deployments");
    let out = delete(
        &mut c,
        deployments,
        "default",
        "web",
        Propagation::Foreground,
        None,
    )
    .unwrap();
    assert!(out["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(finalizers(&out), ["foregroundDeletion"]);

    // At the instant of the request: the Deployment and its ReplicaSet wait, the pods
    // terminate.
    let d = get(&c, deployments, "default", "web").unwrap();
    assert_eq!(finalizers(&d), ["foregroundDeletion"]);
    let rss = replica_sets(&c);
    assert_eq!(rss.len(), 1);
    assert_eq!(finalizers(&rss[0]), ["foregroundDeletion"]);
    assert!(rss[0]["metadata"]["deletionTimestamp"].is_string());
    let ps = pods(&c);
    assert_eq!(ps.len(), 2);
    assert!(
        ps.iter()
            .all(|p| p["metadata"]["deletionTimestamp"].is_string())
    );

    // The ReplicaSet controller does not replace pods of a ReplicaSet being deleted.
    let until = c.now() + Millis::from_secs(60);
    c.run_until(until);
    assert!(pods(&c).is_empty());
    assert!(replica_sets(&c).is_empty());
    assert_eq!(
        get(&c, deployments, "default", "web").unwrap_err().code,
        404
    );

    // Dependents first, then their owners.
    let gone: Vec<String> = deletions(&c).into_iter().map(|(k, _)| k).collect();
    assert_eq!(gone, ["Pod", "Pod", "ReplicaSet", "Deployment"]);
}

#[test]
fn background_deletion_removes_the_owner_first() {
    let mut c = cluster();
    running_deployment(&mut c, "web", 2);
    delete(
        &mut c,
        r("apps", "deployments"),
        "default",
        "web",
        Propagation::Background,
        None,
    )
    .unwrap();
    let gone: Vec<String> = deletions(&c).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        gone,
        ["Deployment", "ReplicaSet"],
        "pods are still terminating"
    );
    let until = c.now() + Millis::from_secs(60);
    c.run_until(until);
    assert!(pods(&c).is_empty());
}

#[test]
fn orphaning_leaves_the_replica_set_and_pods_without_the_owner_reference() {
    let mut c = cluster();
    running_deployment(&mut c, "web", 2);
    delete(
        &mut c,
        r("apps", "deployments"),
        "default",
        "web",
        Propagation::Orphan,
        None,
    )
    .unwrap();
    let until = c.now() + Millis::from_secs(60);
    c.run_until(until);
    let rss = replica_sets(&c);
    assert_eq!(rss.len(), 1);
    assert!(rss[0]["metadata"].get("ownerReferences").is_none());
    assert_eq!(pods(&c).len(), 2);
}

#[test]
fn a_finalizer_holds_an_object_until_an_update_removes_it() {
    let mut c = cluster();
    let cms = r("", "configmaps");
    create(
        &mut c,
        cms,
        "default",
        json!({"metadata": {"name": "cfg", "finalizers": ["example.com/cleanup"]}, "data": {"a": "1"}}),
    )
    .unwrap();
    let out = delete(&mut c, cms, "default", "cfg", Propagation::Background, None).unwrap();
    assert!(out["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(out["metadata"]["deletionGracePeriodSeconds"], 0);

    // Still readable; an update can change it but cannot clear the deletionTimestamp.
    let mut live = get(&c, cms, "default", "cfg").unwrap();
    live["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("deletionTimestamp");
    live["data"]["a"] = "2".into();
    let live = update(&mut c, cms, "default", "cfg", live, Subresource::Main).unwrap();
    assert!(live["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(live["data"]["a"], "2");
    assert!(deletions(&c).is_empty());

    let mut done = live;
    done["metadata"]["finalizers"] = json!([]);
    update(&mut c, cms, "default", "cfg", done, Subresource::Main).unwrap();
    assert_eq!(get(&c, cms, "default", "cfg").unwrap_err().code, 404);
    assert_eq!(
        deletions(&c),
        [("ConfigMap".to_string(), "cfg".to_string())]
    );
}

#[test]
fn a_pod_with_a_finalizer_stays_after_its_containers_stop() {
    let mut c = cluster();
    let pods_r = r("", "pods");
    create(
        &mut c,
        pods_r,
        "default",
        json!({"metadata": {"name": "p", "finalizers": ["example.com/keep"]},
               "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}),
    )
    .unwrap();
    let until = c.now() + Millis::from_secs(10);
    c.run_until(until);
    let p = get(&c, pods_r, "default", "p").unwrap();
    assert_eq!(finalizers(&p), ["example.com/keep"]);
    delete(
        &mut c,
        pods_r,
        "default",
        "p",
        Propagation::Background,
        None,
    )
    .unwrap();
    let until = c.now() + Millis::from_secs(60);
    c.run_until(until);
    let p = get(&c, pods_r, "default", "p").unwrap();
    assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 0);
    let mut done = p;
    done["metadata"]["finalizers"] = json!(null);
    update(&mut c, pods_r, "default", "p", done, Subresource::Main).unwrap();
    assert_eq!(get(&c, pods_r, "default", "p").unwrap_err().code, 404);
}

/// An operator's custom resource owns a Deployment and a ConfigMap.
#[test]
fn deleting_a_custom_resource_collects_what_it_owns_in_every_policy() {
    for (policy, collected) in [
        (Propagation::Background, true),
        (Propagation::Foreground, true),
        (Propagation::Orphan, false),
    ] {
        let mut c = cluster();
        let crds = find("apiextensions.k8s.io", "v1", "customresourcedefinitions").unwrap();
        create(
            &mut c,
            crds,
            "default",
            json!({
                "metadata": {"name": "apps.example.com"},
                "spec": {
                    "group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "apps", "kind": "App"},
                    "versions": [{"name": "v1", "served": true, "storage": true,
                        "schema": {"openAPIV3Schema": {"type": "object",
                            "x-kubernetes-preserve-unknown-fields": true}}}]
                }
            }),
        )
        .unwrap();
        let apps = find_in(&c, "example.com", "v1", "apps").unwrap();
        let owner = create(
            &mut c,
            &apps,
            "default",
            json!({"metadata": {"name": "shop"}}),
        )
        .unwrap();
        let owner_ref = json!([{
            "apiVersion": "example.com/v1", "kind": "App", "name": "shop",
            "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
        }]);
        let mut d = deployment("shop-web", 1);
        d["metadata"]["ownerReferences"] = owner_ref.clone();
        create(&mut c, r("apps", "deployments"), "default", d).unwrap();
        let cms = r("", "configmaps");
        create(
            &mut c,
            cms,
            "default",
            json!({"metadata": {"name": "shop-cfg", "ownerReferences": owner_ref}}),
        )
        .unwrap();
        let until = c.now() + Millis::from_secs(30);
        c.run_until(until);

        delete(&mut c, &apps, "default", "shop", policy, None).unwrap();
        let until = c.now() + Millis::from_secs(60);
        c.run_until(until);
        assert_eq!(
            get(&c, &apps, "default", "shop").unwrap_err().code,
            404,
            "{policy:?}"
        );
        let web = get(&c, r("apps", "deployments"), "default", "shop-web");
        let cfg = get(&c, cms, "default", "shop-cfg");
        if collected {
            assert_eq!(web.unwrap_err().code, 404, "{policy:?}");
            assert_eq!(cfg.unwrap_err().code, 404, "{policy:?}");
            assert!(pods(&c).is_empty(), "{policy:?}");
        } else {
            assert!(web.unwrap()["metadata"].get("ownerReferences").is_none());
            assert!(cfg.unwrap()["metadata"].get("ownerReferences").is_none());
            assert_eq!(pods(&c).len(), 1);
        }
    }
}

#[test]
fn a_dependent_with_another_live_owner_only_loses_the_reference() {
    let mut c = cluster();
    let cms = r("", "configmaps");
    let a = create(&mut c, cms, "default", json!({"metadata": {"name": "a"}})).unwrap();
    let b = create(&mut c, cms, "default", json!({"metadata": {"name": "b"}})).unwrap();
    let refs = json!([
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": a["metadata"]["uid"]},
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "b", "uid": b["metadata"]["uid"]},
    ]);
    create(
        &mut c,
        cms,
        "default",
        json!({"metadata": {"name": "shared", "ownerReferences": refs}}),
    )
    .unwrap();
    delete(&mut c, cms, "default", "a", Propagation::Background, None).unwrap();
    let shared = get(&c, cms, "default", "shared").unwrap();
    let left: Vec<&str> = shared["metadata"]["ownerReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["b"]);
    delete(&mut c, cms, "default", "b", Propagation::Background, None).unwrap();
    assert_eq!(get(&c, cms, "default", "shared").unwrap_err().code, 404);
}

#[test]
fn the_policy_parses_as_upstream_spells_it() {
    assert_eq!(
        rest::propagation(Some("Foreground"), None).unwrap(),
        Propagation::Foreground
    );
    assert_eq!(
        rest::propagation(None, Some(true)).unwrap(),
        Propagation::Orphan
    );
    assert_eq!(
        rest::propagation(Some("Sideways"), None).unwrap_err().code,
        400
    );
}

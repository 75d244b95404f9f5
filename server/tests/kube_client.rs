//! kube-rs against the server in process: `kube::Client::new(router, "default")`, no socket.
//! Every wait is bounded by a timeout; none asserts on how long something took.

use futures::{StreamExt, TryStreamExt};
use http_body_util::BodyExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Client;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kubespec_engine::{Cluster, ClusterConfig, Millis};
use kubespec_server::{AppState, Config, router};
use serde_json::json;
use std::time::Duration;
use tower::ServiceExt;

const WAIT: Duration = Duration::from_secs(20);

fn server(config: Config) -> (AppState, Client) {
    let state = AppState::new(Cluster::new(ClusterConfig::default()), config);
    let client = Client::new(router(state.clone()), "default");
    (state, client)
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
            },
        },
    }))
    .expect("a Deployment")
}

fn config_map(name: &str, v: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": v},
    }))
    .expect("a ConfigMap")
}

#[tokio::test]
async fn create_list_get_replace_and_delete_deployments() {
    let (_state, client) = server(Config::default());
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let created = deps
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let names: Vec<String> = deps
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|d| d.metadata.name)
        .collect();
    assert_eq!(names, vec!["web"]);

    // The controllers ran at once: the Deployment has a ReplicaSet and two pods.
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let selected = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(selected.items.len(), 2);

    let mut live = deps.get("web").await.unwrap();
    live.spec.as_mut().unwrap().replicas = Some(3);
    let replaced = deps
        .replace("web", &PostParams::default(), &live)
        .await
        .unwrap();
    assert_eq!(replaced.spec.unwrap().replicas, Some(3));
    // `live` still carries the old resourceVersion: a second replace is a conflict.
    let err = deps
        .replace("web", &PostParams::default(), &live)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert_eq!(s.reason, "Conflict");
            assert_eq!(
                s.message,
                "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
            );
        }
        other => panic!("expected a 409 Status, got {other:?}"),
    }

    deps.delete("web", &DeleteParams::background())
        .await
        .unwrap();
    assert!(deps.get_opt("web").await.unwrap().is_none());
    let err = deps.get("web").await.unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404 && s.message == "deployments.apps \"web\" not found"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_reflector_sees_the_deployments_pods_appear() {
    let (_state, client) = server(Config::default());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let (reader, writer) = reflector::store::<Pod>();
    let stream = reflector(
        writer,
        watcher(pods.clone(), watcher::Config::default().labels("app=web")),
    )
    .applied_objects();
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while stream.try_next().await.is_ok_and(|o| o.is_some()) {}
    });
    tokio::time::timeout(WAIT, reader.wait_until_ready())
        .await
        .expect("the reflector's first list in time")
        .unwrap();
    assert!(reader.state().is_empty());

    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    deps.create(&PostParams::default(), &deployment("web", 3))
        .await
        .unwrap();
    let seen = tokio::time::timeout(WAIT, async {
        loop {
            if reader.state().len() == 3 {
                return reader.state();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("three pods in the reflector's store");
    for p in seen {
        assert!(p.metadata.name.as_deref().unwrap().starts_with("web-"));
    }
    task.abort();
}

#[tokio::test]
async fn await_condition_sees_the_rollout_complete_once_time_advances() {
    let (state, client) = server(Config::default());
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    deps.create(&PostParams::default(), &deployment("web", 3))
        .await
        .unwrap();
    let waiting = tokio::spawn(await_condition(
        deps.clone(),
        "web",
        conditions::is_deployment_completed(),
    ));
    // Time is frozen (scale 0): the pods cannot be ready until it moves.
    assert!(
        !deps
            .get("web")
            .await
            .unwrap()
            .status
            .is_some_and(|s| { s.ready_replicas == Some(3) })
    );
    state.advance(Millis::from_secs(60));
    let done = tokio::time::timeout(WAIT, waiting)
        .await
        .expect("the condition in time")
        .unwrap()
        .unwrap();
    assert_eq!(done.unwrap().status.unwrap().ready_replicas, Some(3));
}

#[tokio::test]
async fn merge_and_json_patches_and_the_scale_subresource() {
    let (_state, client) = server(Config::default());
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    deps.create(&PostParams::default(), &deployment("web", 1))
        .await
        .unwrap();
    let merged = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"labels": {"tier": "front"}}, "spec": {"replicas": 2}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(merged.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(merged.metadata.labels.unwrap()["tier"], "front");

    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.26"}
    ]))
    .unwrap();
    let patched = deps
        .patch("web", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .unwrap();
    let image = patched.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone();
    assert_eq!(image.as_deref(), Some("nginx:1.26"));

    let scale = deps.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    let scaled = deps
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(4));

    // A strategic merge patch merges containers by name: a new sidecar is added, the app
    // container keeps its image.
    let merged = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(
                json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "sidecar", "image": "envoy:1.31"}]}}}}),
            ),
        )
        .await
        .unwrap();
    let spec = merged.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    let images: Vec<(String, Option<String>)> = spec
        .template
        .spec
        .unwrap()
        .containers
        .into_iter()
        .map(|c| (c.name, c.image))
        .collect();
    assert_eq!(
        images,
        [
            ("sidecar".to_string(), Some("envoy:1.31".to_string())),
            ("app".to_string(), Some("nginx:1.26".to_string())),
        ]
    );

    // Server-side apply: a second manager that sets the same field conflicts, until forced.
    let apply = |replicas: i32| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": replicas}})
    };
    // The Deployment was made without managedFields, so its fields belong to
    // "before-first-apply" (as upstream): the first apply that changes one must force.
    let err = deps
        .patch("web", &PatchParams::apply("alice"), &Patch::Apply(apply(2)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.message.contains("before-first-apply")),
        "{err:?}"
    );
    deps.patch(
        "web",
        &PatchParams::apply("alice").force(),
        &Patch::Apply(apply(2)),
    )
    .await
    .unwrap();
    let err = deps
        .patch("web", &PatchParams::apply("bob"), &Patch::Apply(apply(3)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.message.contains("conflict with \"alice\"")),
        "{err:?}"
    );
    let forced = deps
        .patch(
            "web",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(apply(3)),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.unwrap().replicas, Some(3));
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"bob".to_string()), "{managers:?}");
}

#[tokio::test]
async fn a_watch_resumed_from_an_old_version_replays_exactly_the_later_changes() {
    let (_state, client) = server(Config::default());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let first = cms
        .create(&PostParams::default(), &config_map("c", "1"))
        .await
        .unwrap();
    let from = first.metadata.resource_version.clone().unwrap();
    for v in ["2", "3"] {
        cms.patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": v}})),
        )
        .await
        .unwrap();
    }
    cms.create(&PostParams::default(), &config_map("other", "x"))
        .await
        .unwrap();
    cms.delete("other", &DeleteParams::default()).await.unwrap();

    // timeoutSeconds ends the stream, so collecting it sees every event the server sends.
    let events: Vec<WatchEvent<ConfigMap>> = tokio::time::timeout(
        WAIT,
        cms.watch(&WatchParams::default().timeout(1), &from)
            .await
            .unwrap()
            .try_collect(),
    )
    .await
    .expect("the watch ends at its timeout")
    .unwrap();
    let seen: Vec<(String, String, String)> = events
        .iter()
        .map(|e| match e {
            WatchEvent::Added(o) => ("ADDED", o),
            WatchEvent::Modified(o) => ("MODIFIED", o),
            WatchEvent::Deleted(o) => ("DELETED", o),
            other => panic!("unexpected {other:?}"),
        })
        .map(|(t, o)| {
            (
                t.to_string(),
                o.metadata.name.clone().unwrap(),
                o.data.as_ref().map_or(String::new(), |d| d["v"].clone()),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("MODIFIED", "c", "2"),
        ("MODIFIED", "c", "3"),
        ("ADDED", "other", "x"),
        ("DELETED", "other", "x"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    pretty_assertions::assert_eq!(seen, expected);
    // Resource versions strictly increase along the stream.
    let rvs: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                o.metadata.resource_version.as_ref()?.parse().ok()
            }
            _ => None,
        })
        .collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{rvs:?}");
}

#[tokio::test]
async fn a_watch_from_a_compacted_version_gets_410_gone() {
    let (_state, client) = server(Config {
        change_log_capacity: 4,
        ..Config::default()
    });
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let first = cms
        .create(&PostParams::default(), &config_map("c", "0"))
        .await
        .unwrap();
    for v in 1..10 {
        cms.patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": v.to_string()}})),
        )
        .await
        .unwrap();
    }
    let from = first.metadata.resource_version.unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().timeout(5), &from)
        .await
        .unwrap()
        .boxed();
    let event = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an event")
        .expect("a line")
        .unwrap();
    match event {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert!(
                e.message
                    .starts_with(&format!("too old resource version: {from} (")),
                "{}",
                e.message
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test]
async fn requests_without_the_token_are_unauthorized_and_discovery_lists_subresources() {
    let state = AppState::new(
        Cluster::new(ClusterConfig::default()),
        Config {
            token: Some("s3cret".into()),
            ..Config::default()
        },
    );
    let app = router(state);
    let get = |path: &str, token: Option<&str>| {
        let mut b = axum::http::Request::builder().uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    let r = app
        .clone()
        .oneshot(get("/api/v1/pods", None))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["reason"], "Unauthorized");
    let r = app
        .clone()
        .oneshot(get("/api/v1/pods", Some("wrong")))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = app
        .clone()
        .oneshot(get("/apis/apps/v1", Some("s3cret")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let names: Vec<&str> = body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for want in [
        "deployments",
        "deployments/status",
        "deployments/scale",
        "statefulsets",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
}

#[tokio::test]
async fn bad_requests_get_status_objects_not_crashes() {
    let (_state, client) = server(Config::default());
    let app = router(AppState::new(
        Cluster::new(ClusterConfig::default()),
        Config::default(),
    ));
    let send = |method: &str, path: &str, ct: &str, body: Vec<u8>| {
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let cases: Vec<(axum::http::Request<axum::body::Body>, u16)> = vec![
        (
            send(
                "POST",
                "/apis/apps/v1/namespaces/default/deployments",
                "application/json",
                b"{not json".to_vec(),
            ),
            400,
        ),
        (
            send(
                "POST",
                "/apis/apps/v1/namespaces/default/deployments",
                "application/json",
                b"[1,2]".to_vec(),
            ),
            400,
        ),
        (
            send(
                "POST",
                "/apis/apps/v1/namespaces/default/deployments",
                "application/json",
                br#"{"apiVersion":"apps/v2","kind":"Deployment","metadata":{"name":"x"}}"#.to_vec(),
            ),
            400,
        ),
        (
            send(
                "POST",
                "/apis/apps/v1/namespaces/default/deployments",
                "application/json",
                br#"{"metadata":{"name":"x"},"spec":{"replicas":"three"}}"#.to_vec(),
            ),
            400,
        ),
        (
            send(
                "GET",
                "/apis/apps/v9/deployments",
                "application/json",
                vec![],
            ),
            404,
        ),
        (
            send("GET", "/apis/nope/v1/things", "application/json", vec![]),
            404,
        ),
        (
            send(
                "GET",
                "/api/v1/namespaces/default/widgets",
                "application/json",
                vec![],
            ),
            404,
        ),
        (
            send(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                "application/json",
                vec![b' '; kubespec_server::handlers::MAX_BODY + 1],
            ),
            413,
        ),
        (
            send(
                "PATCH",
                "/api/v1/namespaces/default/configmaps/none",
                "text/plain",
                b"{}".to_vec(),
            ),
            415,
        ),
        (
            send(
                "PATCH",
                "/api/v1/namespaces/default/configmaps/none",
                "application/merge-patch+json",
                b"{}".to_vec(),
            ),
            404,
        ),
        (
            send(
                "PUT",
                "/api/v1/namespaces/default/configmaps",
                "application/json",
                b"{}".to_vec(),
            ),
            405,
        ),
        (
            send(
                "GET",
                "/api/v1/pods?labelSelector=a+in+(",
                "application/json",
                vec![],
            ),
            400,
        ),
        (
            send(
                "GET",
                "/api/v1/pods?fieldSelector=spec.bogus%3D1",
                "application/json",
                vec![],
            ),
            400,
        ),
        (
            send(
                "POST",
                "/api/v1/namespaces/default/configmaps?dryRun=Bogus",
                "application/json",
                br#"{"metadata":{"name":"x"}}"#.to_vec(),
            ),
            422,
        ),
    ];
    for (req, code) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let r = app.clone().oneshot(req).await.unwrap();
        assert_eq!(r.status().as_u16(), code, "{what}");
        let body: serde_json::Value =
            serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes())
                .unwrap_or_else(|e| panic!("{what}: not a JSON Status: {e}"));
        assert_eq!(body["kind"], "Status", "{what}");
        assert_eq!(body["code"], code, "{what}");
    }
    // The server still works after all that.
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    cms.create(&PostParams::default(), &config_map("ok", "1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_streaming_list_watcher_gets_the_initial_objects_then_changes() {
    let (_state, client) = server(Config::default());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &config_map("a", "1"))
        .await
        .unwrap();
    let (reader, writer) = reflector::store::<ConfigMap>();
    let stream = reflector(
        writer,
        watcher(cms.clone(), watcher::Config::default().streaming_lists()),
    )
    .applied_objects();
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while stream.try_next().await.is_ok_and(|o| o.is_some()) {}
    });
    tokio::time::timeout(WAIT, reader.wait_until_ready())
        .await
        .expect("the initial events end with a bookmark")
        .unwrap();
    assert_eq!(reader.state().len(), 1);
    cms.create(&PostParams::default(), &config_map("b", "2"))
        .await
        .unwrap();
    tokio::time::timeout(WAIT, async {
        while reader.state().len() != 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the second ConfigMap in the store");
    task.abort();
}

#[tokio::test]
async fn delete_collection_namespaces_and_events() {
    let (state, client) = server(Config::default());
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(json!({"metadata": {"name": "team"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(
        names,
        vec![
            "default",
            "kube-node-lease",
            "kube-public",
            "kube-system",
            "team"
        ]
    );

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    for (n, tier) in [("a", "x"), ("b", "x"), ("c", "y")] {
        let mut cm = config_map(n, "1");
        cm.metadata.labels = Some([("tier".to_string(), tier.to_string())].into());
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    cms.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("tier=x"),
    )
    .await
    .unwrap();
    let left: Vec<String> = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(left, vec!["c"]);

    // A Deployment's events are served as core/v1 Events, selectable by involved object.
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "team");
    deps.create(&PostParams::default(), &deployment("web", 2))
        .await
        .unwrap();
    state.advance(Millis::from_secs(30));
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "team");
    let about = events
        .list(
            &ListParams::default().fields("involvedObject.kind=Deployment,involvedObject.name=web"),
        )
        .await
        .unwrap();
    let messages: Vec<String> = about.items.into_iter().filter_map(|e| e.message).collect();
    assert!(
        messages.first().is_some_and(
            |m| m.starts_with("Scaled up replica set web-") && m.ends_with(" from 0 to 2")
        ),
        "{messages:?}"
    );

    // Deleting the namespace deletes what is in it.
    namespaces
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        cms.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        deps.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let err = cms
        .create(&PostParams::default(), &config_map("z", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404 && s.message == "namespaces \"team\" not found"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_selector_watch_sees_objects_enter_and_leave_the_selection_and_gets_bookmarks() {
    let (_state, client) = server(Config {
        bookmark_interval: Duration::from_millis(50),
        ..Config::default()
    });
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let mut cm = config_map("a", "1");
    cm.metadata.labels = Some([("tier".to_string(), "x".to_string())].into());
    let first = cms.create(&PostParams::default(), &cm).await.unwrap();
    let label = |tier: &'static str| Patch::Merge(json!({"metadata": {"labels": {"tier": tier}}}));
    cms.patch("a", &PatchParams::default(), &label("y"))
        .await
        .unwrap();
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "2"}})),
    )
    .await
    .unwrap();
    cms.patch("a", &PatchParams::default(), &label("x"))
        .await
        .unwrap();
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "3"}})),
    )
    .await
    .unwrap();
    let events: Vec<WatchEvent<ConfigMap>> = tokio::time::timeout(
        WAIT,
        cms.watch(
            &WatchParams::default().labels("tier=x").timeout(1),
            first.metadata.resource_version.as_deref().unwrap(),
        )
        .await
        .unwrap()
        .try_collect(),
    )
    .await
    .expect("the watch ends at its timeout")
    .unwrap();
    let kinds: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Added(o) => Some(format!("ADDED {}", o.data.as_ref().unwrap()["v"])),
            WatchEvent::Modified(o) => Some(format!("MODIFIED {}", o.data.as_ref().unwrap()["v"])),
            WatchEvent::Deleted(o) => Some(format!("DELETED {}", o.data.as_ref().unwrap()["v"])),
            WatchEvent::Bookmark(_) => None,
            WatchEvent::Error(e) => panic!("{e:?}"),
        })
        .collect();
    // Relabelled away (DELETED), changed unseen, relabelled back (ADDED), changed (MODIFIED).
    assert_eq!(kinds, vec!["DELETED 1", "ADDED 2", "MODIFIED 3"]);
    assert!(
        events.iter().any(|e| matches!(e, WatchEvent::Bookmark(_))),
        "a bookmark every 50 ms over a one-second watch"
    );
}

#[tokio::test]
async fn kube_rs_over_tcp_sends_the_kubeconfig_token_over_plain_http() {
    let state = AppState::new(
        Cluster::new(ClusterConfig::default()),
        Config {
            token: Some("s3cret".into()),
            ..Config::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    let client_for = |token: &str| {
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kubespec\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: kubespec\n  context:\n    cluster: kubespec\n    user: kubespec\ncurrent-context: kubespec\nusers:\n- name: kubespec\n  user:\n    token: {token}\n"
        );
        async move {
            let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
            let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .unwrap();
            Client::try_from(cfg).unwrap()
        }
    };
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> =
        Api::all(client_for("s3cret").await);
    let listed = tokio::time::timeout(WAIT, namespaces.list(&ListParams::default()))
        .await
        .expect("an answer")
        .unwrap();
    assert_eq!(listed.items.len(), 4);
    let wrong: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client_for("nope").await);
    let err = tokio::time::timeout(WAIT, wrong.list(&ListParams::default()))
        .await
        .expect("an answer")
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 401),
        "{err:?}"
    );
    serving.abort();
}

#[tokio::test]
async fn dry_runs_admit_and_answer_but_store_nothing() {
    let (state, client) = server(Config::default());
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let dry_post = PostParams {
        dry_run: true,
        ..Default::default()
    };

    // Create: the answer is defaulted and has a uid, but no resourceVersion; nothing is stored
    // and no controller reacts.
    let rv_before = state.read(|c| c.resource_version());
    let answer = deps.create(&dry_post, &deployment("web", 2)).await.unwrap();
    assert!(answer.metadata.uid.is_some());
    assert_eq!(answer.metadata.resource_version, None);
    let spec = answer.spec.as_ref().unwrap();
    assert_eq!(spec.revision_history_limit, Some(10), "defaulted");
    assert!(deps.get_opt("web").await.unwrap().is_none());
    assert_eq!(state.read(|c| c.resource_version()), rv_before);
    // Validation runs: an invalid object is refused as it would be.
    let e = deps
        .create(&dry_post, &deployment("bad", -1))
        .await
        .unwrap_err();
    assert!(matches!(&e, kube::Error::Api(s) if s.code == 422), "{e}");

    // Patch (and server-side apply): the answer shows the change, with the live version.
    deps.create(&PostParams::default(), &deployment("web", 2))
        .await
        .unwrap();
    let live = deps.get("web").await.unwrap();
    let patched = deps
        .patch(
            "web",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.as_ref().unwrap().replicas, Some(5));
    assert_eq!(
        patched.metadata.resource_version,
        live.metadata.resource_version
    );
    let applied = deps
        .patch(
            "web",
            &PatchParams::apply("kubectl").force().dry_run(),
            &Patch::Apply(json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"}, "spec": {"replicas": 7}
            })),
        )
        .await
        .unwrap();
    assert_eq!(applied.spec.as_ref().unwrap().replicas, Some(7));
    let now = deps.get("web").await.unwrap();
    assert_eq!(now.spec.as_ref().unwrap().replicas, Some(2));

    // Delete: the object stays.
    deps.delete(
        "web",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(deps.get_opt("web").await.unwrap().is_some());

    // An unknown directive is refused with upstream's words.
    let req = axum::http::Request::post("/api/v1/namespaces/default/configmaps?dryRun=Some")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&config_map("x", "1")).unwrap())
        .unwrap();
    let e = client.request::<ConfigMap>(req).await.unwrap_err();
    match e {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 422);
            assert_eq!(
                s.message,
                "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: \"Some\": supported values: \"All\""
            );
        }
        other => panic!("{other}"),
    }
}

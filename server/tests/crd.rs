//! CustomResourceDefinitions and their custom resources through kube-rs, in process: the
//! Kubernetes docs' CronTab CRD, Established at once, then CronTabs created, validated against
//! its schema, listed, watched, patched, applied, scaled and deleted with the CRD.
//! Every wait is bounded by a timeout.

use futures::{StreamExt, TryStreamExt};
use http_body_util::BodyExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::wait::{await_condition, conditions};
use kubespec_engine::{Cluster, ClusterConfig};
use kubespec_server::{AppState, Config, router};
use serde_json::{Value, json};
use std::time::Duration;
use tower::ServiceExt;

const WAIT: Duration = Duration::from_secs(20);

/// `crontab-crd.yaml` from the Kubernetes docs ("Extend the Kubernetes API with
/// CustomResourceDefinitions"), with the status and scale subresources and a printer column.
fn crontab_crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "cronSpec": {"type": "string",
                            "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                        "image": {"type": "string"},
                        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                        "tags": {"type": "array", "items": {"type": "string"}}}},
                    "status": {"type": "object", "properties": {
                        "replicas": {"type": "integer"},
                        "labelSelector": {"type": "string"}}}}}},
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                        "labelSelectorPath": ".status.labelSelector"}},
                "additionalPrinterColumns": [
                    {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}]
            }],
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab",
                "shortNames": ["ct"]}
        }
    }))
    .expect("a CRD")
}

fn crontab(name: &str, cron: &str, replicas: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"cronSpec": cron, "image": "my-awesome-cron-image", "replicas": replicas},
    }))
    .expect("a CronTab")
}

fn crontabs_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("stable.example.com", "v1", "CronTab"),
        "crontabs",
    )
}

/// A server with the CronTab CRD, Established.
async fn server_with_crontabs() -> (AppState, Client, Api<DynamicObject>) {
    let state = AppState::new(Cluster::new(ClusterConfig::default()), Config::default());
    let client = Client::new(router(state.clone()), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &crontab_crd())
        .await
        .unwrap();
    tokio::time::timeout(
        WAIT,
        await_condition(
            crds,
            "crontabs.stable.example.com",
            conditions::is_crd_established(),
        ),
    )
    .await
    .expect("the CRD is Established in time")
    .unwrap();
    let api = Api::namespaced_with(client.clone(), "default", &crontabs_resource());
    (state, client, api)
}

fn api_error(e: kube::Error) -> (u16, String, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_crd_is_established_with_its_accepted_names() {
    let (_state, client, _) = server_with_crontabs().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let crd = crds.get("crontabs.stable.example.com").await.unwrap();
    let status = crd.status.unwrap();
    let conditions: Vec<(String, String)> = status
        .conditions
        .unwrap()
        .into_iter()
        .map(|c| (c.type_, c.status))
        .collect();
    assert!(conditions.contains(&("NamesAccepted".into(), "True".into())));
    assert!(conditions.contains(&("Established".into(), "True".into())));
    let names = status.accepted_names.unwrap();
    assert_eq!(names.plural, "crontabs");
    assert_eq!(names.list_kind.as_deref(), Some("CronTabList"));

    // An update of the CRD (here an apply adding a short name) is admitted and served.
    let mut changed = crontab_crd();
    changed.spec.names.short_names = Some(vec!["ct".into(), "cron".into()]);
    let updated = crds
        .patch(
            "crontabs.stable.example.com",
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(changed),
        )
        .await
        .unwrap();
    assert_eq!(
        updated.status.unwrap().accepted_names.unwrap().short_names,
        Some(vec!["ct".to_string(), "cron".to_string()])
    );
    let list = crds
        .into_client()
        .list_api_group_resources("stable.example.com/v1")
        .await
        .unwrap();
    assert_eq!(
        list.resources[0].short_names,
        Some(vec!["ct".to_string(), "cron".to_string()])
    );
}

#[tokio::test]
async fn an_invalid_crd_is_refused_with_upstreams_message() {
    let state = AppState::new(Cluster::new(ClusterConfig::default()), Config::default());
    let client = Client::new(router(state), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let mut crd = crontab_crd();
    crd.metadata.name = Some("wrong.stable.example.com".into());
    let (code, reason, message) =
        api_error(crds.create(&PostParams::default(), &crd).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(
        message.starts_with(
            "CustomResourceDefinition.apiextensions.k8s.io \"wrong.stable.example.com\" is invalid: metadata.name: Invalid value: \"wrong.stable.example.com\": must be spec.names.plural+\".\"+spec.group"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn crontabs_are_created_defaulted_listed_and_selected() {
    let (_state, _client, api) = server_with_crontabs().await;
    let created = api
        .create(
            &PostParams::default(),
            &crontab("my-new-cron-object", "* * * * */5", 3),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.data["spec"]["cronSpec"], "* * * * */5");
    api.create(&PostParams::default(), &crontab("other", "0 * * * *", 1))
        .await
        .unwrap();

    let names = |l: kube::core::ObjectList<DynamicObject>| -> Vec<String> {
        l.items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect()
    };
    assert_eq!(
        names(api.list(&ListParams::default()).await.unwrap()),
        vec!["my-new-cron-object", "other"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("app=other"))
                .await
                .unwrap()
        ),
        vec!["other"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().fields("metadata.name=my-new-cron-object"))
                .await
                .unwrap()
        ),
        vec!["my-new-cron-object"]
    );
    let got = api.get("other").await.unwrap();
    assert_eq!(got.types.unwrap().api_version, "stable.example.com/v1");
}

#[tokio::test]
async fn an_invalid_crontab_is_422_with_upstreams_message() {
    let (_state, _client, api) = server_with_crontabs().await;
    let (code, reason, message) = api_error(
        api.create(
            &PostParams::default(),
            &crontab("my-new-cron-object", "* * * *", 15),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert_eq!(
        message,
        r#"CronTab.stable.example.com "my-new-cron-object" is invalid: [spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$', spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10]"#
    );
    assert!(api.get_opt("my-new-cron-object").await.unwrap().is_none());
}

async fn send(
    state: &AppState,
    method: &str,
    uri: &str,
    content_type: &str,
    body: Value,
) -> (u16, Vec<String>, Value) {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(axum::body::Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let r = router(state.clone()).oneshot(req).await.unwrap();
    let code = r.status().as_u16();
    let warnings = r
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body = serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes())
        .unwrap_or(Value::Null);
    (code, warnings, body)
}

#[tokio::test]
async fn unknown_fields_are_pruned_with_a_warning_and_refused_when_strict() {
    let (state, _client, api) = server_with_crontabs().await;
    let mut body = serde_json::to_value(crontab("strict", "* * * * *", 1)).unwrap();
    body["spec"]["someRandomField"] = json!(42);
    let path = "/apis/stable.example.com/v1/namespaces/default/crontabs";

    let (code, _, status) = send(
        &state,
        "POST",
        &format!("{path}?fieldValidation=Strict"),
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(code, 400, "{status}");
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["message"],
        r#"CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.someRandomField""#
    );
    assert!(api.get_opt("strict").await.unwrap().is_none());

    // The default is Warn: stored without the field, with upstream's warning.
    let (code, warnings, created) = send(&state, "POST", path, "application/json", body).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        warnings,
        vec![r#"299 - "unknown field \"spec.someRandomField\"""#]
    );
    assert_eq!(created["spec"].get("someRandomField"), None);
}

#[tokio::test]
async fn status_writes_change_only_the_status_and_generation_follows_the_spec() {
    let (_state, _client, api) = server_with_crontabs().await;
    let mut ct = crontab("c", "* * * * *", 1);
    ct.data["status"] = json!({"replicas": 7});
    let created = api.create(&PostParams::default(), &ct).await.unwrap();
    assert_eq!(
        created.data.get("status"),
        None,
        "status is dropped on create"
    );

    // A status patch changes the status only.
    let patched = api
        .patch_status(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}, "status": {"replicas": 2, "labelSelector": "app=c"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["status"]["replicas"], 2);
    assert_eq!(patched.data["spec"]["replicas"], 1);
    assert_eq!(patched.metadata.generation, Some(1));

    // A main write keeps the status and bumps the generation on a spec change only.
    let patched = api
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}, "status": {"replicas": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["spec"]["replicas"], 4);
    assert_eq!(patched.data["status"]["replicas"], 2);
    assert_eq!(patched.metadata.generation, Some(2));
    let relabelled = api
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(relabelled.metadata.generation, Some(2));
}

#[tokio::test]
async fn the_scale_subresource_reads_and_writes_the_crds_paths() {
    let (_state, _client, api) = server_with_crontabs().await;
    api.create(&PostParams::default(), &crontab("c", "* * * * *", 2))
        .await
        .unwrap();
    api.patch_status(
        "c",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"replicas": 2, "labelSelector": "app=c"}})),
    )
    .await
    .unwrap();
    let scale = api.get_scale("c").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    let status = scale.status.unwrap();
    assert_eq!(status.replicas, 2);
    assert_eq!(status.selector.as_deref(), Some("app=c"));

    api.patch_scale(
        "c",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 5}})),
    )
    .await
    .unwrap();
    assert_eq!(api.get("c").await.unwrap().data["spec"]["replicas"], 5);
    // The CRD's maximum holds through the scale subresource too.
    let (code, _, message) = api_error(
        api.patch_scale(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 11}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(code, 422, "{message}");
}

#[tokio::test]
async fn crontabs_are_patched_applied_and_strategic_merge_is_unsupported() {
    let (_state, _client, api) = server_with_crontabs().await;
    api.create(&PostParams::default(), &crontab("c", "* * * * *", 1))
        .await
        .unwrap();
    let patched = api
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Json::<()>(
                serde_json::from_value(
                    json!([{"op": "replace", "path": "/spec/image", "value": "v2"}]),
                )
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["spec"]["image"], "v2");

    let applied = api
        .patch(
            "applied",
            &PatchParams::apply("crontab-operator"),
            &Patch::Apply(json!({
                "apiVersion": "stable.example.com/v1", "kind": "CronTab",
                "metadata": {"name": "applied"},
                "spec": {"cronSpec": "0 0 * * *", "replicas": 3, "tags": ["a", "b"]}})),
        )
        .await
        .unwrap();
    assert_eq!(applied.data["spec"]["replicas"], 3);
    let managers: Vec<String> = applied
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(managers, vec!["crontab-operator"]);
    // A second apply without `replicas` gives the field up.
    let reapplied = api
        .patch(
            "applied",
            &PatchParams::apply("crontab-operator"),
            &Patch::Apply(json!({
                "apiVersion": "stable.example.com/v1", "kind": "CronTab",
                "metadata": {"name": "applied"},
                "spec": {"cronSpec": "0 0 * * *"}})),
        )
        .await
        .unwrap();
    assert_eq!(reapplied.data["spec"].get("replicas"), None);

    let (code, _, message) = api_error(
        api.patch(
            "c",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"image": "v3"}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(code, 415, "{message}");
}

#[tokio::test]
async fn a_watch_sees_crontabs_come_change_and_go() {
    let (_state, _client, api) = server_with_crontabs().await;
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut events = api
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &crontab("w", "* * * * *", 1))
        .await
        .unwrap();
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 2}})),
    )
    .await
    .unwrap();
    api.delete("w", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let e = tokio::time::timeout(WAIT, events.try_next())
            .await
            .expect("a watch event in time")
            .unwrap()
            .expect("the watch stays open");
        seen.push(match e {
            WatchEvent::Added(o) => ("ADDED", o.data["spec"]["replicas"].clone()),
            WatchEvent::Modified(o) => ("MODIFIED", o.data["spec"]["replicas"].clone()),
            WatchEvent::Deleted(o) => ("DELETED", o.data["spec"]["replicas"].clone()),
            other => panic!("unexpected event {other:?}"),
        });
    }
    assert_eq!(
        seen,
        vec![
            ("ADDED", json!(1)),
            ("MODIFIED", json!(2)),
            ("DELETED", json!(2))
        ]
    );
}

#[tokio::test]
async fn discovery_lists_crontabs_with_their_short_name_and_subresources() {
    let (state, client, _api) = server_with_crontabs().await;
    let groups = client.list_api_groups().await.unwrap();
    assert!(
        groups.groups.iter().any(|g| g.name == "stable.example.com"),
        "{groups:?}"
    );
    let list = client
        .list_api_group_resources("stable.example.com/v1")
        .await
        .unwrap();
    let crontabs = list
        .resources
        .iter()
        .find(|r| r.name == "crontabs")
        .expect("crontabs are listed");
    assert_eq!(
        crontabs.short_names.as_deref(),
        Some(&["ct".to_string()][..])
    );
    assert_eq!(crontabs.singular_name, "crontab");
    assert_eq!(crontabs.kind, "CronTab");
    assert!(crontabs.namespaced);
    let names: Vec<&str> = list.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["crontabs", "crontabs/status", "crontabs/scale"]);

    // kubectl get: a Table with the CRD's printer columns.
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &crontabs_resource());
    api.create(&PostParams::default(), &crontab("t", "*/5 * * * *", 3))
        .await
        .unwrap();
    let req = axum::http::Request::builder()
        .uri("/apis/stable.example.com/v1/namespaces/default/crontabs")
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = router(state.clone()).oneshot(req).await.unwrap();
    let table: Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(columns, vec!["Name", "Spec", "Replicas"]);
    assert_eq!(table["rows"][0]["cells"], json!(["t", "*/5 * * * *", 3]));

    // kubectl get -w: each event a one-row Table with the same columns.
    let req = axum::http::Request::builder()
        .uri("/apis/stable.example.com/v1/namespaces/default/crontabs?watch=true&timeoutSeconds=1")
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = router(state).oneshot(req).await.unwrap();
    let body = tokio::time::timeout(WAIT, r.into_body().collect())
        .await
        .expect("the watch ends at its timeout")
        .unwrap()
        .to_bytes();
    let first: Value = serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["kind"], "Table");
    assert_eq!(first["object"]["columnDefinitions"][1]["name"], "Spec");
    assert_eq!(
        first["object"]["rows"][0]["cells"],
        json!(["t", "*/5 * * * *", 3])
    );
}

#[tokio::test]
async fn deleting_the_crd_deletes_its_crontabs_and_stops_serving_them() {
    let (_state, client, api) = server_with_crontabs().await;
    api.create(&PostParams::default(), &crontab("gone", "* * * * *", 1))
        .await
        .unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.delete("crontabs.stable.example.com", &DeleteParams::default())
        .await
        .unwrap();
    let (code, _, _) = api_error(api.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(code, 404);
    assert!(
        client
            .list_api_group_resources("stable.example.com/v1")
            .await
            .is_err()
    );

    // Served again, the CRD starts with no CronTabs.
    crds.create(&PostParams::default(), &crontab_crd())
        .await
        .unwrap();
    tokio::time::timeout(
        WAIT,
        await_condition(
            crds,
            "crontabs.stable.example.com",
            conditions::is_crd_established(),
        ),
    )
    .await
    .expect("Established in time")
    .unwrap();
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn openapi_v3_documents_the_crontab_schema_with_its_gvk() {
    let (state, _client, _api) = server_with_crontabs().await;
    let get = |path: String| {
        let state = state.clone();
        async move {
            let req = axum::http::Request::builder()
                .uri(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let r = router(state).oneshot(req).await.unwrap();
            assert_eq!(r.status(), 200);
            serde_json::from_slice::<Value>(&r.into_body().collect().await.unwrap().to_bytes())
                .unwrap()
        }
    };
    let root = get("/openapi/v3".into()).await;
    assert!(root["paths"]["apis/apps/v1"].is_object());
    // The CRD kind has its document too: kubectl's field-validation check reads it on apply.
    let url = root["paths"]["apis/apiextensions.k8s.io/v1"]["serverRelativeURL"]
        .as_str()
        .expect("the root lists apiextensions.k8s.io/v1")
        .to_string();
    let crd_doc = get(url).await;
    assert_eq!(
        crd_doc["components"]["schemas"]["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"]
            ["x-kubernetes-group-version-kind"][0]["kind"],
        "CustomResourceDefinition"
    );
    let url = root["paths"]["apis/stable.example.com/v1"]["serverRelativeURL"]
        .as_str()
        .expect("the root lists the CRD's group-version")
        .to_string();
    let doc = get(url).await;
    let schema = &doc["components"]["schemas"]["com.example.stable.v1.CronTab"];
    assert_eq!(
        schema["x-kubernetes-group-version-kind"],
        json!([{"group": "stable.example.com", "version": "v1", "kind": "CronTab"}])
    );
    assert_eq!(
        schema["properties"]["spec"]["properties"]["replicas"]["maximum"],
        json!(10.0)
    );
    // kubectl's field-validation check: a PATCH operation with the GVK and fieldValidation.
    let patch = &doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]
        ["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "CronTab");
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation"),
        "{patch}"
    );
}

/// `kubespec serve --apply crd.yaml crontab.yaml`: the files apply in order, so a custom
/// resource loads once its CRD has.
#[test]
fn apply_at_start_loads_custom_resources_after_their_crd() {
    let state = AppState::new(Cluster::new(ClusterConfig::default()), Config::default());
    let tab = json!({
        "apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "nightly"},
        "spec": {"cronSpec": "0 3 * * *", "image": "backup:1", "replicas": 1}
    });
    let e = state.apply_json(tab.clone()).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            404,
            "no matches for kind \"CronTab\" in version \"stable.example.com/v1\""
        )
    );
    state
        .apply_json(serde_json::to_value(crontab_crd()).unwrap())
        .unwrap();
    let created = state.apply_json(tab.clone()).unwrap();
    assert_eq!(created["metadata"]["name"], "nightly");
    // A second apply updates it; the schema still holds.
    let mut bad = tab;
    bad["spec"]["replicas"] = 20.into();
    let e = state.apply_json(bad).unwrap_err();
    assert_eq!(e.code, 422, "{}", e.message);
}

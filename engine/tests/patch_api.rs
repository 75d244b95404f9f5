//! The public PATCH entry point (`api::patch::patch`) on realistic objects: every patch type as
//! kubectl and kube-rs send it, the `Status` each refusal maps to, and no panic on any body.

use k8s_openapi::api::apps::v1::Deployment;
use kubespec_engine::api::patch::{PatchError, PatchType, TypeRef, apply, patch};
use kubespec_engine::api::{ApiError, Reason};
use proptest::prelude::*;
use serde_json::{Value, json};

const DEPLOY: TypeRef<'static> = TypeRef {
    api_version: "apps/v1",
    kind: "Deployment",
    openapi_schema: None,
};
const T1: &str = "2026-03-01T10:00:00Z";
const T2: &str = "2026-03-01T10:05:00Z";

/// `kubectl create deployment nginx --image=nginx:1.10 --replicas=2`, as stored.
fn nginx() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "uid": "u-1",
                     "resourceVersion": "7", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{
                    "name": "nginx", "image": "nginx:1.10",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "env": [{"name": "MODE", "value": "a"}]
                }]}
            }
        }
    })
}

fn bytes(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).expect("serializes")
}

fn run(live: Option<&Value>, body: Value, ty: &PatchType, now: &str) -> Result<Value, PatchError> {
    patch(DEPLOY, live, &bytes(body), ty, now)
}

fn apply_as(manager: &str, force: bool) -> PatchType {
    PatchType::Apply {
        field_manager: manager.into(),
        force,
    }
}

#[test]
fn kubectl_set_image_is_a_strategic_patch() {
    let out = run(
        Some(&nginx()),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.11"}]}}}}),
        &PatchType::Strategic,
        T1,
    )
    .unwrap();
    let c = &out["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "nginx:1.11");
    assert_eq!(c["env"], json!([{"name": "MODE", "value": "a"}]));
    let d: Deployment = serde_json::from_value(out).expect("still a Deployment");
    assert_eq!(d.spec.unwrap().replicas, Some(2));
}

/// The Kubernetes docs' task "Update API Objects in Place Using kubectl patch": the new
/// container comes first (no `$setElementOrder` in a hand-written patch), and tolerations, which
/// have no patch strategy, are replaced.
#[test]
fn kubernetes_docs_patch_demo() {
    let live = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "patch-demo"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {
                     "containers": [{"name": "patch-demo-ctr", "image": "nginx"}],
                     "tolerations": [{"effect": "NoSchedule", "key": "dedicated", "value": "test-team"}]}}}
    });
    let out = run(
        Some(&live),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}}}),
        &PatchType::Strategic,
        T1,
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "patch-demo-ctr-2", "image": "redis"}, {"name": "patch-demo-ctr", "image": "nginx"}])
    );
    let out = run(
        Some(&out),
        json!({"spec": {"template": {"spec": {"tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}}}}),
        &PatchType::Strategic,
        T1,
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["tolerations"],
        json!([{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}])
    );
}

#[test]
fn kubectl_rollout_pause_and_scale_patches() {
    let paused = run(
        Some(&nginx()),
        json!({"spec":{"paused":true}}),
        &PatchType::Strategic,
        T1,
    )
    .unwrap();
    assert_eq!(paused["spec"]["paused"], true);
    let resumed = run(
        Some(&paused),
        json!({"spec":{"paused":null}}),
        &PatchType::Merge,
        T1,
    )
    .unwrap();
    assert!(resumed["spec"].get("paused").is_none());
    let scaled = run(
        Some(&resumed),
        json!([{"op":"test","path":"/spec/replicas","value":2},
               {"op":"replace","path":"/spec/replicas","value":3}]),
        &PatchType::Json,
        T1,
    )
    .unwrap();
    assert_eq!(scaled["spec"]["replicas"], 3);
}

#[test]
fn refusals_map_to_upstream_statuses() {
    let live = nginx();
    // A JSON patch whose test fails: 422.
    let e = run(
        Some(&live),
        json!([{"op":"test","path":"/spec/replicas","value":9}]),
        &PatchType::Json,
        T1,
    )
    .unwrap_err();
    assert_eq!((e.code(), e.reason()), (422, Reason::Invalid));
    // Bodies that do not decode: 400.
    for ty in [PatchType::Json, PatchType::Merge, PatchType::Strategic] {
        let e = patch(DEPLOY, Some(&live), b"{not json", &ty, T1).unwrap_err();
        assert_eq!(e.reason(), Reason::BadRequest, "{ty:?}");
    }
    // Strategic merge on a custom resource: 415, before anything else.
    let widget = TypeRef::new("example.com/v1", "Widget");
    let e = patch(widget, None, b"{}", &PatchType::Strategic, T1).unwrap_err();
    let api: ApiError = e.into();
    assert_eq!(api.reason, Reason::UnsupportedMediaType);
    assert!(
        api.message
            .starts_with("the body of the request was in an unknown format")
    );
    // A patch that replaces the object with a non-object: 400.
    let e = run(Some(&live), json!(["x"]), &PatchType::Merge, T1).unwrap_err();
    assert_eq!(e.reason(), Reason::BadRequest);
    let e = run(
        Some(&live),
        json!([{"op":"replace","path":"","value":3}]),
        &PatchType::Json,
        T1,
    )
    .unwrap_err();
    assert_eq!(e.reason(), Reason::BadRequest);
    // Patching nothing: 404 (apply creates instead).
    assert_eq!(
        run(None, json!({}), &PatchType::Merge, T1).unwrap_err(),
        PatchError::NotFound
    );
}

/// `kubectl apply --server-side`, `kubectl scale` (an update), and a second apply that
/// conflicts, then wins with `--force-conflicts`.
#[test]
fn server_side_apply_workflow() {
    let mut manifest = nginx();
    for k in ["uid", "resourceVersion", "namespace"] {
        manifest["metadata"].as_object_mut().unwrap().remove(k);
    }
    manifest["spec"].as_object_mut().unwrap().remove("strategy");
    let created = run(None, manifest.clone(), &apply_as("kubectl", false), T1).unwrap();
    let d: Deployment = serde_json::from_value(created.clone()).expect("decodes with k8s-openapi");
    let mf = d.metadata.managed_fields.expect("managed fields");
    assert_eq!(mf.len(), 1);
    assert_eq!(mf[0].manager.as_deref(), Some("kubectl"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));

    let mut scaled = created.clone();
    scaled["spec"]["replicas"] = json!(5);
    let scaled = apply::update_managed_fields(Some(&created), &scaled, "kubectl-scale", T2);

    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.11");
    let e = run(
        Some(&scaled),
        manifest.clone(),
        &apply_as("kubectl", false),
        T2,
    )
    .unwrap_err();
    let api: ApiError = e.into();
    assert_eq!(api.reason, Reason::Conflict);
    assert_eq!(
        api.message,
        format!(
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1 at {T2}: .spec.replicas"
        )
    );
    assert_eq!(api.causes[0].field, ".spec.replicas");

    let forced = run(Some(&scaled), manifest, &apply_as("kubectl", true), T2).unwrap();
    assert_eq!(forced["spec"]["replicas"], 2);
    assert_eq!(
        forced["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.11"
    );
    // kubectl-scale owned only replicas; it lost it, so its entry is gone.
    let managers: Vec<&str> = forced["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["kubectl"]);
}

/// Content types and query parameters as kubectl and kube-rs send them.
#[test]
fn patch_type_from_request() {
    let t = |ct: &str, fm: Option<&str>, force: Option<bool>| {
        PatchType::from_request(ct, fm, force, true)
    };
    assert_eq!(
        t("application/json-patch+json", None, None),
        Ok(PatchType::Json)
    );
    assert_eq!(
        t(
            "application/merge-patch+json; charset=utf-8",
            Some("kubectl-patch"),
            None
        ),
        Ok(PatchType::Merge)
    );
    assert_eq!(
        t("application/strategic-merge-patch+json", None, None),
        Ok(PatchType::Strategic)
    );
    assert_eq!(
        t("application/apply-patch+yaml", Some("kubectl"), Some(true)),
        Ok(apply_as("kubectl", true))
    );
    let e = t("application/apply-patch+yaml", None, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(e.code(), 422);
    let api: ApiError = t("application/merge-patch+json", None, Some(false))
        .unwrap_err()
        .into();
    assert_eq!(api.reason, Reason::Invalid);
    assert_eq!(api.causes[0].field, "force");
    let e = t("text/plain", None, None).unwrap_err();
    assert_eq!(e.code(), 415);
    assert!(
        e.to_string()
            .ends_with("application/strategic-merge-patch+json"),
        "{e}"
    );
    let custom = PatchType::from_request("text/plain", None, None, false).unwrap_err();
    assert!(!custom.to_string().contains("strategic"), "{custom}");
}

/// kube-rs `Patch::Apply` sends JSON; kubectl sends YAML.
#[test]
fn apply_accepts_yaml() {
    let body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n";
    let out = patch(
        TypeRef::new("v1", "ConfigMap"),
        None,
        body,
        &apply_as("kubectl", false),
        T1,
    )
    .unwrap();
    assert_eq!(out["data"], json!({"a": "1"}));
    assert_eq!(
        out["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("spec".to_string()),
        Just("template".to_string()),
        Just("containers".to_string()),
        Just("name".to_string()),
        Just("env".to_string()),
        Just("ports".to_string()),
        Just("containerPort".to_string()),
        Just("$patch".to_string()),
        Just("$retainKeys".to_string()),
        Just("$setElementOrder/containers".to_string()),
        Just("$deleteFromPrimitiveList/finalizers".to_string()),
        Just("metadata".to_string()),
        Just("finalizers".to_string()),
        Just("apiVersion".to_string()),
        Just("kind".to_string()),
        "[a-z]{1,3}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..100).prop_map(|n| json!(n)),
        prop_oneof![
            Just("delete"),
            Just("replace"),
            Just("merge"),
            Just("nginx"),
            Just("apps/v1"),
            Just("Deployment"),
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No body, of any patch type, panics: each is a result.
    #[test]
    fn no_patch_body_panics(body in arb_json(), force in any::<bool>()) {
        let live = nginx();
        let raw = bytes(body.clone());
        for ty in [PatchType::Json, PatchType::Merge, PatchType::Strategic, apply_as("m", force)] {
            let _ = patch(DEPLOY, Some(&live), &raw, &ty, T1);
        }
        // JSON patch ops built from the random value.
        let ops = json!([{"op":"add","path":"/spec/template/spec/containers/-","value":body.clone()},
                         {"op":"move","from":"/spec/replicas","path":"/spec/x"}]);
        let _ = patch(DEPLOY, Some(&live), &bytes(ops), &PatchType::Json, T1);
        // Apply a mangled object over a mangled live object.
        let mut cfg = nginx();
        cfg["spec"]["template"] = body.clone();
        let _ = patch(DEPLOY, Some(&cfg), &bytes(cfg.clone()), &apply_as("m", force), T1);
        let _ = apply::update_managed_fields(Some(&live), &cfg, "u", T1);
    }

    /// Applying the same configuration twice by the same manager is a fixed point.
    #[test]
    fn apply_is_idempotent(replicas in 0i64..10, image in "[a-z]{1,5}") {
        let mut cfg = nginx();
        cfg["spec"]["replicas"] = json!(replicas);
        cfg["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        let once = patch(DEPLOY, None, &bytes(cfg.clone()), &apply_as("m", false), T1).unwrap();
        let twice = patch(DEPLOY, Some(&once), &bytes(cfg), &apply_as("m", false), T1).unwrap();
        prop_assert_eq!(once, twice);
    }
}

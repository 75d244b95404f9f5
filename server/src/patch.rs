//! PATCH bodies and field ownership: the server's side of the engine's patch module
//! ([`kubespec_engine::api::patch`]). See [`apply_patch`], the one function every PATCH goes
//! through, and [`own_update`], which records who changed what on every other write.

use kubespec_engine::api::ApiError;
use kubespec_engine::api::patch::{self, PatchError, PatchType, TypeRef, apply, meta};
use kubespec_engine::api::rest::{ResourceInfo, Status};
use serde_json::Value;

/// The `apiVersion` of a resource's objects (`apps/v1`, `v1`).
fn api_version(r: &ResourceInfo) -> String {
    if r.group.is_empty() {
        r.version.to_string()
    } else {
        format!("{}/{}", r.group, r.version)
    }
}

/// The type a PATCH to `r` (or to its `sub`resource) works on: a `scale` patch edits an
/// `autoscaling/v1` Scale, everything else the resource's own kind.
fn type_of(r: &ResourceInfo, sub: Option<&str>) -> (String, &'static str) {
    match sub {
        Some("scale") => ("autoscaling/v1".to_string(), "Scale"),
        _ => (api_version(r), r.kind),
    }
}

/// An engine patch error as the API server answers it.
fn status(e: PatchError, r: &ResourceInfo, name: &str) -> Status {
    match e {
        PatchError::NotFound => Status::not_found(r, name),
        e => Status::from_api(ApiError::from(e), r, name),
    }
}

/// The patch type of a request: `Content-Type`, `fieldManager` and `force`, checked as
/// upstream's `ValidatePatchOptions` does.
///
/// # Errors
///
/// 415 for an unknown type (strategic merge is listed only for kinds that have it), 422 for
/// `force` without apply or apply without a field manager.
pub fn patch_type(
    r: &ResourceInfo,
    sub: Option<&str>,
    content_type: &str,
    field_manager: Option<&str>,
    force: Option<bool>,
) -> Result<PatchType, Status> {
    let (api_version, kind) = type_of(r, sub);
    let strategic = meta::schema_for(&api_version, kind).is_some();
    PatchType::from_request(content_type, field_manager, force, strategic)
        .map_err(|e| status(e, r, ""))
}

/// Applies a PATCH body to the live object (`None`: there is none) and returns the object to
/// store: JSON patch, merge patch, strategic merge patch with the kind's merge keys, or
/// server-side apply with managedFields (which may create the object). The caller writes the
/// result as an update, so a `metadata.resourceVersion` in the patch is checked, and the engine
/// admits it. `now` is the virtual time, RFC 3339, for managedFields.
///
/// # Errors
///
/// The `Status` the API server answers: 400 for a body that is not a patch of its type, 422
/// when a JSON patch operation fails, 409 for an apply conflict, 404 when there is no live
/// object to patch.
pub fn apply_patch(
    r: &ResourceInfo,
    sub: Option<&str>,
    name: &str,
    live: Option<&Value>,
    body: &[u8],
    patch_type: &PatchType,
    now: &str,
) -> Result<Value, Status> {
    let (api_version, kind) = type_of(r, sub);
    patch::patch(
        TypeRef::new(&api_version, kind),
        live,
        body,
        patch_type,
        now,
    )
    .map_err(|e| status(e, r, name))
}

/// The field manager of a write that names none: upstream's `prefixFromUserAgent`, the user
/// agent up to its first `/` (`kubectl`, `kube-rs`), at most 128 characters.
pub fn manager_from_user_agent(user_agent: Option<&str>) -> String {
    let m = user_agent.unwrap_or("").split('/').next().unwrap_or("");
    m.chars().take(128).collect()
}

/// Records an `Update` by `manager` in `new`'s managedFields: the fields it set or changed
/// relative to `old` become its own, as the API server's field manager does for every create,
/// update and non-apply patch. `sub` names the subresource written through (`status`).
pub fn own_update(
    r: &ResourceInfo,
    sub: Option<&str>,
    old: Option<&Value>,
    new: Value,
    manager: &str,
    now: &str,
) -> Value {
    if manager.is_empty() || sub == Some("scale") {
        return new;
    }
    let api_version = api_version(r);
    apply::record_update(
        TypeRef::new(&api_version, r.kind),
        old,
        &new,
        manager,
        sub,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubespec_engine::api::rest;
    use serde_json::json;

    fn r(plural: &str) -> &'static ResourceInfo {
        rest::find(
            if plural == "deployments" { "apps" } else { "" },
            "v1",
            plural,
        )
        .unwrap()
    }

    const NOW: &str = "2025-01-01T00:00:00Z";

    #[test]
    fn merge_and_json_patches_apply_and_a_failed_test_is_invalid() {
        let cm = r("configmaps");
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1", "b": "2"}});
        let merge = patch_type(cm, None, "application/merge-patch+json", None, None).unwrap();
        let out = apply_patch(
            cm,
            None,
            "x",
            Some(&live),
            br#"{"data": {"a": null}}"#,
            &merge,
            NOW,
        )
        .unwrap();
        assert_eq!(out["data"], json!({"b": "2"}));
        let jp = patch_type(cm, None, "application/json-patch+json", None, None).unwrap();
        let e = apply_patch(
            cm,
            None,
            "x",
            Some(&live),
            br#"[{"op": "test", "path": "/data/a", "value": "9"}]"#,
            &jp,
            NOW,
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
        let e = apply_patch(cm, None, "x", Some(&live), b"{", &jp, NOW).unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let d = r("deployments");
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "web:1"}, {"name": "log", "image": "log:1"}]}}}});
        let smp = patch_type(
            d,
            None,
            "application/strategic-merge-patch+json",
            None,
            None,
        )
        .unwrap();
        let out = apply_patch(
            d,
            None,
            "web",
            Some(&live),
            br#"{"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}}"#,
            &smp,
            NOW,
        )
        .unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "web:2"}, {"name": "log", "image": "log:1"}])
        );
    }

    #[test]
    fn apply_needs_a_field_manager_and_force_needs_apply() {
        let d = r("deployments");
        assert_eq!(
            patch_type(d, None, "application/apply-patch+yaml", None, None)
                .unwrap_err()
                .code,
            422
        );
        assert_eq!(
            patch_type(d, None, "application/merge-patch+json", None, Some(true))
                .unwrap_err()
                .code,
            422
        );
        let e = patch_type(d, None, "text/plain", None, None).unwrap_err();
        assert_eq!(e.code, 415);
        assert!(e.message.contains("strategic-merge-patch"), "{}", e.message);
        // Custom kinds and the generic ones without patch metadata do not list it.
        let e = patch_type(r("configmaps"), Some("scale"), "text/plain", None, None).unwrap_err();
        assert!(
            !e.message.contains("strategic-merge-patch"),
            "{}",
            e.message
        );
    }

    #[test]
    fn an_apply_conflict_is_a_409_with_a_cause_per_field() {
        let d = r("deployments");
        let config = |replicas: i32| {
            serde_json::to_vec(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"}, "spec": {"replicas": replicas}}))
            .unwrap()
        };
        let alice =
            patch_type(d, None, "application/apply-patch+yaml", Some("alice"), None).unwrap();
        let live = apply_patch(d, None, "web", None, &config(2), &alice, NOW).unwrap();
        let bob = patch_type(d, None, "application/apply-patch+yaml", Some("bob"), None).unwrap();
        let e = apply_patch(d, None, "web", Some(&live), &config(3), &bob, NOW).unwrap_err();
        assert_eq!(e.code, 409);
        assert_eq!(e.reason, "Conflict");
        let forced = patch_type(
            d,
            None,
            "application/apply-patch+yaml",
            Some("bob"),
            Some(true),
        )
        .unwrap();
        let out = apply_patch(d, None, "web", Some(&live), &config(3), &forced, NOW).unwrap();
        assert_eq!(out["spec"]["replicas"], 3);
    }

    #[test]
    fn managers_come_from_the_user_agent() {
        assert_eq!(
            manager_from_user_agent(Some("kubectl/v1.32.4 (linux/amd64) kubernetes/abc")),
            "kubectl"
        );
        assert_eq!(manager_from_user_agent(None), "");
    }

    #[test]
    fn an_update_owns_the_fields_it_changed() {
        let d = r("deployments");
        let old = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}, "spec": {"replicas": 1}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        let out = own_update(d, None, Some(&old), new, "kubectl", NOW);
        let mf = &out["metadata"]["managedFields"][0];
        assert_eq!(mf["manager"], "kubectl");
        assert_eq!(mf["operation"], "Update");
        assert_eq!(mf["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
    }
}

//! Patches as `kubectl patch` applies them by default (`--type strategic`) to the kinds kubespec
//! simulates. See [`try_merge_patch`].
//!
//! Delegates to the engine's strategic merge patch
//! ([`kubespec_engine::api::patch::strategic`]) with the kind read from the object's
//! `apiVersion` and `kind`: containers and env merge by `name`, ports by `containerPort`,
//! `$patch: delete`/`replace` and the other directives work, lists without a strategy are
//! replaced. A kind without patch metadata gets a JSON merge patch (RFC 7386), which is what
//! the API server accepts for it.

use kubespec_engine::api::patch::{PatchError, merge, meta, strategic};
use serde_json::Value;

/// Applies `patch` to `target` in place, as a strategic merge patch when `target`'s kind has
/// patch metadata and as a JSON merge patch otherwise.
///
/// # Errors
///
/// The API server's `BadRequest` for a malformed strategic patch (an unknown `$patch`, a list
/// element without its merge key, ...); `target` is left unchanged then.
pub fn try_merge_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let field = |k: &str| target.get(k).and_then(Value::as_str).unwrap_or_default();
    *target = match meta::schema_for(field("apiVersion"), field("kind")) {
        Some(schema) => strategic::strategic_merge_patch(target, patch, schema)?,
        None => merge::merge_patch(target, patch),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec})
    }

    #[test]
    fn containers_merge_by_name_and_null_deletes() {
        let mut d = deployment(
            json!({"replicas": 3, "paused": true, "template": {"spec": {"containers": [
            {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}),
        );
        try_merge_patch(
            &mut d,
            &json!({"spec": {"paused": null, "template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}),
        )
        .unwrap();
        assert_eq!(
            d,
            deployment(json!({"replicas": 3, "template": {"spec": {"containers": [
                {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]}}}))
        );
    }

    #[test]
    fn plain_lists_are_replaced() {
        let mut d = deployment(json!({"template": {"spec": {"containers": [
            {"name": "a", "args": ["a", "b"]}]}}}));
        try_merge_patch(
            &mut d,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "args": ["c"]}]}}}}),
        )
        .unwrap();
        assert_eq!(
            d,
            deployment(
                json!({"template": {"spec": {"containers": [{"name": "a", "args": ["c"]}]}}})
            )
        );
    }

    #[test]
    fn strategic_directives_work() {
        let mut d = deployment(json!({"template": {"spec": {"containers": [
            {"name": "a", "env": [{"name": "X", "value": "1"}], "ports": [{"containerPort": 80}]},
            {"name": "b"}]}}}));
        try_merge_patch(
            &mut d,
            &json!({"spec": {"template": {"spec": {"containers": [
                {"name": "b", "$patch": "delete"},
                {"name": "a", "env": [{"name": "Y", "value": "2"}], "ports": [{"containerPort": 80, "name": "http"}]}]}}}}),
        )
        .expect("a valid strategic patch");
        assert_eq!(
            d,
            deployment(json!({"template": {"spec": {"containers": [
                {"name": "a", "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "1"}],
                 "ports": [{"containerPort": 80, "name": "http"}]}]}}}))
        );
    }

    #[test]
    fn malformed_strategic_patches_are_errors_and_change_nothing() {
        let original = deployment(json!({"template": {"spec": {"containers": [{"name": "a"}]}}}));
        let mut d = original.clone();
        let e = try_merge_patch(
            &mut d,
            &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "map: map[image:x] does not contain declared merge key: name"
        );
        assert_eq!(d, original);
    }

    #[test]
    fn kinds_without_metadata_get_a_merge_patch() {
        let mut w = json!({"apiVersion": "example.com/v1", "kind": "Widget",
                           "spec": {"items": [{"name": "a", "v": 1}]}});
        try_merge_patch(&mut w, &json!({"spec": {"items": [{"name": "a"}]}})).unwrap();
        assert_eq!(w["spec"]["items"], json!([{"name": "a"}]));
    }
}

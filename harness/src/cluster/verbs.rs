//! kubectl's verbs over the API, with kubectl's semantics: `set image` and `scale` as patches,
//! `rollout pause`/`resume` with kubectl's messages, and `rollout undo` with kubectl's
//! client-side algorithm (the plan from [`crate::kubectl::undo`], sent as the JSON patch
//! kubectl sends). The plans are pure functions here, unit-tested without a cluster.

use crate::kubectl::UndoPlan;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Value, json};

/// The JSON patch `kubectl rollout undo deployment` sends for a plan
/// (`DeploymentRollbacker.Rollback`: replace the template and the annotations). `None` for a
/// plan that skips the rollback.
pub fn undo_patch(plan: &UndoPlan) -> Option<Value> {
    match plan {
        UndoPlan::Skip(_) => None,
        UndoPlan::Patch {
            template,
            annotations,
        } => Some(json!([
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ])),
    }
}

/// The JSON patch `kubectl rollout undo statefulset` sends: the revision's template.
pub fn stateful_set_undo_patch(template: &PodTemplateSpec) -> Value {
    json!([{"op": "replace", "path": "/spec/template", "value": template}])
}

/// The strategic merge patch `kubectl set image` sends: every container named `container`
/// (every container for `None`) gets `image`.
///
/// # Errors
///
/// No container has that name: kubectl's message.
pub fn set_image_patch(
    template: Option<&PodTemplateSpec>,
    container: Option<&str>,
    image: &str,
) -> Result<Value, String> {
    let names: Vec<&str> = template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let chosen: Vec<&str> = names
        .into_iter()
        .filter(|n| container.is_none_or(|c| c == *n))
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "unable to find container named \"{}\"",
            container.unwrap_or("*")
        ));
    }
    let containers: Vec<Value> = chosen
        .iter()
        .map(|n| json!({"name": n, "image": image}))
        .collect();
    Ok(json!({"spec": {"template": {"spec": {"containers": containers}}}}))
}

/// `kubectl rollout pause` / `resume`: the merge patch, or kubectl's refusal when the
/// Deployment is already in that state. Resuming clears the field, as kubectl's patch does.
pub fn pause_patch(name: &str, now_paused: bool, pause: bool) -> Result<Value, String> {
    if now_paused == pause {
        let state = if pause {
            "already paused"
        } else {
            "not paused"
        };
        return Err(format!("deployments.apps \"{name}\" is {state}"));
    }
    Ok(json!({"spec": {"paused": if pause { json!(true) } else { Value::Null }}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": image}, {"name": "log", "image": "log:1"}]}
        }))
        .unwrap()
    }

    fn rs(revision: &str, image: &str) -> k8s_openapi::api::apps::v1::ReplicaSet {
        let mut t = serde_json::to_value(template(image)).unwrap();
        t["metadata"]["labels"]["pod-template-hash"] = format!("h{revision}").into();
        serde_json::from_value(json!({
            "metadata": {"name": format!("web-h{revision}"), "annotations": {
                "deployment.kubernetes.io/revision": revision, "note": revision}},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": t}
        }))
        .unwrap()
    }

    fn deployment(image: &str) -> k8s_openapi::api::apps::v1::Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template(image)}
        }))
        .unwrap()
    }

    #[test]
    fn undo_to_the_previous_revision_replaces_template_and_annotations() {
        let d = deployment("web:v2");
        let rss = [rs("1", "web:v1"), rs("2", "web:v2")];
        let plan = crate::kubectl::undo(&d, &rss, 0).unwrap();
        let patch = undo_patch(&plan).expect("a rollback");
        assert_eq!(patch[0]["path"], "/spec/template");
        assert_eq!(
            patch[0]["value"]["spec"]["containers"][0]["image"],
            "web:v1"
        );
        // The pod-template-hash label is kubectl's to strip.
        assert!(
            patch[0]["value"]["metadata"]["labels"]
                .get("pod-template-hash")
                .is_none()
        );
        assert_eq!(patch[1]["path"], "/metadata/annotations");
        let annotations: BTreeMap<String, String> =
            serde_json::from_value(patch[1]["value"].clone()).unwrap();
        // The Deployment keeps its revision annotation; the ReplicaSet's other ones come along.
        assert_eq!(annotations["deployment.kubernetes.io/revision"], "2");
        assert_eq!(annotations["note"], "1");
    }

    #[test]
    fn undo_to_the_current_template_is_skipped_and_an_unknown_revision_refused() {
        let d = deployment("web:v2");
        let rss = [rs("1", "web:v1"), rs("2", "web:v2")];
        let plan = crate::kubectl::undo(&d, &rss, 2).unwrap();
        assert_eq!(undo_patch(&plan), None);
        let e = crate::kubectl::undo(&d, &rss, 7).unwrap_err();
        assert_eq!(e, "unable to find specified revision 7 in history");
    }

    #[test]
    fn set_image_names_the_containers_or_refuses() {
        let t = template("web:v1");
        let p = set_image_patch(Some(&t), Some("app"), "web:v2").unwrap();
        assert_eq!(
            p,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:v2"}]}}}})
        );
        let all = set_image_patch(Some(&t), None, "x:1").unwrap();
        assert_eq!(
            all["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            set_image_patch(Some(&t), Some("nope"), "x:1").unwrap_err(),
            "unable to find container named \"nope\""
        );
    }

    #[test]
    fn pause_and_resume_refuse_the_state_they_are_in() {
        assert_eq!(
            pause_patch("web", false, true).unwrap(),
            json!({"spec": {"paused": true}})
        );
        assert_eq!(
            pause_patch("web", true, false).unwrap(),
            json!({"spec": {"paused": null}})
        );
        assert_eq!(
            pause_patch("web", true, true).unwrap_err(),
            "deployments.apps \"web\" is already paused"
        );
        assert_eq!(
            pause_patch("web", false, false).unwrap_err(),
            "deployments.apps \"web\" is not paused"
        );
    }
}

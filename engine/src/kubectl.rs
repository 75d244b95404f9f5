//! kubectl's client-side logic for Deployments: `create deployment`, `rollout status`,
//! `rollout history` and `rollout undo`. Pure functions over API objects, shared by every backend.
//!
//! Mirrors `staging/src/k8s.io/kubectl/pkg/polymorphichelpers/{rollout_status.go,
//! history.go, rollback.go}`.

use crate::controllers::deployment::util::{self, REVISION_ANNOTATION};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

/// A Deployment as `kubectl create deployment <name> --image=<image> --replicas=<n>` makes it.
pub fn simple_deployment(name: &str, replicas: i32, image: &str) -> Deployment {
    let labels = BTreeMap::from([("app".to_string(), name.to_string())]);
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: name.into(),
                        image: Some(image.into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

/// What `kubectl rollout status` prints for the current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RolloutStatus {
    /// Still waiting; the message kubectl prints (without the trailing newline).
    Waiting(String),
    /// `deployment "web" successfully rolled out`.
    Done(String),
    /// A failure kubectl reports as `error: <message>` with exit code 1.
    Error(String),
}

impl RolloutStatus {
    /// The line kubectl prints: errors carry the `error: ` prefix.
    pub fn line(&self) -> String {
        match self {
            RolloutStatus::Waiting(m) | RolloutStatus::Done(m) => m.clone(),
            RolloutStatus::Error(m) => format!("error: {m}"),
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, RolloutStatus::Done(_))
    }
}

/// `DeploymentStatusViewer.Status`. `revision` is `--revision` (0 = any).
pub fn rollout_status(d: &Deployment, revision: i64) -> RolloutStatus {
    let name = d.metadata.name.as_deref().unwrap_or("");
    let st = d.status.clone().unwrap_or_default();
    if revision > 0 {
        let current: i64 = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION_ANNOTATION))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if current != revision {
            return RolloutStatus::Error(format!(
                "desired revision ({revision}) is different from the running revision ({current})"
            ));
        }
    }
    if d.metadata.generation.unwrap_or(0) <= st.observed_generation.unwrap_or(0) {
        if util::get_condition(&st, "Progressing")
            .is_some_and(|c| c.reason.as_deref() == Some(util::TIMED_OUT_REASON))
        {
            return RolloutStatus::Error(format!(
                "deployment \"{name}\" exceeded its progress deadline"
            ));
        }
        let (updated, replicas, available) = (
            st.updated_replicas.unwrap_or(0),
            st.replicas.unwrap_or(0),
            st.available_replicas.unwrap_or(0),
        );
        let want = util::replicas(d);
        if updated < want {
            return RolloutStatus::Waiting(format!(
                "Waiting for deployment \"{name}\" rollout to finish: {updated} out of {want} new replicas have been updated..."
            ));
        }
        if replicas > updated {
            return RolloutStatus::Waiting(format!(
                "Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...",
                replicas - updated
            ));
        }
        if available < updated {
            return RolloutStatus::Waiting(format!(
                "Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."
            ));
        }
        return RolloutStatus::Done(format!("deployment \"{name}\" successfully rolled out"));
    }
    RolloutStatus::Waiting("Waiting for deployment spec update to be observed...".into())
}

/// One row of `kubectl rollout history`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub revision: i64,
    pub change_cause: String,
}

/// The revision annotation of a ReplicaSet, when it has a readable one (kubectl skips the rest).
fn revision_of(rs: &ReplicaSet) -> Option<i64> {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .and_then(|v| v.parse().ok())
}

/// `DeploymentHistoryViewer`: one entry per owned ReplicaSet with a revision, by revision.
pub fn history(rss: &[ReplicaSet]) -> Vec<HistoryEntry> {
    let mut by_rev: BTreeMap<i64, String> = BTreeMap::new();
    for rs in rss {
        let Some(rev) = revision_of(rs) else {
            continue;
        };
        let cause = rs
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("kubernetes.io/change-cause"))
            .cloned()
            .unwrap_or_else(|| "<none>".into());
        by_rev.insert(rev, cause);
    }
    by_rev
        .into_iter()
        .map(|(revision, change_cause)| HistoryEntry {
            revision,
            change_cause,
        })
        .collect()
}

/// The table kubectl prints (tabwriter, padding 2): `REVISION  CHANGE-CAUSE` and one line per
/// revision; `No rollout history found.` when empty.
pub fn format_history(entries: &[HistoryEntry]) -> String {
    if entries.is_empty() {
        return "No rollout history found.".into();
    }
    let width = entries
        .iter()
        .map(|e| e.revision.to_string().len())
        .max()
        .unwrap_or(0)
        .max("REVISION".len())
        + 2;
    let mut out = format!("{:<width$}CHANGE-CAUSE\n", "REVISION");
    for e in entries {
        out.push_str(&format!("{:<width$}{}\n", e.revision, e.change_cause));
    }
    out
}

/// What `kubectl rollout undo` will do.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // one short-lived value per undo
pub enum UndoPlan {
    /// `skipped rollback (current template already matches revision N)`: nothing is written.
    Skip(String),
    /// Replace `spec.template` and `metadata.annotations` of the Deployment.
    Patch {
        template: PodTemplateSpec,
        annotations: BTreeMap<String, String>,
    },
}

/// Annotations kubectl keeps from the Deployment rather than the ReplicaSet.
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    util::LAST_APPLIED_ANNOTATION,
    util::REVISION_ANNOTATION,
    util::REVISION_HISTORY_ANNOTATION,
    util::DESIRED_REPLICAS_ANNOTATION,
    util::MAX_REPLICAS_ANNOTATION,
    util::DEPRECATED_ROLLBACK_TO,
];

/// `DeploymentRollbacker.Rollback`: picks the ReplicaSet of `to_revision` (0 = the previous
/// revision) and returns the patch, or kubectl's error text (without `error: `).
pub fn undo(d: &Deployment, rss: &[ReplicaSet], to_revision: i64) -> Result<UndoPlan, String> {
    if to_revision < 0 {
        return Err(format!(
            "unable to find specified revision {to_revision} in history"
        ));
    }
    let name = d.metadata.name.as_deref().unwrap_or("");
    let target = deployment_revision(name, rss, to_revision)?;
    if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
        return Err("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again".into());
    }
    let target_template = util::rs_template(target);
    if util::equal_ignore_hash(&target_template, &util::template(d)) {
        return Ok(UndoPlan::Skip(format!(
            "skipped rollback (current template already matches revision {to_revision})"
        )));
    }
    let template = util::strip_hash(&target_template);
    let mut annotations = BTreeMap::new();
    for k in ANNOTATIONS_TO_SKIP {
        if let Some(v) = d.metadata.annotations.as_ref().and_then(|a| a.get(*k)) {
            annotations.insert(k.to_string(), v.clone());
        }
    }
    for (k, v) in target.metadata.annotations.iter().flatten() {
        if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    Ok(UndoPlan::Patch {
        template,
        annotations,
    })
}

/// `deploymentRevision`: the ReplicaSet with revision `to` or, for 0, the second newest.
fn deployment_revision<'a>(
    name: &str,
    rss: &'a [ReplicaSet],
    to: i64,
) -> Result<&'a ReplicaSet, String> {
    let (mut latest, mut latest_rev, mut previous, mut previous_rev) = (None, -1i64, None, -1i64);
    for rs in rss {
        let Some(v) = revision_of(rs) else {
            continue;
        };
        if to == 0 {
            if latest_rev < v {
                previous_rev = latest_rev;
                previous = latest;
                latest_rev = v;
                latest = Some(rs);
            } else if previous_rev < v {
                previous_rev = v;
                previous = Some(rs);
            }
        } else if to == v {
            return Ok(rs);
        }
    }
    if to > 0 {
        return Err(format!("unable to find specified revision {to} in history"));
    }
    previous.ok_or_else(|| format!("no rollout history found for deployment \"{name}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_table_pads_like_tabwriter() {
        let entries = vec![
            HistoryEntry {
                revision: 1,
                change_cause: "<none>".into(),
            },
            HistoryEntry {
                revision: 3,
                change_cause: "<none>".into(),
            },
        ];
        assert_eq!(
            format_history(&entries),
            "REVISION  CHANGE-CAUSE\n1         <none>\n3         <none>\n"
        );
    }
}

/// The STATUS column of `kubectl get pods` (`printPod` in
/// `pkg/printers/internalversion/printers.go`): the phase, or the reason of the first init
/// container still running or failed (`Init:1/2`, `Init:CrashLoopBackOff`), or the last
/// waiting or terminated reason among the containers (`CrashLoopBackOff`, `Error`,
/// `Completed`), `NotReady` for a completed container beside a running one in a pod that is
/// not Ready, and `Terminating` once deleted.
pub fn pod_status_column(pod: &k8s_openapi::api::core::v1::Pod) -> String {
    use k8s_openapi::api::core::v1::ContainerStatus;
    let empty = Vec::new();
    let status = pod.status.clone().unwrap_or_default();
    let mut reason = status.phase.clone().unwrap_or_default();
    if let Some(r) = status.reason.as_ref().filter(|r| !r.is_empty()) {
        reason = r.clone();
    }
    let init_specs = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .unwrap_or(&empty);
    let sidecar = |name: &str| {
        init_specs
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    let mut initializing = false;
    for (i, c) in status.init_container_statuses.iter().flatten().enumerate() {
        let st = c.state.clone().unwrap_or_default();
        let term = st.terminated.as_ref();
        if term.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar(&c.name) && c.started == Some(true) {
            continue;
        }
        if let Some(t) = term {
            reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None if t.signal.unwrap_or(0) != 0 => {
                    format!("Init:Signal:{}", t.signal.unwrap_or(0))
                }
                None => format!("Init:ExitCode:{}", t.exit_code),
            };
        } else if let Some(r) = st
            .waiting
            .as_ref()
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized {
        let mut has_running = false;
        let statuses: &[ContainerStatus] = status.container_statuses.as_deref().unwrap_or(&[]);
        for c in statuses.iter().rev() {
            let st = c.state.clone().unwrap_or_default();
            if let Some(r) = st
                .waiting
                .as_ref()
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty())
            {
                reason = r.to_string();
            } else if let Some(t) = st.terminated.as_ref() {
                reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => r.to_string(),
                    None if t.signal.unwrap_or(0) != 0 => {
                        format!("Signal:{}", t.signal.unwrap_or(0))
                    }
                    None => format!("ExitCode:{}", t.exit_code),
                };
            } else if c.ready && st.running.is_some() {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if ready { "Running" } else { "NotReady" }.to_string();
        }
    }
    if pod.metadata.deletion_timestamp.is_some() {
        reason = if status.reason.as_deref() == Some("NodeLost") {
            "Unknown".to_string()
        } else {
            "Terminating".to_string()
        };
    }
    reason
}

#[cfg(test)]
mod pod_status_tests {
    use super::pod_status_column;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_status_column_follows_kubectl() {
        let running = pod(
            json!({"metadata": {"name": "a"}, "status": {"phase": "Running",
            "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
                "state": {"running": {}}}]}}),
        );
        assert_eq!(pod_status_column(&running), "Running");
        let crash = pod(
            json!({"metadata": {"name": "a"}, "status": {"phase": "Running",
            "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
        );
        assert_eq!(pod_status_column(&crash), "CrashLoopBackOff");
        let init = pod(json!({"metadata": {"name": "a"},
            "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending",
            "initContainerStatuses": [
                {"name": "i1", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "i2", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"running": {}}}]}}));
        assert_eq!(pod_status_column(&init), "Init:1/2");
        let exit = pod(
            json!({"metadata": {"name": "a"}, "status": {"phase": "Failed",
            "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 2}}}]}}),
        );
        assert_eq!(pod_status_column(&exit), "ExitCode:2");
        let mut gone = running.clone();
        gone.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Default::default()),
        );
        assert_eq!(pod_status_column(&gone), "Terminating");
    }
}

// ---------------------------------------------------------------------------------------------
// StatefulSets: `rollout status`, `rollout history` and `rollout undo`
// ---------------------------------------------------------------------------------------------

/// A StatefulSet as the `Given a statefulset ...` step makes it: the labels `app: <name>`, one
/// container named after the set, and the governing Service of the same name.
pub fn simple_stateful_set(
    name: &str,
    replicas: i32,
    image: &str,
) -> k8s_openapi::api::apps::v1::StatefulSet {
    let d = simple_deployment(name, replicas, image);
    let spec = d.spec.unwrap_or_default();
    k8s_openapi::api::apps::v1::StatefulSet {
        metadata: d.metadata,
        spec: Some(k8s_openapi::api::apps::v1::StatefulSetSpec {
            replicas: spec.replicas,
            selector: spec.selector,
            template: spec.template,
            service_name: Some(name.into()),
            ..Default::default()
        }),
        status: None,
    }
}

/// `StatefulSetStatusViewer.Status`. `--revision` is ignored for StatefulSets.
pub fn stateful_set_rollout_status(s: &k8s_openapi::api::apps::v1::StatefulSet) -> RolloutStatus {
    let spec = s.spec.clone().unwrap_or_default();
    let st = s.status.clone().unwrap_or_default();
    let strategy = spec.update_strategy.unwrap_or_default();
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return RolloutStatus::Error(
            "rollout status is only available for RollingUpdate strategy type".into(),
        );
    }
    let observed = st.observed_generation.unwrap_or(0);
    if observed == 0 || s.metadata.generation.unwrap_or(0) > observed {
        return RolloutStatus::Waiting(
            "Waiting for statefulset spec update to be observed...".into(),
        );
    }
    let replicas = spec.replicas.unwrap_or(1);
    let ready = st.ready_replicas.unwrap_or(0);
    if ready < replicas {
        return RolloutStatus::Waiting(format!(
            "Waiting for {} pods to be ready...",
            replicas - ready
        ));
    }
    let updated = st.updated_replicas.unwrap_or(0);
    if let Some(ru) = strategy.rolling_update
        && let Some(partition) = ru.partition
    {
        if updated < replicas - partition {
            return RolloutStatus::Waiting(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                replicas - partition
            ));
        }
        return RolloutStatus::Done(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        ));
    }
    let update_rev = st.update_revision.unwrap_or_default();
    let current_rev = st.current_revision.unwrap_or_default();
    if update_rev != current_rev {
        return RolloutStatus::Waiting(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}..."
        ));
    }
    RolloutStatus::Done(format!(
        "statefulset rolling update complete {} pods at revision {current_rev}...",
        st.current_replicas.unwrap_or(0)
    ))
}

/// `StatefulSetHistoryViewer`: one entry per ControllerRevision of the set, by revision, with
/// the change cause the revision copied from the set's annotations.
pub fn stateful_set_history(
    revisions: &[k8s_openapi::api::apps::v1::ControllerRevision],
) -> Vec<HistoryEntry> {
    let mut by_rev: BTreeMap<i64, String> = BTreeMap::new();
    for r in revisions {
        let cause = r
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("kubernetes.io/change-cause"))
            .cloned()
            .unwrap_or_else(|| "<none>".into());
        by_rev.insert(r.revision, cause);
    }
    by_rev
        .into_iter()
        .map(|(revision, change_cause)| HistoryEntry {
            revision,
            change_cause,
        })
        .collect()
}

/// `StatefulSetRollbacker.Rollback`: the template of revision `to_revision` (0 = the one
/// before the newest) to write back, `Skip` when the set already has it, or kubectl's error.
pub fn stateful_set_undo(
    s: &k8s_openapi::api::apps::v1::StatefulSet,
    revisions: &[k8s_openapi::api::apps::v1::ControllerRevision],
    to_revision: i64,
) -> Result<Option<PodTemplateSpec>, String> {
    use crate::controllers::statefulset::utils;
    if to_revision < 0 {
        return Err(format!(
            "unable to find specified revision {to_revision} in history"
        ));
    }
    let target = if to_revision == 0 {
        if revisions.len() <= 1 {
            return Err("no last revision to roll back to".into());
        }
        let mut sorted: Vec<_> = revisions.iter().collect();
        sorted.sort_by_key(|r| r.revision);
        sorted[sorted.len() - 2]
    } else {
        revisions
            .iter()
            .find(|r| r.revision == to_revision)
            .ok_or_else(|| format!("unable to find specified revision {to_revision} in history"))?
    };
    if target.data.as_ref().map(|d| &d.0) == Some(&utils::get_patch(s)) {
        return Ok(None);
    }
    utils::revision_template(target)
        .map(Some)
        .ok_or_else(|| format!("revision {} does not hold a pod template", target.revision))
}

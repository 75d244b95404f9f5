//! The Progressing condition and progress deadlines. Mirrors
//! `pkg/controller/deployment/progress.go` and `checkPausedConditions` of `sync.go`.

use super::sync::{calculate_status, update_status};
use super::util::*;
use crate::Cluster;
use crate::cluster::Work;
use crate::store::ObjectKey;
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};

/// `checkPausedConditions`: Progressing becomes Unknown/DeploymentPaused on pause and
/// Unknown/DeploymentResumed on resume; a ProgressDeadlineExceeded condition is never
/// overwritten.
pub(crate) fn check_paused_conditions(c: &mut Cluster, d: &mut Deployment) {
    if !has_progress_deadline(d) {
        return;
    }
    let status = d.status.clone().unwrap_or_default();
    let cond = get_condition(&status, "Progressing");
    if cond.is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT_REASON)) {
        return;
    }
    let paused_cond_exists =
        cond.is_some_and(|c| c.reason.as_deref() == Some(PAUSED_DEPLOY_REASON));
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    let now = c.now();
    let new = if paused && !paused_cond_exists {
        new_condition(
            "Progressing",
            "Unknown",
            PAUSED_DEPLOY_REASON,
            "Deployment is paused".into(),
            now,
        )
    } else if !paused && paused_cond_exists {
        new_condition(
            "Progressing",
            "Unknown",
            RESUMED_DEPLOY_REASON,
            "Deployment is resumed".into(),
            now,
        )
    } else {
        return;
    };
    set_condition(d.status.get_or_insert_with(Default::default), new);
    update_status(c, d);
}

/// `syncRolloutStatus`: the status, the Available condition and, when a deadline is set, the
/// Progressing condition (complete → progressing → timed out, first match wins).
pub(crate) fn sync_rollout_status(
    c: &mut Cluster,
    all: &[ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    d: &mut Deployment,
) {
    let mut new_status = calculate_status(c, all, new_rs, d);
    let now = c.now();
    if !has_progress_deadline(d) {
        remove_condition(&mut new_status, "Progressing");
    }
    let old = d.status.clone().unwrap_or_default();
    let current = get_condition(&old, "Progressing").cloned();
    let is_complete = new_status.replicas == new_status.updated_replicas
        && current
            .as_ref()
            .is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE_REASON));
    if has_progress_deadline(d) && !is_complete {
        let subject = match new_rs {
            Some(rs) => format!(
                "ReplicaSet \"{}\"",
                rs.metadata.name.as_deref().unwrap_or("")
            ),
            None => format!(
                "Deployment \"{}\"",
                d.metadata.name.as_deref().unwrap_or("")
            ),
        };
        if deployment_complete(d, &new_status) {
            let cond = new_condition(
                "Progressing",
                "True",
                NEW_RS_AVAILABLE_REASON,
                format!("{subject} has successfully progressed."),
                now,
            );
            set_condition(&mut new_status, cond);
        } else if deployment_progressing(d, &new_status) {
            let mut cond = new_condition(
                "Progressing",
                "True",
                REPLICA_SET_UPDATED_REASON,
                format!("{subject} is progressing."),
                now,
            );
            if let Some(cur) = &current {
                if cur.status == "True" {
                    cond.last_transition_time = cur.last_transition_time.clone();
                }
                remove_condition(&mut new_status, "Progressing");
            }
            set_condition(&mut new_status, cond);
        } else if deployment_timed_out(d, &new_status, now) {
            let cond = new_condition(
                "Progressing",
                "False",
                TIMED_OUT_REASON,
                format!("{subject} has timed out progressing."),
                now,
            );
            set_condition(&mut new_status, cond);
        }
    }
    match replica_failure(all, new_rs) {
        Some(cond) => set_condition(&mut new_status, cond),
        None => remove_condition(&mut new_status, "ReplicaFailure"),
    }
    if d.status.as_ref() == Some(&new_status) {
        requeue_stuck_deployment(c, d, &new_status);
        return;
    }
    d.status = Some(new_status);
    update_status(c, d);
}

/// `getReplicaFailures`: a ReplicaFailure condition of the new ReplicaSet, else of any.
fn replica_failure(all: &[ReplicaSet], new_rs: Option<&ReplicaSet>) -> Option<DeploymentCondition> {
    let failure = |rs: &ReplicaSet| {
        rs.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "ReplicaFailure")
            .map(|c| DeploymentCondition {
                type_: "ReplicaFailure".into(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_update_time: c.last_transition_time.clone(),
                last_transition_time: c.last_transition_time.clone(),
            })
    };
    new_rs
        .and_then(failure)
        .or_else(|| all.iter().find_map(failure))
}

/// `requeueStuckDeployment`: with no progress, look again at
/// `lastUpdateTime + progressDeadlineSeconds − now + 1 s`.
///
/// Example: last progress at 00:00:10, deadline 60 s, now 00:00:12 → after 58 s (+1 s):
/// re-synced at 00:01:11, when 10 + 60 < 71 holds and the deadline is exceeded.
fn requeue_stuck_deployment(c: &mut Cluster, d: &Deployment, new_status: &DeploymentStatus) {
    let old = d.status.clone().unwrap_or_default();
    let Some(cur) = get_condition(&old, "Progressing") else {
        return;
    };
    if !has_progress_deadline(d)
        || deployment_complete(d, new_status)
        || cur.reason.as_deref() == Some(TIMED_OUT_REASON)
    {
        return;
    }
    let Some(last) = cur.last_update_time.as_ref() else {
        return;
    };
    let deadline = d
        .spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600)
        .max(0) as u64;
    let due = Millis::from_time(last) + Millis::from_secs(deadline);
    let now = c.now();
    let key = ObjectKey::of(&d.metadata);
    if due < now + Millis::from_secs(1) {
        // Upstream re-queues rate-limited (`enqueueRateLimited`) until the deadline passes; the
        // first instant it can pass is one millisecond after it.
        let at = if due >= now {
            due + Millis(1)
        } else {
            now + c.deployment_queue_limiter.when(now)
        };
        c.requeue_after(Work::SyncDeployment(key), at - now);
    } else {
        c.requeue_after(Work::SyncDeployment(key), due - now + Millis::from_secs(1));
    }
}

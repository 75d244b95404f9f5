//! Helpers of the Deployment controller. Mirrors
//! `pkg/controller/deployment/util/deployment_util.go` and the ReplicaSet sort orders of
//! `pkg/controller/controller_utils.go`; names follow upstream in snake_case.

use crate::store::controller_ref;
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentSpec, DeploymentStatus, ReplicaSet,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::cmp::Ordering;
use std::collections::BTreeMap;

pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";
pub const DEPRECATED_ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
pub const DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY: &str = "pod-template-hash";
/// `maxRevHistoryLengthInChars`.
pub const MAX_REV_HISTORY_LENGTH_IN_CHARS: usize = 2000;

// Condition reasons (deployment_util.go).
pub const NEW_RS_NEW_REPLICAS_REASON: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS_REASON: &str = "FoundNewReplicaSet";
pub const NEW_RS_AVAILABLE_REASON: &str = "NewReplicaSetAvailable";
pub const REPLICA_SET_UPDATED_REASON: &str = "ReplicaSetUpdated";
pub const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
pub const PAUSED_DEPLOY_REASON: &str = "DeploymentPaused";
pub const RESUMED_DEPLOY_REASON: &str = "DeploymentResumed";
pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
pub const FAILED_RS_CREATE_REASON: &str = "ReplicaSetCreateError";

pub fn spec(d: &Deployment) -> DeploymentSpec {
    d.spec.clone().unwrap_or_default()
}

/// `*(d.Spec.Replicas)` (defaulted to 1).
pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `*(rs.Spec.Replicas)`.
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

pub fn rs_status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map(|s| s.replicas).unwrap_or(0)
}

pub fn rs_ready(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

pub fn is_rolling_update(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

pub fn is_recreate(d: &Deployment) -> bool {
    !is_rolling_update(d)
}

/// `intstrutil.GetScaledValueFromIntOrPercent`: an int as is; a percent of `total`, rounded up
/// or down. `None` for a malformed percent (validation refuses those).
pub fn scaled_value(v: &IntOrString, total: i32, round_up: bool) -> Option<i32> {
    match v {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.parse().ok()?;
            let num = pct * total as i64;
            Some(if round_up {
                (num + 99).div_euclid(100)
            } else {
                num.div_euclid(100)
            } as i32)
        }
    }
}

/// `ResolveFenceposts`: maxSurge rounds up, maxUnavailable rounds down, and if both come out 0,
/// maxUnavailable becomes 1.
///
/// Worked example: replicas 10, 25%/25% → surge ceil(2.5) = 3, unavailable floor(2.5) = 2.
/// Replicas 2, maxSurge 0%, maxUnavailable 1% → 0 and 0 → unavailable 1.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let zero = IntOrString::Int(0);
    let surge = scaled_value(max_surge.unwrap_or(&zero), desired, true).unwrap_or(0);
    let mut unavailable =
        scaled_value(max_unavailable.unwrap_or(&zero), desired, false).unwrap_or(0);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

fn fenceposts(d: &Deployment) -> (i32, i32) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
        replicas(d),
    )
}

/// `MaxUnavailable`: 0 for Recreate or zero replicas; otherwise the resolved value, at most
/// `replicas`.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling_update(d) || replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(replicas(d))
}

/// `MaxSurge`: 0 for Recreate, else the resolved value.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    fenceposts(d).0
}

/// `NewRSNewReplicas`: how big the new ReplicaSet may be now.
///
/// RollingUpdate: up to `replicas + maxSurge` pods in total, never more than `replicas` in the
/// new set. Example: replicas 3, surge 1, old 3, new 0 → min(4 − 3, 3 − 0) = 1.
/// Recreate: all `replicas` at once.
pub fn new_rs_new_replicas(d: &Deployment, all_rss: &[&ReplicaSet], new_rs_replicas: i32) -> i32 {
    if is_rolling_update(d) {
        let ru = d
            .spec
            .as_ref()
            .and_then(|s| s.strategy.as_ref())
            .and_then(|s| s.rolling_update.as_ref());
        let surge = ru
            .and_then(|r| r.max_surge.as_ref())
            .and_then(|v| scaled_value(v, replicas(d), true))
            .unwrap_or(0);
        let current = replica_count(all_rss);
        let max_total = replicas(d) + surge;
        if current >= max_total {
            return new_rs_replicas;
        }
        let scale_up = (max_total - current).min(replicas(d) - new_rs_replicas);
        new_rs_replicas + scale_up
    } else {
        replicas(d)
    }
}

/// `GetReplicaCountForReplicaSets`: Σ spec.replicas.
pub fn replica_count(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().map(|rs| rs_replicas(rs)).sum()
}

/// `GetActualReplicaCountForReplicaSets`: Σ status.replicas.
pub fn actual_replica_count(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().map(|rs| rs_status_replicas(rs)).sum()
}

pub fn available_replica_count(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().map(|rs| rs_available(rs)).sum()
}

pub fn ready_replica_count(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().map(|rs| rs_ready(rs)).sum()
}

fn created(rs: &ReplicaSet) -> Millis {
    rs.metadata
        .creation_timestamp
        .as_ref()
        .map(Millis::from_time)
        .unwrap_or_default()
}

fn name(rs: &ReplicaSet) -> &str {
    rs.metadata.name.as_deref().unwrap_or("")
}

/// `ReplicaSetsByCreationTimestamp`: older first, then by name.
pub fn by_creation_timestamp(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    created(a)
        .cmp(&created(b))
        .then_with(|| name(a).cmp(name(b)))
}

/// `ReplicaSetsBySizeNewer`: larger first; equal sizes → newer first.
pub fn by_size_newer(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b)
        .cmp(&rs_replicas(a))
        .then_with(|| by_creation_timestamp(b, a))
}

/// `ReplicaSetsBySizeOlder`: larger first; equal sizes → older first.
pub fn by_size_older(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b)
        .cmp(&rs_replicas(a))
        .then_with(|| by_creation_timestamp(a, b))
}

/// `ReplicaSetsByRevision`: lower revision first; ties by creation time.
pub fn by_revision(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    revision(a)
        .cmp(&revision(b))
        .then_with(|| by_creation_timestamp(a, b))
}

/// The `deployment.kubernetes.io/revision` annotation as a number (0 when absent or bad).
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `MaxRevision`.
pub fn max_revision(rss: &[&ReplicaSet]) -> i64 {
    rss.iter().map(|rs| revision(rs)).max().unwrap_or(0)
}

/// Removes the pod-template-hash label; an emptied label map counts as absent (the API's
/// semantic equality treats nil and empty maps alike).
pub fn strip_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(m) = t.metadata.as_mut() {
        if let Some(l) = m.labels.as_mut() {
            l.remove(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY);
            if l.is_empty() {
                m.labels = None;
            }
        }
        if m.annotations.as_ref().is_some_and(|a| a.is_empty()) {
            m.annotations = None;
        }
    }
    t
}

/// `EqualIgnoreHash`: equal pod templates, ignoring the pod-template-hash label. The same
/// verdict as comparing two [`strip_hash`] copies, without copying the pod specs (a Deployment
/// sync compares its template with every ReplicaSet's).
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    if a.spec != b.spec {
        return false;
    }
    let strip_meta = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        let mut m = m.clone();
        if let Some(l) = m.labels.as_mut() {
            l.remove(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY);
            if l.is_empty() {
                m.labels = None;
            }
        }
        if m.annotations.as_ref().is_some_and(|a| a.is_empty()) {
            m.annotations = None;
        }
        m
    };
    match (&a.metadata, &b.metadata) {
        (None, None) => true,
        (Some(ma), Some(mb)) => strip_meta(ma) == strip_meta(mb),
        _ => false,
    }
}

pub fn rs_template(rs: &ReplicaSet) -> PodTemplateSpec {
    rs.spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default()
}

pub fn template(d: &Deployment) -> PodTemplateSpec {
    d.spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default()
}

/// `FindNewReplicaSet`: the oldest ReplicaSet whose template equals the Deployment's.
pub fn find_new_replica_set<'a>(d: &Deployment, rss: &[&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    let mut sorted = rss.to_vec();
    sorted.sort_by(|a, b| by_creation_timestamp(a, b));
    let empty = PodTemplateSpec::default();
    let t = d.spec.as_ref().map_or(&empty, |s| &s.template);
    sorted.into_iter().find(|rs| {
        let rt = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .unwrap_or(&empty);
        equal_ignore_hash(rt, t)
    })
}

/// `ComputeHash`: FNV-32a of the template (plus the collision count), written as decimal and
/// safe-encoded (`rand.SafeEncodeString`).
///
/// NOTE: upstream hashes a `spew` dump of the Go struct, which cannot be reproduced outside Go;
/// this hashes the canonical JSON instead. Names therefore differ from a real cluster's, but
/// have the same shape (`web-5d59d67564`) and the same stability: same template, same hash.
pub fn compute_hash(t: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let json = serde_json::to_vec(t).unwrap_or_default();
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u32;
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    feed(&json);
    if let Some(c) = collision_count {
        feed(&(c as u32).to_le_bytes());
    }
    safe_encode(&h.to_string())
}

/// `rand.SafeEncodeString`.
pub fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

fn skip_copy_annotation(k: &str) -> bool {
    matches!(
        k,
        LAST_APPLIED_ANNOTATION
            | REVISION_ANNOTATION
            | REVISION_HISTORY_ANNOTATION
            | DESIRED_REPLICAS_ANNOTATION
            | MAX_REPLICAS_ANNOTATION
            | DEPRECATED_ROLLBACK_TO
    )
}

/// `copyDeploymentAnnotationsToReplicaSet`.
fn copy_deployment_annotations_to_replica_set(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    for (k, v) in d.metadata.annotations.iter().flatten() {
        if skip_copy_annotation(k) || ann.get(k) == Some(v) {
            continue;
        }
        ann.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, raises the revision to
/// `new_revision` if it is higher (keeping the old number in revision-history, trimmed from the
/// front to 2000 characters), and for a new ReplicaSet sets the replicas annotations.
pub fn set_new_replica_set_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_deployment_annotations_to_replica_set(d, rs);
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old = ann.get(REVISION_ANNOTATION).cloned();
    let old_int = match old.as_deref() {
        None | Some("") => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(v) => v,
            Err(_) => return false,
        },
    };
    if old_int < new_revision {
        ann.insert(REVISION_ANNOTATION.into(), new_revision.to_string());
        changed = true;
    }
    if let Some(old) = old.filter(|_| old_int < new_revision) {
        let history = ann
            .get(REVISION_HISTORY_ANNOTATION)
            .cloned()
            .unwrap_or_default();
        if history.is_empty() {
            ann.insert(REVISION_HISTORY_ANNOTATION.into(), old);
        } else {
            let parts: Vec<&str> = history.split(',').collect();
            let mut total = history.len() + old.len() + 1;
            let mut start = 0;
            while total > MAX_REV_HISTORY_LENGTH_IN_CHARS && start < parts.len() {
                total -= parts[start].len() + 1;
                start += 1;
            }
            if total <= MAX_REV_HISTORY_LENGTH_IN_CHARS {
                let mut kept: Vec<&str> = parts[start..].to_vec();
                kept.push(&old);
                ann.insert(REVISION_HISTORY_ANNOTATION.into(), kept.join(","));
            }
        }
    }
    if !exists && set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

/// `SetReplicasAnnotations`.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in [
        (DESIRED_REPLICAS_ANNOTATION, desired),
        (MAX_REPLICAS_ANNOTATION, max),
    ] {
        if ann.get(k).map(String::as_str) != Some(v.to_string().as_str()) {
            ann.insert(k.into(), v.to_string());
            changed = true;
        }
    }
    changed
}

/// `ReplicasAnnotationsNeedUpdate`.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    let ann = rs.metadata.annotations.as_ref();
    ann.and_then(|a| a.get(DESIRED_REPLICAS_ANNOTATION)) != Some(&desired.to_string())
        || ann.and_then(|a| a.get(MAX_REPLICAS_ANNOTATION)) != Some(&max.to_string())
}

pub fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    rs.metadata
        .annotations
        .as_ref()?
        .get(DESIRED_REPLICAS_ANNOTATION)?
        .parse()
        .ok()
}

pub fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    rs.metadata
        .annotations
        .as_ref()?
        .get(MAX_REPLICAS_ANNOTATION)?
        .parse()
        .ok()
}

/// `SetDeploymentRevision`.
pub fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let ann = d.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if ann.get(REVISION_ANNOTATION).map(String::as_str) != Some(revision) {
        ann.insert(REVISION_ANNOTATION.into(), revision.into());
        return true;
    }
    false
}

/// `HasProgressDeadline`: set and not MaxInt32.
pub fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .is_some_and(|v| v != i32::MAX)
}

/// `HasRevisionHistoryLimit`.
pub fn has_revision_history_limit(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .is_some_and(|v| v != i32::MAX)
}

pub fn get_condition<'a>(
    status: &'a DeploymentStatus,
    type_: &str,
) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// `NewDeploymentCondition`.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Millis,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(now.to_time()),
        last_transition_time: Some(now.to_time()),
    }
}

/// `SetDeploymentCondition`: no change when status and reason are the same; lastTransitionTime
/// kept when only the reason changes; the condition moves to the end of the list.
pub fn set_condition(status: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(cur) = get_condition(status, &cond.type_) {
        if cur.status == cond.status && cur.reason == cond.reason {
            return;
        }
        if cur.status == cond.status {
            cond.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove_condition(status, &cond.type_.clone());
    status.conditions.get_or_insert_with(Vec::new).push(cond);
}

pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(cs) = status.conditions.as_mut() {
        cs.retain(|c| c.type_ != type_);
        if cs.is_empty() {
            status.conditions = None;
        }
    }
}

/// `DeploymentComplete`.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let r = replicas(d);
    s.updated_replicas.unwrap_or(0) == r
        && s.replicas.unwrap_or(0) == r
        && s.available_replicas.unwrap_or(0) == r
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// `DeploymentProgressing`: more updated, fewer old, more ready or more available replicas than
/// in the current status.
pub fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_old = old.replicas.unwrap_or(0) - old.updated_replicas.unwrap_or(0);
    let new_old = new.replicas.unwrap_or(0) - new.updated_replicas.unwrap_or(0);
    new.updated_replicas.unwrap_or(0) > old.updated_replicas.unwrap_or(0)
        || new_old < old_old
        || new.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || new.available_replicas.unwrap_or(0) > old.available_replicas.unwrap_or(0)
}

/// `DeploymentTimedOut`: `lastUpdateTime + progressDeadlineSeconds < now`, unless complete;
/// once timed out, stays timed out.
pub fn deployment_timed_out(d: &Deployment, new: &DeploymentStatus, now: Millis) -> bool {
    if !has_progress_deadline(d) {
        return false;
    }
    let Some(c) = get_condition(new, "Progressing") else {
        return false;
    };
    match c.reason.as_deref() {
        Some(NEW_RS_AVAILABLE_REASON) => return false,
        Some(TIMED_OUT_REASON) => return true,
        _ => {}
    }
    let Some(from) = c.last_update_time.as_ref() else {
        return false;
    };
    let deadline = d
        .spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600);
    Millis::from_time(from) + Millis::from_secs(deadline.max(0) as u64) < now
}

/// Whether a ReplicaSet is controlled by this Deployment.
pub fn is_controlled_by(rs: &ReplicaSet, d: &Deployment) -> bool {
    controller_ref(&rs.metadata).is_some_and(|r| Some(&r.uid) == d.metadata.uid.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        assert_eq!(
            resolve_fenceposts(Some(&s("25%")), Some(&s("25%")), 10),
            (3, 2)
        );
        assert_eq!(
            resolve_fenceposts(Some(&s("25%")), Some(&s("25%")), 1),
            (1, 0)
        );
        assert_eq!(
            resolve_fenceposts(Some(&s("25%")), Some(&s("25%")), 3),
            (1, 0)
        );
        assert_eq!(
            resolve_fenceposts(Some(&s("25%")), Some(&s("25%")), 4),
            (1, 1)
        );
        // D5: both resolve to zero → maxUnavailable 1.
        assert_eq!(
            resolve_fenceposts(Some(&s("0%")), Some(&s("1%")), 2),
            (0, 1)
        );
    }

    #[test]
    fn safe_encoding_maps_digits_like_upstream() {
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
    }
}

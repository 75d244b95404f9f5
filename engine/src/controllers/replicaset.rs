//! The ReplicaSet controller: keeps `spec.replicas` active pods, picks which pods to delete,
//! and reports status. Mirrors `pkg/controller/replicaset/replica_set.go` (`syncReplicaSet`,
//! `manageReplicas`, `getPodsToDelete`), `replica_set_utils.go` (`calculateStatus`) and
//! `pkg/controller/controller_utils.go` (`ActivePodsWithRanks`).
//!
//! Expectations are always satisfied here: a write is visible to the next sync at once.

use crate::Cluster;
use crate::cluster::Work;
use crate::events::EventType;
use crate::labels;
use crate::store::{ObjectKey, controller_ref};
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::cmp::Ordering;
use std::collections::HashMap;

/// `burstReplicas`: at most this many pods are created or deleted per sync.
const BURST_REPLICAS: usize = 500;

/// Annotation that ranks pods for deletion (PodDeletionCost, on by default since 1.22).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// Whether a pod counts towards a ReplicaSet: not terminating and not finished
/// (`controller.IsPodActive`).
pub fn is_pod_active(p: &Pod) -> bool {
    let phase = p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
    p.metadata.deletion_timestamp.is_none() && phase != "Succeeded" && phase != "Failed"
}

/// `podutil.IsPodReady`.
pub fn is_pod_ready(p: &Pod) -> bool {
    ready_condition(p).is_some_and(|c| c.status == "True")
}

fn ready_condition(p: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    p.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready")
}

/// `podutil.IsPodAvailable`: ready, and ready for more than `min_ready_seconds`
/// (`lastTransitionTime + minReadySeconds < now`, strictly).
pub fn is_pod_available(p: &Pod, min_ready_seconds: i32, now: Millis) -> bool {
    let Some(c) = ready_condition(p).filter(|c| c.status == "True") else { return false };
    if min_ready_seconds <= 0 {
        return true;
    }
    match &c.last_transition_time {
        Some(t) => Millis::from_time(t) + Millis::from_secs(min_ready_seconds as u64) < now,
        None => false,
    }
}

/// When a ready pod becomes available: the first millisecond at which `is_pod_available` holds.
fn available_at(p: &Pod, min_ready_seconds: i32) -> Option<Millis> {
    let c = ready_condition(p).filter(|c| c.status == "True")?;
    let t = c.last_transition_time.as_ref()?;
    Some(Millis::from_time(t) + Millis::from_secs(min_ready_seconds.max(0) as u64) + Millis(1))
}

/// ReplicaSets (in the pod's namespace) whose selector matches an orphan pod.
pub(crate) fn replica_sets_for_pod(c: &Cluster, pod: &Pod) -> Vec<ObjectKey> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    c.store
        .replicasets
        .iter()
        .filter(|(k, _)| k.namespace == ns)
        .filter(|(_, rs)| {
            rs.spec.as_ref().is_some_and(|s| labels::selector_matches(&s.selector, pod.metadata.labels.as_ref()))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// `syncReplicaSet`.
pub(crate) fn sync_replica_set(c: &mut Cluster, key: &ObjectKey) {
    let Some(rs) = c.store.replicasets.get(key) else { return };
    if rs.metadata.deletion_timestamp.is_some() {
        return;
    }
    let rs = rs.clone();
    claim_pods(c, &rs);
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let active: Vec<ObjectKey> =
        c.store.pods_owned_by(&uid).filter(|p| is_pod_active(p)).map(|p| ObjectKey::of(&p.metadata)).collect();
    manage_replicas(c, &rs, active);
    update_status(c, key);
}

/// Adopts orphan pods that match the selector and releases owned pods that no longer do
/// (`ClaimPods`).
fn claim_pods(c: &mut Cluster, rs: &ReplicaSet) {
    let Some(spec) = rs.spec.as_ref() else { return };
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let key = ObjectKey::of(&rs.metadata);
    let release: Vec<ObjectKey> = c
        .store
        .pods_owned_by(&uid)
        .filter(|p| controller_ref(&p.metadata).is_some_and(|r| r.uid == uid))
        .filter(|p| !labels::selector_matches(&spec.selector, p.metadata.labels.as_ref()))
        .map(|p| ObjectKey::of(&p.metadata))
        .collect();
    for k in release {
        let _ = c.modify::<Pod>(&k, |p| {
            if let Some(refs) = p.metadata.owner_references.as_mut() {
                refs.retain(|r| r.uid != uid);
            }
            if p.metadata.owner_references.as_ref().is_some_and(|r| r.is_empty()) {
                p.metadata.owner_references = None;
            }
        });
    }
    if !c.store.has_orphan_pods() {
        return;
    }
    let adopt: Vec<ObjectKey> = c
        .store
        .orphan_pods()
        .filter(|k| k.namespace == key.namespace)
        .filter_map(|k| c.store.pods.get(k))
        .filter(|p| is_pod_active(p) && labels::selector_matches(&spec.selector, p.metadata.labels.as_ref()))
        .map(|p| ObjectKey::of(&p.metadata))
        .collect();
    let owner = owner_ref(&rs.metadata, "ReplicaSet");
    for k in adopt {
        let _ = c.modify::<Pod>(&k, |p| p.metadata.owner_references.get_or_insert_with(Vec::new).push(owner.clone()));
    }
}

/// The controller ownerReference a controller puts on what it creates.
pub(crate) fn owner_ref(meta: &ObjectMeta, kind: &str) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `manageReplicas`: create or delete pods to reach `spec.replicas`.
fn manage_replicas(c: &mut Cluster, rs: &ReplicaSet, active: Vec<ObjectKey>) {
    let want = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as usize;
    let key = ObjectKey::of(&rs.metadata);
    if active.len() < want {
        let n = (want - active.len()).min(BURST_REPLICAS);
        let template = rs.spec.as_ref().and_then(|s| s.template.clone()).unwrap_or_default();
        let name = rs.metadata.name.clone().unwrap_or_default();
        let owner = owner_ref(&rs.metadata, "ReplicaSet");
        for _ in 0..n {
            let tm = template.metadata.clone().unwrap_or_default();
            let pod = Pod {
                metadata: ObjectMeta {
                    generate_name: Some(format!("{name}-")),
                    namespace: Some(key.namespace.clone()),
                    labels: tm.labels,
                    annotations: tm.annotations,
                    owner_references: Some(vec![owner.clone()]),
                    ..Default::default()
                },
                spec: template.spec.clone(),
                status: None,
            };
            match c.create(pod) {
                Ok(pk) => c.record_event(rs, EventType::Normal, "SuccessfulCreate", format!("Created pod: {}", pk.name), "replicaset-controller"),
                Err(e) => {
                    c.record_event(rs, EventType::Warning, "FailedCreate", format!("Error creating: {e}"), "replicaset-controller");
                    break;
                }
            }
        }
        if want - active.len() > n {
            // The rest is created on the next sync, once these creations are observed.
            c.enqueue(Work::SyncReplicaSet(key));
        }
    } else if active.len() > want {
        let diff = (active.len() - want).min(BURST_REPLICAS);
        let victims = pods_to_delete(c, rs, active, diff);
        for pk in victims {
            if c.delete::<Pod>(&pk, Default::default()).is_ok() {
                c.record_event(rs, EventType::Normal, "SuccessfulDelete", format!("Deleted pod: {}", pk.name), "replicaset-controller");
            }
        }
    }
}

/// `getPodsToDelete`: when only some pods go, rank them (`ActivePodsWithRanks`) and take the
/// first `diff`; ranks count the active pods of the whole owner family (all ReplicaSets of the
/// same Deployment) on each pod's node.
fn pods_to_delete(c: &Cluster, rs: &ReplicaSet, active: Vec<ObjectKey>, diff: usize) -> Vec<ObjectKey> {
    if diff >= active.len() {
        return active;
    }
    let mut related: Vec<&Pod> = Vec::new();
    let family: Vec<String> = match controller_ref(&rs.metadata) {
        Some(owner) => c.store.replicasets_owned_by(&owner.uid).iter().filter_map(|r| r.metadata.uid.clone()).collect(),
        None => vec![rs.metadata.uid.clone().unwrap_or_default()],
    };
    for uid in &family {
        related.extend(c.store.pods_owned_by(uid));
    }
    let mut on_node: HashMap<String, i32> = HashMap::new();
    for p in related.iter().filter(|p| is_pod_active(p)) {
        *on_node.entry(node_name(p).to_string()).or_default() += 1;
    }
    let now = c.now();
    let mut ranked: Vec<(&Pod, i32)> = active
        .iter()
        .filter_map(|k| c.store.pods.get(k))
        .map(|p| (p, on_node.get(node_name(p)).copied().unwrap_or(0)))
        .collect();
    ranked.sort_by(|a, b| {
        if less(a, b, now) {
            Ordering::Less
        } else if less(b, a, now) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    });
    ranked.into_iter().take(diff).map(|(p, _)| ObjectKey::of(&p.metadata)).collect()
}

fn node_name(p: &Pod) -> &str {
    p.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or("")
}

fn deletion_cost(p: &Pod) -> i32 {
    p.metadata.annotations.as_ref().and_then(|a| a.get(POD_DELETION_COST)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn max_restarts(p: &Pod) -> i32 {
    p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).into_iter().flatten().map(|c| c.restart_count).max().unwrap_or(0)
}

fn ready_time(p: &Pod) -> Option<Millis> {
    ready_condition(p).filter(|c| c.status == "True").and_then(|c| c.last_transition_time.as_ref()).map(Millis::from_time)
}

/// `logarithmicRankDiff`: compares ages in powers of two of nanoseconds.
fn log_rank_diff(t1: Millis, t2: Millis, now: Millis) -> i64 {
    let rank = |t: Millis| {
        let d = now.0 as i128 * 1_000_000 - t.0 as i128 * 1_000_000;
        if d > 0 { (d as f64).log2() as i64 } else { -1 }
    };
    rank(t1) - rank(t2)
}

/// `ActivePodsWithRanks.Less` with PodDeletionCost and LogarithmicScaleDown enabled.
fn less((a, ra): &(&Pod, i32), (b, rb): &(&Pod, i32), now: Millis) -> bool {
    let (na, nb) = (node_name(a), node_name(b));
    // 1. Unassigned < assigned.
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return na.is_empty();
    }
    // 2. PodPending < PodUnknown < PodRunning.
    let ord = |p: &Pod| match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Pending") => 0,
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    };
    if ord(a) != ord(b) {
        return ord(a) < ord(b);
    }
    // 3. Not ready < ready.
    if is_pod_ready(a) != is_pod_ready(b) {
        return !is_pod_ready(a);
    }
    // 4. Lower pod-deletion-cost < higher.
    if deletion_cost(a) != deletion_cost(b) {
        return deletion_cost(a) < deletion_cost(b);
    }
    // 5. More related pods on the same node < fewer.
    if ra != rb {
        return ra > rb;
    }
    let uid = |p: &Pod| p.metadata.uid.clone().unwrap_or_default();
    // 6. Both ready: ready more recently < ready longer (log2 buckets; same bucket → uid).
    if is_pod_ready(a) && is_pod_ready(b) {
        let (t1, t2) = (ready_time(a), ready_time(b));
        if t1 != t2 {
            return match (t1, t2) {
                (Some(t1), Some(t2)) => match log_rank_diff(t1, t2, now) {
                    0 => uid(a) < uid(b),
                    d => d < 0,
                },
                (t1, _) => t1.is_none(),
            };
        }
    }
    // 7. Higher restart count < lower.
    if max_restarts(a) != max_restarts(b) {
        return max_restarts(a) > max_restarts(b);
    }
    // 8. Newer < older (log2 buckets; same bucket → uid).
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(Millis::from_time);
    let (c1, c2) = (created(a), created(b));
    if c1 != c2 {
        return match (c1, c2) {
            (Some(t1), Some(t2)) => match log_rank_diff(t1, t2, now) {
                0 => uid(a) < uid(b),
                d => d < 0,
            },
            (t1, _) => t1.is_none(),
        };
    }
    false
}

/// `calculateStatus` + `updateReplicaSetStatus`, and the requeue for minReadySeconds.
fn update_status(c: &mut Cluster, key: &ObjectKey) {
    let Some(rs) = c.store.replicasets.get(key) else { return };
    let now = c.now();
    let spec = rs.spec.clone().unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let template_labels = spec.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default();
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let (mut replicas, mut fully_labeled, mut ready, mut available) = (0, 0, 0, 0);
    let mut next_available: Option<Millis> = None;
    for p in c.store.pods_owned_by(&uid).filter(|p| is_pod_active(p)) {
        replicas += 1;
        let labels = p.metadata.labels.clone().unwrap_or_default();
        if template_labels.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            fully_labeled += 1;
        }
        if is_pod_ready(p) {
            ready += 1;
            if is_pod_available(p, min_ready, now) {
                available += 1;
            } else if let Some(at) = available_at(p, min_ready) {
                next_available = Some(next_available.map_or(at, |n: Millis| n.min(at)));
            }
        }
    }
    let observed = rs.metadata.generation;
    let old = rs.status.clone().unwrap_or_default();
    let status = ReplicaSetStatus {
        replicas,
        fully_labeled_replicas: Some(fully_labeled),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        observed_generation: observed,
        conditions: old.conditions.clone(),
        ..old.clone()
    };
    if status != old {
        let _ = c.modify::<ReplicaSet>(key, |r| r.status = Some(status));
    }
    // NOTE: upstream re-queues after minReadySeconds and checks again; with zero latency that
    // check would land exactly on the boundary of the strict `<`, so the engine wakes up at the
    // first instant the pod really is available instead.
    if let Some(at) = next_available {
        c.requeue_after(Work::SyncReplicaSet(key.clone()), at.saturating_sub(now));
    }
}

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

/// `burstReplicas`: upstream creates or deletes at most this many pods per sync and picks up
/// the rest on the next sync, once the first burst is observed.
///
/// NOTE: with zero latency the next sync happens at the same instant and before any other
/// controller runs (the ReplicaSet lane drains first), so the engine runs the bursts back to
/// back in one sync: same pods, same events, same state at the end of the instant, without
/// re-reading every pod once per burst.
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
        let n = want - active.len();
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
    } else if active.len() > want {
        // Bursts of deletions pick the lowest-ranked pods each time; taking all of them from one
        // ranking gives the same pods, since deleting pods does not change the others' ranks
        // except through `rank` (pods on the same node), which upstream also recomputes per
        // burst. Ranks are recomputed per burst here too.
        let mut active = active;
        while active.len() > want {
            let diff = (active.len() - want).min(BURST_REPLICAS);
            let victims = pods_to_delete(c, rs, active.clone(), diff);
            if victims.is_empty() {
                break;
            }
            for pk in &victims {
                if c.delete::<Pod>(pk, Default::default()).is_ok() {
                    c.record_event(rs, EventType::Normal, "SuccessfulDelete", format!("Deleted pod: {}", pk.name), "replicaset-controller");
                }
            }
            let gone: std::collections::HashSet<&ObjectKey> = victims.iter().collect();
            active.retain(|k| !gone.contains(k));
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
    let mut ranked: Vec<RankInput> = active
        .iter()
        .filter_map(|k| c.store.pods.get(k))
        .map(|p| RankInput::of(p, on_node.get(node_name(p)).copied().unwrap_or(0), now))
        .collect();
    let order = |a: &RankInput, b: &RankInput| {
        if less(a, b) {
            Ordering::Less
        } else if less(b, a) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    };
    // Only the first `diff` matter: partition around them, then order that prefix.
    if diff < ranked.len() {
        ranked.select_nth_unstable_by(diff, order);
        ranked.truncate(diff);
    }
    ranked.sort_by(order);
    ranked.into_iter().map(|r| ObjectKey::of(&r.pod.metadata)).collect()
}

/// What `ActivePodsWithRanks.Less` looks at, read once per pod instead of once per comparison.
struct RankInput<'a> {
    pod: &'a Pod,
    unassigned: bool,
    phase: u8,
    ready: bool,
    cost: i32,
    rank: i32,
    ready_time: Option<Millis>,
    ready_bucket: i64,
    restarts: i32,
    created: Option<Millis>,
    created_bucket: i64,
    uid: &'a str,
}

impl<'a> RankInput<'a> {
    fn of(p: &'a Pod, rank: i32, now: Millis) -> Self {
        let ready_time = ready_time(p);
        let created = p.metadata.creation_timestamp.as_ref().map(Millis::from_time);
        RankInput {
            pod: p,
            unassigned: node_name(p).is_empty(),
            phase: match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
                Some("Unknown") => 1,
                Some("Running") => 2,
                _ => 0,
            },
            ready: is_pod_ready(p),
            cost: deletion_cost(p),
            rank,
            ready_time,
            ready_bucket: ready_time.map_or(-1, |t| log_bucket(t, now)),
            restarts: max_restarts(p),
            created,
            created_bucket: created.map_or(-1, |t| log_bucket(t, now)),
            uid: p.metadata.uid.as_deref().unwrap_or(""),
        }
    }
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

/// `logarithmicRankDiff` works on `floor(log2(age in ns))`, −1 for a time not in the past.
fn log_bucket(t: Millis, now: Millis) -> i64 {
    let d = now.0 as i128 * 1_000_000 - t.0 as i128 * 1_000_000;
    if d > 0 { (d as f64).log2() as i64 } else { -1 }
}

/// `ActivePodsWithRanks.Less` with PodDeletionCost and LogarithmicScaleDown enabled.
fn less(a: &RankInput, b: &RankInput) -> bool {
    // 1. Unassigned < assigned.
    if a.unassigned != b.unassigned {
        return a.unassigned;
    }
    // 2. PodPending < PodUnknown < PodRunning.
    if a.phase != b.phase {
        return a.phase < b.phase;
    }
    // 3. Not ready < ready.
    if a.ready != b.ready {
        return !a.ready;
    }
    // 4. Lower pod-deletion-cost < higher.
    if a.cost != b.cost {
        return a.cost < b.cost;
    }
    // 5. More related pods on the same node < fewer.
    if a.rank != b.rank {
        return a.rank > b.rank;
    }
    // 6. Both ready: ready more recently < ready longer (log2 buckets; same bucket → uid).
    if a.ready && b.ready && a.ready_time != b.ready_time {
        return match (a.ready_time, b.ready_time) {
            (Some(_), Some(_)) if a.ready_bucket == b.ready_bucket => a.uid < b.uid,
            (Some(_), Some(_)) => a.ready_bucket < b.ready_bucket,
            (t1, _) => t1.is_none(),
        };
    }
    // 7. Higher restart count < lower.
    if a.restarts != b.restarts {
        return a.restarts > b.restarts;
    }
    // 8. Newer < older (log2 buckets; same bucket → uid).
    if a.created != b.created {
        return match (a.created, b.created) {
            (Some(_), Some(_)) if a.created_bucket == b.created_bucket => a.uid < b.uid,
            (Some(_), Some(_)) => a.created_bucket < b.created_bucket,
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
        if template_labels.iter().all(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v)) {
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

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
#[cfg(test)]
use crate::store::pod_node_name as node_name;
use crate::store::{ObjectKey, controller_ref};
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
#[cfg(test)]
use rustc_hash::FxHashMap as HashMap;

/// `burstReplicas`: upstream creates or deletes at most this many pods per sync and picks up
/// the rest on the next sync, once the first burst is observed.
///
/// NOTE: with zero latency the next sync happens at the same instant and before any other
/// controller runs (the ReplicaSet lane drains first), so the engine runs the bursts back to
/// back in one sync: same pods, same events, same state at the end of the instant, without
/// re-reading every pod once per burst.
const BURST_REPLICAS: usize = 500;

/// Whether a pod counts towards a ReplicaSet: not terminating and not finished
/// (`controller.IsPodActive`).
pub fn is_pod_active(p: &Pod) -> bool {
    let phase = p
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    p.metadata.deletion_timestamp.is_none() && phase != "Succeeded" && phase != "Failed"
}

/// `podutil.IsPodReady`.
pub fn is_pod_ready(p: &Pod) -> bool {
    ready_condition(p).is_some_and(|c| c.status == "True")
}

fn ready_condition(p: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// `podutil.IsPodAvailable`: ready, and ready for more than `min_ready_seconds`
/// (`lastTransitionTime + minReadySeconds < now`, strictly).
pub fn is_pod_available(p: &Pod, min_ready_seconds: i32, now: Millis) -> bool {
    let Some(c) = ready_condition(p).filter(|c| c.status == "True") else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    match &c.last_transition_time {
        Some(t) => Millis::from_time(t) + Millis::from_secs(min_ready_seconds as u64) < now,
        None => false,
    }
}

/// ReplicaSets (in the pod's namespace) whose selector matches an orphan pod.
pub(crate) fn replica_sets_for_pod(c: &Cluster, pod: &Pod) -> Vec<ObjectKey> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    c.store
        .replicasets
        .iter()
        .filter(|(k, _)| k.namespace == ns)
        .filter(|(_, rs)| {
            rs.spec.as_ref().is_some_and(|s| {
                labels::selector_matches(&s.selector, pod.metadata.labels.as_ref())
            })
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// `syncReplicaSet`.
pub(crate) fn sync_replica_set(c: &mut Cluster, key: &ObjectKey) {
    c.stats.replicaset_syncs += 1;
    let Some(rs) = c.store.replicasets.get(key) else {
        return;
    };
    if rs.metadata.deletion_timestamp.is_some() {
        return;
    }
    let rs = rs.clone();
    // One walk over the owned pods finds what to release, counts the active pods and computes
    // the status those pods give; the status is reused when nothing is created or deleted.
    let found = scan(c, &rs);
    let adopted = claim_pods(c, &rs, &found.release);
    let want = rs
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
        .max(0) as usize;
    let active_count = found.counts.replicas as usize + adopted;
    let unchanged = found.release.is_empty() && adopted == 0;
    if active_count == want && unchanged {
        update_status(c, key, &found.counts);
        return;
    }
    manage_replicas(c, &rs, active_count, want);
    // Released pods are no longer owned, so this walk finds none to release.
    let counts = scan(c, &rs).counts;
    update_status(c, key, &counts);
}

/// What one walk over a ReplicaSet's pods finds.
struct Scan {
    /// Owned pods that no longer match the selector.
    release: Vec<ObjectKey>,
    counts: Counts,
}

/// The pod counts behind `calculateStatus`, and when the next pod becomes available.
#[derive(Default)]
struct Counts {
    replicas: i32,
    fully_labeled: i32,
    ready: i32,
    available: i32,
    next_available: Option<Millis>,
}

fn scan(c: &mut Cluster, rs: &ReplicaSet) -> Scan {
    let uid = rs.metadata.uid.as_deref().unwrap_or_default();
    let selector = rs.spec.as_ref().map(|s| &s.selector);
    let mut release = Vec::new();
    let mut counter = Counter::new(rs, c.now());
    let mut scanned = 0u64;
    // Pods stamped from one template share a label set, so the selector and the template
    // labels are checked once per distinct set, not once per pod.
    let mut by_labels: Vec<(u32, LabelVerdict)> = Vec::new();
    for (slot, facts) in c.store.pod_facts_owned_by(uid) {
        scanned += 1;
        #[cfg(debug_assertions)]
        if let Some(p) = c.store.pod_by_slot(slot) {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            debug_assert_eq!(
                (
                    crate::store::PodFacts::of(
                        crate::store::PodParts::of(p),
                        facts.labels,
                        facts.node
                    ),
                    c.store.label_set(facts.labels),
                    c.store.node_name(facts.node),
                ),
                (facts, &labels, crate::store::pod_node_name(p)),
                "stale facts for pod {:?}",
                p.metadata.name
            );
        }
        let verdict = match by_labels.iter().find(|(id, _)| *id == facts.labels) {
            Some((_, v)) => *v,
            None => {
                let labels = c.store.label_set(facts.labels);
                let v = LabelVerdict {
                    matches: selector
                        .is_some_and(|sel| labels::selector_matches(sel, Some(labels))),
                    fully_labeled: counter
                        .template_labels
                        .into_iter()
                        .flatten()
                        .all(|(k, v)| labels.get(k) == Some(v)),
                };
                by_labels.push((facts.labels, v));
                v
            }
        };
        if !verdict.matches
            && let Some(p) = c.store.pod_by_slot(slot)
            && controller_ref(&p.metadata).is_some_and(|r| r.uid == uid)
        {
            release.push(ObjectKey::of(&p.metadata));
            continue;
        }
        counter.add(&facts, verdict.fully_labeled);
    }
    c.stats.replicaset_pods_scanned += scanned;
    Scan {
        release,
        counts: counter.counts,
    }
}

/// What a ReplicaSet makes of one label set.
#[derive(Clone, Copy)]
struct LabelVerdict {
    matches: bool,
    /// Carries every label of the pod template (`fullyLabeledReplicas`).
    fully_labeled: bool,
}

struct Counter<'a> {
    template_labels: Option<&'a std::collections::BTreeMap<String, String>>,
    min_ready: i32,
    now: Millis,
    counts: Counts,
}

impl<'a> Counter<'a> {
    fn new(rs: &'a ReplicaSet, now: Millis) -> Self {
        let spec = rs.spec.as_ref();
        Counter {
            template_labels: spec
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.labels.as_ref()),
            min_ready: spec.and_then(|s| s.min_ready_seconds).unwrap_or(0),
            now,
            counts: Counts::default(),
        }
    }

    /// Counts one pod, as `calculateStatus` does, and notes when it will become available
    /// (`podutil.IsPodAvailable`: ready for more than minReadySeconds, strictly).
    fn add(&mut self, p: &crate::store::PodFacts, fully_labeled: bool) {
        if !p.active {
            return;
        }
        let n = &mut self.counts;
        n.replicas += 1;
        if fully_labeled {
            n.fully_labeled += 1;
        }
        if !p.ready {
            return;
        }
        n.ready += 1;
        if self.min_ready <= 0 {
            n.available += 1;
            return;
        }
        let Some(since) = p.ready_since else {
            return;
        };
        let available_at = since + Millis::from_secs(self.min_ready as u64);
        if available_at < self.now {
            n.available += 1;
        } else {
            let at = available_at + Millis(1);
            n.next_available = Some(n.next_available.map_or(at, |m: Millis| m.min(at)));
        }
    }
}

/// Adopts orphan pods that match the selector and releases owned pods that no longer do
/// (`ClaimPods`). Returns how many active pods were adopted.
fn claim_pods(c: &mut Cluster, rs: &ReplicaSet, release: &[ObjectKey]) -> usize {
    let Some(spec) = rs.spec.as_ref() else {
        return 0;
    };
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let key = ObjectKey::of(&rs.metadata);
    for k in release {
        let _ = c.modify::<Pod>(k, |p| {
            if let Some(refs) = p.metadata.owner_references.as_mut() {
                refs.retain(|r| r.uid != uid);
            }
            if p.metadata
                .owner_references
                .as_ref()
                .is_some_and(|r| r.is_empty())
            {
                p.metadata.owner_references = None;
            }
        });
    }
    if !c.store.has_orphan_pods() {
        return 0;
    }
    let adopt: Vec<ObjectKey> = c
        .store
        .orphan_pods()
        .filter(|k| k.namespace == key.namespace)
        .filter_map(|k| c.store.pods.get(k))
        .filter(|p| {
            is_pod_active(p) && labels::selector_matches(&spec.selector, p.metadata.labels.as_ref())
        })
        .map(|p| ObjectKey::of(&p.metadata))
        .collect();
    let owner = owner_ref(&rs.metadata, "ReplicaSet");
    for k in &adopt {
        let _ = c.modify::<Pod>(k, |p| {
            p.metadata
                .owner_references
                .get_or_insert_with(Vec::new)
                .push(owner.clone())
        });
    }
    adopt.len()
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
fn manage_replicas(c: &mut Cluster, rs: &ReplicaSet, active_count: usize, want: usize) {
    let key = ObjectKey::of(&rs.metadata);
    if active_count < want {
        let n = want - active_count;
        let template = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .unwrap_or_default();
        let name = rs.metadata.name.as_deref().unwrap_or_default();
        let generate_name = crate::events::concat(&[name, "-"]);
        let owner = owner_ref(&rs.metadata, "ReplicaSet");
        for _ in 0..n {
            let tm = template.metadata.clone().unwrap_or_default();
            let pod = Pod {
                metadata: ObjectMeta {
                    generate_name: Some(generate_name.clone()),
                    namespace: Some(key.namespace.to_string()),
                    labels: tm.labels,
                    annotations: tm.annotations,
                    owner_references: Some(vec![owner.clone()]),
                    ..Default::default()
                },
                spec: template.spec.clone(),
                status: None,
            };
            match c.create(pod) {
                Ok(pk) => c.record_event(
                    rs,
                    EventType::Normal,
                    "SuccessfulCreate",
                    crate::events::concat(&["Created pod: ", &pk.name]),
                    "replicaset-controller",
                ),
                Err(e) => {
                    c.record_event(
                        rs,
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating: {e}"),
                        "replicaset-controller",
                    );
                    break;
                }
            }
        }
    } else if active_count > want {
        let victims = pods_to_delete(c, rs, want);
        for pk in &victims {
            if c.delete::<Pod>(pk, Default::default()).is_ok() {
                c.record_event(
                    rs,
                    EventType::Normal,
                    "SuccessfulDelete",
                    crate::events::concat(&["Deleted pod: ", &pk.name]),
                    "replicaset-controller",
                );
            }
        }
    }
}

/// `getPodsToDelete`, burst after burst until `want` active pods remain: the pods to delete,
/// in the order upstream deletes them.
///
/// Each burst of at most [`BURST_REPLICAS`] takes the lowest-ranked pods
/// (`ActivePodsWithRanks`), where a pod's rank counts the active pods of the whole owner
/// family (all ReplicaSets of the same Deployment) on its node. Deleting a burst changes
/// nothing about the other pods except those counts, so the ranking inputs are read once and
/// only the counts are brought up to date between bursts, which is what upstream's fresh
/// ranking on its next sync would see. When a burst takes every remaining pod, they go
/// unranked, in listing order, as upstream's `diff >= len(filteredPods)` shortcut does.
///
/// The listing order is the owner index's slot order ([`crate::store::Store::pods_owned_by`]);
/// upstream lists from an informer cache in Go's map order, so pods that tie on every rule go
/// in an unspecified order there, and in slot order here.
fn pods_to_delete(c: &Cluster, rs: &ReplicaSet, want: usize) -> Vec<ObjectKey> {
    let uid = rs.metadata.uid.as_deref().unwrap_or_default();
    let now = c.now();
    let family: Vec<&str> = match controller_ref(&rs.metadata) {
        Some(owner) => c
            .store
            .replicasets_owned_by(&owner.uid)
            .iter()
            .filter_map(|r| r.metadata.uid.as_deref())
            .collect(),
        None => vec![uid],
    };
    // Everything the ranking reads comes from the pods' facts (a dense array), so ranking
    // 10,000 pods reads no pod but the victims'. Index 0 counts the pods on no node.
    let slot = |node: Option<u32>| node.map_or(0, |n| n as usize + 1);
    let mut on_node: Vec<i32> = Vec::new();
    for fuid in &family {
        for (_, f) in c.store.pod_facts_owned_by(fuid).filter(|(_, f)| f.active) {
            let i = slot(f.node);
            if on_node.len() <= i {
                on_node.resize(i + 1, 0);
            }
            on_node[i] += 1;
        }
    }
    let mut remaining: Vec<(usize, RankInput)> = c
        .store
        .pod_facts_owned_by(uid)
        .filter(|(_, f)| f.active)
        .filter_map(|(s, f)| {
            let pod = crate::store::PodRef::Record(c.store.pods.record_by_slot(s)?);
            Some(RankInput::from_facts(pod, &f, now))
        })
        .enumerate()
        .collect();
    let keyed = uniform_times(remaining.iter().map(|(_, r)| r));
    let mut victims = Vec::with_capacity(remaining.len().saturating_sub(want));
    while remaining.len() > want {
        let diff = (remaining.len() - want).min(BURST_REPLICAS);
        if diff >= remaining.len() {
            remaining.sort_by_key(|(i, _)| *i);
            victims.extend(remaining.drain(..).map(|(_, r)| r.pod.parts().key()));
            break;
        }
        for (_, r) in remaining.iter_mut() {
            r.rank = on_node.get(slot(r.node)).copied().unwrap_or(0);
        }
        if keyed {
            // `less` is a total preorder here, so the stable merge sort of the pods in listing
            // order puts them in (rank key, listing order) order: select the first `diff` of
            // that order and sort only those.
            let order = |(i, r): &(usize, RankInput)| (rank_key(r), *i);
            if diff < remaining.len() {
                remaining.select_nth_unstable_by_key(diff, order);
            }
            remaining[..diff].sort_unstable_by_key(order);
        } else {
            // Each burst ranks from listing order, as a fresh sync would list the pods.
            remaining.sort_by_key(|(i, _)| *i);
            remaining = sort_by_less(remaining, |a, b| less(&a.1, &b.1));
        }
        for (_, r) in remaining.drain(..diff) {
            if let Some(n) = on_node.get_mut(slot(r.node)) {
                *n -= 1;
            }
            victims.push(r.pod.parts().key());
        }
    }
    victims
}

/// Whether [`less`] is a total preorder over these pods, equal to comparing [`rank_key`]s: no
/// two ready pods differ in ready time and no two pods differ in creation time, so rules 6 and
/// 8, whose log2 buckets with a uid tie-break can form cycles, never decide. Pods stamped out
/// together by one scale-up share both times, so large ReplicaSets usually qualify.
fn uniform_times<'a, 'p: 'a>(mut pods: impl Iterator<Item = &'a RankInput<'p>>) -> bool {
    let Some(first) = pods.next() else {
        return true;
    };
    let mut ready_time = first.ready.then_some(first.ready_time);
    pods.all(|r| {
        if r.ready {
            match ready_time {
                None => ready_time = Some(r.ready_time),
                Some(t) if t != r.ready_time => return false,
                Some(_) => {}
            }
        }
        r.created == first.created
    })
}

/// Rules 1 to 5 and 7 of [`less`] as one key, in its order: assigned, phase, ready, deletion
/// cost, then fewer related pods on the node and fewer restarts last.
type RankKey = (
    bool,
    u8,
    bool,
    i32,
    std::cmp::Reverse<i32>,
    std::cmp::Reverse<i32>,
);

/// The order [`less`] gives when [`uniform_times`] holds.
fn rank_key(r: &RankInput) -> RankKey {
    use std::cmp::Reverse;
    (
        !r.unassigned,
        r.phase,
        r.ready,
        r.cost,
        Reverse(r.rank),
        Reverse(r.restarts),
    )
}

/// A stable merge sort by a "less" function that need not be a total order.
///
/// `ActivePodsWithRanks.Less` is not one: two ready pods whose ready times differ but share a
/// log2 bucket compare by uid, while pods with equal ready times fall through to the later rules,
/// so three pods can form a cycle. Go's `sort.Sort` accepts that; Rust's sorts may panic on it.
/// Merging never panics, and being stable it keeps the listing order among pods that tie, so
/// the result is the same on every run.
fn sort_by_less<T>(v: Vec<T>, less: impl Fn(&T, &T) -> bool + Copy) -> Vec<T> {
    if v.len() <= 1 {
        return v;
    }
    // Top-down (the left half is the first len/2 elements), sorting a permutation with one
    // scratch buffer rather than allocating at every level.
    fn sort(idx: &mut [u32], buf: &mut [u32], less: &impl Fn(usize, usize) -> bool) {
        let n = idx.len();
        if n <= 1 {
            return;
        }
        let mid = n / 2;
        sort(&mut idx[..mid], &mut buf[..mid], less);
        sort(&mut idx[mid..], &mut buf[mid..], less);
        let (mut l, mut r, mut o) = (0, mid, 0);
        while l < mid && r < n {
            // Take from the right only when it is strictly less: ties keep their order.
            if less(idx[r] as usize, idx[l] as usize) {
                buf[o] = idx[r];
                r += 1;
            } else {
                buf[o] = idx[l];
                l += 1;
            }
            o += 1;
        }
        buf[o..o + mid - l].copy_from_slice(&idx[l..mid]);
        o += mid - l;
        buf[o..o + n - r].copy_from_slice(&idx[r..n]);
        idx.copy_from_slice(buf);
    }
    let mut idx: Vec<u32> = (0..v.len() as u32).collect();
    let mut buf = vec![0u32; v.len()];
    sort(&mut idx, &mut buf, &|a, b| less(&v[a], &v[b]));
    let mut slots: Vec<Option<T>> = v.into_iter().map(Some).collect();
    idx.iter()
        .filter_map(|&i| slots[i as usize].take())
        .collect()
}

/// What `ActivePodsWithRanks.Less` looks at, read once per pod instead of once per comparison.
struct RankInput<'a> {
    pod: crate::store::PodRef<'a>,
    /// The pod's node, as [`crate::store::PodFacts::node`] (set by [`RankInput::from_facts`]).
    node: Option<u32>,
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
}

impl<'a> RankInput<'a> {
    /// The inputs from the pod's facts; the pod itself is read only for a uid tie-break.
    fn from_facts(p: crate::store::PodRef<'a>, f: &crate::store::PodFacts, now: Millis) -> Self {
        let ready_time = if f.ready { f.ready_since } else { None };
        RankInput {
            pod: p,
            node: f.node,
            unassigned: f.node.is_none(),
            phase: f.phase,
            ready: f.ready,
            cost: f.deletion_cost,
            rank: 0,
            ready_time,
            ready_bucket: ready_time.map_or(-1, |t| log_bucket(t, now)),
            restarts: f.restarts,
            created: f.created,
            created_bucket: f.created.map_or(-1, |t| log_bucket(t, now)),
        }
    }

    /// The pod's uid: rules 6 and 8 break ties within a log2 bucket by it.
    fn uid(&self) -> &'a str {
        self.pod.parts().uid.unwrap_or("")
    }

    #[cfg(test)]
    fn of(p: &'a Pod, rank: i32, now: Millis) -> Self {
        let ready_time = ready_time(p);
        let created = p
            .metadata
            .creation_timestamp
            .as_ref()
            .map(Millis::from_time);
        RankInput {
            pod: crate::store::PodRef::Pod(p),
            node: None,
            unassigned: node_name(p).is_empty(),
            phase: crate::store::phase_rank(p.status.as_ref().and_then(|s| s.phase.as_deref())),
            ready: is_pod_ready(p),
            cost: crate::store::deletion_cost(crate::store::PodParts::of(p)),
            rank,
            ready_time,
            ready_bucket: ready_time.map_or(-1, |t| log_bucket(t, now)),
            restarts: crate::store::max_restarts(crate::store::PodParts::of(p)),
            created,
            created_bucket: created.map_or(-1, |t| log_bucket(t, now)),
        }
    }
}

#[cfg(test)]
fn ready_time(p: &Pod) -> Option<Millis> {
    ready_condition(p)
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(Millis::from_time)
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
            (Some(_), Some(_)) if a.ready_bucket == b.ready_bucket => a.uid() < b.uid(),
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
            (Some(_), Some(_)) if a.created_bucket == b.created_bucket => a.uid() < b.uid(),
            (Some(_), Some(_)) => a.created_bucket < b.created_bucket,
            (t1, _) => t1.is_none(),
        };
    }
    false
}

/// `calculateStatus` + `updateReplicaSetStatus`, and the requeue for minReadySeconds.
fn update_status(c: &mut Cluster, key: &ObjectKey, counts: &Counts) {
    let Some(rs) = c.store.replicasets.get(key) else {
        return;
    };
    let now = c.now();
    let observed = rs.metadata.generation;
    let old = rs.status.clone().unwrap_or_default();
    let status = ReplicaSetStatus {
        replicas: counts.replicas,
        fully_labeled_replicas: Some(counts.fully_labeled),
        ready_replicas: Some(counts.ready),
        available_replicas: Some(counts.available),
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
    if let Some(at) = counts.next_available {
        c.requeue_after(Work::SyncReplicaSet(key.clone()), at.saturating_sub(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClusterConfig;
    use crate::kubectl::simple_deployment;
    use std::collections::HashSet;

    /// `getPodsToDelete` as upstream runs it, one burst per sync: every burst ranks the pods
    /// still active from scratch, with the per-node counts of what is left (and, as the engine
    /// does, with the non-panicking merge sort).
    fn reference(c: &Cluster, rs: &ReplicaSet, want: usize) -> Vec<ObjectKey> {
        let uid = rs.metadata.uid.as_deref().unwrap();
        let owner = controller_ref(&rs.metadata).unwrap().uid.clone();
        let now = c.now();
        let mut gone: HashSet<ObjectKey> = HashSet::new();
        let mut out = Vec::new();
        loop {
            let live = |p: &&Pod| is_pod_active(p) && !gone.contains(&ObjectKey::of(&p.metadata));
            let active: Vec<&Pod> = c.store.pods_owned_by(uid).filter(live).collect();
            if active.len() <= want {
                return out;
            }
            let diff = (active.len() - want).min(BURST_REPLICAS);
            let burst: Vec<ObjectKey> = if diff >= active.len() {
                active.iter().map(|p| ObjectKey::of(&p.metadata)).collect()
            } else {
                let mut on_node: HashMap<&str, i32> = HashMap::default();
                for r in c.store.replicasets_owned_by(&owner) {
                    for p in c
                        .store
                        .pods_owned_by(r.metadata.uid.as_deref().unwrap())
                        .filter(live)
                    {
                        *on_node.entry(node_name(p)).or_default() += 1;
                    }
                }
                let ranked: Vec<RankInput> = active
                    .iter()
                    .map(|p| RankInput::of(p, on_node[node_name(p)], now))
                    .collect();
                let ranked = sort_by_less(ranked, less);
                ranked[..diff].iter().map(|r| r.pod.parts().key()).collect()
            };
            gone.extend(burst.iter().cloned());
            out.extend(burst);
        }
    }

    #[test]
    fn the_merge_sort_orders_by_a_total_order_and_survives_a_cyclic_one() {
        let v: Vec<u32> = (0..1000).map(|i| (i * 7919) % 1000).collect();
        let mut expected = v.clone();
        expected.sort();
        assert_eq!(sort_by_less(v, |a, b| a < b), expected);
        // Rock-paper-scissors: every element beats the next; no panic, same result twice.
        let cyclic = |a: &u32, b: &u32| (a + 1) % 3 == *b % 3;
        let v: Vec<u32> = (0..300).collect();
        assert_eq!(sort_by_less(v.clone(), cyclic), sort_by_less(v, cyclic));
    }

    #[test]
    fn with_uniform_times_the_rank_key_orders_as_less_does() {
        let pod = Pod::default();
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let inputs: Vec<RankInput> = (0..400)
            .map(|_| RankInput {
                pod: crate::store::PodRef::Pod(&pod),
                unassigned: next(4) == 0,
                phase: next(3) as u8,
                ready: next(2) == 0,
                cost: next(3) as i32 - 1,
                rank: next(4) as i32,
                ready_time: Some(Millis(5_000)),
                ready_bucket: 32,
                restarts: next(3) as i32,
                created: Some(Millis(1_000)),
                created_bucket: 33,
                node: None,
            })
            .collect();
        assert!(uniform_times(inputs.iter()));
        for a in &inputs {
            for b in &inputs {
                assert_eq!(less(a, b), rank_key(a) < rank_key(b));
            }
        }
        // A second ready time, or a second creation time, and the buckets may decide.
        let mut other = RankInput { ..inputs[0] };
        other.ready = true;
        other.ready_time = Some(Millis(6_000));
        assert!(!uniform_times(inputs.iter().chain([&other])));
        let mut other = RankInput { ..inputs[1] };
        other.created = Some(Millis(2_000));
        assert!(!uniform_times(inputs.iter().chain([&other])));
    }

    #[test]
    fn bursts_of_deletions_of_pods_made_together_pick_what_a_fresh_ranking_picks() {
        // 1,300 pods created and ready at the same instants; scaling to 150 deletes in three
        // bursts, and each burst changes the per-node counts the next one ranks by.
        let mut c = Cluster::new(ClusterConfig {
            seed: 5,
            nodes: 4,
            pods_per_node: 400,
            trace: false,
        });
        let key = c
            .apply_deployment(simple_deployment("web", 1300, "web:1"))
            .unwrap();
        c.run_until(Millis::from_secs(30));
        let _ = key;
        let rs = c.store.replicasets.values().next().unwrap().clone();
        assert_eq!(rs.status.as_ref().unwrap().available_replicas, Some(1300));
        let now = c.now();
        let uid = rs.metadata.uid.as_deref().unwrap();
        let inputs: Vec<RankInput> = c
            .store
            .pods_owned_by(uid)
            .map(|p| RankInput::of(p, 0, now))
            .collect();
        assert!(uniform_times(inputs.iter()), "the fast path is taken");
        let expected = reference(&c, &rs, 150);
        assert_eq!(expected.len(), 1150);
        let got = pods_to_delete(&c, &rs, 150);
        let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
        assert_eq!((got.len(), first_difference), (expected.len(), None));
    }

    #[test]
    fn the_pod_deletion_cost_orders_victims_as_a_ranking_of_the_pods_does() {
        let mut c = Cluster::new(ClusterConfig {
            seed: 9,
            nodes: 3,
            pods_per_node: 100,
            trace: false,
        });
        c.apply_deployment(simple_deployment("web", 30, "web:1"))
            .unwrap();
        c.run_until(Millis::from_secs(30));
        let keys: Vec<ObjectKey> = c.store.pods.keys().collect();
        // Every third pod costs more to delete, every fifth less.
        for (i, k) in keys.iter().enumerate() {
            let cost = match (i % 3, i % 5) {
                (_, 0) => "-5",
                (0, _) => "10",
                _ => continue,
            };
            c.modify::<Pod>(k, |p| {
                p.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(
                        crate::store::POD_DELETION_COST.to_string(),
                        cost.to_string(),
                    );
            })
            .unwrap();
        }
        let rs = c.store.replicasets.values().next().unwrap().clone();
        let expected = reference(&c, &rs, 10);
        let got = pods_to_delete(&c, &rs, 10);
        assert_eq!(got, expected);
        // The six cheap pods go first; none of the ten expensive ones goes.
        let cheap: Vec<&ObjectKey> = keys.iter().step_by(5).collect();
        assert!(got[..6].iter().all(|k| cheap.contains(&k)), "{got:?}");
        let dear: Vec<&ObjectKey> = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == 0 && i % 5 != 0)
            .map(|(_, k)| k)
            .collect();
        assert!(got.iter().all(|k| !dear.contains(&k)), "{got:?}");
    }

    #[test]
    fn bursts_of_deletions_pick_the_pods_a_fresh_ranking_per_burst_picks() {
        // Three small nodes fill unevenly as the deployment grows in steps at different times,
        // so per-node counts and ready-time buckets both matter, and scaling 1,300 → 150
        // deletes in three bursts (500, 500, 150).
        let mut c = Cluster::new(ClusterConfig {
            seed: 3,
            nodes: 3,
            pods_per_node: 600,
            trace: false,
        });
        let key = c
            .apply_deployment(simple_deployment("web", 400, "web:1"))
            .unwrap();
        c.run_until(Millis::from_secs(30));
        for (at, n) in [(100, 900), (700, 1300)] {
            c.update_deployment(&key, |d| d.spec.as_mut().unwrap().replicas = Some(n))
                .unwrap();
            c.run_until(Millis::from_secs(at));
        }
        let rs = c.store.replicasets.values().next().unwrap().clone();
        assert_eq!(rs.status.as_ref().unwrap().available_replicas, Some(1300));
        let expected = reference(&c, &rs, 150);
        assert_eq!(expected.len(), 1150);
        let got = pods_to_delete(&c, &rs, 150);
        let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
        assert_eq!((got.len(), first_difference), (expected.len(), None));

        // The controller deletes them in that order.
        let before = c.events.len();
        c.update_deployment(&key, |d| d.spec.as_mut().unwrap().replicas = Some(150))
            .unwrap();
        c.settle();
        let deleted: Vec<String> = c
            .events
            .since(before)
            .filter(|e| e.reason == "SuccessfulDelete")
            .map(|e| e.message.trim_start_matches("Deleted pod: ").to_string())
            .collect();
        let expected_names: Vec<String> = expected.iter().map(|k| k.name.to_string()).collect();
        let first_difference = deleted
            .iter()
            .zip(&expected_names)
            .position(|(a, b)| a != b);
        assert_eq!(
            (deleted.len(), first_difference),
            (expected_names.len(), None)
        );
    }
}

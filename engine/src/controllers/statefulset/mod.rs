//! The StatefulSet controller: pods with stable names `<set>-<ordinal>`, created in order
//! and deleted in reverse order, each with its own claims, updated one at a time from the
//! highest ordinal, with ControllerRevisions as history. See [`sync_stateful_set`].
//!
//! | upstream (`pkg/controller/statefulset/`, `pkg/controller/history/`) | here |
//! |---|---|
//! | `stateful_set.go` (`sync`, `getPodsForStatefulSet`, `adoptOrphanRevisions`, `getStatefulSetsForPod`) | `mod.rs` |
//! | `stateful_set_control.go` | `control.rs` |
//! | `stateful_set_utils.go` | `utils.rs`; claim ownership in `pvc.rs` |
//! | `stateful_pod_control.go` (claims) | `pvc.rs`; pods in `control.rs` |
//! | `controller_history.go` | `history.rs` |
//!
//! # What blocks what
//!
//! In OrderedReady mode (`monotonic`) a sync stops at the first replica, in ordinal order,
//! that was just created, is terminating, or is not Running, Ready and available for
//! minReadySeconds: so `web-2` is created only once `web-0` and `web-1` are. Scale-down
//! deletes the highest condemned ordinal, one per sync, and waits for it to be gone. A rolling
//! update deletes the highest outdated pod at or above the partition and waits for its
//! replacement to be available before the next. Parallel mode creates and deletes without
//! waiting, but updates still go one at a time.

pub mod control;
pub mod history;
pub mod pvc;
pub mod utils;

use crate::Cluster;
use crate::cluster::Work;
use crate::labels;
use crate::store::{Kind, ObjectKey, controller_ref};
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::Pod;

/// What a StatefulSet's controller did to its pods, in order, for steps such as "the pods
/// were created in order web-0, web-1, web-2".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodHistory {
    /// (instant, pod name) of every pod created.
    pub created: Vec<(Millis, String)>,
    /// (instant, pod name) of every pod the controller deleted (scale-down, update, failure).
    pub deleted: Vec<(Millis, String)>,
}

/// StatefulSets in the pod's namespace whose selector matches an orphan pod
/// (`getStatefulSetsForPod`, for adoption).
pub(crate) fn stateful_sets_for_pod(c: &Cluster, pod: &Pod) -> Vec<ObjectKey> {
    if c.store.statefulsets.is_empty() {
        return Vec::new();
    }
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    c.store
        .statefulsets
        .iter()
        .filter(|(k, _)| k.namespace == ns)
        .filter(|(_, s)| {
            s.spec.as_ref().is_some_and(|sp| {
                labels::selector_matches(&sp.selector, pod.metadata.labels.as_ref())
            })
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// The ControllerRevisions the set controls.
pub(crate) fn owned_revisions(c: &Cluster, set: &StatefulSet) -> Vec<ControllerRevision> {
    let uid = set.metadata.uid.as_deref().unwrap_or("");
    let keys: Vec<ObjectKey> = c
        .store
        .non_pod_dependents(uid)
        .filter(|(k, _)| *k == Kind::ControllerRevision)
        .map(|(_, key)| key.clone())
        .collect();
    keys.iter()
        .filter_map(|k| c.store.controllerrevisions.get(k))
        .filter(|r| controller_ref(&r.metadata).is_some_and(|o| o.uid == uid))
        .cloned()
        .collect()
}

/// The pods the set controls, in slot order ([`crate::store::Store::pods_owned_by`]).
pub fn owned_pods(c: &Cluster, set: &StatefulSet) -> Vec<Pod> {
    let uid = set.metadata.uid.as_deref().unwrap_or("");
    c.store
        .pods_owned_by(uid)
        .filter(|p| controller_ref(&p.metadata).is_some_and(|o| o.uid == uid))
        .cloned()
        .collect()
}

/// `sync` (`stateful_set.go`): claims pods and revisions, runs the main loop, and requeues
/// the set for the moment a ready pod becomes available when `minReadySeconds` is set.
pub(crate) fn sync_stateful_set(c: &mut Cluster, key: &ObjectKey) {
    let Some(set) = c.store.statefulsets.get(key).cloned() else {
        return;
    };
    if set.metadata.deletion_timestamp.is_some() {
        return;
    }
    adopt_orphan_revisions(c, &set);
    claim_pods(c, &set);
    let revisions = owned_revisions(c, &set);
    let status = control::update_stateful_set(c, &set, revisions);

    let min_ready = utils::min_ready_seconds(&set);
    if min_ready > 0 && status.available_replicas != Some(utils::replicas(&set)) {
        // NOTE: upstream requeues after minReadySeconds and checks `ready since +
        // minReadySeconds < now`; at zero latency that lands on the boundary. The engine wakes
        // at the first millisecond a ready pod is available, as the ReplicaSet controller does.
        let now = c.now();
        let uid = set.metadata.uid.as_deref().unwrap_or("");
        let next = c
            .store
            .pod_facts_owned_by(uid)
            .filter(|(_, f)| f.active && f.ready)
            .filter_map(|(_, f)| f.ready_since)
            .map(|since| since + Millis::from_secs(min_ready as u64) + Millis(1))
            .filter(|at| *at > now)
            .min();
        if let Some(at) = next {
            c.requeue_after(Work::SyncStatefulSet(key.clone()), at.saturating_sub(now));
        }
    }
}

/// `ClaimPods` with `isMemberOf`: adopts orphan pods that match the selector and are named
/// after the set; releases owned pods that no longer match the selector.
fn claim_pods(c: &mut Cluster, set: &StatefulSet) {
    let Some(spec) = set.spec.as_ref() else {
        return;
    };
    let ns = set.metadata.namespace.as_deref().unwrap_or("default");
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let adopt: Vec<ObjectKey> = c
        .store
        .orphan_pods()
        .filter(|k| k.namespace == ns)
        .filter(|k| {
            c.store.pods.get(k).is_some_and(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && utils::is_member_of(set, p)
                    && labels::selector_matches(&spec.selector, p.metadata.labels.as_ref())
            })
        })
        .cloned()
        .collect();
    let owner = crate::controllers::replicaset::owner_ref(&set.metadata, "StatefulSet");
    for k in adopt {
        let owner = owner.clone();
        let _ = c.modify::<Pod>(&k, move |p| {
            p.metadata
                .owner_references
                .get_or_insert_with(Vec::new)
                .push(owner)
        });
    }
    // Each pod of a set has its own label set (pod-name, pod-index), so the selector is
    // checked pod by pod, on the interned labels, without copying a pod.
    let release: Vec<ObjectKey> = c
        .store
        .pod_facts_owned_by(&uid)
        .filter(|(_, f)| {
            !labels::selector_matches(&spec.selector, Some(c.store.label_set(f.labels)))
        })
        .filter_map(|(slot, _)| c.store.pod_by_slot(slot))
        .filter(|p| controller_ref(&p.metadata).is_some_and(|o| o.uid == uid))
        .map(|p| ObjectKey::of(&p.metadata))
        .collect();
    for k in release {
        let uid = uid.clone();
        let _ = c.modify::<Pod>(&k, move |p| {
            if let Some(refs) = p.metadata.owner_references.as_mut() {
                refs.retain(|r| r.uid != uid);
                if refs.is_empty() {
                    p.metadata.owner_references = None;
                }
            }
        });
    }
}

/// `adoptOrphanRevisions`: ControllerRevisions without a controller whose labels match the
/// set's selector become the set's (after a deletion with `--cascade=orphan` and a re-create).
fn adopt_orphan_revisions(c: &mut Cluster, set: &StatefulSet) {
    let Some(spec) = set.spec.as_ref() else {
        return;
    };
    let ns = set.metadata.namespace.as_deref().unwrap_or("default");
    let orphans: Vec<ObjectKey> = c
        .store
        .controllerrevisions
        .iter()
        .filter(|(k, r)| {
            k.namespace == ns
                && controller_ref(&r.metadata).is_none()
                && labels::selector_matches(&spec.selector, r.metadata.labels.as_ref())
        })
        .map(|(k, _)| k.clone())
        .collect();
    let owner = crate::controllers::replicaset::owner_ref(&set.metadata, "StatefulSet");
    for k in orphans {
        let owner = owner.clone();
        let _ = c.modify::<ControllerRevision>(&k, move |r| {
            r.metadata
                .owner_references
                .get_or_insert_with(Vec::new)
                .push(owner)
        });
    }
}

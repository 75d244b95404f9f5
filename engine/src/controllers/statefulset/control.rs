//! The StatefulSet main loop: revisions, then the replicas in ordinal order, then the
//! condemned pods, then the rolling update, then status and history. Mirrors
//! `pkg/controller/statefulset/stateful_set_control.go` (`UpdateStatefulSet`,
//! `performUpdate`, `getStatefulSetRevisions`, `updateStatefulSet`, `processReplica`,
//! `processCondemned`, `truncateHistory`, `updateStatefulSetStatus`).

use super::{history, pvc, utils};
use crate::Cluster;
use crate::events::EventType;
use crate::store::ObjectKey;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;

const SOURCE: &str = "statefulset-controller";

/// `UpdateStatefulSet`: one sync of the set over the pods it controls (already claimed).
/// Returns the status written.
pub(crate) fn update_stateful_set(
    c: &mut Cluster,
    set: &StatefulSet,
    mut revisions: Vec<ControllerRevision>,
) -> StatefulSetStatus {
    history::sort_controller_revisions(&mut revisions);
    let (current, update, collision_count) = get_stateful_set_revisions(c, set, &revisions);
    let pods = pod_facts(c, set, &current, &update);
    let live = live_revisions(c, &pods);
    let status = update_pods(c, set, &current, &update, collision_count, &pods);
    let status = update_stateful_set_status(c, set, status);
    // Revisions may have been renumbered or created above: list them again.
    let mut revisions = super::owned_revisions(c, set);
    history::sort_controller_revisions(&mut revisions);
    truncate_history(c, set, &live, &revisions, &current, &update);
    status
}

/// What one sync needs to know about a pod, read once per sync without copying the pod
/// (a 1,000-replica set is synced thousands of times while it scales).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts {
    /// The pod's slot in the pod table.
    pub slot: u32,
    pub ordinal: i32,
    /// `isRunningAndReady`.
    pub running_ready: bool,
    /// `isRunningAndAvailable` for the set's minReadySeconds.
    pub available: bool,
    pub terminating: bool,
    /// Failed or Succeeded.
    pub finished: bool,
    pub pending: bool,
    pub at_current: bool,
    pub at_update: bool,
    pub identity_ok: bool,
}

impl Facts {
    /// `isUnavailable`.
    fn unavailable(&self) -> bool {
        !self.running_ready || self.terminating || !self.available
    }
}

/// The facts of every pod the set controls, in slot order ([`crate::store::Store::pods_owned_by`]).
pub(crate) fn pod_facts(
    c: &Cluster,
    set: &StatefulSet,
    current: &ControllerRevision,
    update: &ControllerRevision,
) -> Vec<Facts> {
    let now = c.now();
    let min_ready = utils::min_ready_seconds(set);
    let uid = set.metadata.uid.as_deref().unwrap_or("");
    let (cur, upd) = (
        current.metadata.name.as_deref().unwrap_or(""),
        update.metadata.name.as_deref().unwrap_or(""),
    );
    c.store
        .pod_facts_owned_by(uid)
        .filter_map(|(slot, _)| Some((slot, c.store.pod_by_slot(slot)?)))
        .filter(|(_, p)| crate::store::controller_ref(&p.metadata).is_some_and(|o| o.uid == uid))
        .map(|(slot, p)| {
            let rev = utils::pod_revision(p);
            Facts {
                slot,
                ordinal: utils::ordinal(p),
                running_ready: utils::is_running_and_ready(p),
                available: utils::is_running_and_available(p, min_ready, now),
                terminating: utils::is_terminating(p),
                finished: utils::is_finished(p),
                pending: utils::phase(p) == "Pending",
                at_current: rev == cur,
                at_update: rev == upd,
                identity_ok: utils::identity_matches(set, p),
            }
        })
        .collect()
}

/// The revisions the pods are at (`truncateHistory` keeps them).
fn live_revisions(c: &Cluster, pods: &[Facts]) -> Vec<String> {
    let mut live: Vec<String> = Vec::new();
    for f in pods {
        if let Some(p) = c.store.pod_by_slot(f.slot) {
            let rev = utils::pod_revision(p);
            if !live.iter().any(|r| r == rev) {
                live.push(rev.to_string());
            }
        }
    }
    live
}

/// `getStatefulSetRevisions`: the current and update revisions. The update revision is the
/// set's template: the latest revision when it already records it; an older equal revision
/// renumbered to the next number (a rollback); or a new revision with the next number.
fn get_stateful_set_revisions(
    c: &mut Cluster,
    set: &StatefulSet,
    revisions: &[ControllerRevision],
) -> (ControllerRevision, ControllerRevision, i32) {
    let mut collision_count = set
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0);
    let candidate = utils::new_revision(set, history::next_revision(revisions), collision_count);
    let equal = history::find_equal_revisions(revisions, &candidate);
    let update = match (equal.last(), revisions.last()) {
        (Some(eq), Some(latest)) if history::equal_revision(latest, eq) => latest.clone(),
        (Some(eq), _) => {
            // `UpdateControllerRevision`: only the number changes.
            let mut renumbered = (*eq).clone();
            renumbered.revision = candidate.revision;
            let _ = c.update(renumbered.clone());
            renumbered
        }
        (None, _) => create_controller_revision(c, set, candidate, &mut collision_count),
    };
    let current_name = set
        .status
        .as_ref()
        .and_then(|s| s.current_revision.as_deref())
        .unwrap_or("");
    let current = revisions
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(current_name))
        .cloned()
        .unwrap_or_else(|| update.clone());
    (current, update, collision_count)
}

/// `CreateControllerRevision`: on a name collision with different data the collision count
/// grows and the name is hashed again; a revision of the same name and data is reused.
fn create_controller_revision(
    c: &mut Cluster,
    set: &StatefulSet,
    mut candidate: ControllerRevision,
    collision_count: &mut i32,
) -> ControllerRevision {
    loop {
        let key = ObjectKey::of(&candidate.metadata);
        match c.store.controllerrevisions.get(&key) {
            Some(existing) if existing.data == candidate.data => return existing.clone(),
            Some(_) => {
                *collision_count += 1;
                candidate = utils::new_revision(set, candidate.revision, *collision_count);
            }
            None => {
                let _ = c.create(candidate.clone());
                return c
                    .store
                    .controllerrevisions
                    .get(&key)
                    .cloned()
                    .unwrap_or(candidate);
            }
        }
    }
}

/// The set's pods at one sync, split as `updateStatefulSet` splits them.
struct Split {
    /// In-range ordinals, by `ordinal - start`; `None` where no pod exists yet.
    replicas: Vec<Option<Facts>>,
    /// Valid ordinals out of range, highest first.
    condemned: Vec<Facts>,
}

/// The first unhealthy pod: a replica index, or a condemned pod's slot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FirstUnhealthy {
    Replica,
    Condemned(u32),
}

/// `updateStatefulSet`: the phases of one sync. See the module doc of [`super`] for what
/// blocks what.
fn update_pods(
    c: &mut Cluster,
    set: &StatefulSet,
    current: &ControllerRevision,
    update: &ControllerRevision,
    collision_count: i32,
    pods: &[Facts],
) -> StatefulSetStatus {
    let current_name = current.metadata.name.clone().unwrap_or_default();
    let update_name = update.metadata.name.clone().unwrap_or_default();
    let start = utils::start_ordinal(set);
    let count = utils::replicas(set).max(0) as usize;
    let mut split = Split {
        replicas: vec![None; count],
        condemned: Vec::new(),
    };
    for f in pods {
        if f.ordinal >= start && f.ordinal <= utils::end_ordinal(set) {
            split.replicas[(f.ordinal - start) as usize] = Some(*f);
        } else if f.ordinal >= 0 {
            split.condemned.push(*f);
        }
    }
    split
        .condemned
        .sort_by_key(|f| std::cmp::Reverse(f.ordinal));

    // The first unhealthy pod: the lowest replica (a missing one is unhealthy), else the
    // lowest condemned pod.
    let first_unhealthy = if split
        .replicas
        .iter()
        .any(|r| r.is_none_or(|f| f.unavailable()))
    {
        Some(FirstUnhealthy::Replica)
    } else {
        split
            .condemned
            .iter()
            .rev()
            .find(|f| f.unavailable())
            .map(|f| FirstUnhealthy::Condemned(f.slot))
    };

    let mut status = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        current_revision: Some(current_name.clone()),
        update_revision: Some(update_name.clone()),
        collision_count: Some(collision_count),
        ..Default::default()
    };
    let counted = split.replicas.iter().flatten().chain(&split.condemned);
    count_status(&mut status, counted);

    let monotonic = !utils::allows_burst(set);
    let has_claims = set
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.as_ref())
        .is_some_and(|t| !t.is_empty());
    let partition = utils::partition(set);

    // Phase A: the replicas, in ordinal order. OrderedReady stops at the first pod that
    // blocks; Parallel goes through all of them (upstream's slow-start batches of 1, 2, 4, …
    // run back to back at one instant) and stops only on an error.
    let current_set = utils::apply_revision(set, current);
    let update_set = utils::apply_revision(set, update);
    for (i, r) in split.replicas.iter().enumerate() {
        let result = match r {
            None => {
                // `newVersionedStatefulSetPod`: below the partition a missing pod is made at
                // the current revision, otherwise at the update revision.
                let ord = start + i as i32;
                let below = match partition {
                    None => {
                        utils::strategy_type(set) == "RollingUpdate"
                            && ord
                                < start
                                    + set
                                        .status
                                        .as_ref()
                                        .and_then(|s| s.current_replicas)
                                        .unwrap_or(0)
                    }
                    Some(part) => ord < start + part,
                };
                let (from, rev) = if below {
                    (&current_set, &current_name)
                } else {
                    (&update_set, &update_name)
                };
                let mut pod = utils::new_stateful_set_pod(set, &utils::template(from), ord);
                utils::set_pod_revision(&mut pod, rev);
                create_stateful_pod(c, set, pod).map(|()| monotonic)
            }
            Some(f) => process_replica(c, set, &update_set, monotonic, has_claims, f),
        };
        match result {
            Ok(false) => {}
            Ok(true) if !monotonic => {}
            Ok(true) | Err(()) => return status,
        }
    }
    // Phase B: the claims of condemned pods follow the retention policy.
    if has_claims {
        for f in &split.condemned {
            if let Some(p) = c.store.pod_by_slot(f.slot).cloned()
                && !pvc::claims_match_retention_policy(c, &update_set, &p)
            {
                pvc::update_pod_claim_for_retention_policy(c, &update_set, &p);
            }
        }
    }
    // Phase C: the condemned pods, highest ordinal first.
    for f in &split.condemned {
        if process_condemned(c, set, first_unhealthy, monotonic, f) && monotonic {
            return status;
        }
    }
    // Phase D: the rolling update, highest ordinal first, down to the partition.
    if utils::strategy_type(set) == "OnDelete" {
        return status;
    }
    let update_min = partition.unwrap_or(0).max(0) as usize;
    for target in (update_min..split.replicas.len()).rev() {
        // Every replica exists here: Phase A returned at the first missing one otherwise
        // (OrderedReady), or created them all (Parallel) — a pod just created is pending, so
        // unavailable, and stops the update below.
        let Some(f) = split.replicas[target] else {
            return status;
        };
        if !f.at_update && !f.terminating {
            delete_stateful_pod(c, set, f.slot);
            status.current_replicas = Some(status.current_replicas.unwrap_or(0) - 1);
            return status;
        }
        if f.unavailable() {
            return status;
        }
    }
    status
}

/// `updateStatus` over the created pods.
fn count_status<'a>(status: &mut StatefulSetStatus, pods: impl Iterator<Item = &'a Facts>) {
    let (mut replicas, mut ready, mut available, mut cur, mut upd) = (0, 0, 0, 0, 0);
    for f in pods {
        replicas += 1;
        if f.running_ready {
            ready += 1;
            if f.available {
                available += 1;
            }
        }
        if !f.terminating {
            cur += i32::from(f.at_current);
            upd += i32::from(f.at_update);
        }
    }
    status.replicas = replicas;
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    status.current_replicas = Some(cur);
    status.updated_replicas = Some(upd);
}

/// `processReplica` for a pod that exists: returns whether it blocks the sync (in
/// OrderedReady mode), or an error when a write failed.
fn process_replica(
    c: &mut Cluster,
    set: &StatefulSet,
    update_set: &StatefulSet,
    monotonic: bool,
    has_claims: bool,
    f: &Facts,
) -> Result<bool, ()> {
    // A pod that will not run again is deleted; a new one of the same name is created on a
    // later sync, once this one is gone.
    if f.finished {
        if !f.terminating {
            delete_stateful_pod(c, set, f.slot);
        }
        return Ok(true);
    }
    if f.pending && has_claims {
        let pod = c.store.pod_by_slot(f.slot).cloned().ok_or(())?;
        pvc::create_missing_claims(c, set, &pod).map_err(|_| ())?;
    }
    if monotonic && (f.terminating || !f.running_ready || !f.available) {
        return Ok(true);
    }
    // The set's invariants: identity and the claims' ownerReferences.
    if f.identity_ok && !has_claims {
        return Ok(false);
    }
    let Some(pod) = c.store.pod_by_slot(f.slot).cloned() else {
        return Ok(false);
    };
    if !f.identity_ok {
        let key = ObjectKey::of(&pod.metadata);
        let _ = c.modify::<Pod>(&key, |p| utils::update_identity(set, p));
    }
    if has_claims && !pvc::claims_match_retention_policy(c, update_set, &pod) {
        pvc::update_pod_claim_for_retention_policy(c, update_set, &pod);
    }
    Ok(false)
}

/// `processCondemned`: returns whether the condemned pod blocks (or was deleted).
fn process_condemned(
    c: &mut Cluster,
    set: &StatefulSet,
    first_unhealthy: Option<FirstUnhealthy>,
    monotonic: bool,
    f: &Facts,
) -> bool {
    if f.terminating {
        return monotonic;
    }
    let is_first_unhealthy = first_unhealthy == Some(FirstUnhealthy::Condemned(f.slot));
    if monotonic && !is_first_unhealthy && (!f.running_ready || !f.available) {
        return true;
    }
    delete_stateful_pod(c, set, f.slot);
    true
}

/// `CreateStatefulPod`: the claims first, then the pod, each with its event.
fn create_stateful_pod(c: &mut Cluster, set: &StatefulSet, pod: Pod) -> Result<(), ()> {
    pvc::create_missing_claims(c, set, &pod).map_err(|_| ())?;
    let name = pod.metadata.name.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    match c.create(pod) {
        Ok(_) => {
            let now = c.now();
            c.observer
                .statefulsets
                .entry(ObjectKey::of(&set.metadata))
                .or_default()
                .created
                .push((now, name.clone()));
            c.record_event(
                set,
                EventType::Normal,
                "SuccessfulCreate",
                format!("create Pod {name} in StatefulSet {set_name} successful"),
                SOURCE,
            );
            Ok(())
        }
        Err(e) => {
            c.record_event(
                set,
                EventType::Warning,
                "FailedCreate",
                format!("create Pod {name} in StatefulSet {set_name} failed error: {e}"),
                SOURCE,
            );
            Err(())
        }
    }
}

/// `DeleteStatefulPod`, with its event.
fn delete_stateful_pod(c: &mut Cluster, set: &StatefulSet, slot: u32) {
    let Some(key) = c
        .store
        .pod_by_slot(slot)
        .map(|p| ObjectKey::of(&p.metadata))
    else {
        return;
    };
    let name = key.name.clone();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    match c.delete::<Pod>(&key, Default::default()) {
        Ok(()) => {
            let now = c.now();
            c.observer
                .statefulsets
                .entry(ObjectKey::of(&set.metadata))
                .or_default()
                .deleted
                .push((now, name.to_string()));
            c.record_event(
                set,
                EventType::Normal,
                "SuccessfulDelete",
                format!("delete Pod {name} in StatefulSet {set_name} successful"),
                SOURCE,
            )
        }
        Err(e) => c.record_event(
            set,
            EventType::Warning,
            "FailedDelete",
            format!("delete Pod {name} in StatefulSet {set_name} failed error: {e}"),
            SOURCE,
        ),
    }
}

/// `updateStatefulSetStatus`: completes a finished rolling update, then writes the status if
/// it differs from the stored one.
fn update_stateful_set_status(
    c: &mut Cluster,
    set: &StatefulSet,
    mut status: StatefulSetStatus,
) -> StatefulSetStatus {
    utils::complete_rolling_update(set, &mut status);
    let key = ObjectKey::of(&set.metadata);
    let stored = c
        .store
        .statefulsets
        .get(&key)
        .and_then(|s| s.status.clone());
    if stored.as_ref() != Some(&status) {
        let st = status.clone();
        let _ = c.modify::<StatefulSet>(&key, move |s| {
            // Conditions are not computed by this controller; keep what is there.
            let conditions = s.status.as_ref().and_then(|x| x.conditions.clone());
            s.status = Some(StatefulSetStatus { conditions, ..st });
        });
    }
    status
}

/// `truncateHistory`: deletes the oldest revisions that no pod and neither status revision
/// uses, beyond `revisionHistoryLimit`.
fn truncate_history(
    c: &mut Cluster,
    set: &StatefulSet,
    pod_revisions: &[String],
    revisions: &[ControllerRevision],
    current: &ControllerRevision,
    update: &ControllerRevision,
) {
    let mut live: Vec<&str> = pod_revisions.iter().map(String::as_str).collect();
    live.push(current.metadata.name.as_deref().unwrap_or(""));
    live.push(update.metadata.name.as_deref().unwrap_or(""));
    let old: Vec<&ControllerRevision> = revisions
        .iter()
        .filter(|r| !live.contains(&r.metadata.name.as_deref().unwrap_or("")))
        .collect();
    let limit = set
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10);
    if limit < 0 || old.len() <= limit as usize {
        return;
    }
    let excess = old.len() - limit as usize;
    for r in &old[..excess] {
        let key = ObjectKey::of(&r.metadata);
        let _ = c.delete::<ControllerRevision>(&key, Default::default());
    }
}

//! The StatefulSet main loop: revisions, then the replicas in ordinal order, then the
//! condemned pods, then the rolling update, then status and history. Mirrors
//! `pkg/controller/statefulset/stateful_set_control.go` (`UpdateStatefulSet`,
//! `performUpdate`, `getStatefulSetRevisions`, `updateStatefulSet`, `processReplica`,
//! `processCondemned`, `truncateHistory`, `updateStatefulSetStatus`).

use super::{history, pvc, utils};
use crate::Cluster;
use crate::events::EventType;
use crate::store::ObjectKey;
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;

const SOURCE: &str = "statefulset-controller";

/// `UpdateStatefulSet`: one sync of the set over its pods (already claimed). Returns the
/// status written.
pub(crate) fn update_stateful_set(
    c: &mut Cluster,
    set: &StatefulSet,
    mut revisions: Vec<ControllerRevision>,
    pods: &[Pod],
) -> StatefulSetStatus {
    history::sort_controller_revisions(&mut revisions);
    let (current, update, collision_count) = get_stateful_set_revisions(c, set, &revisions);
    let status = update_pods(c, set, &current, &update, collision_count, pods);
    let status = update_stateful_set_status(c, set, status);
    // Revisions may have been renumbered or created above: list them again.
    let mut revisions = super::owned_revisions(c, set);
    history::sort_controller_revisions(&mut revisions);
    truncate_history(c, set, pods, &revisions, &current, &update);
    status
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

/// One slot of the replicas: the pod at an ordinal in range, or the pod to create there.
enum Replica<'a> {
    Live(&'a Pod),
    Missing(Box<Pod>),
}

impl Replica<'_> {
    fn pod(&self) -> &Pod {
        match self {
            Replica::Live(p) => p,
            Replica::Missing(p) => p,
        }
    }
}

/// `updateStatefulSet`: the phases of one sync. See the module doc of
/// [`super`] for what blocks what.
fn update_pods(
    c: &mut Cluster,
    set: &StatefulSet,
    current: &ControllerRevision,
    update: &ControllerRevision,
    collision_count: i32,
    pods: &[Pod],
) -> StatefulSetStatus {
    let now = c.now();
    let min_ready = utils::min_ready_seconds(set);
    let current_name = current.metadata.name.clone().unwrap_or_default();
    let update_name = update.metadata.name.clone().unwrap_or_default();
    let current_set = utils::apply_revision(set, current);
    let update_set = utils::apply_revision(set, update);

    let start = utils::start_ordinal(set);
    let count = utils::replicas(set).max(0) as usize;
    let mut slots: Vec<Option<&Pod>> = vec![None; count];
    let mut condemned: Vec<&Pod> = Vec::new();
    for p in pods {
        if utils::pod_in_ordinal_range(p, set) {
            slots[(utils::ordinal(p) - start) as usize] = Some(p);
        } else if utils::ordinal(p) >= 0 {
            condemned.push(p);
        }
    }
    // `newVersionedStatefulSetPod`: below the partition a missing pod is made at the current
    // revision, otherwise at the update revision.
    let partition = utils::partition(set);
    let current_replicas = set
        .status
        .as_ref()
        .and_then(|s| s.current_replicas)
        .unwrap_or(0);
    let replicas: Vec<Replica> = slots
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p {
            Some(p) => Replica::Live(p),
            None => {
                let ord = start + i as i32;
                let below = match partition {
                    None => {
                        utils::strategy_type(set) == "RollingUpdate"
                            && ord < start + current_replicas
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
                Replica::Missing(Box::new(pod))
            }
        })
        .collect();
    condemned.sort_by_key(|p| std::cmp::Reverse(utils::ordinal(p)));

    // The first unhealthy pod: the lowest replica, else the lowest condemned pod.
    let first_unhealthy: Option<String> = replicas
        .iter()
        .map(Replica::pod)
        .chain(condemned.iter().rev().copied())
        .find(|p| is_unavailable(p, min_ready, now))
        .and_then(|p| p.metadata.name.clone());

    let mut status = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        current_revision: Some(current_name.clone()),
        update_revision: Some(update_name.clone()),
        collision_count: Some(collision_count),
        ..Default::default()
    };
    let counted: Vec<&Pod> = replicas
        .iter()
        .filter_map(|r| match r {
            Replica::Live(p) => Some(*p),
            Replica::Missing(_) => None,
        })
        .chain(condemned.iter().copied())
        .collect();
    count_status(
        &mut status,
        &counted,
        min_ready,
        now,
        &current_name,
        &update_name,
    );

    let monotonic = !utils::allows_burst(set);

    // Phase A: the replicas, in ordinal order. OrderedReady stops at the first pod that
    // blocks; Parallel goes through all of them (upstream's slow-start batches of 1, 2, 4, …
    // run back to back at one instant) and stops only on an error.
    for r in &replicas {
        match process_replica(c, set, &update_set, monotonic, r) {
            Ok(false) => {}
            Ok(true) if !monotonic => {}
            Ok(true) | Err(()) => return status,
        }
    }
    // Phase B: the claims of condemned pods follow the retention policy.
    for p in &condemned {
        if !pvc::claims_match_retention_policy(c, &update_set, p) {
            pvc::update_pod_claim_for_retention_policy(c, &update_set, p);
        }
    }
    // Phase C: the condemned pods, highest ordinal first.
    for p in &condemned {
        if process_condemned(
            c,
            set,
            first_unhealthy.as_deref(),
            monotonic,
            p,
            min_ready,
            now,
        ) && monotonic
        {
            return status;
        }
    }
    // Phase D: the rolling update, highest ordinal first, down to the partition.
    if utils::strategy_type(set) == "OnDelete" {
        return status;
    }
    let update_min = partition.unwrap_or(0).max(0) as usize;
    for target in (update_min..replicas.len()).rev() {
        let p = replicas[target].pod();
        if utils::pod_revision(p) != update_name && !utils::is_terminating(p) {
            delete_stateful_pod(c, set, p);
            status.current_replicas = Some(status.current_replicas.unwrap_or(0) - 1);
            return status;
        }
        if is_unavailable(p, min_ready, now) {
            return status;
        }
    }
    status
}

/// `isUnavailable`, for a pod that may not have been created yet (which is unavailable).
fn is_unavailable(p: &Pod, min_ready: i32, now: Millis) -> bool {
    utils::is_unavailable(p, min_ready, now)
}

/// `updateStatus` over the created pods.
fn count_status(
    status: &mut StatefulSetStatus,
    pods: &[&Pod],
    min_ready: i32,
    now: Millis,
    current: &str,
    update: &str,
) {
    let (mut replicas, mut ready, mut available, mut cur, mut upd) = (0, 0, 0, 0, 0);
    for p in pods {
        replicas += 1;
        if utils::is_running_and_ready(p) {
            ready += 1;
            if utils::is_running_and_available(p, min_ready, now) {
                available += 1;
            }
        }
        if !utils::is_terminating(p) {
            let rev = utils::pod_revision(p);
            if rev == current {
                cur += 1;
            }
            if rev == update {
                upd += 1;
            }
        }
    }
    status.replicas = replicas;
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    status.current_replicas = Some(cur);
    status.updated_replicas = Some(upd);
}

/// `processReplica`: returns whether the pod blocks the sync (in OrderedReady mode), or an
/// error when a write failed.
fn process_replica(
    c: &mut Cluster,
    set: &StatefulSet,
    update_set: &StatefulSet,
    monotonic: bool,
    replica: &Replica,
) -> Result<bool, ()> {
    let now = c.now();
    let min_ready = utils::min_ready_seconds(set);
    let pod = match replica {
        Replica::Missing(pod) => {
            if pvc::pod_claim_is_stale(c, set, utils::ordinal(pod)) {
                return Ok(true);
            }
            create_stateful_pod(c, set, pod)?;
            // In Parallel mode the loop goes on with the next replica; the pod just created
            // is Pending and has nothing more to fix.
            return Ok(monotonic);
        }
        Replica::Live(pod) => *pod,
    };
    // A pod that will not run again is deleted; a new one of the same name is created on a
    // later sync, once this one is gone.
    if utils::is_finished(pod) {
        if !utils::is_terminating(pod) {
            delete_stateful_pod(c, set, pod);
        }
        return Ok(true);
    }
    if utils::phase(pod) == "Pending" {
        pvc::create_missing_claims(c, set, pod).map_err(|_| ())?;
    }
    if utils::is_terminating(pod) && monotonic {
        return Ok(true);
    }
    if !utils::is_running_and_ready(pod) && monotonic {
        return Ok(true);
    }
    if !utils::is_running_and_available(pod, min_ready, now) && monotonic {
        return Ok(true);
    }
    // The set's invariants: identity and claims' ownerReferences.
    let retention_match = pvc::claims_match_retention_policy(c, update_set, pod);
    if utils::identity_matches(set, pod) && retention_match {
        return Ok(false);
    }
    if !utils::identity_matches(set, pod) {
        let key = ObjectKey::of(&pod.metadata);
        let _ = c.modify::<Pod>(&key, |p| utils::update_identity(set, p));
    }
    if !retention_match {
        pvc::update_pod_claim_for_retention_policy(c, update_set, pod);
    }
    Ok(false)
}

/// `processCondemned`: returns whether the condemned pod blocks (or was deleted).
fn process_condemned(
    c: &mut Cluster,
    set: &StatefulSet,
    first_unhealthy: Option<&str>,
    monotonic: bool,
    pod: &Pod,
    min_ready: i32,
    now: Millis,
) -> bool {
    if utils::is_terminating(pod) {
        return monotonic;
    }
    let is_first_unhealthy = first_unhealthy == pod.metadata.name.as_deref();
    if monotonic && !is_first_unhealthy {
        if !utils::is_running_and_ready(pod) {
            return true;
        }
        if !utils::is_running_and_available(pod, min_ready, now) {
            return true;
        }
    }
    delete_stateful_pod(c, set, pod);
    true
}

/// `CreateStatefulPod`: the claims first, then the pod, each with its event.
fn create_stateful_pod(c: &mut Cluster, set: &StatefulSet, pod: &Pod) -> Result<(), ()> {
    pvc::create_missing_claims(c, set, pod).map_err(|_| ())?;
    let name = pod.metadata.name.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    match c.create(pod.clone()) {
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
fn delete_stateful_pod(c: &mut Cluster, set: &StatefulSet, pod: &Pod) {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let key = ObjectKey::of(&pod.metadata);
    match c.delete::<Pod>(&key, Default::default()) {
        Ok(()) => {
            let now = c.now();
            c.observer
                .statefulsets
                .entry(ObjectKey::of(&set.metadata))
                .or_default()
                .deleted
                .push((now, name.clone()));
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
    pods: &[Pod],
    revisions: &[ControllerRevision],
    current: &ControllerRevision,
    update: &ControllerRevision,
) {
    let mut live: Vec<&str> = pods.iter().map(utils::pod_revision).collect();
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

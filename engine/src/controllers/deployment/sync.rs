//! Scaling, new-ReplicaSet creation, history clean-up and status. Mirrors
//! `pkg/controller/deployment/sync.go`.

use super::util::{self, *};
use crate::Cluster;
use crate::events::EventType;
use crate::store::ObjectKey;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// Writes the Deployment's status and annotations (the `/status` subresource keeps the spec).
pub(crate) fn update_status(c: &mut Cluster, d: &Deployment) {
    let key = ObjectKey::of(&d.metadata);
    let (status, annotations) = (d.status.clone(), d.metadata.annotations.clone());
    let _ = c.modify::<Deployment>(&key, |x| {
        x.status = status;
        x.metadata.annotations = annotations;
    });
}

/// `syncStatusOnly`.
pub(crate) fn sync_status_only(c: &mut Cluster, d: &mut Deployment, rs_list: &[ReplicaSet]) {
    let (new_rs, old_rss) = get_all_replica_sets_and_sync_revision(c, d, rs_list, false);
    let mut all: Vec<ReplicaSet> = old_rss;
    all.extend(new_rs.clone());
    sync_deployment_status(c, d, &all, new_rs.as_ref());
}

/// `sync`: for a paused Deployment or a scaling event, scale (proportionally when needed),
/// clean up when paused, and update the status. Never creates a new ReplicaSet.
pub(crate) fn sync(c: &mut Cluster, d: &mut Deployment, rs_list: &[ReplicaSet]) {
    let (new_rs, old_rss) = get_all_replica_sets_and_sync_revision(c, d, rs_list, false);
    scale(c, d, new_rs.as_ref(), &old_rss);
    if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
        cleanup_deployment(c, &old_rss, d);
    }
    let mut all = old_rss;
    all.extend(new_rs.clone());
    sync_deployment_status(c, d, &all, new_rs.as_ref());
}

/// `isScalingEvent`: an active ReplicaSet's desired-replicas annotation differs from
/// `spec.replicas`.
pub(crate) fn is_scaling_event(
    c: &mut Cluster,
    d: &mut Deployment,
    rs_list: &[ReplicaSet],
) -> bool {
    let (new_rs, old_rss) = get_all_replica_sets_and_sync_revision(c, d, rs_list, false);
    let want = replicas(d);
    old_rss
        .iter()
        .chain(new_rs.iter())
        .filter(|rs| rs_replicas(rs) > 0)
        .filter_map(desired_replicas_annotation)
        .any(|desired| desired != want)
}

/// `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when asked and missing) and
/// all old ones.
pub(crate) fn get_all_replica_sets_and_sync_revision(
    c: &mut Cluster,
    d: &mut Deployment,
    rs_list: &[ReplicaSet],
    create_if_not_existed: bool,
) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
    // NOTE: upstream works on the list read at the start of the sync; a second call in the same
    // sync then writes a stale copy, fails with a Conflict and the sync is retried. Reading the
    // live objects here reaches the same state without the failed round trip.
    let live: Vec<ReplicaSet> = rs_list
        .iter()
        .filter_map(|rs| {
            c.store
                .replicasets
                .get(&ObjectKey::of(&rs.metadata))
                .cloned()
        })
        .collect();
    let refs: Vec<&ReplicaSet> = live.iter().collect();
    let new_uid = find_new_replica_set(d, &refs).and_then(|rs| rs.metadata.uid.clone());
    let old: Vec<ReplicaSet> = live
        .iter()
        .filter(|rs| rs.metadata.uid != new_uid || new_uid.is_none())
        .cloned()
        .collect();
    let new_rs = get_new_replica_set(c, d, &live, &old, create_if_not_existed);
    (new_rs, old)
}

/// `getNewReplicaSet`: syncs the existing new ReplicaSet's annotations and minReadySeconds, or
/// creates it (`<deployment>-<hash>`), and keeps the Deployment's revision annotation and
/// Progressing condition in step.
fn get_new_replica_set(
    c: &mut Cluster,
    d: &mut Deployment,
    rs_list: &[ReplicaSet],
    old_rss: &[ReplicaSet],
    create_if_not_existed: bool,
) -> Option<ReplicaSet> {
    let refs: Vec<&ReplicaSet> = rs_list.iter().collect();
    let existing = find_new_replica_set(d, &refs).cloned();
    let old_refs: Vec<&ReplicaSet> = old_rss.iter().collect();
    let new_revision = max_revision(&old_refs) + 1;
    let now = c.now();
    let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);

    if let Some(existing) = existing {
        let mut rs_copy = existing.clone();
        let annotations_updated =
            set_new_replica_set_annotations(d, &mut rs_copy, new_revision, true);
        let min_ready_needs_update =
            rs_copy.spec.as_ref().and_then(|s| s.min_ready_seconds) != min_ready;
        if annotations_updated || min_ready_needs_update {
            rs_copy
                .spec
                .get_or_insert_with(Default::default)
                .min_ready_seconds = min_ready;
            let _ = c.update(rs_copy.clone());
            return c
                .store
                .replicasets
                .get(&ObjectKey::of(&rs_copy.metadata))
                .cloned();
        }
        let rev = rs_copy
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION_ANNOTATION))
            .cloned()
            .unwrap_or_default();
        let mut needs_update = set_deployment_revision(d, &rev);
        let no_progressing = d
            .status
            .as_ref()
            .is_none_or(|s| get_condition(s, "Progressing").is_none());
        if has_progress_deadline_spec(d) && no_progressing {
            let msg = format!(
                "Found new replica set \"{}\"",
                rs_copy.metadata.name.clone().unwrap_or_default()
            );
            let status = d.status.get_or_insert_with(Default::default);
            set_condition(
                status,
                new_condition("Progressing", "True", FOUND_NEW_RS_REASON, msg, now),
            );
            needs_update = true;
        }
        if needs_update {
            update_status(c, d);
        }
        return Some(rs_copy);
    }

    if !create_if_not_existed {
        return None;
    }

    let template = util::template(d);
    let collision = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = compute_hash(&template, collision);
    let mut new_template = template.clone();
    new_template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.into(), hash.clone());
    let mut selector = d
        .spec
        .as_ref()
        .map(|s| s.selector.clone())
        .unwrap_or_default();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.into(), hash.clone());
    let d_name = d.metadata.name.clone().unwrap_or_default();
    let namespace = d.metadata.namespace.clone();
    let mut new_rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{d_name}-{hash}")),
            namespace,
            owner_references: Some(vec![crate::controllers::replicaset::owner_ref(
                &d.metadata,
                "Deployment",
            )]),
            labels: new_template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.clone()),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: min_ready,
            selector,
            template: Some(new_template),
        }),
        status: None,
    };
    let mut all: Vec<&ReplicaSet> = old_rss.iter().collect();
    all.push(&new_rs);
    let count = new_rs_new_replicas(d, &all, 0);
    new_rs.spec.as_mut().expect("set above").replicas = Some(count);
    set_new_replica_set_annotations(d, &mut new_rs, new_revision, false);
    let rs_name = new_rs.metadata.name.clone().unwrap_or_default();
    let rs_key = ObjectKey::of(&new_rs.metadata);
    let mut already_exists = false;
    let created = match c.create(new_rs) {
        Ok(k) => c.store.replicasets.get(&k).cloned(),
        Err(e) if e.reason == crate::api::Reason::AlreadyExists => {
            already_exists = true;
            let rs = c.store.replicasets.get(&rs_key).cloned();
            match rs {
                Some(rs)
                    if util::is_controlled_by(&rs, d)
                        && equal_ignore_hash(&util::template(d), &rs_template(&rs)) =>
                {
                    Some(rs)
                }
                _ => {
                    // A different template already has this name: bump collisionCount and retry
                    // on the next sync with a different hash.
                    let status = d.status.get_or_insert_with(Default::default);
                    status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                    update_status(c, d);
                    c.enqueue(crate::cluster::Work::SyncDeployment(ObjectKey::of(
                        &d.metadata,
                    )));
                    return None;
                }
            }
        }
        Err(e) => {
            let msg = format!("Failed to create new replica set \"{rs_name}\": {e}");
            if has_progress_deadline_spec(d) {
                let status = d.status.get_or_insert_with(Default::default);
                set_condition(
                    status,
                    new_condition(
                        "Progressing",
                        "False",
                        FAILED_RS_CREATE_REASON,
                        msg.clone(),
                        now,
                    ),
                );
                update_status(c, d);
            }
            c.record_event(
                d,
                EventType::Warning,
                FAILED_RS_CREATE_REASON,
                msg,
                "deployment-controller",
            );
            return None;
        }
    };
    let created = created?;
    if !already_exists && count > 0 {
        c.record_event(
            d,
            EventType::Normal,
            "ScalingReplicaSet",
            format!("Scaled up replica set {rs_name} from 0 to {count}"),
            "deployment-controller",
        );
    }
    let mut needs_update = set_deployment_revision(d, &new_revision.to_string());
    if !already_exists && has_progress_deadline_spec(d) {
        let status = d.status.get_or_insert_with(Default::default);
        set_condition(
            status,
            new_condition(
                "Progressing",
                "True",
                NEW_RS_NEW_REPLICAS_REASON,
                format!("Created new replica set \"{rs_name}\""),
                now,
            ),
        );
        needs_update = true;
    }
    if needs_update {
        update_status(c, d);
    }
    Some(created)
}

fn has_progress_deadline_spec(d: &Deployment) -> bool {
    util::has_progress_deadline(d)
}

/// `scale`: scales the only active ReplicaSet to `spec.replicas`, or scales old ones to zero if
/// the new one is saturated, or spreads the change proportionally over the active ones.
///
/// Worked example (D8): 10 replicas, surge 3, old 8 / new 5 (annotated max 13), scaled to 30:
/// allowed 33, to add 20; sizes sorted 8 (old), 5 (new); old: round(8·33/13) = 20 → +12;
/// new: round(5·33/13) = 13 → +8; Σ = 20, no leftover: old 20 / new 13.
pub(crate) fn scale(
    c: &mut Cluster,
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rss: &[ReplicaSet],
) {
    let want = replicas(d);
    if let Some(rs) = find_active_or_latest(new_rs, old_rss) {
        if rs_replicas(&rs) != want {
            scale_replica_set_and_record_event(c, &rs, want, d);
        }
        return;
    }
    if is_saturated(d, new_rs) {
        for old in old_rss.iter().filter(|rs| rs_replicas(rs) > 0) {
            scale_replica_set_and_record_event(c, old, 0, d);
        }
        return;
    }
    if !is_rolling_update(d) {
        return;
    }
    let mut all: Vec<&ReplicaSet> = old_rss
        .iter()
        .chain(new_rs)
        .filter(|rs| rs_replicas(rs) > 0)
        .collect();
    let all_replicas = replica_count(&all);
    let allowed = if want > 0 { want + max_surge(d) } else { 0 };
    let to_add = allowed - all_replicas;
    let operation = match to_add.cmp(&0) {
        std::cmp::Ordering::Greater => {
            all.sort_by(|a, b| by_size_newer(a, b));
            "up"
        }
        std::cmp::Ordering::Less => {
            all.sort_by(|a, b| by_size_older(a, b));
            "down"
        }
        std::cmp::Ordering::Equal => "",
    };
    let mut added = 0;
    let mut sizes: Vec<i32> = Vec::with_capacity(all.len());
    for rs in &all {
        if to_add != 0 {
            let p = get_replica_set_proportion(rs, d, to_add, added);
            sizes.push(rs_replicas(rs) + p);
            added += p;
        } else {
            sizes.push(rs_replicas(rs));
        }
    }
    for (i, rs) in all.iter().enumerate() {
        if i == 0 && to_add != 0 {
            sizes[0] = (sizes[0] + to_add - added).max(0);
        }
        scale_replica_set(c, rs, sizes[i], d, operation);
    }
}

/// `FindActiveOrLatest`: the only active ReplicaSet, or the newest when none is active.
fn find_active_or_latest(
    new_rs: Option<&ReplicaSet>,
    old_rss: &[ReplicaSet],
) -> Option<ReplicaSet> {
    if new_rs.is_none() && old_rss.is_empty() {
        return None;
    }
    let mut olds: Vec<&ReplicaSet> = old_rss.iter().collect();
    olds.sort_by(|a, b| by_creation_timestamp(b, a));
    let active: Vec<&ReplicaSet> = olds
        .iter()
        .copied()
        .chain(new_rs)
        .filter(|rs| rs_replicas(rs) > 0)
        .collect();
    match active.len() {
        0 => new_rs.or(olds.first().copied()).cloned(),
        1 => Some(active[0].clone()),
        _ => None,
    }
}

/// `IsSaturated`.
fn is_saturated(d: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = rs else { return false };
    let want = replicas(d);
    rs_replicas(rs) == want
        && desired_replicas_annotation(rs) == Some(want)
        && rs_available(rs) == want
}

/// `GetReplicaSetProportion`.
fn get_replica_set_proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = get_replica_set_fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// `getReplicaSetFraction`: `round(rs.spec × (replicas + maxSurge) / annotatedMaxReplicas) −
/// rs.spec`, rounding half away from zero (`integer.RoundToInt32`).
fn get_replica_set_fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    if replicas(d) == 0 {
        return -rs_replicas(rs);
    }
    let max_now = replicas(d) + max_surge(d);
    let before = match max_replicas_annotation(rs) {
        Some(v) if v != 0 => v,
        _ => {
            let r = d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
            if r == 0 {
                return 0;
            }
            r
        }
    };
    let size = rs_replicas(rs) as f64 * max_now as f64 / before as f64;
    let rounded = if size < 0.0 {
        (size - 0.5) as i32
    } else {
        (size + 0.5) as i32
    };
    rounded - rs_replicas(rs)
}

/// `scaleReplicaSetAndRecordEvent`. Returns whether the size changed.
pub(crate) fn scale_replica_set_and_record_event(
    c: &mut Cluster,
    rs: &ReplicaSet,
    new_scale: i32,
    d: &Deployment,
) -> bool {
    if rs_replicas(rs) == new_scale {
        return false;
    }
    let op = if rs_replicas(rs) < new_scale {
        "up"
    } else {
        "down"
    };
    scale_replica_set(c, rs, new_scale, d, op)
}

/// `scaleReplicaSet`: writes the size and the desired/max replicas annotations, and records
/// `Scaled <up|down> replica set <rs> from <old> to <new>`.
pub(crate) fn scale_replica_set(
    c: &mut Cluster,
    rs: &ReplicaSet,
    new_scale: i32,
    d: &Deployment,
    op: &str,
) -> bool {
    let want = replicas(d);
    let max = want + max_surge(d);
    let size_needs_update = rs_replicas(rs) != new_scale;
    let annotations_need_update = replicas_annotations_need_update(rs, want, max);
    if !(size_needs_update || annotations_need_update) {
        return false;
    }
    let old_scale = rs_replicas(rs);
    let mut copy = rs.clone();
    copy.spec.get_or_insert_with(Default::default).replicas = Some(new_scale);
    set_replicas_annotations(&mut copy, want, max);
    if c.update(copy).is_err() {
        return false;
    }
    if size_needs_update {
        let name = rs.metadata.name.clone().unwrap_or_default();
        c.record_event(
            d,
            EventType::Normal,
            "ScalingReplicaSet",
            format!("Scaled {op} replica set {name} from {old_scale} to {new_scale}"),
            "deployment-controller",
        );
    }
    size_needs_update
}

/// `cleanupDeployment`: deletes the oldest empty old ReplicaSets beyond revisionHistoryLimit.
pub(crate) fn cleanup_deployment(c: &mut Cluster, old_rss: &[ReplicaSet], d: &Deployment) {
    if !has_revision_history_limit(d) {
        return;
    }
    let limit = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10);
    let mut cleanable: Vec<&ReplicaSet> = old_rss
        .iter()
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .collect();
    let diff = cleanable.len() as i32 - limit;
    if diff <= 0 {
        return;
    }
    cleanable.sort_by(|a, b| by_revision(a, b));
    for rs in cleanable.into_iter().take(diff as usize) {
        // Read the live object: the list is a copy from the start of the sync.
        let key = ObjectKey::of(&rs.metadata);
        let Some(live) = c.store.replicasets.get(&key) else {
            continue;
        };
        let observed = live
            .status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0);
        if rs_status_replicas(live) != 0
            || rs_replicas(live) != 0
            || live.metadata.generation.unwrap_or(0) > observed
            || live.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        let _ = c.delete::<ReplicaSet>(&key, Default::default());
    }
}

/// `calculateStatus`.
pub(crate) fn calculate_status(
    c: &Cluster,
    all: &[ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    d: &Deployment,
) -> DeploymentStatus {
    let refs: Vec<&ReplicaSet> = all.iter().collect();
    let available = available_replica_count(&refs);
    let unavailable = (replica_count(&refs) - available).max(0);
    let old = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(actual_replica_count(&refs)),
        updated_replicas: Some(new_rs.map(rs_status_replicas).unwrap_or(0)),
        ready_replicas: Some(ready_replica_count(&refs)),
        available_replicas: Some(available),
        unavailable_replicas: Some(unavailable),
        collision_count: old.collision_count,
        conditions: old.conditions.clone(),
        terminating_replicas: None,
    };
    let now = c.now();
    if available >= replicas(d) - max_unavailable(d) {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "True",
                MINIMUM_REPLICAS_AVAILABLE,
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "False",
                MINIMUM_REPLICAS_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }
    status
}

/// `syncDeploymentStatus`.
pub(crate) fn sync_deployment_status(
    c: &mut Cluster,
    d: &mut Deployment,
    all: &[ReplicaSet],
    new_rs: Option<&ReplicaSet>,
) {
    let status = calculate_status(c, all, new_rs, d);
    if d.status.as_ref() == Some(&status) {
        return;
    }
    d.status = Some(status);
    update_status(c, d);
}

//! The RollingUpdate strategy. Mirrors `pkg/controller/deployment/rolling.go`.

use super::progress::sync_rollout_status;
use super::sync::{
    cleanup_deployment, get_all_replica_sets_and_sync_revision, scale_replica_set_and_record_event,
};
use super::util::*;
use crate::Cluster;
use crate::store::ObjectKey;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

/// `rolloutRolling`: scale up the new ReplicaSet if possible, else scale down old ones if
/// possible; a sync that scaled anything only updates the status and ends.
pub(crate) fn rollout_rolling(c: &mut Cluster, d: &mut Deployment, rs_list: &[ReplicaSet]) {
    let (new_rs, old_rss) = get_all_replica_sets_and_sync_revision(c, d, rs_list, true);
    let Some(new_rs) = new_rs else { return };
    let mut all: Vec<ReplicaSet> = old_rss.clone();
    all.push(new_rs.clone());

    if reconcile_new_replica_set(c, &all, &new_rs, d) {
        sync_rollout_status(c, &all, Some(&new_rs), d);
        return;
    }
    let active_old: Vec<ReplicaSet> = old_rss
        .iter()
        .filter(|rs| rs_replicas(rs) > 0)
        .cloned()
        .collect();
    if reconcile_old_replica_sets(c, &all, active_old, &new_rs, d) {
        sync_rollout_status(c, &all, Some(&new_rs), d);
        return;
    }
    if deployment_complete(d, &d.status.clone().unwrap_or_default()) {
        cleanup_deployment(c, &old_rss, d);
    }
    sync_rollout_status(c, &all, Some(&new_rs), d);
}

/// `reconcileNewReplicaSet`.
///
/// Example: replicas 3, maxSurge 1, old 3, new 1 → max total 4, current 4: no scale-up.
fn reconcile_new_replica_set(
    c: &mut Cluster,
    all: &[ReplicaSet],
    new_rs: &ReplicaSet,
    d: &Deployment,
) -> bool {
    let want = replicas(d);
    let have = rs_replicas(new_rs);
    if have == want {
        return false;
    }
    if have > want {
        return scale_replica_set_and_record_event(c, new_rs, want, d);
    }
    let refs: Vec<&ReplicaSet> = all.iter().collect();
    let count = new_rs_new_replicas(d, &refs, have);
    scale_replica_set_and_record_event(c, new_rs, count, d)
}

/// `reconcileOldReplicaSets`.
///
/// `maxScaledDown = allPods − minAvailable − newRSUnavailable`. Example (D7): 10 replicas, surge
/// 3, unavailable 2, old 10, new 3 (none available): 13 − 8 − 3 = 2 → old 10 → 8.
fn reconcile_old_replica_sets(
    c: &mut Cluster,
    all: &[ReplicaSet],
    old_rss: Vec<ReplicaSet>,
    new_rs: &ReplicaSet,
    d: &Deployment,
) -> bool {
    let old_refs: Vec<&ReplicaSet> = old_rss.iter().collect();
    if replica_count(&old_refs) == 0 {
        return false;
    }
    let all_refs: Vec<&ReplicaSet> = all.iter().collect();
    let all_pods = replica_count(&all_refs);
    let min_available = replicas(d) - max_unavailable(d);
    let new_unavailable = rs_replicas(new_rs) - rs_available(new_rs);
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return false;
    }
    let (old_rss, cleanup_count) = cleanup_unhealthy_replicas(c, old_rss, d, max_scaled_down);
    let mut all: Vec<ReplicaSet> = old_rss.clone();
    all.push(new_rs.clone());
    let scaled_down = scale_down_old_replica_sets_for_rolling_update(c, &all, old_rss, d);
    cleanup_count + scaled_down > 0
}

/// `cleanupUnhealthyReplicas`: first scale old ReplicaSets down by their unavailable pods,
/// oldest first, up to `max_cleanup`. The ReplicaSet then deletes its not-ready pods first.
fn cleanup_unhealthy_replicas(
    c: &mut Cluster,
    mut old_rss: Vec<ReplicaSet>,
    d: &Deployment,
    max_cleanup: i32,
) -> (Vec<ReplicaSet>, i32) {
    old_rss.sort_by(by_creation_timestamp);
    let mut total = 0;
    for rs in old_rss.iter_mut() {
        if total >= max_cleanup {
            break;
        }
        let (spec, available) = (rs_replicas(rs), rs_available(rs));
        if spec == 0 || spec == available {
            continue;
        }
        let scaled = (max_cleanup - total).min(spec - available);
        scale_replica_set_and_record_event(c, rs, spec - scaled, d);
        total += scaled;
        if let Some(live) = c.store.replicasets.get(&ObjectKey::of(&rs.metadata)) {
            *rs = live.clone();
        }
    }
    (old_rss, total)
}

/// `scaleDownOldReplicaSetsForRollingUpdate`: remove `available − minAvailable` old replicas,
/// oldest ReplicaSet first.
fn scale_down_old_replica_sets_for_rolling_update(
    c: &mut Cluster,
    all: &[ReplicaSet],
    mut old_rss: Vec<ReplicaSet>,
    d: &Deployment,
) -> i32 {
    let min_available = replicas(d) - max_unavailable(d);
    let refs: Vec<&ReplicaSet> = all.iter().collect();
    let available = available_replica_count(&refs);
    if available <= min_available {
        return 0;
    }
    old_rss.sort_by(by_creation_timestamp);
    let target = available - min_available;
    let mut total = 0;
    for rs in &old_rss {
        if total >= target {
            break;
        }
        let spec = rs_replicas(rs);
        if spec == 0 {
            continue;
        }
        let n = spec.min(target - total);
        scale_replica_set_and_record_event(c, rs, spec - n, d);
        total += n;
    }
    total
}

//! The Recreate strategy. Mirrors `pkg/controller/deployment/recreate.go`.

use super::progress::sync_rollout_status;
use super::sync::{
    cleanup_deployment, get_all_replica_sets_and_sync_revision, scale_replica_set_and_record_event,
};
use super::util::*;
use crate::Cluster;
use crate::labels;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

/// `rolloutRecreate`: scale every old ReplicaSet to zero, wait until no old pod is left, then
/// create the new ReplicaSet at full size.
pub(crate) fn rollout_recreate(c: &mut Cluster, d: &mut Deployment, rs_list: &[ReplicaSet]) {
    // Do not create the new ReplicaSet yet, so that nothing scales up before the old pods go.
    let (mut new_rs, mut old_rss) = get_all_replica_sets_and_sync_revision(c, d, rs_list, false);
    let mut all: Vec<ReplicaSet> = old_rss.iter().cloned().chain(new_rs.clone()).collect();

    let mut scaled = false;
    for rs in old_rss.iter().filter(|rs| rs_replicas(rs) > 0) {
        scaled |= scale_replica_set_and_record_event(c, rs, 0, d);
    }
    if scaled {
        sync_rollout_status(c, &all, new_rs.as_ref(), d);
        return;
    }
    if old_pods_running(c, d, new_rs.as_ref(), &old_rss) {
        sync_rollout_status(c, &all, new_rs.as_ref(), d);
        return;
    }
    if new_rs.is_none() {
        (new_rs, old_rss) = get_all_replica_sets_and_sync_revision(c, d, rs_list, true);
        all = old_rss.iter().cloned().chain(new_rs.clone()).collect();
    }
    if let Some(rs) = new_rs.as_ref() {
        scale_replica_set_and_record_event(c, rs, replicas(d), d);
    }
    if deployment_complete(d, &d.status.clone().unwrap_or_default()) {
        cleanup_deployment(c, &old_rss, d);
    }
    sync_rollout_status(c, &all, new_rs.as_ref(), d);
}

/// `oldPodsRunning`: an old ReplicaSet still reports pods, or a pod of an old ReplicaSet exists
/// in a phase other than Succeeded/Failed (terminating pods count until they are gone).
fn old_pods_running(
    c: &Cluster,
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rss: &[ReplicaSet],
) -> bool {
    let refs: Vec<&ReplicaSet> = old_rss.iter().collect();
    if actual_replica_count(&refs) > 0 {
        return true;
    }
    let selector = d
        .spec
        .as_ref()
        .map(|s| s.selector.clone())
        .unwrap_or_default();
    let new_uid = new_rs.and_then(|rs| rs.metadata.uid.clone());
    old_rss
        .iter()
        .filter(|rs| rs.metadata.uid != new_uid)
        .any(|rs| {
            let uid = rs.metadata.uid.clone().unwrap_or_default();
            c.store.pods_owned_by(&uid).any(|p| {
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .unwrap_or("");
                labels::selector_matches(&selector, p.metadata.labels.as_ref())
                    && phase != "Succeeded"
                    && phase != "Failed"
            })
        })
}

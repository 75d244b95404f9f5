//! The Deployment controller. Mirrors `pkg/controller/deployment/` file by file:
//!
//! | upstream | here |
//! |---|---|
//! | `deployment_controller.go` (`syncDeployment`, `getReplicaSetsForDeployment`) | `mod.rs` |
//! | `sync.go` | `sync.rs` |
//! | `rolling.go` | `rolling.rs` |
//! | `recreate.go` | `recreate.rs` |
//! | `progress.go` | `progress.rs` |
//! | `util/deployment_util.go` | `util.rs` |
//!
//! Each sync works on a copy of the Deployment and of its ReplicaSets, as upstream works on
//! lister copies: a ReplicaSet scaled during a sync is not re-read until the next sync.

pub mod progress;
pub mod recreate;
pub mod rolling;
pub mod sync;
pub mod util;

use crate::Cluster;
use crate::events::EventType;
use crate::labels;
use crate::store::{ObjectKey, controller_ref};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Deployments in the ReplicaSet's namespace whose selector matches this orphan ReplicaSet
/// (`getDeploymentsForReplicaSet`).
pub(crate) fn deployments_for_replica_set(c: &Cluster, rs: &ReplicaSet) -> Vec<ObjectKey> {
    let ns = rs.metadata.namespace.as_deref().unwrap_or("default");
    c.store
        .deployments
        .iter()
        .filter(|(k, _)| k.namespace == ns)
        .filter(|(_, d)| {
            d.spec.as_ref().is_some_and(|s| {
                s.selector != LabelSelector::default()
                    && labels::selector_matches(&s.selector, rs.metadata.labels.as_ref())
            })
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// `syncDeployment`: one reconcile of one Deployment.
pub(crate) fn sync_deployment(c: &mut Cluster, key: &ObjectKey) {
    c.stats.deployment_syncs += 1;
    let Some(d) = c.store.deployments.get(key) else {
        return;
    };
    let mut d = d.clone();
    let selector = d
        .spec
        .as_ref()
        .map(|s| s.selector.clone())
        .unwrap_or_default();
    if selector == LabelSelector::default() {
        c.record_event(
            &d,
            EventType::Warning,
            "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.".into(),
            "deployment-controller",
        );
        let generation = d.metadata.generation;
        let status = d.status.get_or_insert_with(Default::default);
        if status.observed_generation < generation {
            status.observed_generation = generation;
            sync::update_status(c, &d);
        }
        return;
    }
    let rs_list = get_replica_sets_for_deployment(c, &d);
    if d.metadata.deletion_timestamp.is_some() {
        sync::sync_status_only(c, &mut d, &rs_list);
        return;
    }
    progress::check_paused_conditions(c, &mut d);
    if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
        sync::sync(c, &mut d, &rs_list);
        return;
    }
    // NOTE: the legacy server-side rollback (`deprecated.deployment.rollback.to`, reachable only
    // through the removed extensions/v1beta1 and apps/v1beta1 APIs) is not modelled; kubectl
    // rolls back client-side (see `crate::kubectl::undo`).
    if sync::is_scaling_event(c, &mut d, &rs_list) {
        sync::sync(c, &mut d, &rs_list);
        return;
    }
    if util::is_recreate(&d) {
        recreate::rollout_recreate(c, &mut d, &rs_list);
    } else {
        rolling::rollout_rolling(c, &mut d, &rs_list);
    }
}

/// `getReplicaSetsForDeployment`: the ReplicaSets this Deployment controls, after adopting
/// matching orphans and releasing owned ones that no longer match (`ClaimReplicaSets`).
fn get_replica_sets_for_deployment(c: &mut Cluster, d: &Deployment) -> Vec<ReplicaSet> {
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let key = ObjectKey::of(&d.metadata);
    let selector = d
        .spec
        .as_ref()
        .map(|s| s.selector.clone())
        .unwrap_or_default();
    let candidates: Vec<ReplicaSet> = c
        .store
        .replicasets
        .iter()
        .filter(|(k, _)| k.namespace == key.namespace)
        .map(|(_, rs)| rs)
        .filter(|rs| match controller_ref(&rs.metadata) {
            Some(r) => r.uid == uid,
            None => true,
        })
        .cloned()
        .collect();
    let mut owned = Vec::new();
    for rs in candidates {
        let matches = labels::selector_matches(&selector, rs.metadata.labels.as_ref());
        let rs_key = ObjectKey::of(&rs.metadata);
        match (controller_ref(&rs.metadata).is_some(), matches) {
            (true, true) => owned.push(rs),
            (true, false) => {
                let _ = c.modify::<ReplicaSet>(&rs_key, |r| {
                    if let Some(refs) = r.metadata.owner_references.as_mut() {
                        refs.retain(|x| x.uid != uid);
                    }
                    if r.metadata
                        .owner_references
                        .as_ref()
                        .is_some_and(|x| x.is_empty())
                    {
                        r.metadata.owner_references = None;
                    }
                });
            }
            (false, true)
                if d.metadata.deletion_timestamp.is_none()
                    && rs.metadata.deletion_timestamp.is_none() =>
            {
                let owner = crate::controllers::replicaset::owner_ref(&d.metadata, "Deployment");
                let _ = c.modify::<ReplicaSet>(&rs_key, |r| {
                    r.metadata
                        .owner_references
                        .get_or_insert_with(Vec::new)
                        .push(owner)
                });
                if let Some(rs) = c.store.replicasets.get(&rs_key) {
                    owned.push(rs.clone());
                }
            }
            _ => {}
        }
    }
    owned
}

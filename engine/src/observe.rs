//! Observations for invariant steps: per Deployment, the replica counts over time and every
//! scaling of its ReplicaSets.
//!
//! Recorded at the end of every instant (when the cluster has settled) and on every ReplicaSet
//! scale, so steps such as "never had fewer than 3 available pods" and "the replica sets went
//! through" read history rather than the present.

use crate::store::ObjectKey;
use crate::time::Millis;
use k8s_openapi::api::apps::v1::ReplicaSet;
use std::collections::BTreeMap;

/// The counts of one Deployment at one instant, once settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at: Millis,
    /// Non-terminating pods of the Deployment's ReplicaSets (Σ rs.status.replicas).
    pub pods: i32,
    /// Available pods (Σ rs.status.availableReplicas; minReadySeconds applies).
    pub available: i32,
    /// spec.replicas of the Deployment.
    pub desired: i32,
}

/// A change of a Deployment's pod template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateChange {
    pub at: Millis,
    /// spec.replicas of every ReplicaSet just before the change.
    pub sizes: BTreeMap<String, i32>,
    /// How many entries `scales` had at the change: later entries happened after it.
    pub scales_before: usize,
    /// The counts in force just before the change.
    pub before: Option<Sample>,
}

/// A change of a ReplicaSet's spec.replicas (including its creation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleRecord {
    pub at: Millis,
    pub replica_set: String,
    pub from: i32,
    pub to: i32,
}

/// The history of one Deployment.
#[derive(Clone, Debug, Default)]
pub struct DeploymentHistory {
    /// Every change of the pod template (a new revision or an undo).
    pub template_changes: Vec<TemplateChange>,
    pub samples: Vec<Sample>,
    pub scales: Vec<ScaleRecord>,
    /// spec.replicas of each owned ReplicaSet as last seen.
    current: BTreeMap<String, i32>,
}

#[derive(Clone, Debug, Default)]
pub struct Observer {
    pub deployments: BTreeMap<ObjectKey, DeploymentHistory>,
    /// Per StatefulSet, the pods its controller created and deleted, in order.
    pub statefulsets: BTreeMap<ObjectKey, crate::controllers::statefulset::PodHistory>,
}

impl Observer {
    pub(crate) fn template_changed(
        &mut self,
        at: Millis,
        deployment: &ObjectKey,
        before: Option<Sample>,
    ) {
        let h = self.deployments.entry(deployment.clone()).or_default();
        let change = TemplateChange {
            at,
            sizes: h.current.clone(),
            scales_before: h.scales.len(),
            before,
        };
        h.template_changes.push(change);
    }

    /// Called whenever a ReplicaSet owned by `deployment` is created or written.
    pub(crate) fn replica_set_seen(&mut self, at: Millis, deployment: &ObjectKey, rs: &ReplicaSet) {
        let name = rs.metadata.name.clone().unwrap_or_default();
        let to = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let h = self.deployments.entry(deployment.clone()).or_default();
        let from = h.current.get(&name).copied();
        if from != Some(to) {
            if from.is_some() || to != 0 {
                h.scales.push(ScaleRecord {
                    at,
                    replica_set: name.clone(),
                    from: from.unwrap_or(0),
                    to,
                });
            }
            h.current.insert(name, to);
        }
    }

    pub(crate) fn replica_set_gone(&mut self, deployment: &ObjectKey, rs_name: &str) {
        if let Some(h) = self.deployments.get_mut(deployment) {
            h.current.remove(rs_name);
        }
    }
}

/// The current counts of one Deployment.
pub(crate) fn sample_of(c: &crate::Cluster, key: &ObjectKey) -> Option<Sample> {
    let d = c.store.deployments.get(key)?;
    let uid = d.metadata.uid.as_deref().unwrap_or("");
    let (mut pods, mut available) = (0, 0);
    for rs in c.store.replicasets_owned_by(uid) {
        if let Some(s) = &rs.status {
            pods += s.replicas;
            available += s.available_replicas.unwrap_or(0);
        }
    }
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    Some(Sample {
        at: c.now(),
        pods,
        available,
        desired,
    })
}

/// Records a [`Sample`] for every Deployment whose counts changed at this instant.
pub(crate) fn record_instant(c: &mut crate::Cluster) {
    let samples: Vec<(ObjectKey, Sample)> = c
        .store
        .deployments
        .keys()
        .filter_map(|k| sample_of(c, &k).map(|s| (k, s)))
        .collect();
    for (key, s) in samples {
        let h = c.observer.deployments.entry(key).or_default();
        match h.samples.last_mut() {
            Some(last)
                if last.pods == s.pods
                    && last.available == s.available
                    && last.desired == s.desired => {}
            Some(last) if last.at == s.at => *last = s,
            _ => h.samples.push(s),
        }
    }
}

//! The scheduler: binds each new pod to the node with the fewest pods (ties by name).
//!
//! Scheduling happens at the instant the pod is created. A pod that fits nowhere stays Pending
//! with `PodScheduled=False/Unschedulable` and is retried whenever a pod leaves a node.

use crate::Cluster;
use crate::events::EventType;
use crate::kubelet;
use crate::store::{Compact, ObjectKey};
use k8s_openapi::api::core::v1::{Node, NodeCondition, NodeStatus, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rustc_hash::FxHashMap as HashMap;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default)]
pub struct SchedulerState {
    /// The nodes, by index, in the order they were added.
    nodes: Vec<NodeSlot>,
    /// (pods on the node, rank of its name): the first entry is the least-loaded node, ties
    /// broken by name.
    by_load: BTreeSet<(u32, u32)>,
    /// Node index → rank of its name among all node names.
    rank: Vec<u32>,
    /// Rank → node index.
    by_rank: Vec<u32>,
    /// Pod → index of the node it is bound to.
    assigned: HashMap<ObjectKey, u32>,
    unschedulable: BTreeSet<ObjectKey>,
}

#[derive(Clone, Debug)]
struct NodeSlot {
    name: String,
    capacity: u32,
    load: u32,
}

impl SchedulerState {
    fn add(&mut self, name: &str, capacity: u32) {
        self.nodes.push(NodeSlot {
            name: name.to_string(),
            capacity,
            load: 0,
        });
        let mut order: Vec<u32> = (0..self.nodes.len() as u32).collect();
        order.sort_by(|a, b| {
            self.nodes[*a as usize]
                .name
                .cmp(&self.nodes[*b as usize].name)
        });
        self.rank = vec![0; order.len()];
        for (r, &i) in order.iter().enumerate() {
            self.rank[i as usize] = r as u32;
        }
        self.by_rank = order;
        self.by_load = (0..self.nodes.len())
            .map(|i| (self.nodes[i].load, self.rank[i]))
            .collect();
    }

    /// The least-loaded node with room, ties by name.
    fn pick(&self) -> Option<u32> {
        self.by_load
            .iter()
            .map(|&(_, r)| self.by_rank[r as usize])
            .find(|&i| {
                let n = &self.nodes[i as usize];
                n.load < n.capacity
            })
    }

    fn set_load(&mut self, i: u32, load: u32) {
        let (old, rank) = (self.nodes[i as usize].load, self.rank[i as usize]);
        self.by_load.remove(&(old, rank));
        self.by_load.insert((load, rank));
        self.nodes[i as usize].load = load;
    }
}

pub(crate) fn add_node(c: &mut Cluster, name: &str, pods: u32) {
    let now = c.now().to_time();
    let mut allocatable = BTreeMap::new();
    allocatable.insert("cpu".to_string(), Quantity("32".into()));
    allocatable.insert("memory".to_string(), Quantity("128Gi".into()));
    allocatable.insert("pods".to_string(), Quantity(pods.to_string()));
    let node = Node {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(BTreeMap::from([
                ("kubernetes.io/hostname".to_string(), name.to_string()),
                ("kubernetes.io/os".to_string(), "linux".to_string()),
            ])),
            ..Default::default()
        },
        spec: None,
        status: Some(NodeStatus {
            capacity: Some(allocatable.clone()),
            allocatable: Some(allocatable),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                reason: Some("KubeletReady".into()),
                message: Some("kubelet is posting ready status".into()),
                last_heartbeat_time: Some(now.clone()),
                last_transition_time: Some(now),
            }]),
            ..Default::default()
        }),
    };
    let mut node = node;
    node.metadata.namespace = None;
    let _ = c.create(node);
    c.scheduler.add(name, pods);
}

/// Schedules one pod, if it still needs a node.
pub(crate) fn schedule_pod(c: &mut Cluster, key: &ObjectKey) {
    let Some(pod) = c.store.pods.record(key).map(crate::store::PodRecord::parts) else {
        return;
    };
    if pod.deletion_timestamp.is_some() || pod.node_name.is_some() {
        return;
    }
    let choice = c.scheduler.pick();
    let now_ms = c.now();
    let now = now_ms.to_time();
    let Some(node_index) = choice else {
        let n = c.scheduler.nodes.len();
        c.scheduler.unschedulable.insert(key.clone());
        let message = || {
            format!(
                "0/{n} nodes are available: {n} Too many pods. preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod."
            )
        };
        // In place: a pod already marked unschedulable is left as it is, without copying it
        // to find that out (a backlog is retried on every removal of a pod).
        let changed = c
            .modify_pod_in_place(key, |mut p| {
                let mut changed = p.status.is_none();
                let st = p.status.whole();
                if st.phase.as_deref() != Some("Pending") {
                    st.phase = Some("Pending".into());
                    changed = true;
                }
                if st.conditions.as_ref().is_none_or(|cs| {
                    !cs.iter()
                        .any(|x| x.type_ == "PodScheduled" && x.status == "False")
                }) {
                    st.conditions = Some(vec![PodCondition {
                        type_: "PodScheduled".into(),
                        status: "False".into(),
                        reason: Some("Unschedulable".into()),
                        message: Some(message()),
                        last_transition_time: Some(now),
                        ..Default::default()
                    }]);
                    changed = true;
                }
                changed
            })
            .unwrap_or(false);
        if changed {
            let pod_key = key.clone();
            c.record_event_for::<Pod>(
                &pod_key,
                EventType::Warning,
                "FailedScheduling",
                message(),
                "default-scheduler",
            );
        }
        return;
    };
    c.scheduler.unschedulable.remove(key);
    let load = c.scheduler.nodes[node_index as usize].load;
    c.scheduler.set_load(node_index, load + 1);
    c.scheduler.assigned.insert(key.clone(), node_index);
    let node = c.scheduler.nodes[node_index as usize].name.clone();
    // The binding always changes the pod: it had no node.
    let _ = c.modify_pod_in_place(key, |mut p| {
        *p.node_name = Some(node.clone());
        // A pod with no status, or only this one, keeps it in numbers.
        match p.status.compact() {
            Some((c, _)) if c.as_ref().is_none_or(|c| c.kubelet.is_none()) => {
                *c = Some(Compact {
                    scheduled: Some(now_ms),
                    kubelet: None,
                });
            }
            _ => {
                let st = p.status.whole();
                st.phase = Some("Pending".into());
                st.conditions = Some(vec![PodCondition {
                    type_: "PodScheduled".into(),
                    status: "True".into(),
                    last_transition_time: Some(now),
                    ..Default::default()
                }]);
            }
        }
        true
    });
    let pod_key = key.clone();
    c.record_event_for::<Pod>(
        &pod_key,
        EventType::Normal,
        "Scheduled",
        crate::events::concat(&[
            "Successfully assigned ",
            &key.namespace,
            "/",
            &key.name,
            " to ",
            &node,
        ]),
        "default-scheduler",
    );
    kubelet::pod_bound(c, key, &node);
}

/// A pod left the store: free its place, and give it to the first pod (by key) that did not
/// fit anywhere. One freed place wakes one waiting pod, so a large backlog costs O(log n) per
/// removal rather than a retry of the whole backlog.
pub(crate) fn pod_removed(c: &mut Cluster, key: &ObjectKey) {
    c.scheduler.unschedulable.remove(key);
    if let Some(node) = c.scheduler.assigned.remove(key) {
        let load = c.scheduler.nodes[node as usize].load;
        c.scheduler.set_load(node, load.saturating_sub(1));
        while let Some(waiting) = c.scheduler.unschedulable.pop_first() {
            let needs_node = c.store.pods.get(&waiting).is_some_and(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.spec.as_ref().is_none_or(|s| s.node_name.is_none())
            });
            if needs_node {
                c.enqueue(crate::cluster::Work::Schedule(waiting));
                break;
            }
        }
    }
}

//! A pod as the store holds it. See [`PodRecord`].

use super::pod_status::{StatusMut, StoredStatus};
use super::{KeyStr, MetaRef, PodParts, Slot, write_str};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::sync::{Arc, OnceLock};

/// One stored pod.
///
/// The pods a ReplicaSet stamps from its template differ only in their name, uid,
/// resourceVersion, timestamps, node and status: the rest (labels, ownerReferences, the whole
/// spec but `nodeName`) is the same object thousands of times, about 5 KB in some 30
/// allocations each. A record holds that part once per shape ([`Arc`]) and only the fields
/// that differ per pod. The whole `Pod` is put together when something reads it, and kept
/// until the next write. The first pod of a shape (and so every pod whose shape no other pod
/// has, as a StatefulSet's) keeps a whole pod of its own: only the pods after it, made from
/// the same template, share.
///
/// A write that may change any field (an update through the API) replaces the record with a
/// new one ([`Slot::new`]); the writes that touch only per-pod fields (the scheduler's, the
/// kubelet's, a graceful deletion) go through [`PodRecord::per_pod_mut`] instead.
#[derive(Clone, Debug)]
pub struct PodRecord(Repr);

#[derive(Clone, Debug)]
enum Repr {
    Own(Box<Pod>),
    Shared(Box<PerPod>),
}

/// The fields of a pod that differ between pods of one shape.
#[derive(Clone, Debug)]
struct PerPod {
    shape: Arc<Pod>,
    /// Inline when short, as most names and every resourceVersion are ([`KeyStr`]): no
    /// allocation per pod, and reading them reads the record only.
    name: Option<KeyStr>,
    uid: Option<String>,
    resource_version: Option<KeyStr>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
    deletion_grace_period_seconds: Option<i64>,
    node_name: Option<String>,
    /// Held in numbers when the scheduler and the kubelet wrote it ([`super::Compact`]).
    status: StoredStatus,
    /// The whole pod, once read; cleared by every write.
    whole: OnceLock<Box<Pod>>,
}

/// The per-pod fields of a stored pod, for writes that change nothing else (the scheduler's
/// binding, the kubelet's status, a graceful deletion). Writing through it never copies the
/// shared part.
pub(crate) struct PerPodMut<'a> {
    pub node_name: &'a mut Option<String>,
    pub status: StatusMut<'a>,
    pub deletion_timestamp: &'a mut Option<Time>,
    pub deletion_grace_period_seconds: &'a mut Option<i64>,
}

impl PerPod {
    /// The record of `pod`: shared when its shape is `last`'s; otherwise a pod of its own, and
    /// its shape becomes `last`. (A pod whose shape no other pod has, as each pod of a
    /// StatefulSet, is thus never taken apart: it would only be put together again on every
    /// read.)
    fn record(mut pod: Pod, last: &mut Option<Arc<Pod>>) -> Repr {
        let m = &mut pod.metadata;
        let (name, uid, resource_version) = (
            m.name.take().map(KeyStr::from),
            m.uid.take(),
            m.resource_version.take().map(KeyStr::from),
        );
        let (creation_timestamp, deletion_timestamp) =
            (m.creation_timestamp.take(), m.deletion_timestamp.take());
        let deletion_grace_period_seconds = m.deletion_grace_period_seconds.take();
        let node_name = pod.spec.as_mut().and_then(|s| s.node_name.take());
        let status = StoredStatus::new(pod.status.take());
        let (shape, shared) = match last {
            Some(shape) if **shape == pod => (Arc::clone(shape), true),
            _ => (Arc::new(pod), false),
        };
        let p = PerPod {
            shape,
            name,
            uid,
            resource_version,
            creation_timestamp,
            deletion_timestamp,
            deletion_grace_period_seconds,
            node_name,
            status,
            whole: OnceLock::new(),
        };
        if shared {
            Repr::Shared(Box::new(p))
        } else {
            *last = Some(Arc::clone(&p.shape));
            Repr::Own(p.into_whole())
        }
    }

    /// The whole pod, as a copy.
    fn whole(&self) -> Box<Pod> {
        PerPod::clone(self).into_whole()
    }

    fn into_whole(mut self) -> Box<Pod> {
        if let Some(pod) = self.whole.take() {
            return pod;
        }
        // The shape itself when nothing else holds it, rather than a copy.
        let shape = std::mem::replace(&mut self.shape, Arc::new(Pod::default()));
        let mut pod = Box::new(Arc::try_unwrap(shape).unwrap_or_else(|s| Pod::clone(&s)));
        let m = &mut pod.metadata;
        m.name = self.name.map(KeyStr::into_string);
        m.uid = self.uid;
        m.resource_version = self.resource_version.map(KeyStr::into_string);
        m.creation_timestamp = self.creation_timestamp;
        m.deletion_timestamp = self.deletion_timestamp;
        m.deletion_grace_period_seconds = self.deletion_grace_period_seconds;
        pod.status = self.status.into_status(pod.spec.as_ref());
        if let Some(spec) = pod.spec.as_mut() {
            spec.node_name = self.node_name;
        }
        pod
    }
}

impl PodRecord {
    /// The per-pod fields, to change; the record's whole pod, if it was read, is dropped.
    pub(crate) fn per_pod_mut(&mut self) -> PerPodMut<'_> {
        match &mut self.0 {
            Repr::Own(pod) => {
                let spec = pod.spec.get_or_insert_with(Default::default);
                PerPodMut {
                    node_name: &mut spec.node_name,
                    status: StatusMut::own(&mut pod.status),
                    deletion_timestamp: &mut pod.metadata.deletion_timestamp,
                    deletion_grace_period_seconds: &mut pod.metadata.deletion_grace_period_seconds,
                }
            }
            Repr::Shared(p) => {
                let PerPod {
                    shape,
                    node_name,
                    status,
                    deletion_timestamp,
                    deletion_grace_period_seconds,
                    whole,
                    ..
                } = &mut **p;
                whole.take();
                PerPodMut {
                    node_name,
                    status: StatusMut::shared(status, shape.spec.as_ref()),
                    deletion_timestamp,
                    deletion_grace_period_seconds,
                }
            }
        }
    }

    /// The parts of the pod the store's indexes read, without putting it together.
    pub fn parts(&self) -> PodParts<'_> {
        match &self.0 {
            Repr::Own(pod) => PodParts::of(pod),
            Repr::Shared(p) => {
                let m = &p.shape.metadata;
                PodParts {
                    namespace: m.namespace.as_deref(),
                    name: p.name.as_deref(),
                    uid: p.uid.as_deref(),
                    labels: m.labels.as_ref(),
                    annotations: m.annotations.as_ref(),
                    owner_references: m.owner_references.as_deref(),
                    finalizers: m.finalizers.as_deref(),
                    creation_timestamp: p.creation_timestamp.as_ref(),
                    deletion_timestamp: p.deletion_timestamp.as_ref(),
                    node_name: p.node_name.as_deref(),
                    spec: p.shape.spec.as_ref(),
                    status: p.status.as_ref(),
                }
            }
        }
    }

    /// Whether this record shares its shape with the pods made before it.
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared(_))
    }
}

/// A pod to read without putting it together: a stored record, or a whole pod. Two words,
/// where [`PodParts`] is thirteen: a ranking keeps one per pod.
#[derive(Clone, Copy, Debug)]
pub enum PodRef<'a> {
    Record(&'a PodRecord),
    Pod(&'a Pod),
}

impl<'a> PodRef<'a> {
    pub fn parts(self) -> PodParts<'a> {
        match self {
            PodRef::Record(r) => r.parts(),
            PodRef::Pod(p) => PodParts::of(p),
        }
    }
}

impl Slot<Pod> for PodRecord {
    /// The shape of the last pod stored: a ReplicaSet creates its pods one after another.
    type Shared = Option<Arc<Pod>>;

    fn new(pod: Pod, last: &mut Option<Arc<Pod>>) -> Self {
        PodRecord(PerPod::record(pod, last))
    }

    fn get(&self) -> &Pod {
        match &self.0 {
            Repr::Own(pod) => pod,
            Repr::Shared(p) => p.whole.get_or_init(|| p.whole()),
        }
    }

    fn into_box(self) -> Box<Pod> {
        match self.0 {
            Repr::Own(pod) => pod,
            Repr::Shared(p) => p.into_whole(),
        }
    }

    fn set_resource_version(&mut self, rv: &str) {
        match &mut self.0 {
            Repr::Own(pod) => write_str(&mut pod.metadata.resource_version, rv),
            Repr::Shared(p) => {
                p.whole.take();
                match &mut p.resource_version {
                    Some(s) => {
                        s.clear();
                        s.push_str(rv);
                    }
                    none => *none = Some(rv.into()),
                }
            }
        }
    }

    fn names(&self) -> (Option<&str>, Option<&str>) {
        match &self.0 {
            Repr::Own(pod) => (
                pod.metadata.namespace.as_deref(),
                pod.metadata.name.as_deref(),
            ),
            Repr::Shared(p) => (p.shape.metadata.namespace.as_deref(), p.name.as_deref()),
        }
    }

    fn meta_ref(&self) -> MetaRef<'_> {
        let p = self.parts();
        MetaRef {
            namespace: p.namespace,
            uid: p.uid,
            labels: p.labels,
            owner_references: p.owner_references,
            finalizers: p.finalizers,
            deleting: p.deletion_timestamp.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::pod_status::{
        Compact, CompactContainer, CompactState, KubeletStatus, container_id,
    };
    use crate::time::Millis;
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, node: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                resource_version: Some("7".into()),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(str::to_string),
                containers: vec![Container {
                    name: "web".into(),
                    image: Some("nginx".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some("Pending".into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_record_reads_back_the_pod_it_was_given_and_pods_of_one_shape_share_it() {
        let mut last = None;
        let a = PodRecord::new(pod("a", Some("node-1")), &mut last);
        let b = PodRecord::new(pod("b", None), &mut last);
        let c = PodRecord::new(pod("c", None), &mut last);
        assert_eq!(a.get(), &pod("a", Some("node-1")));
        assert_eq!(b.get(), &pod("b", None));
        assert_eq!(c.get(), &pod("c", None));
        // The first pod of a shape keeps its own copy; the next ones share the shape.
        assert!(!a.is_shared());
        let (Repr::Shared(pb), Repr::Shared(pc)) = (&b.0, &c.0) else {
            panic!("b and c share a's shape")
        };
        assert!(Arc::ptr_eq(&pb.shape, &pc.shape));
        let mut other = pod("d", None);
        other.metadata.labels = None;
        let d = PodRecord::new(other.clone(), &mut last);
        assert_eq!(d.get(), &other);
        assert!(!d.is_shared(), "a new shape is not shared");
        assert_eq!(*b.into_box(), pod("b", None));
    }

    #[test]
    fn per_pod_writes_keep_the_shape() {
        let mut last = None;
        let _first = PodRecord::new(pod("first", None), &mut last);
        let mut a = PodRecord::new(pod("a", None), &mut last);
        assert!(a.is_shared());
        assert_eq!(a.get(), &pod("a", None));
        {
            let w = a.per_pod_mut();
            *w.node_name = Some("node-2".into());
            let mut w = w;
            w.status.whole().phase = Some("Running".into());
        }
        a.set_resource_version("8");
        let mut want = pod("a", Some("node-2"));
        want.status.as_mut().unwrap().phase = Some("Running".into());
        want.metadata.resource_version = Some("8".into());
        assert!(a.is_shared());
        assert_eq!(a.get(), &want);
        assert_eq!(*a.into_box(), want);
    }

    #[test]
    fn an_update_that_changes_the_shared_part_gives_the_pod_a_record_of_its_own() {
        let mut table: crate::store::Table<Pod> = Default::default();
        let key = |name: &str| crate::store::ObjectKey::new("default", name);
        for name in ["a", "b"] {
            table.insert(key(name), pod(name, None));
        }
        assert!(table.record(&key("b")).unwrap().is_shared());
        let mut changed = pod("b", None);
        changed.metadata.labels = None;
        let old = table.insert(key("b"), changed.clone());
        assert_eq!(old.as_deref(), Some(&pod("b", None)));
        let b = table.record(&key("b")).unwrap();
        assert!(!b.is_shared());
        assert_eq!(b.get(), &changed);
        assert_eq!(table.get(&key("a")), Some(&pod("a", None)));
    }

    #[test]
    fn a_status_held_in_numbers_reads_back_rendered_with_the_shapes_names() {
        let mut last = None;
        let bare = |name: &str| Pod {
            status: None,
            ..pod(name, None)
        };
        let _first = PodRecord::new(bare("first"), &mut last);
        let mut r = PodRecord::new(bare("b"), &mut last);
        {
            let mut w = r.per_pod_mut();
            assert!(w.status.is_none());
            let (c, spec) = w
                .status
                .compact()
                .expect("a shared record with no status holds one in numbers");
            assert_eq!(spec.map(|s| s.containers[0].name.as_str()), Some("web"));
            *c = Some(Compact {
                scheduled: Some(Millis::from_secs(3)),
                kubelet: Some(KubeletStatus {
                    phase: "Running",
                    bound_at: Millis::from_secs(4),
                    ready_since: Millis::from_secs(9),
                    pod_ip: 1,
                    node: 0,
                    containers: vec![CompactContainer {
                        id: Some(7),
                        ready: false,
                        started: true,
                        restart_count: 2,
                        state: CompactState::Running {
                            since: Millis::from_secs(8),
                        },
                        last_state: None,
                    }],
                }),
            });
        }
        let parts = r.parts();
        assert_eq!(parts.status.phase(), Some("Running"));
        assert_eq!(parts.status.ready_since(), None, "a container is not ready");
        assert_eq!(parts.status.max_restarts(), 2);
        let status = r.get().status.clone().expect("a status");
        let conditions: Vec<_> = status
            .conditions
            .iter()
            .flatten()
            .map(|c| (c.type_.as_str(), c.status.as_str(), c.message.as_deref()))
            .collect();
        let unready = Some("containers with unready status: [web]");
        assert_eq!(
            conditions,
            [
                ("PodReadyToStartContainers", "True", None),
                ("Initialized", "True", None),
                ("Ready", "False", unready),
                ("ContainersReady", "False", unready),
                ("PodScheduled", "True", None),
            ]
        );
        assert_eq!(status.pod_ip.as_deref(), Some("10.244.0.3"));
        assert_eq!(status.host_ip.as_deref(), Some("172.18.0.1"));
        assert_eq!(status.start_time, Some(Millis::from_secs(4).to_time()));
        let cs = &status
            .container_statuses
            .as_ref()
            .expect("container statuses")[0];
        assert_eq!((cs.name.as_str(), cs.image.as_str()), ("web", "nginx"));
        assert_eq!(cs.container_id, Some(container_id(7)));
        assert_eq!(cs.restart_count, 2);
        // Any other write takes the status whole, and keeps what it said.
        r.per_pod_mut().status.whole().phase = Some("Failed".into());
        assert!(r.per_pod_mut().status.compact().is_none());
        let mut want = status;
        want.phase = Some("Failed".into());
        assert_eq!(r.get().status.as_ref(), Some(&want));
        assert!(r.is_shared());
    }
}

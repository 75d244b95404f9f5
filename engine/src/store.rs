//! The object store: typed tables of API objects with an owner index.
//!
//! The store holds data only. Every write goes through [`crate::Cluster`], which stamps
//! metadata (uid, resourceVersion, generation, timestamps), records the trace and wakes the
//! controllers, the way the API server and the informers do. Lookups are hashed; every
//! iteration is in key order ([`Table::iter`], and the `BTreeMap`s of the owner index) except a
//! walk over an owner's pods, which is in slot order ([`Store::pods_owned_by`]), so every walk
//! over the store is deterministic.

use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use rustc_hash::FxHashMap;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

mod pod_record;
mod pod_status;
pub(crate) use pod_record::PerPodMut;
pub use pod_record::{PodRecord, PodRef};
pub use pod_status::{Compact, StatusRef};
pub(crate) use pod_status::{
    CompactContainer, CompactState, KubeletStatus, Terminated, container_id, host_ip, name_list,
    pod_ip, ready_condition,
};

/// Namespace and name of an object.
///
/// The key carries the hash of its two strings, computed when it is made: stores, lanes and
/// the kubelet look keys up hundreds of thousands of times in a large rollout, and hashing a
/// key is then one multiplication. Make keys with [`ObjectKey::new`] or [`ObjectKey::of`] and
/// change them only with [`ObjectKey::set`]; debug builds check the hash at every use.
///
/// A namespace or name of up to 24 bytes is held inline ([`KeyStr`]), as most are (`default`,
/// `web-7d4b9c8f6d-x2k9p`): comparing two keys found under one hash then reads only the keys
/// themselves, and copying one allocates nothing. A map of 20,000 pods is far larger than the
/// cache, so a string behind a pointer costs a miss at every lookup.
#[derive(Clone)]
pub struct ObjectKey {
    pub namespace: KeyStr,
    pub name: KeyStr,
    hash: u64,
}

/// The text of a key's namespace or name: up to 24 bytes inline, longer on the heap; it
/// reads as a `str` (see [`ObjectKey`]).
pub type KeyStr = compact_str::CompactString;

fn key_hash(namespace: &str, name: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one((namespace, name))
}

impl ObjectKey {
    pub fn new(namespace: impl Into<KeyStr>, name: impl Into<KeyStr>) -> Self {
        let (namespace, name) = (namespace.into(), name.into());
        let hash = key_hash(&namespace, &name);
        ObjectKey {
            namespace,
            name,
            hash,
        }
    }

    /// The key of an object from its metadata (namespace defaults to `default`).
    pub fn of(meta: &ObjectMeta) -> Self {
        ObjectKey::new(
            meta.namespace.as_deref().unwrap_or("default"),
            meta.name.as_deref().unwrap_or_default(),
        )
    }

    /// Makes this key name `namespace/name`, reusing its strings.
    pub fn set(&mut self, namespace: &str, name: &str) {
        self.namespace.clear();
        self.namespace.push_str(namespace);
        self.name.clear();
        self.name.push_str(name);
        self.hash = key_hash(namespace, name);
    }

    fn checked_hash(&self) -> u64 {
        debug_assert_eq!(
            self.hash,
            key_hash(&self.namespace, &self.name),
            "the key {self} was changed without ObjectKey::set"
        );
        self.hash
    }
}

impl Default for ObjectKey {
    fn default() -> Self {
        ObjectKey::new(String::new(), String::new())
    }
}

impl PartialEq for ObjectKey {
    fn eq(&self, other: &Self) -> bool {
        self.checked_hash() == other.checked_hash()
            && self.name == other.name
            && self.namespace == other.namespace
    }
}

impl Eq for ObjectKey {}

impl std::hash::Hash for ObjectKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.checked_hash());
    }
}

impl Ord for ObjectKey {
    /// By namespace, then name.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.namespace, &self.name).cmp(&(&other.namespace, &other.name))
    }
}

impl PartialOrd for ObjectKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectKey")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .finish()
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Runs `$body` with `$T` the Rust type of the typed kind `$kind`.
macro_rules! with_type {
    ($kind:expr, $T:ident => $body:expr) => {
        match $kind {
            $crate::store::Kind::Deployment => {
                type $T = k8s_openapi::api::apps::v1::Deployment;
                $body
            }
            $crate::store::Kind::ReplicaSet => {
                type $T = k8s_openapi::api::apps::v1::ReplicaSet;
                $body
            }
            $crate::store::Kind::Pod => {
                type $T = k8s_openapi::api::core::v1::Pod;
                $body
            }
            $crate::store::Kind::Node => {
                type $T = k8s_openapi::api::core::v1::Node;
                $body
            }
            $crate::store::Kind::HorizontalPodAutoscaler => {
                type $T = k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
                $body
            }
            $crate::store::Kind::StatefulSet => {
                type $T = k8s_openapi::api::apps::v1::StatefulSet;
                $body
            }
            $crate::store::Kind::ControllerRevision => {
                type $T = k8s_openapi::api::apps::v1::ControllerRevision;
                $body
            }
            $crate::store::Kind::PersistentVolumeClaim => {
                type $T = k8s_openapi::api::core::v1::PersistentVolumeClaim;
                $body
            }
        }
    };
}
pub(crate) use with_type;

/// The kinds the engine stores with their typed representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Deployment,
    ReplicaSet,
    Pod,
    Node,
    HorizontalPodAutoscaler,
    StatefulSet,
    ControllerRevision,
    PersistentVolumeClaim,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Pod => "Pod",
            Kind::Node => "Node",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::StatefulSet => "StatefulSet",
            Kind::ControllerRevision => "ControllerRevision",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Kind::HorizontalPodAutoscaler => "autoscaling/v2",
            Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet | Kind::ControllerRevision => {
                "apps/v1"
            }
            Kind::Pod | Kind::Node | Kind::PersistentVolumeClaim => "v1",
        }
    }

    /// `deployment.apps`, `pod`: the group-qualified resource name kubectl prints.
    pub fn qualified(self) -> &'static str {
        match self {
            Kind::Deployment => "deployment.apps",
            Kind::ReplicaSet => "replicaset.apps",
            Kind::Pod => "pod",
            Kind::Node => "node",
            Kind::HorizontalPodAutoscaler => "horizontalpodautoscaler.autoscaling",
            Kind::StatefulSet => "statefulset.apps",
            Kind::ControllerRevision => "controllerrevision.apps",
            Kind::PersistentVolumeClaim => "persistentvolumeclaim",
        }
    }

    /// Whether the API server bumps `metadata.generation` when the spec changes.
    pub fn has_generation(self) -> bool {
        matches!(
            self,
            Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet
        )
    }

    pub fn namespaced(self) -> bool {
        !matches!(self, Kind::Node)
    }

    /// Parses the lower-case kind a step or a manifest names (`deployment`, `replicasets`, `rs`).
    pub fn parse(word: &str) -> Option<Kind> {
        Some(match word.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Kind::Deployment,
            "replicaset" | "replicasets" | "rs" => Kind::ReplicaSet,
            "pod" | "pods" | "po" => Kind::Pod,
            "node" | "nodes" | "no" => Kind::Node,
            "horizontalpodautoscaler" | "horizontalpodautoscalers" | "hpa" => {
                Kind::HorizontalPodAutoscaler
            }
            "statefulset" | "statefulsets" | "sts" => Kind::StatefulSet,
            "controllerrevision" | "controllerrevisions" => Kind::ControllerRevision,
            "persistentvolumeclaim" | "persistentvolumeclaims" | "pvc" => {
                Kind::PersistentVolumeClaim
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API object kind the engine stores in a typed table.
pub trait Resource: Clone + Serialize + PartialEq + fmt::Debug + 'static {
    const KIND: Kind;
    /// How the table holds one object.
    type Slot: Slot<Self>;
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    /// Whether two versions have the same spec (decides the generation bump).
    fn same_spec(&self, other: &Self) -> bool;
    fn table(store: &Store) -> &Table<Self>;
    fn table_mut(store: &mut Store) -> &mut Table<Self>;
}

macro_rules! resource {
    ($ty:ty, $kind:expr, $field:ident) => {
        resource!($ty, $kind, $field, Box<$ty>);
    };
    ($ty:ty, $kind:expr, $field:ident, $slot:ty) => {
        impl Resource for $ty {
            const KIND: Kind = $kind;
            type Slot = $slot;
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
            fn same_spec(&self, other: &Self) -> bool {
                self.spec == other.spec
            }
            fn table(store: &Store) -> &Table<Self> {
                &store.$field
            }
            fn table_mut(store: &mut Store) -> &mut Table<Self> {
                &mut store.$field
            }
        }
    };
}

resource!(Deployment, Kind::Deployment, deployments);
resource!(ReplicaSet, Kind::ReplicaSet, replicasets);
// Pods are held as records that share what pods of one template have in common.
resource!(Pod, Kind::Pod, pods, PodRecord);
resource!(Node, Kind::Node, nodes);
resource!(
    HorizontalPodAutoscaler,
    Kind::HorizontalPodAutoscaler,
    horizontal_pod_autoscalers
);
resource!(StatefulSet, Kind::StatefulSet, statefulsets);
resource!(
    PersistentVolumeClaim,
    Kind::PersistentVolumeClaim,
    persistentvolumeclaims
);

/// A ControllerRevision has no spec: its `data` and `revision` stand for it.
impl Resource for ControllerRevision {
    const KIND: Kind = Kind::ControllerRevision;
    type Slot = Box<ControllerRevision>;
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
    fn same_spec(&self, other: &Self) -> bool {
        self.data == other.data && self.revision == other.revision
    }
    fn table(store: &Store) -> &Table<Self> {
        &store.controllerrevisions
    }
    fn table_mut(store: &mut Store) -> &mut Table<Self> {
        &mut store.controllerrevisions
    }
}

/// How a table holds one object. Every kind but Pod holds it boxed ([`Box<T>`]); pods are
/// held as a [`crate::store::pod_record::PodRecord`], which shares what pods stamped from one
/// template have in common. The table reads and writes objects only through this trait.
pub trait Slot<T>: Clone + fmt::Debug {
    /// What the slots of one table share (the last pod shape, for pods).
    type Shared: Clone + fmt::Debug + Default;
    fn new(obj: T, shared: &mut Self::Shared) -> Self;
    fn get(&self) -> &T;
    fn into_box(self) -> Box<T>;
    /// Writes `metadata.resourceVersion` into the string already there.
    fn set_resource_version(&mut self, rv: &str);
    /// The metadata the API server, the informers and the garbage collector read, without
    /// putting a pod record together.
    fn meta_ref(&self) -> MetaRef<'_>;
    /// `metadata.namespace` and `metadata.name`, which make the object's key.
    fn names(&self) -> (Option<&str>, Option<&str>);
}

/// Whether the object in `slot` is the one under `key` ([`ObjectKey::of`] its metadata).
fn has_key<T, S: Slot<T>>(slot: &S, key: &ObjectKey) -> bool {
    let (namespace, name) = slot.names();
    name.unwrap_or_default() == key.name && namespace.unwrap_or("default") == key.namespace
}

/// The key of the object in `slot`.
fn key_of<T, S: Slot<T>>(slot: &S) -> ObjectKey {
    let (namespace, name) = slot.names();
    ObjectKey::new(namespace.unwrap_or("default"), name.unwrap_or_default())
}

impl<T: Resource> Slot<T> for Box<T> {
    type Shared = ();
    fn new(obj: T, _: &mut ()) -> Self {
        Box::new(obj)
    }
    fn get(&self) -> &T {
        self
    }
    fn into_box(self) -> Box<T> {
        self
    }
    fn set_resource_version(&mut self, rv: &str) {
        write_str(&mut self.meta_mut().resource_version, rv);
    }
    fn meta_ref(&self) -> MetaRef<'_> {
        MetaRef::of(self.meta())
    }
    fn names(&self) -> (Option<&str>, Option<&str>) {
        let m = self.meta();
        (m.namespace.as_deref(), m.name.as_deref())
    }
}

/// Sets `field` to `value`, reusing the string already there.
pub(crate) fn write_str(field: &mut Option<String>, value: &str) {
    match field {
        Some(s) => {
            s.clear();
            s.push_str(value);
        }
        none => *none = Some(value.to_owned()),
    }
}

/// The objects of one kind, by key.
///
/// Lookups are hashed (a rollout of 10,000 replicas does hundreds of thousands of them);
/// every iteration is in key order, so walks over a table stay deterministic.
pub struct Table<T: Resource> {
    /// (hash of the key, slot) of every object. A lookup finds the entries under the key's
    /// hash and checks the key against the object in the slot, which the caller reads anyway:
    /// at 16 bytes an entry, the index of 20,000 pods stays in cache, where a map holding the
    /// keys themselves (64 bytes an entry) costs a cache miss at every lookup.
    index: hashbrown::HashTable<(u64, u32)>,
    /// The objects (boxed, or pod records: a Pod is over two kilobytes inline). The owner
    /// index refers to dependents by slot, so walking a ReplicaSet's pods hashes no keys.
    slots: Vec<Option<T::Slot>>,
    free: Vec<u32>,
    shared: <T::Slot as Slot<T>>::Shared,
}

impl<T: Resource> Clone for Table<T> {
    fn clone(&self) -> Self {
        Table {
            index: self.index.clone(),
            slots: self.slots.clone(),
            free: self.free.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<T: Resource> fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: Resource> Default for Table<T> {
    fn default() -> Self {
        Table {
            index: hashbrown::HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            shared: Default::default(),
        }
    }
}

impl<T: Resource> Table<T> {
    /// The slot of the object under `key`.
    fn find(&self, key: &ObjectKey) -> Option<u32> {
        let hash = key.checked_hash();
        self.index
            .find(hash, entry_of::<T>(&self.slots, hash, key))
            .map(|&(_, i)| i)
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&T> {
        let i = self.find(key)?;
        self.slots[i as usize].as_ref().map(Slot::get)
    }

    pub fn contains_key(&self, key: &ObjectKey) -> bool {
        self.find(key).is_some()
    }

    /// The slot of `key`, for writes that need not see the whole object.
    pub(crate) fn slot_mut(&mut self, key: &ObjectKey) -> Option<&mut T::Slot> {
        let i = self.find(key)?;
        self.slots[i as usize].as_mut()
    }

    /// The slot of `key`, for reads that need not see the whole object.
    pub(crate) fn slot_ref(&self, key: &ObjectKey) -> Option<&T::Slot> {
        let i = self.find(key)?;
        self.slots[i as usize].as_ref()
    }

    pub(crate) fn slot(&self, key: &ObjectKey) -> Option<u32> {
        self.find(key)
    }

    pub(crate) fn by_slot(&self, slot: u32) -> Option<&T> {
        self.slots
            .get(slot as usize)
            .and_then(Option::as_ref)
            .map(Slot::get)
    }

    /// Inserts or replaces; a replaced object keeps its slot. `key` must be the object's own
    /// ([`ObjectKey::of`] its metadata).
    pub(crate) fn insert(&mut self, key: ObjectKey, value: T) -> Option<Box<T>> {
        let value = T::Slot::new(value, &mut self.shared);
        debug_assert!(
            has_key::<T, _>(&value, &key),
            "{key} is not the key of the object stored under it"
        );
        if let Some(i) = self.find(&key) {
            return self.slots[i as usize].replace(value).map(Slot::into_box);
        }
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(value);
                i
            }
            None => {
                self.slots.push(Some(value));
                (self.slots.len() - 1) as u32
            }
        };
        let hash = key.checked_hash();
        self.index.insert_unique(hash, (hash, i), |&(h, _)| h);
        None
    }

    /// Removes the object and returns it as it was held (boxed, or a pod record), not moved
    /// out: a 2 KB pod moved out of its box would be read whole from memory a rollout has long
    /// left, only for the drop to read it again.
    pub(crate) fn remove(&mut self, key: &ObjectKey) -> Option<T::Slot> {
        let hash = key.checked_hash();
        let entry = self
            .index
            .find_entry(hash, entry_of::<T>(&self.slots, hash, key))
            .ok()?;
        let ((_, i), _) = entry.remove();
        self.free.push(i);
        self.slots[i as usize].take()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (ObjectKey, &T)> {
        let mut entries: Vec<(ObjectKey, &T)> = self
            .slots
            .iter()
            .flatten()
            .map(|s| (key_of::<T, _>(s), s.get()))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        entries.into_iter()
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = ObjectKey> {
        let mut keys: Vec<ObjectKey> = self.slots.iter().flatten().map(key_of::<T, _>).collect();
        keys.sort_unstable();
        keys.into_iter()
    }

    /// Values in key order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.iter().map(|(_, v)| v)
    }
}

/// Whether an index entry is `key`'s: its hash, and the key of the object in its slot.
fn entry_of<'a, T: Resource>(
    slots: &'a [Option<T::Slot>],
    hash: u64,
    key: &'a ObjectKey,
) -> impl Fn(&(u64, u32)) -> bool + 'a {
    move |&(h, i)| {
        h == hash
            && slots[i as usize]
                .as_ref()
                .is_some_and(|s| has_key::<T, _>(s, key))
    }
}

impl Table<Pod> {
    /// The record of the pod in `slot`, for reads that need not put the pod together.
    pub(crate) fn record_by_slot(&self, slot: u32) -> Option<&PodRecord> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    /// The record of the pod under `key`, for reads that need not put the pod together.
    pub(crate) fn record(&self, key: &ObjectKey) -> Option<&PodRecord> {
        let i = self.find(key)?;
        self.slots[i as usize].as_ref()
    }
}

impl<T: Resource> std::ops::Index<&ObjectKey> for Table<T> {
    type Output = T;

    /// # Panics
    ///
    /// When the key is absent; use [`Table::get`] unless the key was just looked up.
    fn index(&self, key: &ObjectKey) -> &T {
        self.get(key).expect("no object under this key")
    }
}

/// An object of a kind no controller acts on (ConfigMap, Service, Secret, …), kept as JSON so
/// that it can be applied, read and matched.
#[derive(Clone, Debug, PartialEq)]
pub struct GenericObject {
    pub api_version: String,
    pub kind: String,
    pub value: serde_json::Value,
}

/// The tables. Read freely; write only through [`crate::Cluster`].
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub deployments: Table<Deployment>,
    pub replicasets: Table<ReplicaSet>,
    pub pods: Table<Pod>,
    pub nodes: Table<Node>,
    pub horizontal_pod_autoscalers: Table<HorizontalPodAutoscaler>,
    pub statefulsets: Table<StatefulSet>,
    pub controllerrevisions: Table<ControllerRevision>,
    pub persistentvolumeclaims: Table<PersistentVolumeClaim>,
    /// Objects of passive kinds, keyed by lower-case kind then key.
    pub generic: BTreeMap<(String, ObjectKey), GenericObject>,
    /// uid of an owner → its dependents other than pods (any ownerReference, controller or
    /// not), each with its slot.
    dependents: HashMap<String, BTreeMap<(Kind, ObjectKey), u32>>,
    /// uid of an owner → the slots of its dependent pods, in slot order (see
    /// [`Store::pods_owned_by`]). Pods are indexed by slot alone: a 10,000-replica rollout adds
    /// and removes 20,000 entries, and a set of numbers is searched without reading a key.
    owned_pods: HashMap<String, BTreeSet<u32>>,
    /// uid of an owner → its dependents among the passive kinds (`generic`), by table key.
    generic_dependents: HashMap<String, BTreeSet<(String, ObjectKey)>>,
    /// Pods without any ownerReference (candidates for adoption).
    orphan_pods: BTreeSet<ObjectKey>,
    /// What the ReplicaSet controller counts about each pod, by pod slot; see [`PodFacts`].
    pod_facts: Vec<Option<PodFacts>>,
    /// The distinct label sets of the stored pods; [`PodFacts::labels`] indexes it.
    label_sets: LabelSets,
    /// The node names of the stored pods; [`PodFacts::node`] indexes it.
    node_names: NodeNames,
}

/// The few facts about a pod that a ReplicaSet sync counts, kept beside the pod table so that
/// counting 10,000 pods reads one dense array instead of 10,000 boxed pods. Refreshed on every
/// write of the pod (see [`Store::refresh_pod_facts`]); debug builds check them against the
/// pod on every count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodFacts {
    /// `controller.IsPodActive`: not terminating, not Succeeded, not Failed.
    pub active: bool,
    /// `podutil.IsPodReady`: the Ready condition is True.
    pub ready: bool,
    /// lastTransitionTime of the Ready condition, when it is True and has one.
    pub ready_since: Option<crate::time::Millis>,
    /// The pod's labels, as an index into the store's label sets ([`Store::label_set`]).
    pub labels: u32,
    /// `spec.nodeName`, as an index into the store's node names ([`Store::node_name`]); `None`
    /// when unset or empty.
    pub node: Option<u32>,
    /// What the deletion ranking (`ActivePodsWithRanks`) reads besides readiness: the phase
    /// (see [`phase_rank`]), the highest restart count of the app containers, the
    /// creationTimestamp and the `controller.kubernetes.io/pod-deletion-cost`.
    pub phase: u8,
    pub restarts: i32,
    pub created: Option<crate::time::Millis>,
    pub deletion_cost: i32,
}

/// The annotation whose integer value ranks a pod for deletion, lower first (PodDeletionCost,
/// on by default since 1.22).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

impl PodFacts {
    /// The facts of a pod, with its labels and node already interned as `labels` and `node`.
    pub fn of(p: PodParts<'_>, labels: u32, node: Option<u32>) -> PodFacts {
        let phase = p.status.phase().unwrap_or("");
        let ready = p.status.ready_since();
        PodFacts {
            active: p.deletion_timestamp.is_none() && phase != "Succeeded" && phase != "Failed",
            ready: ready.is_some(),
            ready_since: ready.flatten(),
            labels,
            node,
            phase: phase_rank(Some(phase)),
            restarts: max_restarts(p),
            created: p.creation_timestamp.map(crate::time::Millis::from_time),
            deletion_cost: deletion_cost(p),
        }
    }
}

/// A pod phase as `ActivePodsWithRanks` orders it: Pending (and anything else) 0 < Unknown 1 <
/// Running 2.
pub(crate) fn phase_rank(phase: Option<&str>) -> u8 {
    match phase {
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    }
}

/// The metadata of a stored object that deletion, the informers and the garbage collector
/// read ([`Slot::meta_ref`]).
#[derive(Clone, Copy, Debug)]
pub struct MetaRef<'a> {
    pub namespace: Option<&'a str>,
    pub uid: Option<&'a str>,
    pub labels: Option<&'a BTreeMap<String, String>>,
    pub owner_references: Option<&'a [OwnerReference]>,
    pub finalizers: Option<&'a [String]>,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
}

impl<'a> MetaRef<'a> {
    pub fn of(m: &'a ObjectMeta) -> MetaRef<'a> {
        MetaRef {
            namespace: m.namespace.as_deref(),
            uid: m.uid.as_deref(),
            labels: m.labels.as_ref(),
            owner_references: m.owner_references.as_deref(),
            finalizers: m.finalizers.as_deref(),
            deleting: m.deletion_timestamp.is_some(),
        }
    }
}

/// The parts of a pod that the store's indexes and the deletion ranking read: of a [`Pod`]
/// ([`PodParts::of`]) or of a stored record ([`PodRecord::parts`]), which they need not put
/// together.
#[derive(Clone, Copy, Debug)]
pub struct PodParts<'a> {
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub uid: Option<&'a str>,
    pub labels: Option<&'a BTreeMap<String, String>>,
    pub annotations: Option<&'a BTreeMap<String, String>>,
    pub owner_references: Option<&'a [OwnerReference]>,
    pub finalizers: Option<&'a [String]>,
    pub creation_timestamp: Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    pub deletion_timestamp: Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    /// `spec.nodeName`.
    pub node_name: Option<&'a str>,
    /// The spec, but for `nodeName` (which may or may not be set in it: read [`Self::node_name`]).
    pub spec: Option<&'a k8s_openapi::api::core::v1::PodSpec>,
    /// The status, which a record may hold in numbers ([`Compact`]): read what the indexes
    /// count through it, or render it with [`crate::store::Table::get`] for anything else.
    pub status: StatusRef<'a>,
}

impl<'a> PodParts<'a> {
    /// The pod's key, as [`ObjectKey::of`] its metadata.
    pub fn key(&self) -> ObjectKey {
        ObjectKey::new(
            self.namespace.unwrap_or("default"),
            self.name.unwrap_or_default(),
        )
    }

    pub fn of(p: &'a Pod) -> PodParts<'a> {
        let m = &p.metadata;
        PodParts {
            namespace: m.namespace.as_deref(),
            name: m.name.as_deref(),
            uid: m.uid.as_deref(),
            labels: m.labels.as_ref(),
            annotations: m.annotations.as_ref(),
            owner_references: m.owner_references.as_deref(),
            finalizers: m.finalizers.as_deref(),
            creation_timestamp: m.creation_timestamp.as_ref(),
            deletion_timestamp: m.deletion_timestamp.as_ref(),
            node_name: p.spec.as_ref().and_then(|s| s.node_name.as_deref()),
            spec: p.spec.as_ref(),
            status: StatusRef::Whole(p.status.as_ref()),
        }
    }
}

/// The highest restart count among a pod's app containers.
pub(crate) fn max_restarts(p: PodParts<'_>) -> i32 {
    p.status.max_restarts()
}

/// The pod's `controller.kubernetes.io/pod-deletion-cost`, 0 when absent or not an integer.
pub(crate) fn deletion_cost(p: PodParts<'_>) -> i32 {
    p.annotations
        .and_then(|a| a.get(POD_DELETION_COST))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The node names pods have been bound to, each with an id ([`PodFacts::node`]). Names are
/// never forgotten: there are as many as nodes, plus any `nodeName` a manifest set by hand.
#[derive(Clone, Debug, Default)]
struct NodeNames {
    names: Vec<String>,
    ids: FxHashMap<String, u32>,
}

impl NodeNames {
    /// The id of a pod's node name (`None` for no node), reusing `old` when it still names it.
    fn intern(&mut self, name: &str, old: Option<u32>) -> Option<u32> {
        if name.is_empty() {
            return None;
        }
        if let Some(id) = old
            && self.names.get(id as usize).is_some_and(|n| n == name)
        {
            return Some(id);
        }
        if let Some(&id) = self.ids.get(name) {
            return Some(id);
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        Some(id)
    }

    fn get(&self, id: Option<u32>) -> &str {
        id.and_then(|i| self.names.get(i as usize))
            .map_or("", String::as_str)
    }
}

/// `spec.nodeName` of a pod, `""` when unset.
pub fn pod_node_name(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// Interned label sets with reference counts: pods stamped from one template share one entry.
#[derive(Clone, Debug, Default)]
struct LabelSets {
    ids: FxHashMap<BTreeMap<String, String>, u32>,
    /// By id: the set and how many pods use it (`None` when free).
    sets: Vec<Option<(BTreeMap<String, String>, u32)>>,
    free: Vec<u32>,
}

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl LabelSets {
    /// The id of `labels`, taking a reference to it.
    fn acquire(&mut self, labels: &BTreeMap<String, String>) -> u32 {
        if let Some(&id) = self.ids.get(labels) {
            if let Some((_, n)) = self.sets[id as usize].as_mut() {
                *n += 1;
            }
            return id;
        }
        let entry = Some((labels.clone(), 1));
        let id = match self.free.pop() {
            Some(id) => {
                self.sets[id as usize] = entry;
                id
            }
            None => {
                self.sets.push(entry);
                (self.sets.len() - 1) as u32
            }
        };
        self.ids.insert(labels.clone(), id);
        id
    }

    /// Drops a reference taken by [`LabelSets::acquire`].
    fn release(&mut self, id: u32) {
        let Some(Some((_, n))) = self.sets.get_mut(id as usize) else {
            return;
        };
        *n -= 1;
        if *n == 0 {
            if let Some((labels, _)) = self.sets[id as usize].take() {
                self.ids.remove(&labels);
            }
            self.free.push(id);
        }
    }

    fn get(&self, id: u32) -> &BTreeMap<String, String> {
        self.sets
            .get(id as usize)
            .and_then(|e| e.as_ref())
            .map_or(&NO_LABELS, |(l, _)| l)
    }
}

impl Store {
    pub fn get<T: Resource>(&self, key: &ObjectKey) -> Option<&T> {
        T::table(self).get(key)
    }

    /// Dependents of the owner with this uid, in (kind, key) order.
    pub fn dependents(&self, owner_uid: &str) -> Vec<(Kind, ObjectKey)> {
        let mut out: Vec<(Kind, ObjectKey)> = self.non_pod_dependents(owner_uid).cloned().collect();
        out.extend(
            self.owned_pod_slots(owner_uid).filter_map(|slot| {
                Some((Kind::Pod, self.pods.record_by_slot(slot)?.parts().key()))
            }),
        );
        out.sort_unstable();
        out
    }

    /// Dependents of the owner with this uid other than pods, in (kind, key) order.
    pub fn non_pod_dependents(&self, owner_uid: &str) -> impl Iterator<Item = &(Kind, ObjectKey)> {
        self.dependents
            .get(owner_uid)
            .into_iter()
            .flat_map(|m| m.keys())
    }

    /// The slots of the pods whose ownerReferences name this owner uid, in slot order.
    fn owned_pod_slots(&self, owner_uid: &str) -> impl Iterator<Item = u32> + '_ {
        self.owned_pods
            .get(owner_uid)
            .into_iter()
            .flatten()
            .copied()
    }

    /// Pods whose ownerReferences name this owner uid, in slot order.
    ///
    /// Slot order is the pod table's order of allocation (a freed slot is reused, newest
    /// first): deterministic, and cheap to walk, since the pods' facts lie in slot order. Where
    /// upstream's listers hand these pods over, the order is Go's map order, which is
    /// unspecified; nothing a controller decides may depend on it beyond its tie-breaks.
    pub fn pods_owned_by<'a>(&'a self, owner_uid: &str) -> impl Iterator<Item = &'a Pod> + 'a {
        self.owned_pod_slots(owner_uid)
            .filter_map(|slot| self.pods.by_slot(slot))
    }

    /// ReplicaSets whose ownerReferences name this owner uid, in key order.
    pub fn replicasets_owned_by<'a>(&'a self, owner_uid: &str) -> Vec<&'a ReplicaSet> {
        self.dependents
            .get(owner_uid)
            .into_iter()
            .flatten()
            .filter(|((k, _), _)| *k == Kind::ReplicaSet)
            .filter_map(|(_, &slot)| self.replicasets.by_slot(slot))
            .collect()
    }

    /// Pods whose ownerReferences name this owner uid, in slot order (see
    /// [`Store::pods_owned_by`]), with their facts.
    pub fn pod_facts_owned_by<'a>(
        &'a self,
        owner_uid: &str,
    ) -> impl Iterator<Item = (u32, PodFacts)> + 'a {
        self.owned_pod_slots(owner_uid)
            .filter_map(|slot| Some((slot, self.pod_facts.get(slot as usize).copied()??)))
    }

    /// The pods of `namespace` whose labels `selector` matches, in key order (a label
    /// selector's List). Each distinct label set is matched once, so selecting among 10,000
    /// pods stamped from a few templates costs a few matches and one pass over a dense array.
    pub fn pods_selected(
        &self,
        namespace: &str,
        selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    ) -> Vec<(ObjectKey, &Pod)> {
        let mut verdicts: Vec<Option<bool>> = vec![None; self.label_sets.sets.len()];
        let mut out: Vec<(ObjectKey, &Pod)> = Vec::new();
        for (slot, facts) in self.pod_facts.iter().enumerate() {
            let Some(facts) = facts else { continue };
            let id = facts.labels as usize;
            let matched = match verdicts.get(id).copied().flatten() {
                Some(v) => v,
                None => {
                    let v = crate::labels::selector_matches(
                        selector,
                        Some(self.label_sets.get(facts.labels)),
                    );
                    if let Some(slot) = verdicts.get_mut(id) {
                        *slot = Some(v);
                    }
                    v
                }
            };
            if !matched {
                continue;
            }
            let Some(pod) = self.pods.by_slot(slot as u32) else {
                continue;
            };
            if pod.metadata.namespace.as_deref().unwrap_or("default") == namespace {
                out.push((ObjectKey::of(&pod.metadata), pod));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A pod by its slot in the pod table.
    pub fn pod_by_slot(&self, slot: u32) -> Option<&Pod> {
        self.pods.by_slot(slot)
    }

    /// The label set a [`PodFacts::labels`] id stands for.
    pub fn label_set(&self, id: u32) -> &BTreeMap<String, String> {
        self.label_sets.get(id)
    }

    /// Recomputes the facts of the pod stored under `key`; call after every write of a pod.
    pub(crate) fn refresh_pod_facts(&mut self, key: &ObjectKey) {
        let Some(slot) = self.pods.slot(key) else {
            return;
        };
        let Some(pod) = self.pods.record_by_slot(slot) else {
            return;
        };
        let pod = pod.parts();
        let labels = pod.labels.unwrap_or(&NO_LABELS);
        let i = slot as usize;
        if self.pod_facts.len() <= i {
            self.pod_facts.resize(i + 1, None);
        }
        let old = self.pod_facts[i];
        let id = match old {
            Some(old) if self.label_sets.get(old.labels) == labels => old.labels,
            old => {
                let id = self.label_sets.acquire(labels);
                if let Some(old) = old {
                    self.label_sets.release(old.labels);
                }
                id
            }
        };
        let node = self
            .node_names
            .intern(pod.node_name.unwrap_or(""), old.and_then(|f| f.node));
        self.pod_facts[i] = Some(PodFacts::of(pod, id, node));
    }

    /// The node name a [`PodFacts::node`] id stands for (`""` for none).
    pub fn node_name(&self, id: Option<u32>) -> &str {
        self.node_names.get(id)
    }

    /// [`Store::refresh_pod_facts`] for a write that left the pod's labels as they were.
    pub(crate) fn refresh_pod_facts_same_labels(&mut self, key: &ObjectKey) {
        let Some(slot) = self.pods.slot(key) else {
            return;
        };
        match (
            self.pods.record_by_slot(slot),
            self.pod_facts.get(slot as usize),
        ) {
            (Some(pod), Some(Some(old))) => {
                let old = *old;
                let pod = pod.parts();
                let node = self
                    .node_names
                    .intern(pod.node_name.unwrap_or(""), old.node);
                self.pod_facts[slot as usize] = Some(PodFacts::of(pod, old.labels, node));
            }
            _ => self.refresh_pod_facts(key),
        }
    }

    /// Forgets the facts of a pod leaving the table; call with the slot it had.
    pub(crate) fn forget_pod_facts(&mut self, slot: u32) {
        if let Some(old) = self.pod_facts.get_mut(slot as usize).and_then(Option::take) {
            self.label_sets.release(old.labels);
        }
    }

    pub fn has_orphan_pods(&self) -> bool {
        !self.orphan_pods.is_empty()
    }

    pub fn orphan_pods(&self) -> impl Iterator<Item = &ObjectKey> {
        self.orphan_pods.iter()
    }

    /// Indexes a stored object under its owners (call after it is in its table).
    pub(crate) fn index_owners(
        &mut self,
        kind: Kind,
        key: &ObjectKey,
        refs: Option<&Vec<OwnerReference>>,
    ) {
        if kind == Kind::Pod && refs.is_none_or(|r| r.is_empty()) {
            self.orphan_pods.insert(key.clone());
        }
        let slot = match kind {
            Kind::Deployment => self.deployments.slot(key),
            Kind::ReplicaSet => self.replicasets.slot(key),
            Kind::Pod => self.pods.slot(key),
            Kind::Node => self.nodes.slot(key),
            Kind::HorizontalPodAutoscaler => self.horizontal_pod_autoscalers.slot(key),
            Kind::StatefulSet => self.statefulsets.slot(key),
            Kind::ControllerRevision => self.controllerrevisions.slot(key),
            Kind::PersistentVolumeClaim => self.persistentvolumeclaims.slot(key),
        };
        let Some(slot) = slot else { return };
        for r in refs.into_iter().flatten() {
            if kind == Kind::Pod {
                match self.owned_pods.get_mut(&r.uid) {
                    Some(slots) => {
                        slots.insert(slot);
                    }
                    None => {
                        self.owned_pods
                            .insert(r.uid.clone(), BTreeSet::from([slot]));
                    }
                }
                continue;
            }
            let entry = (kind, key.clone());
            match self.dependents.get_mut(&r.uid) {
                Some(dependents) => {
                    dependents.insert(entry, slot);
                }
                None => {
                    self.dependents
                        .insert(r.uid.clone(), BTreeMap::from([(entry, slot)]));
                }
            }
        }
    }

    /// Takes a stored object out of its owners' index; `slot` is its slot in its table (pods
    /// are indexed by slot).
    pub(crate) fn unindex_owners(
        &mut self,
        kind: Kind,
        key: &ObjectKey,
        slot: Option<u32>,
        refs: Option<&[OwnerReference]>,
    ) {
        if kind == Kind::Pod {
            if !self.orphan_pods.is_empty() {
                self.orphan_pods.remove(key);
            }
            for r in refs.into_iter().flatten() {
                if let (Some(slots), Some(slot)) = (self.owned_pods.get_mut(&r.uid), slot) {
                    slots.remove(&slot);
                    if slots.is_empty() {
                        self.owned_pods.remove(&r.uid);
                    }
                }
            }
            return;
        }
        let entry = (kind, key.clone());
        for r in refs.into_iter().flatten() {
            if let Some(set) = self.dependents.get_mut(&r.uid) {
                set.remove(&entry);
                if set.is_empty() {
                    self.dependents.remove(&r.uid);
                }
            }
        }
    }
}

impl Store {
    /// Dependents among the passive kinds of an owner uid, by table key (lower-case kind, key).
    pub fn generic_dependents(
        &self,
        owner_uid: &str,
    ) -> impl Iterator<Item = &(String, ObjectKey)> {
        self.generic_dependents
            .get(owner_uid)
            .into_iter()
            .flat_map(|s| s.iter())
    }

    /// Indexes (`add`) or unindexes a passive object under the owners its metadata names.
    pub(crate) fn index_generic_owners(
        &mut self,
        table_kind: &str,
        key: &ObjectKey,
        value: &serde_json::Value,
        add: bool,
    ) {
        let Some(refs) = value
            .pointer("/metadata/ownerReferences")
            .and_then(|r| r.as_array())
        else {
            return;
        };
        for uid in refs
            .iter()
            .filter_map(|r| r.get("uid").and_then(|u| u.as_str()))
        {
            let entry = (table_kind.to_string(), key.clone());
            if add {
                self.generic_dependents
                    .entry(uid.to_string())
                    .or_default()
                    .insert(entry);
            } else if let Some(set) = self.generic_dependents.get_mut(uid) {
                set.remove(&entry);
                if set.is_empty() {
                    self.generic_dependents.remove(uid);
                }
            }
        }
    }
}

/// The ownerReference with `controller: true`, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    controller_of(meta.owner_references.as_deref())
}

/// The controller among `refs` ([`controller_ref`] of a slice).
pub fn controller_of(refs: Option<&[OwnerReference]>) -> Option<&OwnerReference> {
    refs?.iter().find(|r| r.controller == Some(true))
}

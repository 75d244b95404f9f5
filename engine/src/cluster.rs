//! The simulated cluster: store, virtual clock, event queue and the loop that drives the
//! controllers. See [`Cluster`] for the entry point.
//!
//! # Timing model
//!
//! Time moves only in [`Cluster::run_until`]. At each instant the cluster
//! 1. fires every timer due at that instant, in (time, sequence) order: kubelet transitions and
//!    controller requeues;
//! 2. drains the controller work queues, lower layers first: scheduler, then the ReplicaSet
//!    controller, then the Deployment controller. A controller therefore always sees the
//!    settled state of the layer below it, as a real controller does once its informers have
//!    caught up;
//! 3. repeats 1–2 while timers are due at the same instant, then records observations.
//!
//! Controllers run at zero latency: a change at instant t is reconciled at t. Two pods that
//! become ready at the same instant are both seen by the next Deployment sync (so a 4-replica
//! rollout removes two old pods at once, as upstream does).

use crate::controllers::{deployment, replicaset, scheduler, statefulset};
use crate::events::{EventLog, EventType};
use crate::images::ImageCatalog;
use crate::kubelet::{self, Kubelet, KubeletTimer};
use crate::observe::Observer;
use crate::store::Slot as _;
use crate::store::{GenericObject, Kind, ObjectKey, Resource, Store, controller_ref};
use crate::time::Millis;
use crate::trace::{Trace, Verb};
use k8s_openapi::api::core::v1::Pod;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashSet as HashSet;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

mod gc;
pub use gc::FOREGROUND_DELETION;

/// `workqueue.DefaultControllerRateLimiter()` as a controller's `AddRateLimited` meets it: the
/// larger of the per-item exponential delay and the queue's token bucket (10 per second, burst
/// 100). The per-item delay is always its first step, 5 ms, because a successful sync `Forget`s
/// the key.
///
/// Worked example: a stuck Deployment re-queued at every sync gets 100 syncs 5 ms apart (the
/// burst), then one every 100 ms as tokens come back.
#[derive(Clone, Debug)]
pub(crate) struct QueueRateLimiter {
    /// Tokens × 1000, at most `BURST × 1000`; negative while reservations wait.
    milli_tokens: i64,
    last: Millis,
}

impl QueueRateLimiter {
    const BURST: i64 = 100;
    /// Milli-tokens refilled per millisecond (10 tokens a second).
    const REFILL_PER_MS: i64 = 10;
    const BASE_DELAY: Millis = Millis(5);

    /// `RateLimiter.When`: the delay of one rate-limited add at `now`.
    pub(crate) fn when(&mut self, now: Millis) -> Millis {
        let elapsed = i64::try_from(now.0.saturating_sub(self.last.0)).unwrap_or(i64::MAX);
        self.milli_tokens = self
            .milli_tokens
            .saturating_add(elapsed.saturating_mul(Self::REFILL_PER_MS))
            .min(Self::BURST * 1000);
        self.last = now;
        self.milli_tokens -= 1000;
        let wait = if self.milli_tokens < 0 {
            Millis(
                u64::try_from(-self.milli_tokens)
                    .unwrap_or(0)
                    .div_ceil(Self::REFILL_PER_MS as u64),
            )
        } else {
            Millis::ZERO
        };
        wait.max(Self::BASE_DELAY)
    }
}

impl Default for QueueRateLimiter {
    fn default() -> Self {
        QueueRateLimiter {
            milli_tokens: Self::BURST * 1000,
            last: Millis::ZERO,
        }
    }
}

/// `n` in decimal, written into the end of `buf` (what `n.to_string()` gives, without an
/// allocation).
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).expect("ASCII digits")
}

/// How a new cluster is built.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// Seeds every random choice (uids, pod-name suffixes). Same seed, same trace.
    pub seed: u64,
    /// Worker nodes, named `node-1`, `node-2`, ….
    pub nodes: u32,
    /// Pods each node accepts (`status.allocatable.pods`).
    pub pods_per_node: u32,
    /// Whether to keep the full write trace (costs memory on very large runs).
    pub trace: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            seed: 0,
            nodes: 3,
            pods_per_node: 110,
            trace: true,
        }
    }
}

/// Work for a controller, deduplicated per lane like a client-go work queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    Schedule(ObjectKey),
    SyncReplicaSet(ObjectKey),
    SyncDeployment(ObjectKey),
    /// The EndpointSlices of a Service.
    SyncService(ObjectKey),
    /// A HorizontalPodAutoscaler's reconcile (every [`crate::controllers::hpa::SYNC_PERIOD`]).
    SyncHpa(ObjectKey),
    SyncStatefulSet(ObjectKey),
}

/// Something that happens at a future instant.
#[derive(Clone, Debug)]
pub enum Timer {
    /// A controller's `AddAfter`: the key is queued when the timer fires.
    Requeue(Work),
    Kubelet(KubeletTimer),
    /// metrics-server scrapes every pod (see [`crate::metrics`]).
    MetricsScrape,
}

#[derive(Clone, Debug)]
struct TimerEntry {
    at: Millis,
    seq: u64,
    timer: Timer,
}

impl PartialEq for TimerEntry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for TimerEntry {}
impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for TimerEntry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

#[derive(Clone, Debug, Default)]
struct Lane {
    queue: VecDeque<ObjectKey>,
    queued: HashSet<ObjectKey>,
    /// A key built in place to look up one that is only at hand as two strings.
    probe: ObjectKey,
}

impl Lane {
    fn push(&mut self, key: ObjectKey) {
        if self.queued.insert(key.clone()) {
            self.queue.push_back(key);
        }
    }

    /// [`Lane::push`] of a borrowed key: nothing is copied when the key is already queued.
    fn push_ref(&mut self, key: &ObjectKey) {
        if !self.queued.contains(key) {
            self.push(key.clone());
        }
    }

    /// [`Lane::push`] of the key `namespace/name`, copied only when it is not already queued.
    fn push_named(&mut self, namespace: &str, name: &str) {
        self.probe.set(namespace, name);
        if !self.queued.contains(&self.probe) {
            let key = self.probe.clone();
            self.push(key);
        }
    }
    fn pop(&mut self) -> Option<ObjectKey> {
        let k = self.queue.pop_front()?;
        self.queued.remove(&k);
        Some(k)
    }
}

/// How an object is deleted (`DeleteOptions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Propagation {
    /// The owner goes now; the garbage collector then deletes its dependents.
    #[default]
    Background,
    /// Dependents lose their ownerReference and stay.
    Orphan,
    /// The owner stays, with a deletionTimestamp and the `foregroundDeletion` finalizer,
    /// until its blocking dependents are gone.
    Foreground,
}

/// The in-memory cluster. Pure: no I/O, no wall clock, no threads.
#[derive(Clone, Debug)]
pub struct Cluster {
    now: Millis,
    seq: u64,
    timers: BinaryHeap<Reverse<TimerEntry>>,
    resource_version: u64,
    rng: ChaCha8Rng,
    pub store: Store,
    pub images: ImageCatalog,
    pub events: EventLog,
    pub trace: Trace,
    pub observer: Observer,
    pub(crate) stats: crate::ops::Stats,
    pub(crate) kubelet: Kubelet,
    pub(crate) scheduler: scheduler::SchedulerState,
    schedule_lane: Lane,
    replicaset_lane: Lane,
    /// A key reused for lookups by namespace and name on hot paths.
    scratch_key: ObjectKey,
    deployment_lane: Lane,
    service_lane: Lane,
    hpa_lane: Lane,
    /// The Deployment queue's rate limiter (`enqueueRateLimited`).
    pub(crate) deployment_queue_limiter: QueueRateLimiter,
    /// What the HPA controller remembers per HPA (recommendations, scale events).
    pub(crate) hpa_states: crate::controllers::hpa::controller::HpaStates,
    /// The stand-in for metrics-server and the custom and external metrics APIs.
    pub metrics: crate::metrics::MetricsModel,
    statefulset_lane: Lane,
    pods_per_node: u32,
    /// The last cluster IP handed to a Service.
    pub(crate) next_service_ip: u32,
    /// The Service environment variables per namespace, without and with
    /// `enableServiceLinks`, valid until the next write of a Service (see
    /// [`Cluster::service_env`]).
    service_env_cache: std::collections::BTreeMap<String, [Option<crate::env::ServiceEnv>; 2]>,
    /// How many stored Services have a selector: while none has, pod writes wake no
    /// EndpointSlice sync and the lookup is skipped.
    selecting_services: usize,
    /// Every write with the object's JSON, for watches; `None` (the default) costs nothing.
    change_log: Option<crate::changelog::ChangeLog>,
    /// What the Established CustomResourceDefinitions serve, rebuilt by the REST layer on
    /// every CRD write ([`crate::api::rest::refresh_custom_resources`]).
    pub custom_resources: crate::api::rest::CustomResources,
    /// uids of the owners in a foreground deletion, waiting for their dependents (see `gc`):
    /// while it is empty, a removal looks up no owner.
    waiting_for_dependents: HashSet<String>,
}

impl Cluster {
    pub fn new(config: ClusterConfig) -> Self {
        let mut c = Cluster {
            now: Millis::ZERO,
            seq: 0,
            timers: BinaryHeap::new(),
            resource_version: 1000,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            store: Store::default(),
            images: ImageCatalog::default(),
            events: EventLog::default(),
            trace: Trace::new(config.trace),
            observer: Observer::default(),
            stats: Default::default(),
            kubelet: Kubelet::default(),
            scheduler: scheduler::SchedulerState::default(),
            schedule_lane: Lane::default(),
            replicaset_lane: Lane::default(),
            scratch_key: ObjectKey::default(),
            deployment_lane: Lane::default(),
            service_lane: Lane::default(),
            hpa_lane: Lane::default(),
            deployment_queue_limiter: QueueRateLimiter::default(),
            hpa_states: Default::default(),
            metrics: Default::default(),
            statefulset_lane: Lane::default(),
            pods_per_node: config.pods_per_node,
            next_service_ip: 0,
            service_env_cache: Default::default(),
            custom_resources: Default::default(),
            waiting_for_dependents: HashSet::default(),
            selecting_services: 0,
            change_log: None,
        };
        for i in 1..=config.nodes {
            scheduler::add_node(&mut c, &format!("node-{i}"), config.pods_per_node);
        }
        c.create_master_service();
        c
    }

    /// Recounts the Services that have a selector, after a Service was written or deleted.
    fn count_selecting_services(&mut self) {
        self.selecting_services = self
            .store
            .generic
            .range(("service".to_string(), ObjectKey::default())..)
            .take_while(|((k, _), _)| k == "service")
            .filter(|(_, o)| {
                o.value
                    .pointer("/spec/selector")
                    .and_then(|s| s.as_object())
                    .is_some_and(|s| !s.is_empty())
            })
            .count();
    }

    /// The Service environment variables of a container in namespace `ns` created now, shared
    /// by every container created before the next write of a Service.
    pub(crate) fn service_env(&mut self, ns: &str, links: bool) -> crate::env::ServiceEnv {
        let slot = usize::from(links);
        if let Some(env) = self
            .service_env_cache
            .get(ns)
            .and_then(|e| e[slot].as_ref())
        {
            return env.clone();
        }
        let env = crate::env::service_env(self, ns, links);
        self.service_env_cache.entry(ns.to_string()).or_default()[slot] = Some(env.clone());
        env
    }

    /// The `kubernetes` Service in `default`, which the API server keeps for itself: the first
    /// cluster IP, port 443 (`https`) to the API server's 6443. Every container gets its
    /// environment variables, whatever its `enableServiceLinks`.
    fn create_master_service(&mut self) {
        self.apply_generic(crate::store::GenericObject {
            api_version: "v1".into(),
            kind: "Service".into(),
            value: serde_json::json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                },
            }),
        });
    }

    pub fn now(&self) -> Millis {
        self.now
    }

    pub fn pods_per_node(&self) -> u32 {
        self.pods_per_node
    }

    // ---------------------------------------------------------------- randomness and identity

    /// A UUID-shaped uid drawn from the seeded generator: the 16 bytes in lower-case hex,
    /// grouped 8-4-4-4-12, with the version nibble 4 and the variant bits `10`.
    pub(crate) fn new_uid(&mut self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut b: [u8; 16] = self.rng.random();
        // Version 4 (the high nibble of byte 6) and variant 10xx (the high bits of byte 8).
        b[6] = 0x40 | (b[6] & 0x0f);
        b[8] = 0x80 | ((b[8] & 0x3) << 4) | (b[8] >> 4);
        let mut s = String::with_capacity(36);
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            s.push(HEX[usize::from(byte >> 4)] as char);
            s.push(HEX[usize::from(byte & 0xf)] as char);
        }
        s
    }

    /// `n` characters from the alphabet of `k8s.io/apimachinery/pkg/util/rand.String`
    /// (no vowels, no confusable digits), as in generated pod names.
    pub(crate) fn random_suffix(&mut self, n: usize) -> String {
        const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut s = String::with_capacity(n);
        for _ in 0..n {
            s.push(ALPHANUMS[self.rng.random_range(0..ALPHANUMS.len())] as char);
        }
        s
    }

    /// Starts logging every write with the object's JSON (see [`crate::changelog`]), keeping at
    /// most `capacity` entries. Writes before this call are not in the log.
    pub fn enable_change_log(&mut self, capacity: usize) {
        self.change_log = Some(crate::changelog::ChangeLog::new(
            self.resource_version,
            capacity,
        ));
    }

    /// The change log, when enabled.
    pub fn change_log(&self) -> Option<&crate::changelog::ChangeLog> {
        self.change_log.as_ref()
    }

    /// The change log, to compact it.
    pub fn change_log_mut(&mut self) -> Option<&mut crate::changelog::ChangeLog> {
        self.change_log.as_mut()
    }

    /// The resourceVersion of the latest write (what a List reports).
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Logs the write of the typed object stored under `key` (no-op without a change log).
    #[inline]
    fn log_typed<T: Resource>(&mut self, verb: Verb, key: &ObjectKey) {
        if self.change_log.is_some()
            && let Some(obj) = T::table(&self.store).get(key)
        {
            let value = serde_json::to_value(obj).unwrap_or_default();
            self.log_value(verb, T::KIND.as_str(), key, value);
        }
    }

    fn log_value(&mut self, verb: Verb, kind: &str, key: &ObjectKey, object: serde_json::Value) {
        let rv = self.resource_version;
        if let Some(log) = self.change_log.as_mut() {
            log.push(crate::changelog::Change {
                resource_version: rv,
                verb,
                kind: kind.to_string(),
                key: key.clone(),
                object: std::sync::Arc::new(object),
                previous: None,
            });
        }
    }

    fn next_rv(&mut self) -> String {
        let mut digits = [0u8; 20];
        self.next_rv_in(&mut digits).to_owned()
    }

    /// [`Cluster::next_rv`] written into `digits`, for writes that need no `String` of it.
    fn next_rv_in<'d>(&mut self, digits: &'d mut [u8; 20]) -> &'d str {
        self.stats.writes += 1;
        self.resource_version += 1;
        decimal(self.resource_version, digits)
    }

    // ---------------------------------------------------------------- writes (the API server)

    /// Creates an object, stamping uid, resourceVersion, generation and creationTimestamp.
    /// `metadata.generateName` is honoured when `name` is empty.
    pub fn create<T: Resource>(&mut self, mut obj: T) -> Result<ObjectKey, crate::api::ApiError> {
        {
            let m = obj.meta_mut();
            if m.name.as_deref().unwrap_or("").is_empty() {
                let prefix = m.generate_name.clone().unwrap_or_default();
                if prefix.is_empty() {
                    return Err(crate::api::ApiError::invalid(
                        T::KIND,
                        "",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    ));
                }
                let mut name = String::with_capacity(prefix.len() + 5);
                name.push_str(&prefix);
                name.push_str(&self.random_suffix(5));
                obj.meta_mut().name = Some(name);
            }
        }
        if T::KIND.namespaced() && obj.meta().namespace.is_none() {
            obj.meta_mut().namespace = Some("default".into());
        }
        let key = ObjectKey::of(obj.meta());
        if T::table(&self.store).contains_key(&key) {
            return Err(crate::api::ApiError::already_exists(T::KIND, &key.name));
        }
        let uid = self.new_uid();
        let rv = self.next_rv();
        let now = self.now;
        let m = obj.meta_mut();
        m.uid = Some(uid);
        m.resource_version = Some(rv.clone());
        m.creation_timestamp = Some(now.to_time());
        m.deletion_timestamp = None;
        if T::KIND.has_generation() {
            m.generation = Some(1);
        }
        if T::KIND == Kind::Pod {
            self.stats.pods_created += 1;
        }
        self.trace
            .write(now, Verb::Added, T::KIND.as_str(), &key, &rv);
        let refs = obj.meta().owner_references.clone();
        T::table_mut(&mut self.store).insert(key.clone(), obj);
        self.store.index_owners(T::KIND, &key, refs.as_ref());
        if T::KIND == Kind::Pod {
            self.store.refresh_pod_facts(&key);
        }
        self.log_typed::<T>(Verb::Added, &key);
        self.dispatch(T::KIND, &key, None);
        Ok(key)
    }

    /// Replaces an object (spec, metadata and status). `metadata.generation` is bumped when the
    /// spec changed. Returns `false` (and writes nothing) when the object is unchanged, as the
    /// API server does for a no-op update.
    pub fn update<T: Resource>(&mut self, mut obj: T) -> Result<bool, crate::api::ApiError> {
        let key = ObjectKey::of(obj.meta());
        let Some(old) = T::table(&self.store).get(&key) else {
            return Err(crate::api::ApiError::not_found(T::KIND, &key.name));
        };
        // Identity fields are the server's.
        {
            let (om, m) = (old.meta().clone(), obj.meta_mut());
            m.uid = om.uid;
            m.creation_timestamp = om.creation_timestamp;
            m.generation = om.generation;
            m.resource_version = om.resource_version;
            m.deletion_timestamp = m.deletion_timestamp.take().or(om.deletion_timestamp);
        }
        if &obj == old {
            return Ok(false);
        }
        let spec_changed = !obj.same_spec(old);
        let old_refs = old.meta().owner_references.clone();
        if T::KIND.has_generation() && spec_changed {
            let g = obj.meta().generation.unwrap_or(1);
            obj.meta_mut().generation = Some(g + 1);
        }
        let rv = self.next_rv();
        obj.meta_mut().resource_version = Some(rv.clone());
        let refs_changed = old_refs != obj.meta().owner_references;
        if refs_changed {
            let slot = T::table(&self.store).slot(&key);
            self.store
                .unindex_owners(T::KIND, &key, slot, old_refs.as_deref());
        }
        if gc::finalized(obj.meta(), T::KIND == Kind::Pod) {
            // Upstream's update that removes the last finalizer of an object being deleted
            // deletes it: watchers see DELETED with that last state.
            let refs = obj.meta().owner_references.clone();
            T::table_mut(&mut self.store).insert(key.clone(), obj);
            if refs_changed {
                self.store.index_owners(T::KIND, &key, refs.as_ref());
            }
            self.remove::<T>(&key, Propagation::Background);
            return Ok(true);
        }
        if refs_changed {
            self.store
                .index_owners(T::KIND, &key, obj.meta().owner_references.as_ref());
        }
        self.trace
            .write(self.now, Verb::Modified, T::KIND.as_str(), &key, &rv);
        let old = T::table_mut(&mut self.store).insert(key.clone(), obj);
        if T::KIND == Kind::Pod {
            self.store.refresh_pod_facts(&key);
        }
        self.log_typed::<T>(Verb::Modified, &key);
        self.dispatch(T::KIND, &key, old.as_ref().map(|o| o.meta()));
        Ok(true)
    }

    /// Reads, changes and writes back an object. Returns whether anything changed.
    pub fn modify<T: Resource>(
        &mut self,
        key: &ObjectKey,
        f: impl FnOnce(&mut T),
    ) -> Result<bool, crate::api::ApiError> {
        let Some(mut obj) = T::table(&self.store).get(key).cloned() else {
            return Err(crate::api::ApiError::not_found(T::KIND, &key.name));
        };
        f(&mut obj);
        self.update(obj)
    }

    /// Changes a pod where it lies, without copying it: `f` edits its per-pod fields (its
    /// node, status and deletion fields) and says whether it changed anything. For the hot
    /// paths of the kubelet and the scheduler, which rewrite a pod's status or bind it. The
    /// part of the record shared with the other pods of its shape is neither read nor copied,
    /// and labels and ownerReferences cannot change here, so the owner index and the pod
    /// facts' label set stay right.
    pub(crate) fn modify_pod_in_place(
        &mut self,
        key: &ObjectKey,
        f: impl FnOnce(crate::store::PerPodMut<'_>) -> bool,
    ) -> Result<bool, crate::api::ApiError> {
        let Some(record) = self.store.pods.slot_mut(key) else {
            return Err(crate::api::ApiError::not_found(Kind::Pod, &key.name));
        };
        if !f(record.per_pod_mut()) {
            return Ok(false);
        }
        self.written_in_place::<Pod>(key);
        Ok(true)
    }

    /// What follows a change made where the object lies (by [`Cluster::modify_pod_in_place`], or
    /// by a caller that edited it through the table under the same rules): a new
    /// resourceVersion, the trace, the pod facts and the informers.
    pub(crate) fn written_in_place<T: Resource>(&mut self, key: &ObjectKey) {
        // The new resourceVersion goes into the string the object already holds: the hot
        // in-place writes (status renders, bindings) allocate nothing for it.
        let mut digits = [0u8; 20];
        let rv = self.next_rv_in(&mut digits);
        self.trace
            .write(self.now, Verb::Modified, T::KIND.as_str(), key, rv);
        if let Some(slot) = T::table_mut(&mut self.store).slot_mut(key) {
            crate::store::Slot::set_resource_version(slot, rv);
        }
        if T::KIND == Kind::Pod {
            self.store.refresh_pod_facts_same_labels(key);
        }
        self.log_typed::<T>(Verb::Modified, key);
        self.dispatch(T::KIND, key, None);
    }

    /// Deletes an object with a propagation policy (see the `gc` module). Pods on a node are
    /// deleted gracefully: they get a deletionTimestamp and the kubelet removes them once their
    /// containers have stopped. An object with finalizers gets a deletionTimestamp and stays
    /// until they are removed. Everything else goes at once, and the garbage collector deletes
    /// (or orphans) its dependents at the same instant.
    pub fn delete<T: Resource>(
        &mut self,
        key: &ObjectKey,
        propagation: Propagation,
    ) -> Result<(), crate::api::ApiError> {
        // Read through the slot: a pod record is not put together for this.
        let Some(obj) = T::table(&self.store).slot_ref(key) else {
            return Err(crate::api::ApiError::not_found(T::KIND, &key.name));
        };
        let m = obj.meta_ref();
        let finalizers = m.finalizers.unwrap_or_default();
        if m.deleting {
            let foreground = propagation == Propagation::Foreground
                && T::KIND != Kind::Pod
                && !finalizers.iter().any(|f| f == FOREGROUND_DELETION);
            if foreground {
                self.delete_foreground(&gc::Obj::Typed(T::KIND, key.clone()));
            }
            return Ok(());
        }
        let held = !finalizers.is_empty();
        if propagation == Propagation::Orphan {
            let uid = m.uid.unwrap_or_default().to_owned();
            self.collect_dependents(&uid, Propagation::Orphan);
        }
        if T::KIND == Kind::Pod {
            // A pod's dependents (rare) are collected when it is removed; its graceful
            // deletion is the kubelet's. (Nothing here is copied: a rollout deletes thousands.)
            return kubelet::delete_pod(self, key);
        }
        let o = gc::Obj::Typed(T::KIND, key.clone());
        match propagation {
            Propagation::Foreground => self.delete_foreground(&o),
            _ if held => self.mark_deleting(&o, false),
            p => self.remove::<T>(key, p),
        }
        Ok(())
    }

    /// The end of a pod's graceful deletion (its containers have stopped): the pod goes, unless
    /// finalizers hold it; it then waits, with a grace period of 0, for an update that removes
    /// them.
    pub(crate) fn pod_stopped(&mut self, key: &ObjectKey) {
        let held = self
            .store
            .pods
            .record(key)
            .and_then(|p| p.parts().finalizers)
            .is_some_and(|f| !f.is_empty());
        if !held {
            self.remove::<Pod>(key, Propagation::Background);
            return;
        }
        let now = self.now.to_time();
        let _ = self.modify_pod_in_place(key, |p| {
            p.deletion_timestamp.get_or_insert(now);
            *p.deletion_grace_period_seconds = Some(0);
            true
        });
    }

    /// Removes an object from the store now (the end of a graceful deletion, or a non-graceful
    /// one), then garbage-collects its dependents.
    pub(crate) fn remove<T: Resource>(&mut self, key: &ObjectKey, propagation: Propagation) {
        let slot = T::table(&self.store).slot(key);
        if T::KIND == Kind::Pod
            && let Some(slot) = slot
        {
            self.store.forget_pod_facts(slot);
        }
        // The slot as it was held: a pod record is put together only for the change log.
        let Some(obj) = T::table_mut(&mut self.store).remove(key) else {
            return;
        };
        let m = obj.meta_ref();
        self.store
            .unindex_owners(T::KIND, key, slot, m.owner_references);
        let mut digits = [0u8; 20];
        let rv = self.next_rv_in(&mut digits);
        self.trace
            .write(self.now, Verb::Deleted, T::KIND.as_str(), key, rv);
        if self.change_log.is_some() {
            let mut last = obj.get().clone();
            last.meta_mut().resource_version = Some(rv.to_owned());
            let value = serde_json::to_value(&last).unwrap_or_default();
            self.log_value(Verb::Deleted, T::KIND.as_str(), key, value);
        }
        let uid = m.uid.unwrap_or_default();
        self.dispatch_deleted(T::KIND, key, m);
        // What is left after an orphaning or a foreground deletion goes in the background.
        let p = match propagation {
            Propagation::Orphan => Propagation::Orphan,
            _ => Propagation::Background,
        };
        self.collect_dependents(uid, p);
        self.release_owners(m);
    }

    /// Deletes by kind rather than type.
    pub fn delete_kind(
        &mut self,
        kind: Kind,
        key: &ObjectKey,
        p: Propagation,
    ) -> Result<(), crate::api::ApiError> {
        match kind {
            Kind::Deployment => self.delete::<k8s_openapi::api::apps::v1::Deployment>(key, p),
            Kind::ReplicaSet => self.delete::<k8s_openapi::api::apps::v1::ReplicaSet>(key, p),
            Kind::Pod => self.delete::<Pod>(key, p),
            Kind::Node => self.delete::<k8s_openapi::api::core::v1::Node>(key, p),
            Kind::HorizontalPodAutoscaler => {
                self.delete::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>(key, p)
            }
            Kind::StatefulSet => self.delete::<k8s_openapi::api::apps::v1::StatefulSet>(key, p),
            Kind::ControllerRevision => {
                self.delete::<k8s_openapi::api::apps::v1::ControllerRevision>(key, p)
            }
            Kind::PersistentVolumeClaim => {
                self.delete::<k8s_openapi::api::core::v1::PersistentVolumeClaim>(key, p)
            }
        }
    }

    /// Creates or replaces an object of a passive kind. The deletionTimestamp is the
    /// server's: a replacement keeps the live one, a creation has none.
    pub fn put_generic(&mut self, obj: GenericObject) -> ObjectKey {
        self.write_generic(obj, false)
    }

    /// [`Cluster::put_generic`]; `internal` writes (the garbage collector's) may set the
    /// deletionTimestamp. A write that leaves an object being deleted without finalizers
    /// removes it instead.
    fn write_generic(&mut self, mut obj: GenericObject, internal: bool) -> ObjectKey {
        let meta = obj.value.get("metadata").cloned().unwrap_or_default();
        let key = ObjectKey::new(
            meta.get("namespace")
                .and_then(|v| v.as_str())
                .unwrap_or("default"),
            meta.get("name").and_then(|v| v.as_str()).unwrap_or(""),
        );
        let table_key = (obj.kind.to_ascii_lowercase(), key.clone());
        let existing = self
            .store
            .generic
            .get(&table_key)
            .map(|o| o.value["metadata"].clone());
        let (uid, created, deletion, verb) = match &existing {
            Some(m) => (
                m["uid"].clone(),
                m["creationTimestamp"].clone(),
                m.get("deletionTimestamp").cloned(),
                Verb::Modified,
            ),
            None => (
                serde_json::Value::String(self.new_uid()),
                serde_json::to_value(self.now.to_time()).unwrap_or_default(),
                None,
                Verb::Added,
            ),
        };
        let rv = self.next_rv();
        if let Some(m) = obj
            .value
            .get_mut("metadata")
            .and_then(|m| m.as_object_mut())
        {
            m.insert("namespace".into(), key.namespace.as_str().into());
            m.insert("uid".into(), uid);
            m.insert("creationTimestamp".into(), created);
            m.insert("resourceVersion".into(), rv.clone().into());
            if !internal {
                match deletion {
                    Some(d) => m.insert("deletionTimestamp".into(), d),
                    None => m.remove("deletionTimestamp"),
                };
            }
        }
        if let Some(old) = self.store.generic.get(&table_key).map(|o| o.value.clone()) {
            self.store
                .index_generic_owners(&table_key.0, &key, &old, false);
        }
        self.store
            .index_generic_owners(&table_key.0, &key, &obj.value, true);
        if gc::finalized(&gc::generic_meta(&obj.value), false) {
            // Upstream's update that removes the last finalizer deletes the object.
            self.store.generic.insert(table_key.clone(), obj);
            self.remove_generic(&table_key.0, &key);
            return key;
        }
        self.trace.write(self.now, verb, &obj.kind, &key, &rv);
        if self.change_log.is_some() {
            self.log_value(verb, &obj.kind, &key, obj.value.clone());
        }
        let is_service = table_key.0 == "service";
        self.store.generic.insert(table_key, obj);
        if is_service {
            self.service_env_cache.clear();
            self.count_selecting_services();
            self.enqueue(Work::SyncService(key.clone()));
        }
        key
    }

    /// Deletes an object of a passive kind in the background. Returns whether it existed.
    pub fn delete_generic(&mut self, kind: &str, key: &ObjectKey) -> bool {
        self.delete_generic_with(kind, key, Propagation::Background)
    }

    // ---------------------------------------------------------------- events

    /// Records a Kubernetes Event about an object in the store.
    pub(crate) fn record_event<T: Resource>(
        &mut self,
        obj: &T,
        type_: EventType,
        reason: &'static str,
        message: String,
        source: &'static str,
    ) {
        // The key ObjectKey::of would make, without making it.
        let m = obj.meta();
        let object = self.events.object(
            T::KIND,
            m.namespace.as_deref().unwrap_or("default"),
            m.name.as_deref().unwrap_or_default(),
            m.uid.as_deref().unwrap_or_default(),
        );
        self.record_event_on(object, type_, reason, message, source);
    }

    /// Records an Event about the object stored under `key`, without copying it; returns the
    /// object's identity in the event log (`None`, and no event, when nothing is stored there).
    pub(crate) fn record_event_for<T: Resource>(
        &mut self,
        key: &ObjectKey,
        type_: EventType,
        reason: &'static str,
        message: String,
        source: &'static str,
    ) -> Option<crate::events::ObjectId> {
        let uid = T::table(&self.store)
            .slot_ref(key)
            .map(|o| o.meta_ref().uid.unwrap_or_default())?;
        let object = self.events.object(T::KIND, &key.namespace, &key.name, uid);
        self.record_event_on(object, type_, reason, message, source);
        Some(object)
    }

    /// Records an Event about an object the event log already knows.
    pub(crate) fn record_event_on(
        &mut self,
        object: crate::events::ObjectId,
        type_: EventType,
        reason: &'static str,
        message: String,
        source: &'static str,
    ) {
        self.trace.event(
            self.now,
            self.events.involved(object),
            type_,
            reason,
            &message,
        );
        self.stats.events += 1;
        self.events
            .record(self.now, object, type_, reason, message, source);
    }

    // ---------------------------------------------------------------- informer handlers

    /// Wakes the controllers that watch `kind`, as the informer event handlers do.
    fn dispatch(
        &mut self,
        kind: Kind,
        key: &ObjectKey,
        old: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    ) {
        if kind == Kind::Pod && self.selecting_services > 0 {
            // The EndpointSlice controller watches pods: the Services that select the pod,
            // before and after the write (there are none while no passive object is stored).
            let mut services = crate::controllers::endpointslice::services_selecting(
                self,
                &key.namespace,
                self.store
                    .pods
                    .get(key)
                    .and_then(|p| p.metadata.labels.as_ref()),
            );
            if let Some(old) = old
                && old.labels.as_ref()
                    != self
                        .store
                        .pods
                        .get(key)
                        .and_then(|p| p.metadata.labels.as_ref())
            {
                services.extend(crate::controllers::endpointslice::services_selecting(
                    self,
                    &key.namespace,
                    old.labels.as_ref(),
                ));
            }
            for s in services {
                self.enqueue(Work::SyncService(s));
            }
        }
        match kind {
            Kind::Deployment => self.enqueue(Work::SyncDeployment(key.clone())),
            Kind::ReplicaSet => {
                self.enqueue(Work::SyncReplicaSet(key.clone()));
                let rs = &self.store.replicasets[key];
                match controller_ref(&rs.metadata) {
                    Some(r) if r.kind == "Deployment" => {
                        let d = ObjectKey::new(key.namespace.clone(), r.name.clone());
                        self.observer.replica_set_seen(self.now, &d, rs);
                        self.enqueue(Work::SyncDeployment(d));
                    }
                    Some(_) => {}
                    None => {
                        for d in deployment::deployments_for_replica_set(self, rs) {
                            self.enqueue(Work::SyncDeployment(d));
                        }
                    }
                }
            }
            Kind::Pod => {
                // One lookup of the pod; keys are copied into a lane only when not queued yet.
                let Some(record) = self.store.pods.record(key) else {
                    return;
                };
                let parts = record.parts();
                let needs_node = parts.node_name.is_none() && parts.deletion_timestamp.is_none();
                match crate::store::controller_of(parts.owner_references) {
                    Some(r) if r.kind == "ReplicaSet" => {
                        self.replicaset_lane.push_named(&key.namespace, &r.name);
                    }
                    Some(r) if r.kind == "StatefulSet" => {
                        self.statefulset_lane.push_named(&key.namespace, &r.name);
                    }
                    Some(_) => {}
                    None => {
                        let pod = &self.store.pods[key];
                        let sets = statefulset::stateful_sets_for_pod(self, pod);
                        for rs in replicaset::replica_sets_for_pod(self, pod) {
                            self.enqueue(Work::SyncReplicaSet(rs));
                        }
                        for set in sets {
                            self.enqueue(Work::SyncStatefulSet(set));
                        }
                    }
                }
                if needs_node {
                    self.schedule_lane.push_ref(key);
                }
            }
            Kind::Node => {}
            Kind::HorizontalPodAutoscaler => {
                // `enqueueHPA` adds the key rate-limited: the first sync comes one sync period
                // after creation, and a spec change does not bring the next one forward.
                if self.hpa_states.insert_if_new(key) {
                    self.requeue_after(
                        Work::SyncHpa(key.clone()),
                        crate::controllers::hpa::SYNC_PERIOD,
                    );
                    if self.metrics.start_scraping() {
                        let at = self.metrics.next_scrape_at(self.now);
                        self.schedule(at, Timer::MetricsScrape);
                    }
                }
            }
            Kind::StatefulSet => self.enqueue(Work::SyncStatefulSet(key.clone())),
            Kind::ControllerRevision | Kind::PersistentVolumeClaim => {}
        }
    }

    fn dispatch_deleted(&mut self, kind: Kind, key: &ObjectKey, meta: crate::store::MetaRef<'_>) {
        let controller = crate::store::controller_of(meta.owner_references);
        match kind {
            Kind::Deployment => {}
            Kind::ReplicaSet => {
                if let Some(r) = controller.filter(|r| r.kind == "Deployment") {
                    let d = ObjectKey::new(key.namespace.clone(), r.name.clone());
                    self.observer.replica_set_gone(&d, &key.name);
                    self.enqueue(Work::SyncDeployment(d));
                }
            }
            Kind::Pod => {
                scheduler::pod_removed(self, key);
                let services = if self.selecting_services > 0 {
                    crate::controllers::endpointslice::services_selecting(
                        self,
                        &key.namespace,
                        meta.labels,
                    )
                } else {
                    Vec::new()
                };
                for s in services {
                    self.enqueue(Work::SyncService(s));
                }
                if let Some(r) = controller.filter(|r| r.kind == "StatefulSet") {
                    self.enqueue(Work::SyncStatefulSet(ObjectKey::new(
                        key.namespace.clone(),
                        r.name.clone(),
                    )));
                }
                if let Some(r) = controller.filter(|r| r.kind == "ReplicaSet") {
                    self.replicaset_lane.push_named(&key.namespace, &r.name);
                    // The Deployment controller watches pod deletions for Recreate, which waits
                    // for every old pod to be gone (deployment_controller.go `deletePod`). The
                    // lookups go through one reused key: a rollout removes thousands of pods.
                    let mut k = std::mem::take(&mut self.scratch_key);
                    k.set(&key.namespace, &r.name);
                    let owner = self
                        .store
                        .replicasets
                        .get(&k)
                        .and_then(|rs| controller_ref(&rs.metadata))
                        .filter(|r| r.kind == "Deployment");
                    let recreate = match owner {
                        Some(d) => {
                            k.set(&key.namespace, &d.name);
                            self.store
                                .deployments
                                .get(&k)
                                .is_some_and(deployment::util::is_recreate)
                        }
                        None => false,
                    };
                    if recreate {
                        self.enqueue(Work::SyncDeployment(k.clone()));
                    }
                    self.scratch_key = k;
                }
            }
            Kind::HorizontalPodAutoscaler => {
                // `reconcileKey` drops the recommendations and scale events of a deleted HPA.
                self.hpa_states.remove(key);
            }
            Kind::Node
            | Kind::StatefulSet
            | Kind::ControllerRevision
            | Kind::PersistentVolumeClaim => {}
        }
    }

    pub(crate) fn enqueue(&mut self, work: Work) {
        match work {
            Work::Schedule(k) => self.schedule_lane.push(k),
            Work::SyncReplicaSet(k) => self.replicaset_lane.push(k),
            Work::SyncDeployment(k) => self.deployment_lane.push(k),
            Work::SyncService(k) => self.service_lane.push(k),
            Work::SyncHpa(k) => self.hpa_lane.push(k),
            Work::SyncStatefulSet(k) => self.statefulset_lane.push(k),
        }
    }

    /// Schedules a timer at `at` (not before now).
    pub(crate) fn schedule(&mut self, at: Millis, timer: Timer) {
        self.seq += 1;
        let at = at.max(self.now);
        self.timers.push(Reverse(TimerEntry {
            at,
            seq: self.seq,
            timer,
        }));
    }

    /// A controller's `queue.AddAfter(key, after)`.
    pub(crate) fn requeue_after(&mut self, work: Work, after: Millis) {
        let at = self.now + after;
        self.schedule(at, Timer::Requeue(work));
    }

    // ---------------------------------------------------------------- the loop

    /// The instant of the next pending timer, if any.
    pub fn next_timer_at(&self) -> Option<Millis> {
        self.timers.peek().map(|Reverse(e)| e.at)
    }

    /// Processes everything due at the current instant: due timers and all queued controller
    /// work, until nothing is left at this instant.
    pub fn settle(&mut self) {
        loop {
            while self
                .timers
                .peek()
                .is_some_and(|Reverse(e)| e.at <= self.now)
            {
                let Reverse(entry) = self.timers.pop().expect("peeked");
                match entry.timer {
                    Timer::Requeue(w) => self.enqueue(w),
                    Timer::Kubelet(t) => kubelet::fire(self, t),
                    Timer::MetricsScrape => {
                        crate::metrics::scrape(self);
                        let at = self.metrics.next_scrape_at(self.now);
                        self.schedule(at, Timer::MetricsScrape);
                    }
                }
            }
            self.drain_work();
            if self.timers.peek().is_none_or(|Reverse(e)| e.at > self.now) {
                break;
            }
        }
        crate::observe::record_instant(self);
    }

    fn drain_work(&mut self) {
        loop {
            if let Some(k) = self.schedule_lane.pop() {
                scheduler::schedule_pod(self, &k);
            } else if let Some(k) = self.replicaset_lane.pop() {
                replicaset::sync_replica_set(self, &k);
            } else if let Some(k) = self.deployment_lane.pop() {
                deployment::sync_deployment(self, &k);
            } else if let Some(k) = self.statefulset_lane.pop() {
                statefulset::sync_stateful_set(self, &k);
            } else if let Some(k) = self.service_lane.pop() {
                crate::controllers::endpointslice::sync_service(self, &k);
            } else if let Some(k) = self.hpa_lane.pop() {
                crate::controllers::hpa::controller::sync_hpa(self, &k);
            } else {
                break;
            }
        }
    }

    /// Advances virtual time to `until`, processing every instant on the way, including `until`.
    pub fn run_until(&mut self, until: Millis) {
        self.settle();
        while let Some(at) = self.next_timer_at().filter(|at| *at <= until) {
            self.now = at;
            self.settle();
        }
        if self.now < until {
            self.now = until;
            self.settle();
        }
    }

    /// Advances time instant by instant until `done` holds (checked now, then after each
    /// instant), but not past `limit`. Returns whether `done` held; time stops at the first
    /// instant it does, or at `limit`.
    pub fn run_until_condition(
        &mut self,
        limit: Millis,
        mut done: impl FnMut(&Cluster) -> bool,
    ) -> bool {
        self.settle();
        if done(self) {
            return true;
        }
        while let Some(at) = self.next_timer_at().filter(|at| *at <= limit) {
            self.now = at;
            self.settle();
            if done(self) {
                return true;
            }
        }
        if self.now < limit {
            self.now = limit;
            self.settle();
        }
        done(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The uid writer gives what `format!` with the UUID layout gives for the same bytes.
    #[test]
    fn rate_limited_adds_burst_then_follow_the_bucket() {
        let mut l = QueueRateLimiter::default();
        let t = Millis::from_secs(100);
        // The burst of 100 is spent at 5 ms each.
        for _ in 0..100 {
            assert_eq!(l.when(t), Millis(5));
        }
        // The 101st waits for a token: 100 ms.
        assert_eq!(l.when(t), Millis(100));
        // A second later ten tokens are back, but one reservation is still owed.
        assert_eq!(l.when(t + Millis::from_secs(1)), Millis(5));
    }

    #[test]
    fn decimal_writes_what_to_string_writes() {
        let mut buf = [0u8; 20];
        for n in [0, 1, 9, 10, 99, 100, 1000, 1001, 123_456_789, u64::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string());
        }
    }

    #[test]
    fn uids_are_uuid_shaped_hex_of_the_drawn_bytes() {
        let mut c = Cluster::new(ClusterConfig {
            nodes: 0,
            ..Default::default()
        });
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // The cluster drew one uid already, for the `kubernetes` Service.
        let _: [u8; 16] = rng.random();
        for _ in 0..1000 {
            let b: [u8; 16] = rng.random();
            let expected = format!(
                "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                b[0],
                b[1],
                b[2],
                b[3],
                b[4],
                b[5],
                b[6] & 0xf,
                b[7],
                8 | (b[8] & 0x3),
                b[8] >> 4,
                b[9],
                b[10],
                b[11],
                b[12],
                b[13],
                b[14],
                b[15]
            );
            assert_eq!(c.new_uid(), expected);
        }
    }
}

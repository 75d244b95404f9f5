//! Finalizers and the garbage collector: what the API server's deletion code
//! (`registry/generic/registry/store.go`) and `garbagecollector.go` do, at the instant of the
//! change.
//!
//! - An object with `metadata.finalizers` is not removed by a delete: it gets a
//!   `deletionTimestamp` and stays until an update empties its finalizers (a pod: until its
//!   kubelet has also stopped it).
//! - **Background** (the default): the owner goes, then the collector deletes each dependent
//!   none of whose other owners remains, and strips the gone owner's reference from the rest.
//! - **Orphan**: the dependents lose their reference to the owner first, then the owner goes.
//! - **Foreground**: the owner gets a `deletionTimestamp` and the `foregroundDeletion`
//!   finalizer; the collector deletes its *blocking* dependents (those whose reference has
//!   `blockOwnerDeletion: true`, as every controller sets), in foreground themselves when they
//!   have dependents. When the last blocking dependent is gone the finalizer is removed and the
//!   owner goes; its non-blocking dependents are then collected in the background.
//!
//! Owners and dependents may be of any kind: the typed kinds and the passive ones (ConfigMaps,
//! custom resources, …). An owner is looked up by its reference (kind, name, the dependent's
//! namespace) and must have the referenced uid.

use super::{Cluster, Propagation};
use crate::store::{GenericObject, Kind, ObjectKey, Resource, with_type};
use crate::trace::Verb;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::Value;

/// The finalizer a foreground deletion puts on the owner.
pub const FOREGROUND_DELETION: &str = "foregroundDeletion";

/// An object the collector can reach: a typed one, or a passive one by its table key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Obj {
    Typed(Kind, ObjectKey),
    Generic(String, ObjectKey),
}

/// The typed kind an ownerReference names (its group must match).
fn typed_kind(r: &OwnerReference) -> Option<Kind> {
    let k = Kind::parse(&r.kind)?;
    (k.as_str() == r.kind && k.api_version() == r.api_version).then_some(k)
}

fn has_finalizer(m: &ObjectMeta, f: &str) -> bool {
    m.finalizers
        .as_ref()
        .is_some_and(|fs| fs.iter().any(|x| x == f))
}

/// Whether the object waits for its dependents (a foreground deletion in progress).
fn waiting_for_dependents(m: &ObjectMeta) -> bool {
    m.deletion_timestamp.is_some() && has_finalizer(m, FOREGROUND_DELETION)
}

/// Whether this reference keeps its owner from going in a foreground deletion.
fn blocks(m: &ObjectMeta, owner_uid: &str) -> bool {
    m.owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == owner_uid && r.block_owner_deletion == Some(true))
}

/// The metadata of a passive object's JSON.
pub(crate) fn generic_meta(v: &Value) -> ObjectMeta {
    v.get("metadata")
        .cloned()
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default()
}

/// Whether a write leaves the object to be removed: it is being deleted and nothing holds it
/// (a pod also needs its kubelet to have stopped it, which sets the grace period to 0).
pub(crate) fn finalized(m: &ObjectMeta, pod: bool) -> bool {
    m.deletion_timestamp.is_some()
        && m.finalizers.as_ref().is_none_or(|f| f.is_empty())
        && (!pod || m.deletion_grace_period_seconds == Some(0))
}

impl Cluster {
    /// The metadata of an object, if it exists.
    pub(crate) fn meta_of(&self, o: &Obj) -> Option<ObjectMeta> {
        self.with_meta(o, ObjectMeta::clone)
    }

    /// `f` of the metadata of an object, if it exists; a typed object's is not copied.
    fn with_meta<R>(&self, o: &Obj, f: impl FnOnce(&ObjectMeta) -> R) -> Option<R> {
        match o {
            Obj::Typed(kind, key) => {
                with_type!(*kind, T => T::table(&self.store).get(key).map(|x| f(x.meta())))
            }
            Obj::Generic(kind, key) => self
                .store
                .generic
                .get(&(kind.clone(), key.clone()))
                .map(|g| f(&generic_meta(&g.value))),
        }
    }

    /// Every object with an ownerReference to `uid`, in a stable order.
    fn dependents_of(&self, uid: &str) -> Vec<Obj> {
        let mut out: Vec<Obj> = self
            .store
            .dependents(uid)
            .into_iter()
            .map(|(k, key)| Obj::Typed(k, key))
            .collect();
        out.extend(
            self.store
                .generic_dependents(uid)
                .map(|(k, key)| Obj::Generic(k.clone(), key.clone())),
        );
        out
    }

    /// The owner a reference of an object in `namespace` names, if it exists with that uid.
    fn find_owner(&self, namespace: &str, r: &OwnerReference) -> Option<Obj> {
        let keys = [
            ObjectKey::new(namespace, r.name.as_str()),
            ObjectKey::new("default", r.name.as_str()),
            ObjectKey::new("", r.name.as_str()),
        ];
        let candidates: Vec<Obj> = match typed_kind(r) {
            Some(kind) => keys.into_iter().map(|k| Obj::Typed(kind, k)).collect(),
            None => {
                let group = r.api_version.rsplit_once('/').map(|(g, _)| g);
                let mut tables = Vec::new();
                if let Some(g) = group {
                    tables.push(format!("{}.{g}", r.kind).to_ascii_lowercase());
                }
                tables.push(r.kind.to_ascii_lowercase());
                tables
                    .into_iter()
                    .flat_map(|t| keys.iter().map(move |k| Obj::Generic(t.clone(), k.clone())))
                    .collect()
            }
        };
        candidates.into_iter().find(|o| {
            self.with_meta(o, |m| m.uid.as_deref() == Some(&r.uid))
                .unwrap_or(false)
        })
    }

    /// Whether an owner other than `gone_uid` still holds the dependent: it exists and is not
    /// itself waiting for its dependents to go (upstream's "solid" owners).
    fn has_solid_owner(&self, namespace: &str, m: &ObjectMeta, gone_uid: &str) -> bool {
        m.owner_references
            .iter()
            .flatten()
            .filter(|r| r.uid != gone_uid)
            .any(|r| {
                self.find_owner(namespace, r)
                    .and_then(|o| self.with_meta(&o, |om| !waiting_for_dependents(om)))
                    .unwrap_or(false)
            })
    }

    /// The collector's pass over the dependents of an owner that is going (`Background`,
    /// `Orphan`) or waiting for them (`Foreground`, which touches only blocking ones).
    pub(crate) fn collect_dependents(&mut self, owner_uid: &str, p: Propagation) {
        for d in self.dependents_of(owner_uid) {
            let Some(m) = self.meta_of(&d) else { continue };
            if p == Propagation::Foreground && !blocks(&m, owner_uid) {
                continue;
            }
            let namespace = m.namespace.clone().unwrap_or_default();
            if p == Propagation::Orphan || self.has_solid_owner(&namespace, &m, owner_uid) {
                self.strip_owner_ref(&d, owner_uid);
                continue;
            }
            let uid = m.uid.clone().unwrap_or_default();
            let dp = if p == Propagation::Foreground && !self.dependents_of(&uid).is_empty() {
                Propagation::Foreground
            } else {
                Propagation::Background
            };
            self.delete_obj(&d, dp);
        }
    }

    fn delete_obj(&mut self, o: &Obj, p: Propagation) {
        match o {
            Obj::Typed(kind, key) => {
                let _ = self.delete_kind(*kind, key, p);
            }
            Obj::Generic(kind, key) => {
                self.delete_generic_with(kind, key, p);
            }
        }
    }

    /// Removes the reference to `uid` from a dependent's ownerReferences.
    fn strip_owner_ref(&mut self, o: &Obj, uid: &str) {
        match o {
            Obj::Typed(kind, key) => with_type!(*kind, T => {
                let _ = self.modify::<T>(key, |x| strip(x.meta_mut(), uid));
            }),
            Obj::Generic(kind, key) => self.modify_generic(kind, key, |m| strip(m, uid)),
        }
    }

    /// Changes a passive object's metadata through the write path (resourceVersion, trace,
    /// change log, owner index; removal when that leaves it finalized).
    fn modify_generic(&mut self, kind: &str, key: &ObjectKey, f: impl FnOnce(&mut ObjectMeta)) {
        let Some(obj) = self
            .store
            .generic
            .get(&(kind.to_string(), key.clone()))
            .cloned()
        else {
            return;
        };
        let mut m = generic_meta(&obj.value);
        f(&mut m);
        let mut value = obj.value;
        if let (Ok(mv), Some(o)) = (serde_json::to_value(&m), value.as_object_mut()) {
            o.insert("metadata".into(), mv);
        }
        self.write_generic(GenericObject { value, ..obj }, true);
    }

    /// The start of the deletion of an object something holds (finalizers, or the foreground
    /// policy): it gets its deletionTimestamp, a grace period of 0 and, for a foreground
    /// deletion, the `foregroundDeletion` finalizer.
    pub(crate) fn mark_deleting(&mut self, o: &Obj, foreground: bool) {
        if foreground && let Some(uid) = self.with_meta(o, |m| m.uid.clone()).flatten() {
            self.waiting_for_dependents.insert(uid);
        }
        let now = self.now.to_time();
        let mark = move |m: &mut ObjectMeta| {
            if m.deletion_timestamp.is_none() {
                m.deletion_timestamp = Some(now);
                m.deletion_grace_period_seconds = Some(0);
            }
            if foreground && !has_finalizer(m, FOREGROUND_DELETION) {
                m.finalizers
                    .get_or_insert_with(Vec::new)
                    .push(FOREGROUND_DELETION.to_string());
            }
        };
        match o {
            Obj::Typed(kind, key) => with_type!(*kind, T => {
                let _ = self.modify::<T>(key, |x| mark(x.meta_mut()));
            }),
            Obj::Generic(kind, key) => self.modify_generic(kind, key, mark),
        }
    }

    /// A foreground deletion of `o` (which exists): mark it, collect its blocking dependents,
    /// and let it go at once when none were left.
    pub(crate) fn delete_foreground(&mut self, o: &Obj) {
        self.mark_deleting(o, true);
        let Some(uid) = self.meta_of(o).and_then(|m| m.uid) else {
            return;
        };
        self.collect_dependents(&uid, Propagation::Foreground);
        self.release_if_done(o);
    }

    /// After an object left the store: each owner that waited in a foreground deletion for it,
    /// and has no blocking dependent left, loses its `foregroundDeletion` finalizer (and goes
    /// when that was the last one).
    pub(crate) fn release_owners(&mut self, gone: crate::store::MetaRef<'_>) {
        if self.waiting_for_dependents.is_empty() {
            return;
        }
        if let Some(uid) = gone.uid {
            self.waiting_for_dependents.remove(uid);
        }
        let namespace = gone.namespace.unwrap_or_default().to_owned();
        let waiting: Vec<&OwnerReference> = gone
            .owner_references
            .into_iter()
            .flatten()
            .filter(|r| self.waiting_for_dependents.contains(&r.uid))
            .collect();
        for r in waiting {
            if let Some(owner) = self.find_owner(&namespace, r) {
                self.release_if_done(&owner);
            }
        }
    }

    fn release_if_done(&mut self, o: &Obj) {
        let Some(m) = self.meta_of(o) else { return };
        let uid = m.uid.clone().unwrap_or_default();
        if !waiting_for_dependents(&m) {
            self.waiting_for_dependents.remove(&uid);
            return;
        }
        let blocked = self
            .dependents_of(&uid)
            .iter()
            .any(|d| self.with_meta(d, |dm| blocks(dm, &uid)).unwrap_or(false));
        if blocked {
            return;
        }
        let unfinalize = |m: &mut ObjectMeta| {
            if let Some(fs) = m.finalizers.as_mut() {
                fs.retain(|f| f != FOREGROUND_DELETION);
                if fs.is_empty() {
                    m.finalizers = None;
                }
            }
        };
        match o {
            Obj::Typed(kind, key) => with_type!(*kind, T => {
                let _ = self.modify::<T>(key, |x| unfinalize(x.meta_mut()));
            }),
            Obj::Generic(kind, key) => self.modify_generic(kind, key, unfinalize),
        }
    }

    /// Deletes a passive object with a propagation policy. Returns whether it existed.
    pub fn delete_generic_with(&mut self, kind: &str, key: &ObjectKey, p: Propagation) -> bool {
        let kind = kind.to_ascii_lowercase();
        let o = Obj::Generic(kind.clone(), key.clone());
        let Some(m) = self.meta_of(&o) else {
            return false;
        };
        if m.deletion_timestamp.is_some() {
            if p == Propagation::Foreground && !waiting_for_dependents(&m) {
                self.delete_foreground(&o);
            }
            return true;
        }
        let uid = m.uid.clone().unwrap_or_default();
        match p {
            Propagation::Foreground => self.delete_foreground(&o),
            Propagation::Orphan | Propagation::Background => {
                if p == Propagation::Orphan {
                    self.collect_dependents(&uid, Propagation::Orphan);
                }
                if m.finalizers.as_ref().is_some_and(|f| !f.is_empty()) {
                    self.mark_deleting(&o, false);
                } else {
                    self.remove_generic(&kind, key);
                }
            }
        }
        true
    }

    /// Removes a passive object from the store now, then collects its dependents.
    pub(crate) fn remove_generic(&mut self, kind: &str, key: &ObjectKey) {
        let Some(obj) = self.store.generic.remove(&(kind.to_string(), key.clone())) else {
            return;
        };
        self.store
            .index_generic_owners(kind, key, &obj.value, false);
        let rv = self.next_rv();
        self.trace
            .write(self.now, Verb::Deleted, &obj.kind, key, &rv);
        let meta = generic_meta(&obj.value);
        if self.change_log.is_some() {
            let mut value = obj.value;
            if let Some(m) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                m.insert("resourceVersion".into(), rv.into());
            }
            self.log_value(Verb::Deleted, &obj.kind, key, value);
        }
        if kind == "service" {
            self.service_env_cache.clear();
            self.count_selecting_services();
            self.enqueue(super::Work::SyncService(key.clone()));
        }
        if let Some(uid) = meta.uid.as_deref() {
            self.collect_dependents(uid, Propagation::Background);
        }
        self.release_owners(crate::store::MetaRef::of(&meta));
    }
}

fn strip(m: &mut ObjectMeta, uid: &str) {
    if let Some(refs) = m.owner_references.as_mut() {
        refs.retain(|r| r.uid != uid);
        if refs.is_empty() {
            m.owner_references = None;
        }
    }
}

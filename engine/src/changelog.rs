//! The change log: every write, in resourceVersion order, with the object's JSON as written.
//! It is what an API server's watch cache is to its watchers. See [`ChangeLog`].
//!
//! The log is opt-in ([`crate::Cluster::enable_change_log`]): a cluster without one pays a
//! single branch per write, so the benchmarks' 20,000-pod runs serialize nothing.
//!
//! **Invariant:** once enabled, every write that takes a resourceVersion is logged, so the
//! entries' resourceVersions are strictly increasing and, until the log is compacted, contiguous:
//! a watch from resourceVersion `r >= floor` replays exactly the writes after `r`.

use crate::store::ObjectKey;
use crate::trace::Verb;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

/// One write.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub resource_version: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub verb: Verb,
    /// The object's kind (`Deployment`, `ConfigMap`).
    pub kind: String,
    /// Namespace and name (cluster-scoped objects are stored under `default`, as the store keys
    /// them).
    pub key: ObjectKey,
    /// The object as it was right after the write; for a deletion, the last state with the
    /// deletion's resourceVersion, as upstream's `DELETED` events carry.
    pub object: Arc<serde_json::Value>,
    /// The object before this write, when the log still holds that version (shared with its
    /// entry, not copied): a watch with a selector needs it to turn an object's entering or
    /// leaving the selection into `ADDED` or `DELETED`, as upstream's watch cache does.
    pub previous: Option<Arc<serde_json::Value>>,
}

/// A bounded, ordered log of writes. When full, the oldest entries go and the floor rises: a
/// watch from before the floor is told `410 Gone`.
#[derive(Clone, Debug)]
pub struct ChangeLog {
    entries: VecDeque<Change>,
    capacity: usize,
    /// Every write after this resourceVersion is in the log.
    floor: u64,
    /// The latest logged version of each object that still has an entry.
    latest: FxHashMap<(String, ObjectKey), Arc<serde_json::Value>>,
}

/// A watch asked for changes from a resourceVersion the log no longer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too old resource version: {requested} ({oldest})")]
pub struct TooOld {
    pub requested: u64,
    /// The oldest resourceVersion a watch may still start from, plus one (upstream's message
    /// gives the oldest one it holds).
    pub oldest: u64,
}

impl ChangeLog {
    /// A log that holds at most `capacity` entries (at least one), starting after
    /// resourceVersion `floor`.
    pub fn new(floor: u64, capacity: usize) -> Self {
        ChangeLog {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            floor,
            latest: FxHashMap::default(),
        }
    }

    pub(crate) fn push(&mut self, mut change: Change) {
        debug_assert!(
            self.entries
                .back()
                .is_none_or(|l| l.resource_version < change.resource_version),
            "resourceVersions must increase"
        );
        if self.entries.len() == self.capacity {
            self.pop_front();
        }
        let id = (change.kind.clone(), change.key.clone());
        change.previous = if change.verb == Verb::Deleted {
            self.latest.remove(&id)
        } else {
            self.latest.insert(id, change.object.clone())
        };
        self.entries.push_back(change);
    }

    fn pop_front(&mut self) {
        let Some(old) = self.entries.pop_front() else {
            return;
        };
        self.floor = old.resource_version;
        let id = (old.kind, old.key);
        if self
            .latest
            .get(&id)
            .is_some_and(|l| Arc::ptr_eq(l, &old.object))
        {
            self.latest.remove(&id);
        }
    }

    /// Drops every entry up to and including resourceVersion `upto`, as an etcd compaction does.
    pub fn compact(&mut self, upto: u64) {
        while self
            .entries
            .front()
            .is_some_and(|e| e.resource_version <= upto)
        {
            self.pop_front();
        }
        self.floor = self.floor.max(upto);
    }

    /// The writes after resourceVersion `after`, oldest first.
    ///
    /// # Errors
    ///
    /// [`TooOld`] when some write after `after` has been compacted away.
    pub fn since(&self, after: u64) -> Result<impl Iterator<Item = &Change>, TooOld> {
        if after < self.floor {
            return Err(TooOld {
                requested: after,
                oldest: self.floor + 1,
            });
        }
        let start = self
            .entries
            .partition_point(|e| e.resource_version <= after);
        Ok(self.entries.range(start..))
    }

    /// The oldest resourceVersion a watch may start from.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Change> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(rv: u64) -> Change {
        Change {
            resource_version: rv,
            verb: Verb::Added,
            kind: "ConfigMap".into(),
            key: ObjectKey::new("default", format!("c{rv}")),
            object: Arc::new(serde_json::json!({})),
            previous: None,
        }
    }

    #[test]
    fn since_replays_exactly_the_later_writes_and_refuses_compacted_ones() {
        let mut log = ChangeLog::new(10, 3);
        for rv in 11..=14 {
            log.push(change(rv));
        }
        // Capacity 3: entry 11 went, so the floor is 11.
        assert_eq!(log.floor(), 11);
        let rvs: Vec<u64> = log.since(12).unwrap().map(|c| c.resource_version).collect();
        assert_eq!(rvs, vec![13, 14]);
        let rvs: Vec<u64> = log.since(11).unwrap().map(|c| c.resource_version).collect();
        assert_eq!(rvs, vec![12, 13, 14]);
        assert_eq!(
            log.since(10).err(),
            Some(TooOld {
                requested: 10,
                oldest: 12
            })
        );
        // Each entry after the first of its key points at the version before it.
        let mut again = change(14);
        again.verb = Verb::Modified;
        again.key = ObjectKey::new("default", "c13");
        again.resource_version = 15;
        log.push(again);
        let last = log.iter().last().unwrap();
        assert!(Arc::ptr_eq(
            last.previous.as_ref().unwrap(),
            &log.iter()
                .find(|e| e.resource_version == 13)
                .unwrap()
                .object
        ));
        log.compact(13);
        // Entry 13 went, but entry 15 (c13's latest version) is still held.
        let mut third = change(16);
        third.key = ObjectKey::new("default", "c13");
        log.push(third);
        assert!(
            log.iter().last().unwrap().previous.is_some(),
            "15 is still held"
        );
        assert!(log.since(12).is_err());
        assert_eq!(log.since(13).unwrap().count(), 3);
    }
}

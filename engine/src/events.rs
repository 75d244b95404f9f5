//! The event log: Kubernetes Events with reason, message, involved object and count.
//!
//! Repeats of the same (object, type, reason, message) are folded into one event whose `count`
//! grows, as client-go's event correlator does.

use crate::store::{Kind, ObjectKey};
use crate::time::Millis;
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// The pieces joined into one string of exactly their length: the hot event messages and
/// generated names, built without `format!`'s machinery.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The object an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InvolvedObject {
    pub kind: Kind,
    pub key: ObjectKey,
    pub uid: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Shared by every event about the same object.
    pub involved: Arc<InvolvedObject>,
    pub type_: EventType,
    /// The reasons the engine reports are upstream's constants.
    pub reason: &'static str,
    pub message: String,
    /// The component that reported it: `deployment-controller`, `kubelet`, …
    pub source: &'static str,
    pub count: u32,
    pub first_timestamp: Millis,
    pub last_timestamp: Millis,
}

/// Events per chunk of the log: the log grows chunk by chunk instead of copying every event
/// each time it doubles.
const CHUNK: usize = 4096;

#[derive(Clone, Debug, Default)]
pub struct EventLog {
    chunks: Vec<Vec<Event>>,
    len: usize,
    /// Hash of (involved uid, type, reason, message) → the first event with that hash. Repeats
    /// are found without copying the strings of every event into a key.
    index: HashMap<u64, u32>,
    /// Further events whose hash collided with an earlier, different event.
    collisions: Vec<(u64, u32)>,
    /// uid → the shared identity of the object, for every object with an event.
    objects: HashMap<u64, Vec<Arc<InvolvedObject>>>,
    /// The object of the last event: an object's events tend to come together.
    last: Option<Arc<InvolvedObject>>,
}

impl EventLog {
    /// The shared identity of an object, made on its first event.
    /// The object is `namespace/name`; its key is only copied when it is new here.
    pub(crate) fn involved(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Arc<InvolvedObject> {
        use std::hash::BuildHasher;
        let is = |o: &InvolvedObject| {
            o.uid == uid && o.kind == kind && o.key.namespace == namespace && o.key.name == name
        };
        if let Some(o) = self.last.as_ref().filter(|o| is(o)) {
            return o.clone();
        }
        let h = rustc_hash::FxBuildHasher.hash_one(uid);
        let same = self.objects.entry(h).or_default();
        if let Some(o) = same.iter().find(|o| is(o)) {
            self.last = Some(o.clone());
            return o.clone();
        }
        let o = Arc::new(InvolvedObject {
            kind,
            key: ObjectKey::new(namespace, name),
            uid: uid.to_string(),
        });
        same.push(o.clone());
        self.last = Some(o.clone());
        o
    }

    /// Records an event, or counts a repeat of an identical one (same involved object, type,
    /// reason and message) as the event recorder does.
    pub fn record(
        &mut self,
        now: Millis,
        involved: Arc<InvolvedObject>,
        type_: EventType,
        reason: &'static str,
        message: String,
        source: &'static str,
    ) -> usize {
        use std::hash::BuildHasher;

        let hash = rustc_hash::FxBuildHasher.hash_one((
            involved.uid.as_str(),
            type_,
            reason,
            message.as_str(),
        ));
        let same = |e: &Event| {
            e.involved.uid == involved.uid
                && e.type_ == type_
                && e.reason == reason
                && e.message == message
        };
        let found = match self.index.get(&hash) {
            Some(&i) if same(self.get(i as usize)) => Some(i),
            Some(_) => self
                .collisions
                .iter()
                .find(|(h, i)| *h == hash && same(self.get(*i as usize)))
                .map(|(_, i)| *i),
            None => None,
        };
        if let Some(i) = found {
            let e = &mut self.chunks[i as usize / CHUNK][i as usize % CHUNK];
            e.count += 1;
            e.last_timestamp = now;
            return i as usize;
        }
        let i = self.len;
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room")
            .push(Event {
                involved,
                type_,
                reason,
                message,
                source,
                count: 1,
                first_timestamp: now,
                last_timestamp: now,
            });
        self.len += 1;
        if let std::collections::hash_map::Entry::Vacant(e) = self.index.entry(hash) {
            e.insert(i as u32);
        } else {
            self.collisions.push((hash, i as u32));
        }
        i
    }

    fn get(&self, i: usize) -> &Event {
        &self.chunks[i / CHUNK][i % CHUNK]
    }

    /// How many distinct events there are (repeats are counted in place).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.chunks.iter().flatten()
    }

    /// Events from the `n`-th on (as [`EventLog::len`] counted them), oldest first.
    pub fn since(&self, n: usize) -> impl Iterator<Item = &Event> {
        self.iter().skip(n)
    }

    /// Events about one object, oldest first.
    pub fn about<'a>(
        &'a self,
        kind: Kind,
        key: &'a ObjectKey,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        self.iter()
            .filter(move |e| e.involved.kind == kind && &e.involved.key == key)
    }
}

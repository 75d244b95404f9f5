//! The event log: Kubernetes Events with reason, message, involved object and count.
//!
//! Repeats of the same (object, type, reason, message) are folded into one event whose `count`
//! grows, as client-go's event correlator does.

use crate::store::{Kind, ObjectKey};
use crate::time::Millis;
use rustc_hash::FxHashMap as HashMap;

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
    /// The object it is about: [`EventLog::involved`] names it.
    pub object: ObjectId,
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

/// Items per chunk of a [`Chunked`] list.
const CHUNK: usize = 4096;

/// A list that grows chunk by chunk instead of copying every item each time it doubles: the
/// log of a large rollout holds over 100,000 events.
#[derive(Clone, Debug)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Adds `item`; returns its index.
    fn push(&mut self, item: T) -> usize {
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room")
            .push(item);
        self.len += 1;
        self.len - 1
    }

    fn get(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }

    fn get_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

/// An object with events, and its distinct events.
#[derive(Clone, Debug)]
struct ObjectEvents {
    involved: InvolvedObject,
    /// Its distinct events. Repeats are found among the object's own events, not in an index
    /// of the whole log that would grow, and be copied as it grows, with every event of a
    /// large rollout.
    events: Distinct,
    /// The next object whose uid has the same hash, if any.
    next: Option<u32>,
}

/// An object's distinct events, each as a fingerprint of (type, reason, message) and the
/// event's index in the log.
#[derive(Clone, Debug)]
enum Distinct {
    /// A few (a pod's), in place, scanned.
    Few(u8, [(u32, u32); FEW]),
    /// Many (a ReplicaSet's, one per pod it created), hashed: the first event with each
    /// fingerprint, then the rare later ones whose fingerprint an earlier event has.
    Many {
        first: HashMap<u32, u32>,
        more: Vec<(u32, u32)>,
    },
}

/// How many distinct events an object holds in place before they are hashed: a pod has about
/// five.
const FEW: usize = 6;

impl Distinct {
    /// The first of these events with fingerprint `fp` that `same` accepts.
    fn find(&self, fp: u32, same: impl Fn(u32) -> bool) -> Option<u32> {
        let scan = |list: &[(u32, u32)]| {
            list.iter()
                .find(|&&(f, i)| f == fp && same(i))
                .map(|&(_, i)| i)
        };
        match self {
            Distinct::Few(n, list) => scan(&list[..usize::from(*n)]),
            Distinct::Many { first, more } => match first.get(&fp) {
                Some(&i) if same(i) => Some(i),
                Some(_) => scan(more),
                None => None,
            },
        }
    }

    fn add(&mut self, fp: u32, i: u32) {
        match self {
            Distinct::Few(n, list) if usize::from(*n) < FEW => {
                list[usize::from(*n)] = (fp, i);
                *n += 1;
            }
            Distinct::Few(_, list) => {
                let mut many = Distinct::Many {
                    first: HashMap::default(),
                    more: Vec::new(),
                };
                for (f, j) in *list {
                    many.add(f, j);
                }
                many.add(fp, i);
                *self = many;
            }
            Distinct::Many { first, more } => {
                if let std::collections::hash_map::Entry::Vacant(e) = first.entry(fp) {
                    e.insert(i);
                } else {
                    more.push((fp, i));
                }
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct EventLog {
    events: Chunked<Event>,
    /// Every object with an event, in the order of its first one.
    objects: Chunked<ObjectEvents>,
    /// Hash of the uid → the first object in `objects` with that hash.
    by_uid: HashMap<u64, u32>,
    /// The object of the last event: an object's events tend to come together.
    last: Option<u32>,
}

/// An object with events, as [`EventLog::object`] finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectId(u32);

impl EventLog {
    /// The object `namespace/name` of `kind` with `uid`, added on its first event (only then
    /// are its strings copied).
    pub(crate) fn object(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> ObjectId {
        use std::hash::BuildHasher;
        let is = |o: &InvolvedObject| {
            o.uid == uid && o.kind == kind && o.key.namespace == namespace && o.key.name == name
        };
        if let Some(i) = self.last.filter(|&i| is(&self.obj(i).involved)) {
            return ObjectId(i);
        }
        let h = rustc_hash::FxBuildHasher.hash_one(uid);
        let mut at = self.by_uid.get(&h).copied();
        let mut tail = None;
        while let Some(i) = at {
            let o = self.obj(i);
            if is(&o.involved) {
                self.last = Some(i);
                return ObjectId(i);
            }
            tail = Some(i);
            at = o.next;
        }
        let i = self.objects.push(ObjectEvents {
            involved: InvolvedObject {
                kind,
                key: ObjectKey::new(namespace, name),
                uid: uid.to_string(),
            },
            events: Distinct::Few(0, [(0, 0); FEW]),
            next: None,
        }) as u32;
        match tail {
            Some(t) => self.obj_mut(t).next = Some(i),
            None => {
                self.by_uid.insert(h, i);
            }
        }
        self.last = Some(i);
        ObjectId(i)
    }

    /// The object an event is about.
    pub fn involved(&self, o: ObjectId) -> &InvolvedObject {
        &self.obj(o.0).involved
    }

    /// Records an event about `object`, or counts a repeat of an identical one (same object,
    /// type, reason and message) as the event recorder does.
    pub(crate) fn record(
        &mut self,
        now: Millis,
        object: ObjectId,
        type_: EventType,
        reason: &'static str,
        message: String,
        source: &'static str,
    ) -> usize {
        use std::hash::BuildHasher;
        // The low half of the hash: a fingerprint, checked against the event itself.
        let fp = rustc_hash::FxBuildHasher.hash_one((type_, reason, message.as_str())) as u32;
        let found = self.obj(object.0).events.find(fp, |i| {
            let e = self.get(i as usize);
            e.type_ == type_ && e.reason == reason && e.message == message
        });
        if let Some(i) = found {
            let e = self.events.get_mut(i as usize);
            e.count += 1;
            e.last_timestamp = now;
            return i as usize;
        }
        let i = self.events.push(Event {
            object,
            type_,
            reason,
            message,
            source,
            count: 1,
            first_timestamp: now,
            last_timestamp: now,
        });
        self.obj_mut(object.0).events.add(fp, i as u32);
        i
    }

    fn obj(&self, i: u32) -> &ObjectEvents {
        self.objects.get(i as usize)
    }

    fn obj_mut(&mut self, i: u32) -> &mut ObjectEvents {
        self.objects.get_mut(i as usize)
    }

    fn get(&self, i: usize) -> &Event {
        self.events.get(i)
    }

    /// How many distinct events there are (repeats are counted in place).
    pub fn len(&self) -> usize {
        self.events.len
    }

    pub fn is_empty(&self) -> bool {
        self.events.len == 0
    }

    /// Every event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
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
        self.iter().filter(move |e| {
            let o = self.involved(e.object);
            o.kind == kind && &o.key == key
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_is_counted_in_place_and_only_about_the_same_object() {
        let mut log = EventLog::default();
        let a = log.object(Kind::Pod, "default", "a", "uid-a");
        let b = log.object(Kind::Pod, "default", "b", "uid-b");
        assert_eq!(log.object(Kind::Pod, "default", "a", "uid-a"), a);
        let mut record = |at: u64, o, type_, message: &str| {
            log.record(Millis(at), o, type_, "BackOff", message.into(), "kubelet")
        };
        let first = record(1000, a, EventType::Warning, "Back-off restarting");
        record(2000, b, EventType::Warning, "Back-off restarting");
        record(3000, a, EventType::Normal, "Back-off restarting");
        record(4000, a, EventType::Warning, "another message");
        assert_eq!(
            record(5000, a, EventType::Warning, "Back-off restarting"),
            first
        );
        assert_eq!(log.len(), 4);
        let counted: Vec<_> = log
            .iter()
            .map(|e| {
                (
                    log.involved(e.object).key.name.as_str(),
                    e.count,
                    e.first_timestamp,
                    e.last_timestamp,
                )
            })
            .collect();
        assert_eq!(counted[0], ("a", 2, Millis(1000), Millis(5000)));
        assert!(counted[1..].iter().all(|&(_, count, ..)| count == 1));
        // An object with many events finds its repeats as well.
        let rs = log.object(Kind::ReplicaSet, "default", "web-1", "uid-rs");
        for n in 0..100 {
            log.record(
                Millis(n),
                rs,
                EventType::Normal,
                "SuccessfulCreate",
                format!("Created pod: {n}"),
                "rs",
            );
        }
        let again = log.record(
            Millis(200),
            rs,
            EventType::Normal,
            "SuccessfulCreate",
            "Created pod: 42".into(),
            "rs",
        );
        let e = log.get(again);
        assert_eq!(
            (e.message.as_str(), e.count, e.last_timestamp),
            ("Created pod: 42", 2, Millis(200))
        );
        assert_eq!(log.len(), 104);
        // A pod made again under the same name is another object.
        assert_ne!(log.object(Kind::Pod, "default", "a", "uid-a2"), a);
        assert_eq!(
            log.about(Kind::Pod, &ObjectKey::new("default", "a"))
                .count(),
            3
        );
    }
}

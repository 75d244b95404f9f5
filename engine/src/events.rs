//! The event log: Kubernetes Events with reason, message, involved object and count.
//!
//! Repeats of the same (object, type, reason, message) are folded into one event whose `count`
//! grows, as client-go's event correlator does.

use crate::store::{Kind, ObjectKey};
use crate::time::Millis;
use rustc_hash::FxHashMap as HashMap;

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
    pub involved: InvolvedObject,
    pub type_: EventType,
    pub reason: String,
    pub message: String,
    /// The component that reported it: `deployment-controller`, `kubelet`, …
    pub source: &'static str,
    pub count: u32,
    pub first_timestamp: Millis,
    pub last_timestamp: Millis,
}

#[derive(Debug, Default)]
pub struct EventLog {
    events: Vec<Event>,
    /// Hash of (involved uid, type, reason, message) → the first event with that hash. Repeats
    /// are found without copying the strings of every event into a key.
    index: HashMap<u64, u32>,
    /// Further events whose hash collided with an earlier, different event.
    collisions: Vec<(u64, u32)>,
}

impl EventLog {
    /// Records an event, or counts a repeat of an identical one (same involved object, type,
    /// reason and message) as the event recorder does.
    pub fn record(
        &mut self,
        now: Millis,
        involved: InvolvedObject,
        type_: EventType,
        reason: &str,
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
            Some(&i) if same(&self.events[i as usize]) => Some(i),
            Some(_) => self
                .collisions
                .iter()
                .find(|(h, i)| *h == hash && same(&self.events[*i as usize]))
                .map(|(_, i)| *i),
            None => None,
        };
        if let Some(i) = found {
            let e = &mut self.events[i as usize];
            e.count += 1;
            e.last_timestamp = now;
            return i as usize;
        }
        let i = self.events.len();
        self.events.push(Event {
            involved,
            type_,
            reason: reason.to_string(),
            message,
            source,
            count: 1,
            first_timestamp: now,
            last_timestamp: now,
        });
        if let std::collections::hash_map::Entry::Vacant(e) = self.index.entry(hash) {
            e.insert(i as u32);
        } else {
            self.collisions.push((hash, i as u32));
        }
        i
    }

    pub fn all(&self) -> &[Event] {
        &self.events
    }

    /// Events about one object, oldest first.
    pub fn about<'a>(
        &'a self,
        kind: Kind,
        key: &'a ObjectKey,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        self.events
            .iter()
            .filter(move |e| e.involved.kind == kind && &e.involved.key == key)
    }
}

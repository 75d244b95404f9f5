//! The event log: Kubernetes Events with reason, message, involved object and count.
//!
//! Repeats of the same (object, type, reason, message) are folded into one event whose `count`
//! grows, as client-go's event correlator does.

use crate::store::{Kind, ObjectKey};
use crate::time::Millis;
use std::collections::HashMap;

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
    index: HashMap<(String, EventType, String, String), usize>,
}

impl EventLog {
    /// Records an event and returns its index in the log.
    pub fn record(
        &mut self,
        now: Millis,
        involved: InvolvedObject,
        type_: EventType,
        reason: &str,
        message: String,
        source: &'static str,
    ) -> usize {
        let k = (involved.uid.clone(), type_, reason.to_string(), message.clone());
        if let Some(&i) = self.index.get(&k) {
            let e = &mut self.events[i];
            e.count += 1;
            e.last_timestamp = now;
            return i;
        }
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
        self.index.insert(k, self.events.len() - 1);
        self.events.len() - 1
    }

    pub fn all(&self) -> &[Event] {
        &self.events
    }

    /// Events about one object, oldest first.
    pub fn about<'a>(&'a self, kind: Kind, key: &'a ObjectKey) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.involved.kind == kind && &e.involved.key == key)
    }
}

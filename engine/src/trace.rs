//! The trace: every write and every event, in order, with its virtual time.
//!
//! Two runs with the same inputs and seed produce byte-identical [`Trace::render`] output; the
//! determinism test compares exactly that.

use crate::events::{EventType, InvolvedObject};
use crate::store::ObjectKey;
use crate::time::Millis;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Added,
    Modified,
    Deleted,
}

#[derive(Clone, Debug)]
enum Record {
    Write {
        at: Millis,
        verb: Verb,
        kind: String,
        key: ObjectKey,
        rv: String,
    },
    Event {
        at: Millis,
        kind: &'static str,
        name: String,
        type_: EventType,
        reason: String,
        message: String,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Trace {
    enabled: bool,
    records: Vec<Record>,
}

impl Trace {
    pub fn new(enabled: bool) -> Self {
        Trace {
            enabled,
            records: Vec::new(),
        }
    }

    pub(crate) fn write(&mut self, at: Millis, verb: Verb, kind: &str, key: &ObjectKey, rv: &str) {
        if self.enabled {
            self.records.push(Record::Write {
                at,
                verb,
                kind: kind.to_string(),
                key: key.clone(),
                rv: rv.to_string(),
            });
        }
    }

    pub(crate) fn event(
        &mut self,
        at: Millis,
        obj: &InvolvedObject,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        if self.enabled {
            self.records.push(Record::Event {
                at,
                kind: obj.kind.as_str(),
                name: obj.key.name.to_string(),
                type_,
                reason: reason.to_string(),
                message: message.to_string(),
            });
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// One line per record: `12.000s MODIFIED Deployment default/web rv=1042` or
    /// `12.000s EVENT Normal ScalingReplicaSet Deployment/web: Scaled up replica set …`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for r in &self.records {
            match r {
                Record::Write {
                    at,
                    verb,
                    kind,
                    key,
                    rv,
                } => {
                    let v = match verb {
                        Verb::Added => "ADDED",
                        Verb::Modified => "MODIFIED",
                        Verb::Deleted => "DELETED",
                    };
                    let _ = writeln!(out, "{at} {v} {kind} {key} rv={rv}");
                }
                Record::Event {
                    at,
                    kind,
                    name,
                    type_,
                    reason,
                    message,
                } => {
                    let _ = writeln!(
                        out,
                        "{at} EVENT {} {reason} {kind}/{name}: {message}",
                        type_.as_str()
                    );
                }
            }
        }
        out
    }
}

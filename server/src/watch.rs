//! Watches: a newline-delimited stream of `{"type": …, "object": …}` read from the engine's
//! change log. See [`stream`].
//!
//! Each watcher keeps its own cursor (the last resourceVersion it has passed) and reads the
//! log from there whenever the server publishes a new resourceVersion. Nothing is broadcast, so
//! a slow watcher cannot miss an event, and an event cannot be sent twice: the cursor only
//! moves forward past what was read. A cursor that falls behind the log's floor gets a
//! `410 Gone` `ERROR` event and the stream ends, as upstream's watch cache does.

use crate::state::AppState;
use bytes::Bytes;
use kubespec_engine::api::rest::{self, ResourceInfo, Selectors};
use kubespec_engine::changelog::Change;
use kubespec_engine::trace::Verb;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What a watch request asked for.
#[derive(Clone, Debug)]
pub struct WatchRequest {
    pub resource: ResourceInfo,
    /// `None`: all namespaces.
    pub namespace: Option<String>,
    pub selectors: Selectors,
    /// `resourceVersion`: `None` or `"0"` start with the current objects as `ADDED` events.
    pub resource_version: Option<String>,
    pub timeout: Duration,
    pub bookmarks: bool,
    /// `sendInitialEvents=true`: the current objects, then a bookmark marking their end.
    pub send_initial_events: bool,
    /// Each object as a one-row Table (`kubectl get -w`), as upstream sends them.
    pub table: Option<crate::table::Include>,
}

struct Watch {
    state: AppState,
    req: WatchRequest,
    cursor: u64,
    pending: VecDeque<Bytes>,
    rx: tokio::sync::watch::Receiver<u64>,
    deadline: Instant,
    next_bookmark: Instant,
    finished: bool,
    /// The kind the change log records the resource's objects under
    /// ([`ResourceInfo::store_kind`]).
    store_kind: String,
    /// A custom resource's printer columns, for Table rows.
    columns: Option<Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceColumnDefinition>>,
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn verb_name(v: Verb) -> &'static str {
    match v {
        Verb::Added => "ADDED",
        Verb::Modified => "MODIFIED",
        Verb::Deleted => "DELETED",
    }
}

impl Watch {
    /// The event line of `obj` (a Table row when the client asked for Tables).
    fn event(&self, kind: &str, obj: Value, now: kubespec_engine::Millis) -> Bytes {
        match self.req.table {
            Some(include) => line(
                kind,
                &crate::table::table_of(
                    &self.req.resource,
                    self.columns.as_deref(),
                    &[obj],
                    now,
                    self.cursor,
                    None,
                    include,
                ),
            ),
            None => line(kind, &obj),
        }
    }

    fn bookmark(&self, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": self.cursor.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            "BOOKMARK",
            &json!({
                "kind": self.req.resource.kind,
                "apiVersion": self.req.resource.api_version(),
                "metadata": meta,
            }),
        )
    }

    /// The event type this watch sees for a change, if any. With a selector, an object that
    /// enters the selection is `ADDED` and one that leaves it `DELETED` (upstream's
    /// `watchCacheEvent` handling); an earlier version the log no longer holds counts as not
    /// selected.
    fn event_type(&self, c: &Change) -> Option<&'static str> {
        let r = &self.req.resource;
        let ours = c.kind == self.store_kind
            && (!r.namespaced
                || self
                    .req
                    .namespace
                    .as_deref()
                    .is_none_or(|ns| c.key.namespace == ns));
        if !ours {
            return None;
        }
        let sel = &self.req.selectors;
        if sel.is_empty() {
            return Some(verb_name(c.verb));
        }
        let now = sel.matches(&c.object);
        match c.verb {
            Verb::Added | Verb::Deleted => now.then_some(verb_name(c.verb)),
            Verb::Modified => {
                let before = c.previous.as_deref().is_some_and(|p| sel.matches(p));
                match (before, now) {
                    (true, true) => Some("MODIFIED"),
                    (false, true) => Some("ADDED"),
                    (true, false) => Some("DELETED"),
                    (false, false) => None,
                }
            }
        }
    }

    /// Reads the log past the cursor into `pending`.
    fn catch_up(&mut self) {
        let state = self.state.clone();
        let mut now = kubespec_engine::Millis::ZERO;
        let changes: Result<Vec<(&'static str, Change)>, String> = state.read(|c| {
            now = c.now();
            let Some(log) = c.change_log() else {
                return Ok(Vec::new());
            };
            match log.since(self.cursor) {
                Ok(it) => {
                    let out: Vec<(&'static str, Change)> = it
                        .filter_map(|e| Some((self.event_type(e)?, e.clone())))
                        .collect();
                    self.cursor = c.resource_version();
                    Ok(out)
                }
                Err(e) => Err(e.to_string()),
            }
        });
        match changes {
            Ok(changes) => {
                for (kind, ch) in changes {
                    let obj = rest::render(&self.req.resource, Arc::unwrap_or_clone(ch.object));
                    let l = self.event(kind, obj, now);
                    self.pending.push_back(l);
                }
            }
            Err(message) => {
                let status = rest::Status::new(410, "Expired", message);
                self.pending.push_back(line("ERROR", &status.to_json()));
                self.finished = true;
            }
        }
    }
}

/// Starts a watch: the body of the response, as a stream of event lines.
pub fn stream(
    state: AppState,
    req: WatchRequest,
    bookmark_interval: Duration,
) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let rx = state.subscribe();
    let now = Instant::now();
    let mut w = Watch {
        state: state.clone(),
        cursor: 0,
        pending: VecDeque::new(),
        rx,
        deadline: now + req.timeout,
        next_bookmark: now + bookmark_interval,
        finished: false,
        store_kind: req.resource.store_kind(),
        columns: req
            .table
            .and_then(|_| state.read(|c| crate::table::custom_columns(c, &req.resource))),
        req,
    };
    let rv = w
        .req
        .resource_version
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "0")
        .map(str::parse::<u64>);
    match rv {
        Some(Ok(rv)) if !w.req.send_initial_events => {
            // Resume: exactly the changes after `rv` (never before the future: a version newer
            // than the latest starts from the latest).
            w.cursor = rv.min(state.read(|c| c.resource_version()));
        }
        Some(Err(_)) => {
            let status = rest::Status::bad_request(format!(
                "invalid resource version: {:?}",
                w.req.resource_version.as_deref().unwrap_or_default()
            ));
            w.pending.push_back(line("ERROR", &status.to_json()));
            w.finished = true;
        }
        _ => {
            // The current state as ADDED events, then the changes after it, from one snapshot.
            let (items, rv, now) = state.read(|c| {
                let list = rest::list(
                    c,
                    &w.req.resource,
                    w.req.namespace.as_deref(),
                    &w.req.selectors,
                    None,
                    None,
                );
                (
                    list.map(|l| l.items).unwrap_or_default(),
                    c.resource_version(),
                    c.now(),
                )
            });
            w.cursor = rv;
            for obj in items {
                let l = w.event("ADDED", obj, now);
                w.pending.push_back(l);
            }
            if w.req.send_initial_events {
                let b = w.bookmark(true);
                w.pending.push_back(b);
            }
        }
    }
    futures::stream::unfold(w, move |mut w| async move {
        loop {
            if let Some(b) = w.pending.pop_front() {
                return Some((Ok(b), w));
            }
            if w.finished {
                return None;
            }
            w.rx.borrow_and_update();
            w.catch_up();
            if !w.pending.is_empty() {
                continue;
            }
            tokio::select! {
                changed = w.rx.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep_until(w.deadline) => return None,
                () = tokio::time::sleep_until(w.next_bookmark), if w.req.bookmarks => {
                    let b = w.bookmark(false);
                    w.pending.push_back(b);
                    w.next_bookmark = Instant::now() + bookmark_interval;
                }
            }
        }
    })
}

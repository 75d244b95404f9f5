//! Watch recording: the scenario's Deployments, ReplicaSets, StatefulSets and Pods are watched
//! from the moment its backend exists, and every change is kept, so invariant steps ("during
//! the rollout … never had fewer than 3 available pods") read what happened between polls. See
//! [`Recorder`] for the watches and [`deployment_history`] / [`stateful_set_pod_history`] for
//! the histories built from what they saw.
//!
//! Each change keeps its resourceVersion and the time it arrived. Histories replay changes in
//! resourceVersion order (one stream per kind, merged), and stamp them with a [`Stamps`]:
//! arrival time on a real cluster, or, on a served engine, the virtual instant the engine
//! reported for that resourceVersion.

use crate::{Error, Result};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{ApiResource, DynamicObject, ListParams, WatchEvent, WatchParams};
use kube::{Api, Client};
use kubespec_engine::Millis;
use kubespec_engine::controllers::statefulset::PodHistory;
use kubespec_engine::observe::{DeploymentHistory, Sample, ScaleRecord, TemplateChange};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The kinds a scenario's recorder watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Watched {
    Deployment,
    ReplicaSet,
    StatefulSet,
    Pod,
}

impl Watched {
    pub const ALL: [Watched; 4] = [
        Watched::Deployment,
        Watched::ReplicaSet,
        Watched::StatefulSet,
        Watched::Pod,
    ];

    fn resource(self) -> ApiResource {
        let (group, kind, plural) = match self {
            Watched::Deployment => ("apps", "Deployment", "deployments"),
            Watched::ReplicaSet => ("apps", "ReplicaSet", "replicasets"),
            Watched::StatefulSet => ("apps", "StatefulSet", "statefulsets"),
            Watched::Pod => ("", "Pod", "pods"),
        };
        ApiResource {
            group: group.into(),
            version: "v1".into(),
            api_version: if group.is_empty() {
                "v1".into()
            } else {
                format!("{group}/v1")
            },
            kind: kind.into(),
            plural: plural.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Added,
    Modified,
    Deleted,
}

/// One change a watch saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Arrival order across every watch.
    pub seq: u64,
    pub kind: Watched,
    pub verb: Verb,
    /// The object's resourceVersion, when it is a number (it is on etcd and on kubespec).
    pub rv: Option<u64>,
    /// Wall time since the scenario started, at arrival.
    pub arrived: Duration,
    pub object: Value,
}

#[derive(Default)]
struct Log {
    seen: Vec<Seen>,
    /// Per kind, name → resourceVersion of what the watch last saw: compared with a LIST to
    /// tell when the watches have caught up.
    views: BTreeMap<Watched, BTreeMap<String, String>>,
    /// A watch failure that could not be recovered from, reported at the next read.
    failure: Option<String>,
}

/// The watches of one scenario's namespace, and what they saw. Dropping it stops them.
pub struct Recorder {
    log: Arc<Mutex<Log>>,
    activity: Arc<Notify>,
    client: Client,
    namespace: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Recorder {
    /// Starts watching `namespace`; `start` is the scenario's wall-clock start.
    pub fn start(client: Client, namespace: &str, start: Instant) -> Recorder {
        let log = Arc::new(Mutex::new(Log::default()));
        let activity = Arc::new(Notify::new());
        let tasks = Watched::ALL
            .iter()
            .map(|&kind| {
                let api: Api<DynamicObject> =
                    Api::namespaced_with(client.clone(), namespace, &kind.resource());
                tokio::spawn(watch_loop(api, kind, log.clone(), activity.clone(), start))
            })
            .collect();
        Recorder {
            log,
            activity,
            client,
            namespace: namespace.to_string(),
            tasks,
        }
    }

    /// Resolves at the next change any watch sees.
    pub async fn activity(&self) {
        self.activity.notified().await
    }

    /// Waits until every watch has seen the state a LIST shows now, so a history read next
    /// includes every change made so far.
    ///
    /// # Errors
    ///
    /// A LIST fails, a watch failed for good, or the watches do not catch up within `limit`.
    pub async fn sync(&self, limit: Duration) -> Result<()> {
        let until = Instant::now() + limit;
        for kind in Watched::ALL {
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client.clone(), &self.namespace, &kind.resource());
            // LIST again on every try: on a live cluster objects keep changing.
            loop {
                let list = api
                    .list_metadata(&ListParams::default())
                    .await
                    .map_err(|e| Error::Backend(format!("cannot list {kind:?}s: {e}")))?;
                let want: BTreeMap<String, String> = list
                    .items
                    .iter()
                    .map(|o| {
                        (
                            o.metadata.name.clone().unwrap_or_default(),
                            o.metadata.resource_version.clone().unwrap_or_default(),
                        )
                    })
                    .collect();
                {
                    let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(f) = &log.failure {
                        return Err(Error::Backend(f.clone()));
                    }
                    let view = log.views.get(&kind).cloned().unwrap_or_default();
                    if caught_up(&view, &want) {
                        break;
                    }
                }
                if Instant::now() >= until {
                    return Err(Error::Backend(format!(
                        "the watch of {kind:?}s in namespace {} did not catch up with a list \
                         within {limit:?}",
                        self.namespace
                    )));
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        Ok(())
    }

    /// Every change seen so far, in resourceVersion order (arrival order where a version is
    /// not a number).
    pub fn changes(&self) -> Vec<Seen> {
        let mut seen = self
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .seen
            .clone();
        seen.sort_by_key(|s| (s.rv.unwrap_or(u64::MAX), s.seq));
        seen
    }
}

/// Whether a watch's view is the state a LIST returned: the same objects (a deletion the watch
/// has not delivered yet leaves one too many), each at least at the listed version (numeric
/// versions compare as numbers).
fn caught_up(view: &BTreeMap<String, String>, listed: &BTreeMap<String, String>) -> bool {
    view.len() == listed.len()
        && listed.iter().all(|(name, rv)| match view.get(name) {
            Some(seen) if seen == rv => true,
            Some(seen) => matches!(
                (seen.parse::<u64>(), rv.parse::<u64>()),
                (Ok(a), Ok(b)) if a > b
            ),
            None => false,
        })
}

fn rv_of(v: &Value) -> Option<&str> {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

fn name_of(v: &Value) -> String {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Records one change. `at` is the resourceVersion to order it by when it is not the object's
/// own (a deletion found by a relist happened before the list's version).
fn record(
    log: &Mutex<Log>,
    kind: Watched,
    verb: Verb,
    object: Value,
    start: Instant,
    at: Option<&str>,
) {
    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
    let name = name_of(&object);
    let own = rv_of(&object).map(str::to_string);
    let order = at.map(str::to_string).or_else(|| own.clone());
    let rv = own;
    let view = log.views.entry(kind).or_default();
    match verb {
        Verb::Deleted => {
            view.remove(&name);
        }
        _ => {
            view.insert(name, rv.clone().unwrap_or_default());
        }
    }
    let seq = log.seen.len() as u64;
    log.seen.push(Seen {
        seq,
        kind,
        verb,
        rv: order.and_then(|r| r.parse().ok()),
        arrived: start.elapsed(),
        object,
    });
}

/// LIST, record what differs from the view, WATCH from the list's version; again whenever the
/// stream ends. A `410 Gone` (the server's log moved past us) costs only the intermediate
/// states between the last change seen and the new list.
async fn watch_loop(
    api: Api<DynamicObject>,
    kind: Watched,
    log: Arc<Mutex<Log>>,
    activity: Arc<Notify>,
    start: Instant,
) {
    let mut failures = 0u32;
    loop {
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(e) => {
                failures += 1;
                if failures > 50 {
                    log.lock().unwrap_or_else(|p| p.into_inner()).failure =
                        Some(format!("the watch of {kind:?}s failed: {e}"));
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        {
            let view = log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .views
                .get(&kind)
                .cloned()
                .unwrap_or_default();
            let list_rv = list.metadata.resource_version.clone();
            let list_rv = list_rv.as_deref();
            let mut listed = BTreeMap::new();
            for o in list.items {
                let v = serde_json::to_value(&o).unwrap_or_default();
                let name = name_of(&v);
                let rv = rv_of(&v).unwrap_or_default().to_string();
                match view.get(&name) {
                    Some(seen) if *seen == rv => {}
                    Some(_) => record(&log, kind, Verb::Modified, v, start, None),
                    None => record(&log, kind, Verb::Added, v, start, None),
                }
                listed.insert(name, rv);
            }
            for gone in view.keys().filter(|n| !listed.contains_key(*n)) {
                let v = serde_json::json!({"metadata": {"name": gone}});
                record(&log, kind, Verb::Deleted, v, start, list_rv);
            }
            activity.notify_waiters();
        }
        let mut rv = list.metadata.resource_version.unwrap_or_default();
        loop {
            let stream = match api.watch(&WatchParams::default().timeout(290), &rv).await {
                Ok(s) => s,
                Err(_) => break,
            };
            let mut stream = stream.boxed();
            let mut gone = false;
            loop {
                let ev = match stream.try_next().await {
                    Ok(Some(ev)) => ev,
                    // The server ended the watch (its timeout): watch again from `rv`.
                    Ok(None) => break,
                    // A broken stream may have lost events: relist.
                    Err(_) => {
                        gone = true;
                        break;
                    }
                };
                let (verb, obj) = match ev {
                    WatchEvent::Added(o) => (Verb::Added, o),
                    WatchEvent::Modified(o) => (Verb::Modified, o),
                    WatchEvent::Deleted(o) => (Verb::Deleted, o),
                    WatchEvent::Bookmark(b) => {
                        rv = b.metadata.resource_version;
                        continue;
                    }
                    WatchEvent::Error(_) => {
                        gone = true;
                        break;
                    }
                };
                if let Some(v) = obj.metadata.resource_version.clone() {
                    rv = v;
                }
                let v = serde_json::to_value(&obj).unwrap_or_default();
                record(&log, kind, verb, v, start, None);
                activity.notify_waiters();
            }
            if gone {
                break;
            }
        }
        failures = 0;
    }
}

/// When each change happened, relative to the scenario's start.
#[derive(Clone, Debug, Default)]
pub struct Stamps {
    /// On a served engine: (resourceVersion, virtual time since the start) at instants the
    /// engine reported, ascending. A change with version `v` happened at the first instant
    /// whose version is at least `v`; one past every instant, at `now`.
    pub instants: Vec<(u64, Duration)>,
    pub now: Duration,
    /// A real cluster: stamp by arrival.
    pub by_arrival: bool,
}

impl Stamps {
    pub fn at(&self, s: &Seen) -> Duration {
        if self.by_arrival {
            return s.arrived;
        }
        let Some(rv) = s.rv else {
            return self.now;
        };
        let i = self.instants.partition_point(|(v, _)| *v < rv);
        self.instants.get(i).map_or(self.now, |(_, t)| *t)
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

fn controller_uid(v: &Value) -> Option<&str> {
    v.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))?
        .get("uid")?
        .as_str()
}

fn controller_of<'a>(v: &'a Value, kind: &str) -> Option<&'a str> {
    v.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true) && r["kind"] == kind)?
        .get("name")?
        .as_str()
}

fn ms(d: Duration) -> Millis {
    Millis(d.as_millis() as u64)
}

/// The history of Deployment `name` from the changes seen (in resourceVersion order), as the
/// engine's observer records it (`kubespec_engine::observe`): a template change at creation
/// and at every change of the pod template; a scale record whenever a ReplicaSet it controls
/// changes `spec.replicas`; and a sample of its counts per instant at which they changed.
pub fn deployment_history(changes: &[Seen], name: &str, stamps: &Stamps) -> DeploymentHistory {
    let mut h = DeploymentHistory::default();
    let mut deployment: Option<Deployment> = None;
    // Per ReplicaSet of the Deployment: (spec.replicas as last seen, status replicas, available).
    let mut sets: BTreeMap<String, (i32, i32, i32)> = BTreeMap::new();
    let sample = |d: &Deployment, sets: &BTreeMap<String, (i32, i32, i32)>, at| Sample {
        at,
        pods: sets.values().map(|s| s.1).sum(),
        available: sets.values().map(|s| s.2).sum(),
        desired: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
    };
    for s in changes {
        let at = ms(stamps.at(s));
        match s.kind {
            Watched::Deployment if name_of(&s.object) == name => {
                if s.verb == Verb::Deleted {
                    deployment = None;
                    sets.clear();
                    continue;
                }
                let Some(new) = decode::<Deployment>(&s.object) else {
                    continue;
                };
                let same_uid = deployment
                    .as_ref()
                    .is_some_and(|d| d.metadata.uid == new.metadata.uid);
                if !same_uid {
                    sets.clear();
                    h.template_changes.push(TemplateChange {
                        at,
                        sizes: BTreeMap::new(),
                        scales_before: h.scales.len(),
                        before: None,
                    });
                } else if let Some(old) = &deployment
                    && !crate::deployment_util::equal_ignore_hash(
                        &kubespec_engine::controllers::deployment::util::template(old),
                        &kubespec_engine::controllers::deployment::util::template(&new),
                    )
                {
                    h.template_changes.push(TemplateChange {
                        at,
                        sizes: sets.iter().map(|(n, s)| (n.clone(), s.0)).collect(),
                        scales_before: h.scales.len(),
                        before: Some(sample(old, &sets, at)),
                    });
                }
                deployment = Some(new);
            }
            Watched::ReplicaSet => {
                let Some(d) = &deployment else { continue };
                let rs_name = name_of(&s.object);
                if s.verb == Verb::Deleted {
                    if sets.remove(&rs_name).is_none() {
                        continue;
                    }
                } else {
                    let ours = controller_uid(&s.object).is_some()
                        && controller_uid(&s.object) == d.metadata.uid.as_deref();
                    let Some(rs) = decode::<ReplicaSet>(&s.object).filter(|_| ours) else {
                        // Released by the Deployment: no longer counted.
                        if sets.remove(&rs_name).is_none() {
                            continue;
                        }
                        push_sample(&mut h, sample(d, &sets, at));
                        continue;
                    };
                    let to = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                    let status = rs.status.as_ref();
                    let pods = status.map_or(0, |s| s.replicas);
                    let available = status.and_then(|s| s.available_replicas).unwrap_or(0);
                    let from = sets.get(&rs_name).map(|s| s.0);
                    if from != Some(to) && (from.is_some() || to != 0) {
                        h.scales.push(ScaleRecord {
                            at,
                            replica_set: rs_name.clone(),
                            from: from.unwrap_or(0),
                            to,
                        });
                    }
                    sets.insert(rs_name, (to, pods, available));
                }
            }
            _ => continue,
        }
        if let Some(d) = &deployment {
            push_sample(&mut h, sample(d, &sets, at));
        }
    }
    h
}

/// `record_instant`'s rule: a sample only when the counts change, the last one of an instant
/// standing for that instant.
fn push_sample(h: &mut DeploymentHistory, s: Sample) {
    match h.samples.last_mut() {
        Some(last)
            if last.pods == s.pods
                && last.available == s.available
                && last.desired == s.desired => {}
        Some(last) if last.at == s.at => *last = s,
        _ => h.samples.push(s),
    }
}

/// `spec.replicas` of a workload at each change, starting with its value at creation.
pub fn replicas_history(
    changes: &[Seen],
    kind: Watched,
    name: &str,
    stamps: &Stamps,
) -> Vec<(Duration, i32)> {
    let mut out: Vec<(Duration, i32)> = Vec::new();
    for s in changes
        .iter()
        .filter(|s| s.kind == kind && s.verb != Verb::Deleted && name_of(&s.object) == name)
    {
        let replicas = s
            .object
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1) as i32;
        if out.last().is_none_or(|(_, r)| *r != replicas) {
            out.push((stamps.at(s), replicas));
        }
    }
    out
}

/// The pods StatefulSet `name` created and deleted, in order: a pod is created when it first
/// appears already controlled by the set (a pod the set adopts later was not created by it),
/// and deleted when its deletion starts (or when it goes, if that was not seen).
pub fn stateful_set_pod_history(changes: &[Seen], name: &str, stamps: &Stamps) -> PodHistory {
    let mut h = PodHistory::default();
    let mut terminating: BTreeMap<String, bool> = BTreeMap::new();
    for s in changes.iter().filter(|s| s.kind == Watched::Pod) {
        let pod = name_of(&s.object);
        let at = ms(stamps.at(s));
        match s.verb {
            Verb::Added | Verb::Modified => {
                if controller_of(&s.object, "StatefulSet") != Some(name) {
                    continue;
                }
                let deleting = s.object.pointer("/metadata/deletionTimestamp").is_some();
                match terminating.get(&pod).copied() {
                    // Adopted: the set did not create it, but may delete it.
                    None if s.verb == Verb::Modified && deleting => {
                        h.deleted.push((at, pod.clone()))
                    }
                    None if s.verb == Verb::Modified => {}
                    None => {
                        h.created.push((at, pod.clone()));
                        if deleting {
                            h.deleted.push((at, pod.clone()));
                        }
                    }
                    Some(false) if deleting => h.deleted.push((at, pod.clone())),
                    _ => {}
                }
                terminating.insert(pod, deleting);
            }
            Verb::Deleted => {
                if terminating.remove(&pod) == Some(false) {
                    h.deleted.push((at, pod));
                }
            }
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seen(seq: u64, kind: Watched, verb: Verb, rv: u64, object: Value) -> Seen {
        let mut object = object;
        object["metadata"]["resourceVersion"] = rv.to_string().into();
        Seen {
            seq,
            kind,
            verb,
            rv: Some(rv),
            arrived: Duration::from_millis(rv),
            object,
        }
    }

    fn deployment(image: &str, replicas: i32) -> Value {
        json!({"metadata": {"name": "web", "uid": "d1"},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "c", "image": image}]}}}})
    }

    fn rs(name: &str, spec: i32, ready: i32) -> Value {
        json!({"metadata": {"name": name, "uid": format!("u-{name}"),
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": "web", "uid": "d1", "controller": true}]},
               "spec": {"replicas": spec, "selector": {"matchLabels": {"app": "web"}}},
               "status": {"replicas": spec, "availableReplicas": ready}})
    }

    #[test]
    fn a_rollout_is_replayed_in_resource_version_order_and_stamped_by_instant() {
        // Arrival order mixes the two streams; versions give the real order.
        let changes = vec![
            seen(0, Watched::ReplicaSet, Verb::Added, 2, rs("web-1", 2, 0)),
            seen(1, Watched::Deployment, Verb::Added, 1, deployment("v1", 2)),
            seen(2, Watched::ReplicaSet, Verb::Modified, 3, rs("web-1", 2, 2)),
            seen(
                3,
                Watched::Deployment,
                Verb::Modified,
                4,
                deployment("v2", 2),
            ),
            seen(4, Watched::ReplicaSet, Verb::Added, 5, rs("web-2", 1, 0)),
            seen(5, Watched::ReplicaSet, Verb::Modified, 6, rs("web-2", 1, 1)),
            seen(6, Watched::ReplicaSet, Verb::Modified, 7, rs("web-1", 1, 1)),
        ];
        let mut sorted = changes.clone();
        sorted.sort_by_key(|s| (s.rv, s.seq));
        let stamps = Stamps {
            instants: vec![(3, Duration::from_secs(1)), (5, Duration::from_secs(2))],
            now: Duration::from_secs(3),
            by_arrival: false,
        };
        let h = deployment_history(&sorted, "web", &stamps);
        assert_eq!(h.template_changes.len(), 2);
        let change = &h.template_changes[1];
        assert_eq!(change.at, Millis(2000));
        assert_eq!(change.sizes, BTreeMap::from([("web-1".to_string(), 2)]));
        assert_eq!(change.before.as_ref().map(|s| s.available), Some(2));
        let scales: Vec<(u64, &str, i32, i32)> = h
            .scales
            .iter()
            .map(|s| (s.at.0, s.replica_set.as_str(), s.from, s.to))
            .collect();
        assert_eq!(
            scales,
            vec![
                (1000, "web-1", 0, 2),
                (2000, "web-2", 0, 1),
                (3000, "web-1", 2, 1)
            ]
        );
        // Samples: one per instant at which the counts changed, the last state of it.
        let samples: Vec<(u64, i32, i32)> = h
            .samples
            .iter()
            .map(|s| (s.at.0, s.pods, s.available))
            .collect();
        assert_eq!(samples, vec![(1000, 2, 2), (2000, 3, 2), (3000, 2, 2)]);
        let rows = crate::observe::scaling_rows(&h, "web-2");
        let rows: Vec<(i32, i32)> = rows.iter().map(|r| (r.old, r.new)).collect();
        assert_eq!(rows, vec![(2, 0), (2, 1), (1, 1)]);
    }

    #[test]
    fn stamps_by_version_or_by_arrival() {
        let s = seen(
            0,
            Watched::Pod,
            Verb::Added,
            7,
            json!({"metadata": {"name": "p"}}),
        );
        let stamps = Stamps {
            instants: vec![(5, Duration::from_secs(1)), (9, Duration::from_secs(2))],
            now: Duration::from_secs(4),
            by_arrival: false,
        };
        assert_eq!(stamps.at(&s), Duration::from_secs(2));
        let late = seen(
            1,
            Watched::Pod,
            Verb::Added,
            10,
            json!({"metadata": {"name": "p"}}),
        );
        assert_eq!(stamps.at(&late), Duration::from_secs(4));
        let arrival = Stamps {
            by_arrival: true,
            ..stamps
        };
        assert_eq!(arrival.at(&s), Duration::from_millis(7));
    }

    #[test]
    fn a_view_has_caught_up_when_it_holds_every_listed_version() {
        let listed = BTreeMap::from([("a".to_string(), "5".to_string())]);
        assert!(!caught_up(&BTreeMap::new(), &listed));
        let behind = BTreeMap::from([("a".to_string(), "4".to_string())]);
        assert!(!caught_up(&behind, &listed));
        let ahead = BTreeMap::from([("a".to_string(), "6".to_string())]);
        assert!(caught_up(&ahead, &listed));
        assert!(caught_up(&listed, &listed));
        // A deletion not delivered yet: the view has one object too many.
        let stale = BTreeMap::from([
            ("a".to_string(), "5".to_string()),
            ("b".to_string(), "3".to_string()),
        ]);
        assert!(!caught_up(&stale, &listed));
    }

    #[test]
    fn stateful_set_pods_created_and_deleted_in_order() {
        let pod = |name: &str, deleting: bool| {
            let mut v = json!({"metadata": {"name": name, "ownerReferences": [
                {"kind": "StatefulSet", "name": "db", "uid": "s", "controller": true}]}});
            if deleting {
                v["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z".into();
            }
            v
        };
        let changes = vec![
            seen(0, Watched::Pod, Verb::Added, 1, pod("db-0", false)),
            seen(1, Watched::Pod, Verb::Added, 2, pod("db-1", false)),
            seen(2, Watched::Pod, Verb::Modified, 3, pod("db-1", true)),
            seen(3, Watched::Pod, Verb::Deleted, 4, pod("db-1", true)),
            seen(4, Watched::Pod, Verb::Deleted, 5, pod("db-0", false)),
        ];
        let h = stateful_set_pod_history(&changes, "db", &Stamps::default());
        let names = |v: &[(Millis, String)]| v.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&h.created), ["db-0", "db-1"]);
        assert_eq!(names(&h.deleted), ["db-1", "db-0"]);
    }
}

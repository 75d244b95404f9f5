//! The metrics model: what metrics-server and the custom and external metrics APIs would
//! report, from loads the spec writer sets. See [`MetricsModel`] and [`scrape`].
//!
//! # The model
//!
//! - A **load** is a total CPU or memory demand on a workload (a Deployment, ReplicaSet or
//!   StatefulSet), spread evenly over its pods that are Running and Ready, so scaling up lowers
//!   each pod's usage and the HPA converges as it does on a real cluster. The total may follow
//!   a shape over time (a table of instants and values). Pods that run but are not Ready use
//!   nothing.
//! - A **fixed per-pod usage** sets every Running pod of a workload to one value instead.
//! - **Custom metrics**: a per-pod value for every pod of a workload (the `Pods` metric type),
//!   a value described by an object (`Object`), and named external series (`External`).
//!
//! # metrics-server
//!
//! metrics-server scrapes every [`RESOLUTION`] (its `--metric-resolution`, 15 s), at whole
//! multiples of it on the virtual clock. CPU usage is a rate between two scrapes, so a pod has
//! a sample only once all its app containers were already running at the previous scrape; the
//! sample's timestamp is the scrape and its window the resolution. A pod's usage is split over
//! its app containers in proportion to their requests (all on the first when none has one), so
//! ContainerResource metrics see a per-container value and the pod sum is the pod's usage.
//!
//! Scraping starts with the first HorizontalPodAutoscaler: nothing reads samples before, and a
//! cluster without HPAs keeps no timer for it. Because the two-scrape rule only looks at when
//! containers started, a pod that ran long before the first scrape has a sample at once, as it
//! would with a metrics-server that had always been running.

use crate::Cluster;
use crate::store::ObjectKey;
use crate::time::Millis;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;

/// metrics-server's `--metric-resolution`.
pub const RESOLUTION: Millis = Millis::from_secs(15);

/// The resource a load is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Cpu = 0,
    Memory = 1,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }

    pub fn parse(name: &str) -> Option<Resource> {
        match name {
            "cpu" => Some(Resource::Cpu),
            "memory" => Some(Resource::Memory),
            _ => None,
        }
    }
}

/// A workload a load or a metric is attached to: `Deployment`, `ReplicaSet` or `StatefulSet`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Workload {
    pub kind: String,
    pub key: ObjectKey,
}

impl Workload {
    pub fn new(kind: &str, key: ObjectKey) -> Self {
        Workload {
            kind: kind.to_string(),
            key,
        }
    }
}

/// A value that may change over time: `(instant, value)` points, sorted by instant. Before the
/// first point the value is 0. Between points it holds (a step function) or, for a ramp, moves
/// linearly to the next point's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub points: Vec<(Millis, i64)>,
    pub interpolate: bool,
}

impl Shape {
    /// A value that is `v` from `at` on.
    pub fn constant(at: Millis, v: i64) -> Self {
        Shape {
            points: vec![(at, v)],
            interpolate: false,
        }
    }

    /// The value at `t`. Worked example (ramp): points (0 s, 200m), (60 s, 800m) give 500m at
    /// 30 s; a step shape gives 200m there.
    pub fn at(&self, t: Millis) -> i64 {
        let i = self.points.partition_point(|(at, _)| *at <= t);
        if i == 0 {
            return 0;
        }
        let (t0, v0) = self.points[i - 1];
        match self.points.get(i) {
            Some(&(t1, v1)) if self.interpolate && t1 > t0 => {
                let span = i128::from(t1.0 - t0.0);
                let done = i128::from(t.0 - t0.0);
                let v = i128::from(v0) + (i128::from(v1) - i128::from(v0)) * done / span;
                i64::try_from(v).unwrap_or(v0)
            }
            _ => v0,
        }
    }
}

/// One container's usage in one sample, in milli-units (millicores, milli-bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerUsage {
    pub name: String,
    pub cpu: i64,
    pub memory: i64,
}

/// One pod's sample from the last scrape that saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSample {
    pub timestamp: Millis,
    pub window: Millis,
    pub containers: Vec<ContainerUsage>,
}

impl PodSample {
    /// The pod's usage of `resource`, or one container's.
    pub fn usage(&self, resource: Resource, container: Option<&str>) -> Option<i64> {
        let of = |c: &ContainerUsage| match resource {
            Resource::Cpu => c.cpu,
            Resource::Memory => c.memory,
        };
        match container {
            Some(name) => self.containers.iter().find(|c| c.name == name).map(of),
            None => Some(self.containers.iter().map(of).sum()),
        }
    }
}

/// Everything the spec writer set, and the samples of the last scrape.
#[derive(Clone, Debug, Default)]
pub struct MetricsModel {
    scraping: bool,
    /// Total demand per workload and resource, spread over its ready pods.
    pub loads: BTreeMap<(Workload, Resource), Shape>,
    /// Fixed usage of every pod of a workload.
    pub per_pod: BTreeMap<(Workload, Resource), i64>,
    /// `Pods` metrics: a value (milli-units) for every pod of a workload.
    pub pod_metrics: BTreeMap<(Workload, String), i64>,
    /// `Object` metrics: (lower-case kind, object, metric name) → value in milli-units.
    pub object_metrics: BTreeMap<(String, ObjectKey, String), i64>,
    /// `External` metrics: name → the value of its single series, in milli-units.
    pub external: BTreeMap<String, i64>,
    /// The last sample of each pod metrics-server has one for.
    pub samples: HashMap<ObjectKey, PodSample>,
    /// Scrapes done (for `kubespec bench`).
    pub scrapes: u64,
}

impl MetricsModel {
    /// Turns scraping on (idempotent). Returns whether it was off.
    pub(crate) fn start_scraping(&mut self) -> bool {
        !std::mem::replace(&mut self.scraping, true)
    }

    /// The next scrape instant strictly after `now`.
    pub(crate) fn next_scrape_at(&self, now: Millis) -> Millis {
        let r = RESOLUTION.0;
        Millis((now.0 / r + 1) * r)
    }

    pub fn is_scraping(&self) -> bool {
        self.scraping
    }
}

/// The label selector of a workload, if it exists.
pub fn workload_selector(c: &Cluster, w: &Workload) -> Option<LabelSelector> {
    match w.kind.as_str() {
        "Deployment" => c
            .store
            .deployments
            .get(&w.key)
            .and_then(|d| d.spec.as_ref())
            .map(|s| s.selector.clone()),
        "ReplicaSet" => c
            .store
            .replicasets
            .get(&w.key)
            .and_then(|d| d.spec.as_ref())
            .map(|s| s.selector.clone()),
        "StatefulSet" => c
            .store
            .statefulsets
            .get(&w.key)
            .and_then(|d| d.spec.as_ref())
            .map(|s| s.selector.clone()),
        _ => None,
    }
}

fn is_running(p: &Pod) -> bool {
    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        && p.metadata.deletion_timestamp.is_none()
}

/// Whether every app container of `p` was running at `since`: the pod has two CPU readings.
fn running_since(p: &Pod, since: Millis) -> bool {
    let Some(statuses) = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
    else {
        return false;
    };
    let app = p.spec.as_ref().map_or(0, |s| s.containers.len());
    app > 0
        && statuses.len() >= app
        && statuses.iter().all(|cs| {
            cs.state
                .as_ref()
                .and_then(|s| s.running.as_ref())
                .and_then(|r| r.started_at.as_ref())
                .is_some_and(|t| Millis::from_time(t) <= since)
        })
}

/// `count` shares of `total` that add up to it exactly: the first `total % count` get one
/// milli-unit more. Worked example: 1000m over 3 pods is 334m, 333m, 333m.
fn shares(total: i64, count: usize) -> impl Iterator<Item = i64> {
    let n = i64::try_from(count.max(1)).unwrap_or(i64::MAX);
    let (each, extra) = (total / n, total % n);
    (0..n).map(move |i| each + i64::from(i < extra))
}

/// The request of `resource` of each app container, in milli-units (0 when unset).
fn container_requests(p: &Pod, resource: Resource) -> Vec<(String, i64)> {
    p.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .map(|c| {
            let req = c
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get(resource.as_str()))
                .and_then(|q| crate::quantity::milli_value(&q.0).ok())
                .unwrap_or(0);
            (c.name.clone(), req)
        })
        .collect()
}

/// Splits a pod's usage over its app containers in proportion to their requests.
fn split(usage: i64, requests: &[(String, i64)]) -> Vec<i64> {
    let total: i128 = requests.iter().map(|(_, r)| i128::from(*r)).sum();
    let mut out: Vec<i64> = if total == 0 {
        requests
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { usage } else { 0 })
            .collect()
    } else {
        requests
            .iter()
            .map(|(_, r)| i64::try_from(i128::from(usage) * i128::from(*r) / total).unwrap_or(0))
            .collect()
    };
    let given: i64 = out.iter().sum();
    if let Some(first) = out.first_mut() {
        *first += usage - given;
    }
    out
}

/// One metrics-server scrape at the current instant: every Running pod with two readings gets
/// a sample; the others lose theirs.
pub(crate) fn scrape(c: &mut Cluster) {
    let now = c.now();
    let since = now.saturating_sub(RESOLUTION);
    // Usage per pod and resource, from the loads and fixed usages.
    // Usage per pod: [cpu, memory].
    let mut usage: BTreeMap<ObjectKey, [i64; 2]> = BTreeMap::new();
    for ((w, resource), shape) in &c.metrics.loads {
        let Some(selector) = workload_selector(c, w) else {
            continue;
        };
        let ready: Vec<ObjectKey> = c
            .store
            .pods_selected(&w.key.namespace, &selector)
            .into_iter()
            .filter(|(_, p)| is_running(p) && crate::controllers::replicaset::is_pod_ready(p))
            .map(|(k, _)| k)
            .collect();
        let n = ready.len();
        for (k, share) in ready.into_iter().zip(shares(shape.at(now), n)) {
            usage.entry(k).or_default()[*resource as usize] += share;
        }
    }
    for ((w, resource), each) in &c.metrics.per_pod {
        let Some(selector) = workload_selector(c, w) else {
            continue;
        };
        for (k, p) in c.store.pods_selected(&w.key.namespace, &selector) {
            if is_running(p) {
                usage.entry(k).or_default()[*resource as usize] = *each;
            }
        }
    }
    let mut samples = HashMap::default();
    for (k, p) in c.store.pods.iter() {
        if !is_running(p) || !running_since(p, since) {
            continue;
        }
        let [cpu, memory] = usage.get(&k).copied().unwrap_or_default();
        let cpu_split = split(cpu, &container_requests(p, Resource::Cpu));
        let mem_split = split(memory, &container_requests(p, Resource::Memory));
        let containers = p
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .enumerate()
            .map(|(i, ct)| ContainerUsage {
                name: ct.name.clone(),
                cpu: cpu_split.get(i).copied().unwrap_or(0),
                memory: mem_split.get(i).copied().unwrap_or(0),
            })
            .collect();
        samples.insert(
            k.clone(),
            PodSample {
                timestamp: now,
                window: RESOLUTION,
                containers,
            },
        );
    }
    c.metrics.samples = samples;
    c.metrics.scrapes += 1;
}

/// One change to what the metrics APIs report, as a step states it (milli-units). Serialisable,
/// so a served engine takes it over the wire (`POST /kubespec/v1/metrics`) and applies it as
/// the in-memory backend does, through [`Cluster::set_metric`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", tag = "change")]
pub enum Change {
    /// A total demand on a workload; `points` are (ms from now, total).
    Load {
        kind: String,
        name: String,
        resource: String,
        points: Vec<(u64, i64)>,
        ramp: bool,
    },
    PodUsage {
        kind: String,
        name: String,
        resource: String,
        each: i64,
    },
    PodsMetric {
        kind: String,
        name: String,
        metric: String,
        value: i64,
    },
    ObjectMetric {
        kind: String,
        name: String,
        metric: String,
        value: i64,
    },
    External {
        metric: String,
        value: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        assert_eq!(shares(1000, 3).collect::<Vec<_>>(), vec![334, 333, 333]);
        assert_eq!(shares(0, 2).collect::<Vec<_>>(), vec![0, 0]);
        assert_eq!(shares(7, 7).sum::<i64>(), 7);
    }

    #[test]
    fn split_follows_requests() {
        let reqs = vec![("app".to_string(), 300), ("side".to_string(), 100)];
        assert_eq!(split(400, &reqs), vec![300, 100]);
        assert_eq!(split(401, &reqs), vec![301, 100]);
        let none = vec![("app".to_string(), 0), ("side".to_string(), 0)];
        assert_eq!(split(50, &none), vec![50, 0]);
    }

    #[test]
    fn step_and_ramp_shapes() {
        let s = |ms: u64| Millis::from_secs(ms);
        let mut shape = Shape {
            points: vec![(s(0), 200), (s(60), 800), (s(120), 100)],
            interpolate: false,
        };
        assert_eq!(shape.at(s(30)), 200);
        assert_eq!(shape.at(s(60)), 800);
        assert_eq!(shape.at(s(500)), 100);
        shape.interpolate = true;
        assert_eq!(shape.at(s(30)), 500);
        assert_eq!(shape.at(s(90)), 450);
        let late = Shape::constant(s(10), 5);
        assert_eq!(late.at(s(9)), 0);
    }
}

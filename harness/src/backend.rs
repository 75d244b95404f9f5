//! The `Backend` trait: everything a step may do to a cluster and read from it.
//!
//! **API boundary.** Steps see only this trait. It is written for two kinds of backends: the
//! in-memory engine (virtual time: waiting advances the clock) and a real cluster (wall-clock
//! time: waiting polls or watches). Waiting is therefore expressed as [`Backend::next_instant`]:
//! "let time pass until something may have changed, but not past this deadline", and the
//! condition itself is checked by the caller through the read methods.

use crate::manifest::Manifest;
use crate::{Error, Result};
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kubespec_engine::controllers::statefulset::PodHistory;
use kubespec_engine::kubectl::{HistoryEntry, RolloutStatus};
use kubespec_engine::observe::DeploymentHistory;
use std::time::Duration;

/// A change to how an image behaves (in-memory backend only; see `kubespec_engine::images`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageChange {
    StartsIn(Duration),
    StopsIn(Duration),
    CrashesOnStart,
    /// The process exits by itself after running this long, with this code.
    ExitsAfter(Duration, i32),
    CannotBePulled,
    /// The readiness endpoint passes this long after the process starts.
    ReadyAfter(Duration),
    /// The readiness endpoint never passes.
    NeverReady,
    /// The liveness endpoint fails from this long after the process starts.
    UnhealthyAfter(Duration),
    /// The application answers no probe until this long after the process starts.
    StartupTakes(Duration),
    /// The image's ENTRYPOINT.
    Entrypoint(Vec<String>),
    /// The image's CMD.
    Cmd(Vec<String>),
    /// The application answers this path (with its query) with `302 Found` to this location.
    Redirects(String, String),
    /// The application answers this path with this HTTP status code.
    Answers(String, u16),
    /// On SIGTERM the application makes this endpoint fail while it winds down.
    FailsOnSigterm(ProbeEndpoint),
}

impl ImageChange {
    /// The engine's form of this change: what the in-memory backend applies, and what the
    /// cluster backend sends to a served engine.
    pub fn to_engine(&self) -> kubespec_engine::images::Change {
        use kubespec_engine::images::Change;
        let ms = |d: &Duration| d.as_millis() as u64;
        match self {
            ImageChange::StartsIn(d) => Change::StartsIn { ms: ms(d) },
            ImageChange::StopsIn(d) => Change::StopsIn { ms: ms(d) },
            ImageChange::CrashesOnStart => Change::CrashesOnStart,
            ImageChange::ExitsAfter(d, code) => Change::ExitsAfter {
                ms: ms(d),
                code: *code,
            },
            ImageChange::CannotBePulled => Change::CannotBePulled,
            ImageChange::ReadyAfter(d) => Change::ReadyAfter { ms: ms(d) },
            ImageChange::NeverReady => Change::NeverReady,
            ImageChange::UnhealthyAfter(d) => Change::UnhealthyAfter { ms: ms(d) },
            ImageChange::StartupTakes(d) => Change::StartupTakes { ms: ms(d) },
            ImageChange::Entrypoint(argv) => Change::Entrypoint { argv: argv.clone() },
            ImageChange::Cmd(argv) => Change::Cmd { argv: argv.clone() },
            ImageChange::Redirects(path, location) => Change::Redirects {
                path: path.clone(),
                location: location.clone(),
            },
            ImageChange::Answers(path, code) => Change::Answers {
                path: path.clone(),
                code: *code,
            },
            ImageChange::FailsOnSigterm(ProbeEndpoint::Readiness) => Change::UnreadyOnSigterm,
            ImageChange::FailsOnSigterm(ProbeEndpoint::Liveness) => Change::UnhealthyOnSigterm,
        }
    }
}

/// An application endpoint a probe checks, which a spec can flip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeEndpoint {
    Readiness,
    Liveness,
}

impl ProbeEndpoint {
    pub fn parse(word: &str) -> Option<ProbeEndpoint> {
        match word {
            "readiness" => Some(ProbeEndpoint::Readiness),
            "liveness" => Some(ProbeEndpoint::Liveness),
            _ => None,
        }
    }
}

/// A change to what the metrics APIs report (metrics-server, custom and external metrics). The
/// values are in milli-units: millicores, milli-bytes, or a custom metric × 1000.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricChange {
    /// A total demand on a workload (`deployment`, `statefulset`, `replicaset`), spread evenly
    /// over its Running and Ready pods. `points` are (time from now, total); the total holds
    /// until the next point, or moves linearly towards it when `ramp` is set.
    Load {
        kind: String,
        name: String,
        resource: String,
        points: Vec<(Duration, i64)>,
        ramp: bool,
    },
    /// The same usage on every Running pod of a workload.
    PodUsage {
        kind: String,
        name: String,
        resource: String,
        each: i64,
    },
    /// A `Pods` metric: the value every pod of a workload reports.
    PodsMetric {
        kind: String,
        name: String,
        metric: String,
        value: i64,
    },
    /// An `Object` metric describing one object.
    ObjectMetric {
        kind: String,
        name: String,
        metric: String,
        value: i64,
    },
    /// An `External` metric with one series.
    External { metric: String, value: i64 },
}

impl MetricChange {
    /// The engine's form of this change (see [`ImageChange::to_engine`]).
    pub fn to_engine(&self) -> kubespec_engine::metrics::Change {
        use kubespec_engine::metrics::Change;
        match self.clone() {
            MetricChange::Load {
                kind,
                name,
                resource,
                points,
                ramp,
            } => Change::Load {
                kind,
                name,
                resource,
                points: points
                    .into_iter()
                    .map(|(d, v)| (d.as_millis() as u64, v))
                    .collect(),
                ramp,
            },
            MetricChange::PodUsage {
                kind,
                name,
                resource,
                each,
            } => Change::PodUsage {
                kind,
                name,
                resource,
                each,
            },
            MetricChange::PodsMetric {
                kind,
                name,
                metric,
                value,
            } => Change::PodsMetric {
                kind,
                name,
                metric,
                value,
            },
            MetricChange::ObjectMetric {
                kind,
                name,
                metric,
                value,
            } => Change::ObjectMetric {
                kind,
                name,
                metric,
                value,
            },
            MetricChange::External { metric, value } => Change::External { metric, value },
        }
    }
}

/// An event as `kubectl get events` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventView {
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    pub source: String,
    /// Time since the start of the scenario.
    pub first: Duration,
    pub last: Duration,
}

#[async_trait]
pub trait Backend: Send {
    /// `memory`, `cluster`, …: shown in reports.
    fn name(&self) -> &'static str;

    // ------------------------------------------------------------------ set-up
    async fn set_image_behaviour(&mut self, image: &str, change: ImageChange) -> Result<()>;

    /// `kubectl apply` of one object: create or update. Returns `<kind>/<name>`.
    async fn apply(&mut self, manifest: &Manifest) -> Result<String>;

    // ------------------------------------------------------------------ reads
    /// The object as JSON (`kind` is a lower-case kind: deployment, pod, configmap, …).
    async fn get(&mut self, kind: &str, name: &str) -> Result<Option<serde_json::Value>>;
    async fn deployment(&mut self, name: &str) -> Result<Deployment>;
    /// ReplicaSets controlled by the Deployment.
    async fn replica_sets_of(&mut self, deployment: &str) -> Result<Vec<ReplicaSet>>;
    /// Pods of the Deployment's ReplicaSets, terminating ones included.
    async fn pods_of(&mut self, deployment: &str) -> Result<Vec<Pod>>;
    /// Events about one object, oldest first.
    async fn events_about(&mut self, kind: &str, name: &str) -> Result<Vec<EventView>>;
    /// Replica counts over time and ReplicaSet scalings of a Deployment.
    async fn deployment_history(&mut self, name: &str) -> Result<DeploymentHistory>;

    /// A pod by name.
    async fn pod(&mut self, name: &str) -> Result<Option<Pod>> {
        match self.get("pod", name).await? {
            Some(v) => Ok(Some(serde_json::from_value(v).map_err(|e| {
                crate::Error::Backend(format!("pod {name:?} does not read as a Pod: {e}"))
            })?)),
            None => Ok(None),
        }
    }

    /// The EndpointSlices the EndpointSlice controller keeps for a Service.
    async fn endpoint_slices_of(
        &mut self,
        service: &str,
    ) -> Result<Vec<k8s_openapi::api::discovery::v1::EndpointSlice>>;

    /// The environment a container's process was started with (as `env` inside it prints),
    /// or `None` when the container has not been created.
    async fn container_env(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<(String, String)>>>;

    /// The command line a container's process was started with; `None` when it has not been
    /// created.
    async fn container_command(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<String>>>;

    /// The files a container sees through its ConfigMap and Secret volume mounts (as `cat`
    /// inside it would show them), by absolute path; `None` when it has not been created.
    async fn container_files(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<(String, String)>>>;

    // ------------------------------------------------------------------ the application
    /// Makes the readiness or liveness endpoint of a pod's running containers pass or fail
    /// from now on (as `curl /readiness/status` does on a real application).
    async fn set_probe_endpoint(
        &mut self,
        pod: &str,
        endpoint: ProbeEndpoint,
        passing: bool,
    ) -> Result<()>;

    // ------------------------------------------------------------------ metrics
    /// Changes what the metrics APIs report from now on.
    async fn set_metric(&mut self, change: MetricChange) -> Result<()>;

    /// `spec.replicas` of a workload over the scenario: (time since the start, value) at each
    /// change, starting with the value when it was created.
    async fn replicas_history(&mut self, kind: &str, name: &str) -> Result<Vec<(Duration, i32)>>;

    // ------------------------------------------------------------------ kubectl verbs
    async fn delete(&mut self, kind: &str, name: &str) -> Result<()>;
    /// A merge patch (lists of named objects merge by `name`).
    async fn patch(&mut self, kind: &str, name: &str, patch: &serde_json::Value) -> Result<()>;
    /// `kubectl set image`; `container` `None` sets every container.
    async fn set_image(
        &mut self,
        deployment: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<()>;
    async fn scale(&mut self, deployment: &str, replicas: i32) -> Result<()>;
    /// `kubectl rollout pause`; returns kubectl's message.
    async fn pause(&mut self, deployment: &str) -> Result<String>;
    async fn resume(&mut self, deployment: &str) -> Result<String>;
    /// `kubectl rollout undo [--to-revision=N]` (0 = previous revision).
    async fn undo(&mut self, deployment: &str, to_revision: i64) -> Result<String>;

    async fn rollout_status(&mut self, deployment: &str) -> Result<RolloutStatus> {
        let d = self.deployment(deployment).await?;
        Ok(kubespec_engine::kubectl::rollout_status(&d, 0))
    }

    async fn rollout_history(&mut self, deployment: &str) -> Result<Vec<HistoryEntry>> {
        let rss = self.replica_sets_of(deployment).await?;
        Ok(kubespec_engine::kubectl::history(&rss))
    }

    // ------------------------------------------------------------------ StatefulSets
    /// A StatefulSet by name.
    async fn stateful_set(&mut self, name: &str) -> Result<StatefulSet> {
        match self.get("statefulset", name).await? {
            Some(v) => serde_json::from_value(v).map_err(|e| {
                crate::Error::Backend(format!(
                    "statefulset {name:?} does not read as a StatefulSet: {e}"
                ))
            }),
            None => Err(crate::Error::NotFound {
                kind: "statefulsets.apps".into(),
                name: name.into(),
            }),
        }
    }
    /// The pods the StatefulSet's controller created and deleted, in order.
    async fn stateful_set_pod_history(&mut self, name: &str) -> Result<PodHistory>;
    /// `kubectl scale statefulset`.
    async fn scale_stateful_set(&mut self, name: &str, replicas: i32) -> Result<()>;
    /// `kubectl set image statefulset`; `container` `None` sets every container.
    async fn set_stateful_set_image(
        &mut self,
        name: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<()>;
    /// `kubectl rollout undo statefulset [--to-revision=N]`; returns kubectl's message.
    async fn undo_stateful_set(&mut self, name: &str, to_revision: i64) -> Result<String>;
    /// `kubectl rollout history statefulset`.
    async fn stateful_set_rollout_history(&mut self, name: &str) -> Result<Vec<HistoryEntry>>;
    async fn stateful_set_rollout_status(&mut self, name: &str) -> Result<RolloutStatus> {
        let s = self.stateful_set(name).await?;
        Ok(kubespec_engine::kubectl::stateful_set_rollout_status(&s))
    }
    /// The (pod, IP) answers of a DNS A lookup inside the cluster.
    async fn resolve_dns(&mut self, name: &str) -> Result<Vec<(String, String)>>;
    /// The targets of a DNS SRV lookup inside the cluster.
    async fn srv_lookup(&mut self, name: &str) -> Result<Vec<String>>;

    // ------------------------------------------------------------------ time
    /// Time since the scenario started (virtual or real).
    async fn elapsed(&mut self) -> Duration;

    /// Processes everything due up to and including `elapsed() + d`.
    async fn advance(&mut self, d: Duration) -> Result<()>;

    /// Lets time pass until the next moment the state may have changed, but not past
    /// `deadline` (a value of [`Backend::elapsed`]). Returns `false` once the deadline is
    /// reached. The in-memory backend jumps to its next event; a real cluster polls.
    async fn next_instant(&mut self, deadline: Duration) -> Result<bool>;

    // ------------------------------------------------------------ the scenario
    /// Ends the scenario: releases what the backend holds outside the process (the cluster
    /// backend deletes the scenario's namespace). Called once, also after a failure.
    async fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    /// The message of the last [`Error::Unsupported`] this backend returned, cleared by the
    /// call: the runner reports a step that failed for that reason as skipped, with it.
    fn take_unsupported(&mut self) -> Option<String> {
        None
    }

    // ------------------------------------------------------------ controllers
    /// Runs a controller built into kubespec (see [`crate::controllers::register`]) against
    /// the cluster until the scenario ends.
    async fn start_controller(&mut self, name: &str) -> Result<()> {
        Err(Error::Unsupported(format!(
            "the {} backend cannot run the built-in controller {name:?}",
            self.name()
        )))
    }

    /// Runs a program against the cluster until the scenario ends, with `KUBECONFIG` set for
    /// it. `dir` is the feature file's directory, for relative program paths.
    async fn start_controller_command(
        &mut self,
        command: &str,
        dir: &std::path::Path,
    ) -> Result<()> {
        let _ = dir;
        Err(Error::Unsupported(format!(
            "the {} backend cannot run the controller command {command:?}",
            self.name()
        )))
    }
}

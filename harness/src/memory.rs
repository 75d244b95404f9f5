//! The in-memory backend: the engine's simulated cluster behind the [`Backend`] trait.
//!
//! Time is virtual. [`Backend::next_instant`] jumps to the engine's next timer, so "within 10
//! minutes" costs only the instants at which something happens.

use crate::backend::{Backend, EventView, ImageChange, MetricChange, ProbeEndpoint};
use crate::manifest::{Manifest, ManifestObject};
use crate::{Error, Result};
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kubespec_engine::controllers::deployment::util;
use kubespec_engine::observe::DeploymentHistory;
use kubespec_engine::prober::ProbeKind;
use kubespec_engine::store::{GenericObject, Kind};
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey, Propagation};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

const NAMESPACE: &str = "default";

pub struct MemoryBackend {
    /// Shared so that a server can serve the same cluster to controllers (see
    /// [`MemoryBackend::shared`]); the backend holds the lock for one operation at a time.
    cluster: Arc<Mutex<Cluster>>,
    start: Millis,
    /// The server and the controllers running against this cluster, once a step starts one.
    attached: Option<crate::controllers::Attached>,
}

impl MemoryBackend {
    /// The key of pod `name`, or NotFound when there is no such pod.
    fn existing_pod(&self, name: &str) -> Result<ObjectKey> {
        let key = Self::key(name);
        if !self.c().store.pods.contains_key(&key) {
            return Err(Error::NotFound {
                kind: "pods".into(),
                name: name.into(),
            });
        }
        Ok(key)
    }

    pub fn new(config: ClusterConfig) -> Self {
        let cluster = Cluster::new(config);
        let start = cluster.now();
        MemoryBackend {
            cluster: Arc::new(Mutex::new(cluster)),
            start,
            attached: None,
        }
    }

    /// A default cluster (3 nodes) with this seed.
    pub fn with_seed(seed: u64) -> Self {
        Self::new(ClusterConfig {
            seed,
            ..Default::default()
        })
    }

    /// The simulated cluster, for reports and tests. Do not hold it across another call.
    pub fn cluster(&self) -> MutexGuard<'_, Cluster> {
        self.c()
    }

    /// The cluster itself, to share with a server.
    pub fn shared(&self) -> Arc<Mutex<Cluster>> {
        self.cluster.clone()
    }

    /// The cluster, locked for one operation. A panic in an earlier holder leaves the engine
    /// as it was then; going on is better than failing every later step.
    ///
    /// NOTE: `std::sync::Mutex` is not reentrant. Never call a method that locks (most do)
    /// while a guard from this is alive in the same scope.
    fn c(&self) -> MutexGuard<'_, Cluster> {
        self.cluster.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new(NAMESPACE, name)
    }

    /// `kubectl rollout pause` / `resume`: refused when already in that state, as kubectl does.
    fn set_paused(&mut self, deployment: &str, paused: bool) -> Result<String> {
        let now_paused = self
            .deployment_ref(deployment)?
            .spec
            .as_ref()
            .and_then(|s| s.paused)
            .unwrap_or(false);
        if now_paused == paused {
            let state = if paused {
                "already paused"
            } else {
                "not paused"
            };
            return Err(Error::Kubectl(format!(
                "deployments.apps \"{deployment}\" is {state}"
            )));
        }
        self.c().update_deployment(&Self::key(deployment), |d| {
            // Resuming clears the field, as kubectl's patch does.
            d.spec.get_or_insert_with(Default::default).paused = paused.then_some(true)
        })?;
        self.c().settle();
        let done = if paused { "paused" } else { "resumed" };
        Ok(format!("deployment.apps/{deployment} {done}"))
    }

    fn deployment_ref(&self, name: &str) -> Result<Deployment> {
        self.c()
            .store
            .deployments
            .get(&Self::key(name))
            .cloned()
            .ok_or_else(|| Error::NotFound {
                kind: "deployments.apps".into(),
                name: name.into(),
            })
    }

    /// `kubectl patch statefulset --type merge`: spec, labels and annotations.
    fn patch_stateful_set(&mut self, name: &str, patch: &serde_json::Value) -> Result<()> {
        // With its apiVersion and kind, so the patch merges lists by the kind's merge keys.
        let mut patched = with_kind(&self.stateful_set_ref(name)?, "apps/v1", "StatefulSet");
        crate::patch::try_merge_patch(&mut patched, patch)
            .map_err(|e| Error::Api(format!("statefulsets.apps \"{name}\": {e}")))?;
        let new: k8s_openapi::api::apps::v1::StatefulSet = serde_json::from_value(patched)
            .map_err(|e| {
                Error::Api(format!(
                    "StatefulSet.apps \"{name}\" is invalid: the patched object does not decode: {e}"
                ))
            })?;
        self.c().update_stateful_set(&Self::key(name), |s| {
            s.spec = new.spec;
            s.metadata.labels = new.metadata.labels;
            s.metadata.annotations = new.metadata.annotations;
        })?;
        self.c().settle();
        Ok(())
    }

    fn stateful_set_ref(&self, name: &str) -> Result<k8s_openapi::api::apps::v1::StatefulSet> {
        self.c()
            .store
            .statefulsets
            .get(&Self::key(name))
            .cloned()
            .ok_or_else(|| Error::NotFound {
                kind: "statefulsets.apps".into(),
                name: name.into(),
            })
    }

    /// The server controllers talk to, made on first use.
    fn attached(&mut self) -> &mut crate::controllers::Attached {
        let cluster = self.cluster.clone();
        self.attached
            .get_or_insert_with(|| crate::controllers::Attached::new(cluster))
    }

    /// With controllers running: lets them react to what happened at this instant before time
    /// moves on.
    async fn let_controllers_react(&mut self) -> Result<()> {
        match self.attached.as_mut() {
            Some(a) => a.quiesce().await,
            None => Ok(()),
        }
    }

    fn to_duration(&self, m: Millis) -> Duration {
        Duration::from_millis(m.saturating_sub(self.start).0)
    }

    fn to_millis(&self, d: Duration) -> Millis {
        self.start + Millis(d.as_millis() as u64)
    }
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemoryBackend(t={})", self.c().now())
    }
}

fn with_kind<T: serde::Serialize>(obj: &T, api_version: &str, kind: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), api_version.into());
        m.insert("kind".into(), kind.into());
    }
    v
}

#[async_trait]
impl Backend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn set_image_behaviour(&mut self, image: &str, change: ImageChange) -> Result<()> {
        let change = change.to_engine();
        self.c().images.update(image, |b| b.apply(change));
        Ok(())
    }

    async fn endpoint_slices_of(
        &mut self,
        service: &str,
    ) -> Result<Vec<k8s_openapi::api::discovery::v1::EndpointSlice>> {
        Ok(kubespec_engine::controllers::endpointslice::slices_of(
            &self.c(),
            &Self::key(service),
        ))
    }

    async fn container_env(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<(String, String)>>> {
        let key = self.existing_pod(pod)?;
        Ok(self.c().container_env(&key, container))
    }

    async fn container_command(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<String>>> {
        let key = self.existing_pod(pod)?;
        Ok(self
            .c()
            .container_command(&key, container)
            .map(<[String]>::to_vec))
    }

    async fn container_files(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<(String, String)>>> {
        let key = self.existing_pod(pod)?;
        Ok(self.c().container_files(&key, container))
    }

    async fn set_probe_endpoint(
        &mut self,
        pod: &str,
        endpoint: ProbeEndpoint,
        passing: bool,
    ) -> Result<()> {
        let kind = match endpoint {
            ProbeEndpoint::Readiness => ProbeKind::Readiness,
            ProbeEndpoint::Liveness => ProbeKind::Liveness,
        };
        self.c()
            .set_probe_endpoint(&Self::key(pod), kind, passing)?;
        Ok(())
    }

    async fn apply(&mut self, manifest: &Manifest) -> Result<String> {
        let kind = manifest.object.kind().to_string();
        let name = manifest.object.name().unwrap_or("").to_string();
        let key = match manifest.object.clone() {
            ManifestObject::Deployment(d) => self.c().apply_deployment(d)?,
            ManifestObject::ReplicaSet(rs) => self.c().apply_replica_set(rs)?,
            ManifestObject::Pod(p) => self.c().apply_pod(p)?,
            // StatefulSets and claims are loaded (and checked) as generic objects by the
            // manifest loader; the engine stores and acts on them typed.
            ManifestObject::Generic { kind, value, .. } if kind == "StatefulSet" => {
                let s = serde_json::from_value(value).map_err(|e| {
                    Error::Api(format!("StatefulSet {name:?} does not decode: {e}"))
                })?;
                self.c().apply_stateful_set(s)?
            }
            ManifestObject::Generic { kind, value, .. } if kind == "PersistentVolumeClaim" => {
                let claim = serde_json::from_value(value).map_err(|e| {
                    Error::Api(format!(
                        "PersistentVolumeClaim {name:?} does not decode: {e}"
                    ))
                })?;
                self.c().apply_persistent_volume_claim(claim)?
            }
            ManifestObject::Generic {
                api_version,
                kind,
                value,
            } if kind == "HorizontalPodAutoscaler" => self.c().apply_hpa(&api_version, value)?,
            ManifestObject::Generic {
                api_version,
                kind,
                value,
            } => self.c().apply_generic(GenericObject {
                api_version,
                kind,
                value,
            }),
        };
        self.c().settle();
        let name = if key.name.is_empty() {
            name
        } else {
            key.name.to_string()
        };
        Ok(format!("{}/{name}", kind.to_ascii_lowercase()))
    }

    async fn get(&mut self, kind: &str, name: &str) -> Result<Option<serde_json::Value>> {
        let key = Self::key(name);
        let c = self.c();
        let s = &c.store;
        Ok(match Kind::parse(kind) {
            Some(Kind::Deployment) => s
                .deployments
                .get(&key)
                .map(|o| with_kind(o, "apps/v1", "Deployment")),
            Some(Kind::ReplicaSet) => s
                .replicasets
                .get(&key)
                .map(|o| with_kind(o, "apps/v1", "ReplicaSet")),
            Some(Kind::Pod) => s.pods.get(&key).map(|o| with_kind(o, "v1", "Pod")),
            Some(Kind::Node) => s
                .nodes
                .get(&ObjectKey::new("default", name))
                .map(|o| with_kind(o, "v1", "Node")),
            Some(Kind::HorizontalPodAutoscaler) => s
                .horizontal_pod_autoscalers
                .get(&key)
                .map(|o| with_kind(o, "autoscaling/v2", "HorizontalPodAutoscaler")),
            Some(Kind::StatefulSet) => s
                .statefulsets
                .get(&key)
                .map(|o| with_kind(o, "apps/v1", "StatefulSet")),
            Some(Kind::ControllerRevision) => s
                .controllerrevisions
                .get(&key)
                .map(|o| with_kind(o, "apps/v1", "ControllerRevision")),
            Some(Kind::PersistentVolumeClaim) => s
                .persistentvolumeclaims
                .get(&key)
                .map(|o| with_kind(o, "v1", "PersistentVolumeClaim")),
            None => {
                let k = kind.to_ascii_lowercase();
                let k = k
                    .strip_suffix('s')
                    .filter(|_| !s.generic.keys().any(|(gk, _)| gk == &k))
                    .unwrap_or(&k)
                    .to_string();
                s.generic.get(&(k, key)).map(|o| o.value.clone())
            }
        })
    }

    async fn deployment(&mut self, name: &str) -> Result<Deployment> {
        self.deployment_ref(name)
    }

    async fn replica_sets_of(&mut self, deployment: &str) -> Result<Vec<ReplicaSet>> {
        let d = self.deployment_ref(deployment)?;
        let uid = d.metadata.uid.clone().unwrap_or_default();
        Ok(self
            .c()
            .store
            .replicasets_owned_by(&uid)
            .into_iter()
            .filter(|rs| util::is_controlled_by(rs, &d))
            .cloned()
            .collect())
    }

    async fn pods_of(&mut self, deployment: &str) -> Result<Vec<Pod>> {
        let rss = self.replica_sets_of(deployment).await?;
        let mut pods = Vec::new();
        for rs in rss {
            let uid = rs.metadata.uid.unwrap_or_default();
            pods.extend(self.c().store.pods_owned_by(&uid).cloned());
        }
        Ok(pods)
    }

    async fn events_about(&mut self, kind: &str, name: &str) -> Result<Vec<EventView>> {
        let Some(kind) = Kind::parse(kind) else {
            return Ok(vec![]);
        };
        let key = if kind.namespaced() {
            Self::key(name)
        } else {
            ObjectKey::new("default", name)
        };
        Ok(self
            .c()
            .events
            .about(kind, &key)
            .map(|e| EventView {
                type_: e.type_.as_str().to_string(),
                reason: e.reason.to_string(),
                message: e.message.clone(),
                count: e.count,
                source: e.source.to_string(),
                first: self.to_duration(e.first_timestamp),
                last: self.to_duration(e.last_timestamp),
            })
            .collect())
    }

    async fn deployment_history(&mut self, name: &str) -> Result<DeploymentHistory> {
        self.deployment_ref(name)?;
        Ok(self
            .c()
            .observer
            .deployments
            .get(&Self::key(name))
            .cloned()
            .unwrap_or_default())
    }

    async fn set_metric(&mut self, change: MetricChange) -> Result<()> {
        self.c()
            .set_metric(NAMESPACE, change.to_engine())
            .map_err(Error::Backend)?;
        self.c().settle();
        Ok(())
    }

    async fn replicas_history(&mut self, kind: &str, name: &str) -> Result<Vec<(Duration, i32)>> {
        match Kind::parse(kind) {
            Some(Kind::Deployment) => {
                self.deployment_ref(name)?;
                let mut out: Vec<(Duration, i32)> = Vec::new();
                for s in self
                    .c()
                    .observer
                    .deployments
                    .get(&Self::key(name))
                    .map(|h| h.samples.as_slice())
                    .unwrap_or_default()
                {
                    if out.last().is_none_or(|(_, d)| *d != s.desired) {
                        out.push((self.to_duration(s.at), s.desired));
                    }
                }
                Ok(out)
            }
            _ => Err(Error::Backend(format!(
                "the replica history of a {kind} is not recorded; deployments only"
            ))),
        }
    }

    async fn delete(&mut self, kind: &str, name: &str) -> Result<()> {
        let key = Self::key(name);
        match Kind::parse(kind) {
            Some(k) => self.c().delete_kind(k, &key, Propagation::Background)?,
            None => {
                let k = kind.to_ascii_lowercase();
                if !self.c().delete_generic(&k, &key) {
                    return Err(Error::NotFound {
                        kind: k,
                        name: name.into(),
                    });
                }
            }
        }
        self.c().settle();
        Ok(())
    }

    async fn patch(&mut self, kind: &str, name: &str, patch: &serde_json::Value) -> Result<()> {
        if Kind::parse(kind) == Some(Kind::StatefulSet) {
            return self.patch_stateful_set(name, patch);
        }
        if Kind::parse(kind) != Some(Kind::Deployment) {
            return Err(Error::Unsupported(format!(
                "patching a {kind} is not supported; patch a deployment or a statefulset"
            )));
        }
        let key = Self::key(name);
        let mut patched = with_kind(&self.deployment_ref(name)?, "apps/v1", "Deployment");
        crate::patch::try_merge_patch(&mut patched, patch)
            .map_err(|e| Error::Api(format!("deployments.apps \"{name}\": {e}")))?;
        let new: Deployment = serde_json::from_value(patched).map_err(|e| {
            Error::Api(format!(
                "Deployment.apps \"{name}\" is invalid: the patched object does not decode: {e}"
            ))
        })?;
        self.c().update_deployment(&key, |d| {
            d.spec = new.spec;
            d.metadata.labels = new.metadata.labels;
            d.metadata.annotations = new.metadata.annotations;
        })?;
        self.c().settle();
        Ok(())
    }

    async fn set_image(
        &mut self,
        deployment: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<()> {
        self.c()
            .set_deployment_image(&Self::key(deployment), container.unwrap_or("*"), image)?;
        self.c().settle();
        Ok(())
    }

    async fn scale(&mut self, deployment: &str, replicas: i32) -> Result<()> {
        self.c().update_deployment(&Self::key(deployment), |d| {
            d.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
        })?;
        self.c().settle();
        Ok(())
    }

    async fn pause(&mut self, deployment: &str) -> Result<String> {
        self.set_paused(deployment, true)
    }

    async fn resume(&mut self, deployment: &str) -> Result<String> {
        self.set_paused(deployment, false)
    }

    async fn undo(&mut self, deployment: &str, to_revision: i64) -> Result<String> {
        self.deployment_ref(deployment)?;
        let msg = self
            .c()
            .undo_deployment(&Self::key(deployment), to_revision)
            .map_err(Error::Kubectl)?;
        self.c().settle();
        Ok(msg)
    }

    async fn stateful_set_pod_history(
        &mut self,
        name: &str,
    ) -> Result<kubespec_engine::controllers::statefulset::PodHistory> {
        self.stateful_set_ref(name)?;
        Ok(self
            .c()
            .observer
            .statefulsets
            .get(&Self::key(name))
            .cloned()
            .unwrap_or_default())
    }

    async fn scale_stateful_set(&mut self, name: &str, replicas: i32) -> Result<()> {
        self.c().scale_stateful_set(&Self::key(name), replicas)?;
        self.c().settle();
        Ok(())
    }

    async fn set_stateful_set_image(
        &mut self,
        name: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<()> {
        self.c()
            .set_stateful_set_image(&Self::key(name), container.unwrap_or("*"), image)?;
        self.c().settle();
        Ok(())
    }

    async fn undo_stateful_set(&mut self, name: &str, to_revision: i64) -> Result<String> {
        self.stateful_set_ref(name)?;
        let msg = self
            .c()
            .undo_stateful_set(&Self::key(name), to_revision)
            .map_err(Error::Kubectl)?;
        self.c().settle();
        Ok(msg)
    }

    async fn stateful_set_rollout_history(
        &mut self,
        name: &str,
    ) -> Result<Vec<kubespec_engine::kubectl::HistoryEntry>> {
        self.stateful_set_ref(name)?;
        Ok(kubespec_engine::kubectl::stateful_set_history(
            &self.c().stateful_set_revisions(&Self::key(name)),
        ))
    }

    async fn resolve_dns(&mut self, name: &str) -> Result<Vec<(String, String)>> {
        Ok(kubespec_engine::dns::resolve(&self.c(), name))
    }

    async fn srv_lookup(&mut self, name: &str) -> Result<Vec<String>> {
        Ok(kubespec_engine::dns::srv(&self.c(), name))
    }

    async fn elapsed(&mut self) -> Duration {
        self.to_duration(self.c().now())
    }

    async fn advance(&mut self, d: Duration) -> Result<()> {
        let until = self.c().now() + Millis(d.as_millis() as u64);
        if self.attached.is_none() {
            self.c().run_until(until);
            return Ok(());
        }
        // Instant by instant, so controllers see every change before time moves on.
        loop {
            self.let_controllers_react().await?;
            let next = self.c().next_timer_at();
            match next {
                Some(at) if at <= until => self.c().run_until(at),
                _ => {
                    self.c().run_until(until);
                    break;
                }
            }
        }
        self.let_controllers_react().await
    }

    async fn next_instant(&mut self, deadline: Duration) -> Result<bool> {
        let deadline = self.to_millis(deadline);
        self.let_controllers_react().await?;
        // Bound first: a guard in the scrutinee would live through the arms, which lock again.
        let next = self.c().next_timer_at();
        let moved = match next {
            Some(at) if at <= deadline => {
                self.c().run_until(at);
                true
            }
            _ => {
                if self.c().now() < deadline {
                    self.c().run_until(deadline);
                }
                false
            }
        };
        self.let_controllers_react().await?;
        Ok(moved)
    }

    async fn start_controller(&mut self, name: &str) -> Result<()> {
        self.attached().start(name)?;
        self.let_controllers_react().await
    }

    async fn start_controller_command(
        &mut self,
        command: &str,
        dir: &std::path::Path,
    ) -> Result<()> {
        self.attached().start_command(command, dir).await?;
        self.let_controllers_react().await
    }
}

//! The cluster backend: the [`Backend`] trait over a kube-rs `Client`, against any cluster a
//! kubeconfig reaches, or against a served kubespec engine. See [`ClusterBackend::start`] for
//! the entry point and [`Target`] for where scenarios run.
//!
//! - **Isolation.** Each scenario runs in a namespace of its own (`kubespec-<8 random
//!   characters>`, [`namespace`]), created when its backend starts and deleted by
//!   [`ClusterBackend::end`] (or, failing that, when the backend is dropped), unless
//!   `--keep-namespaces`. Names in steps resolve inside it; nothing outside it is touched,
//!   except the cluster-scoped objects the scenario itself creates, which are labelled and
//!   deleted with it ([`cleanup`]).
//! - **Writes.** apply is server-side apply (field manager `kubespec`, forced); the kubectl
//!   verbs are the patches kubectl sends ([`verbs`]).
//! - **History.** Watches started with the backend ([`record`]) feed `deployment_history`,
//!   `replicas_history` and `stateful_set_pod_history`, so nothing between two polls is missed.
//! - **Time.** On a real cluster time is the wall clock: `next_instant` waits for watch activity
//!   or a short poll, never past its deadline, and `advance` sleeps. On a served engine
//!   (detected by `GET /kubespec/v1/info`) time is the engine's virtual clock, moved only by the
//!   scenario through `/kubespec/v1/run`, and every behaviour step goes through the engine's
//!   extensions ([`served`]).
//! - **Image behaviour on a real cluster** is acted out by the e2e test image agnhost
//!   ([`agnhost`]): a described image's containers run agnhost with a script, their probes ask
//!   the script, and reads put the manifest's fields back. Flipping a probe endpoint goes to
//!   the script through the API server's pod proxy.
//! - **What a real cluster cannot do** (an exec probe on a described image, metrics, what a
//!   container's process saw, DNS from inside, any image behaviour on kwok, which runs no
//!   containers) is [`Error::Unsupported`], with a message naming the operation and the
//!   backend; the runner reports such a scenario as skipped.
//!
//! **Architecture invariant:** a served engine's virtual time is global to that engine, so one
//! engine serves one scenario at a time: in process each scenario gets its own engine
//! ([`Target::InProcess`]); against an external served engine the runner runs scenarios one at
//! a time.

pub mod agnhost;
pub mod cleanup;
pub mod connect;
pub mod namespace;
pub mod record;
pub mod served;
pub mod verbs;

pub use connect::{ConnectOptions, Connection, Target, check_context, connect};

use crate::backend::{Backend, EventView, ImageChange, MetricChange, ProbeEndpoint};
use crate::manifest::Manifest;
use crate::{Error, Result};
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Pod, PodTemplateSpec};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use kubespec_engine::controllers::statefulset::PodHistory;
use kubespec_engine::kubectl::HistoryEntry;
use kubespec_engine::observe::DeploymentHistory;
use record::{Recorder, Stamps, Watched};
use serde_json::{Value, json};
use served::Served;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "kubespec";

/// How long a real cluster's `next_instant` waits without watch activity before the caller
/// looks again.
pub const POLL: Duration = Duration::from_millis(250);

/// On a served engine each scenario starts at a whole multiple of this much virtual time (see
/// [`Served::align`]).
pub const ALIGN: Duration = Duration::from_secs(60);

/// How long reading a history waits for the watches to catch up.
pub const SYNC_LIMIT: Duration = Duration::from_secs(30);

/// One scenario on a cluster. See the module documentation.
pub struct ClusterBackend {
    client: Client,
    ns: String,
    context: String,
    keep_namespace: bool,
    /// The served engine's clock and extensions, when the cluster is one.
    served: Option<Served>,
    wall_start: Instant,
    wall_start_ts: jiff::Timestamp,
    recorder: Recorder,
    /// The namespace has been deleted (or kept) already.
    finished: bool,
    /// The scenario's own engine, when it runs in process: kept alive with the backend.
    engine: Option<kubespec_server::AppState>,
    kinds: HashMap<String, (ApiResource, bool)>,
    /// The cluster-scoped objects this scenario created, oldest first ([`cleanup`]).
    created: Vec<cleanup::Created>,
    /// The last [`Error::Unsupported`] returned, for [`Backend::take_unsupported`].
    last_unsupported: std::sync::Mutex<Option<String>>,
    /// The controllers the scenario started, and what they run against.
    controllers: Option<crate::controllers::Attached>,
    /// On a real cluster: the images steps described, acted out by agnhost ([`agnhost`]).
    images: agnhost::Images,
    /// The cluster runs no containers (kwok).
    no_containers: bool,
    /// The kubeconfig the run reached the cluster with, for controller programs.
    kubeconfig: Option<kube::config::Kubeconfig>,
}

impl std::fmt::Debug for ClusterBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClusterBackend(context {:?}, namespace {})",
            self.context, self.ns
        )
    }
}

impl Drop for ClusterBackend {
    fn drop(&mut self) {
        if self.finished || self.keep_namespace || self.engine.is_some() {
            return;
        }
        // The runner calls `finish`; this is the fallback for a scenario that never got there.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (client, ns) = (self.client.clone(), self.ns.clone());
            let created = std::mem::take(&mut self.created);
            rt.spawn(async move {
                let _ = cleanup::delete(&client, &created).await;
                cleanup::forget(&ns);
                let _ = namespace::delete(&client, &ns).await;
            });
        }
    }
}

impl ClusterBackend {
    /// Starts a scenario: makes its namespace, starts its watches, and finds out whether the
    /// cluster is a served engine.
    ///
    /// # Errors
    ///
    /// The cluster cannot be reached or refuses the namespace (the message names the context),
    /// or it is a served engine whose clock follows the wall clock.
    pub async fn start(target: &Target, scenario: &str, seed: u64) -> Result<ClusterBackend> {
        let (client, context, keep, engine, plain, no_containers, all_images) = match target {
            Target::External(c) => (
                c.client.clone(),
                c.context.clone(),
                c.keep_namespaces,
                None,
                c.plain,
                c.no_containers,
                c.agnhost_all_images,
            ),
            Target::InProcess { keep_namespaces } => {
                let (state, client) = connect::in_process_engine(seed);
                (
                    client,
                    "in-process served engine".to_string(),
                    *keep_namespaces,
                    Some(state),
                    false,
                    false,
                    false,
                )
            }
        };
        let ns = namespace::namespace_name(&mut rand::rng());
        // A cluster that cannot be reached fails here, fast, with the context's name.
        let served = tokio::time::timeout(Duration::from_secs(30), served::probe(&client))
            .await
            .map_err(|_| {
                Error::Backend(format!(
                    "context {context:?}: the cluster did not answer within 30s"
                ))
            })?;
        // --plain-cluster: a served engine is treated as any other cluster.
        let served = served.filter(|_| !plain);
        if let Some(info) = &served
            && info.time_scale > 0.0
        {
            return Err(Error::Backend(format!(
                "context {context:?} is a kubespec serve engine whose virtual time follows the \
                 wall clock (time scale {}); run it with --time-scale 0 so scenarios control time",
                info.time_scale
            )));
        }
        let mut served = served.map(|i| Served::new(client.clone(), &i));
        if let Some(s) = &mut served {
            s.reset().await?;
            s.align(ALIGN).await?;
        }
        namespace::create(&client, &ns, scenario, &context, keep || engine.is_some()).await?;
        let wall_start = Instant::now();
        let recorder = Recorder::start(client.clone(), &ns, wall_start);
        Ok(ClusterBackend {
            served,
            client,
            ns,
            context,
            keep_namespace: keep,
            wall_start,
            wall_start_ts: jiff::Timestamp::now(),
            recorder,
            finished: false,
            engine,
            kinds: HashMap::new(),
            created: Vec::new(),
            last_unsupported: Default::default(),
            controllers: None,
            images: agnhost::Images::new(all_images && !no_containers),
            no_containers,
            kubeconfig: match target {
                Target::External(c) => c.kubeconfig.as_deref().cloned(),
                Target::InProcess { .. } => None,
            },
        })
    }

    /// The scenario's namespace.
    pub fn namespace(&self) -> &str {
        &self.ns
    }

    /// Whether the cluster is a served kubespec engine.
    pub fn is_served(&self) -> bool {
        self.served.is_some()
    }

    /// Ends the scenario: deletes the cluster-scoped objects it created and its namespace,
    /// unless they are to be kept.
    ///
    /// # Errors
    ///
    /// An object or the namespace could not be deleted (all are still attempted).
    pub async fn end(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        cleanup::forget(&self.ns);
        if self.keep_namespace {
            return Ok(());
        }
        let objects = cleanup::delete(&self.client, &std::mem::take(&mut self.created)).await;
        namespace::delete(&self.client, &self.ns).await?;
        objects
    }

    /// The cluster-scoped objects this scenario created and has not deleted.
    pub fn cluster_scoped_created(&self) -> &[cleanup::Created] {
        &self.created
    }

    /// Writes of a cluster-scoped object are allowed only for the scenario's own
    /// ([`cleanup::check_owned`]); returns whether the write creates it.
    async fn check_cluster_scoped(
        &self,
        ar: &ApiResource,
        namespaced: bool,
        name: &str,
        verb: &str,
    ) -> Result<bool> {
        if namespaced {
            return Ok(false);
        }
        cleanup::check_owned(&self.client, ar, name, &self.ns, verb).await
    }

    fn remember_created(&mut self, ar: &ApiResource, name: &str) {
        let c = cleanup::Created {
            resource: ar.clone(),
            name: name.to_string(),
        };
        if !self.keep_namespace {
            cleanup::remember(&self.client, &self.ns, &c);
        }
        self.created.push(c);
    }

    fn unsupported(&self, what: &str) -> Error {
        self.refuse(format!(
            "{what} cannot be done on the cluster backend against context {:?}: it is not a \
             kubespec serve engine, and a real cluster has no API for it",
            self.context
        ))
    }

    /// [`Error::Unsupported`] with `message`, remembered for [`Backend::take_unsupported`].
    fn refuse(&self, message: String) -> Error {
        *self
            .last_unsupported
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
        Error::Unsupported(message)
    }

    /// What controllers run against, made on first use: the scenario's in-process engine,
    /// served to them by a router of their own, or the backend's cluster through its client;
    /// either way their default namespace is the scenario's.
    fn controllers(&mut self) -> &mut crate::controllers::Attached {
        let (engine, client, ns) = (&self.engine, &self.client, &self.ns);
        let (kubeconfig, context) = (&self.kubeconfig, &self.context);
        let served = self.served.is_some();
        self.controllers.get_or_insert_with(|| match engine {
            Some(state) => crate::controllers::Attached::serving(state.clone(), ns),
            None => {
                let inner = client.clone();
                let service = tower::service_fn(move |req| {
                    let inner = inner.clone();
                    async move { inner.send(req).await }
                });
                let mut attached =
                    crate::controllers::Attached::external(Client::new(service, ns.clone()), ns);
                if served {
                    attached = attached.with_served_clock(client.clone());
                }
                match kubeconfig {
                    Some(kc) => attached.with_kubeconfig(kc.clone(), context),
                    None => attached,
                }
            }
        })
    }

    /// With controllers running: lets them react to what happened at this instant before
    /// time moves on.
    async fn let_controllers_react(&mut self) -> Result<()> {
        match self.controllers.as_mut() {
            Some(c) => c.quiesce().await,
            None => Ok(()),
        }
    }

    /// Whether writes go through the agnhost mapping: a real cluster, and a step described an
    /// image.
    fn maps_images(&self) -> bool {
        self.served.is_none() && !self.images.is_empty()
    }

    /// An object as steps read it: with the manifest's images, commands and probes where
    /// kubespec mapped them to agnhost ([`agnhost::unmap_object`]).
    fn unmapped<T: serde::Serialize + serde::de::DeserializeOwned>(&self, object: T) -> T {
        if !self.maps_images() {
            return object;
        }
        let Ok(mut v) = serde_json::to_value(&object) else {
            return object;
        };
        agnhost::unmap_object(&mut v);
        serde_json::from_value(v).unwrap_or(object)
    }

    /// A Deployment as stored (with its agnhost mapping, if any).
    async fn deployment_raw(&self, name: &str) -> Result<Deployment> {
        self.api::<Deployment>().get(name).await.map_err(api_err)
    }

    /// A StatefulSet as stored.
    async fn stateful_set_raw(&self, name: &str) -> Result<StatefulSet> {
        self.api::<StatefulSet>().get(name).await.map_err(api_err)
    }

    /// The ReplicaSets a Deployment controls, as stored.
    async fn replica_sets_raw(&self, deployment: &str) -> Result<Vec<ReplicaSet>> {
        let d = self.deployment_raw(deployment).await?;
        let all = self.list::<ReplicaSet>().await?;
        Ok(all
            .into_iter()
            .filter(|rs| kubespec_engine::controllers::deployment::util::is_controlled_by(rs, &d))
            .collect())
    }

    /// A write that changes a pod template while images are mapped: `change` gets the object
    /// as steps see it (unmapped) and returns a strategic merge patch; the patched object is
    /// mapped again and the difference sent as one merge patch, so a `set image` to a
    /// described image is one template change, as it is for kubectl.
    async fn mapped_write(
        &mut self,
        kind: &str,
        name: &str,
        change: impl FnOnce(&Value) -> Result<Value>,
    ) -> Result<()> {
        let (api, ar) = self.dynamic(kind).await?;
        let stored = api.get(name).await.map_err(api_err)?;
        let mut raw = serde_json::to_value(&stored)
            .map_err(|e| Error::Backend(format!("{kind} {name:?}: {e}")))?;
        if let Some(m) = raw.as_object_mut() {
            m.insert("apiVersion".into(), ar.api_version.clone().into());
            m.insert("kind".into(), ar.kind.clone().into());
        }
        let mut unmapped = raw.clone();
        agnhost::unmap_object(&mut unmapped);
        let patch = change(&unmapped)?;
        let schema = kubespec_engine::api::patch::meta::schema_for(&ar.api_version, &ar.kind)
            .filter(|_| agnhost::has_pods(&raw));
        let Some(schema) = schema else {
            // No pod spec to map (or not a built-in kind): the server patches as usual.
            return api
                .patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
                .await
                .map(drop)
                .map_err(api_err);
        };
        let mut desired = kubespec_engine::api::patch::strategic::strategic_merge_patch(
            &unmapped, &patch, schema,
        )
        .map_err(|e| Error::Api(e.to_string()))?;
        let mapped = self.images.map_object(&mut desired);
        mapped.map_err(|why| {
            self.refuse(format!(
                "{kind} {name:?} on context {:?}: {why}",
                self.context
            ))
        })?;
        let diff = kubespec_engine::api::patch::merge::create_merge_patch(&raw, &desired);
        if diff.as_object().is_some_and(|m| m.is_empty()) {
            return Ok(());
        }
        api.patch(name, &PatchParams::default(), &Patch::Merge(&diff))
            .await
            .map_err(api_err)?;
        Ok(())
    }

    /// `kubectl set image` on the pod template of a Deployment or StatefulSet: kubectl's
    /// strategic merge patch, worked out on the manifest's form while images are mapped.
    async fn set_template_image(
        &mut self,
        kind: &str,
        name: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<()> {
        let patch_of = |object: &Value| -> Result<Value> {
            let template: Option<PodTemplateSpec> =
                decode(&object["spec"]["template"], "the pod template")?;
            verbs::set_image_patch(template.as_ref(), container, image).map_err(Error::Api)
        };
        if self.maps_images() {
            return self.mapped_write(kind, name, patch_of).await;
        }
        let (api, _) = self.dynamic(kind).await?;
        let object = serde_json::to_value(api.get(name).await.map_err(api_err)?)
            .map_err(|e| Error::Backend(format!("{kind} {name:?}: {e}")))?;
        api.patch(
            name,
            &PatchParams::default(),
            &Patch::Strategic(&patch_of(&object)?),
        )
        .await
        .map_err(api_err)?;
        Ok(())
    }

    /// Makes the readiness (`ready`) or liveness (`live`) endpoint of every mapped container of
    /// `pod` pass or fail from now on: netexec's `/shell` runs [`agnhost::toggle_command`],
    /// reached through the API server's pod proxy.
    async fn toggle_probe(&self, pod: &str, marker: &str, passing: bool) -> Result<()> {
        let p = self
            .api::<Pod>()
            .get_opt(pod)
            .await
            .map_err(api_err)?
            .ok_or_else(|| Error::NotFound {
                kind: "pods".into(),
                name: pod.into(),
            })?;
        let v = serde_json::to_value(&p).unwrap_or_default();
        let ports = agnhost::mapped_ports(&v);
        if ports.is_empty() {
            return Err(Error::Unsupported(format!(
                "pod {pod:?} runs no image a step described, so its application is not \
                 kubespec's to flip"
            )));
        }
        let cmd = agnhost::toggle_command(marker, passing);
        for (container, port) in ports {
            let path = format!(
                "/api/v1/namespaces/{}/pods/{pod}:{port}/proxy/shell?{}",
                self.ns,
                served::query(&[("cmd", &cmd)])
            );
            let failed = |e: String| {
                Error::Backend(format!(
                    "flipping the {marker} endpoint of container {container:?} of pod {pod:?} \
                     through the API server's pod proxy ({path}): {e}"
                ))
            };
            let req = http::Request::get(&path)
                .body(Vec::new())
                .map_err(|e| failed(e.to_string()))?;
            let answer: Value = self
                .client
                .request(req)
                .await
                .map_err(|e| failed(e.to_string()))?;
            if let Some(e) = answer.get("error") {
                return Err(failed(format!("{e} {}", answer["output"])));
            }
        }
        Ok(())
    }

    fn served(&self, what: &str) -> Result<&Served> {
        self.served.as_ref().ok_or_else(|| self.unsupported(what))
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Every object of a kind in the scenario's namespace.
    async fn list<K>(&self) -> Result<Vec<K>>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        let list = self
            .api::<K>()
            .list(&ListParams::default())
            .await
            .map_err(api_err)?;
        Ok(list.items)
    }

    fn stamps(&self) -> Stamps {
        match &self.served {
            Some(s) => Stamps {
                instants: s.instants.clone(),
                now: s.elapsed(),
                by_arrival: false,
            },
            None => Stamps {
                by_arrival: true,
                ..Stamps::default()
            },
        }
    }

    /// Every change the watches saw, once they have caught up with the cluster.
    async fn changes(&self) -> Result<Vec<record::Seen>> {
        self.recorder.sync(SYNC_LIMIT).await?;
        Ok(self.recorder.changes())
    }

    /// The API resource of a lower-case kind (singular, plural or short name) and whether it
    /// is namespaced: the kinds kubespec knows, then the cluster's discovery.
    async fn resource(&mut self, kind: &str) -> Result<(ApiResource, bool)> {
        let k = kind.to_ascii_lowercase();
        if let Some(r) = known_kind(&k) {
            return Ok(r);
        }
        if self.kinds.is_empty() {
            let discovery = kube::discovery::Discovery::new(self.client.clone())
                .run()
                .await
                .map_err(|e| Error::Backend(format!("API discovery failed: {e}")))?;
            for group in discovery.groups() {
                for (ar, caps) in group.recommended_resources() {
                    let namespaced = caps.scope == kube::discovery::Scope::Namespaced;
                    self.kinds
                        .insert(ar.kind.to_ascii_lowercase(), (ar.clone(), namespaced));
                    self.kinds
                        .insert(ar.plural.to_ascii_lowercase(), (ar.clone(), namespaced));
                }
            }
        }
        self.kinds
            .get(&k)
            .cloned()
            .ok_or_else(|| Error::Backend(format!("the cluster serves no kind {kind:?}")))
    }

    async fn dynamic(&mut self, kind: &str) -> Result<(Api<DynamicObject>, ApiResource)> {
        let (ar, namespaced) = self.resource(kind).await?;
        let api = if namespaced {
            Api::namespaced_with(self.client.clone(), &self.ns, &ar)
        } else {
            Api::all_with(self.client.clone(), &ar)
        };
        Ok((api, ar))
    }

    async fn stateful_set_revisions(&self, s: &StatefulSet) -> Result<Vec<ControllerRevision>> {
        let uid = s.metadata.uid.as_deref();
        let all = self.list::<ControllerRevision>().await?;
        Ok(all
            .into_iter()
            .filter(|r| controller_uid(&r.metadata) == uid)
            .collect())
    }

    async fn patch_json<K>(&self, api: &Api<K>, name: &str, patch: Value, what: &str) -> Result<()>
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        let ops: json_patch::Patch = serde_json::from_value(patch)
            .map_err(|e| Error::Backend(format!("{what}: the patch does not read: {e}")))?;
        api.patch(name, &PatchParams::default(), &Patch::<()>::Json(ops))
            .await
            .map_err(api_err)?;
        Ok(())
    }

    /// Virtual or wall time since the start, as a timestamp's offset.
    fn since_start(&self, t: &jiff::Timestamp) -> Duration {
        let ms = match &self.served {
            Some(s) => {
                let virt = t.as_millisecond() - kubespec_engine::time::EPOCH_SECONDS * 1000;
                virt - s.start as i64
            }
            None => t.as_millisecond() - self.wall_start_ts.as_millisecond(),
        };
        Duration::from_millis(ms.max(0) as u64)
    }

    /// A name in the steps' `default` namespace, as it reads in the scenario's namespace (DNS
    /// names: `web-0.web.default.svc.cluster.local`).
    fn to_scenario_dns(&self, name: &str) -> String {
        name.replace(".default.svc.", &format!(".{}.svc.", self.ns))
    }

    fn scenario_dns_as_default(&self, name: &str) -> String {
        name.replace(&format!(".{}.svc.", self.ns), ".default.svc.")
    }

    /// Text from the cluster (the strings of an object read with `get`, an event message, an
    /// environment value) with the scenario's namespace written as `default`, the namespace
    /// steps are written against: `default/web`, `web_default`, or the whole value. The
    /// namespace name is unique (`kubespec-` and 8 random characters), so nothing else is
    /// rewritten.
    fn as_default(&self, text: &str) -> String {
        as_default(&self.ns, text)
    }
}

/// Rewrites every string in `v` (not the keys) with `f`.
fn rewrite_strings(v: &mut Value, f: &dyn Fn(&str) -> String) {
    match v {
        Value::String(t) => *t = f(t),
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_strings(x, f)),
        Value::Object(m) => m.values_mut().for_each(|x| rewrite_strings(x, f)),
        _ => {}
    }
}

/// See [`ClusterBackend::as_default`].
fn as_default(ns: &str, text: &str) -> String {
    text.replace(ns, "default")
}

fn controller_uid(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<&str> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// An API error as the harness reports it: the server's message, or NotFound.
fn api_err(e: kube::Error) -> Error {
    match e {
        kube::Error::Api(s) if s.code == 404 => Error::NotFound {
            kind: s
                .details
                .as_ref()
                .map(|d| {
                    if d.group.is_empty() {
                        d.kind.clone()
                    } else {
                        format!("{}.{}", d.kind, d.group)
                    }
                })
                .unwrap_or_default(),
            name: s.details.map(|d| d.name).unwrap_or_default(),
        },
        kube::Error::Api(s) => Error::Api(s.message),
        e => Error::Backend(e.to_string()),
    }
}

/// The kinds steps name, without asking the cluster.
fn known_kind(kind: &str) -> Option<(ApiResource, bool)> {
    let (group, version, k, plural, namespaced) = match kind {
        "deployment" | "deployments" | "deploy" => {
            ("apps", "v1", "Deployment", "deployments", true)
        }
        "replicaset" | "replicasets" | "rs" => ("apps", "v1", "ReplicaSet", "replicasets", true),
        "statefulset" | "statefulsets" | "sts" => {
            ("apps", "v1", "StatefulSet", "statefulsets", true)
        }
        "controllerrevision" | "controllerrevisions" => (
            "apps",
            "v1",
            "ControllerRevision",
            "controllerrevisions",
            true,
        ),
        "pod" | "pods" | "po" => ("", "v1", "Pod", "pods", true),
        "service" | "services" | "svc" => ("", "v1", "Service", "services", true),
        "configmap" | "configmaps" | "cm" => ("", "v1", "ConfigMap", "configmaps", true),
        "secret" | "secrets" => ("", "v1", "Secret", "secrets", true),
        "persistentvolumeclaim" | "persistentvolumeclaims" | "pvc" => (
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
        ),
        "event" | "events" | "ev" => ("", "v1", "Event", "events", true),
        "node" | "nodes" | "no" => ("", "v1", "Node", "nodes", false),
        "horizontalpodautoscaler" | "horizontalpodautoscalers" | "hpa" => (
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
        "endpointslice" | "endpointslices" => (
            "discovery.k8s.io",
            "v1",
            "EndpointSlice",
            "endpointslices",
            true,
        ),
        _ => return None,
    };
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some((
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version,
            kind: k.into(),
            plural: plural.into(),
        },
        namespaced,
    ))
}

fn decode<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T> {
    serde_json::from_value(v.clone())
        .map_err(|e| Error::Backend(format!("{what} does not read: {e}")))
}

#[async_trait]
impl Backend for ClusterBackend {
    fn name(&self) -> &'static str {
        if self.served.is_some() {
            "cluster (served engine)"
        } else {
            "cluster"
        }
    }

    async fn finish(&mut self) -> Result<()> {
        self.end().await
    }

    fn take_unsupported(&mut self) -> Option<String> {
        self.last_unsupported
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    async fn start_controller(&mut self, name: &str) -> Result<()> {
        self.controllers().start(name)?;
        self.let_controllers_react().await
    }

    async fn start_controller_command(
        &mut self,
        command: &str,
        dir: &std::path::Path,
    ) -> Result<()> {
        match self.controllers().start_command(command, dir).await {
            Err(Error::Unsupported(why)) => {
                return Err(self.refuse(format!("{why} (context {:?})", self.context)));
            }
            r => r?,
        }
        self.let_controllers_react().await
    }

    async fn set_image_behaviour(&mut self, image: &str, change: ImageChange) -> Result<()> {
        let what = format!("image behaviour ({image:?}: {change:?})");
        if let Some(served) = &self.served {
            return served.set_image(image, &change.to_engine()).await;
        }
        if self.no_containers {
            return Err(self.refuse(format!(
                "{what} cannot be acted out on context {:?}: its nodes are simulated by kwok, \
                 which runs no containers",
                self.context
            )));
        }
        if let ImageChange::Entrypoint(_) | ImageChange::Cmd(_) = change {
            // What the image would run: read back only through the engine's extensions.
            return Err(self.unsupported(&what));
        }
        self.images.describe(image, change.to_engine());
        Ok(())
    }

    async fn apply(&mut self, manifest: &Manifest) -> Result<String> {
        let kind = manifest.object.kind().to_string();
        let name = manifest.object.name().unwrap_or("").to_string();
        let mut obj = manifest.object.to_json();
        // The manifest's own version: the API server converts between a kind's versions.
        let (mut ar, namespaced) = self.resource(&kind).await?;
        let creates = self
            .check_cluster_scoped(&ar, namespaced, &name, "apply")
            .await?;
        if !namespaced {
            cleanup::label(&mut obj, &self.ns);
            cleanup::scope_namespaces(&mut obj, &self.ns);
        }
        if let Some(api_version) = obj.get("apiVersion").and_then(Value::as_str) {
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            ar.group = group.to_string();
            ar.version = version.to_string();
            ar.api_version = api_version.to_string();
        }
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(self.client.clone(), &self.ns, &ar)
        } else {
            Api::all_with(self.client.clone(), &ar)
        };
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            match meta.get("namespace").and_then(Value::as_str) {
                None | Some("default") | Some("") => {}
                Some(other) if other == self.ns => {}
                Some(other) => {
                    return Err(Error::Backend(format!(
                        "{kind} {name:?} names namespace {other:?}: on the cluster backend a \
                         scenario's objects live in its own namespace; leave metadata.namespace \
                         out or set it to default"
                    )));
                }
            }
            meta.remove("namespace");
            meta.remove("managedFields");
            meta.remove("resourceVersion");
        }
        if self.served.is_none() {
            let mapped = self.images.map_object(&mut obj);
            mapped.map_err(|why| {
                self.refuse(format!(
                    "{kind} {name:?} on context {:?}: {why}",
                    self.context
                ))
            })?;
        }
        let patched = api
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&obj),
            )
            .await
            .map_err(|e| match e {
                kube::Error::Api(s) => Error::Api(s.message),
                e => Error::Backend(format!("apply {kind} {name:?}: {e}")),
            })?;
        let name = patched.metadata.name.unwrap_or(name);
        if creates {
            self.remember_created(&ar, &name);
        }
        Ok(format!("{}/{name}", kind.to_ascii_lowercase()))
    }

    async fn get(&mut self, kind: &str, name: &str) -> Result<Option<Value>> {
        let (api, ar) = self.dynamic(kind).await?;
        let obj = api.get_opt(name).await.map_err(api_err)?;
        Ok(obj.map(|o| {
            let mut v = serde_json::to_value(o).unwrap_or_default();
            agnhost::unmap_object(&mut v);
            rewrite_strings(&mut v, &|t| as_default(&self.ns, t));
            if let Some(m) = v.as_object_mut() {
                m.insert("apiVersion".into(), ar.api_version.clone().into());
                m.insert("kind".into(), ar.kind.clone().into());
            }
            v
        }))
    }

    async fn deployment(&mut self, name: &str) -> Result<Deployment> {
        let d = self.deployment_raw(name).await?;
        Ok(self.unmapped(d))
    }

    async fn replica_sets_of(&mut self, deployment: &str) -> Result<Vec<ReplicaSet>> {
        let rss = self.replica_sets_raw(deployment).await?;
        Ok(rss.into_iter().map(|rs| self.unmapped(rs)).collect())
    }

    async fn pods_of(&mut self, deployment: &str) -> Result<Vec<Pod>> {
        let rss = self.replica_sets_raw(deployment).await?;
        let uids: Vec<String> = rss.iter().filter_map(|r| r.metadata.uid.clone()).collect();
        let all = self.list::<Pod>().await?;
        Ok(all
            .into_iter()
            .filter(|p| controller_uid(&p.metadata).is_some_and(|u| uids.iter().any(|x| x == u)))
            .map(|p| self.unmapped(p))
            .collect())
    }

    async fn events_about(&mut self, kind: &str, name: &str) -> Result<Vec<EventView>> {
        let all = self.list::<Event>().await?;
        let mut out: Vec<(Duration, EventView)> = all
            .into_iter()
            .filter(|e| {
                e.involved_object.name.as_deref() == Some(name)
                    && e.involved_object
                        .kind
                        .as_deref()
                        .is_some_and(|k| k.eq_ignore_ascii_case(kind))
            })
            .map(|e| {
                let first = e
                    .first_timestamp
                    .as_ref()
                    .map(|t| self.since_start(&t.0))
                    .unwrap_or_default();
                let last = e
                    .last_timestamp
                    .as_ref()
                    .map(|t| self.since_start(&t.0))
                    .unwrap_or(first);
                (
                    first,
                    EventView {
                        type_: e.type_.unwrap_or_default(),
                        reason: e.reason.unwrap_or_default(),
                        message: agnhost::unmap_text(
                            &self.as_default(&e.message.unwrap_or_default()),
                        ),
                        count: e.count.unwrap_or(1).max(0) as u32,
                        source: e.source.and_then(|s| s.component).unwrap_or_default(),
                        first,
                        last,
                    },
                )
            })
            .collect();
        out.sort_by_key(|(first, _)| *first);
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }

    async fn deployment_history(&mut self, name: &str) -> Result<DeploymentHistory> {
        self.deployment(name).await?;
        let changes = self.changes().await?;
        Ok(record::deployment_history(&changes, name, &self.stamps()))
    }

    async fn endpoint_slices_of(&mut self, service: &str) -> Result<Vec<EndpointSlice>> {
        let api: Api<EndpointSlice> = self.api();
        let lp = ListParams::default().labels(&format!("kubernetes.io/service-name={service}"));
        Ok(api.list(&lp).await.map_err(api_err)?.items)
    }

    async fn container_env(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<(String, String)>>> {
        let what = format!("reading the environment of container {container:?} of pod {pod:?}");
        let ns = self.ns.clone();
        let v = self.served(&what)?.container(&ns, pod, container).await?;
        let env: Option<Vec<(String, String)>> = decode(&v["env"], "the container's environment")?;
        Ok(env.map(|env| {
            env.into_iter()
                .map(|(k, v)| {
                    let v = self.as_default(&v);
                    (k, v)
                })
                .collect()
        }))
    }

    async fn container_command(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<String>>> {
        let what = format!("reading the command line of container {container:?} of pod {pod:?}");
        let ns = self.ns.clone();
        let v = self.served(&what)?.container(&ns, pod, container).await?;
        decode(&v["command"], "the container's command line")
    }

    async fn container_files(
        &mut self,
        pod: &str,
        container: &str,
    ) -> Result<Option<Vec<(String, String)>>> {
        let what = format!("reading the files of container {container:?} of pod {pod:?}");
        let ns = self.ns.clone();
        let v = self.served(&what)?.container(&ns, pod, container).await?;
        decode(&v["files"], "the container's files")
    }

    async fn set_probe_endpoint(
        &mut self,
        pod: &str,
        endpoint: ProbeEndpoint,
        passing: bool,
    ) -> Result<()> {
        let word = match endpoint {
            ProbeEndpoint::Readiness => "readiness",
            ProbeEndpoint::Liveness => "liveness",
        };
        let what = format!("flipping the {word} endpoint of pod {pod:?}");
        let ns = self.ns.clone();
        if let Some(served) = &self.served {
            return served.set_probe(&ns, pod, word, passing).await;
        }
        let marker = match endpoint {
            ProbeEndpoint::Readiness => "ready",
            ProbeEndpoint::Liveness => "live",
        };
        self.toggle_probe(pod, marker, passing)
            .await
            .map_err(|e| match e {
                Error::Unsupported(why) => self.refuse(format!("{what}: {why}")),
                e => e,
            })
    }

    async fn set_metric(&mut self, change: MetricChange) -> Result<()> {
        let what = format!("setting a metric ({change:?})");
        let ns = self.ns.clone();
        self.served(&what)?
            .set_metric(&ns, &change.to_engine())
            .await
    }

    async fn replicas_history(&mut self, kind: &str, name: &str) -> Result<Vec<(Duration, i32)>> {
        let watched = match kind.to_ascii_lowercase().as_str() {
            "deployment" => Watched::Deployment,
            "statefulset" => Watched::StatefulSet,
            "replicaset" => Watched::ReplicaSet,
            _ => {
                return Err(Error::Backend(format!(
                    "the replica history of a {kind} is not recorded; deployments, statefulsets \
                     and replicasets only"
                )));
            }
        };
        if self.get(kind, name).await?.is_none() {
            return Err(Error::NotFound {
                kind: kind.into(),
                name: name.into(),
            });
        }
        let changes = self.changes().await?;
        Ok(record::replicas_history(
            &changes,
            watched,
            name,
            &self.stamps(),
        ))
    }

    async fn delete(&mut self, kind: &str, name: &str) -> Result<()> {
        let (ar, namespaced) = self.resource(kind).await?;
        self.check_cluster_scoped(&ar, namespaced, name, "delete")
            .await?;
        let (api, _) = self.dynamic(kind).await?;
        api.delete(name, &DeleteParams::background())
            .await
            .map_err(api_err)?;
        Ok(())
    }

    async fn patch(&mut self, kind: &str, name: &str, patch: &Value) -> Result<()> {
        let (ar, namespaced) = self.resource(kind).await?;
        self.check_cluster_scoped(&ar, namespaced, name, "patch")
            .await?;
        if self.maps_images() {
            let patch = patch.clone();
            return self.mapped_write(kind, name, move |_| Ok(patch)).await;
        }
        let (api, _) = self.dynamic(kind).await?;
        api.patch(name, &PatchParams::default(), &Patch::Strategic(patch))
            .await
            .map_err(api_err)?;
        Ok(())
    }

    async fn set_image(
        &mut self,
        deployment: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<()> {
        self.set_template_image("deployment", deployment, container, image)
            .await
    }

    async fn scale(&mut self, deployment: &str, replicas: i32) -> Result<()> {
        self.api::<Deployment>()
            .patch_scale(
                deployment,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": replicas}})),
            )
            .await
            .map_err(api_err)?;
        Ok(())
    }

    async fn pause(&mut self, deployment: &str) -> Result<String> {
        let d = self.deployment(deployment).await?;
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let patch = verbs::pause_patch(deployment, paused, true).map_err(Error::Kubectl)?;
        self.api::<Deployment>()
            .patch(deployment, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(api_err)?;
        Ok(format!("deployment.apps/{deployment} paused"))
    }

    async fn resume(&mut self, deployment: &str) -> Result<String> {
        let d = self.deployment(deployment).await?;
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let patch = verbs::pause_patch(deployment, paused, false).map_err(Error::Kubectl)?;
        self.api::<Deployment>()
            .patch(deployment, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(api_err)?;
        Ok(format!("deployment.apps/{deployment} resumed"))
    }

    async fn undo(&mut self, deployment: &str, to_revision: i64) -> Result<String> {
        // As stored: the template copied back keeps its agnhost mapping.
        let d = self.deployment_raw(deployment).await?;
        let rss = self.replica_sets_raw(deployment).await?;
        let plan = crate::kubectl::undo(&d, &rss, to_revision).map_err(Error::Kubectl)?;
        match verbs::undo_patch(&plan) {
            None => match plan {
                kubespec_engine::kubectl::UndoPlan::Skip(msg) => Ok(msg),
                _ => unreachable!("undo_patch is None only for Skip"),
            },
            Some(patch) => {
                let api = self.api::<Deployment>();
                self.patch_json(&api, deployment, patch, "rollout undo")
                    .await?;
                Ok(format!("deployment.apps/{deployment} rolled back"))
            }
        }
    }

    async fn stateful_set_pod_history(&mut self, name: &str) -> Result<PodHistory> {
        self.stateful_set(name).await?;
        let changes = self.changes().await?;
        Ok(record::stateful_set_pod_history(
            &changes,
            name,
            &self.stamps(),
        ))
    }

    async fn scale_stateful_set(&mut self, name: &str, replicas: i32) -> Result<()> {
        self.api::<StatefulSet>()
            .patch_scale(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": replicas}})),
            )
            .await
            .map_err(api_err)?;
        Ok(())
    }

    async fn set_stateful_set_image(
        &mut self,
        name: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<()> {
        self.set_template_image("statefulset", name, container, image)
            .await
    }

    async fn undo_stateful_set(&mut self, name: &str, to_revision: i64) -> Result<String> {
        let s = self.stateful_set_raw(name).await?;
        let revisions = self.stateful_set_revisions(&s).await?;
        match crate::kubectl::stateful_set_undo(&s, &revisions, to_revision)
            .map_err(Error::Kubectl)?
        {
            None => Ok(format!(
                "skipped rollback (current template already matches revision {to_revision})"
            )),
            Some(template) => {
                let api = self.api::<StatefulSet>();
                let patch = verbs::stateful_set_undo_patch(&template);
                self.patch_json(&api, name, patch, "rollout undo").await?;
                Ok(format!("statefulset.apps/{name} rolled back"))
            }
        }
    }

    async fn stateful_set_rollout_history(&mut self, name: &str) -> Result<Vec<HistoryEntry>> {
        let s = self.stateful_set(name).await?;
        let revisions = self.stateful_set_revisions(&s).await?;
        Ok(crate::kubectl::stateful_set_history(&revisions))
    }

    async fn resolve_dns(&mut self, name: &str) -> Result<Vec<(String, String)>> {
        let what = format!("a DNS lookup of {name:?} from inside the cluster");
        let q = self.to_scenario_dns(name);
        self.served(&what)?.dns(&q).await
    }

    async fn srv_lookup(&mut self, name: &str) -> Result<Vec<String>> {
        let what = format!("an SRV lookup of {name:?} from inside the cluster");
        let q = self.to_scenario_dns(name);
        let targets = self.served(&what)?.srv(&q).await?;
        Ok(targets
            .iter()
            .map(|t| self.scenario_dns_as_default(t))
            .collect())
    }

    async fn elapsed(&mut self) -> Duration {
        match &self.served {
            Some(s) => s.elapsed(),
            None => self.wall_start.elapsed(),
        }
    }

    async fn advance(&mut self, d: Duration) -> Result<()> {
        if self.served.is_some() && self.controllers.is_some() {
            // Instant by instant, so controllers see every change before time moves on.
            let until = self.elapsed().await + d;
            loop {
                self.let_controllers_react().await?;
                let s = self.served.as_mut().expect("served");
                if !s.run(until, true).await? || s.elapsed() >= until {
                    break;
                }
            }
            let s = self.served.as_mut().expect("served");
            if s.elapsed() < until {
                s.run(until, false).await?;
            }
            return self.let_controllers_react().await;
        }
        match &mut self.served {
            Some(s) => {
                let until = s.elapsed() + d;
                s.run(until, false).await.map(drop)
            }
            None => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    async fn next_instant(&mut self, deadline: Duration) -> Result<bool> {
        self.let_controllers_react().await?;
        match &mut self.served {
            Some(s) => {
                if s.elapsed() >= deadline {
                    return Ok(false);
                }
                let moved = s.run(deadline, true).await?;
                self.let_controllers_react().await?;
                Ok(moved)
            }
            None => {
                let now = self.wall_start.elapsed();
                if now >= deadline {
                    return Ok(false);
                }
                let wait = (deadline - now).min(POLL);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.recorder.activity() => {}
                }
                Ok(self.wall_start.elapsed() < deadline)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_namespace_reads_as_default() {
        let ns = "kubespec-ab12cd34";
        let text = format!("controlled by multiple HPAs: [{ns}/web {ns}/web-memory]");
        assert_eq!(
            as_default(ns, &text),
            "controlled by multiple HPAs: [default/web default/web-memory]"
        );
        assert_eq!(
            as_default(ns, &format!("failed container app in pod app_{ns}(uid)")),
            "failed container app in pod app_default(uid)"
        );
        assert_eq!(as_default(ns, ns), "default");
        let mut obj = json!({"metadata": {"namespace": ns}, "status": {"conditions": [
            {"message": format!("[{ns}/web]"), "observedGeneration": 2}]}});
        rewrite_strings(&mut obj, &|t| as_default(ns, t));
        assert_eq!(
            obj,
            json!({"metadata": {"namespace": "default"}, "status": {"conditions": [
                {"message": "[default/web]", "observedGeneration": 2}]}})
        );
        assert_eq!(as_default(ns, "kubespec-other"), "kubespec-other");
    }

    #[test]
    fn the_kinds_steps_name_resolve_without_discovery() {
        let (ar, namespaced) = known_kind("deployment").unwrap();
        assert_eq!(
            (ar.api_version.as_str(), ar.plural.as_str()),
            ("apps/v1", "deployments")
        );
        assert!(namespaced);
        let (ar, namespaced) = known_kind("hpa").unwrap();
        assert_eq!(ar.api_version, "autoscaling/v2");
        assert!(namespaced);
        assert!(!known_kind("node").unwrap().1);
        assert!(known_kind("widget").is_none());
    }
}

/// The agnhost mapping wired into the backend, against an in-process served engine treated as
/// a real cluster (`plain`): what is stored, what steps read, and every write path.
#[cfg(test)]
mod agnhost_wiring {
    use super::*;

    async fn plain(no_containers: bool) -> (kubespec_server::AppState, Client, ClusterBackend) {
        let (state, client) = connect::in_process_engine(1);
        let target = Target::External(Connection {
            client: client.clone(),
            context: "plain".into(),
            keep_namespaces: false,
            plain: true,
            no_containers,
            agnhost_all_images: false,
            kubeconfig: None,
        });
        let b = ClusterBackend::start(&target, "agnhost", 1)
            .await
            .expect("start");
        (state, client, b)
    }

    const WEB: &str = "
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: web:v1
        readinessProbe:
          httpGet: {path: /ready, port: 8080}
";

    async fn stored(client: &Client, ns: &str) -> Deployment {
        Api::<Deployment>::namespaced(client.clone(), ns)
            .get("web")
            .await
            .expect("get")
    }

    fn container(d: &Deployment) -> &k8s_openapi::api::core::v1::Container {
        &d.spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0]
    }

    #[tokio::test]
    async fn writes_map_and_reads_unmap() {
        let (_state, client, mut b) = plain(false).await;
        b.set_image_behaviour("web:v1", ImageChange::StartsIn(Duration::from_secs(2)))
            .await
            .expect("described");
        b.set_image_behaviour("web:v2", ImageChange::NeverReady)
            .await
            .expect("described");
        let m = crate::manifest::parse_manifests(WEB, "web.yaml").expect("manifest");
        b.apply(&m[0]).await.expect("apply");
        let ns = b.namespace().to_string();
        let d = stored(&client, &ns).await;
        assert_eq!(container(&d).image.as_deref(), Some(agnhost::AGNHOST));
        assert!(
            container(&d)
                .readiness_probe
                .as_ref()
                .unwrap()
                .exec
                .is_some()
        );
        // Steps read the manifest.
        let read = b.deployment("web").await.expect("read");
        assert_eq!(container(&read).image.as_deref(), Some("web:v1"));
        let probe = container(&read).readiness_probe.as_ref().unwrap();
        assert_eq!(
            probe.http_get.as_ref().unwrap().path.as_deref(),
            Some("/ready")
        );
        assert!(container(&read).command.is_none());

        // set image to another described image: one template change, mapped again.
        let generation = d.metadata.generation;
        b.set_image("web", None, "web:v2").await.expect("set image");
        let d = stored(&client, &ns).await;
        assert_eq!(d.metadata.generation, generation.map(|g| g + 1));
        let script = &container(&d).command.as_ref().unwrap()[2];
        assert!(!script.contains("sleep 2"), "{script}");
        let kept = &d
            .spec
            .as_ref()
            .unwrap()
            .template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap()[agnhost::ANNOTATION];
        assert!(kept.contains("\"web:v2\""), "{kept}");
        let read = b.deployment("web").await.expect("read");
        assert_eq!(container(&read).image.as_deref(), Some("web:v2"));

        // A patch to an image no step describes: it runs as written, nothing left mapped.
        b.patch(
            "deployment",
            "web",
            &json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "nginx:1.27"}]}}}}),
        )
        .await
        .expect("patch");
        let d = stored(&client, &ns).await;
        assert_eq!(container(&d).image.as_deref(), Some("nginx:1.27"));
        assert!(container(&d).command.is_none());
        assert_eq!(
            container(&d)
                .readiness_probe
                .as_ref()
                .unwrap()
                .http_get
                .as_ref()
                .unwrap()
                .path
                .as_deref(),
            Some("/ready")
        );

        // Undo copies the stored (mapped) template of revision 2 back.
        b.undo("web", 0).await.expect("undo");
        let d = stored(&client, &ns).await;
        assert_eq!(container(&d).image.as_deref(), Some(agnhost::AGNHOST));
        let read = b.deployment("web").await.expect("read");
        assert_eq!(container(&read).image.as_deref(), Some("web:v2"));
        b.end().await.expect("end");
    }

    #[tokio::test]
    async fn kwok_runs_no_containers_so_image_behaviour_is_refused() {
        let (_state, _client, mut b) = plain(true).await;
        let e = b
            .set_image_behaviour("web:v1", ImageChange::CrashesOnStart)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)), "{e}");
        assert!(e.to_string().contains("kwok"), "{e}");
        assert!(b.take_unsupported().is_some());
        b.end().await.expect("end");
    }
}

//! What users do to the cluster: create-or-update objects from manifests, and the edits behind
//! kubectl's verbs. Every user write is defaulted and validated like the API server does.
//!
//! Controllers do not use this module; they write through [`Cluster::create`] and
//! [`Cluster::update`] directly.

use crate::api::{ApiError, defaults, validation};
use crate::controllers::deployment::util;
use crate::store::{GenericObject, Kind, ObjectKey, Resource};
use crate::{Cluster, kubectl};
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};

/// Counters for benchmarks and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub pods_created: u64,
    pub writes: u64,
    /// ReplicaSet syncs run (`syncReplicaSet`).
    pub replicaset_syncs: u64,
    /// Pods read by ReplicaSet syncs while counting their pods.
    pub replicaset_pods_scanned: u64,
    /// Deployment syncs run (`syncDeployment`).
    pub deployment_syncs: u64,
    /// Events recorded, repeats included.
    pub events: u64,
    /// Probes the kubelet ran.
    pub probes: u64,
    /// HorizontalPodAutoscaler reconciles run.
    pub hpa_syncs: u64,
}

impl Cluster {
    /// `kubectl apply` of a Deployment: create it, or update the live one. Fields the manifest
    /// leaves out keep the server's defaults; `spec.replicas` left out keeps the live value (as a
    /// three-way merge does when the manifest never set it); annotations set by controllers stay.
    pub fn apply_deployment(&mut self, mut d: Deployment) -> Result<ObjectKey, ApiError> {
        let replicas_given = d.spec.as_ref().and_then(|s| s.replicas).is_some();
        defaults::default_deployment(&mut d);
        let key = ObjectKey::of(&d.metadata);
        if self.store.deployments.contains_key(&key) {
            self.update_deployment(&key, move |live| {
                let replicas = live.spec.as_ref().and_then(|s| s.replicas);
                let mut spec = d.spec.take();
                if !replicas_given && let Some(s) = spec.as_mut() {
                    s.replicas = replicas;
                }
                live.spec = spec;
                merge_map(&mut live.metadata.labels, d.metadata.labels.take());
                merge_map(
                    &mut live.metadata.annotations,
                    d.metadata.annotations.take(),
                );
            })?;
            return Ok(key);
        }
        validation::validate_deployment(&d)?;
        let key = self.create(d)?;
        let now = self.now();
        self.observer.template_changed(now, &key, None);
        Ok(key)
    }

    /// Changes a Deployment as a user would (kubectl edit/patch/set/scale): the result is
    /// defaulted and validated, and a pod-template change is recorded for rollout observations.
    /// Returns whether anything changed.
    pub fn update_deployment(
        &mut self,
        key: &ObjectKey,
        f: impl FnOnce(&mut Deployment),
    ) -> Result<bool, ApiError> {
        let Some(old) = self.store.deployments.get(key).cloned() else {
            return Err(ApiError::not_found(Kind::Deployment, &key.name));
        };
        let mut new = old.clone();
        f(&mut new);
        new.metadata.name = old.metadata.name.clone();
        new.metadata.namespace = old.metadata.namespace.clone();
        new.status = old.status.clone();
        defaults::default_deployment(&mut new);
        validation::validate_deployment(&new)?;
        validation::validate_deployment_update(&old, &new)?;
        let template_changed =
            !util::equal_ignore_hash(&util::template(&old), &util::template(&new));
        let before = crate::observe::sample_of(self, key);
        let changed = self.update(new)?;
        if changed && template_changed {
            let now = self.now();
            self.observer.template_changed(now, key, before);
        }
        Ok(changed)
    }

    /// `kubectl set image deployment/<name> <container>=<image>`; `container` `*` sets every
    /// container. Refused when no container has that name.
    pub fn set_deployment_image(
        &mut self,
        key: &ObjectKey,
        container: &str,
        image: &str,
    ) -> Result<bool, ApiError> {
        let d = self
            .store
            .deployments
            .get(key)
            .ok_or_else(|| ApiError::not_found(Kind::Deployment, &key.name))?;
        let names: Vec<String> = util::template(d)
            .spec
            .map(|s| s.containers.into_iter().map(|c| c.name).collect())
            .unwrap_or_default();
        if container != "*" && !names.iter().any(|n| n == container) {
            return Err(ApiError::bad_request(format!(
                "unable to find container named \"{container}\""
            )));
        }
        self.update_deployment(key, |d| {
            if let Some(spec) = d.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
                for c in spec
                    .containers
                    .iter_mut()
                    .filter(|c| container == "*" || c.name == container)
                {
                    c.image = Some(image.to_string());
                }
            }
        })
    }

    /// Applies the plan of `kubectl rollout undo`; returns kubectl's message.
    pub fn undo_deployment(&mut self, key: &ObjectKey, to_revision: i64) -> Result<String, String> {
        let d = self
            .store
            .deployments
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(Kind::Deployment, &key.name).to_string())?;
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let rss: Vec<ReplicaSet> = self
            .store
            .replicasets_owned_by(&uid)
            .into_iter()
            .filter(|rs| util::is_controlled_by(rs, &d))
            .cloned()
            .collect();
        match kubectl::undo(&d, &rss, to_revision)? {
            kubectl::UndoPlan::Skip(msg) => Ok(msg),
            kubectl::UndoPlan::Patch {
                template,
                annotations,
            } => {
                self.update_deployment(key, |d| {
                    if let Some(s) = d.spec.as_mut() {
                        s.template = template;
                    }
                    d.metadata.annotations = Some(annotations);
                })
                .map_err(|e| e.to_string())?;
                Ok(format!("deployment.apps/{} rolled back", key.name))
            }
        }
    }

    /// Whether `kubectl rollout status` would report success now.
    pub fn deployment_complete(&self, key: &ObjectKey) -> bool {
        self.store
            .deployments
            .get(key)
            .is_some_and(|d| kubectl::rollout_status(d, 0).is_done())
    }

    /// Creates or replaces a ReplicaSet from a manifest.
    pub fn apply_replica_set(&mut self, mut rs: ReplicaSet) -> Result<ObjectKey, ApiError> {
        defaults::default_replica_set(&mut rs);
        validation::validate_replica_set(&rs)?;
        self.create_or_replace_spec(rs)
    }

    /// Creates or replaces a Pod from a manifest.
    pub fn apply_pod(&mut self, mut p: Pod) -> Result<ObjectKey, ApiError> {
        defaults::default_pod(&mut p);
        validation::validate_pod(&p)?;
        let key = ObjectKey::of(&p.metadata);
        if let Some(live) = self.store.pods.get(&key) {
            // Pod specs are immutable apart from images and a few fields; like kubectl, only
            // metadata and container images are applied to a live pod.
            let mut live = live.clone();
            merge_map(&mut live.metadata.labels, p.metadata.labels.take());
            merge_map(
                &mut live.metadata.annotations,
                p.metadata.annotations.take(),
            );
            self.update(live)?;
            return Ok(key);
        }
        self.create(p)
    }

    fn create_or_replace_spec<T>(&mut self, obj: T) -> Result<ObjectKey, ApiError>
    where
        T: Resource + HasSpec,
    {
        let key = ObjectKey::of(obj.meta());
        match T::table(&self.store).get(&key).cloned() {
            Some(mut live) => {
                live.take_spec_from(obj);
                self.update(live)?;
                Ok(key)
            }
            None => self.create(obj),
        }
    }

    /// Creates or replaces an object of a kind no controller acts on.
    pub fn apply_generic(&mut self, mut obj: GenericObject) -> ObjectKey {
        if obj.kind == "Service"
            && let Ok(mut svc) =
                serde_json::from_value::<k8s_openapi::api::core::v1::Service>(obj.value.clone())
        {
            let key = ObjectKey::of(&svc.metadata);
            let live = crate::controllers::endpointslice::service(self, &key);
            crate::controllers::endpointslice::default_service(
                &mut svc,
                live.as_ref(),
                &mut self.next_service_ip,
            );
            if let Ok(mut v) = serde_json::to_value(&svc) {
                v["apiVersion"] = obj.api_version.clone().into();
                v["kind"] = obj.kind.clone().into();
                obj.value = v;
            }
        }
        self.put_generic(obj)
    }

    /// `kubectl apply` of a HorizontalPodAutoscaler (`autoscaling/v2` or `v1`, stored as v2):
    /// defaulted and validated like the API server does; an update keeps the status.
    pub fn apply_hpa(
        &mut self,
        api_version: &str,
        value: serde_json::Value,
    ) -> Result<ObjectKey, ApiError> {
        use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
        let mut hpa = crate::api::autoscaling::hpa_from_json(api_version, value)?;
        if hpa.metadata.namespace.is_none() {
            hpa.metadata.namespace = Some("default".into());
        }
        let key = ObjectKey::of(&hpa.metadata);
        let old = self.store.horizontal_pod_autoscalers.get(&key).cloned();
        crate::api::autoscaling::admit_hpa(&mut hpa, old.as_ref())?;
        match old {
            Some(mut live) => {
                live.spec = hpa.spec;
                merge_map(&mut live.metadata.labels, hpa.metadata.labels.take());
                merge_map(
                    &mut live.metadata.annotations,
                    hpa.metadata.annotations.take(),
                );
                self.update::<HorizontalPodAutoscaler>(live)?;
                Ok(key)
            }
            None => self.create(hpa),
        }
    }

    /// Sets the total demand of `resource` on a workload, spread over its ready pods; `shape`
    /// gives the total over time.
    pub fn set_load(
        &mut self,
        workload: crate::metrics::Workload,
        resource: crate::metrics::Resource,
        shape: crate::metrics::Shape,
    ) {
        self.metrics.per_pod.remove(&(workload.clone(), resource));
        self.metrics.loads.insert((workload, resource), shape);
    }

    /// Sets the usage of `resource` of every pod of a workload (milli-units).
    pub fn set_pod_usage(
        &mut self,
        workload: crate::metrics::Workload,
        resource: crate::metrics::Resource,
        each: i64,
    ) {
        self.metrics.loads.remove(&(workload.clone(), resource));
        self.metrics.per_pod.insert((workload, resource), each);
    }

    /// Sets a `Pods` metric: the value every pod of the workload reports (milli-units).
    pub fn set_pods_metric(
        &mut self,
        workload: crate::metrics::Workload,
        metric: &str,
        value: i64,
    ) {
        self.metrics
            .pod_metrics
            .insert((workload, metric.to_string()), value);
    }

    /// Sets an `Object` metric described by `kind`/`key` (milli-units).
    pub fn set_object_metric(&mut self, kind: &str, key: ObjectKey, metric: &str, value: i64) {
        self.metrics
            .object_metrics
            .insert((kind.to_ascii_lowercase(), key, metric.to_string()), value);
    }

    /// Sets an `External` metric's value (milli-units).
    pub fn set_external_metric(&mut self, metric: &str, value: i64) {
        self.metrics.external.insert(metric.to_string(), value);
    }

    /// Applies a [`crate::metrics::Change`] to the workloads of `namespace`, from now on.
    ///
    /// # Errors
    ///
    /// The workload kind is not a deployment, replicaset or statefulset, or the resource is
    /// not cpu or memory.
    pub fn set_metric(
        &mut self,
        namespace: &str,
        change: crate::metrics::Change,
    ) -> Result<(), String> {
        use crate::metrics::{Change, Resource, Shape, Workload};
        use crate::time::Millis;
        let workload = |kind: &str, name: &str| -> Result<Workload, String> {
            let kind = match kind.to_ascii_lowercase().as_str() {
                "deployment" => "Deployment",
                "replicaset" => "ReplicaSet",
                "statefulset" => "StatefulSet",
                other => {
                    return Err(format!(
                        "a load or metric applies to a deployment, replicaset or statefulset, not a {other}"
                    ));
                }
            };
            Ok(Workload::new(kind, ObjectKey::new(namespace, name)))
        };
        let resource = |r: &str| {
            Resource::parse(r).ok_or_else(|| format!("unknown resource {r:?}: cpu or memory"))
        };
        let now = self.now();
        match change {
            Change::Load {
                kind,
                name,
                resource: r,
                points,
                ramp,
            } => {
                let shape = Shape {
                    points: points
                        .into_iter()
                        .map(|(after, v)| (now + Millis(after), v))
                        .collect(),
                    interpolate: ramp,
                };
                self.set_load(workload(&kind, &name)?, resource(&r)?, shape);
            }
            Change::PodUsage {
                kind,
                name,
                resource: r,
                each,
            } => self.set_pod_usage(workload(&kind, &name)?, resource(&r)?, each),
            Change::PodsMetric {
                kind,
                name,
                metric,
                value,
            } => self.set_pods_metric(workload(&kind, &name)?, &metric, value),
            Change::ObjectMetric {
                kind,
                name,
                metric,
                value,
            } => self.set_object_metric(&kind, ObjectKey::new(namespace, &name), &metric, value),
            Change::External { metric, value } => self.set_external_metric(&metric, value),
        }
        Ok(())
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }
}

/// User operations on StatefulSets and their claims (`kubectl apply`, `scale`, `set image`,
/// `rollout undo`). Defaulted and validated like every user write.
impl Cluster {
    /// `kubectl apply` of a StatefulSet: create it, or update the live one (a manifest without
    /// `spec.replicas` keeps the live value).
    pub fn apply_stateful_set(&mut self, mut s: StatefulSet) -> Result<ObjectKey, ApiError> {
        let replicas_given = s.spec.as_ref().and_then(|sp| sp.replicas).is_some();
        defaults::default_stateful_set(&mut s);
        let key = ObjectKey::of(&s.metadata);
        if self.store.statefulsets.contains_key(&key) {
            self.update_stateful_set(&key, move |live| {
                let replicas = live.spec.as_ref().and_then(|sp| sp.replicas);
                let mut spec = s.spec.take();
                if !replicas_given && let Some(sp) = spec.as_mut() {
                    sp.replicas = replicas;
                }
                live.spec = spec;
                merge_map(&mut live.metadata.labels, s.metadata.labels.take());
                merge_map(
                    &mut live.metadata.annotations,
                    s.metadata.annotations.take(),
                );
            })?;
            return Ok(key);
        }
        validation::validate_stateful_set(&s)?;
        self.create(s)
    }

    /// Changes a StatefulSet as a user would; the result is defaulted and validated. Returns
    /// whether anything changed.
    pub fn update_stateful_set(
        &mut self,
        key: &ObjectKey,
        f: impl FnOnce(&mut StatefulSet),
    ) -> Result<bool, ApiError> {
        let Some(old) = self.store.statefulsets.get(key).cloned() else {
            return Err(ApiError::not_found(Kind::StatefulSet, &key.name));
        };
        let mut new = old.clone();
        f(&mut new);
        new.metadata.name = old.metadata.name.clone();
        new.metadata.namespace = old.metadata.namespace.clone();
        new.status = old.status.clone();
        defaults::default_stateful_set(&mut new);
        validation::validate_stateful_set_update(&old, &new)?;
        self.update(new)
    }

    /// `kubectl set image statefulset/<name> <container>=<image>`; `*` sets every container.
    pub fn set_stateful_set_image(
        &mut self,
        key: &ObjectKey,
        container: &str,
        image: &str,
    ) -> Result<bool, ApiError> {
        let s = self
            .store
            .statefulsets
            .get(key)
            .ok_or_else(|| ApiError::not_found(Kind::StatefulSet, &key.name))?;
        let known = s.spec.as_ref().is_some_and(|sp| {
            sp.template
                .spec
                .iter()
                .flat_map(|p| &p.containers)
                .any(|c| container == "*" || c.name == container)
        });
        if !known {
            return Err(ApiError::bad_request(format!(
                "unable to find container named \"{container}\""
            )));
        }
        self.update_stateful_set(key, |s| {
            if let Some(p) = s.spec.as_mut().and_then(|sp| sp.template.spec.as_mut()) {
                for c in p
                    .containers
                    .iter_mut()
                    .filter(|c| container == "*" || c.name == container)
                {
                    c.image = Some(image.to_string());
                }
            }
        })
    }

    /// `kubectl scale statefulset/<name> --replicas=<n>`.
    pub fn scale_stateful_set(&mut self, key: &ObjectKey, replicas: i32) -> Result<bool, ApiError> {
        self.update_stateful_set(key, |s| {
            s.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
        })
    }

    /// The ControllerRevisions a StatefulSet controls.
    pub fn stateful_set_revisions(&self, key: &ObjectKey) -> Vec<ControllerRevision> {
        match self.store.statefulsets.get(key) {
            Some(s) => crate::controllers::statefulset::owned_revisions(self, s),
            None => Vec::new(),
        }
    }

    /// `kubectl rollout undo statefulset/<name> [--to-revision=N]`; returns kubectl's message.
    pub fn undo_stateful_set(
        &mut self,
        key: &ObjectKey,
        to_revision: i64,
    ) -> Result<String, String> {
        let s = self
            .store
            .statefulsets
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(Kind::StatefulSet, &key.name).to_string())?;
        let revisions = self.stateful_set_revisions(key);
        match kubectl::stateful_set_undo(&s, &revisions, to_revision)? {
            None => Ok(format!(
                "skipped rollback (current template already matches revision {to_revision})"
            )),
            Some(template) => {
                self.update_stateful_set(key, |s| {
                    if let Some(sp) = s.spec.as_mut() {
                        sp.template = template;
                    }
                })
                .map_err(|e| e.to_string())?;
                Ok(format!("statefulset.apps/{} rolled back", key.name))
            }
        }
    }

    /// Creates (and binds, through the default StorageClass) or updates a
    /// PersistentVolumeClaim from a manifest.
    pub fn apply_persistent_volume_claim(
        &mut self,
        mut claim: PersistentVolumeClaim,
    ) -> Result<ObjectKey, ApiError> {
        if claim.metadata.namespace.is_none() {
            claim.metadata.namespace = Some("default".into());
        }
        let key = ObjectKey::of(&claim.metadata);
        if let Some(live) = self.store.persistentvolumeclaims.get(&key) {
            let mut live = live.clone();
            merge_map(&mut live.metadata.labels, claim.metadata.labels.take());
            merge_map(
                &mut live.metadata.annotations,
                claim.metadata.annotations.take(),
            );
            self.update(live)?;
            return Ok(key);
        }
        claim.status = None;
        let key = self.create(claim)?;
        crate::controllers::statefulset::pvc::bind_claim(self, &key);
        Ok(key)
    }
}

/// Objects whose spec and metadata a manifest replaces.
pub trait HasSpec {
    fn take_spec_from(&mut self, other: Self);
}

impl HasSpec for ReplicaSet {
    fn take_spec_from(&mut self, mut other: Self) {
        self.spec = other.spec.take();
        merge_map(&mut self.metadata.labels, other.metadata.labels.take());
        merge_map(
            &mut self.metadata.annotations,
            other.metadata.annotations.take(),
        );
    }
}

fn merge_map(
    live: &mut Option<std::collections::BTreeMap<String, String>>,
    applied: Option<std::collections::BTreeMap<String, String>>,
) {
    if let Some(applied) = applied {
        live.get_or_insert_with(Default::default).extend(applied);
    }
}

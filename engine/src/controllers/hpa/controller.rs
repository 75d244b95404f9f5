//! The HPA controller loop: one reconcile per HPA every sync period, reading the target
//! through its scale subresource, the pods through its selector and the samples of
//! [`crate::metrics`]. See [`sync_hpa`].
//!
//! Mirrors `reconcileAutoscaler`, `computeReplicasForMetrics`, `computeReplicasForMetric` and
//! the `computeStatusFor*Metric` functions of `pkg/controller/podautoscaler/horizontal.go`
//! (v1.34), with the error wrapping of `replica_calculator.go` and the metrics clients, so the
//! conditions and events read word for word as a real cluster's. The arithmetic is the pure
//! core in [`super::replica_calculator`] and [`super::horizontal`].

use super::conditions::{Condition, Reason, event, message, metric_name, set_condition_in_list};
use super::horizontal::{
    HpaState, MetricFailure, MetricProposal, ReplicaBounds, check_replica_bounds,
    compute_replicas_for_metrics, normalize_desired_replicas,
    normalize_desired_replicas_with_behaviors, rescale_reason_for, store_scale_event,
};
use super::metrics::{PodMetric, PodMetricsInfo};
use super::replica_calculator::{
    ConditionStatus, ContainerRequests, PodInfo, PodPhase, ReadyCondition, ReplicaCalculator,
    Tolerances,
};
use super::{DOWNSCALE_STABILISATION_WINDOW, SYNC_PERIOD};
use crate::cluster::{Cluster, Work};
use crate::events::EventType;
use crate::metrics::{Resource, Workload};
use crate::store::ObjectKey;
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::{
    ContainerResourceMetricStatus, CrossVersionObjectReference, ExternalMetricStatus,
    HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus, MetricIdentifier, MetricSpec,
    MetricStatus, MetricValueStatus, ObjectMetricStatus, PodsMetricStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// The component name on the HPA's events.
pub const SOURCE: &str = "horizontal-pod-autoscaler";

/// The controller's per-HPA memory, keyed by HPA, and the selector each HPA's target had at its
/// last sync (upstream's `hpaSelectors`, used to find pods controlled by more than one HPA).
#[derive(Clone, Debug, Default)]
pub struct HpaStates(
    BTreeMap<ObjectKey, HpaState>,
    BTreeMap<ObjectKey, LabelSelector>,
);

impl HpaStates {
    /// Starts tracking an HPA; returns whether it was new.
    pub(crate) fn insert_if_new(&mut self, key: &ObjectKey) -> bool {
        if self.0.contains_key(key) {
            return false;
        }
        self.0.insert(key.clone(), HpaState::default());
        true
    }

    pub(crate) fn remove(&mut self, key: &ObjectKey) {
        self.0.remove(key);
        self.1.remove(key);
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&HpaState> {
        self.0.get(key)
    }
}

impl Cluster {
    /// What the HPA controller remembers about the HPA under `key` (recommendations and scale
    /// events), once it has seen it.
    pub fn hpa_state(&self, key: &ObjectKey) -> Option<&HpaState> {
        self.hpa_states.get(key)
    }
}

/// A target's scale subresource (`autoscaling/v1 Scale`).
#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    pub spec_replicas: i32,
    pub status_replicas: i32,
    pub selector: Option<LabelSelector>,
}

/// The workloads with a scale subresource, by API group: `RESTMappings` finds nothing else.
fn known_kind(group: &str, kind: &str) -> bool {
    group == "apps" && matches!(kind, "Deployment" | "ReplicaSet" | "StatefulSet")
}

/// `scaleForResourceMappings`: the target's scale, or the error message the API gives.
pub fn get_scale(
    c: &Cluster,
    namespace: &str,
    r: &CrossVersionObjectReference,
) -> Result<Scale, String> {
    let api_version = r.api_version.as_deref().unwrap_or("");
    let group = match api_version.split_once('/') {
        Some((g, v)) if !v.contains('/') => g,
        Some(_) => return Err(format!("unexpected GroupVersion string: {api_version}")),
        None => "",
    };
    if !known_kind(group, &r.kind) {
        return Err(format!(
            "no matches for kind \"{}\" in group \"{group}\"",
            r.kind
        ));
    }
    let key = ObjectKey::new(namespace, r.name.clone());
    let found = match r.kind.as_str() {
        "Deployment" => scale_of::<Deployment>(c, &key),
        "ReplicaSet" => scale_of::<ReplicaSet>(c, &key),
        _ => scale_of::<StatefulSet>(c, &key),
    };
    found.ok_or_else(|| {
        let resource = crate::api::resource_name(
            crate::store::Kind::parse(&r.kind).unwrap_or(crate::store::Kind::StatefulSet),
        );
        format!("{resource} \"{}\" not found", r.name)
    })
}

/// The workloads with a scale subresource: `spec.replicas` (1 when unset), `status.replicas`
/// and `spec.selector`.
trait Scalable: crate::store::Resource {
    fn scale(&self) -> Scale;
    fn set_replicas(&mut self, replicas: i32);
}

macro_rules! scalable {
    ($ty:ty, $status_replicas:expr) => {
        impl Scalable for $ty {
            fn scale(&self) -> Scale {
                let spec = self.spec.as_ref();
                Scale {
                    spec_replicas: spec.and_then(|s| s.replicas).unwrap_or(1),
                    status_replicas: self.status.as_ref().map_or(0, $status_replicas),
                    selector: spec.map(|s| s.selector.clone()),
                }
            }
            fn set_replicas(&mut self, replicas: i32) {
                self.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
            }
        }
    };
}

scalable!(Deployment, |s| s.replicas.unwrap_or(0));
scalable!(ReplicaSet, |s| s.replicas);
scalable!(StatefulSet, |s| s.replicas);

fn scale_of<T: Scalable>(c: &Cluster, key: &ObjectKey) -> Option<Scale> {
    T::table(&c.store).get(key).map(T::scale)
}

fn set_replicas<T: Scalable>(
    c: &mut Cluster,
    key: &ObjectKey,
    replicas: i32,
) -> Result<(), String> {
    c.modify::<T>(key, |o| o.set_replicas(replicas))
        .map(|_| ())
        .map_err(|e| e.message)
}

/// Writes `spec.replicas` through the scale subresource (`kind` is one [`known_kind`] accepts).
pub fn update_scale(
    c: &mut Cluster,
    namespace: &str,
    r: &CrossVersionObjectReference,
    replicas: i32,
) -> Result<(), String> {
    let key = ObjectKey::new(namespace, r.name.clone());
    match r.kind.as_str() {
        "Deployment" => set_replicas::<Deployment>(c, &key, replicas),
        "ReplicaSet" => set_replicas::<ReplicaSet>(c, &key, replicas),
        _ => set_replicas::<StatefulSet>(c, &key, replicas),
    }
}

/// What the calculator needs of a pod.
fn pod_info(p: &Pod) -> PodInfo {
    let status = p.status.as_ref();
    let phase = match status.and_then(|s| s.phase.as_deref()) {
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        Some("Unknown") => PodPhase::Unknown,
        _ => PodPhase::Pending,
    };
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| ReadyCondition {
            status: match c.status.as_str() {
                "True" => ConditionStatus::True,
                "False" => ConditionStatus::False,
                _ => ConditionStatus::Unknown,
            },
            last_transition_time: c
                .last_transition_time
                .as_ref()
                .map_or(Millis::ZERO, Millis::from_time),
        });
    let requests = |c: &k8s_openapi::api::core::v1::Container| ContainerRequests {
        name: c.name.clone(),
        requests: c
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|(k, q)| {
                crate::quantity::milli_value(&q.0)
                    .ok()
                    .map(|v| (k.clone(), v))
            })
            .collect(),
    };
    let spec = p.spec.as_ref();
    let mut containers: Vec<ContainerRequests> = spec
        .into_iter()
        .flat_map(|s| s.containers.iter())
        .map(requests)
        .collect();
    containers.extend(
        spec.into_iter()
            .flat_map(|s| s.init_containers.iter().flatten())
            .filter(|c| c.restart_policy.as_deref() == Some("Always"))
            .map(requests),
    );
    PodInfo {
        name: p.metadata.name.clone().unwrap_or_default(),
        phase,
        ready,
        start_time: status
            .and_then(|s| s.start_time.as_ref())
            .map(Millis::from_time),
        deleting: p.metadata.deletion_timestamp.is_some(),
        containers,
    }
}

/// `%+v` of a `*metav1.LabelSelector`, as the metric descriptions and errors print it.
fn go_selector(s: Option<&LabelSelector>) -> String {
    let Some(s) = s else {
        return "nil".to_string();
    };
    let labels: String = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {v},"))
        .collect();
    let exprs: String = s
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                e.key,
                e.operator,
                e.values.clone().unwrap_or_default().join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )
}

fn milli(v: i64) -> Quantity {
    Quantity(crate::quantity::format_milli(v))
}

fn target_milli(q: Option<&Quantity>) -> Option<i64> {
    q.and_then(|q| crate::quantity::milli_value(&q.0).ok())
}

/// Everything one metric's computation needs.
struct Inputs<'a> {
    key: &'a ObjectKey,
    spec_replicas: i32,
    status_replicas: i32,
    /// The pods the target's selector matches.
    pods: &'a [PodInfo],
    pod_keys: &'a [ObjectKey],
    now: Millis,
}

/// One metric's outcome: the proposal or the failure, and the metric's status entry (empty on
/// failure, as upstream leaves it).
type Outcome = (Result<MetricProposal, MetricFailure>, MetricStatus);

fn failure(
    c: &mut Cluster,
    hpa_key: &ObjectKey,
    reason: Reason,
    condition_error: String,
    prefix: &str,
) -> Outcome {
    // `computeReplicasForMetric` wraps the error once more for the FailedComputeMetricsReplicas
    // event; `getUnableComputeReplicaCountCondition` records the inner one.
    let outer_error = if prefix.is_empty() {
        condition_error.clone()
    } else {
        format!("{prefix}: {condition_error}")
    };
    c.record_event_for::<HorizontalPodAutoscaler>(
        hpa_key,
        EventType::Warning,
        reason.as_str(),
        condition_error.clone(),
        SOURCE,
    );
    (
        Err(MetricFailure {
            condition: Condition::new(
                false,
                reason,
                message::unable_to_compute_replica_count(&condition_error),
            ),
            error: outer_error,
        }),
        MetricStatus::default(),
    )
}

/// The resource samples of the selected pods (`GetResourceMetric`), or the client's error.
fn resource_samples(
    c: &Cluster,
    inputs: &Inputs<'_>,
    resource: &str,
    container: Option<&str>,
) -> Result<PodMetricsInfo, String> {
    let r = Resource::parse(resource);
    let mut out = PodMetricsInfo::new();
    for key in inputs.pod_keys {
        let Some(sample) = c.metrics.samples.get(key) else {
            continue;
        };
        let value = match r {
            Some(r) => sample.usage(r, container),
            None => None,
        };
        if let Some(value) = value {
            out.insert(
                key.name.to_string(),
                PodMetric {
                    value,
                    timestamp: sample.timestamp,
                    window: sample.window,
                },
            );
        }
    }
    if out.is_empty() {
        return Err(format!(
            "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        ));
    }
    Ok(out)
}

/// `computeStatusForResourceMetricGeneric`, for Resource (`container` None) and
/// ContainerResource metrics.
fn resource_metric(
    c: &mut Cluster,
    inputs: &Inputs<'_>,
    resource: &str,
    container: Option<&str>,
    target: &k8s_openapi::api::autoscaling::v2::MetricTarget,
) -> Outcome {
    let (reason, outer) = match container {
        None => (
            Reason::FailedGetResourceMetric,
            format!("failed to get {resource} resource metric value"),
        ),
        Some(ct) => (
            Reason::FailedGetContainerResourceMetric,
            format!("failed to get {ct} container metric value"),
        ),
    };
    let calc = ReplicaCalculator::default();
    let tolerances = Tolerances::default();
    let status = |current: MetricValueStatus| match container {
        None => MetricStatus {
            type_: "Resource".into(),
            resource: Some(ResourceMetricStatus {
                name: resource.to_string(),
                current,
            }),
            ..Default::default()
        },
        Some(ct) => MetricStatus {
            type_: "ContainerResource".into(),
            container_resource: Some(ContainerResourceMetricStatus {
                name: resource.to_string(),
                container: ct.to_string(),
                current,
            }),
            ..Default::default()
        },
    };
    if let Some(avg) = target_milli(target.average_value.as_ref()) {
        let result = resource_samples(c, inputs, resource, container).and_then(|m| {
            calc.get_raw_resource_replicas(
                inputs.spec_replicas,
                avg,
                resource,
                tolerances,
                inputs.pods,
                m,
                inputs.now,
            )
            .map_err(|e| e.to_string())
        });
        return match result {
            Ok((replicas, usage)) => (
                Ok(MetricProposal {
                    replicas,
                    metric: metric_name::resource(resource),
                }),
                status(MetricValueStatus {
                    average_value: Some(milli(usage)),
                    ..Default::default()
                }),
            ),
            Err(e) => {
                let inner = format!("failed to get {resource} usage: {e}");
                failure(c, inputs.key, reason, inner, &outer)
            }
        };
    }
    let Some(target_utilization) = target.average_utilization else {
        let inner = "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set".to_string();
        return failure(c, inputs.key, reason, inner, &outer);
    };
    let result = resource_samples(c, inputs, resource, container).and_then(|m| {
        calc.get_resource_replicas(
            inputs.spec_replicas,
            target_utilization,
            resource,
            tolerances,
            container,
            inputs.pods,
            m,
            inputs.now,
        )
        .map_err(|e| e.to_string())
    });
    match result {
        Ok(r) => (
            Ok(MetricProposal {
                replicas: r.replica_count,
                metric: match container {
                    None => metric_name::resource_utilization(resource),
                    Some(_) => metric_name::container_resource_utilization(resource),
                },
            }),
            status(MetricValueStatus {
                average_utilization: Some(r.utilization),
                average_value: Some(milli(r.raw_utilization)),
                ..Default::default()
            }),
        ),
        Err(e) => {
            let inner = format!("failed to get {resource} utilization: {e}");
            failure(c, inputs.key, reason, inner, &outer)
        }
    }
}

/// The workload the HPA targets, for the custom metrics set on it.
fn target_workload(hpa_key: &ObjectKey, r: &CrossVersionObjectReference) -> Workload {
    Workload::new(
        &r.kind,
        ObjectKey::new(hpa_key.namespace.clone(), r.name.clone()),
    )
}

/// `computeReplicasForMetric`: one metric of the spec.
fn compute_metric(
    c: &mut Cluster,
    inputs: &Inputs<'_>,
    target_ref: &CrossVersionObjectReference,
    spec: &MetricSpec,
) -> Outcome {
    let calc = ReplicaCalculator::default();
    let tolerances = Tolerances::default();
    match spec.type_.as_str() {
        "Resource" => {
            let r = spec.resource.as_ref().expect("validated");
            resource_metric(c, inputs, &r.name, None, &r.target)
        }
        "ContainerResource" => {
            let r = spec.container_resource.as_ref().expect("validated");
            resource_metric(c, inputs, &r.name, Some(&r.container), &r.target)
        }
        "Pods" => {
            let p = spec.pods.as_ref().expect("validated");
            let name = &p.metric.name;
            let target = target_milli(p.target.average_value.as_ref()).unwrap_or(1);
            let w = target_workload(inputs.key, target_ref);
            let value = c.metrics.pod_metrics.get(&(w, name.clone())).copied();
            let metrics: PodMetricsInfo = match value {
                Some(v) => inputs
                    .pods
                    .iter()
                    .filter(|p| p.phase == PodPhase::Running && !p.deleting)
                    .map(|p| (p.name.clone(), PodMetric::value(v)))
                    .collect(),
                None => PodMetricsInfo::new(),
            };
            let result = if metrics.is_empty() {
                Err(format!(
                    "unable to get metric {name}: no metrics returned from custom metrics API"
                ))
            } else {
                calc.get_metric_replicas(
                    inputs.spec_replicas,
                    target,
                    tolerances,
                    inputs.pods,
                    metrics,
                    inputs.now,
                )
                .map_err(|e| e.to_string())
            };
            match result {
                Ok((replicas, usage)) => (
                    Ok(MetricProposal {
                        replicas,
                        metric: metric_name::pods(name),
                    }),
                    MetricStatus {
                        type_: "Pods".into(),
                        pods: Some(PodsMetricStatus {
                            metric: p.metric.clone(),
                            current: MetricValueStatus {
                                average_value: Some(milli(usage)),
                                ..Default::default()
                            },
                        }),
                        ..Default::default()
                    },
                ),
                Err(e) => failure(
                    c,
                    inputs.key,
                    Reason::FailedGetPodsMetric,
                    e,
                    "failed to get pods metric value",
                ),
            }
        }
        "Object" => {
            let o = spec.object.as_ref().expect("validated");
            let name = &o.metric.name;
            let d = &o.described_object;
            let lookup = (
                d.kind.to_ascii_lowercase(),
                ObjectKey::new(inputs.key.namespace.clone(), d.name.clone()),
                name.clone(),
            );
            let usage = c.metrics.object_metrics.get(&lookup).copied().ok_or_else(|| {
                let resource = crate::api::resource_name(
                    crate::store::Kind::parse(&d.kind).unwrap_or(crate::store::Kind::Deployment),
                );
                // upstream passes its arguments out of order here.
                format!(
                    "unable to get metric {name}: {} on {} {}/the server could not find the metric {name} for {resource} {}",
                    d.kind, inputs.key.namespace, d.name, d.name
                )
            });
            let outer = "failed to get object metric value".to_string();
            let object_status = |current: MetricValueStatus, described: bool| MetricStatus {
                type_: "Object".into(),
                object: Some(ObjectMetricStatus {
                    described_object: if described {
                        o.described_object.clone()
                    } else {
                        Default::default()
                    },
                    metric: MetricIdentifier {
                        name: name.clone(),
                        selector: o.metric.selector.clone(),
                    },
                    current,
                }),
                ..Default::default()
            };
            if o.target.type_ == "Value"
                && let Some(target) = target_milli(o.target.value.as_ref())
            {
                let result = usage.and_then(|u| {
                    calc.get_object_metric_replicas(
                        inputs.spec_replicas,
                        target,
                        u,
                        tolerances,
                        inputs.pods,
                    )
                    .map_err(|e| e.to_string())
                });
                match result {
                    Ok((replicas, u)) => (
                        Ok(MetricProposal {
                            replicas,
                            metric: metric_name::object(&d.kind, name),
                        }),
                        object_status(
                            MetricValueStatus {
                                value: Some(milli(u)),
                                ..Default::default()
                            },
                            true,
                        ),
                    ),
                    Err(e) => failure(c, inputs.key, Reason::FailedGetObjectMetric, e, &outer),
                }
            } else if o.target.type_ == "AverageValue"
                && let Some(target) = target_milli(o.target.average_value.as_ref())
            {
                match usage {
                    Ok(u) => {
                        let (replicas, u) = calc.get_object_per_pod_metric_replicas(
                            inputs.status_replicas,
                            target,
                            u,
                            tolerances,
                        );
                        (
                            Ok(MetricProposal {
                                replicas,
                                // upstream names this one as an external metric.
                                metric: format!(
                                    "external metric {name}({})",
                                    go_selector(o.metric.selector.as_ref())
                                ),
                            }),
                            object_status(
                                MetricValueStatus {
                                    average_value: Some(milli(u)),
                                    ..Default::default()
                                },
                                false,
                            ),
                        )
                    }
                    Err(e) => {
                        let inner = format!("failed to get {name} object metric: {e}");
                        failure(c, inputs.key, Reason::FailedGetObjectMetric, inner, &outer)
                    }
                }
            } else {
                let e = "invalid object metric source: neither a value target nor an average value target was set".to_string();
                failure(c, inputs.key, Reason::FailedGetObjectMetric, e, &outer)
            }
        }
        "External" => {
            let x = spec.external.as_ref().expect("validated");
            let name = &x.metric.name;
            let selector = go_selector(x.metric.selector.as_ref());
            let values: Vec<i64> = c.metrics.external.get(name).copied().into_iter().collect();
            let fetch_error = format!(
                "unable to get external metric {}/{name}/{selector}: no metrics returned from external metrics API",
                inputs.key.namespace
            );
            let outer = format!("failed to get {name} external metric value");
            let status = |current: MetricValueStatus| MetricStatus {
                type_: "External".into(),
                external: Some(ExternalMetricStatus {
                    metric: x.metric.clone(),
                    current,
                }),
                ..Default::default()
            };
            let metric = format!("external metric {name}({selector})");
            if let Some(target) = target_milli(x.target.average_value.as_ref()) {
                if values.is_empty() {
                    let inner = format!("failed to get {name} external metric: {fetch_error}");
                    return failure(
                        c,
                        inputs.key,
                        Reason::FailedGetExternalMetric,
                        inner,
                        &outer,
                    );
                }
                let (replicas, u) = calc.get_external_per_pod_metric_replicas(
                    inputs.status_replicas,
                    target,
                    &values,
                    tolerances,
                );
                (
                    Ok(MetricProposal { replicas, metric }),
                    status(MetricValueStatus {
                        average_value: Some(milli(u)),
                        ..Default::default()
                    }),
                )
            } else if let Some(target) = target_milli(x.target.value.as_ref()) {
                let result = if values.is_empty() {
                    Err(fetch_error)
                } else {
                    calc.get_external_metric_replicas(
                        inputs.spec_replicas,
                        target,
                        &values,
                        tolerances,
                        inputs.pods,
                    )
                    .map_err(|e| e.to_string())
                };
                match result {
                    Ok((replicas, u)) => (
                        Ok(MetricProposal { replicas, metric }),
                        status(MetricValueStatus {
                            value: Some(milli(u)),
                            ..Default::default()
                        }),
                    ),
                    Err(e) => {
                        let inner = format!("failed to get external metric {name}: {e}");
                        failure(
                            c,
                            inputs.key,
                            Reason::FailedGetExternalMetric,
                            inner,
                            &outer,
                        )
                    }
                }
            } else {
                let e = "invalid external metric source: neither a value target nor an average value target was set".to_string();
                failure(c, inputs.key, Reason::FailedGetExternalMetric, e, &outer)
            }
        }
        other => {
            let e = format!("unknown metric source type \"{other}\"");
            failure(c, inputs.key, Reason::InvalidMetricSourceType, e, "")
        }
    }
}

/// `reconcileAutoscaler` for the HPA stored under `key`; requeues itself one sync period on.
pub(crate) fn sync_hpa(c: &mut Cluster, key: &ObjectKey) {
    let Some(hpa) = c.store.horizontal_pod_autoscalers.get(key).cloned() else {
        return;
    };
    c.requeue_after(Work::SyncHpa(key.clone()), SYNC_PERIOD);
    c.stats.hpa_syncs += 1;
    let now = c.now();
    let spec = hpa.spec.clone().unwrap_or_default();
    let original = hpa.status.clone().unwrap_or_default();
    let mut status = original.clone();
    let mut conditions = status.conditions.take().unwrap_or_default();
    let set = |conditions: &mut Vec<_>, condition: &Condition| {
        set_condition_in_list(conditions, condition, now);
    };

    let scale = match get_scale(c, &key.namespace, &spec.scale_target_ref) {
        Ok(s) => s,
        Err(err) => {
            c.record_event_for::<HorizontalPodAutoscaler>(
                key,
                EventType::Warning,
                Reason::FailedGetScale.as_str(),
                err.clone(),
                SOURCE,
            );
            set(
                &mut conditions,
                &Condition::new(
                    false,
                    Reason::FailedGetScale,
                    message::failed_get_scale(&err),
                ),
            );
            status.conditions = Some(conditions);
            write_status(c, key, &original, status);
            return;
        }
    };
    set(
        &mut conditions,
        &Condition::new(
            true,
            Reason::SucceededGetScale,
            message::SUCCEEDED_GET_SCALE,
        ),
    );
    let current = scale.spec_replicas;
    let state = c.hpa_states.0.entry(key.clone()).or_default();
    state.record_initial_recommendation(current, now);
    let min_replicas = spec.min_replicas.unwrap_or(1);

    let mut metric_statuses: Option<Vec<MetricStatus>> = None;
    let mut desired = 0;
    let mut rescale_reason = String::new();
    let rescale;
    match check_replica_bounds(current, min_replicas, spec.max_replicas) {
        ReplicaBounds::ScalingDisabled(condition) => {
            set(&mut conditions, &condition);
            rescale = false;
        }
        ReplicaBounds::Clamp { desired: d, reason } => {
            desired = d;
            rescale_reason = reason.to_string();
            rescale = true;
        }
        ReplicaBounds::WithinRange => {
            // `validateAndParseSelector`.
            let Some(selector) = scale.selector.clone().filter(|s| {
                s.match_labels.as_ref().is_some_and(|m| !m.is_empty())
                    || s.match_expressions.as_ref().is_some_and(|m| !m.is_empty())
            }) else {
                c.record_event_for::<HorizontalPodAutoscaler>(
                    key,
                    EventType::Warning,
                    "SelectorRequired",
                    "selector is required".into(),
                    SOURCE,
                );
                set(
                    &mut conditions,
                    &Condition::new(false, Reason::InvalidSelector, message::SELECTOR_MISSING),
                );
                status.current_replicas = Some(current);
                status.conditions = Some(conditions);
                write_status(c, key, &original, status);
                c.record_event_for::<HorizontalPodAutoscaler>(
                    key,
                    EventType::Warning,
                    event::FAILED_COMPUTE_METRICS_REPLICAS,
                    "selector is required".into(),
                    SOURCE,
                );
                return;
            };
            // `hpasControllingPodsUnderSelector`: every HPA whose last selector matches one of
            // these pods' label sets.
            c.hpa_states.1.insert(key.clone(), selector.clone());
            let (pod_keys, pods, mut label_sets) = {
                let mut keys = Vec::new();
                let mut infos = Vec::new();
                let mut sets: Vec<BTreeMap<String, String>> = Vec::new();
                for (k, p) in c.store.pods_selected(&key.namespace, &selector) {
                    sets.push(p.metadata.labels.clone().unwrap_or_default());
                    infos.push(pod_info(p));
                    keys.push(k);
                }
                (keys, infos, sets)
            };
            label_sets.sort();
            label_sets.dedup();
            let controlling: Vec<String> = c
                .hpa_states
                .1
                .iter()
                .filter(|(k, sel)| {
                    k.namespace == key.namespace
                        && label_sets
                            .iter()
                            .any(|l| crate::labels::selector_matches(sel, Some(l)))
                })
                .map(|(k, _)| k.to_string())
                .collect();
            if controlling.len() > 1 {
                let err = format!(
                    "pods by selector {} are controlled by multiple HPAs: [{}]",
                    crate::labels::format_selector(&selector),
                    controlling.join(" ")
                );
                c.record_event_for::<HorizontalPodAutoscaler>(
                    key,
                    EventType::Warning,
                    Reason::AmbiguousSelector.as_str(),
                    err.clone(),
                    SOURCE,
                );
                set(
                    &mut conditions,
                    &Condition::new(false, Reason::AmbiguousSelector, err.clone()),
                );
                status.current_replicas = Some(current);
                status.current_metrics = None;
                status.conditions = Some(conditions);
                write_status(c, key, &original, status);
                c.record_event_for::<HorizontalPodAutoscaler>(
                    key,
                    EventType::Warning,
                    event::FAILED_COMPUTE_METRICS_REPLICAS,
                    err,
                    SOURCE,
                );
                return;
            }
            let inputs = Inputs {
                key,
                spec_replicas: current,
                status_replicas: scale.status_replicas,
                pods: &pods,
                pod_keys: &pod_keys,
                now,
            };
            let mut outcomes = Vec::new();
            let mut statuses = Vec::new();
            for m in spec.metrics.iter().flatten() {
                let (outcome, st) = compute_metric(c, &inputs, &spec.scale_target_ref, m);
                outcomes.push(outcome);
                statuses.push(st);
            }
            metric_statuses = Some(statuses);
            match compute_replicas_for_metrics(current, &outcomes) {
                Err(f) => {
                    set(&mut conditions, &f.condition);
                    status.current_replicas = Some(current);
                    status.current_metrics = metric_statuses;
                    status.conditions = Some(conditions);
                    write_status(c, key, &original, status);
                    c.record_event_for::<HorizontalPodAutoscaler>(
                        key,
                        EventType::Warning,
                        event::FAILED_COMPUTE_METRICS_REPLICAS,
                        f.error,
                        SOURCE,
                    );
                    return;
                }
                Ok(m) => {
                    set(&mut conditions, &m.condition);
                    if let Some(reason) = rescale_reason_for(current, m.replicas, &m.metric) {
                        rescale_reason = reason;
                    }
                    let state = c.hpa_states.0.entry(key.clone()).or_default();
                    let normalized = match &spec.behavior {
                        None => normalize_desired_replicas(
                            state,
                            now,
                            DOWNSCALE_STABILISATION_WINDOW,
                            current,
                            m.replicas.max(0),
                            min_replicas,
                            spec.max_replicas,
                        ),
                        Some(b) => normalize_desired_replicas_with_behaviors(
                            state,
                            now,
                            b,
                            DOWNSCALE_STABILISATION_WINDOW,
                            current,
                            m.replicas.max(0),
                            min_replicas,
                            spec.max_replicas,
                        ),
                    };
                    set(&mut conditions, &normalized.able_to_scale);
                    set(&mut conditions, &normalized.scaling_limited);
                    desired = normalized.desired_replicas;
                    rescale = desired != current;
                }
            }
        }
    }

    if rescale {
        if let Err(err) = update_scale(c, &key.namespace, &spec.scale_target_ref, desired) {
            c.record_event_for::<HorizontalPodAutoscaler>(
                key,
                EventType::Warning,
                event::FAILED_RESCALE,
                event::failed_rescale(desired, &rescale_reason, &err),
                SOURCE,
            );
            set(
                &mut conditions,
                &Condition::new(
                    false,
                    Reason::FailedUpdateScale,
                    message::failed_update_scale(&err),
                ),
            );
            status.current_replicas = Some(current);
            status.current_metrics = metric_statuses;
            status.conditions = Some(conditions);
            write_status(c, key, &original, status);
            return;
        }
        set(
            &mut conditions,
            &Condition::new(
                true,
                Reason::SucceededRescale,
                message::succeeded_rescale(desired),
            ),
        );
        c.record_event_for::<HorizontalPodAutoscaler>(
            key,
            EventType::Normal,
            event::SUCCESSFUL_RESCALE,
            event::successful_rescale(desired, &rescale_reason),
            SOURCE,
        );
        let state = c.hpa_states.0.entry(key.clone()).or_default();
        store_scale_event(state, spec.behavior.as_ref(), now, current, desired);
    } else {
        desired = current;
    }
    // `setStatus`.
    let new = HorizontalPodAutoscalerStatus {
        current_replicas: Some(current),
        desired_replicas: desired,
        last_scale_time: if rescale {
            Some(now.to_time())
        } else {
            original.last_scale_time.clone()
        },
        current_metrics: metric_statuses.filter(|m| !m.is_empty()),
        conditions: Some(conditions),
        observed_generation: original.observed_generation,
    };
    write_status(c, key, &original, new);
}

/// `updateStatusIfNeeded`: writes the status only when it changed.
fn write_status(
    c: &mut Cluster,
    key: &ObjectKey,
    original: &HorizontalPodAutoscalerStatus,
    new: HorizontalPodAutoscalerStatus,
) {
    if *original == new {
        return;
    }
    let _ = c.modify::<HorizontalPodAutoscaler>(key, |h| h.status = Some(new));
}

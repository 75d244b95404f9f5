//! The API server's handling of HorizontalPodAutoscalers: conversion from `autoscaling/v1`,
//! defaulting and validation. See [`admit_hpa`].
//!
//! Mirrors upstream v1.34: `pkg/apis/autoscaling/validation/validation.go`
//! (`ValidateHorizontalPodAutoscaler`, `validateMetricSpec`, `validateBehavior`, …),
//! `pkg/apis/autoscaling/v2/defaults.go` (through [`crate::controllers::hpa::defaults`]) and
//! `pkg/apis/autoscaling/v1/conversion.go` for the `targetCPUUtilizationPercentage` field.
//! Every HPA is stored as `autoscaling/v2`, as the API server stores it.

use super::ApiError;
use super::validation::{
    Errors, go_quote, name_of, validate_object_meta, validate_object_meta_update,
};
use crate::store::Kind;
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerSpec, MetricIdentifier, MetricSpec, MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::autoscaling::{v1, v2};
use serde_json::{Map, Value, json};

/// `MaxPeriodSeconds`: the longest policy period.
pub const MAX_PERIOD_SECONDS: i32 = 1800;
/// `MaxStabilizationWindowSeconds`: the longest stabilisation window.
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;

/// The annotations in which an `autoscaling/v1` HPA keeps what v1 cannot express
/// (`pkg/apis/autoscaling/annotations.go`): metrics other than a CPU utilisation target, the
/// current metrics, the behavior and the conditions.
pub const METRIC_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
pub const METRIC_STATUSES_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
pub const BEHAVIOR_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
const ROUND_TRIP_ANNOTATIONS: [&str; 4] = [
    METRIC_SPECS_ANNOTATION,
    METRIC_STATUSES_ANNOTATION,
    BEHAVIOR_SPECS_ANNOTATION,
    CONDITIONS_ANNOTATION,
];
/// `DefaultCPUUtilization`: v1's implicit target when no metric is given.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

fn cpu_utilization_metric(pct: i32) -> MetricSpec {
    MetricSpec {
        type_: "Resource".to_string(),
        resource: Some(ResourceMetricSource {
            name: "cpu".to_string(),
            target: MetricTarget {
                type_: "Utilization".to_string(),
                average_utilization: Some(pct),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// Drops the round-trip annotations (`DropRoundTripHorizontalPodAutoscalerAnnotations`),
/// returning what they held.
fn take_round_trip_annotations(
    meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> std::collections::BTreeMap<String, String> {
    let mut taken = std::collections::BTreeMap::new();
    if let Some(a) = meta.annotations.as_mut() {
        for k in ROUND_TRIP_ANNOTATIONS {
            if let Some(v) = a.remove(k) {
                taken.insert(k.to_string(), v);
            }
        }
        if a.is_empty() {
            meta.annotations = None;
        }
    }
    taken
}

/// A v2 `MetricSpec` (or `MetricStatus`, `status` true) as autoscaling/v1's annotation types
/// write it (`Convert_autoscaling_MetricSpec_To_v1_MetricSpec`, `..._MetricStatus_...`).
fn metric_to_v1(m: &Value, status: bool) -> Value {
    let ty = m["type"].as_str().unwrap_or_default();
    let mut out = Map::new();
    out.insert("type".into(), ty.into());
    let (cur, avg_util, avg_value, value) = v1_fields(status);
    match ty {
        "Resource" | "ContainerResource" => {
            let field = if ty == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let src = &m[field];
            let mut o = Map::new();
            put(&mut o, "name", &src["name"]);
            put(&mut o, "container", &src["container"]);
            put(&mut o, avg_util, &src[cur]["averageUtilization"]);
            put(&mut o, avg_value, &src[cur]["averageValue"]);
            out.insert(field.into(), o.into());
        }
        "Pods" => {
            let src = &m["pods"];
            let mut o = Map::new();
            put(&mut o, "metricName", &src["metric"]["name"]);
            put(&mut o, "selector", &src["metric"]["selector"]);
            put(&mut o, avg_value, &src[cur]["averageValue"]);
            out.insert("pods".into(), o.into());
        }
        "Object" => {
            let src = &m["object"];
            let mut o = Map::new();
            put(&mut o, "target", &src["describedObject"]);
            put(&mut o, "metricName", &src["metric"]["name"]);
            put(&mut o, "selector", &src["metric"]["selector"]);
            put(&mut o, value, &src[cur]["value"]);
            put(&mut o, "averageValue", &src[cur]["averageValue"]);
            out.insert("object".into(), o.into());
        }
        "External" => {
            let src = &m["external"];
            let mut o = Map::new();
            put(&mut o, "metricName", &src["metric"]["name"]);
            put(&mut o, "metricSelector", &src["metric"]["selector"]);
            put(&mut o, value, &src[cur]["value"]);
            put(&mut o, avg_value, &src[cur]["averageValue"]);
            out.insert("external".into(), o.into());
        }
        _ => {}
    }
    out.into()
}

/// The autoscaling/v1 annotation fields of a metric's target, or of its current value in the
/// status: (object key, average utilization, average value, value).
fn v1_fields(status: bool) -> (&'static str, &'static str, &'static str, &'static str) {
    if status {
        (
            "current",
            "currentAverageUtilization",
            "currentAverageValue",
            "currentValue",
        )
    } else {
        (
            "target",
            "targetAverageUtilization",
            "targetAverageValue",
            "targetValue",
        )
    }
}

/// Sets `k` to `v` unless `v` is null (Go's `omitempty` on a pointer).
fn put(o: &mut Map<String, Value>, k: &str, v: &Value) {
    if !v.is_null() {
        o.insert(k.into(), v.clone());
    }
}

/// The reverse of [`metric_to_v1`] (`Convert_v1_MetricSpec_To_autoscaling_MetricSpec`, ...).
fn metric_from_v1(m: &Value, status: bool) -> Value {
    let ty = m["type"].as_str().unwrap_or_default();
    let (cur, avg_util, avg_value, value) = v1_fields(status);
    // A target's type: Utilization, AverageValue or Value, by which is set.
    let target = |util: &Value, avg: &Value, val: &Value| -> Value {
        let mut t = Map::new();
        if !status {
            let ty = if !util.is_null() {
                "Utilization"
            } else if !avg.is_null() {
                "AverageValue"
            } else {
                "Value"
            };
            t.insert("type".into(), ty.into());
        }
        put(&mut t, "averageUtilization", util);
        put(&mut t, "averageValue", avg);
        put(&mut t, "value", val);
        t.into()
    };
    let mut out = Map::new();
    out.insert("type".into(), ty.into());
    match ty {
        "Resource" | "ContainerResource" => {
            let field = if ty == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let src = &m[field];
            let mut o = Map::new();
            put(&mut o, "name", &src["name"]);
            put(&mut o, "container", &src["container"]);
            o.insert(
                cur.into(),
                target(&src[avg_util], &src[avg_value], &Value::Null),
            );
            out.insert(field.into(), o.into());
        }
        "Pods" => {
            let src = &m["pods"];
            let mut metric = Map::new();
            put(&mut metric, "name", &src["metricName"]);
            put(&mut metric, "selector", &src["selector"]);
            out.insert(
                "pods".into(),
                json!({"metric": metric, cur: target(&Value::Null, &src[avg_value], &Value::Null)}),
            );
        }
        "Object" => {
            let src = &m["object"];
            let mut metric = Map::new();
            put(&mut metric, "name", &src["metricName"]);
            put(&mut metric, "selector", &src["selector"]);
            out.insert(
                "object".into(),
                json!({
                    "describedObject": src["target"],
                    "metric": metric,
                    cur: target(&Value::Null, &src["averageValue"], &src[value]),
                }),
            );
        }
        "External" => {
            let src = &m["external"];
            let mut metric = Map::new();
            put(&mut metric, "name", &src["metricName"]);
            put(&mut metric, "selector", &src["metricSelector"]);
            out.insert(
                "external".into(),
                json!({"metric": metric, cur: target(&Value::Null, &src[avg_value], &src[value])}),
            );
        }
        _ => {}
    }
    out.into()
}

fn is_cpu_utilization_target(m: &MetricSpec) -> bool {
    m.type_ == "Resource"
        && m.resource
            .as_ref()
            .is_some_and(|r| r.name == "cpu" && r.target.average_utilization.is_some())
}

/// An `autoscaling/v1` HPA as the API server stores it (`autoscaling/v2`), as upstream's
/// `Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler`:
/// `targetCPUUtilizationPercentage` becomes a CPU Utilization metric, after the metrics kept in
/// the `autoscaling.alpha.kubernetes.io/metrics` annotation; with neither, the target is 80%
/// CPU; behavior, current metrics and conditions come back from their annotations, which are
/// dropped.
pub fn convert_v1(mut hpa: v1::HorizontalPodAutoscaler) -> HorizontalPodAutoscaler {
    let kept = take_round_trip_annotations(&mut hpa.metadata);
    let read = |k: &str| -> Option<Vec<Value>> {
        kept.get(k)
            .and_then(|s| serde_json::from_str::<Vec<Value>>(s).ok())
    };
    let spec = hpa.spec.map(|s| {
        let mut metrics: Vec<MetricSpec> = read(METRIC_SPECS_ANNOTATION)
            .unwrap_or_default()
            .iter()
            .filter_map(|m| serde_json::from_value(metric_from_v1(m, false)).ok())
            .collect();
        if let Some(pct) = s.target_cpu_utilization_percentage {
            metrics.push(cpu_utilization_metric(pct));
        }
        if metrics.is_empty() {
            metrics.push(cpu_utilization_metric(DEFAULT_CPU_UTILIZATION));
        }
        HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: s.scale_target_ref.api_version,
                kind: s.scale_target_ref.kind,
                name: s.scale_target_ref.name,
            },
            min_replicas: s.min_replicas,
            max_replicas: s.max_replicas,
            metrics: Some(metrics),
            behavior: kept
                .get(BEHAVIOR_SPECS_ANNOTATION)
                .and_then(|b| serde_json::from_str(b).ok()),
        }
    });
    let status = hpa.status.map(|st| {
        let mut current: Vec<v2::MetricStatus> = match read(METRIC_STATUSES_ANNOTATION) {
            Some(ms) => ms
                .iter()
                .filter_map(|m| serde_json::from_value(metric_from_v1(m, true)).ok())
                .collect(),
            None => st
                .current_cpu_utilization_percentage
                .map(|pct| {
                    vec![v2::MetricStatus {
                        type_: "Resource".into(),
                        resource: Some(v2::ResourceMetricStatus {
                            name: "cpu".into(),
                            current: v2::MetricValueStatus {
                                average_utilization: Some(pct),
                                ..Default::default()
                            },
                        }),
                        ..Default::default()
                    }]
                })
                .unwrap_or_default(),
        };
        current.retain(|m| !m.type_.is_empty());
        v2::HorizontalPodAutoscalerStatus {
            observed_generation: st.observed_generation,
            last_scale_time: st.last_scale_time,
            current_replicas: Some(st.current_replicas),
            desired_replicas: st.desired_replicas,
            current_metrics: (!current.is_empty()).then_some(current),
            conditions: kept
                .get(CONDITIONS_ANNOTATION)
                .and_then(|c| serde_json::from_str(c).ok()),
        }
    });
    HorizontalPodAutoscaler {
        metadata: hpa.metadata,
        spec,
        status,
    }
}

/// A stored (`autoscaling/v2`) HPA as `autoscaling/v1` serves it, as upstream's
/// `Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler`: a CPU
/// Utilization target is `targetCPUUtilizationPercentage`, the CPU utilisation observed is
/// `currentCPUUtilizationPercentage`; other metrics, the current metrics, behavior and
/// conditions go to the `autoscaling.alpha.kubernetes.io/*` annotations.
pub fn to_v1(mut hpa: HorizontalPodAutoscaler) -> v1::HorizontalPodAutoscaler {
    take_round_trip_annotations(&mut hpa.metadata);
    let mut annotations = std::collections::BTreeMap::new();
    let spec = hpa.spec.map(|s| {
        let metrics = s.metrics.unwrap_or_default();
        let cpu = metrics
            .iter()
            .find(|m| is_cpu_utilization_target(m))
            .and_then(|m| m.resource.as_ref()?.target.average_utilization);
        let other: Vec<Value> = metrics
            .iter()
            .filter(|m| !is_cpu_utilization_target(m))
            .filter_map(|m| serde_json::to_value(m).ok())
            .map(|m| metric_to_v1(&m, false))
            .collect();
        if !other.is_empty() {
            annotations.insert(METRIC_SPECS_ANNOTATION, Value::from(other).to_string());
        }
        if let Some(b) = &s.behavior
            && let Ok(b) = serde_json::to_string(b)
        {
            annotations.insert(BEHAVIOR_SPECS_ANNOTATION, b);
        }
        v1::HorizontalPodAutoscalerSpec {
            scale_target_ref: v1::CrossVersionObjectReference {
                api_version: s.scale_target_ref.api_version,
                kind: s.scale_target_ref.kind,
                name: s.scale_target_ref.name,
            },
            min_replicas: s.min_replicas,
            max_replicas: s.max_replicas,
            target_cpu_utilization_percentage: cpu,
        }
    });
    let status = hpa.status.map(|st| {
        let current = st.current_metrics.unwrap_or_default();
        let cpu = current.iter().find_map(|m| {
            let r = m
                .resource
                .as_ref()
                .filter(|r| m.type_ == "Resource" && r.name == "cpu")?;
            r.current.average_utilization
        });
        if !current.is_empty() {
            let all: Vec<Value> = current
                .iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .map(|m| metric_to_v1(&m, true))
                .collect();
            annotations.insert(METRIC_STATUSES_ANNOTATION, Value::from(all).to_string());
        }
        if let Some(c) = st.conditions.as_ref().filter(|c| !c.is_empty())
            && let Ok(c) = serde_json::to_string(c)
        {
            annotations.insert(CONDITIONS_ANNOTATION, c);
        }
        v1::HorizontalPodAutoscalerStatus {
            observed_generation: st.observed_generation,
            last_scale_time: st.last_scale_time,
            current_replicas: st.current_replicas.unwrap_or(0),
            desired_replicas: st.desired_replicas,
            current_cpu_utilization_percentage: cpu,
        }
    });
    if !annotations.is_empty() {
        let a = hpa
            .metadata
            .annotations
            .get_or_insert_with(Default::default);
        for (k, v) in annotations {
            a.insert(k.to_string(), v);
        }
    }
    v1::HorizontalPodAutoscaler {
        metadata: hpa.metadata,
        spec,
        status,
    }
}

/// A stored HPA's JSON as `autoscaling/v1` serves it (see [`to_v1`]); anything that does not
/// read as an HPA is returned as it is.
pub fn v2_json_to_v1(v: Value) -> Value {
    match serde_json::from_value::<HorizontalPodAutoscaler>(v.clone()) {
        Ok(h) => {
            let mut out = serde_json::to_value(to_v1(h)).unwrap_or(v);
            if let Some(o) = out.as_object_mut() {
                o.insert("apiVersion".into(), "autoscaling/v1".into());
                o.insert("kind".into(), "HorizontalPodAutoscaler".into());
            }
            out
        }
        Err(_) => v,
    }
}

/// An `autoscaling/v1` HPA's JSON in the stored version (see [`convert_v1`]).
///
/// # Errors
///
/// A `BadRequest` [`ApiError`] when the object is not an autoscaling/v1 HPA.
pub fn v1_json_to_v2(v: Value) -> Result<Value, ApiError> {
    let h = hpa_from_json("autoscaling/v1", v)?;
    let mut out = serde_json::to_value(h).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(o) = out.as_object_mut() {
        o.insert("apiVersion".into(), "autoscaling/v2".into());
        o.insert("kind".into(), "HorizontalPodAutoscaler".into());
    }
    Ok(out)
}

/// Defaults an HPA and validates it, as a create (`old` is `None`) or an update. The status a
/// user sends is dropped: only the controller writes it.
///
/// # Errors
///
/// An `Invalid` [`ApiError`] listing every offending field, e.g. `HorizontalPodAutoscaler.
/// autoscaling "web" is invalid: spec.maxReplicas: Invalid value: 1: must be greater than or
/// equal to `minReplicas``.
pub fn admit_hpa(
    hpa: &mut HorizontalPodAutoscaler,
    old: Option<&HorizontalPodAutoscaler>,
) -> Result<(), ApiError> {
    let spec = hpa.spec.get_or_insert_with(Default::default);
    crate::controllers::hpa::defaults::set_defaults_horizontal_pod_autoscaler(spec);
    hpa.status = old.and_then(|o| o.status.clone());
    let mut e = Errors::default();
    let min_bound = match old {
        None => {
            validate_object_meta(&mut e, &hpa.metadata, true, "metadata");
            1
        }
        Some(o) => {
            validate_object_meta_update(&mut e, &o.metadata, &hpa.metadata, "metadata");
            // An HPA that already has minReplicas 0 may keep it.
            if o.spec.as_ref().and_then(|s| s.min_replicas) == Some(0) {
                0
            } else {
                1
            }
        }
    };
    validate_spec(
        &mut e,
        hpa.spec.as_ref().expect("defaulted above"),
        min_bound,
    );
    e.finish(Kind::HorizontalPodAutoscaler, &name_of(&hpa.metadata))
}

/// `validateHorizontalPodAutoscalerSpec`.
fn validate_spec(e: &mut Errors, spec: &HorizontalPodAutoscalerSpec, min_bound: i32) {
    if let Some(min) = spec.min_replicas
        && min < min_bound
    {
        e.invalid(
            "spec.minReplicas",
            min.to_string(),
            &format!("must be greater than or equal to {min_bound}"),
        );
    }
    if spec.max_replicas < 1 {
        e.invalid(
            "spec.maxReplicas",
            spec.max_replicas.to_string(),
            "must be greater than 0",
        );
    }
    if let Some(min) = spec.min_replicas
        && spec.max_replicas < min
    {
        e.invalid(
            "spec.maxReplicas",
            spec.max_replicas.to_string(),
            "must be greater than or equal to `minReplicas`",
        );
    }
    validate_cross_version_object_reference(e, &spec.scale_target_ref, "spec.scaleTargetRef");
    let metrics = spec.metrics.as_deref().unwrap_or_default();
    for (i, m) in metrics.iter().enumerate() {
        validate_metric_spec(e, m, &format!("spec.metrics[{i}]"));
    }
    if spec.min_replicas == Some(0)
        && !metrics
            .iter()
            .any(|m| m.type_ == "Object" || m.type_ == "External")
    {
        e.forbidden(
            "spec.metrics",
            "must specify at least one Object or External metric to support scaling to zero replicas",
        );
    }
    if let Some(b) = &spec.behavior {
        validate_scaling_rules(e, b.scale_up.as_ref(), "spec.behavior.scaleUp");
        validate_scaling_rules(e, b.scale_down.as_ref(), "spec.behavior.scaleDown");
    }
}

/// `IsValidPathSegmentName`.
fn path_segment_errors(name: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if name == "." {
        out.push("may not be '.'");
    } else if name == ".." {
        out.push("may not be '..'");
    }
    if name.contains('/') {
        out.push("may not contain '/'");
    }
    if name.contains('%') {
        out.push("may not contain '%'");
    }
    out
}

/// `ValidateCrossVersionObjectReference`.
fn validate_cross_version_object_reference(
    e: &mut Errors,
    r: &CrossVersionObjectReference,
    path: &str,
) {
    for (field, value) in [("kind", &r.kind), ("name", &r.name)] {
        if value.is_empty() {
            e.required(format!("{path}.{field}"), "");
        } else {
            for msg in path_segment_errors(value) {
                e.invalid(format!("{path}.{field}"), go_quote(value), msg);
            }
        }
    }
}

const METRIC_SOURCE_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

/// `validateMetricSpec`.
fn validate_metric_spec(e: &mut Errors, m: &MetricSpec, path: &str) {
    if m.type_.is_empty() {
        e.required(format!("{path}.type"), "must specify a metric source type");
    }
    if !METRIC_SOURCE_TYPES.contains(&m.type_.as_str()) {
        e.not_supported(
            format!("{path}.type"),
            go_quote(&m.type_),
            &METRIC_SOURCE_TYPES,
        );
    }
    let mut present: Vec<&str> = Vec::new();
    if let Some(o) = &m.object {
        present.push("object");
        validate_cross_version_object_reference(
            e,
            &o.described_object,
            &format!("{path}.object.describedObject"),
        );
        validate_metric_identifier(e, &o.metric, &format!("{path}.object.metric"));
        validate_metric_target(e, &o.target, &format!("{path}.object.target"));
        if o.target.value.is_none() && o.target.average_value.is_none() {
            e.required(
                format!("{path}.object.target.averageValue"),
                "must set either a target value or averageValue",
            );
        }
    }
    if let Some(x) = &m.external {
        present.push("external");
        if present.len() == 1 {
            validate_metric_identifier(e, &x.metric, &format!("{path}.external.metric"));
            validate_metric_target(e, &x.target, &format!("{path}.external.target"));
            if x.target.value.is_none() && x.target.average_value.is_none() {
                e.required(
                    format!("{path}.external.target.averageValue"),
                    "must set either a target value for metric or a per-pod target",
                );
            }
            if x.target.value.is_some() && x.target.average_value.is_some() {
                e.forbidden(
                    format!("{path}.external.target.value"),
                    "may not set both a target value for metric and a per-pod target",
                );
            }
        }
    }
    if let Some(p) = &m.pods {
        present.push("pods");
        if present.len() == 1 {
            validate_metric_identifier(e, &p.metric, &format!("{path}.pods.metric"));
            validate_metric_target(e, &p.target, &format!("{path}.pods.target"));
            if p.target.average_value.is_none() {
                e.required(
                    format!("{path}.pods.target.averageValue"),
                    "must specify a positive target averageValue",
                );
            }
        }
    }
    if let Some(r) = &m.resource {
        present.push("resource");
        if present.len() == 1 {
            if r.name.is_empty() {
                e.required(
                    format!("{path}.resource.name"),
                    "must specify a resource name",
                );
            }
            validate_resource_target(e, &r.target, &format!("{path}.resource.target"));
        }
    }
    if let Some(r) = &m.container_resource {
        present.push("containerResource");
        if present.len() == 1 {
            if r.name.is_empty() {
                e.required(
                    format!("{path}.containerResource.name"),
                    "must specify a resource name",
                );
            }
            if r.container.is_empty() {
                e.required(
                    format!("{path}.containerResource.container"),
                    "must specify a container",
                );
            } else {
                for msg in super::validation::is_dns1123_label(&r.container) {
                    e.invalid(
                        format!("{path}.containerResource.container"),
                        go_quote(&r.container),
                        &msg,
                    );
                }
            }
            validate_resource_target(e, &r.target, &format!("{path}.containerResource.target"));
        }
    }
    let expected = match m.type_.as_str() {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "External" => "external",
        "ContainerResource" => "containerResource",
        _ => "",
    };
    if !expected.is_empty() && !present.contains(&expected) {
        e.required(
            format!("{path}.{expected}"),
            "must populate information for the given metric source",
        );
    }
    if present.len() != 1 {
        present.retain(|p| *p != expected);
        present.sort_unstable();
        for p in present {
            e.forbidden(
                format!("{path}.{p}"),
                "must populate the given metric source only",
            );
        }
    }
}

/// The target rules of `validateResourceSource` and `validateContainerResourceSource`.
fn validate_resource_target(e: &mut Errors, t: &MetricTarget, path: &str) {
    validate_metric_target(e, t, path);
    if t.average_utilization.is_none() && t.average_value.is_none() {
        e.required(
            format!("{path}.averageUtilization"),
            "must set either a target raw value or a target utilization",
        );
    }
    if t.average_utilization.is_some() && t.average_value.is_some() {
        e.forbidden(
            format!("{path}.averageValue"),
            "may not set both a target raw value and a target utilization",
        );
    }
}

/// `validateMetricTarget`.
fn validate_metric_target(e: &mut Errors, t: &MetricTarget, path: &str) {
    if t.type_.is_empty() {
        e.required(format!("{path}.type"), "must specify a metric target type");
    }
    if !matches!(t.type_.as_str(), "Utilization" | "Value" | "AverageValue") {
        e.invalid(
            format!("{path}.type"),
            go_quote(&t.type_),
            "must be either Utilization, Value, or AverageValue",
        );
    }
    for (field, q) in [("value", &t.value), ("averageValue", &t.average_value)] {
        if let Some(q) = q {
            match crate::quantity::milli_value(&q.0) {
                Ok(v) if v > 0 => {}
                Ok(_) => e.invalid(
                    format!("{path}.{field}"),
                    go_quote(&q.0),
                    "must be positive",
                ),
                Err(err) => e.invalid(format!("{path}.{field}"), go_quote(&q.0), &err.to_string()),
            }
        }
    }
    if let Some(u) = t.average_utilization
        && u < 1
    {
        e.invalid(
            format!("{path}.averageUtilization"),
            u.to_string(),
            "must be greater than 0",
        );
    }
}

/// `validateMetricIdentifier`.
fn validate_metric_identifier(e: &mut Errors, id: &MetricIdentifier, path: &str) {
    if id.name.is_empty() {
        e.required(format!("{path}.name"), "must specify a metric name");
    } else {
        for msg in path_segment_errors(&id.name) {
            e.invalid(format!("{path}.name"), go_quote(&id.name), msg);
        }
    }
}

/// `validateScalingRules` and `validateScalingPolicy`.
fn validate_scaling_rules(e: &mut Errors, rules: Option<&HPAScalingRules>, path: &str) {
    let Some(rules) = rules else {
        return;
    };
    if let Some(w) = rules.stabilization_window_seconds {
        if w < 0 {
            e.invalid(
                format!("{path}.stabilizationWindowSeconds"),
                w.to_string(),
                "must be greater than or equal to zero",
            );
        }
        if w > MAX_STABILIZATION_WINDOW_SECONDS {
            e.invalid(
                format!("{path}.stabilizationWindowSeconds"),
                w.to_string(),
                &format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            );
        }
    }
    if let Some(p) = &rules.select_policy
        && !matches!(p.as_str(), "Max" | "Min" | "Disabled")
    {
        e.not_supported(
            format!("{path}.selectPolicy"),
            go_quote(p),
            &["Disabled", "Max", "Min"],
        );
    }
    let policies = rules.policies.as_deref().unwrap_or_default();
    if policies.is_empty() {
        e.required(
            format!("{path}.policies"),
            "must specify at least one Policy",
        );
    }
    for (i, p) in policies.iter().enumerate() {
        let at = format!("{path}.policies[{i}]");
        if p.type_ != "Pods" && p.type_ != "Percent" {
            e.not_supported(
                format!("{at}.type"),
                go_quote(&p.type_),
                &["Percent", "Pods"],
            );
        }
        if p.value <= 0 {
            e.invalid(
                format!("{at}.value"),
                p.value.to_string(),
                "must be greater than zero",
            );
        }
        if p.period_seconds <= 0 {
            e.invalid(
                format!("{at}.periodSeconds"),
                p.period_seconds.to_string(),
                "must be greater than zero",
            );
        }
        if p.period_seconds > MAX_PERIOD_SECONDS {
            e.invalid(
                format!("{at}.periodSeconds"),
                p.period_seconds.to_string(),
                &format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            );
        }
    }
}

/// Reads an HPA manifest of either served version into the stored form.
///
/// # Errors
///
/// A `BadRequest` [`ApiError`] when the object is not an HPA of that version.
pub fn hpa_from_json(
    api_version: &str,
    value: serde_json::Value,
) -> Result<HorizontalPodAutoscaler, ApiError> {
    let bad = |e: serde_json::Error| ApiError::bad_request(e.to_string());
    match api_version {
        "autoscaling/v1" => Ok(convert_v1(
            serde_json::from_value::<v1::HorizontalPodAutoscaler>(value).map_err(bad)?,
        )),
        _ => serde_json::from_value::<v2::HorizontalPodAutoscaler>(value).map_err(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::autoscaling::v2::HPAScalingPolicy;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn hpa(min: Option<i32>, max: i32) -> HorizontalPodAutoscaler {
        HorizontalPodAutoscaler {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(HorizontalPodAutoscalerSpec {
                scale_target_ref: CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: "Deployment".into(),
                    name: "web".into(),
                },
                min_replicas: min,
                max_replicas: max,
                ..Default::default()
            }),
            status: None,
        }
    }

    fn check(mut h: HorizontalPodAutoscaler) -> Result<HorizontalPodAutoscaler, String> {
        admit_hpa(&mut h, None).map_err(|e| e.message)?;
        Ok(h)
    }

    #[test]
    fn v1_round_trips_what_it_cannot_express_through_the_annotations() {
        let memory = MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "memory".into(),
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity("100Mi".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let mut h = hpa(Some(2), 5);
        let spec = h.spec.as_mut().unwrap();
        spec.metrics = Some(vec![memory.clone(), cpu_utilization_metric(50)]);
        spec.behavior = Some(v2::HorizontalPodAutoscalerBehavior {
            scale_down: Some(HPAScalingRules {
                stabilization_window_seconds: Some(60),
                ..Default::default()
            }),
            ..Default::default()
        });
        h.status = Some(v2::HorizontalPodAutoscalerStatus {
            current_replicas: Some(2),
            desired_replicas: 3,
            current_metrics: Some(vec![v2::MetricStatus {
                type_: "Resource".into(),
                resource: Some(v2::ResourceMetricStatus {
                    name: "cpu".into(),
                    current: v2::MetricValueStatus {
                        average_utilization: Some(70),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let v1 = to_v1(h.clone());
        let s1 = v1.spec.clone().unwrap();
        assert_eq!(s1.target_cpu_utilization_percentage, Some(50));
        assert_eq!(
            v1.status
                .as_ref()
                .unwrap()
                .current_cpu_utilization_percentage,
            Some(70)
        );
        let a = v1.metadata.annotations.clone().unwrap();
        assert_eq!(
            a[METRIC_SPECS_ANNOTATION],
            r#"[{"resource":{"name":"memory","targetAverageValue":"100Mi"},"type":"Resource"}]"#
        );
        assert!(a.contains_key(BEHAVIOR_SPECS_ANNOTATION), "{a:?}");
        assert!(a.contains_key(METRIC_STATUSES_ANNOTATION), "{a:?}");
        let back = convert_v1(v1);
        assert_eq!(back.metadata.annotations, None);
        assert_eq!(back.spec, h.spec);
        assert_eq!(back.status, h.status);
    }

    #[test]
    fn a_v1_hpa_without_a_target_targets_80_percent_cpu() {
        let v = json!({
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3},
        });
        let h = hpa_from_json("autoscaling/v1", v).unwrap();
        assert_eq!(
            h.spec.unwrap().metrics,
            Some(vec![cpu_utilization_metric(DEFAULT_CPU_UTILIZATION)])
        );
    }

    #[test]
    fn defaults_are_filled() {
        let h = check(hpa(None, 5)).unwrap();
        let spec = h.spec.unwrap();
        assert_eq!(spec.min_replicas, Some(1));
        assert_eq!(
            spec.metrics.unwrap()[0]
                .resource
                .as_ref()
                .unwrap()
                .target
                .average_utilization,
            Some(80)
        );
    }

    #[test]
    fn max_below_min_is_refused() {
        assert_eq!(
            check(hpa(Some(3), 2)).unwrap_err(),
            "HorizontalPodAutoscaler.autoscaling \"web\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
        );
    }

    #[test]
    fn zero_min_and_max() {
        let err = check(hpa(Some(0), 0)).unwrap_err();
        assert!(
            err.contains("spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"),
            "{err}"
        );
        assert!(
            err.contains("spec.maxReplicas: Invalid value: 0: must be greater than 0"),
            "{err}"
        );
    }

    #[test]
    fn metric_rules() {
        let mut h = hpa(Some(1), 5);
        h.spec.as_mut().unwrap().metrics = Some(vec![MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(0),
                    average_value: Some(Quantity("100m".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }]);
        let err = check(h).unwrap_err();
        assert!(err.contains("spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"), "{err}");
        assert!(err.contains("spec.metrics[0].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization"), "{err}");
    }

    #[test]
    fn unknown_metric_type_and_missing_source() {
        let mut h = hpa(Some(1), 5);
        h.spec.as_mut().unwrap().metrics = Some(vec![MetricSpec {
            type_: "Pods".into(),
            ..Default::default()
        }]);
        let err = check(h).unwrap_err();
        assert!(
            err.contains("spec.metrics[0].pods: Required value: must populate information for the given metric source"),
            "{err}"
        );
    }

    #[test]
    fn behavior_rules() {
        let mut h = hpa(Some(1), 5);
        h.spec.as_mut().unwrap().behavior = Some(v2::HorizontalPodAutoscalerBehavior {
            scale_down: Some(HPAScalingRules {
                stabilization_window_seconds: Some(4000),
                select_policy: Some("Fastest".into()),
                policies: Some(vec![HPAScalingPolicy {
                    type_: "Replicas".into(),
                    value: 0,
                    period_seconds: 1801,
                }]),
                ..Default::default()
            }),
            scale_up: None,
        });
        let err = check(h).unwrap_err();
        for want in [
            "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600",
            "spec.behavior.scaleDown.selectPolicy: Unsupported value: \"Fastest\": supported values: \"Disabled\", \"Max\", \"Min\"",
            "spec.behavior.scaleDown.policies[0].type: Unsupported value: \"Replicas\": supported values: \"Percent\", \"Pods\"",
            "spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero",
            "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
        ] {
            assert!(err.contains(want), "missing {want} in {err}");
        }
    }

    #[test]
    fn v1_converts_to_a_cpu_metric() {
        let v = serde_json::json!({
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "maxReplicas": 10,
                "targetCPUUtilizationPercentage": 50
            }
        });
        let h = hpa_from_json("autoscaling/v1", v).unwrap();
        let m = &h.spec.unwrap().metrics.unwrap()[0];
        assert_eq!(
            m.resource.as_ref().unwrap().target.average_utilization,
            Some(50)
        );
    }
}

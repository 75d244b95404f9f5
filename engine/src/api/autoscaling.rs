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

/// `MaxPeriodSeconds`: the longest policy period.
pub const MAX_PERIOD_SECONDS: i32 = 1800;
/// `MaxStabilizationWindowSeconds`: the longest stabilisation window.
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;

/// An `autoscaling/v1` HPA as the API server stores it (`autoscaling/v2`):
/// `targetCPUUtilizationPercentage` becomes a CPU Utilization metric.
pub fn convert_v1(hpa: v1::HorizontalPodAutoscaler) -> HorizontalPodAutoscaler {
    let spec = hpa.spec.map(|s| HorizontalPodAutoscalerSpec {
        scale_target_ref: CrossVersionObjectReference {
            api_version: s.scale_target_ref.api_version,
            kind: s.scale_target_ref.kind,
            name: s.scale_target_ref.name,
        },
        min_replicas: s.min_replicas,
        max_replicas: s.max_replicas,
        metrics: s.target_cpu_utilization_percentage.map(|pct| {
            vec![MetricSpec {
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
            }]
        }),
        behavior: None,
    });
    HorizontalPodAutoscaler {
        metadata: hpa.metadata,
        spec,
        status: None,
    }
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

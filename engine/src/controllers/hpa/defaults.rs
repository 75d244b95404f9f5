//! Defaults of an autoscaling/v2 HorizontalPodAutoscaler. Mirrors
//! `pkg/apis/autoscaling/v2/defaults.go` (`SetDefaults_HorizontalPodAutoscaler`,
//! `GenerateHPAScaleUpRules`, `GenerateHPAScaleDownRules`, `copyHPAScalingRules`).
//!
//! A nil `behavior` stays nil (the legacy normaliser applies). A behaviour that is present gets
//! every unset part filled: scale-up with a 0 s window, `Max` of 4 pods or 100% per 15 s;
//! scale-down with `Max` of 100% per 15 s and no window (the controller then uses its 300 s
//! flag, see [`super::horizontal::maybe_init_scale_down_stabilization_window`]).

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscalerBehavior,
    HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget, ResourceMetricSource,
};

/// `autoscaling.DefaultCPUUtilization`: the target when an HPA lists no metrics.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

/// `selectPolicy` values.
pub const MAX_CHANGE_POLICY_SELECT: &str = "Max";
pub const MIN_CHANGE_POLICY_SELECT: &str = "Min";
pub const DISABLED_POLICY_SELECT: &str = "Disabled";

/// Policy types.
pub const PODS_SCALING_POLICY: &str = "Pods";
pub const PERCENT_SCALING_POLICY: &str = "Percent";

fn policy(type_: &str, value: i32, period_seconds: i32) -> HPAScalingPolicy {
    HPAScalingPolicy {
        type_: type_.to_string(),
        value,
        period_seconds,
    }
}

/// `defaultHPAScaleUpRules`.
pub fn default_hpa_scale_up_rules() -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some(MAX_CHANGE_POLICY_SELECT.to_string()),
        policies: Some(vec![
            policy(PODS_SCALING_POLICY, 4, 15),
            policy(PERCENT_SCALING_POLICY, 100, 15),
        ]),
        ..Default::default()
    }
}

/// `defaultHPAScaleDownRules`. The window stays unset: it comes from the controller's flag.
pub fn default_hpa_scale_down_rules() -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some(MAX_CHANGE_POLICY_SELECT.to_string()),
        policies: Some(vec![policy(PERCENT_SCALING_POLICY, 100, 15)]),
        ..Default::default()
    }
}

/// `copyHPAScalingRules`: every field set in `from` overrides `to`.
pub fn copy_hpa_scaling_rules(
    from: Option<&HPAScalingRules>,
    mut to: HPAScalingRules,
) -> HPAScalingRules {
    let Some(from) = from else {
        return to;
    };
    if from.select_policy.is_some() {
        to.select_policy.clone_from(&from.select_policy);
    }
    if from.stabilization_window_seconds.is_some() {
        to.stabilization_window_seconds = from.stabilization_window_seconds;
    }
    if from.policies.is_some() {
        to.policies.clone_from(&from.policies);
    }
    if from.tolerance.is_some() {
        to.tolerance.clone_from(&from.tolerance);
    }
    to
}

/// `GenerateHPAScaleUpRules`.
pub fn generate_hpa_scale_up_rules(rules: Option<&HPAScalingRules>) -> HPAScalingRules {
    copy_hpa_scaling_rules(rules, default_hpa_scale_up_rules())
}

/// `GenerateHPAScaleDownRules`.
pub fn generate_hpa_scale_down_rules(rules: Option<&HPAScalingRules>) -> HPAScalingRules {
    copy_hpa_scaling_rules(rules, default_hpa_scale_down_rules())
}

/// `SetDefaults_HorizontalPodAutoscalerBehavior`: fills both directions of a behaviour that is
/// present; leaves a nil behaviour nil.
pub fn set_defaults_horizontal_pod_autoscaler_behavior(
    behavior: &mut Option<HorizontalPodAutoscalerBehavior>,
) {
    if let Some(b) = behavior {
        b.scale_up = Some(generate_hpa_scale_up_rules(b.scale_up.as_ref()));
        b.scale_down = Some(generate_hpa_scale_down_rules(b.scale_down.as_ref()));
    }
}

/// `SetDefaults_HorizontalPodAutoscaler`: `minReplicas` 1, CPU at 80% when no metric is listed,
/// and the behaviour's defaults.
pub fn set_defaults_horizontal_pod_autoscaler(spec: &mut HorizontalPodAutoscalerSpec) {
    if spec.min_replicas.is_none() {
        spec.min_replicas = Some(1);
    }
    if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
        spec.metrics = Some(vec![MetricSpec {
            type_: "Resource".to_string(),
            resource: Some(ResourceMetricSource {
                name: "cpu".to_string(),
                target: MetricTarget {
                    type_: "Utilization".to_string(),
                    average_utilization: Some(DEFAULT_CPU_UTILIZATION),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }]);
    }
    set_defaults_horizontal_pod_autoscaler_behavior(&mut spec.behavior);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nil_behavior_stays_nil() {
        let mut b = None;
        set_defaults_horizontal_pod_autoscaler_behavior(&mut b);
        assert_eq!(b, None);
    }

    #[test]
    fn empty_behavior_gets_both_directions() {
        let mut b = Some(HorizontalPodAutoscalerBehavior::default());
        set_defaults_horizontal_pod_autoscaler_behavior(&mut b);
        let b = b.unwrap();
        assert_eq!(b.scale_up, Some(default_hpa_scale_up_rules()));
        assert_eq!(b.scale_down, Some(default_hpa_scale_down_rules()));
        assert_eq!(b.scale_down.unwrap().stabilization_window_seconds, None);
    }

    #[test]
    fn set_fields_win_over_defaults() {
        // A user's policy list replaces the default list whole; the window and selectPolicy
        // keep their defaults.
        let user = HPAScalingRules {
            policies: Some(vec![policy(PODS_SCALING_POLICY, 1, 60)]),
            ..Default::default()
        };
        let up = generate_hpa_scale_up_rules(Some(&user));
        assert_eq!(up.policies, user.policies);
        assert_eq!(up.stabilization_window_seconds, Some(0));
        assert_eq!(up.select_policy.as_deref(), Some("Max"));
        let down = generate_hpa_scale_down_rules(Some(&HPAScalingRules {
            select_policy: Some(DISABLED_POLICY_SELECT.to_string()),
            stabilization_window_seconds: Some(60),
            ..Default::default()
        }));
        assert_eq!(down.select_policy.as_deref(), Some("Disabled"));
        assert_eq!(down.stabilization_window_seconds, Some(60));
        assert_eq!(down.policies, default_hpa_scale_down_rules().policies);
    }

    #[test]
    fn spec_defaults() {
        let mut spec = HorizontalPodAutoscalerSpec {
            max_replicas: 5,
            ..Default::default()
        };
        set_defaults_horizontal_pod_autoscaler(&mut spec);
        assert_eq!(spec.min_replicas, Some(1));
        let metrics = spec.metrics.unwrap();
        let target = &metrics[0].resource.as_ref().unwrap().target;
        assert_eq!(target.average_utilization, Some(80));
        assert_eq!(spec.behavior, None);
    }
}

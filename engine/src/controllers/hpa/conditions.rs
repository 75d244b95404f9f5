//! The HPA's condition reasons and messages, its events and its rescale reasons, with
//! upstream's exact strings. Upstream writes them inline in
//! `pkg/controller/podautoscaler/horizontal.go` (`setCondition` calls, `eventRecorder` calls,
//! `reconcileAutoscaler`); they are gathered here so that tests and steps can name them. Also
//! `setConditionInList`, see [`set_condition_in_list`].

use crate::time::Millis;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerCondition;
use std::fmt;

/// The three condition types of `status.conditions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConditionType {
    AbleToScale,
    ScalingActive,
    ScalingLimited,
}

impl ConditionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionType::AbleToScale => "AbleToScale",
            ConditionType::ScalingActive => "ScalingActive",
            ConditionType::ScalingLimited => "ScalingLimited",
        }
    }
}

impl fmt::Display for ConditionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every reason the controller writes into a condition (spec §5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    // AbleToScale
    SucceededGetScale,
    FailedGetScale,
    SucceededRescale,
    FailedUpdateScale,
    ReadyForNewScale,
    ScaleUpStabilized,
    ScaleDownStabilized,
    // ScalingActive
    ValidMetricFound,
    FailedGetResourceMetric,
    FailedGetContainerResourceMetric,
    FailedGetPodsMetric,
    FailedGetObjectMetric,
    FailedGetExternalMetric,
    InvalidSelector,
    AmbiguousSelector,
    InvalidMetricSourceType,
    ScalingDisabled,
    // ScalingLimited
    TooManyReplicas,
    TooFewReplicas,
    ScaleUpLimit,
    ScaleDownLimit,
    DesiredWithinRange,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SucceededGetScale => "SucceededGetScale",
            Reason::FailedGetScale => "FailedGetScale",
            Reason::SucceededRescale => "SucceededRescale",
            Reason::FailedUpdateScale => "FailedUpdateScale",
            Reason::ReadyForNewScale => "ReadyForNewScale",
            Reason::ScaleUpStabilized => "ScaleUpStabilized",
            Reason::ScaleDownStabilized => "ScaleDownStabilized",
            Reason::ValidMetricFound => "ValidMetricFound",
            Reason::FailedGetResourceMetric => "FailedGetResourceMetric",
            Reason::FailedGetContainerResourceMetric => "FailedGetContainerResourceMetric",
            Reason::FailedGetPodsMetric => "FailedGetPodsMetric",
            Reason::FailedGetObjectMetric => "FailedGetObjectMetric",
            Reason::FailedGetExternalMetric => "FailedGetExternalMetric",
            Reason::InvalidSelector => "InvalidSelector",
            Reason::AmbiguousSelector => "AmbiguousSelector",
            Reason::InvalidMetricSourceType => "InvalidMetricSourceType",
            Reason::ScalingDisabled => "ScalingDisabled",
            Reason::TooManyReplicas => "TooManyReplicas",
            Reason::TooFewReplicas => "TooFewReplicas",
            Reason::ScaleUpLimit => "ScaleUpLimit",
            Reason::ScaleDownLimit => "ScaleDownLimit",
            Reason::DesiredWithinRange => "DesiredWithinRange",
        }
    }

    /// The condition a reason belongs to.
    pub fn condition_type(self) -> ConditionType {
        use Reason::*;
        match self {
            SucceededGetScale | FailedGetScale | SucceededRescale | FailedUpdateScale
            | ReadyForNewScale | ScaleUpStabilized | ScaleDownStabilized => {
                ConditionType::AbleToScale
            }
            ValidMetricFound
            | FailedGetResourceMetric
            | FailedGetContainerResourceMetric
            | FailedGetPodsMetric
            | FailedGetObjectMetric
            | FailedGetExternalMetric
            | InvalidSelector
            | AmbiguousSelector
            | InvalidMetricSourceType
            | ScalingDisabled => ConditionType::ScalingActive,
            TooManyReplicas | TooFewReplicas | ScaleUpLimit | ScaleDownLimit
            | DesiredWithinRange => ConditionType::ScalingLimited,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A condition as the controller sets it: type (from the reason), status, reason, message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub status: bool,
    pub reason: Reason,
    pub message: String,
}

impl Condition {
    pub fn new(status: bool, reason: Reason, message: impl Into<String>) -> Self {
        Condition {
            status,
            reason,
            message: message.into(),
        }
    }

    pub fn type_(&self) -> ConditionType {
        self.reason.condition_type()
    }
}

/// The fixed messages.
pub mod message {
    pub const SUCCEEDED_GET_SCALE: &str =
        "the HPA controller was able to get the target's current scale";
    pub const READY_FOR_NEW_SCALE: &str = "recommended size matches current size";
    pub const SCALE_UP_STABILIZED: &str = "recent recommendations were lower than current one, applying the lowest recent recommendation";
    pub const SCALE_DOWN_STABILIZED: &str = "recent recommendations were higher than current one, applying the highest recent recommendation";
    pub const SCALING_DISABLED: &str =
        "scaling is disabled since the replica count of the target is zero";
    pub const SELECTOR_MISSING: &str = "the HPA target's scale is missing a selector";
    pub const TOO_MANY_REPLICAS: &str =
        "the desired replica count is more than the maximum replica count";
    pub const TOO_FEW_REPLICAS: &str =
        "the desired replica count is less than the minimum replica count";
    pub const SCALE_UP_LIMIT: &str =
        "the desired replica count is increasing faster than the maximum scale rate";
    pub const SCALE_DOWN_LIMIT: &str =
        "the desired replica count is decreasing faster than the maximum scale rate";
    pub const DESIRED_WITHIN_RANGE: &str = "the desired count is within the acceptable range";

    /// `FailedGetScale`.
    pub fn failed_get_scale(err: &str) -> String {
        format!("the HPA controller was unable to get the target's current scale: {err}")
    }

    /// `SucceededRescale`.
    pub fn succeeded_rescale(new_size: i32) -> String {
        format!("the HPA controller was able to update the target scale to {new_size}")
    }

    /// `FailedUpdateScale`.
    pub fn failed_update_scale(err: &str) -> String {
        format!("the HPA controller was unable to update the target scale: {err}")
    }

    /// `ValidMetricFound`, naming the metric that decided.
    pub fn valid_metric_found(metric: &str) -> String {
        format!("the HPA was able to successfully calculate a replica count from {metric}")
    }

    /// Every `FailedGet*Metric` and `InvalidMetricSourceType` (`getUnableComputeReplicaCountCondition`).
    pub fn unable_to_compute_replica_count(err: &str) -> String {
        format!("the HPA was unable to compute the replica count: {err}")
    }

    /// The error `computeReplicasForMetrics` returns when a metric fails.
    pub fn invalid_metrics(invalid: usize, total: usize, first_error: &str) -> String {
        format!("invalid metrics ({invalid} invalid out of {total}), first error is: {first_error}")
    }
}

/// Why the controller rescales: the `reason` of the SuccessfulRescale event.
pub mod rescale_reason {
    pub const ABOVE_MAX_REPLICAS: &str = "Current number of replicas above Spec.MaxReplicas";
    pub const BELOW_MIN_REPLICAS: &str = "Current number of replicas below Spec.MinReplicas";
    pub const ALL_METRICS_BELOW_TARGET: &str = "All metrics below target";

    /// On a scale-up: the metric with the highest proposal, e.g. `cpu resource utilization
    /// (percentage of request) above target`.
    pub fn above_target(metric: &str) -> String {
        format!("{metric} above target")
    }
}

/// Metric descriptions as `computeStatusFor*Metric` builds them, used in the rescale reason and
/// the `ValidMetricFound` message.
pub mod metric_name {
    /// A Resource metric with an `averageUtilization` target.
    pub fn resource_utilization(resource: &str) -> String {
        format!("{resource} resource utilization (percentage of request)")
    }

    /// A ContainerResource metric with an `averageUtilization` target.
    pub fn container_resource_utilization(resource: &str) -> String {
        format!("{resource} container resource utilization (percentage of request)")
    }

    /// A Resource or ContainerResource metric with an `averageValue` target.
    pub fn resource(resource: &str) -> String {
        format!("{resource} resource")
    }

    /// A Pods metric.
    pub fn pods(metric: &str) -> String {
        format!("pods metric {metric}")
    }

    /// An Object metric with a `value` target, e.g. `Service metric requests-per-second`.
    pub fn object(kind: &str, metric: &str) -> String {
        format!("{kind} metric {metric}")
    }
}

/// The HPA's events (reason, message).
pub mod event {
    pub const SUCCESSFUL_RESCALE: &str = "SuccessfulRescale";
    pub const FAILED_RESCALE: &str = "FailedRescale";
    pub const FAILED_COMPUTE_METRICS_REPLICAS: &str = "FailedComputeMetricsReplicas";

    /// `Normal SuccessfulRescale`: `New size: 5; reason: cpu resource utilization (percentage of
    /// request) above target`.
    pub fn successful_rescale(new_size: i32, reason: &str) -> String {
        format!("New size: {new_size}; reason: {reason}")
    }

    /// `Warning FailedRescale`.
    pub fn failed_rescale(new_size: i32, reason: &str, err: &str) -> String {
        format!("New size: {new_size}; reason: {reason}; error: {err}")
    }
}

/// `setConditionInList`: sets a condition in place, or appends it. `lastTransitionTime` moves
/// only when the status changes.
pub fn set_condition_in_list(
    list: &mut Vec<HorizontalPodAutoscalerCondition>,
    condition: &Condition,
    now: Millis,
) {
    let type_ = condition.type_().as_str();
    let status = if condition.status { "True" } else { "False" };
    let index = match list.iter().position(|c| c.type_ == type_) {
        Some(i) => i,
        None => {
            list.push(HorizontalPodAutoscalerCondition {
                type_: type_.to_string(),
                ..Default::default()
            });
            list.len() - 1
        }
    };
    let existing = &mut list[index];
    if existing.status != status {
        existing.last_transition_time = Some(now.to_time());
    }
    existing.status = status.to_string();
    existing.reason = Some(condition.reason.as_str().to_string());
    existing.message = Some(condition.message.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successful_rescale_event_reads_as_upstream() {
        let reason = rescale_reason::above_target(&metric_name::resource_utilization("cpu"));
        assert_eq!(
            event::successful_rescale(5, &reason),
            "New size: 5; reason: cpu resource utilization (percentage of request) above target"
        );
    }

    #[test]
    fn every_reason_belongs_to_its_condition() {
        assert_eq!(
            Reason::ScaleDownStabilized.condition_type(),
            ConditionType::AbleToScale
        );
        assert_eq!(
            Reason::ScalingDisabled.condition_type(),
            ConditionType::ScalingActive
        );
        assert_eq!(
            Reason::ScaleUpLimit.condition_type(),
            ConditionType::ScalingLimited
        );
        assert_eq!(Reason::FailedGetPodsMetric.as_str(), "FailedGetPodsMetric");
    }

    #[test]
    fn transition_time_moves_only_when_the_status_changes() {
        let mut list = Vec::new();
        let t0 = Millis::from_secs(15);
        let t1 = Millis::from_secs(30);
        set_condition_in_list(
            &mut list,
            &Condition::new(true, Reason::ReadyForNewScale, message::READY_FOR_NEW_SCALE),
            t0,
        );
        set_condition_in_list(
            &mut list,
            &Condition::new(
                true,
                Reason::ScaleDownStabilized,
                message::SCALE_DOWN_STABILIZED,
            ),
            t1,
        );
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].last_transition_time, Some(t0.to_time()));
        assert_eq!(list[0].reason.as_deref(), Some("ScaleDownStabilized"));
        set_condition_in_list(
            &mut list,
            &Condition::new(
                false,
                Reason::DesiredWithinRange,
                message::DESIRED_WITHIN_RANGE,
            ),
            t1,
        );
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].type_, "ScalingLimited");
        assert_eq!(list[1].status, "False");
        assert_eq!(list[1].last_transition_time, Some(t1.to_time()));
    }
}

//! Replica proposals from metric samples. Mirrors
//! `pkg/controller/podautoscaler/replica_calculator.go`; see [`ReplicaCalculator`].
//!
//! Upstream's calculator fetches samples and lists pods itself. Here the caller passes both in
//! (`pods`, `metrics`), together with `now`, which upstream reads from `time.Now()` in
//! `groupPods`. The returned timestamps of upstream (used only for logging) are left out.

use super::metrics::{PodMetric, PodMetricsInfo, get_metric_usage_ratio};
use super::{
    CPU_INITIALIZATION_PERIOD, DEFAULT_TOLERANCE, DELAY_OF_INITIAL_READINESS_STATUS, Error, Result,
    metrics,
};
use crate::time::Millis;
use std::collections::{BTreeMap, BTreeSet};

/// The resource whose readiness rules are special (`v1.ResourceCPU`).
pub const CPU: &str = "cpu";

/// The scale-up and scale-down tolerances (`Tolerances`).
///
/// Per-HPA tolerances (`behavior.scale{Up,Down}.tolerance`) need the alpha
/// `HPAConfigurableTolerance` gate in v1.34, which is off: both are the controller's 0.1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    pub scale_down: f64,
    pub scale_up: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            scale_down: DEFAULT_TOLERANCE,
            scale_up: DEFAULT_TOLERANCE,
        }
    }
}

impl Tolerances {
    /// `isWithin`: `1 − down <= ratio <= 1 + up`, both ends inclusive.
    ///
    /// NOTE: older upstream code tested `|1 − ratio| <= 0.1`, under which a ratio of exactly 1.1
    /// scales up (`1.1 − 1.0` is 0.10000000000000009 in floating point). Here 1.1 is within, as
    /// it is for the current controller (spec H4).
    pub fn is_within(self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// `v1.PodPhase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// `v1.ConditionStatus`: `Unknown` is neither `True` nor `False`, and the rules test for `False`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// A pod's `Ready` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyCondition {
    pub status: ConditionStatus,
    pub last_transition_time: Millis,
}

/// A container's name and requests, in milli-units by resource name (`"cpu"`, `"memory"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerRequests {
    pub name: String,
    pub requests: BTreeMap<String, i64>,
}

/// What the calculator needs to know about one pod the target's selector matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    pub name: String,
    pub phase: PodPhase,
    /// The `Ready` condition, if the pod has one yet.
    pub ready: Option<ReadyCondition>,
    /// `status.startTime`, once the kubelet has accepted the pod.
    pub start_time: Option<Millis>,
    /// `deletionTimestamp` is set.
    pub deleting: bool,
    /// The app containers, then the restartable init (sidecar) containers, as
    /// `calculatePodRequestsFromContainers` lists them. Regular init containers are left out.
    pub containers: Vec<ContainerRequests>,
}

impl PodInfo {
    /// `phase == Running && podutil.IsPodReady`.
    fn is_running_and_ready(&self) -> bool {
        self.phase == PodPhase::Running
            && self
                .ready
                .is_some_and(|c| c.status == ConditionStatus::True)
    }
}

/// The four groups of `groupPods`. Only ready pods are counted; the others are named.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodGroups {
    pub ready_pod_count: usize,
    pub unready_pods: BTreeSet<String>,
    pub missing_pods: BTreeSet<String>,
    pub ignored_pods: BTreeSet<String>,
}

/// `groupPods`: sorts pods into ready (counted), unready, missing (no sample) and ignored.
///
/// - Deleting or `Failed` pods are ignored.
/// - `Pending` pods are unready.
/// - Pods without a sample are missing.
/// - For CPU only: a pod without a `Ready` condition or a start time is unready. Within
///   `cpu_initialization_period` of its start, a pod is unready if it is not ready, or if its
///   sample's window began before its last readiness transition (`timestamp < lastTransition +
///   window`). After that, it is unready only if it is not ready and it never became ready: its
///   last transition came within `delay_of_initial_readiness_status` of its start.
/// - Everything else is ready.
pub fn group_pods(
    pods: &[PodInfo],
    metrics: &PodMetricsInfo,
    resource: &str,
    cpu_initialization_period: Millis,
    delay_of_initial_readiness_status: Millis,
    now: Millis,
) -> PodGroups {
    let mut groups = PodGroups::default();
    for pod in pods {
        if pod.deleting || pod.phase == PodPhase::Failed {
            groups.ignored_pods.insert(pod.name.clone());
            continue;
        }
        if pod.phase == PodPhase::Pending {
            groups.unready_pods.insert(pod.name.clone());
            continue;
        }
        let Some(metric) = metrics.get(&pod.name) else {
            groups.missing_pods.insert(pod.name.clone());
            continue;
        };
        if resource == CPU {
            let unready = match (pod.ready, pod.start_time) {
                (Some(condition), Some(start)) => {
                    if start + cpu_initialization_period > now {
                        // Still initialising: ignore the sample if the pod is unready, or if one
                        // whole window has not been collected since the last transition.
                        condition.status == ConditionStatus::False
                            || metric.timestamp < condition.last_transition_time + metric.window
                    } else {
                        // Ignore the sample only if the pod is unready and never became ready.
                        condition.status == ConditionStatus::False
                            && start + delay_of_initial_readiness_status
                                > condition.last_transition_time
                    }
                }
                _ => true,
            };
            if unready {
                groups.unready_pods.insert(pod.name.clone());
                continue;
            }
        }
        groups.ready_pod_count += 1;
    }
    groups
}

/// `removeMetricsForPods`.
pub fn remove_metrics_for_pods(metrics: &mut PodMetricsInfo, pods: &BTreeSet<String>) {
    for pod in pods {
        metrics.remove(pod);
    }
}

/// `calculateRequests`: each pod's request for `resource`, summed over its containers, or that
/// of one container when `container` names one (ContainerResource metrics).
///
/// NOTE: pod-level requests (`spec.resources`, the PodLevelResources feature) are not modelled;
/// requests always come from the containers.
///
/// # Errors
///
/// [`Error::MissingRequest`] for the first counted container without a request for `resource`,
/// [`Error::ContainerNotFound`] when `container` names no container of a pod.
pub fn calculate_requests(
    pods: &[PodInfo],
    container: Option<&str>,
    resource: &str,
) -> Result<BTreeMap<String, i64>> {
    pods.iter()
        .map(|pod| {
            calculate_pod_requests_from_containers(pod, container, resource)
                .map(|r| (pod.name.clone(), r))
        })
        .collect()
}

/// `calculatePodRequestsFromContainers`.
///
/// # Errors
///
/// As [`calculate_requests`].
pub fn calculate_pod_requests_from_containers(
    pod: &PodInfo,
    container: Option<&str>,
    resource: &str,
) -> Result<i64> {
    let mut request = 0i64;
    for c in &pod.containers {
        if container.is_none_or(|name| name == c.name) {
            let Some(r) = c.requests.get(resource) else {
                return Err(Error::MissingRequest {
                    resource: resource.to_string(),
                    container: c.name.clone(),
                    pod: pod.name.clone(),
                });
            };
            request += r;
        }
        if container == Some(c.name.as_str()) {
            return Ok(request);
        }
    }
    match container {
        Some(name) => Err(Error::ContainerNotFound {
            container: name.to_string(),
            pod: pod.name.clone(),
        }),
        None => Ok(request),
    }
}

/// The outcome of [`ReplicaCalculator::get_resource_replicas`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceReplicas {
    pub replica_count: i32,
    /// Whole percent of the requests (`status.currentMetrics[].resource.current.averageUtilization`).
    pub utilization: i32,
    /// Average milli-units per pod (`current.averageValue`).
    pub raw_utilization: i64,
}

/// `ceil(x)` as an `int32`, the conversion upstream applies to replica counts.
///
/// NOTE: Go's `int32(f)` of an out-of-range float is undefined; Rust's `as` saturates. No
/// realistic input gets near either bound.
fn ceil_i32(x: f64) -> i32 {
    x.ceil() as i32
}

/// `ReplicaCalculator`: the controller's flags that shape replica proposals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaCalculator {
    pub cpu_initialization_period: Millis,
    pub delay_of_initial_readiness_status: Millis,
}

impl Default for ReplicaCalculator {
    /// The kube-controller-manager defaults: 5 minutes and 30 seconds.
    fn default() -> Self {
        ReplicaCalculator {
            cpu_initialization_period: CPU_INITIALIZATION_PERIOD,
            delay_of_initial_readiness_status: DELAY_OF_INITIAL_READINESS_STATUS,
        }
    }
}

impl ReplicaCalculator {
    /// `GetResourceReplicas`: a Resource or ContainerResource metric with an
    /// `averageUtilization` target (percent of the requests).
    ///
    /// Worked example (spec H1): 4 ready pods of 500m, 1600m in total, target 50% →
    /// utilization `1600 × 100 / 2000 = 80`, ratio 1.6, `ceil(1.6 × 4) = 7`.
    ///
    /// When pods are missing samples, or some are unready and the ratio says "up", the ratio is
    /// recomputed with the missing pods at 100% of their request (or the target, if higher) on a
    /// scale-down and at 0 on a scale-up, and the unready pods at 0. If that brings the ratio
    /// within tolerance or reverses its direction, nothing changes. Spec H6: 9 of 10 pods report
    /// 10m of 100m, target 50% → first ratio `10 / 50 = 0.2`; with the missing pod at 100m,
    /// `190 × 100 / 1000 = 19`, ratio 0.38, `ceil(0.38 × 10) = 4`.
    ///
    /// # Errors
    ///
    /// [`Error::NoPods`], [`Error::NoMetricsForTargetedPods`], the request errors of
    /// [`calculate_requests`] and [`Error::NoMetricsMatchedKnownPods`].
    #[allow(clippy::too_many_arguments)]
    pub fn get_resource_replicas(
        &self,
        current_replicas: i32,
        target_utilization: i32,
        resource: &str,
        tolerances: Tolerances,
        container: Option<&str>,
        pods: &[PodInfo],
        mut metrics: PodMetricsInfo,
        now: Millis,
    ) -> Result<ResourceReplicas> {
        if pods.is_empty() {
            return Err(Error::NoPods);
        }
        let groups = group_pods(
            pods,
            &metrics,
            resource,
            self.cpu_initialization_period,
            self.delay_of_initial_readiness_status,
            now,
        );
        remove_metrics_for_pods(&mut metrics, &groups.ignored_pods);
        remove_metrics_for_pods(&mut metrics, &groups.unready_pods);
        if metrics.is_empty() {
            return Err(Error::NoMetricsForTargetedPods);
        }
        let requests = calculate_requests(pods, container, resource)?;
        let (usage_ratio, utilization, raw_utilization) =
            metrics::get_resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        let result = |replica_count| ResourceReplicas {
            replica_count,
            utilization,
            raw_utilization,
        };

        let scale_up_with_unready = !groups.unready_pods.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && groups.missing_pods.is_empty() {
            if tolerances.is_within(usage_ratio) {
                return Ok(result(current_replicas));
            }
            return Ok(result(ceil_i32(
                usage_ratio * groups.ready_pod_count as f64,
            )));
        }

        if !groups.missing_pods.is_empty() {
            if usage_ratio < 1.0 {
                // On a scale-down, missing pods use 100% of their request, or the target when
                // the target is above 100%.
                let fallback_utilization = i64::from(target_utilization.max(100));
                for pod in &groups.missing_pods {
                    let value =
                        requests.get(pod).copied().unwrap_or(0) * fallback_utilization / 100;
                    metrics.insert(pod.clone(), PodMetric::value(value));
                }
            } else if usage_ratio > 1.0 {
                for pod in &groups.missing_pods {
                    metrics.insert(pod.clone(), PodMetric::value(0));
                }
            }
        }
        if scale_up_with_unready {
            for pod in &groups.unready_pods {
                metrics.insert(pod.clone(), PodMetric::value(0));
            }
        }

        let (new_usage_ratio, _, _) =
            metrics::get_resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        if tolerances.is_within(new_usage_ratio)
            || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
            || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
        {
            return Ok(result(current_replicas));
        }
        let new_replicas = ceil_i32(new_usage_ratio * metrics.len() as f64);
        if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
            || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
        {
            // Counting the extra pods would move the count against the ratio's direction.
            return Ok(result(current_replicas));
        }
        Ok(result(new_replicas))
    }

    /// `GetRawResourceReplicas`: a Resource or ContainerResource metric with an `averageValue`
    /// target, in milli-units per pod. Returns the proposal and the average usage.
    ///
    /// # Errors
    ///
    /// As [`ReplicaCalculator::calc_plain_metric_replicas`].
    #[allow(clippy::too_many_arguments)]
    pub fn get_raw_resource_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        resource: &str,
        tolerances: Tolerances,
        pods: &[PodInfo],
        metrics: PodMetricsInfo,
        now: Millis,
    ) -> Result<(i32, i64)> {
        self.calc_plain_metric_replicas(
            metrics,
            current_replicas,
            target_usage,
            tolerances,
            pods,
            resource,
            now,
        )
    }

    /// `GetMetricReplicas`: a Pods metric with an `averageValue` target. The CPU readiness
    /// rules do not apply (the resource is empty).
    ///
    /// # Errors
    ///
    /// As [`ReplicaCalculator::calc_plain_metric_replicas`].
    pub fn get_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        tolerances: Tolerances,
        pods: &[PodInfo],
        metrics: PodMetricsInfo,
        now: Millis,
    ) -> Result<(i32, i64)> {
        self.calc_plain_metric_replicas(
            metrics,
            current_replicas,
            target_usage,
            tolerances,
            pods,
            "",
            now,
        )
    }

    /// `calcPlainMetricReplicas`: the average-value form of [`Self::get_resource_replicas`].
    /// `ratio = (Σ usage / #pods with samples) / target`, the average an integer division.
    /// Missing pods count as exactly the target on a scale-down and 0 on a scale-up; unready
    /// pods as 0 on a scale-up.
    ///
    /// Worked example (upstream `TestReplicaCalcScaleUpCM`): samples 20, 10 and 30 (thousand
    /// milli-units), target 15 → average 20, ratio 1.333, `ceil(1.333 × 3) = 4`.
    ///
    /// # Errors
    ///
    /// [`Error::NoPods`], [`Error::NoMetricsForTargetedPods`].
    #[allow(clippy::too_many_arguments)]
    pub fn calc_plain_metric_replicas(
        &self,
        mut metrics: PodMetricsInfo,
        current_replicas: i32,
        target_usage: i64,
        tolerances: Tolerances,
        pods: &[PodInfo],
        resource: &str,
        now: Millis,
    ) -> Result<(i32, i64)> {
        if pods.is_empty() {
            return Err(Error::NoPods);
        }
        let groups = group_pods(
            pods,
            &metrics,
            resource,
            self.cpu_initialization_period,
            self.delay_of_initial_readiness_status,
            now,
        );
        remove_metrics_for_pods(&mut metrics, &groups.ignored_pods);
        remove_metrics_for_pods(&mut metrics, &groups.unready_pods);
        if metrics.is_empty() {
            return Err(Error::NoMetricsForTargetedPods);
        }
        let (usage_ratio, usage) = get_metric_usage_ratio(&metrics, target_usage);

        let scale_up_with_unready = !groups.unready_pods.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && groups.missing_pods.is_empty() {
            if tolerances.is_within(usage_ratio) {
                return Ok((current_replicas, usage));
            }
            return Ok((ceil_i32(usage_ratio * groups.ready_pod_count as f64), usage));
        }

        if !groups.missing_pods.is_empty() {
            let fill = if usage_ratio < 1.0 {
                Some(target_usage)
            } else if usage_ratio > 1.0 {
                Some(0)
            } else {
                None
            };
            if let Some(value) = fill {
                for pod in &groups.missing_pods {
                    metrics.insert(pod.clone(), PodMetric::value(value));
                }
            }
        }
        if scale_up_with_unready {
            for pod in &groups.unready_pods {
                metrics.insert(pod.clone(), PodMetric::value(0));
            }
        }

        let (new_usage_ratio, _) = get_metric_usage_ratio(&metrics, target_usage);
        if tolerances.is_within(new_usage_ratio)
            || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
            || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
        {
            return Ok((current_replicas, usage));
        }
        let new_replicas = ceil_i32(new_usage_ratio * metrics.len() as f64);
        if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
            || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
        {
            return Ok((current_replicas, usage));
        }
        Ok((new_replicas, usage))
    }

    /// `GetObjectMetricReplicas`: an Object metric with a `value` target. `usage` is the
    /// object's value in milli-units. Returns the proposal and `usage`.
    ///
    /// # Errors
    ///
    /// As [`Self::get_usage_ratio_replica_count`].
    pub fn get_object_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        usage: i64,
        tolerances: Tolerances,
        pods: &[PodInfo],
    ) -> Result<(i32, i64)> {
        let usage_ratio = usage as f64 / target_usage as f64;
        let replicas =
            self.get_usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?;
        Ok((replicas, usage))
    }

    /// `getUsageRatioReplicaCount`: within tolerance → `current`; else `ceil(ratio ×
    /// readyPods)`, counting Running and Ready pods. From 0 replicas (scale to zero),
    /// `ceil(ratio)` without tolerance.
    ///
    /// Worked example (upstream `TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods`): value 50,
    /// target 10, 1 of 3 pods ready → `ceil(5 × 1) = 5`, not 15.
    ///
    /// # Errors
    ///
    /// [`Error::ReadyPods`] wrapping [`Error::NoPods`] when no pod matches.
    pub fn get_usage_ratio_replica_count(
        &self,
        current_replicas: i32,
        usage_ratio: f64,
        tolerances: Tolerances,
        pods: &[PodInfo],
    ) -> Result<i32> {
        if current_replicas == 0 {
            return Ok(ceil_i32(usage_ratio));
        }
        if tolerances.is_within(usage_ratio) {
            return Ok(current_replicas);
        }
        let ready = get_ready_pods_count(pods).map_err(|e| Error::ReadyPods {
            source: Box::new(e),
        })?;
        Ok(ceil_i32(usage_ratio * ready as f64))
    }

    /// `GetObjectPerPodMetricReplicas`: an Object metric with an `averageValue` target.
    /// `ratio = usage / (target × statusReplicas)`; outside tolerance → `ceil(usage / target)`.
    /// Returns the proposal and the usage per replica, rounded up.
    pub fn get_object_per_pod_metric_replicas(
        &self,
        status_replicas: i32,
        target_average_usage: i64,
        usage: i64,
        tolerances: Tolerances,
    ) -> (i32, i64) {
        per_pod_replicas(status_replicas, target_average_usage, usage, tolerances)
    }

    /// `GetExternalMetricReplicas`: an External metric with a `value` target. The series'
    /// values are summed (saturating at `i64::MAX`), then as
    /// [`Self::get_object_metric_replicas`]. Returns the proposal and the sum.
    ///
    /// # Errors
    ///
    /// As [`Self::get_usage_ratio_replica_count`].
    pub fn get_external_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        values: &[i64],
        tolerances: Tolerances,
        pods: &[PodInfo],
    ) -> Result<(i32, i64)> {
        let usage = values.iter().fold(0i64, |acc, v| acc.saturating_add(*v));
        let usage_ratio = usage as f64 / target_usage as f64;
        let replicas =
            self.get_usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?;
        Ok((replicas, usage))
    }

    /// `GetExternalPerPodMetricReplicas`: an External metric with an `averageValue` target, as
    /// [`Self::get_object_per_pod_metric_replicas`] over the sum of the series.
    ///
    /// Worked example (upstream `TestReplicaCalcScaleUpPerPodCMExternal`): 8600 over 3 replicas,
    /// 2150 per pod → ratio `8600 / 6450 = 1.33`, `ceil(8600 / 2150) = 4`, usage `ceil(8600 /
    /// 3) = 2867`.
    pub fn get_external_per_pod_metric_replicas(
        &self,
        status_replicas: i32,
        target_usage_per_pod: i64,
        values: &[i64],
        tolerances: Tolerances,
    ) -> (i32, i64) {
        let usage = values.iter().fold(0i64, |acc, v| acc.saturating_add(*v));
        per_pod_replicas(status_replicas, target_usage_per_pod, usage, tolerances)
    }
}

/// The shared arithmetic of the two per-pod forms.
///
/// NOTE: with 0 status replicas upstream divides by zero in floating point; the ratio is
/// infinite (so the proposal is `ceil(usage / target)`) and Go converts the infinite per-pod
/// usage to an unspecified integer. Here it saturates at `i64::MAX`.
fn per_pod_replicas(
    status_replicas: i32,
    target: i64,
    usage: i64,
    tolerances: Tolerances,
) -> (i32, i64) {
    let mut replica_count = status_replicas;
    let usage_ratio = usage as f64 / (target as f64 * f64::from(status_replicas));
    if !tolerances.is_within(usage_ratio) {
        replica_count = ceil_i32(usage as f64 / target as f64);
    }
    let per_pod = (usage as f64 / f64::from(status_replicas)).ceil() as i64;
    (replica_count, per_pod)
}

/// `getReadyPodsCount`: pods that are Running and Ready.
///
/// # Errors
///
/// [`Error::NoPods`] when `pods` is empty.
pub fn get_ready_pods_count(pods: &[PodInfo]) -> Result<i64> {
    if pods.is_empty() {
        return Err(Error::NoPods);
    }
    Ok(pods.iter().filter(|p| p.is_running_and_ready()).count() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = Millis::from_secs(3600);

    fn pod(name: &str, cpu_request: i64) -> PodInfo {
        PodInfo {
            name: name.to_string(),
            phase: PodPhase::Running,
            ready: Some(ReadyCondition {
                status: ConditionStatus::True,
                last_transition_time: Millis::from_secs(60),
            }),
            start_time: Some(Millis::from_secs(30)),
            deleting: false,
            containers: vec![ContainerRequests {
                name: "app".to_string(),
                requests: [(CPU.to_string(), cpu_request)].into_iter().collect(),
            }],
        }
    }

    fn sample(value: i64) -> PodMetric {
        PodMetric {
            value,
            timestamp: NOW,
            window: Millis::from_secs(60),
        }
    }

    #[test]
    fn tolerance_is_inclusive_at_both_ends() {
        let t = Tolerances::default();
        assert!(t.is_within(1.1));
        assert!(t.is_within(0.9));
        assert!(!t.is_within(1.1000001));
        assert!(!t.is_within(0.8999999));
    }

    #[test]
    fn deleting_and_failed_pods_are_ignored_pending_pods_unready() {
        let mut deleting = pod("a", 100);
        deleting.deleting = true;
        let mut failed = pod("b", 100);
        failed.phase = PodPhase::Failed;
        let mut pending = pod("c", 100);
        pending.phase = PodPhase::Pending;
        let ok = pod("d", 100);
        let missing = pod("e", 100);
        let metrics: PodMetricsInfo = ["a", "b", "c", "d"]
            .iter()
            .map(|n| (n.to_string(), sample(10)))
            .collect();
        let g = group_pods(
            &[deleting, failed, pending, ok, missing],
            &metrics,
            CPU,
            CPU_INITIALIZATION_PERIOD,
            DELAY_OF_INITIAL_READINESS_STATUS,
            NOW,
        );
        assert_eq!(g.ready_pod_count, 1);
        assert_eq!(g.ignored_pods, ["a", "b"].map(String::from).into());
        assert_eq!(g.unready_pods, ["c"].map(String::from).into());
        assert_eq!(g.missing_pods, ["e"].map(String::from).into());
    }

    #[test]
    fn cpu_sample_that_started_before_the_ready_transition_is_unready_while_initialising() {
        // Started 60 s ago, ready 20 s ago; the 60 s window began before that transition.
        let mut p = pod("a", 100);
        p.start_time = Some(NOW - Millis::from_secs(60));
        p.ready = Some(ReadyCondition {
            status: ConditionStatus::True,
            last_transition_time: NOW - Millis::from_secs(20),
        });
        let metrics: PodMetricsInfo = [("a".to_string(), sample(10))].into_iter().collect();
        let g = |p: &PodInfo, resource| {
            group_pods(
                std::slice::from_ref(p),
                &metrics,
                resource,
                CPU_INITIALIZATION_PERIOD,
                DELAY_OF_INITIAL_READINESS_STATUS,
                NOW,
            )
        };
        assert_eq!(g(&p, CPU).unready_pods.len(), 1);
        // Memory and custom metrics do not look at readiness.
        assert_eq!(g(&p, "memory").ready_pod_count, 1);
        // One full window after the transition, the sample counts.
        p.ready = Some(ReadyCondition {
            status: ConditionStatus::True,
            last_transition_time: NOW - Millis::from_secs(60),
        });
        assert_eq!(g(&p, CPU).ready_pod_count, 1);
    }

    #[test]
    fn after_initialisation_only_never_ready_pods_are_unready() {
        let start = NOW - Millis::from_secs(600);
        let mut never_ready = pod("a", 100);
        never_ready.start_time = Some(start);
        never_ready.ready = Some(ReadyCondition {
            status: ConditionStatus::False,
            last_transition_time: start + Millis::from_secs(10),
        });
        let mut was_ready = never_ready.clone();
        was_ready.name = "b".to_string();
        was_ready.ready = Some(ReadyCondition {
            status: ConditionStatus::False,
            last_transition_time: start + Millis::from_secs(120),
        });
        let metrics: PodMetricsInfo = ["a", "b"]
            .iter()
            .map(|n| (n.to_string(), sample(10)))
            .collect();
        let g = group_pods(
            &[never_ready, was_ready],
            &metrics,
            CPU,
            CPU_INITIALIZATION_PERIOD,
            DELAY_OF_INITIAL_READINESS_STATUS,
            NOW,
        );
        assert_eq!(g.unready_pods, ["a"].map(String::from).into());
        assert_eq!(g.ready_pod_count, 1);
    }

    #[test]
    fn requests_include_sidecars_or_one_named_container() {
        let mut p = pod("a", 100);
        p.containers.push(ContainerRequests {
            name: "sidecar".to_string(),
            requests: [(CPU.to_string(), 50)].into_iter().collect(),
        });
        assert_eq!(
            calculate_pod_requests_from_containers(&p, None, CPU),
            Ok(150)
        );
        assert_eq!(
            calculate_pod_requests_from_containers(&p, Some("sidecar"), CPU),
            Ok(50)
        );
        assert_eq!(
            calculate_pod_requests_from_containers(&p, Some("nope"), CPU)
                .unwrap_err()
                .to_string(),
            "container nope not found in Pod a"
        );
        assert_eq!(
            calculate_pod_requests_from_containers(&p, None, "memory")
                .unwrap_err()
                .to_string(),
            "missing request for memory in container app of Pod a"
        );
    }

    #[test]
    fn no_pods_and_no_usable_samples_are_errors() {
        let calc = ReplicaCalculator::default();
        let t = Tolerances::default();
        assert_eq!(
            calc.get_resource_replicas(1, 50, CPU, t, None, &[], PodMetricsInfo::new(), NOW),
            Err(Error::NoPods)
        );
        let mut pending = pod("a", 100);
        pending.phase = PodPhase::Pending;
        let metrics: PodMetricsInfo = [("a".to_string(), sample(10))].into_iter().collect();
        let err = calc
            .get_resource_replicas(1, 50, CPU, t, None, &[pending], metrics, NOW)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "did not receive metrics for targeted pods (pods might be unready)"
        );
    }

    #[test]
    fn missing_pods_use_the_target_when_it_is_above_100_percent() {
        // 4 pods of 100m, target 200%: three report 100m (utilization 100, ratio 0.5), one is
        // missing. On the scale-down the missing pod counts at 200m, not 100m: (300 + 200) ×
        // 100 / 400 = 125 → 0.625 → ceil(0.625 × 4) = 3 (at 100m it would be 2).
        let calc = ReplicaCalculator::default();
        let metrics: PodMetricsInfo = ["a", "b", "c"]
            .iter()
            .map(|n| (n.to_string(), sample(100)))
            .collect();
        let pods = ["a", "b", "c", "d"].map(|n| pod(n, 100));
        let r = calc
            .get_resource_replicas(
                4,
                200,
                CPU,
                Tolerances::default(),
                None,
                &pods,
                metrics,
                NOW,
            )
            .unwrap();
        assert_eq!((r.replica_count, r.utilization), (3, 100));
    }

    #[test]
    fn scale_from_zero_ignores_tolerance_and_pods() {
        let calc = ReplicaCalculator::default();
        assert_eq!(
            calc.get_usage_ratio_replica_count(0, 1.05, Tolerances::default(), &[]),
            Ok(2)
        );
        assert_eq!(
            calc.get_usage_ratio_replica_count(3, 2.0, Tolerances::default(), &[])
                .unwrap_err()
                .to_string(),
            "unable to calculate ready pods: no pods returned by selector while calculating replica count"
        );
    }
}

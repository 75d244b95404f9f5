//! Usage ratios over per-pod samples. Mirrors
//! `pkg/controller/podautoscaler/metrics/utilization.go` (`GetResourceUtilizationRatio`,
//! `GetMetricUsageRatio`) and the sample types of `metrics/interfaces.go` (`PodMetric`,
//! `PodMetricsInfo`).

use super::{Error, Result};
use crate::time::Millis;
use std::collections::BTreeMap;

/// One pod's sample, as metrics-server or a custom metrics adapter reports it (`PodMetric`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    /// The value in milli-units: millicores for CPU, milli-bytes for memory, milli-units of a
    /// custom metric (`Quantity.MilliValue()`).
    pub value: i64,
    /// When the sample's window ended.
    pub timestamp: Millis,
    /// How long the sample was averaged over (metrics-server's resolution).
    pub window: Millis,
}

impl PodMetric {
    /// A sample that is only a value: for custom metrics, where the CPU readiness rules do not
    /// look at timestamps.
    pub fn value(value: i64) -> Self {
        PodMetric {
            value,
            timestamp: Millis::ZERO,
            window: Millis::ZERO,
        }
    }
}

/// Samples by pod name (`PodMetricsInfo`). A `BTreeMap`, so that every walk is in name order.
pub type PodMetricsInfo = BTreeMap<String, PodMetric>;

/// `GetResourceUtilizationRatio`: the ratio of actual to target utilization, the actual
/// utilization in whole percent of the requests, and the raw average value per pod.
///
/// Pods with a sample but no request are skipped ("extraneous metrics").
///
/// Worked example (spec H5): 4 pods of 100m each, using 201m in total, target 40%:
/// `utilization = 201 × 100 / 400 = 50` (integer division: 50.25 truncates), `ratio = 50 / 40
/// = 1.25`, raw average `201 / 4 = 50` millicores.
///
/// # Errors
///
/// [`Error::NoMetricsMatchedKnownPods`] when no sampled pod has a request.
pub fn get_resource_utilization_ratio(
    metrics: &PodMetricsInfo,
    requests: &BTreeMap<String, i64>,
    target_utilization: i32,
) -> Result<(f64, i32, i64)> {
    // NOTE: sums in i128 so that no input can overflow; upstream sums in int64.
    let mut metrics_total: i128 = 0;
    let mut requests_total: i128 = 0;
    let mut num_entries: i128 = 0;
    for (pod, metric) in metrics {
        let Some(request) = requests.get(pod) else {
            continue;
        };
        metrics_total += i128::from(metric.value);
        requests_total += i128::from(*request);
        num_entries += 1;
    }
    if requests_total == 0 {
        return Err(Error::NoMetricsMatchedKnownPods);
    }
    let utilization = (metrics_total * 100 / requests_total)
        .clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32;
    let raw_average = (metrics_total / num_entries) as i64;
    Ok((
        f64::from(utilization) / f64::from(target_utilization),
        utilization,
        raw_average,
    ))
}

/// `GetMetricUsageRatio`: the ratio of the average value per pod (integer division) to the
/// target, and that average.
///
/// Worked example (upstream `TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown`): samples
/// 50000, 15000 and 30000 milli-units, target 15000 → average `95000 / 3 = 31666`, ratio
/// `2.111`.
///
/// # Panics
///
/// If `metrics` is empty. Callers check that first, as upstream does.
pub fn get_metric_usage_ratio(metrics: &PodMetricsInfo, target_usage: i64) -> (f64, i64) {
    assert!(!metrics.is_empty(), "get_metric_usage_ratio needs samples");
    let total: i128 = metrics.values().map(|m| i128::from(m.value)).sum();
    let usage = (total / metrics.len() as i128) as i64;
    (usage as f64 / target_usage as f64, usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[(&str, i64)]) -> PodMetricsInfo {
        values
            .iter()
            .map(|(n, v)| (n.to_string(), PodMetric::value(*v)))
            .collect()
    }

    #[test]
    fn utilization_is_truncated_to_whole_percent() {
        let metrics = samples(&[("a", 50), ("b", 50), ("c", 50), ("d", 51)]);
        let requests = ["a", "b", "c", "d"]
            .iter()
            .map(|n| (n.to_string(), 100))
            .collect();
        let (ratio, utilization, raw) =
            get_resource_utilization_ratio(&metrics, &requests, 40).unwrap();
        assert_eq!((utilization, raw), (50, 50));
        assert_eq!(ratio, 1.25);
    }

    #[test]
    fn pods_without_requests_are_extraneous() {
        let metrics = samples(&[("a", 300), ("stranger", 10_000)]);
        let requests = [("a".to_string(), 1000)].into_iter().collect();
        let (_, utilization, raw) =
            get_resource_utilization_ratio(&metrics, &requests, 50).unwrap();
        assert_eq!((utilization, raw), (30, 300));
    }

    #[test]
    fn disjoint_requests_and_metrics_is_an_error() {
        // Upstream TestReplicaCalcDisjointResourcesMetrics.
        let metrics = samples(&[("an-older-pod-name", 100)]);
        let requests = [("test-pod-0".to_string(), 1000)].into_iter().collect();
        assert_eq!(
            get_resource_utilization_ratio(&metrics, &requests, 100),
            Err(Error::NoMetricsMatchedKnownPods)
        );
    }

    #[test]
    fn metric_usage_is_an_integer_average() {
        let metrics = samples(&[("a", 50_000), ("b", 15_000), ("c", 30_000)]);
        let (ratio, usage) = get_metric_usage_ratio(&metrics, 15_000);
        assert_eq!(usage, 31_666);
        assert_eq!(ratio, 31_666.0 / 15_000.0);
    }
}

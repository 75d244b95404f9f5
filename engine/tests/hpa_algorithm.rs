//! The HPA's arithmetic (`controllers::hpa`), checked against the project spec's scenarios
//! (§5.8, `h1_...` to `h18_...`), against cases transcribed from upstream's
//! `replica_calculator_test.go` and `horizontal_test.go` (each cites its test), and by a property
//! test of the behaviour policies ([`rate_limits_and_bounds_hold`]).
//!
//! No cluster is involved: the functions are pure. Syncs are simulated by calling them every
//! 15 virtual seconds with an [`HpaState`], as the controller will.

mod common;

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscalerBehavior,
};
use kubespec_engine::Millis;
use kubespec_engine::controllers::hpa::conditions::{
    Reason, event, message, metric_name, rescale_reason,
};
use kubespec_engine::controllers::hpa::defaults::{
    generate_hpa_scale_down_rules, generate_hpa_scale_up_rules,
};
use kubespec_engine::controllers::hpa::horizontal::{
    HpaState, MetricFailure, MetricProposal, NormalizationArg, ReplicaBounds,
    TimestampedScaleEvent, calculate_scale_up_limit_with_scaling_rules, check_replica_bounds,
    compute_replicas_for_metrics, convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules, get_replicas_change_per_period,
    normalize_desired_replicas, normalize_desired_replicas_with_behaviors, rescale_reason_for,
    store_scale_event,
};
use kubespec_engine::controllers::hpa::metrics::{PodMetric, PodMetricsInfo};
use kubespec_engine::controllers::hpa::replica_calculator::{
    CPU, ConditionStatus, ContainerRequests, PodInfo, PodPhase, ReadyCondition, ReplicaCalculator,
    ResourceReplicas, Tolerances,
};
use kubespec_engine::controllers::hpa::{DOWNSCALE_STABILISATION_WINDOW, SYNC_PERIOD};
use proptest::prelude::*;

// ------------------------------------------------------------------------------------ helpers

/// An instant well after the epoch, so that "5 minutes ago" exists.
const T0: Millis = Millis::from_secs(10_000);

fn secs(s: u64) -> Millis {
    Millis::from_secs(s)
}

/// A Running, Ready pod with one container requesting `cpu_m` millicores, started long ago.
fn pod(name: &str, cpu_m: i64) -> PodInfo {
    PodInfo {
        name: name.to_string(),
        phase: PodPhase::Running,
        ready: Some(ReadyCondition {
            status: ConditionStatus::True,
            last_transition_time: secs(60),
        }),
        start_time: Some(secs(30)),
        deleting: false,
        containers: vec![ContainerRequests {
            name: "app".to_string(),
            requests: [(CPU.to_string(), cpu_m)].into_iter().collect(),
        }],
    }
}

fn pods(n: usize, cpu_m: i64) -> Vec<PodInfo> {
    (0..n).map(|i| pod(&format!("web-{i}"), cpu_m)).collect()
}

/// metrics-server samples (60 s window ending now) for the named pods.
fn usage(now: Millis, values: &[(&str, i64)]) -> PodMetricsInfo {
    values
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                PodMetric {
                    value: *v,
                    timestamp: now,
                    window: secs(60),
                },
            )
        })
        .collect()
}

/// The same usage on every pod.
fn even_usage(now: Millis, pods: &[PodInfo], each: i64) -> PodMetricsInfo {
    pods.iter()
        .map(|p| {
            (
                p.name.clone(),
                PodMetric {
                    value: each,
                    timestamp: now,
                    window: secs(60),
                },
            )
        })
        .collect()
}

/// `GetResourceReplicas` for CPU with the controller's defaults.
fn cpu_replicas(
    current: i32,
    target: i32,
    pods: &[PodInfo],
    metrics: PodMetricsInfo,
) -> ResourceReplicas {
    ReplicaCalculator::default()
        .get_resource_replicas(
            current,
            target,
            CPU,
            Tolerances::default(),
            None,
            pods,
            metrics,
            T0,
        )
        .expect("a replica count")
}

fn policy(type_: &str, value: i32, period_seconds: i32) -> HPAScalingPolicy {
    HPAScalingPolicy {
        type_: type_.to_string(),
        value,
        period_seconds,
    }
}

fn rules(select: &str, window: Option<i32>, policies: Vec<HPAScalingPolicy>) -> HPAScalingRules {
    HPAScalingRules {
        select_policy: Some(select.to_string()),
        stabilization_window_seconds: window,
        policies: Some(policies),
        ..Default::default()
    }
}

/// One HPA sync with a behaviour: normalise, and record the change if there is one.
struct BehaviorSync<'a> {
    behavior: &'a HorizontalPodAutoscalerBehavior,
    state: HpaState,
    current: i32,
    min: i32,
    max: i32,
}

impl BehaviorSync<'_> {
    fn sync(&mut self, now: Millis, raw: i32) -> (i32, Reason) {
        self.state.record_initial_recommendation(self.current, now);
        let n = normalize_desired_replicas_with_behaviors(
            &mut self.state,
            now,
            self.behavior,
            DOWNSCALE_STABILISATION_WINDOW,
            self.current,
            raw,
            self.min,
            self.max,
        );
        if n.desired_replicas != self.current {
            store_scale_event(
                &mut self.state,
                Some(self.behavior),
                now,
                self.current,
                n.desired_replicas,
            );
            self.current = n.desired_replicas;
        }
        (self.current, n.scaling_limited.reason)
    }
}

// ---------------------------------------------------------------------- spec §5.8, H1 to H18

#[test]
fn h1_four_pods_at_80_percent_of_a_50_percent_target_scale_to_7() {
    let p = pods(4, 500);
    let r = cpu_replicas(4, 50, &p, even_usage(T0, &p, 400));
    assert_eq!(r.utilization, 80);
    assert_eq!(r.replica_count, 7);
}

#[test]
fn h2_utilization_54_of_50_is_within_tolerance() {
    let p = pods(4, 100);
    let r = cpu_replicas(4, 50, &p, even_usage(T0, &p, 54));
    assert_eq!(r.utilization, 54);
    assert_eq!(r.replica_count, 4);
}

#[test]
fn h3_ten_pods_at_56_of_50_scale_to_12() {
    let p = pods(10, 100);
    let r = cpu_replicas(10, 50, &p, even_usage(T0, &p, 56));
    assert_eq!(r.utilization, 56);
    assert_eq!(r.replica_count, 12);
}

#[test]
fn h4_utilization_exactly_55_of_50_is_within_the_inclusive_tolerance() {
    let p = pods(10, 100);
    let r = cpu_replicas(10, 50, &p, even_usage(T0, &p, 55));
    assert_eq!(r.utilization, 55);
    assert_eq!(r.replica_count, 10);
    // The legacy test `|1 − ratio| <= 0.1` would have scaled: 1.1 − 1.0 > 0.1 in floating point.
    let ratio = 55.0_f64 / 50.0;
    assert!((1.0 - ratio).abs() > 0.1);
    assert!(Tolerances::default().is_within(ratio));
}

#[test]
fn h5_utilization_is_truncated_before_the_ratio() {
    let p = pods(4, 100);
    let metrics = usage(
        T0,
        &[("web-0", 50), ("web-1", 50), ("web-2", 50), ("web-3", 51)],
    );
    let r = cpu_replicas(4, 40, &p, metrics);
    assert_eq!(r.utilization, 50); // 201 × 100 / 400 = 50.25
    assert_eq!(r.replica_count, 5); // ceil(1.25 × 4); exact 50.25 / 40 would give 6
}

#[test]
fn h6_a_missing_pod_counts_as_its_full_request_on_a_scale_down() {
    let p = pods(10, 100);
    let values: Vec<(String, i64)> = (0..9).map(|i| (format!("web-{i}"), 10)).collect();
    let named: Vec<(&str, i64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let r = cpu_replicas(10, 50, &p, usage(T0, &named));
    assert_eq!(r.utilization, 10); // first pass: ratio 0.2
    assert_eq!(r.replica_count, 4); // with web-9 at 100m: 19% → 0.38 → ceil(3.8), not 2
}

#[test]
fn h7_pending_pods_count_as_zero_on_a_scale_up_and_cancel_it() {
    let mut p = pods(4, 100);
    p[2].phase = PodPhase::Pending;
    p[3].phase = PodPhase::Pending;
    let r = cpu_replicas(4, 50, &p, usage(T0, &[("web-0", 100), ("web-1", 100)]));
    assert_eq!(r.utilization, 100); // ratio 2.0 over the ready pods
    assert_eq!(r.replica_count, 4); // 200 / 400 = 50% → ratio 1.0 → no change
}

#[test]
fn h8_the_highest_metric_wins() {
    let cpu = metric_name::resource_utilization("cpu");
    let outcomes = [
        Ok(MetricProposal {
            replicas: 7,
            metric: cpu.clone(),
        }),
        Ok(MetricProposal {
            replicas: 5,
            metric: metric_name::resource_utilization("memory"),
        }),
    ];
    let m = compute_replicas_for_metrics(4, &outcomes).unwrap();
    assert_eq!(m.replicas, 7);
    assert_eq!(m.metric, cpu);
    assert_eq!(m.condition.reason, Reason::ValidMetricFound);
    assert_eq!(
        m.condition.message,
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
    );
    let reason = rescale_reason_for(4, m.replicas, &m.metric).unwrap();
    assert_eq!(
        event::successful_rescale(7, &reason),
        "New size: 7; reason: cpu resource utilization (percentage of request) above target"
    );
}

#[test]
fn h9_without_behavior_a_sync_at_most_doubles_or_reaches_4() {
    let mut state = HpaState::default();
    let first =
        normalize_desired_replicas(&mut state, T0, DOWNSCALE_STABILISATION_WINDOW, 2, 10, 1, 20);
    assert_eq!(first.desired_replicas, 4);
    assert!(first.scaling_limited.status);
    assert_eq!(first.scaling_limited.reason, Reason::ScaleUpLimit);
    assert_eq!(first.scaling_limited.message, message::SCALE_UP_LIMIT);
    let next = normalize_desired_replicas(
        &mut state,
        T0 + SYNC_PERIOD,
        DOWNSCALE_STABILISATION_WINDOW,
        4,
        10,
        1,
        20,
    );
    assert_eq!(next.desired_replicas, 8);
}

#[test]
fn h10_default_behavior_allows_4_pods_or_100_percent_per_15s() {
    let behavior = HorizontalPodAutoscalerBehavior::default();
    let mut hpa = BehaviorSync {
        behavior: &behavior,
        state: HpaState::default(),
        current: 10,
        min: 1,
        max: 100,
    };
    assert_eq!(hpa.sync(T0, 50), (20, Reason::ScaleUpLimit)); // max(10 + 4, ceil(10 × 2))
    // Within the same 15 s period nothing more is allowed: periodStart is still 10.
    assert_eq!(hpa.sync(T0 + secs(14), 50), (20, Reason::ScaleUpLimit));
    // Once the event is 15 s old, the next period starts from 20.
    assert_eq!(hpa.sync(T0 + SYNC_PERIOD, 50), (40, Reason::ScaleUpLimit));
}

#[test]
fn h11_a_10_percent_per_minute_scale_down_waits_for_its_event_to_leave_the_period() {
    let behavior = HorizontalPodAutoscalerBehavior {
        scale_down: Some(rules("Max", Some(0), vec![policy("Percent", 10, 60)])),
        ..Default::default()
    };
    let mut hpa = BehaviorSync {
        behavior: &behavior,
        state: HpaState::default(),
        current: 100,
        min: 1,
        max: 100,
    };
    assert_eq!(hpa.sync(T0, 50), (90, Reason::ScaleDownLimit));
    for s in [15, 30, 45] {
        // periodStart = 90 + 10 = 100 → int(90.0) = 90.
        assert_eq!(
            hpa.sync(T0 + secs(s), 50),
            (90, Reason::ScaleDownLimit),
            "at {s}s"
        );
    }
    // NOTE: at 60 s the event is exactly one period old and, as upstream compares strictly
    // (`timestamp.After(now − period)`), no longer counts: the spec's "> 60 s old" is reached
    // on the first sync at which the event is 60 s old.
    assert_eq!(hpa.sync(T0 + secs(60), 50), (81, Reason::ScaleDownLimit));
    assert_eq!(hpa.sync(T0 + secs(75), 50), (81, Reason::ScaleDownLimit));
    assert_eq!(hpa.sync(T0 + secs(120), 50), (72, Reason::ScaleDownLimit)); // int(72.9)
}

#[test]
fn h12_a_300s_scale_down_window_holds_the_highest_recent_recommendation() {
    let behavior = HorizontalPodAutoscalerBehavior {
        scale_down: Some(HPAScalingRules {
            stabilization_window_seconds: Some(300),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut state = HpaState::default();
    let mut current = 10;
    for (at, raw) in [(T0, 10), (T0 + secs(120), 8), (T0 + secs(240), 6)] {
        let n = normalize_desired_replicas_with_behaviors(
            &mut state,
            at,
            &behavior,
            DOWNSCALE_STABILISATION_WINDOW,
            current,
            raw,
            1,
            20,
        );
        current = n.desired_replicas;
        assert_eq!(current, 10);
        if raw < 10 {
            assert_eq!(n.able_to_scale.reason, Reason::ScaleDownStabilized);
            assert_eq!(n.able_to_scale.message, message::SCALE_DOWN_STABILIZED);
        } else {
            assert_eq!(n.able_to_scale.reason, Reason::ReadyForNewScale);
        }
    }
}

#[test]
fn h13_a_new_hpa_waits_one_stabilisation_window_before_scaling_down() {
    // Load drops to 0: every sync proposes 0.
    let p = pods(10, 100);
    assert_eq!(
        cpu_replicas(10, 50, &p, even_usage(T0, &p, 0)).replica_count,
        0
    );
    let mut state = HpaState::default();
    let mut current = 10;
    let mut scaled_at = None;
    for k in 0..30u64 {
        let now = T0 + secs(15 * k);
        state.record_initial_recommendation(current, now);
        let n = normalize_desired_replicas(
            &mut state,
            now,
            DOWNSCALE_STABILISATION_WINDOW,
            current,
            0,
            1,
            20,
        );
        if n.desired_replicas != current && scaled_at.is_none() {
            scaled_at = Some((now - T0, n.desired_replicas, n.scaling_limited.reason));
        }
        current = n.desired_replicas;
    }
    // The initial recommendation of 10 still counts at 300 s (upstream's `Before` is strict);
    // the first sync after it is 315 s.
    assert_eq!(scaled_at, Some((secs(315), 1, Reason::TooFewReplicas)));
}

#[test]
fn h14_a_target_at_zero_disables_scaling() {
    let ReplicaBounds::ScalingDisabled(c) = check_replica_bounds(0, 1, 10) else {
        panic!("expected ScalingDisabled");
    };
    assert!(!c.status);
    assert_eq!(c.reason, Reason::ScalingDisabled);
    assert_eq!(
        c.message,
        "scaling is disabled since the replica count of the target is zero"
    );
    // Outside the bounds the HPA rescales without metrics.
    assert_eq!(
        check_replica_bounds(12, 1, 10),
        ReplicaBounds::Clamp {
            desired: 10,
            reason: rescale_reason::ABOVE_MAX_REPLICAS
        }
    );
    assert_eq!(check_replica_bounds(3, 1, 10), ReplicaBounds::WithinRange);
}

#[test]
fn h15_ten_percent_of_100_allows_111() {
    let up = rules("Max", Some(0), vec![policy("Percent", 10, 60)]);
    // 100 × 1.1 = 110.00000000000001 in floating point, and upstream rounds up.
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(100, &[], &[], &up, T0),
        111
    );
    let behavior = HorizontalPodAutoscalerBehavior {
        scale_up: Some(up),
        ..Default::default()
    };
    let mut hpa = BehaviorSync {
        behavior: &behavior,
        state: HpaState::default(),
        current: 100,
        min: 1,
        max: 1000,
    };
    assert_eq!(hpa.sync(T0, 200), (111, Reason::ScaleUpLimit));
}

#[test]
fn h16_e2e_scale_up_1_to_3_then_to_the_maximum_of_5() {
    let one = pods(1, 500);
    let r = cpu_replicas(1, 20, &one, even_usage(T0, &one, 250));
    assert_eq!((r.utilization, r.replica_count), (50, 3));

    // 250m over 3 pods: 16% → ratio 0.8 → ceil(2.4) = 3, stable.
    let three = pods(3, 500);
    let spread = usage(T0, &[("web-0", 84), ("web-1", 83), ("web-2", 83)]);
    let r = cpu_replicas(3, 20, &three, spread);
    assert_eq!((r.utilization, r.replica_count), (16, 3));

    // 700m: 46% → ratio 2.3 → 7, clamped to maxReplicas 5.
    let spread = usage(T0, &[("web-0", 234), ("web-1", 233), ("web-2", 233)]);
    let r = cpu_replicas(3, 20, &three, spread);
    assert_eq!((r.utilization, r.replica_count), (46, 7));
    assert_eq!(
        convert_desired_replicas_with_rules(3, r.replica_count, 1, 5),
        (5, Reason::TooManyReplicas, message::TOO_MANY_REPLICAS)
    );
}

#[test]
fn h17_e2e_scale_down_5_to_3_after_stabilisation_then_to_the_minimum() {
    let five = pods(5, 500);
    let r = cpu_replicas(5, 30, &five, even_usage(T0, &five, 65));
    assert_eq!((r.utilization, r.replica_count), (13, 3));

    let mut state = HpaState::default();
    let mut current = 5;
    let mut scaled_at = None;
    for k in 0..25u64 {
        let now = T0 + secs(15 * k);
        state.record_initial_recommendation(current, now);
        let n = normalize_desired_replicas(
            &mut state,
            now,
            DOWNSCALE_STABILISATION_WINDOW,
            current,
            3,
            1,
            5,
        );
        if n.desired_replicas != current {
            scaled_at = Some(now - T0);
        }
        current = n.desired_replicas;
    }
    assert_eq!((current, scaled_at), (3, Some(secs(315))));

    // 10m over 3 pods: 0% → 0 → clamped to minReplicas 1.
    let three = pods(3, 500);
    let r = cpu_replicas(
        3,
        30,
        &three,
        usage(T0, &[("web-0", 4), ("web-1", 3), ("web-2", 3)]),
    );
    assert_eq!((r.utilization, r.replica_count), (0, 0));
    assert_eq!(
        convert_desired_replicas_with_rules(3, 0, 1, 5),
        (1, Reason::TooFewReplicas, message::TOO_FEW_REPLICAS)
    );
}

#[test]
fn h18_disabled_scale_down_never_scales_down() {
    let behavior = HorizontalPodAutoscalerBehavior {
        scale_down: Some(HPAScalingRules {
            select_policy: Some("Disabled".to_string()),
            stabilization_window_seconds: Some(0),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut hpa = BehaviorSync {
        behavior: &behavior,
        state: HpaState::default(),
        current: 10,
        min: 1,
        max: 20,
    };
    for k in 0..40u64 {
        assert_eq!(hpa.sync(T0 + secs(15 * k), 1), (10, Reason::ScaleDownLimit));
    }
    // Scaling up still works.
    assert_eq!(hpa.sync(T0 + secs(600), 12).0, 12);
}

// ------------------------------------------------------- upstream replica_calculator_test.go

/// Upstream's `replicaCalcTestCase` pods: two containers requesting 1 CPU each, using `level`
/// millicores each; Ready with a zero lastTransitionTime, started at the zero time unless hot
/// (started now) or cool (3 minutes ago). The calculator runs with upstream's testing periods
/// (2 minutes, 10 seconds) and samples are 1-minute windows at the zero time.
mod upstream {
    use super::*;

    pub const NOW: Millis = Millis::from_secs(100_000);

    #[derive(Clone, Copy)]
    pub enum Start {
        Zero,
        Hot,
        Cool,
    }

    pub struct Pod {
        pub ready: bool,
        pub phase: PodPhase,
        pub deleting: bool,
        pub start: Start,
    }

    impl Default for Pod {
        fn default() -> Self {
            Pod {
                ready: true,
                phase: PodPhase::Running,
                deleting: false,
                start: Start::Zero,
            }
        }
    }

    pub fn calculator() -> ReplicaCalculator {
        ReplicaCalculator {
            cpu_initialization_period: secs(120),
            delay_of_initial_readiness_status: secs(10),
        }
    }

    pub fn pods(specs: &[Pod]) -> Vec<PodInfo> {
        specs
            .iter()
            .enumerate()
            .map(|(i, s)| PodInfo {
                name: format!("test-pod-{i}"),
                phase: s.phase,
                ready: Some(ReadyCondition {
                    status: if s.ready {
                        ConditionStatus::True
                    } else {
                        ConditionStatus::False
                    },
                    last_transition_time: Millis::ZERO,
                }),
                start_time: Some(match s.start {
                    Start::Zero => Millis::ZERO,
                    Start::Hot => NOW,
                    Start::Cool => NOW - secs(180),
                }),
                deleting: s.deleting,
                containers: (0..2)
                    .map(|c| ContainerRequests {
                        name: format!("container{c}"),
                        requests: [(CPU.to_string(), 1000)].into_iter().collect(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Samples for the first `levels.len()` pods: both containers at `level`.
    pub fn cpu_samples(levels: &[i64]) -> PodMetricsInfo {
        levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                (
                    format!("test-pod-{i}"),
                    PodMetric {
                        value: 2 * l,
                        timestamp: Millis::ZERO,
                        window: secs(60),
                    },
                )
            })
            .collect()
    }

    /// Custom metric samples (no window).
    pub fn samples(levels: &[i64]) -> PodMetricsInfo {
        levels
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("test-pod-{i}"), PodMetric::value(*l)))
            .collect()
    }
}

#[test]
fn upstream_resource_cases() {
    use upstream::{Pod, Start};
    let ready = |r: &[bool]| -> Vec<Pod> {
        r.iter()
            .map(|ready| Pod {
                ready: *ready,
                ..Default::default()
            })
            .collect()
    };
    let started = |s: &[Start]| -> Vec<Pod> {
        s.iter()
            .map(|start| Pod {
                start: *start,
                ..Default::default()
            })
            .collect()
    };
    let phases = |ph: &[(PodPhase, bool)]| -> Vec<Pod> {
        ph.iter()
            .map(|(phase, ready)| Pod {
                phase: *phase,
                ready: *ready,
                ..Default::default()
            })
            .collect()
    };
    use PodPhase::{Failed, Pending, Running};
    use Start::{Cool, Hot};
    // (upstream test, current, pods, levels, target, replicas, utilization, raw value)
    type Case = (&'static str, i32, Vec<Pod>, Vec<i64>, i32, i32, i32, i64);
    let cases: Vec<Case> = vec![
        (
            "TestReplicaCalcScaleUp",
            3,
            ready(&[true; 3]),
            vec![300, 500, 700],
            30,
            5,
            50,
            1000,
        ),
        (
            "TestReplicaCalcScaleUpUnreadyLessScale",
            3,
            ready(&[false, true, true]),
            vec![300, 500, 700],
            30,
            4,
            60,
            1200,
        ),
        (
            "TestReplicaCalcScaleUpHotCpuLessScale",
            3,
            started(&[Hot, Cool, Cool]),
            vec![300, 500, 700],
            30,
            4,
            60,
            1200,
        ),
        (
            "TestReplicaCalcScaleUpUnreadyNoScale",
            3,
            ready(&[true, false, false]),
            vec![400, 500, 700],
            30,
            3,
            40,
            800,
        ),
        (
            "TestReplicaCalcScaleUpIgnoresFailedPods",
            2,
            phases(&[
                (Running, true),
                (Running, true),
                (Failed, false),
                (Failed, false),
            ]),
            vec![500, 700],
            30,
            4,
            60,
            1200,
        ),
        (
            "TestReplicaCalcScaleDown",
            5,
            ready(&[true; 5]),
            vec![100, 300, 500, 250, 250],
            50,
            3,
            28,
            560,
        ),
        (
            "TestReplicaCalcScaleDownIncludeUnreadyPods",
            5,
            ready(&[true, true, true, false, false]),
            vec![100, 300, 500, 250, 250],
            50,
            2,
            30,
            600,
        ),
        (
            "TestReplicaCalcScaleDownExcludeUnscheduledPods",
            5,
            phases(&[
                (Running, true),
                (Pending, false),
                (Pending, false),
                (Pending, false),
                (Pending, false),
            ]),
            vec![100],
            50,
            1,
            10,
            200,
        ),
        (
            "TestReplicaCalcScaleDownIgnoreHotCpuPods",
            5,
            started(&[Start::Zero, Start::Zero, Start::Zero, Hot, Hot]),
            vec![100, 300, 500, 250, 250],
            50,
            2,
            30,
            600,
        ),
    ];
    for (name, current, specs, levels, target, replicas, utilization, raw) in cases {
        let got = upstream::calculator()
            .get_resource_replicas(
                current,
                target,
                CPU,
                Tolerances::default(),
                None,
                &upstream::pods(&specs),
                upstream::cpu_samples(&levels),
                upstream::NOW,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            got,
            ResourceReplicas {
                replica_count: replicas,
                utilization,
                raw_utilization: raw
            },
            "{name}"
        );
    }
}

#[test]
fn upstream_deleting_pods_are_ignored() {
    // TestReplicaCalcScaleUpIgnoresDeletionPods: 2 running pods, 2 deleting.
    let specs: Vec<upstream::Pod> = [false, false, true, true]
        .iter()
        .map(|deleting| upstream::Pod {
            ready: !deleting,
            deleting: *deleting,
            ..Default::default()
        })
        .collect();
    let got = upstream::calculator()
        .get_resource_replicas(
            2,
            30,
            CPU,
            Tolerances::default(),
            None,
            &upstream::pods(&specs),
            upstream::cpu_samples(&[500, 700]),
            upstream::NOW,
        )
        .unwrap();
    assert_eq!((got.replica_count, got.utilization), (4, 60));
}

#[test]
fn upstream_pods_metric_cases() {
    use upstream::{Pod, Start};
    let calc = upstream::calculator();
    let t = Tolerances::default();
    // TestReplicaCalcScaleUpCM: average 20000 against 15000 → 4.
    let p = upstream::pods(&[Pod::default(), Pod::default(), Pod::default()]);
    let got = calc.get_metric_replicas(
        3,
        15_000,
        t,
        &p,
        upstream::samples(&[20_000, 10_000, 30_000]),
        upstream::NOW,
    );
    assert_eq!(got, Ok((4, 20_000)));
    // TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale: readiness and start times do not matter
    // for custom metrics.
    let p = upstream::pods(&[
        Pod {
            start: Start::Cool,
            ..Default::default()
        },
        Pod {
            start: Start::Cool,
            ..Default::default()
        },
        Pod {
            ready: false,
            start: Start::Hot,
            ..Default::default()
        },
    ]);
    let got = calc.get_metric_replicas(
        3,
        15_000,
        t,
        &p,
        upstream::samples(&[50_000, 10_000, 30_000]),
        upstream::NOW,
    );
    assert_eq!(got, Ok((6, 30_000)));
    // TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown.
    let p = upstream::pods(&[
        Pod {
            ready: false,
            start: Start::Hot,
            ..Default::default()
        },
        Pod {
            start: Start::Cool,
            ..Default::default()
        },
        Pod {
            ready: false,
            start: Start::Hot,
            ..Default::default()
        },
    ]);
    let got = calc.get_metric_replicas(
        3,
        15_000,
        t,
        &p,
        upstream::samples(&[50_000, 15_000, 30_000]),
        upstream::NOW,
    );
    assert_eq!(got, Ok((7, 31_666)));
    // TestReplicaCalcScaleDownCM: 5 × 12000 against 20000 → 3.
    let p = upstream::pods(&(0..5).map(|_| Pod::default()).collect::<Vec<_>>());
    let got = calc.get_metric_replicas(
        5,
        20_000,
        t,
        &p,
        upstream::samples(&[12_000; 5]),
        upstream::NOW,
    );
    assert_eq!(got, Ok((3, 12_000)));
}

#[test]
fn upstream_object_and_external_cases() {
    use upstream::Pod;
    let calc = upstream::calculator();
    let t = Tolerances::default();
    let all_ready = upstream::pods(&[Pod::default(), Pod::default(), Pod::default()]);
    let one_ready = upstream::pods(&[
        Pod {
            ready: false,
            ..Default::default()
        },
        Pod::default(),
        Pod {
            ready: false,
            ..Default::default()
        },
    ]);
    // TestReplicaCalcScaleUpCMObject.
    assert_eq!(
        calc.get_object_metric_replicas(3, 15_000, 20_000, t, &all_ready),
        Ok((4, 20_000))
    );
    // TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods: 5, not 15.
    assert_eq!(
        calc.get_object_metric_replicas(3, 10_000, 50_000, t, &one_ready),
        Ok((5, 50_000))
    );
    // TestReplicaCalcScaleUpCMPerPodObject.
    assert_eq!(
        calc.get_object_per_pod_metric_replicas(3, 5_000, 20_000, t),
        (4, 6_667)
    );
    // TestReplicaCalcScaleDownPerPodCMObject.
    assert_eq!(
        calc.get_object_per_pod_metric_replicas(5, 2_000, 6_000, t),
        (3, 1_200)
    );
    // TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods: 2, not 6.
    assert_eq!(
        calc.get_external_metric_replicas(3, 4_400, &[8_600], t, &one_ready),
        Ok((2, 8_600))
    );
    // TestReplicaCalcScaleDownCMExternal.
    let five = upstream::pods(&(0..5).map(|_| Pod::default()).collect::<Vec<_>>());
    assert_eq!(
        calc.get_external_metric_replicas(5, 14_334, &[8_600], t, &five),
        Ok((3, 8_600))
    );
    // TestReplicaCalcScaleUpPerPodCMExternal and TestReplicaCalcScaleDownPerPodCMExternal.
    assert_eq!(
        calc.get_external_per_pod_metric_replicas(3, 2_150, &[8_600], t),
        (4, 2_867)
    );
    assert_eq!(
        calc.get_external_per_pod_metric_replicas(5, 2_867, &[8_600], t),
        (3, 1_720)
    );
}

// ---------------------------------------------------------------- upstream horizontal_test.go

/// `generateEventsUniformDistribution`: events centred in equal segments of the last
/// `period_seconds`. Upstream converts the float offset to a `time.Duration` before multiplying
/// by a second, which truncates it to whole seconds; so does this.
fn generate_events_uniform_distribution(
    raw_events: &[i32],
    period_seconds: u64,
    now: Millis,
) -> Vec<TimestampedScaleEvent> {
    let segment = period_seconds as f64 / raw_events.len() as f64;
    raw_events
        .iter()
        .enumerate()
        .map(|(idx, change)| {
            let boundary =
                (period_seconds as f64 - segment * (idx + 1) as f64 + segment / 2.0) as u64;
            TimestampedScaleEvent {
                replica_change: *change,
                timestamp: now - secs(boundary),
                outdated: false,
            }
        })
        .collect()
}

/// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, stabilizationWindow)`.
fn generate_scaling_rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    window: i32,
) -> Option<HPAScalingRules> {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(policy("Pods", pods, pods_period));
    }
    if percent != 0 {
        policies.push(policy("Percent", percent, percent_period));
    }
    Some(HPAScalingRules {
        stabilization_window_seconds: Some(window),
        select_policy: Some("Max".to_string()),
        policies: (!policies.is_empty()).then_some(policies),
        ..Default::default()
    })
}

#[test]
fn upstream_scaling_with_rules() {
    type Case = (
        &'static str,
        Vec<i32>,
        Vec<i32>,
        i32,
        i32,
        Option<HPAScalingRules>,
        Option<HPAScalingRules>,
        i32,
        i32,
        i32,
        Reason,
    );
    let g = generate_scaling_rules;
    // TestScalingWithRules: (name, up events, down events, min, max, up rules, down rules,
    // current, prenormalized, expected, condition). Events are spread over the last 120 s.
    let cases: Vec<Case> = vec![
        (
            "scaleUp with default behavior",
            vec![],
            vec![],
            1,
            1000,
            None,
            None,
            10,
            50,
            20,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleUp with pods policy larger than percent policy",
            vec![],
            vec![],
            1,
            1000,
            g(100, 60, 100, 60, 0),
            None,
            10,
            500,
            110,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleUp with percent policy larger than pods policy",
            vec![],
            vec![],
            1,
            1000,
            g(2, 60, 100, 60, 0),
            None,
            10,
            500,
            20,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleUp with pod policy limitation",
            vec![],
            vec![],
            1,
            1000,
            g(30, 60, 0, 0, 0),
            None,
            10,
            50,
            40,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleUp with percent policy limitation",
            vec![],
            vec![],
            1,
            1000,
            g(0, 0, 200, 60, 0),
            None,
            10,
            50,
            30,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleDown with percent policy larger than pod policy",
            vec![],
            vec![],
            1,
            1000,
            None,
            g(20, 60, 1, 60, 300),
            100,
            2,
            80,
            Reason::ScaleDownLimit,
        ),
        (
            "scaleDown with spec MinReplicas limitation with large percent policy",
            vec![],
            vec![],
            5,
            1000,
            None,
            g(0, 0, 100, 60, 300),
            10,
            2,
            5,
            Reason::TooFewReplicas,
        ),
        (
            "scaleUp with spec MaxReplicas limitation with large pod policy and events",
            vec![1, 5, 9],
            vec![],
            1,
            200,
            g(300, 60, 0, 0, 0),
            None,
            100,
            500,
            200,
            Reason::TooManyReplicas,
        ),
        (
            "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
            vec![1, 5, 9],
            vec![],
            1,
            1000,
            g(5, 120, 0, 0, 0),
            None,
            100,
            500,
            100,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleUp with pod policy and previous scale up events",
            vec![1, 5, 9],
            vec![],
            1,
            1000,
            g(150, 120, 0, 0, 0),
            None,
            100,
            500,
            235,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleUp with percent policy and previous scale up events",
            vec![1, 5, 9],
            vec![],
            1,
            1000,
            g(0, 0, 200, 120, 0),
            None,
            100,
            500,
            255,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleUp with percent policy and previous scale up and down events",
            vec![4],
            vec![2],
            1,
            1000,
            g(0, 0, 300, 300, 0),
            None,
            6,
            24,
            16,
            Reason::ScaleUpLimit,
        ),
        (
            "scaleDown with pod policy limitation and previous events",
            vec![],
            vec![1, 5, 9],
            1,
            1000,
            None,
            g(5, 120, 0, 0, 300),
            100,
            2,
            100,
            Reason::ScaleDownLimit,
        ),
        (
            "scaleDown with percent policy limitation and previous events",
            vec![],
            vec![2, 4, 6],
            1,
            1000,
            None,
            g(0, 0, 50, 120, 300),
            100,
            0,
            56,
            Reason::ScaleDownLimit,
        ),
        (
            "scaleDown with percent policy and previous scale up and down events",
            vec![2],
            vec![4],
            1,
            1000,
            None,
            g(0, 0, 50, 180, 0),
            10,
            1,
            6,
            Reason::ScaleDownLimit,
        ),
        (
            "scaleDown with previous events preventing further scale down",
            vec![],
            vec![10, 10, 10],
            1,
            1000,
            None,
            g(0, 0, 10, 120, 300),
            100,
            0,
            100,
            Reason::ScaleDownLimit,
        ),
        (
            "scaleDown with with previous events still allowing more scale down",
            vec![],
            vec![10, 10, 10],
            1,
            1000,
            None,
            g(0, 0, 1000, 120, 300),
            10,
            5,
            5,
            Reason::DesiredWithinRange,
        ),
    ];
    for (name, up, down, min, max, up_rules, down_rules, current, desired, expected, condition) in
        cases
    {
        let state = HpaState {
            recommendations: Vec::new(),
            scale_up_events: if up.is_empty() {
                vec![]
            } else {
                generate_events_uniform_distribution(&up, 120, T0)
            },
            scale_down_events: if down.is_empty() {
                vec![]
            } else {
                generate_events_uniform_distribution(&down, 120, T0)
            },
        };
        let scale_up = generate_hpa_scale_up_rules(up_rules.as_ref());
        let scale_down = generate_hpa_scale_down_rules(down_rules.as_ref());
        let args = NormalizationArg {
            scale_up_behavior: &scale_up,
            scale_down_behavior: &scale_down,
            min_replicas: min,
            max_replicas: max,
            current_replicas: current,
            desired_replicas: desired,
        };
        let (replicas, reason, _) = convert_desired_replicas_with_behavior_rate(&state, T0, &args);
        assert_eq!((replicas, reason), (expected, condition), "{name}");
    }
}

#[test]
fn upstream_store_scale_events_replaces_the_last_outdated_event() {
    // TestStoreScaleEvents, "replace one entry, use policies with different periods": events 29,
    // 59, 61 and 61 s old, policies of 60 s and 30 s. Both 61 s events are marked outdated and
    // the last one is replaced.
    let now = T0;
    let ev = |change, age: u64| TimestampedScaleEvent {
        replica_change: change,
        timestamp: now - secs(age),
        outdated: false,
    };
    let mut state = HpaState {
        scale_up_events: vec![ev(8, 29), ev(6, 59), ev(7, 61), ev(9, 61)],
        ..Default::default()
    };
    assert_eq!(
        get_replicas_change_per_period(60, &state.scale_up_events, now),
        14
    );
    let behavior = HorizontalPodAutoscalerBehavior {
        scale_up: generate_scaling_rules(10, 60, 100, 30, 0),
        ..Default::default()
    };
    store_scale_event(&mut state, Some(&behavior), now, 10, 15);
    let got: Vec<(i32, bool)> = state
        .scale_up_events
        .iter()
        .map(|e| (e.replica_change, e.outdated))
        .collect();
    assert_eq!(got, vec![(8, false), (6, false), (7, true), (5, false)]);
    assert_eq!(state.scale_up_events[3].timestamp, now);
}

#[test]
fn a_failing_metric_with_a_scale_down_stops_the_hpa() {
    let failure = MetricFailure {
        condition: kubespec_engine::controllers::hpa::conditions::Condition::new(
            false,
            Reason::FailedGetResourceMetric,
            message::unable_to_compute_replica_count(
                "did not receive metrics for targeted pods (pods might be unready)",
            ),
        ),
        error: "failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)".to_string(),
    };
    let outcomes = [
        Ok(MetricProposal {
            replicas: 2,
            metric: metric_name::pods("qps"),
        }),
        Err(failure.clone()),
    ];
    let err = compute_replicas_for_metrics(5, &outcomes).unwrap_err();
    assert_eq!(err.condition, failure.condition);
    assert_eq!(
        err.error,
        "invalid metrics (1 invalid out of 2), first error is: failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)"
    );
}

// ------------------------------------------------------------------------------ property test

/// A random behaviour: each direction absent (defaults) or with 1–3 policies.
#[derive(Clone, Debug)]
struct Case {
    behavior: HorizontalPodAutoscalerBehavior,
    min: i32,
    max: i32,
    initial: i32,
    /// (seconds since the previous sync, raw recommendation)
    syncs: Vec<(u64, i32)>,
}

fn scaling_rules() -> impl Strategy<Value = Option<HPAScalingRules>> {
    let one_policy = (
        any::<bool>(),
        1..=200i32,
        prop::sample::select(vec![15, 30, 45, 60, 90, 120]),
    )
        .prop_map(|(percent, value, period)| {
            if percent {
                policy("Percent", value, period)
            } else {
                policy("Pods", value.min(20), period)
            }
        });
    let select = prop::sample::select(vec!["Max", "Max", "Min", "Disabled"]);
    let window = prop::option::of(prop::sample::select(vec![0, 15, 60, 300]));
    prop::option::of(
        (select, window, prop::collection::vec(one_policy, 1..=3)).prop_map(
            |(select, window, policies)| HPAScalingRules {
                select_policy: Some(select.to_string()),
                stabilization_window_seconds: window,
                policies: Some(policies),
                ..Default::default()
            },
        ),
    )
}

fn case() -> impl Strategy<Value = Case> {
    (scaling_rules(), scaling_rules(), 1..=5i32, 0..=60i32)
        .prop_flat_map(|(up, down, min, span)| {
            let max = min + span;
            (
                Just(HorizontalPodAutoscalerBehavior {
                    scale_up: up,
                    scale_down: down,
                }),
                Just(min),
                Just(max),
                min..=max,
                prop::collection::vec((1..=60u64, 0..=3 * max + 10), 1..=40),
            )
        })
        .prop_map(|(behavior, min, max, initial, syncs)| Case {
            behavior,
            min,
            max,
            initial,
            syncs,
        })
}

/// The replica count at instant `at` (after every change at or before it).
fn replicas_at(initial: i32, history: &[(Millis, i32)], at: i64) -> i32 {
    history
        .iter()
        .take_while(|(t, _)| t.0 as i64 <= at)
        .last()
        .map_or(initial, |(_, r)| *r)
}

/// Checks one rescale from `before` to `after` at `now` against the policies of its direction,
/// computed from the replica history alone: a window of `periodSeconds` before `now` started at
/// `start` replicas, so a policy allows `start ± value` (Pods) or `ceil(start × (1 + v/100))`
/// up, `int(start × (1 − v/100))` down (Percent). `Max` needs one policy to allow the change,
/// `Min` all of them; `Disabled` allows none.
fn check_rate(
    case: &Case,
    history: &[(Millis, i32)],
    now: Millis,
    before: i32,
    after: i32,
) -> Result<(), TestCaseError> {
    let up = after > before;
    let rules = if up {
        generate_hpa_scale_up_rules(case.behavior.scale_up.as_ref())
    } else {
        generate_hpa_scale_down_rules(case.behavior.scale_down.as_ref())
    };
    let select = rules.select_policy.as_deref().unwrap_or("Max");
    prop_assert_ne!(
        select,
        "Disabled",
        "scaled {} from {} to {} at {}",
        if up { "up" } else { "down" },
        before,
        after,
        now
    );
    let allowed: Vec<bool> = rules
        .policies
        .iter()
        .flatten()
        .map(|p| {
            let start = replicas_at(
                case.initial,
                history,
                now.0 as i64 - i64::from(p.period_seconds) * 1000,
            );
            let v = f64::from(p.value);
            match (up, p.type_.as_str()) {
                (true, "Pods") => after <= start + p.value,
                (true, _) => after <= (f64::from(start) * (1.0 + v / 100.0)).ceil() as i32,
                (false, "Pods") => after >= start - p.value,
                (false, _) => after >= (f64::from(start) * (1.0 - v / 100.0)) as i32,
            }
        })
        .collect();
    let ok = if select == "Min" {
        allowed.iter().all(|a| *a)
    } else {
        allowed.iter().any(|a| *a)
    };
    prop_assert!(
        ok,
        "{} from {} to {} at {} breaks the {} policies {:?} (history {:?})",
        if up { "up" } else { "down" },
        before,
        after,
        now,
        select,
        rules.policies,
        history
    );
    Ok(())
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let mut hpa = BehaviorSync {
        behavior: &case.behavior,
        state: HpaState::default(),
        current: case.initial,
        min: case.min,
        max: case.max,
    };
    let mut history: Vec<(Millis, i32)> = Vec::new();
    let mut now = T0;
    for (advance, raw) in &case.syncs {
        now = now + secs(*advance);
        let before = hpa.current;
        let (after, _) = hpa.sync(now, *raw);
        prop_assert!(
            case.min <= after && after <= case.max,
            "{} outside [{}, {}] at {}",
            after,
            case.min,
            case.max,
            now
        );
        if after != before {
            check_rate(case, &history, now, before, after)?;
            history.push((now, after));
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    common::proptest_config(0x6870_615f_7261_7465)
}

proptest! {
    #![proptest_config(config())]

    /// With behaviour policies, no period window ever sees more change than its policy allows,
    /// and the count stays within [minReplicas, maxReplicas]. See [`check_rate`].
    #[test]
    fn rate_limits_and_bounds_hold(case in case()) {
        run(&case)?;
    }
}

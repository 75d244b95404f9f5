//! From per-metric proposals to the replica count the HPA writes. Mirrors the pure parts of
//! `pkg/controller/podautoscaler/horizontal.go`: `computeReplicasForMetrics` (the maximum over
//! metrics), the first branches of `reconcileAutoscaler`, `normalizeDesiredReplicas` (no
//! behaviour) and `normalizeDesiredReplicasWithBehaviors`, with the recommendation and
//! scale-event bookkeeping they share. See [`normalize_desired_replicas_with_behaviors`].
//!
//! Upstream keeps recommendations and scale events in controller maps keyed by the HPA and reads
//! `time.Now()`. Here they live in an [`HpaState`] per HPA, and `now` is a parameter.
//!
//! NOTE: upstream compares timestamps strictly (`Before`, `After`) against a cutoff of `now −
//! window`. With real clocks the boundary is never hit exactly; on the virtual clock it is, and
//! the rules below keep upstream's strictness: a scale event exactly `periodSeconds` old no
//! longer counts, a recommendation exactly `stabilizationWindowSeconds` old no longer counts
//! with a behaviour, and a legacy recommendation exactly 5 minutes old still counts.

use super::conditions::{Condition, Reason, message, rescale_reason};
use super::defaults::{
    DISABLED_POLICY_SELECT, MIN_CHANGE_POLICY_SELECT, PERCENT_SCALING_POLICY, PODS_SCALING_POLICY,
    generate_hpa_scale_down_rules, generate_hpa_scale_up_rules,
};
use crate::time::Millis;
use k8s_openapi::api::autoscaling::v2::{HPAScalingRules, HorizontalPodAutoscalerBehavior};

/// `scaleUpLimitFactor`: without a behaviour, a sync at most doubles the replicas...
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// `scaleUpLimitMinimum`: ...or goes to 4, whichever is more.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// `timestampedRecommendation`: a raw (unstabilised) recommendation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampedRecommendation {
    pub recommendation: i32,
    pub timestamp: Millis,
}

/// `timestampedScaleEvent`: one rescale, as a non-negative change in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampedScaleEvent {
    pub replica_change: i32,
    pub timestamp: Millis,
    /// Older than the direction's longest policy period: its slot may be reused.
    pub outdated: bool,
}

/// What the controller remembers about one HPA between syncs: upstream's `recommendations`,
/// `scaleUpEvents` and `scaleDownEvents` entries for its key. Dropped with the HPA.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpaState {
    pub recommendations: Vec<TimestampedRecommendation>,
    pub scale_up_events: Vec<TimestampedScaleEvent>,
    pub scale_down_events: Vec<TimestampedScaleEvent>,
}

impl HpaState {
    /// `recordInitialRecommendation`: on the first sync, the current replica count becomes a
    /// recommendation, so that a new HPA does not scale down for one stabilisation window
    /// (spec H13).
    pub fn record_initial_recommendation(&mut self, current_replicas: i32, now: Millis) {
        if self.recommendations.is_empty() {
            self.recommendations.push(TimestampedRecommendation {
                recommendation: current_replicas,
                timestamp: now,
            });
        }
    }
}

/// `t.Before(now − window)`, without underflow at the start of time.
fn before_cutoff(t: Millis, now: Millis, window: Millis) -> bool {
    t + window < now
}

/// `t.After(now − window)`.
fn after_cutoff(t: Millis, now: Millis, window: Millis) -> bool {
    t + window > now
}

fn secs(seconds: i32) -> Millis {
    Millis::from_secs(u64::try_from(seconds).unwrap_or(0))
}

/// One metric's proposal: the replica count and the metric's description (see
/// [`super::conditions::metric_name`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricProposal {
    pub replicas: i32,
    pub metric: String,
}

/// One metric that could not be computed: the `ScalingActive=False` condition it proposes and
/// the error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricFailure {
    pub condition: Condition,
    pub error: String,
}

/// The outcome of [`compute_replicas_for_metrics`] when the HPA may act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsReplicas {
    pub replicas: i32,
    /// The metric with the highest proposal.
    pub metric: String,
    /// `ScalingActive=True ValidMetricFound`.
    pub condition: Condition,
    /// Some metrics failed but the others scale up: the controller scales and reports this.
    pub error: Option<String>,
}

/// `computeReplicasForMetrics`, given each metric's outcome in spec order: the highest proposal
/// wins (spec H8).
///
/// If every metric failed, or some failed and the rest would scale below `spec_replicas`, the
/// HPA must not act: the error names how many failed and the first failure, whose condition is
/// returned.
///
/// # Errors
///
/// The [`MetricFailure`] the HPA reports when it must not act.
///
/// # Panics
///
/// If `outcomes` is empty. The API server defaults an empty metric list to CPU at 80%.
pub fn compute_replicas_for_metrics(
    spec_replicas: i32,
    outcomes: &[Result<MetricProposal, MetricFailure>],
) -> Result<MetricsReplicas, MetricFailure> {
    assert!(!outcomes.is_empty(), "an HPA has at least one metric");
    let mut replicas = 0;
    let mut metric = String::new();
    let mut invalid = 0usize;
    let mut first_failure: Option<&MetricFailure> = None;
    for outcome in outcomes {
        match outcome {
            Err(failure) => {
                if invalid == 0 {
                    first_failure = Some(failure);
                }
                invalid += 1;
            }
            Ok(proposal) => {
                if replicas == 0 || proposal.replicas > replicas {
                    replicas = proposal.replicas;
                    metric.clone_from(&proposal.metric);
                }
            }
        }
    }
    let error = first_failure.map(|f| message::invalid_metrics(invalid, outcomes.len(), &f.error));
    if let Some(first) = first_failure
        && (invalid >= outcomes.len() || replicas < spec_replicas)
    {
        return Err(MetricFailure {
            condition: first.condition.clone(),
            error: error.unwrap_or_default(),
        });
    }
    Ok(MetricsReplicas {
        replicas,
        condition: Condition::new(
            true,
            Reason::ValidMetricFound,
            message::valid_metric_found(&metric),
        ),
        metric,
        error,
    })
}

/// The first branches of `reconcileAutoscaler`, before any metric is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaBounds {
    /// The target is at 0 and `minReplicas` is not: no action, and `ScalingActive=False
    /// ScalingDisabled` (spec H14).
    ScalingDisabled(Condition),
    /// Outside `[minReplicas, maxReplicas]`: rescale to the bound, without reading metrics and
    /// without normalising.
    Clamp { desired: i32, reason: &'static str },
    /// Compute from the metrics.
    WithinRange,
}

/// Decides [`ReplicaBounds`] from `scale.spec.replicas` and the HPA's bounds.
pub fn check_replica_bounds(
    current_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> ReplicaBounds {
    if current_replicas == 0 && min_replicas != 0 {
        ReplicaBounds::ScalingDisabled(Condition::new(
            false,
            Reason::ScalingDisabled,
            message::SCALING_DISABLED,
        ))
    } else if current_replicas > max_replicas {
        ReplicaBounds::Clamp {
            desired: max_replicas,
            reason: rescale_reason::ABOVE_MAX_REPLICAS,
        }
    } else if current_replicas < min_replicas {
        ReplicaBounds::Clamp {
            desired: min_replicas,
            reason: rescale_reason::BELOW_MIN_REPLICAS,
        }
    } else {
        ReplicaBounds::WithinRange
    }
}

/// The rescale reason `reconcileAutoscaler` gives a metric-driven proposal, from the
/// prenormalised count: `<metric> above target` up, `All metrics below target` down, none when
/// equal. A negative proposal counts as 0, as upstream's `desiredReplicas` starts at 0.
pub fn rescale_reason_for(
    current_replicas: i32,
    metric_desired_replicas: i32,
    metric: &str,
) -> Option<String> {
    let (desired, rescale_metric) = if metric_desired_replicas > 0 {
        (metric_desired_replicas, metric)
    } else {
        (0, "")
    };
    if desired > current_replicas {
        Some(rescale_reason::above_target(rescale_metric))
    } else if desired < current_replicas {
        Some(rescale_reason::ALL_METRICS_BELOW_TARGET.to_string())
    } else {
        None
    }
}

/// A normalised count and the two conditions normalisation sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalized {
    pub desired_replicas: i32,
    /// `ReadyForNewScale`, `ScaleUpStabilized` or `ScaleDownStabilized`.
    pub able_to_scale: Condition,
    /// True when the count was limited; `DesiredWithinRange` otherwise.
    pub scaling_limited: Condition,
}

/// `stabilizeRecommendation` (no behaviour): records the raw recommendation, reusing a slot
/// older than the window, and returns the highest recommendation of the window.
///
/// Worked example (upstream `TestNormalizeDesiredReplicas`, "stabilize - old recommendations"):
/// recommendations 10 (10 min ago), 4 (1 min), 5 (2 min), 9 (9 min) and a raw 3 → 5; the log
/// keeps 4 entries, the 3 replacing the last expired one.
pub fn stabilize_recommendation(
    state: &mut HpaState,
    now: Millis,
    downscale_stabilisation_window: Millis,
    prenormalized_desired_replicas: i32,
) -> i32 {
    let mut max_recommendation = prenormalized_desired_replicas;
    let mut old_sample = None;
    for (i, rec) in state.recommendations.iter().enumerate() {
        if before_cutoff(rec.timestamp, now, downscale_stabilisation_window) {
            old_sample = Some(i);
        } else if rec.recommendation > max_recommendation {
            max_recommendation = rec.recommendation;
        }
    }
    let new = TimestampedRecommendation {
        recommendation: prenormalized_desired_replicas,
        timestamp: now,
    };
    match old_sample {
        Some(i) => state.recommendations[i] = new,
        None => state.recommendations.push(new),
    }
    max_recommendation
}

/// `normalizeDesiredReplicas`: the legacy normaliser, used when `behavior` is nil. Stabilise
/// over the 5-minute window, then clamp with [`convert_desired_replicas_with_rules`].
///
/// Spec H9: current 2, raw 10, max 20 → `max(2 × 2, 4) = 4`, `ScalingLimited=True
/// ScaleUpLimit`; the next sync, from 4, allows 8.
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas(
    state: &mut HpaState,
    now: Millis,
    downscale_stabilisation_window: Millis,
    current_replicas: i32,
    prenormalized_desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> Normalized {
    let stabilized = stabilize_recommendation(
        state,
        now,
        downscale_stabilisation_window,
        prenormalized_desired_replicas,
    );
    let able_to_scale = if stabilized != prenormalized_desired_replicas {
        Condition::new(
            true,
            Reason::ScaleDownStabilized,
            message::SCALE_DOWN_STABILIZED,
        )
    } else {
        Condition::new(true, Reason::ReadyForNewScale, message::READY_FOR_NEW_SCALE)
    };
    let (desired_replicas, reason, msg) = convert_desired_replicas_with_rules(
        current_replicas,
        stabilized,
        min_replicas,
        max_replicas,
    );
    Normalized {
        desired_replicas,
        able_to_scale,
        scaling_limited: Condition::new(desired_replicas != stabilized, reason, msg),
    }
}

/// `convertDesiredReplicasWithRules`: clamp to `[minReplicas, min(maxReplicas,
/// calculateScaleUpLimit(current))]`, naming the bound that applied.
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    hpa_min_replicas: i32,
    hpa_max_replicas: i32,
) -> (i32, Reason, &'static str) {
    let minimum_allowed = hpa_min_replicas;
    let scale_up_limit = calculate_scale_up_limit(current_replicas);
    let (maximum_allowed, reason, msg) = if hpa_max_replicas > scale_up_limit {
        (
            scale_up_limit,
            Reason::ScaleUpLimit,
            message::SCALE_UP_LIMIT,
        )
    } else {
        (
            hpa_max_replicas,
            Reason::TooManyReplicas,
            message::TOO_MANY_REPLICAS,
        )
    };
    if desired_replicas < minimum_allowed {
        (
            minimum_allowed,
            Reason::TooFewReplicas,
            message::TOO_FEW_REPLICAS,
        )
    } else if desired_replicas > maximum_allowed {
        (maximum_allowed, reason, msg)
    } else {
        (
            desired_replicas,
            Reason::DesiredWithinRange,
            message::DESIRED_WITHIN_RANGE,
        )
    }
}

/// `calculateScaleUpLimit`: `max(2 × current, 4)`.
pub fn calculate_scale_up_limit(current_replicas: i32) -> i32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// `NormalizationArg`, with both directions' rules filled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormalizationArg<'a> {
    pub scale_up_behavior: &'a HPAScalingRules,
    pub scale_down_behavior: &'a HPAScalingRules,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
}

/// `maybeInitScaleDownStabilizationWindow`: a scale-down rule without a window gets the
/// controller's `--horizontal-pod-autoscaler-downscale-stabilization`.
pub fn maybe_init_scale_down_stabilization_window(
    scale_down: &mut HPAScalingRules,
    downscale_stabilisation_window: Millis,
) {
    if scale_down.stabilization_window_seconds.is_none() {
        scale_down.stabilization_window_seconds =
            Some(i32::try_from(downscale_stabilisation_window.whole_secs()).unwrap_or(i32::MAX));
    }
}

/// `normalizeDesiredReplicasWithBehaviors`: stabilise per direction
/// ([`stabilize_recommendation_with_behaviors`]), then limit the rate and clamp to `[min, max]`
/// ([`convert_desired_replicas_with_behavior_rate`]).
///
/// The behaviour is defaulted first (`GenerateHPAScale{Up,Down}Rules`), as the API server has
/// done for any stored HPA, so a partial behaviour is read as a cluster would store it.
///
/// Spec H10: an empty behaviour, current 10, raw 50, max 100 → `max(10 + 4, ceil(10 × 2)) = 20`.
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas_with_behaviors(
    state: &mut HpaState,
    now: Millis,
    behavior: &HorizontalPodAutoscalerBehavior,
    downscale_stabilisation_window: Millis,
    current_replicas: i32,
    prenormalized_desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> Normalized {
    let scale_up = generate_hpa_scale_up_rules(behavior.scale_up.as_ref());
    let mut scale_down = generate_hpa_scale_down_rules(behavior.scale_down.as_ref());
    maybe_init_scale_down_stabilization_window(&mut scale_down, downscale_stabilisation_window);
    let mut args = NormalizationArg {
        scale_up_behavior: &scale_up,
        scale_down_behavior: &scale_down,
        min_replicas,
        max_replicas,
        current_replicas,
        desired_replicas: prenormalized_desired_replicas,
    };
    let (stabilized, reason, msg) = stabilize_recommendation_with_behaviors(state, now, &args);
    args.desired_replicas = stabilized;
    let able_to_scale = if stabilized != prenormalized_desired_replicas {
        Condition::new(true, reason, msg)
    } else {
        Condition::new(true, Reason::ReadyForNewScale, message::READY_FOR_NEW_SCALE)
    };
    let (desired_replicas, reason, msg) =
        convert_desired_replicas_with_behavior_rate(state, now, &args);
    Normalized {
        desired_replicas,
        able_to_scale,
        scaling_limited: Condition::new(desired_replicas != stabilized, reason, msg),
    }
}

/// `stabilizeRecommendationWithBehaviors`: the scale-up window holds the count down to the
/// lowest recent recommendation, the scale-down window holds it up to the highest; the result
/// starts from `current` and moves only as far as both allow. Records the raw recommendation,
/// reusing a slot older than both windows.
///
/// Spec H12: scale-down window 300 s, recommendations 10 and 8 in the window, raw 6, current
/// 10 → `down = max(6, 10, 8) = 10`, so the count stays 10 (`ScaleDownStabilized`).
pub fn stabilize_recommendation_with_behaviors(
    state: &mut HpaState,
    now: Millis,
    args: &NormalizationArg<'_>,
) -> (i32, Reason, &'static str) {
    // Both windows are set: the rules were defaulted and the scale-down window initialised.
    let up_window = secs(
        args.scale_up_behavior
            .stabilization_window_seconds
            .unwrap_or(0),
    );
    let down_window = secs(
        args.scale_down_behavior
            .stabilization_window_seconds
            .unwrap_or(0),
    );
    let mut up_recommendation = args.desired_replicas;
    let mut down_recommendation = args.desired_replicas;
    let mut old_sample = None;
    for (i, rec) in state.recommendations.iter().enumerate() {
        if after_cutoff(rec.timestamp, now, up_window) {
            up_recommendation = up_recommendation.min(rec.recommendation);
        }
        if after_cutoff(rec.timestamp, now, down_window) {
            down_recommendation = down_recommendation.max(rec.recommendation);
        }
        if before_cutoff(rec.timestamp, now, up_window)
            && before_cutoff(rec.timestamp, now, down_window)
        {
            old_sample = Some(i);
        }
    }

    let mut recommendation = args.current_replicas;
    if recommendation < up_recommendation {
        recommendation = up_recommendation;
    }
    if recommendation > down_recommendation {
        recommendation = down_recommendation;
    }

    let new = TimestampedRecommendation {
        recommendation: args.desired_replicas,
        timestamp: now,
    };
    match old_sample {
        Some(i) => state.recommendations[i] = new,
        None => state.recommendations.push(new),
    }

    if args.desired_replicas >= args.current_replicas {
        (
            recommendation,
            Reason::ScaleUpStabilized,
            message::SCALE_UP_STABILIZED,
        )
    } else {
        (
            recommendation,
            Reason::ScaleDownStabilized,
            message::SCALE_DOWN_STABILIZED,
        )
    }
}

/// `convertDesiredReplicasWithBehaviorRate`: limits a scale-up to
/// [`calculate_scale_up_limit_with_scaling_rules`] and `maxReplicas`, a scale-down to
/// [`calculate_scale_down_limit_with_behaviors`] and `minReplicas`. A limit is never past
/// `current` in the wrong direction: recent events can stop scaling, never reverse it.
pub fn convert_desired_replicas_with_behavior_rate(
    state: &HpaState,
    now: Millis,
    args: &NormalizationArg<'_>,
) -> (i32, Reason, &'static str) {
    if args.desired_replicas > args.current_replicas {
        let scale_up_limit = calculate_scale_up_limit_with_scaling_rules(
            args.current_replicas,
            &state.scale_up_events,
            &state.scale_down_events,
            args.scale_up_behavior,
            now,
        )
        .max(args.current_replicas);
        let (maximum_allowed, reason, msg) = if args.max_replicas > scale_up_limit {
            (
                scale_up_limit,
                Reason::ScaleUpLimit,
                message::SCALE_UP_LIMIT,
            )
        } else {
            (
                args.max_replicas,
                Reason::TooManyReplicas,
                message::TOO_MANY_REPLICAS,
            )
        };
        if args.desired_replicas > maximum_allowed {
            return (maximum_allowed, reason, msg);
        }
    } else if args.desired_replicas < args.current_replicas {
        let scale_down_limit = calculate_scale_down_limit_with_behaviors(
            args.current_replicas,
            &state.scale_up_events,
            &state.scale_down_events,
            args.scale_down_behavior,
            now,
        )
        .min(args.current_replicas);
        let (minimum_allowed, reason, msg) = if args.min_replicas < scale_down_limit {
            (
                scale_down_limit,
                Reason::ScaleDownLimit,
                message::SCALE_DOWN_LIMIT,
            )
        } else {
            (
                args.min_replicas,
                Reason::TooFewReplicas,
                message::TOO_FEW_REPLICAS,
            )
        };
        if args.desired_replicas < minimum_allowed {
            return (minimum_allowed, reason, msg);
        }
    }
    (
        args.desired_replicas,
        Reason::DesiredWithinRange,
        message::DESIRED_WITHIN_RANGE,
    )
}

/// `getReplicasChangePerPeriod`: the replicas changed by events younger than `periodSeconds`
/// (strictly: an event exactly that old no longer counts).
pub fn get_replicas_change_per_period(
    period_seconds: i32,
    scale_events: &[TimestampedScaleEvent],
    now: Millis,
) -> i32 {
    let period = secs(period_seconds);
    scale_events
        .iter()
        .filter(|e| after_cutoff(e.timestamp, now, period))
        .fold(0i32, |acc, e| acc.saturating_add(e.replica_change))
}

/// The `selectPolicy` of a rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

fn select_policy(rules: &HPAScalingRules) -> SelectPolicy {
    match rules.select_policy.as_deref() {
        Some(DISABLED_POLICY_SELECT) => SelectPolicy::Disabled,
        Some(MIN_CHANGE_POLICY_SELECT) => SelectPolicy::Min,
        // `Max`, and anything else, as upstream's `else` branch.
        _ => SelectPolicy::Max,
    }
}

/// The replica count at the start of a policy's period: `current − added + removed`, over the
/// events younger than the period.
fn period_start_replicas(
    current_replicas: i32,
    period_seconds: i32,
    scale_up_events: &[TimestampedScaleEvent],
    scale_down_events: &[TimestampedScaleEvent],
    now: Millis,
) -> i32 {
    let added = get_replicas_change_per_period(period_seconds, scale_up_events, now);
    let deleted = get_replicas_change_per_period(period_seconds, scale_down_events, now);
    current_replicas
        .saturating_sub(added)
        .saturating_add(deleted)
}

/// `calculateScaleUpLimitWithScalingRules`: the highest count the scale-up policies allow now.
/// `Pods` allows `periodStart + value`, `Percent` allows `ceil(periodStart × (1 + value/100))`
/// (computed in floating point, so 10% of 100 allows 111: spec H15). `Max` takes the most
/// permissive policy, `Min` the least, `Disabled` allows nothing beyond `current`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: i32,
    scale_up_events: &[TimestampedScaleEvent],
    scale_down_events: &[TimestampedScaleEvent],
    scaling_rules: &HPAScalingRules,
    now: Millis,
) -> i32 {
    let select = select_policy(scaling_rules);
    let mut result = match select {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => i32::MAX,
        SelectPolicy::Max => i32::MIN,
    };
    // NOTE: upstream declares `proposed` outside the loop, so a policy of an unknown type
    // (which validation refuses) repeats the previous policy's proposal.
    let mut proposed = 0i32;
    for policy in scaling_rules.policies.iter().flatten() {
        let start = period_start_replicas(
            current_replicas,
            policy.period_seconds,
            scale_up_events,
            scale_down_events,
            now,
        );
        if policy.type_ == PODS_SCALING_POLICY {
            proposed = start.saturating_add(policy.value);
        } else if policy.type_ == PERCENT_SCALING_POLICY {
            // Rounded up, or a small percentage of a small count would never scale up.
            proposed = (f64::from(start) * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32;
        }
        result = match select {
            SelectPolicy::Min => result.min(proposed),
            _ => result.max(proposed),
        };
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`: the lowest count the scale-down policies allow now.
/// `Pods` allows `periodStart − value`, `Percent` allows `int(periodStart × (1 − value/100))`,
/// truncated. `Max` takes the most permissive (lowest) policy, `Min` the least, `Disabled`
/// allows nothing below `current` (spec H18).
///
/// Worked example (spec H11): 10% per 60 s from 100 → `int(90.0) = 90`; 15 s later the 10
/// removed count again, `periodStart = 90 + 10 = 100`, still 90.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: i32,
    scale_up_events: &[TimestampedScaleEvent],
    scale_down_events: &[TimestampedScaleEvent],
    scaling_rules: &HPAScalingRules,
    now: Millis,
) -> i32 {
    let select = select_policy(scaling_rules);
    let mut result = match select {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => i32::MIN,
        SelectPolicy::Max => i32::MAX,
    };
    let mut proposed = 0i32;
    for policy in scaling_rules.policies.iter().flatten() {
        let start = period_start_replicas(
            current_replicas,
            policy.period_seconds,
            scale_up_events,
            scale_down_events,
            now,
        );
        if policy.type_ == PODS_SCALING_POLICY {
            proposed = start.saturating_sub(policy.value);
        } else if policy.type_ == PERCENT_SCALING_POLICY {
            proposed = (f64::from(start) * (1.0 - f64::from(policy.value) / 100.0)) as i32;
        }
        result = match select {
            SelectPolicy::Min => result.max(proposed),
            _ => result.min(proposed),
        };
    }
    result
}

/// `getLongestPolicyPeriod`.
pub fn get_longest_policy_period(scaling_rules: &HPAScalingRules) -> i32 {
    scaling_rules
        .policies
        .iter()
        .flatten()
        .map(|p| p.period_seconds)
        .fold(0, i32::max)
}

/// `markScaleEventsOutdated`: events older than the longest period can be replaced.
pub fn mark_scale_events_outdated(
    scale_events: &mut [TimestampedScaleEvent],
    longest_policy_period: i32,
    now: Millis,
) {
    let period = secs(longest_policy_period);
    for event in scale_events {
        if before_cutoff(event.timestamp, now, period) {
            event.outdated = true;
        }
    }
}

/// `storeScaleEvent`: after a successful rescale, records the change in its direction,
/// replacing the last outdated event if there is one. Without a behaviour nothing is recorded.
pub fn store_scale_event(
    state: &mut HpaState,
    behavior: Option<&HorizontalPodAutoscalerBehavior>,
    now: Millis,
    prev_replicas: i32,
    new_replicas: i32,
) {
    let Some(behavior) = behavior else {
        return;
    };
    let (events, rules, replica_change) = if new_replicas > prev_replicas {
        (
            &mut state.scale_up_events,
            generate_hpa_scale_up_rules(behavior.scale_up.as_ref()),
            new_replicas - prev_replicas,
        )
    } else {
        (
            &mut state.scale_down_events,
            generate_hpa_scale_down_rules(behavior.scale_down.as_ref()),
            prev_replicas - new_replicas,
        )
    };
    mark_scale_events_outdated(events, get_longest_policy_period(&rules), now);
    let new_event = TimestampedScaleEvent {
        replica_change,
        timestamp: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = new_event,
        None => events.push(new_event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::hpa::DOWNSCALE_STABILISATION_WINDOW;
    use k8s_openapi::api::autoscaling::v2::HPAScalingPolicy;

    const NOW: Millis = Millis::from_secs(3600);

    fn ago(s: u64) -> Millis {
        NOW - Millis::from_secs(s)
    }

    fn rec(recommendation: i32, timestamp: Millis) -> TimestampedRecommendation {
        TimestampedRecommendation {
            recommendation,
            timestamp,
        }
    }

    #[test]
    fn normalize_desired_replicas_upstream_cases() {
        // Upstream TestNormalizeDesiredReplicas: (recommendations, raw, stabilized, log length).
        let cases: Vec<(Vec<TimestampedRecommendation>, i32, i32, usize)> = vec![
            (vec![], 5, 5, 1),
            (vec![rec(4, ago(120)), rec(5, ago(60))], 3, 5, 3),
            (vec![rec(1, ago(120)), rec(2, ago(60))], 3, 3, 3),
            (vec![rec(10, ago(600)), rec(9, ago(540))], 3, 3, 2),
            (
                vec![
                    rec(10, ago(600)),
                    rec(4, ago(60)),
                    rec(5, ago(120)),
                    rec(9, ago(540)),
                ],
                3,
                5,
                4,
            ),
        ];
        for (recommendations, raw, expected, log_length) in cases {
            let mut state = HpaState {
                recommendations,
                ..Default::default()
            };
            let got =
                stabilize_recommendation(&mut state, NOW, DOWNSCALE_STABILISATION_WINDOW, raw);
            assert_eq!(got, expected);
            assert_eq!(state.recommendations.len(), log_length);
        }
    }

    #[test]
    fn legacy_recommendation_exactly_one_window_old_still_counts() {
        let mut state = HpaState {
            recommendations: vec![rec(10, ago(300))],
            ..Default::default()
        };
        assert_eq!(
            stabilize_recommendation(&mut state, NOW, DOWNSCALE_STABILISATION_WINDOW, 2),
            10
        );
    }

    #[test]
    fn convert_desired_replicas_with_rules_upstream_cases() {
        // Upstream TestConvertDesiredReplicasWithRules, first two cases.
        assert_eq!(
            convert_desired_replicas_with_rules(5, 7, 3, 8),
            (7, Reason::DesiredWithinRange, message::DESIRED_WITHIN_RANGE)
        );
        assert_eq!(
            convert_desired_replicas_with_rules(3, 1, 2, 8),
            (2, Reason::TooFewReplicas, message::TOO_FEW_REPLICAS)
        );
    }

    #[test]
    fn scale_up_limit_is_twice_current_or_four() {
        assert_eq!(calculate_scale_up_limit(0), 4);
        assert_eq!(calculate_scale_up_limit(1), 4);
        assert_eq!(calculate_scale_up_limit(2), 4);
        assert_eq!(calculate_scale_up_limit(3), 6);
        assert_eq!(calculate_scale_up_limit(50), 100);
    }

    #[test]
    fn limits_with_min_select_policy() {
        // Upstream TestCalculateScaleUpLimitWithScalingRules and
        // TestCalculateScaleDownLimitWithBehaviors: Pods 2 / 60 s and Percent 50 / 60 s with
        // Min. Up from 1: min(1 + 2, ceil(1.5)) = 2. Down from 5: max(5 − 2, int(2.5)) = 3.
        let rules = HPAScalingRules {
            stabilization_window_seconds: Some(300),
            select_policy: Some("Min".to_string()),
            policies: Some(vec![
                HPAScalingPolicy {
                    type_: "Pods".to_string(),
                    value: 2,
                    period_seconds: 60,
                },
                HPAScalingPolicy {
                    type_: "Percent".to_string(),
                    value: 50,
                    period_seconds: 60,
                },
            ]),
            ..Default::default()
        };
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(1, &[], &[], &rules, NOW),
            2
        );
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &[], &rules, NOW),
            3
        );
    }

    #[test]
    fn scale_event_exactly_one_period_old_no_longer_counts() {
        let events = [
            TimestampedScaleEvent {
                replica_change: 3,
                timestamp: ago(60),
                outdated: false,
            },
            TimestampedScaleEvent {
                replica_change: 2,
                timestamp: ago(59),
                outdated: false,
            },
        ];
        assert_eq!(get_replicas_change_per_period(60, &events, NOW), 2);
        assert_eq!(get_replicas_change_per_period(61, &events, NOW), 5);
    }

    #[test]
    fn store_scale_event_does_nothing_without_behavior() {
        let mut state = HpaState::default();
        store_scale_event(&mut state, None, NOW, 10, 15);
        assert_eq!(state, HpaState::default());
    }

    #[test]
    fn compute_replicas_for_metrics_scales_up_despite_a_failed_metric() {
        let failure = MetricFailure {
            condition: Condition::new(
                false,
                Reason::FailedGetPodsMetric,
                message::unable_to_compute_replica_count("boom"),
            ),
            error: "boom".to_string(),
        };
        let up = Ok(MetricProposal {
            replicas: 6,
            metric: "cpu resource utilization (percentage of request)".to_string(),
        });
        let got = compute_replicas_for_metrics(4, &[Err(failure.clone()), up.clone()]).unwrap();
        assert_eq!(got.replicas, 6);
        assert_eq!(
            got.error.as_deref(),
            Some("invalid metrics (1 invalid out of 2), first error is: boom")
        );
        // The same failure next to a scale-down stops the HPA.
        let down = Ok(MetricProposal {
            replicas: 2,
            metric: "memory resource".to_string(),
        });
        let err = compute_replicas_for_metrics(4, &[down, Err(failure.clone())]).unwrap_err();
        assert_eq!(err.condition, failure.condition);
        // Every metric failing stops it too.
        assert!(compute_replicas_for_metrics(4, &[Err(failure)]).is_err());
    }

    #[test]
    fn rescale_reasons() {
        assert_eq!(
            rescale_reason_for(3, 5, "cpu resource utilization (percentage of request)").as_deref(),
            Some("cpu resource utilization (percentage of request) above target")
        );
        assert_eq!(
            rescale_reason_for(3, 1, "x").as_deref(),
            Some("All metrics below target")
        );
        assert_eq!(rescale_reason_for(3, 3, "x"), None);
    }
}

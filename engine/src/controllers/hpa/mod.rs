//! The HorizontalPodAutoscaler's arithmetic: replica proposals from metrics, normalisation
//! (stabilisation windows, rate limits, min and max) and the conditions it reports. See
//! [`horizontal::normalize_desired_replicas_with_behaviors`] and
//! [`replica_calculator::ReplicaCalculator`] for the primary entry points.
//!
//! **API boundary:** everything here is a pure function of plain inputs (pod facts, metric
//! samples, the HPA's behaviour, the virtual instant `now`) and of [`horizontal::HpaState`], the
//! per-HPA memory upstream keeps in the controller's maps. Nothing reads the [`crate::Cluster`].
//!
//! [`controller`] is the loop that runs this arithmetic against the cluster: it reads the target
//! through its scale subresource, the pods and the samples of [`crate::metrics`], and writes the
//! scale, the HPA's status and its events.
//!
//! The files mirror upstream one for one:
//!
//! | upstream (kubernetes/kubernetes) | here |
//! |---|---|
//! | `pkg/controller/podautoscaler/replica_calculator.go` | [`replica_calculator`] |
//! | `pkg/controller/podautoscaler/metrics/utilization.go` | [`metrics`] |
//! | `pkg/controller/podautoscaler/horizontal.go` (normalisation, scale events, metrics) | [`horizontal`] |
//! | `pkg/controller/podautoscaler/horizontal.go` (condition reasons, messages, events) | [`conditions`] |
//! | `pkg/apis/autoscaling/v2/defaults.go` | [`defaults`] |

pub mod conditions;
pub mod controller;
pub mod defaults;
pub mod horizontal;
pub mod metrics;
pub mod replica_calculator;

use crate::time::Millis;

/// `--horizontal-pod-autoscaler-sync-period`: every HPA is reconciled this often.
pub const SYNC_PERIOD: Millis = Millis::from_secs(15);

/// `--horizontal-pod-autoscaler-tolerance`: a usage ratio within `[0.9, 1.1]` changes nothing.
pub const DEFAULT_TOLERANCE: f64 = 0.1;

/// `--horizontal-pod-autoscaler-cpu-initialization-period`.
pub const CPU_INITIALIZATION_PERIOD: Millis = Millis::from_secs(5 * 60);

/// `--horizontal-pod-autoscaler-initial-readiness-delay`.
pub const DELAY_OF_INITIAL_READINESS_STATUS: Millis = Millis::from_secs(30);

/// `--horizontal-pod-autoscaler-downscale-stabilization`: the legacy scale-down window, and the
/// scale-down window of a behaviour that leaves `stabilizationWindowSeconds` unset.
pub const DOWNSCALE_STABILISATION_WINDOW: Millis = Millis::from_secs(5 * 60);

/// Why a replica count could not be computed. The messages are upstream's word for word: they
/// end up in the `ScalingActive` condition (`the HPA was unable to compute the replica count:
/// <message>`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetricsForTargetedPods,
    #[error("no metrics returned matched known pods")]
    NoMetricsMatchedKnownPods,
    #[error("missing request for {resource} in container {container} of Pod {pod}")]
    MissingRequest {
        resource: String,
        container: String,
        pod: String,
    },
    #[error("container {container} not found in Pod {pod}")]
    ContainerNotFound { container: String, pod: String },
    #[error("unable to calculate ready pods: {source}")]
    ReadyPods {
        #[source]
        source: Box<Error>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

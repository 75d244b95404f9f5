//! Virtual time: a millisecond counter from a fixed epoch, and its mapping onto API timestamps.
//!
//! The engine never reads the wall clock. [`Millis`] is the only notion of "now"; it moves only when
//! the cluster is asked to run (see [`crate::Cluster::run_until`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::fmt;

/// The instant every simulated cluster starts at: 2025-01-01T00:00:00Z.
///
/// A fixed epoch keeps traces byte-identical between runs.
pub const EPOCH_SECONDS: i64 = 1_735_689_600;

/// A point on the virtual clock, or a span of virtual time, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    pub const ZERO: Millis = Millis(0);

    pub const fn from_secs(s: u64) -> Self {
        Millis(s * 1000)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Whole seconds, rounded down.
    pub fn whole_secs(self) -> u64 {
        self.0 / 1000
    }

    pub fn saturating_sub(self, other: Millis) -> Millis {
        Millis(self.0.saturating_sub(other.0))
    }

    /// The API timestamp for this instant.
    ///
    /// NOTE: the API server stores `metav1.Time` with one-second precision (RFC 3339 without
    /// fractions), so every timestamp the engine writes is truncated to the second, exactly as a
    /// round-trip through a real API server would do. Rules that compare timestamps
    /// (minReadySeconds, progressDeadlineSeconds) see the truncated values, as upstream does.
    pub fn to_time(self) -> Time {
        Time(
            jiff::Timestamp::from_second(EPOCH_SECONDS + self.whole_secs() as i64)
                .expect("virtual time stays within jiff's range"),
        )
    }

    /// The virtual instant of an API timestamp (whole seconds since the epoch; earlier → zero).
    pub fn from_time(t: &Time) -> Millis {
        let s = t.0.as_second() - EPOCH_SECONDS;
        Millis((s.max(0) as u64) * 1000)
    }
}

impl std::ops::Add for Millis {
    type Output = Millis;
    fn add(self, rhs: Millis) -> Millis {
        Millis(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Millis {
    type Output = Millis;
    fn sub(self, rhs: Millis) -> Millis {
        Millis(self.0 - rhs.0)
    }
}

impl fmt::Display for Millis {
    /// `12.500s`: the form used in traces and failure reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_truncate_to_the_second() {
        let t = Millis(61_999).to_time();
        assert_eq!(t.0.to_string(), "2025-01-01T00:01:01Z");
        assert_eq!(Millis::from_time(&t), Millis(61_000));
    }

    #[test]
    fn display_has_millisecond_precision() {
        assert_eq!(Millis(1_005).to_string(), "1.005s");
    }
}

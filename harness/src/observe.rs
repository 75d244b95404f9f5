//! Reading rollout observations: the "went through" table of a Deployment's ReplicaSets.

pub use kubespec_engine::observe::{DeploymentHistory, Sample, ScaleRecord, TemplateChange};
use std::collections::BTreeMap;
use std::time::Duration;

/// One row of `the replica sets of deployment … went through`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub at: Duration,
    pub old: i32,
    pub new: i32,
}

/// The rows since the last template change: first the sizes just before it, then one row per
/// ReplicaSet scale. `old` sums every ReplicaSet but `new_rs`.
pub fn scaling_rows(h: &DeploymentHistory, new_rs: &str) -> Vec<Row> {
    let Some(change) = h.template_changes.last() else {
        return vec![];
    };
    let mut sizes: BTreeMap<String, i32> = change.sizes.clone();
    let row = |at, s: &BTreeMap<String, i32>| {
        let new = s.get(new_rs).copied().unwrap_or(0);
        Row {
            at,
            old: s.values().sum::<i32>() - new,
            new,
        }
    };
    let mut rows = vec![row(Duration::from_millis(change.at.0), &sizes)];
    for s in &h.scales[change.scales_before..] {
        sizes.insert(s.replica_set.clone(), s.to);
        rows.push(row(Duration::from_millis(s.at.0), &sizes));
    }
    rows
}

/// `12.5s`: compact durations for reports.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

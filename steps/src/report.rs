//! What a failed step shows: the object's status, recent events and the replica counts over
//! time, so a failure can be understood without re-running it.

use kubespec_harness::Backend;
use kubespec_harness::observe::fmt_duration;
use std::fmt::Write as _;
use std::time::Duration;

/// A compact description of a Deployment and its history.
pub(crate) async fn deployment(b: &mut dyn Backend, name: &str) -> String {
    let mut out = String::new();
    let now = b.elapsed().await;
    let _ = writeln!(out, "observed at t={}:", fmt_duration(now));
    let Ok(d) = b.deployment(name).await else {
        let _ = writeln!(out, "  deployment \"{name}\" does not exist");
        return out;
    };
    let spec = d.spec.clone().unwrap_or_default();
    let st = d.status.clone().unwrap_or_default();
    let _ = writeln!(
        out,
        "  deployment \"{name}\": spec.replicas={} generation={} observedGeneration={} replicas={} updated={} ready={} available={} unavailable={}",
        spec.replicas.unwrap_or(1),
        d.metadata.generation.unwrap_or(0),
        st.observed_generation.unwrap_or(0),
        st.replicas.unwrap_or(0),
        st.updated_replicas.unwrap_or(0),
        st.ready_replicas.unwrap_or(0),
        st.available_replicas.unwrap_or(0),
        st.unavailable_replicas.unwrap_or(0),
    );
    for c in st.conditions.iter().flatten() {
        let _ = writeln!(
            out,
            "    condition {}={} reason={} message={:?}",
            c.type_,
            c.status,
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or("")
        );
    }
    if let Ok(status) = b.rollout_status(name).await {
        let _ = writeln!(out, "  kubectl rollout status: {}", status.line());
    }
    if let Ok(mut rss) = b.replica_sets_of(name).await {
        rss.sort_by_key(kubespec_harness::deployment_util::revision);
        for rs in rss {
            let s = rs.status.clone().unwrap_or_default();
            let image = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.spec.as_ref())
                .map(|p| {
                    p.containers
                        .iter()
                        .filter_map(|c| c.image.clone())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  replicaset {} (revision {}, {image}): spec={} replicas={} ready={} available={}",
                rs.metadata.name.as_deref().unwrap_or(""),
                kubespec_harness::deployment_util::revision(&rs),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                s.replicas,
                s.ready_replicas.unwrap_or(0),
                s.available_replicas.unwrap_or(0),
            );
        }
    }
    if let Ok(h) = b.deployment_history(name).await {
        let samples: Vec<String> = h
            .samples
            .iter()
            .rev()
            .take(12)
            .rev()
            .map(|s| {
                format!(
                    "t={} pods={} available={}",
                    fmt_duration(Duration::from_millis(s.at.0)),
                    s.pods,
                    s.available
                )
            })
            .collect();
        if !samples.is_empty() {
            let _ = writeln!(out, "  replica counts over time (last {}):", samples.len());
            for s in samples {
                let _ = writeln!(out, "    {s}");
            }
        }
    }
    out.push_str(&events(b, "deployment", name).await);
    out
}

/// The last events about an object.
pub(crate) async fn events(b: &mut dyn Backend, kind: &str, name: &str) -> String {
    let mut out = String::new();
    if let Ok(evs) = b.events_about(kind, name).await {
        let n = evs.len();
        if n > 0 {
            let _ = writeln!(out, "  recent events of {kind} \"{name}\":");
        }
        for e in evs.iter().skip(n.saturating_sub(10)) {
            let count = if e.count > 1 {
                format!(" (x{})", e.count)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "    t={} {} {}: {}{count}",
                fmt_duration(e.last),
                e.type_,
                e.reason,
                e.message
            );
        }
    }
    out
}

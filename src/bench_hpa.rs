//! `kubespec bench`'s autoscaling case: many HorizontalPodAutoscalers over many Deployments
//! for an hour of cluster time under a ramped load. See [`bench_hpa`]. It prints numbers;
//! nothing here asserts a timing.

use std::time::Instant;

use kubespec_engine::metrics::{Resource, Shape, Workload};
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, Result};

/// Deployments, each with its own HPA.
pub const WORKLOADS: u32 = 50;
/// Cluster time simulated.
const MINUTES: u64 = 60;

/// The JSON line `bench-one --hpa` prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct HpaMeasurement {
    pub case: String,
    pub workloads: u32,
    /// Wall time of the simulated hour (after the Deployments rolled out and the HPAs were
    /// created).
    pub wall_ms: f64,
    pub simulated_s: f64,
    pub hpa_syncs: u64,
    /// SuccessfulRescale events over all HPAs.
    pub rescales: u64,
    pub metrics_scrapes: u64,
    pub pods_created: u64,
    /// Deployment and ReplicaSet syncs the rescales caused.
    pub deployment_syncs: u64,
    pub replicaset_syncs: u64,
    /// The largest spec.replicas any Deployment reached.
    pub max_replicas_seen: i32,
    pub peak_rss_mb: Option<f64>,
    /// `wall_ms` per HPA sync, in microseconds.
    pub us_per_sync: f64,
}

/// Runs the case in child processes and prints the median run.
pub fn bench_hpa(runs: usize, json: bool) -> Result<()> {
    let mut all: Vec<HpaMeasurement> =
        crate::bench::measure_in_children(WORKLOADS, &["--hpa"], runs, |m: &HpaMeasurement| {
            m.wall_ms
        })?;
    let (min, max) = (all[0].wall_ms, all[all.len() - 1].wall_ms);
    let n = all.len();
    let m = all.swap_remove((n - 1) / 2);
    if json {
        let mut v = serde_json::to_value(&m).expect("an HpaMeasurement serializes");
        v["runs"] = n.into();
        v["wall_ms_min"] = min.into();
        v["wall_ms_max"] = max.into();
        println!("{v}");
    } else {
        let rss = m
            .peak_rss_mb
            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}"));
        println!(
            "\nAutoscaling: {} Deployments with one HPA each (CPU 50%, 1..20 replicas), {} min of cluster time, load ramped 0 -> 1800m over 30 min then down to 100m\n\
             {:>9} {:>10} {:>17} {:>7} {:>10} {:>9} {:>8} {:>12} {:>12} {:>10}\n\
             {:>9} {:>10.1} {:>17} {:>7.0} {:>10} {:>9} {:>8} {:>12} {:>12} {:>10.3}",
            m.workloads,
            MINUTES,
            "HPAs",
            "wall ms",
            "(min-max)",
            "sim s",
            "HPA syncs",
            "rescales",
            "scrapes",
            "max replicas",
            "peak RSS MB",
            "µs/sync",
            m.workloads,
            m.wall_ms,
            format!("({min:.1}-{max:.1})"),
            m.simulated_s,
            m.hpa_syncs,
            m.rescales,
            m.metrics_scrapes,
            m.max_replicas_seen,
            rss,
            m.us_per_sync
        );
    }
    Ok(())
}

/// Measures the case in this process and prints one JSON [`HpaMeasurement`].
pub fn bench_one_hpa(workloads: u32) -> Result<()> {
    let m = measure(workloads).map_err(|message| CliError::Bench {
        replicas: workloads,
        message,
    })?;
    println!(
        "{}",
        serde_json::to_string(&m).expect("an HpaMeasurement serializes")
    );
    Ok(())
}

fn measure(workloads: u32) -> Result<HpaMeasurement, String> {
    let mut c = Cluster::new(ClusterConfig {
        seed: 0,
        nodes: workloads.div_ceil(5) + 1,
        pods_per_node: 110,
        trace: false,
    });
    let mut keys = Vec::new();
    for i in 0..workloads {
        let name = format!("app-{i:03}");
        let mut d = kubespec_engine::kubectl::simple_deployment(&name, 2, "bench:v1");
        if let Some(ct) = d
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .and_then(|s| s.containers.first_mut())
        {
            ct.resources = Some(k8s_openapi::api::core::v1::ResourceRequirements {
                requests: Some(
                    [(
                        "cpu".to_string(),
                        k8s_openapi::apimachinery::pkg::api::resource::Quantity("100m".into()),
                    )]
                    .into(),
                ),
                ..Default::default()
            });
        }
        keys.push(
            c.apply_deployment(d)
                .map_err(|e| format!("creating deployment {name}: {e}"))?,
        );
    }
    c.run_until(Millis::from_secs(30));
    let start = c.now();
    for (i, key) in keys.iter().enumerate() {
        let hpa = serde_json::json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": key.name},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": key.name},
                "minReplicas": 1,
                "maxReplicas": 20,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 50}}}]
            }
        });
        c.apply_hpa("autoscaling/v2", hpa)
            .map_err(|e| format!("creating the HPA of {}: {e}", key.name))?;
        // Peaks differ per workload so the HPAs do not move in lockstep.
        let peak = 1000 + 20 * (i as i64 % 40);
        c.set_load(
            Workload::new("Deployment", ObjectKey::new("default", key.name.clone())),
            Resource::Cpu,
            Shape {
                points: vec![
                    (start, 0),
                    (start + Millis::from_secs(30 * 60), peak),
                    (start + Millis::from_secs(60 * 60), 100),
                ],
                interpolate: true,
            },
        );
    }
    let before = c.stats();
    let wall = Instant::now();
    let end = start + Millis::from_secs(MINUTES * 60);
    let mut max_replicas_seen = 0;
    // Run minute by minute to sample the largest replica count along the way.
    while c.now() < end {
        let next = (c.now() + Millis::from_secs(60)).min(end);
        c.run_until(next);
        for key in &keys {
            let r = c.store.deployments[key]
                .spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(0);
            max_replicas_seen = max_replicas_seen.max(r);
        }
    }
    let wall_ms = crate::bench::ms(wall);
    let after = c.stats();
    let rescales = c
        .events
        .iter()
        .filter(|e| e.reason == "SuccessfulRescale")
        .count() as u64;
    let hpa_syncs = after.hpa_syncs - before.hpa_syncs;
    Ok(HpaMeasurement {
        case: "hpa".into(),
        workloads,
        wall_ms: crate::bench::round3(wall_ms),
        simulated_s: (c.now().0 - start.0) as f64 / 1000.0,
        hpa_syncs,
        rescales,
        metrics_scrapes: c.metrics.scrapes,
        pods_created: after.pods_created - before.pods_created,
        deployment_syncs: after.deployment_syncs - before.deployment_syncs,
        replicaset_syncs: after.replicaset_syncs - before.replicaset_syncs,
        max_replicas_seen,
        peak_rss_mb: crate::bench::peak_rss_mb().map(crate::bench::round3),
        us_per_sync: crate::bench::round3(wall_ms * 1000.0 / hpa_syncs.max(1) as f64),
    })
}

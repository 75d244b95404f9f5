//! The HPA controller against the engine: metrics from the load model, scale through the
//! Deployment, status, conditions and events (spec §5, scenarios H13, H14, H16, H17).

mod common;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kubespec_engine::metrics::{Resource, Shape, Workload};
use kubespec_engine::{Cluster, ClusterConfig, Kind, Millis, ObjectKey};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn web(replicas: i32, cpu_request: &str) -> Deployment {
    let mut d = kubespec_engine::kubectl::simple_deployment("web", replicas, "web:v1");
    let c = &mut d
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0];
    c.resources = Some(ResourceRequirements {
        requests: Some(BTreeMap::from([(
            "cpu".to_string(),
            Quantity(cpu_request.into()),
        )])),
        ..Default::default()
    });
    d
}

fn hpa(min: i32, max: i32, target: i32, behavior: Option<serde_json::Value>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": min,
            "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": target}}}]
        }
    });
    if let Some(b) = behavior {
        v["spec"]["behavior"] = b;
    }
    v
}

fn key() -> ObjectKey {
    ObjectKey::new("default", "web")
}

fn replicas(c: &Cluster) -> i32 {
    c.store.deployments[&key()]
        .spec
        .as_ref()
        .unwrap()
        .replicas
        .unwrap()
}

fn cluster(d: Deployment) -> Cluster {
    let mut c = Cluster::new(ClusterConfig::default());
    c.apply_deployment(d).unwrap();
    c.run_until(Millis::from_secs(10));
    c
}

fn load(c: &mut Cluster, millicores: i64) {
    let at = c.now();
    c.set_load(
        Workload::new("Deployment", key()),
        Resource::Cpu,
        Shape::constant(at, millicores),
    );
}

fn hpa_status(c: &Cluster) -> k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerStatus {
    c.store.horizontal_pod_autoscalers[&key()]
        .status
        .clone()
        .unwrap()
}

fn events(c: &Cluster, reason: &str) -> Vec<String> {
    c.events
        .about(Kind::HorizontalPodAutoscaler, &key())
        .filter(|e| e.reason == reason)
        .map(|e| e.message.clone())
        .collect()
}

#[test]
fn h16_scale_up_follows_the_load_and_stops_at_max() {
    let mut c = cluster(web(1, "500m"));
    load(&mut c, 250);
    c.apply_hpa("autoscaling/v2", hpa(1, 5, 20, None)).unwrap();
    c.run_until(c.now() + Millis::from_secs(120));
    // util 50% of 500m → ratio 2.5 → 3; at 3 pods util 16 → ratio 0.8 → ceil(2.4) = 3.
    assert_eq!(replicas(&c), 3);
    assert_eq!(
        events(&c, "SuccessfulRescale"),
        vec!["New size: 3; reason: cpu resource utilization (percentage of request) above target"]
    );
    let s = hpa_status(&c);
    assert_eq!(s.current_replicas, Some(3));
    assert_eq!(s.desired_replicas, 3);
    let current = &s.current_metrics.unwrap()[0];
    assert_eq!(
        current
            .resource
            .as_ref()
            .unwrap()
            .current
            .average_utilization,
        Some(16)
    );
    load(&mut c, 700);
    c.run_until(c.now() + Millis::from_secs(120));
    // util 46 → ratio 2.3 → 7 → clamped to 5.
    assert_eq!(replicas(&c), 5);
    let s = hpa_status(&c);
    let limited = s
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "ScalingLimited")
        .unwrap();
    assert_eq!(limited.status, "True");
    assert_eq!(limited.reason.as_deref(), Some("TooManyReplicas"));
}

#[test]
fn h17_scale_down_waits_for_the_stabilisation_window() {
    let mut c = cluster(web(5, "500m"));
    load(&mut c, 5 * 65);
    c.apply_hpa("autoscaling/v2", hpa(1, 10, 30, None)).unwrap();
    let created = c.now();
    c.run_until(created + Millis::from_secs(290));
    assert_eq!(replicas(&c), 5, "no scale-down within the 5-minute window");
    c.run_until(created + Millis::from_secs(330));
    // util 13 → ratio 0.433 → ceil(2.17) = 3.
    assert_eq!(replicas(&c), 3);
    load(&mut c, 10);
    c.run_until(c.now() + Millis::from_secs(400));
    assert_eq!(replicas(&c), 1);
}

#[test]
fn h14_zero_replicas_disable_scaling() {
    let mut c = cluster(web(0, "500m"));
    c.apply_hpa("autoscaling/v2", hpa(1, 5, 50, None)).unwrap();
    c.run_until(c.now() + Millis::from_secs(60));
    assert_eq!(replicas(&c), 0);
    let active = hpa_status(&c)
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "ScalingActive")
        .unwrap();
    assert_eq!(active.status, "False");
    assert_eq!(active.reason.as_deref(), Some("ScalingDisabled"));
}

#[test]
fn missing_target_reports_failed_get_scale() {
    let mut c = Cluster::new(ClusterConfig::default());
    c.apply_hpa("autoscaling/v2", hpa(1, 5, 50, None)).unwrap();
    c.run_until(Millis::from_secs(20));
    assert_eq!(
        events(&c, "FailedGetScale"),
        vec!["deployments.apps \"web\" not found"]
    );
    let able = hpa_status(&c).conditions.unwrap()[0].clone();
    assert_eq!(able.type_, "AbleToScale");
    assert_eq!(
        able.message.as_deref(),
        Some(
            "the HPA controller was unable to get the target's current scale: deployments.apps \"web\" not found"
        )
    );
}

#[test]
fn no_samples_yet_is_a_failed_metric_then_recovers() {
    let mut c = Cluster::new(ClusterConfig::default());
    c.apply_deployment(web(2, "100m")).unwrap();
    load(&mut c, 180);
    c.apply_hpa("autoscaling/v2", hpa(1, 10, 50, None)).unwrap();
    // First sync at 15 s: the pods started at about 1 s, so the scrape at 15 s has no second
    // reading yet.
    c.run_until(Millis::from_secs(15));
    assert_eq!(
        events(&c, "FailedGetResourceMetric"),
        vec![
            "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        ]
    );
    assert_eq!(
        events(&c, "FailedComputeMetricsReplicas"),
        vec![
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        ]
    );
    c.run_until(Millis::from_secs(31));
    // 90m of 100m each: util 90 → ratio 1.8 → 4.
    assert_eq!(replicas(&c), 4);
}

#[test]
fn h13_new_hpa_does_not_scale_down_for_five_minutes() {
    let mut c = cluster(web(10, "100m"));
    load(&mut c, 0);
    c.apply_hpa("autoscaling/v2", hpa(2, 10, 50, None)).unwrap();
    let created = c.now();
    c.run_until(created + Millis::from_secs(299));
    assert_eq!(replicas(&c), 10);
    c.run_until(created + Millis::from_secs(330));
    assert_eq!(replicas(&c), 2);
}

#[test]
fn deleting_the_hpa_stops_it() {
    let mut c = cluster(web(1, "100m"));
    load(&mut c, 1000);
    c.apply_hpa("autoscaling/v2", hpa(1, 10, 50, None)).unwrap();
    c.run_until(c.now() + Millis::from_secs(40));
    let before = replicas(&c);
    assert!(before > 1);
    c.delete_kind(Kind::HorizontalPodAutoscaler, &key(), Default::default())
        .unwrap();
    c.run_until(c.now() + Millis::from_secs(300));
    assert_eq!(replicas(&c), before);
    assert!(c.hpa_state(&key()).is_none());
}

proptest! {
    #![proptest_config(common::proptest_config(0x4850_4131))]

    /// Under any load sequence the HPA keeps spec.replicas within [min, max], and with a
    /// behaviour no policy period ever sees more change than its policy allows.
    #[test]
    fn replicas_stay_within_bounds_and_rates(
        loads in proptest::collection::vec(0i64..4000, 1..6),
        min in 1i32..4,
        span in 0i32..8,
        pods_per_period in 1i32..4,
    ) {
        let max = min + span;
        let mut c = cluster(web(min, "200m"));
        let behavior = serde_json::json!({
            "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": pods_per_period, "periodSeconds": 60}]},
            "scaleDown": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": pods_per_period, "periodSeconds": 60}]}
        });
        c.apply_hpa("autoscaling/v2", hpa(min, max, 50, Some(behavior))).unwrap();
        let mut changes: Vec<(Millis, i32)> = Vec::new();
        let mut last = replicas(&c);
        for l in loads {
            load(&mut c, l);
            let until = c.now() + Millis::from_secs(180);
            while c.now() < until {
                let next = c.next_timer_at().unwrap_or(until).min(until);
                c.run_until(next);
                let r = replicas(&c);
                prop_assert!(r >= min && r <= max, "replicas {} outside [{}, {}]", r, min, max);
                if r != last {
                    changes.push((c.now(), r - last));
                    last = r;
                }
            }
        }
        // Every rescale, with the changes of the 60 s before it (the policy period), moves the
        // count by at most the policy's value from where that period started.
        for (j, (t, _)) in changes.iter().enumerate() {
            let net: i32 = changes[..=j]
                .iter()
                .filter(|(u, _)| *u + Millis::from_secs(60) > *t)
                .map(|(_, d)| *d)
                .sum();
            prop_assert!(net.abs() <= pods_per_period, "net {} within 60 s up to {:?}: {:?}", net, t, changes);
        }
    }

    /// Under a constant load the replica count converges and then stays put.
    #[test]
    fn constant_load_converges(total in 0i64..3000, start in 1i32..6) {
        let mut c = cluster(web(start, "200m"));
        load(&mut c, total);
        c.apply_hpa("autoscaling/v2", hpa(1, 20, 50, None)).unwrap();
        c.run_until(c.now() + Millis::from_secs(900));
        let settled = replicas(&c);
        let end = c.now() + Millis::from_secs(600);
        while c.now() < end {
            let next = c.next_timer_at().unwrap_or(end).min(end);
            c.run_until(next);
            prop_assert_eq!(replicas(&c), settled, "moved after settling at {:?}", c.now());
        }
    }
}

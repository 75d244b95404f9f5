//! The prober and container restarts on the engine: the probe scenarios of spec §4.5 and the
//! back-off lag after probe kills (§4.4), timed on the virtual clock.

use k8s_openapi::api::core::v1::Pod;
use kubespec_engine::images::ImageBehaviour;
use kubespec_engine::prober::ProbeKind;
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey};
use serde_json::json;

fn cluster() -> Cluster {
    Cluster::new(ClusterConfig {
        seed: 1,
        nodes: 1,
        pods_per_node: 110,
        trace: false,
    })
}

/// A pod named `app` with one container `app` of image `app:v1` and the given probes (JSON, as
/// in a manifest).
fn pod(probes: serde_json::Value, grace: Option<i64>) -> Pod {
    let mut container = json!({"name": "app", "image": "app:v1"});
    for (k, v) in probes.as_object().unwrap() {
        container[k] = v.clone();
    }
    let mut spec = json!({"containers": [container]});
    if let Some(g) = grace {
        spec["terminationGracePeriodSeconds"] = json!(g);
    }
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": spec,
    }))
    .unwrap()
}

fn http(extra: serde_json::Value) -> serde_json::Value {
    let mut p = json!({"httpGet": {"path": "/healthz", "port": 8080}});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// What the pod looked like at each instant: (seconds, ready, restartCount).
struct Timeline(Vec<(f64, bool, i32)>);

impl Timeline {
    /// Instants at which restartCount went up.
    fn restarts(&self) -> Vec<f64> {
        self.0
            .windows(2)
            .filter(|w| w[1].2 > w[0].2)
            .map(|w| w[1].0)
            .collect()
    }

    /// Instants at which readiness changed, with the new value.
    fn readiness(&self) -> Vec<(f64, bool)> {
        let mut out = vec![];
        let mut last = false;
        for &(t, r, _) in &self.0 {
            if r != last {
                out.push((t, r));
                last = r;
            }
        }
        out
    }

    fn restart_count(&self) -> i32 {
        self.0.last().map_or(0, |s| s.2)
    }
}

fn sample(c: &Cluster, key: &ObjectKey) -> (f64, bool, i32) {
    let p = &c.store.pods[key];
    let st = p.status.as_ref().unwrap();
    let ready = st
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let restarts = st
        .container_statuses
        .iter()
        .flatten()
        .map(|s| s.restart_count)
        .sum();
    (c.now().0 as f64 / 1000.0, ready, restarts)
}

/// Runs `pod` with `app:v1` behaving as `behaviour` for `secs` seconds, instant by instant.
fn run(pod: Pod, behaviour: ImageBehaviour, secs: u64) -> (Cluster, Timeline) {
    let mut c = cluster();
    c.images.update("app:v1", |b| *b = behaviour);
    let key = c.apply_pod(pod).unwrap();
    let mut t = vec![];
    c.settle();
    t.push(sample(&c, &key));
    let end = Millis::from_secs(secs);
    while let Some(at) = c.next_timer_at().filter(|at| *at <= end) {
        c.run_until(at);
        t.push(sample(&c, &key));
    }
    c.run_until(end);
    t.push(sample(&c, &key));
    (c, Timeline(t))
}

fn events(c: &Cluster, reason: &str) -> Vec<(String, u32)> {
    c.events
        .about(
            kubespec_engine::Kind::Pod,
            &ObjectKey::new("default", "app"),
        )
        .filter(|e| e.reason == reason)
        .map(|e| (e.message.clone(), e.count))
        .collect()
}

fn starts_at_once(stop_secs: u64) -> ImageBehaviour {
    ImageBehaviour {
        start: Millis::ZERO,
        stop: Millis::from_secs(stop_secs),
        ..Default::default()
    }
}

#[test]
fn p1_liveness_failing_from_30s_is_killed_after_three_failures() {
    let b = ImageBehaviour {
        unhealthy_after: Some(Millis::from_secs(30)),
        ..starts_at_once(0)
    };
    let (c, t) = run(pod(json!({"livenessProbe": http(json!({}))}), None), b, 60);
    // Probes at 0, 10, 20 pass; 30, 40, 50 fail; the kill at 50 restarts the container.
    assert_eq!(t.restarts(), vec![50.0]);
    assert_eq!(t.restart_count(), 1);
    assert_eq!(
        events(&c, "Unhealthy"),
        vec![(
            "Liveness probe failed: HTTP probe failed with statuscode: 503".to_string(),
            3
        )]
    );
    assert_eq!(
        events(&c, "Killing"),
        vec![(
            "Container app failed liveness probe, will be restarted".to_string(),
            1
        )]
    );
}

#[test]
fn p2_liveness_with_initial_delay_and_threshold_one() {
    let b = ImageBehaviour {
        unhealthy_after: Some(Millis::from_secs(10)),
        ..starts_at_once(0)
    };
    let probe = http(json!({"initialDelaySeconds": 15, "failureThreshold": 1}));
    let (_, t) = run(pod(json!({"livenessProbe": probe}), None), b, 20);
    assert_eq!(t.restarts(), vec![15.0]);
}

#[test]
fn p3_readiness_always_failing_never_ready_never_restarted() {
    let b = ImageBehaviour {
        ready_after: None,
        ..starts_at_once(0)
    };
    let (c, t) = run(pod(json!({"readinessProbe": http(json!({}))}), None), b, 60);
    assert_eq!(t.readiness(), vec![]);
    assert_eq!(t.restart_count(), 0);
    // Probes at 0, 10, …, 60: seven failures, folded into one event.
    assert_eq!(
        events(&c, "Unhealthy"),
        vec![(
            "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string(),
            7
        )]
    );
}

#[test]
fn p4_readiness_initial_delay_holds_the_pod_unready() {
    let probe = http(json!({"initialDelaySeconds": 20}));
    let (_, t) = run(
        pod(json!({"readinessProbe": probe}), None),
        starts_at_once(0),
        60,
    );
    assert_eq!(t.readiness(), vec![(20.0, true)]);
    assert_eq!(t.restart_count(), 0);
}

#[test]
fn p5_startup_probe_holds_off_liveness_then_kills_on_its_own_failure() {
    // The application never comes up: every probe is refused.
    let b = ImageBehaviour {
        startup: Millis::from_secs(10_000),
        ..starts_at_once(0)
    };
    let probes = json!({
        "startupProbe": http(json!({"failureThreshold": 30, "periodSeconds": 10})),
        "livenessProbe": http(json!({"periodSeconds": 1, "failureThreshold": 1})),
    });
    let (c, t) = run(pod(probes, None), b, 295);
    // Startup probes at 0, 10, …, 290: the 30th failure at 290 kills the container.
    assert_eq!(t.restarts(), vec![290.0]);
    let unhealthy = events(&c, "Unhealthy");
    assert_eq!(unhealthy.len(), 1, "liveness never ran: {unhealthy:?}");
    assert!(
        unhealthy[0]
            .0
            .starts_with("Startup probe failed: Get \"http://")
    );
    // 30 failures, and the restarted container's first probe at 290.
    assert_eq!(unhealthy[0].1, 31);
    assert_eq!(
        events(&c, "Killing"),
        vec![(
            "Container app failed startup probe, will be restarted".to_string(),
            1
        )]
    );
}

#[test]
fn startup_success_releases_readiness_at_once() {
    let b = ImageBehaviour {
        startup: Millis::from_secs(25),
        ..starts_at_once(0)
    };
    let probes = json!({
        "startupProbe": http(json!({"periodSeconds": 10, "failureThreshold": 30})),
        "readinessProbe": http(json!({"periodSeconds": 10})),
    });
    let (c, t) = run(pod(probes, None), b, 60);
    // Startup passes at 30; the readiness probe runs at once and passes.
    assert_eq!(t.readiness(), vec![(30.0, true)]);
    let p = &c.store.pods[&ObjectKey::new("default", "app")];
    let cs = &p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    assert_eq!(cs.started, Some(true));
}

#[test]
fn p6_exec_probe_sleeping_past_its_timeout_fails() {
    let probe = json!({
        "exec": {"command": ["sleep", "10"]},
        "timeoutSeconds": 1,
    });
    let (c, t) = run(
        pod(json!({"livenessProbe": probe}), None),
        starts_at_once(0),
        25,
    );
    assert_eq!(t.restarts(), vec![20.0]);
    assert_eq!(
        events(&c, "Unhealthy"),
        vec![(
            "Liveness probe failed: command \"sleep 10\" timed out".to_string(),
            // 0, 10, 20, and the restarted container's first probe at 20.
            4
        )]
    );
}

#[test]
fn p10_probe_grace_period_caps_the_kill() {
    // The process ignores SIGTERM for 30 s; the probe's 5 s grace period cuts it short.
    let b = ImageBehaviour {
        unhealthy_after: Some(Millis::ZERO),
        ..starts_at_once(30)
    };
    let probe = http(json!({"failureThreshold": 1, "terminationGracePeriodSeconds": 5}));
    let (c, t) = run(pod(json!({"livenessProbe": probe}), Some(60)), b, 10);
    // Killed at 0 (first probe fails), stopped at 5, restarted at once; the new container
    // fails its first probe too and is restarted at 10 (the back-off only starts counting).
    assert_eq!(t.restarts(), vec![5.0, 10.0]);
    let p = &c.store.pods[&ObjectKey::new("default", "app")];
    let cs = &p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (137, Some("Error"))
    );
}

#[test]
fn p11_readiness_success_threshold_needs_consecutive_successes() {
    let probe = http(json!({"successThreshold": 3}));
    let (_, t) = run(
        pod(json!({"readinessProbe": probe}), None),
        starts_at_once(0),
        60,
    );
    assert_eq!(t.readiness(), vec![(20.0, true)]);
}

#[test]
fn liveness_kills_lag_one_step_behind_the_back_off() {
    // Spec §4.4's worked example: starts 1 s after (re)start, liveness period 1,
    // failureThreshold 3, unhealthy 5 s after start.
    let b = ImageBehaviour {
        start: Millis::from_secs(1),
        stop: Millis::ZERO,
        unhealthy_after: Some(Millis::from_secs(5)),
        ..Default::default()
    };
    let probe = http(json!({"periodSeconds": 1, "failureThreshold": 3}));
    let (c, t) = run(pod(json!({"livenessProbe": probe}), None), b, 115);
    assert_eq!(t.restarts(), vec![8.0, 16.0, 34.0, 62.0, 110.0]);
    let kills = events(&c, "Killing");
    assert_eq!(kills[0].1, 5, "kills at 8, 16, 24, 42, 70: {kills:?}");
    let backoff = events(&c, "BackOff");
    assert_eq!(backoff.len(), 1, "{backoff:?}");
}

#[test]
fn a_crashing_container_has_no_lag() {
    // Exits 5 s after start: restarts at 6, 22, 48, 94 (delays 0, 10, 20, 40).
    let b = ImageBehaviour {
        start: Millis::from_secs(1),
        exit: Some(kubespec_engine::images::Exit {
            after: Millis::from_secs(5),
            code: 1,
        }),
        ..Default::default()
    };
    let (c, t) = run(pod(json!({}), None), b, 100);
    assert_eq!(t.restarts(), vec![6.0, 22.0, 48.0, 94.0]);
    let p = &c.store.pods[&ObjectKey::new("default", "app")];
    let cs = &p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    // At 100 s the fifth run (started 95) has just exited and waits out an 80 s back-off;
    // its exit is the last state.
    let waiting = cs.state.as_ref().unwrap().waiting.as_ref().unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("CrashLoopBackOff"));
    let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(last.exit_code, 1);
    assert_eq!(
        last.finished_at.as_ref().map(Millis::from_time),
        Some(Millis::from_secs(100))
    );
}

#[test]
fn flipping_the_readiness_endpoint_takes_effect_at_the_next_probe() {
    let mut c = cluster();
    c.images.update("app:v1", |b| *b = starts_at_once(0));
    let key = c
        .apply_pod(pod(json!({"readinessProbe": http(json!({}))}), None))
        .unwrap();
    c.run_until(Millis::from_secs(5));
    assert!(sample(&c, &key).1, "ready after the first probe at 0");
    assert_eq!(
        c.set_probe_endpoint(&key, ProbeKind::Readiness, false),
        Ok(1)
    );
    // Failures at 10, 20 and 30: the third reaches failureThreshold.
    c.run_until(Millis::from_secs(29));
    assert!(sample(&c, &key).1, "ready until three failures in a row");
    c.run_until(Millis::from_secs(30));
    assert!(!sample(&c, &key).1, "not ready from the third failure");
    assert_eq!(
        c.set_probe_endpoint(&key, ProbeKind::Readiness, true),
        Ok(1)
    );
    c.run_until(Millis::from_secs(40));
    assert!(sample(&c, &key).1, "ready again from the next success");
    assert_eq!(sample(&c, &key).2, 0, "readiness never restarts");
}

#[test]
fn a_redirect_to_the_same_host_is_followed() {
    // agnhost's /redirect?loc=/healthz; /healthz fails from 10 s.
    let b = ImageBehaviour {
        unhealthy_after: Some(Millis::from_secs(10)),
        redirects: [("/redirect?loc=%2Fhealthz".into(), "/healthz".into())].into(),
        ..starts_at_once(0)
    };
    let probe = json!({
        "httpGet": {"path": "/redirect?loc=%2Fhealthz", "port": 8080},
        "initialDelaySeconds": 15,
        "failureThreshold": 1,
    });
    let (c, t) = run(pod(json!({"livenessProbe": probe}), None), b, 20);
    assert_eq!(t.restarts(), vec![15.0]);
    assert_eq!(events(&c, "ProbeWarning"), vec![]);
}

#[test]
fn a_redirect_to_another_host_passes_with_a_warning() {
    let b = ImageBehaviour {
        unhealthy_after: Some(Millis::from_secs(10)),
        redirects: [("/redirect".into(), "http://0.0.0.0/".into())].into(),
        ..starts_at_once(0)
    };
    let probe = json!({
        "httpGet": {"path": "/redirect", "port": 8080},
        "initialDelaySeconds": 15,
        "failureThreshold": 1,
    });
    let (c, t) = run(pod(json!({"livenessProbe": probe}), None), b, 60);
    assert_eq!(t.restart_count(), 0, "the 302 itself passes");
    assert_eq!(events(&c, "Unhealthy"), vec![]);
    // Probes at 15, 25, …, 55, folded into one event.
    assert_eq!(
        events(&c, "ProbeWarning"),
        vec![(
            "Liveness probe warning: Probe terminated redirects, Response body: \
             <a href=\"http://0.0.0.0/\">Found</a>.\n\n"
                .to_string(),
            5
        )]
    );
}

#[test]
fn exec_commands_that_set_their_own_exit_status_ignore_the_application() {
    // A healthy application: only the commands decide.
    let probes = json!({
        "startupProbe": {"exec": {"command": ["/bin/false"]}, "failureThreshold": 2},
        "livenessProbe": {"exec": {"command": ["/bin/true"]}, "failureThreshold": 1},
    });
    let (c, t) = run(pod(probes, None), starts_at_once(0), 15);
    // Startup failures at 0 and 10: killed at 10, restarted at once.
    assert_eq!(t.restarts(), vec![10.0]);
    assert_eq!(
        events(&c, "Killing"),
        vec![(
            "Container app failed startup probe, will be restarted".to_string(),
            1
        )]
    );

    // The shell exits 1 at once; the backgrounded sleep does not make it time out.
    let probe = json!({
        "exec": {"command": ["/bin/sh", "-c", "sleep 10 & exit 1"]},
        "initialDelaySeconds": 1,
        "timeoutSeconds": 1,
        "failureThreshold": 1,
    });
    let (c, t) = run(
        pod(json!({"livenessProbe": probe}), None),
        starts_at_once(1),
        3,
    );
    // Fails at 1, stopped and restarted at 2.
    assert_eq!(t.restarts(), vec![2.0]);
    assert_eq!(
        events(&c, "Unhealthy"),
        vec![("Liveness probe failed: ".to_string(), 2)],
        "the exit status, not a timeout, at 1 and 3"
    );
}

#[test]
fn a_terminating_pod_probes_readiness_but_not_liveness() {
    // The application fails both endpoints from SIGTERM and takes 20 s to stop.
    let mut c = cluster();
    c.images.update("app:v1", |b| {
        *b = ImageBehaviour {
            unready_on_sigterm: true,
            unhealthy_on_sigterm: true,
            ..starts_at_once(20)
        }
    });
    let exec = |file: &str, period: i64| {
        json!({
            "exec": {"command": ["cat", file]},
            "failureThreshold": 1,
            "initialDelaySeconds": 5,
            "periodSeconds": period,
        })
    };
    let probes = json!({
        "readinessProbe": exec("/tmp/ready", 2),
        "livenessProbe": exec("/tmp/liveness", 1),
    });
    let key = c.apply_pod(pod(probes, Some(30))).unwrap();
    c.run_until(Millis::from_secs(10));
    assert!(sample(&c, &key).1, "ready from the probe at 5");
    c.delete::<Pod>(&key, kubespec_engine::Propagation::Background)
        .unwrap();
    // Readiness probes at 11 (5 + 2n): the first after SIGTERM fails.
    c.run_until(Millis(10_999));
    assert!(sample(&c, &key).1);
    c.run_until(Millis::from_secs(11));
    assert!(!sample(&c, &key).1, "not ready from the probe at 11");
    c.run_until(Millis(29_999));
    assert_eq!(sample(&c, &key).2, 0);
    // Liveness, every second until the deletion, never probed after it.
    assert_eq!(
        events(&c, "Unhealthy"),
        vec![("Readiness probe failed: ".to_string(), 10)]
    );
    assert!(
        events(&c, "Killing")
            .iter()
            .all(|(m, _)| m == "Stopping container app"),
        "{:?}",
        events(&c, "Killing")
    );
    c.run_until(Millis::from_secs(30));
    assert!(!c.store.pods.contains_key(&key), "gone once stopped at 30");
}

#[test]
fn a_probe_kill_gives_at_least_two_seconds_of_grace() {
    // The process ignores SIGTERM; the probe asks for 1 s, the kubelet gives 2 s.
    let b = ImageBehaviour {
        unhealthy_after: Some(Millis::ZERO),
        ..starts_at_once(30)
    };
    let probe = http(json!({
        "failureThreshold": 1,
        "initialDelaySeconds": 1,
        "terminationGracePeriodSeconds": 1,
    }));
    let (_, t) = run(pod(json!({"livenessProbe": probe}), Some(60)), b, 4);
    // Killed at 1, SIGKILL at 3.
    assert_eq!(t.restarts(), vec![3.0]);
}

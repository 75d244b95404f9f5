//! Init containers and sidecars on the engine: the order they run in, the STATUS column at each
//! instant, the phase and the kubelet's conditions, failures under each restart policy, and how
//! sidecars are stopped, timed on the virtual clock.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};
use kubespec_engine::images::Exit;
use kubespec_engine::kubectl::pod_status_column;
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

/// A pod `app` with the given init containers and one app container `app` (image `app:v1`).
fn pod(inits: serde_json::Value, restart_policy: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {
            "restartPolicy": restart_policy,
            "initContainers": inits,
            "containers": [{"name": "app", "image": "app:v1"}],
        },
    }))
    .unwrap()
}

/// An image that runs for `secs` seconds (after its 1 s start) and exits with `code`.
fn exits(c: &mut Cluster, image: &str, secs: u64, code: i32) {
    c.images.update(image, |b| {
        b.exit = Some(Exit {
            after: Millis::from_secs(secs),
            code,
        })
    });
}

/// What the pod showed at one instant.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    at: f64,
    status: String,
    phase: String,
    initialized: String,
    ready: String,
}

fn condition<'a>(p: &'a Pod, type_: &str) -> Option<&'a PodCondition> {
    p.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
}

fn seen(c: &Cluster, key: &ObjectKey) -> Seen {
    let p = &c.store.pods[key];
    let status = |t: &str| condition(p, t).map_or(String::new(), |c| c.status.clone());
    Seen {
        at: c.now().0 as f64 / 1000.0,
        status: pod_status_column(p),
        phase: p
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default(),
        initialized: status("Initialized"),
        ready: status("Ready"),
    }
}

/// Runs the pod for `secs` seconds; returns every change of what the pod showed.
fn run(c: &mut Cluster, p: Pod, secs: u64) -> (ObjectKey, Vec<Seen>) {
    let key = c.apply_pod(p).unwrap();
    c.settle();
    let mut out = vec![seen(c, &key)];
    let end = Millis::from_secs(secs);
    while let Some(at) = c.next_timer_at().filter(|at| *at <= end) {
        c.run_until(at);
        if !c.store.pods.contains_key(&key) {
            break;
        }
        let s = seen(c, &key);
        let last = out.last().unwrap();
        if (&s.status, &s.phase, &s.initialized, &s.ready)
            != (&last.status, &last.phase, &last.initialized, &last.ready)
        {
            out.push(s);
        }
    }
    (key, out)
}

fn row(at: f64, status: &str, phase: &str, initialized: &str, ready: &str) -> Seen {
    Seen {
        at,
        status: status.into(),
        phase: phase.into(),
        initialized: initialized.into(),
        ready: ready.into(),
    }
}

fn init_status<'a>(c: &'a Cluster, key: &ObjectKey, name: &str) -> &'a ContainerStatus {
    c.store.pods[key]
        .status
        .as_ref()
        .unwrap()
        .init_container_statuses
        .iter()
        .flatten()
        .find(|s| s.name == name)
        .unwrap()
}

#[test]
fn init_containers_run_one_at_a_time_then_the_app_starts() {
    let mut c = cluster();
    exits(&mut c, "setup:1", 2, 0);
    exits(&mut c, "migrate:1", 3, 0);
    let p = pod(
        json!([
            {"name": "setup", "image": "setup:1"},
            {"name": "migrate", "image": "migrate:1"},
        ]),
        "Always",
    );
    let (key, timeline) = run(&mut c, p, 60);
    // setup: created at 0, running at 1, exits at 3; migrate: running at 4, exits at 7; the
    // app starts at once and runs at 8.
    assert_eq!(
        timeline,
        vec![
            row(0.0, "Init:0/2", "Pending", "False", "False"),
            row(3.0, "Init:1/2", "Pending", "False", "False"),
            row(7.0, "PodInitializing", "Pending", "True", "False"),
            row(8.0, "Running", "Running", "True", "True"),
        ]
    );
    let setup = init_status(&c, &key, "setup");
    let term = setup.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(
        (term.exit_code, term.reason.as_deref()),
        (0, Some("Completed"))
    );
    assert!(setup.ready, "a completed init container is ready");
    assert_eq!(setup.started, Some(false));
    // The Initialized condition changed when the last init container completed.
    let init = condition(&c.store.pods[&key], "Initialized").unwrap();
    assert_eq!(
        init.last_transition_time.as_ref().unwrap().0,
        Millis::from_secs(7).to_time().0
    );
}

#[test]
fn the_initialized_condition_names_the_incomplete_init_containers() {
    let mut c = cluster();
    exits(&mut c, "setup:1", 2, 0);
    let p = pod(
        json!([
            {"name": "setup", "image": "setup:1"},
            {"name": "migrate", "image": "migrate:1"},
        ]),
        "Always",
    );
    let key = c.apply_pod(p).unwrap();
    c.settle();
    let pod = &c.store.pods[&key];
    let init = condition(pod, "Initialized").unwrap();
    assert_eq!(init.reason.as_deref(), Some("ContainersNotInitialized"));
    assert_eq!(
        init.message.as_deref(),
        Some("containers with incomplete status: [setup migrate]")
    );
    let app = &pod
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    let waiting = app.state.as_ref().unwrap().waiting.as_ref().unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("PodInitializing"));
    // migrate never exits: the pod stays initializing, and the app never starts.
    c.run_until(Millis::from_secs(600));
    let pod = &c.store.pods[&key];
    assert_eq!(pod_status_column(pod), "Init:1/2");
    assert_eq!(
        condition(pod, "Initialized").unwrap().message.as_deref(),
        Some("containers with incomplete status: [migrate]")
    );
    assert!(c.container_env(&key, "app").is_none(), "the app never ran");
}

#[test]
fn a_failing_init_container_is_retried_with_back_off() {
    let mut c = cluster();
    exits(&mut c, "setup:1", 2, 1);
    let p = pod(json!([{"name": "setup", "image": "setup:1"}]), "Always");
    let (key, timeline) = run(&mut c, p, 60);
    // Runs 1–3 and fails; restarted at once (no back-off yet): runs 4–6, fails, waits 10 s;
    // runs 17–19, fails, waits 20 s; runs 40–42, fails, waits 40 s.
    let statuses: Vec<(f64, &str)> = timeline.iter().map(|s| (s.at, s.status.as_str())).collect();
    // An immediate restart never shows Init:Error: the kubelet restarts it in the same sync.
    assert_eq!(
        statuses,
        vec![
            (0.0, "Init:0/1"),
            (6.0, "Init:CrashLoopBackOff"),
            (16.0, "Init:0/1"),
            (19.0, "Init:CrashLoopBackOff"),
            (39.0, "Init:0/1"),
            (42.0, "Init:CrashLoopBackOff"),
        ]
    );
    assert!(timeline.iter().all(|s| s.phase == "Pending"));
    assert_eq!(init_status(&c, &key, "setup").restart_count, 3);
}

#[test]
fn under_restart_policy_never_a_failing_init_container_fails_the_pod() {
    let mut c = cluster();
    exits(&mut c, "setup:1", 2, 3);
    let p = pod(json!([{"name": "setup", "image": "setup:1"}]), "Never");
    let (key, timeline) = run(&mut c, p, 60);
    assert_eq!(
        timeline,
        vec![
            row(0.0, "Init:0/1", "Pending", "False", "False"),
            row(3.0, "Init:Error", "Failed", "False", "False"),
        ]
    );
    let pod = &c.store.pods[&key];
    assert_eq!(
        condition(pod, "Ready").unwrap().reason.as_deref(),
        Some("PodFailed")
    );
    assert_eq!(init_status(&c, &key, "setup").restart_count, 0);
}

#[test]
fn a_sidecar_starts_before_the_next_init_container_and_keeps_running() {
    let mut c = cluster();
    exits(&mut c, "setup:1", 2, 0);
    // The proxy takes 5 s to answer; its startup probe holds the next init container.
    c.images
        .update("proxy:1", |b| b.startup = Millis::from_secs(5));
    let p = pod(
        json!([
            {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always",
             "startupProbe": {"tcpSocket": {"port": 15000}, "periodSeconds": 1,
                              "failureThreshold": 10}},
            {"name": "setup", "image": "setup:1"},
        ]),
        "Always",
    );
    let (key, timeline) = run(&mut c, p, 60);
    // proxy runs at 1, its startup probe passes at 6; setup runs 7–9; the app runs at 10.
    assert_eq!(
        timeline,
        vec![
            row(0.0, "Init:0/2", "Pending", "False", "False"),
            row(6.0, "Init:1/2", "Pending", "False", "False"),
            row(9.0, "PodInitializing", "Pending", "True", "False"),
            row(10.0, "Running", "Running", "True", "True"),
        ]
    );
    let proxy = init_status(&c, &key, "proxy");
    assert!(proxy.ready && proxy.started == Some(true));
    assert!(proxy.state.as_ref().unwrap().running.is_some());
}

#[test]
fn an_unready_sidecar_keeps_the_pod_unready() {
    let mut c = cluster();
    c.images.update("proxy:1", |b| b.ready_after = None);
    let p = pod(
        json!([{"name": "proxy", "image": "proxy:1", "restartPolicy": "Always",
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 15000}}}]),
        "Always",
    );
    let key = c.apply_pod(p).unwrap();
    c.run_until(Millis::from_secs(60));
    let pod = &c.store.pods[&key];
    assert_eq!(pod_status_column(pod), "Running");
    let ready = condition(pod, "ContainersReady").unwrap();
    assert_eq!(ready.status, "False");
    assert_eq!(
        ready.message.as_deref(),
        Some("containers with unready status: [proxy]")
    );
}

#[test]
fn a_crashing_sidecar_is_restarted_even_under_restart_policy_never() {
    let mut c = cluster();
    exits(&mut c, "proxy:1", 4, 1);
    let p = pod(
        json!([{"name": "proxy", "image": "proxy:1", "restartPolicy": "Always"}]),
        "Never",
    );
    let key = c.apply_pod(p).unwrap();
    c.run_until(Millis::from_secs(30));
    let proxy = init_status(&c, &key, "proxy");
    // Runs 1–5, restarted at once: 6–10, then back-off 10 s: 21–25.
    assert_eq!(proxy.restart_count, 2);
    let pod = &c.store.pods[&key];
    assert_eq!(
        pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
    assert_eq!(
        condition(pod, "Initialized").unwrap().status,
        "True",
        "the app has run: a restarting sidecar does not un-initialize the pod"
    );
}

#[test]
fn when_the_app_completes_the_sidecars_are_stopped_in_reverse_order() {
    let mut c = cluster();
    exits(&mut c, "app:v1", 5, 0);
    c.images.update("log:1", |b| b.stop = Millis::from_secs(2));
    let p = pod(
        json!([
            {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always"},
            {"name": "log", "image": "log:1", "restartPolicy": "Always"},
        ]),
        "Never",
    );
    let (key, timeline) = run(&mut c, p, 60);
    // proxy runs at 1, log at 2, the app 3–8; then log is stopped (2 s), then proxy (1 s).
    let last = timeline.last().unwrap();
    assert_eq!(last.at, 11.0);
    assert_eq!(last.phase, "Succeeded");
    assert_eq!(last.status, "Completed");
    let before = &timeline[timeline.len() - 2];
    assert_eq!(
        before.phase, "Running",
        "the pod runs until its sidecars stop"
    );
    let stopping: Vec<String> = c
        .events
        .about(kubespec_engine::Kind::Pod, &key)
        .filter(|e| e.reason == "Killing")
        .map(|e| e.message.clone())
        .collect();
    assert_eq!(
        stopping,
        vec!["Stopping container log", "Stopping container proxy"]
    );
    let pod = &c.store.pods[&key];
    for t in ["Ready", "ContainersReady"] {
        assert_eq!(
            condition(pod, t).unwrap().reason.as_deref(),
            Some("PodCompleted")
        );
    }
    let init = condition(pod, "Initialized").unwrap();
    assert_eq!(
        (init.status.as_str(), init.reason.as_deref()),
        ("True", Some("PodCompleted"))
    );
}

#[test]
fn deleting_a_pod_stops_the_app_then_the_sidecars() {
    let mut c = cluster();
    c.images.update("app:v1", |b| b.stop = Millis::from_secs(3));
    c.images
        .update("proxy:1", |b| b.stop = Millis::from_secs(2));
    let p = pod(
        json!([{"name": "proxy", "image": "proxy:1", "restartPolicy": "Always"}]),
        "Always",
    );
    let key = c.apply_pod(p).unwrap();
    c.run_until(Millis::from_secs(10));
    c.delete::<Pod>(&key, kubespec_engine::Propagation::Background)
        .unwrap();
    c.settle();
    c.run_until(Millis::from_secs(14));
    assert!(c.store.pods.contains_key(&key), "still stopping at 14 s");
    c.run_until(Millis::from_secs(15));
    assert!(!c.store.pods.contains_key(&key), "gone after 3 s + 2 s");
}

//! Property tests of the kubelet, the prober and the EndpointSlice controller: random pods
//! (containers with random image behaviours, probes and restart policies) behind one Service,
//! random init containers and sidecars, random probe flips and deletions, with invariants checked at every settled instant:
//!
//! - restartCount never decreases;
//! - each restart comes after the previous exit by a delay of the back-off sequence
//!   (0, 10, 20, 40, 80, 160, 300 s);
//! - a pod is Ready exactly when every app container and every sidecar is ready;
//! - init containers run one at a time, in order: a running init container has every regular
//!   init container before it completed, and no app container runs before every regular init
//!   container has completed;
//! - the Service's ready endpoints are exactly its ready, non-terminating pods.
//!
//! A failure prints the shrunk [`Case`], which replays the run exactly.

mod common;

use k8s_openapi::api::core::v1::Pod;
use kubespec_engine::controllers::endpointslice::slices_of;
use kubespec_engine::images::{Exit, ImageBehaviour};
use kubespec_engine::prober::ProbeKind;
use kubespec_engine::store::GenericObject;
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey, Propagation};
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
struct Image {
    start: u64,
    stop: u64,
    startup: u64,
    ready_after: Option<u64>,
    unhealthy_after: Option<u64>,
    exit: Option<(u64, i32)>,
}

#[derive(Clone, Debug)]
struct ProbeCfg {
    initial_delay: i32,
    period: i32,
    success: i32,
    failure: i32,
}

#[derive(Clone, Debug)]
struct ContainerCfg {
    image: usize,
    startup: Option<ProbeCfg>,
    readiness: Option<ProbeCfg>,
    liveness: Option<ProbeCfg>,
}

#[derive(Clone, Debug)]
struct PodCfg {
    restart_policy: &'static str,
    /// Regular init containers, by image.
    inits: Vec<usize>,
    /// Restartable init containers, after the regular ones.
    sidecars: Vec<ContainerCfg>,
    containers: Vec<ContainerCfg>,
}

#[derive(Clone, Debug)]
enum Action {
    Flip {
        at: u64,
        pod: usize,
        readiness: bool,
        passing: bool,
    },
    Delete {
        at: u64,
        pod: usize,
    },
}

#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    images: Vec<Image>,
    pods: Vec<PodCfg>,
    actions: Vec<Action>,
}

fn image() -> impl Strategy<Value = Image> {
    (
        0u64..3,
        0u64..4,
        prop_oneof![3 => Just(0u64), 1 => 1u64..15],
        prop_oneof![3 => Just(Some(0u64)), 1 => Just(None), 2 => (1u64..20).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (5u64..60).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (1u64..30, prop_oneof![Just(0), Just(1), Just(2)]).prop_map(Some)],
    )
        .prop_map(
            |(start, stop, startup, ready_after, unhealthy_after, exit)| Image {
                start,
                stop,
                startup,
                ready_after,
                unhealthy_after,
                exit,
            },
        )
}

fn probe_cfg(liveness_like: bool) -> impl Strategy<Value = Option<ProbeCfg>> {
    let cfg = (0i32..5, 1i32..6, 1i32..4, 1i32..4).prop_map(move |(d, p, s, f)| ProbeCfg {
        initial_delay: d,
        period: p,
        // successThreshold must be 1 for liveness and startup probes.
        success: if liveness_like { 1 } else { s },
        failure: f,
    });
    prop_oneof![1 => Just(None), 1 => cfg.prop_map(Some)]
}

fn case() -> impl Strategy<Value = Case> {
    let images = prop::collection::vec(image(), 1..4);
    (any::<u64>(), images).prop_flat_map(|(seed, images)| {
        let n = images.len();
        let container = move || {
            (0..n, probe_cfg(true), probe_cfg(false), probe_cfg(true)).prop_map(
                |(image, startup, readiness, liveness)| ContainerCfg {
                    image,
                    startup,
                    readiness,
                    liveness,
                },
            )
        };
        let pod = (
            prop_oneof![Just("Always"), Just("OnFailure"), Just("Never")],
            prop_oneof![2 => Just(vec![]), 1 => prop::collection::vec(0..n, 1..3)],
            prop_oneof![2 => Just(vec![]), 1 => prop::collection::vec(container(), 1..3)],
            prop::collection::vec(container(), 1..3),
        )
            .prop_map(|(restart_policy, inits, sidecars, containers)| PodCfg {
                restart_policy,
                inits,
                sidecars,
                containers,
            });
        let pods = prop::collection::vec(pod, 1..5);
        pods.prop_flat_map(move |pods| {
            let np = pods.len();
            let action = prop_oneof![
                4 => (0u64..200, 0..np, any::<bool>(), any::<bool>()).prop_map(
                    |(at, pod, readiness, passing)| Action::Flip { at, pod, readiness, passing }
                ),
                1 => (0u64..200, 0..np).prop_map(|(at, pod)| Action::Delete { at, pod }),
            ];
            let images = images.clone();
            prop::collection::vec(action, 0..8).prop_map(move |actions| Case {
                seed,
                images: images.clone(),
                pods: pods.clone(),
                actions,
            })
        })
    })
}

fn probe_json(p: &ProbeCfg) -> serde_json::Value {
    json!({
        "httpGet": {"path": "/p", "port": 8080},
        "initialDelaySeconds": p.initial_delay,
        "periodSeconds": p.period,
        "successThreshold": p.success,
        "failureThreshold": p.failure,
    })
}

fn pod_name(i: usize) -> String {
    format!("p{i}")
}

fn build(case: &Case) -> Cluster {
    let mut c = Cluster::new(ClusterConfig {
        seed: case.seed,
        nodes: 2,
        pods_per_node: 110,
        trace: false,
    });
    for (i, im) in case.images.iter().enumerate() {
        c.images.update(&format!("img:{i}"), |b| {
            *b = ImageBehaviour {
                start: Millis::from_secs(im.start),
                stop: Millis::from_secs(im.stop),
                startup: Millis::from_secs(im.startup),
                ready_after: im.ready_after.map(Millis::from_secs),
                unhealthy_after: im.unhealthy_after.map(Millis::from_secs),
                exit: im.exit.map(|(after, code)| Exit {
                    after: Millis::from_secs(after),
                    code,
                }),
                pull_fails: false,
                ..Default::default()
            }
        });
    }
    c.apply_generic(GenericObject {
        api_version: "v1".into(),
        kind: "Service".into(),
        value: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
    });
    for (i, p) in case.pods.iter().enumerate() {
        let container = |name: String, ct: &ContainerCfg| {
            let mut v = json!({"name": name, "image": format!("img:{}", ct.image)});
            if let Some(s) = &ct.startup {
                v["startupProbe"] = probe_json(s);
            }
            if let Some(s) = &ct.readiness {
                v["readinessProbe"] = probe_json(s);
            }
            if let Some(s) = &ct.liveness {
                v["livenessProbe"] = probe_json(s);
            }
            v
        };
        let mut inits: Vec<serde_json::Value> = p
            .inits
            .iter()
            .enumerate()
            .map(|(j, image)| json!({"name": format!("i{j}"), "image": format!("img:{image}")}))
            .collect();
        inits.extend(p.sidecars.iter().enumerate().map(|(j, ct)| {
            let mut v = container(format!("s{j}"), ct);
            v["restartPolicy"] = json!("Always");
            v
        }));
        let containers: Vec<serde_json::Value> = p
            .containers
            .iter()
            .enumerate()
            .map(|(j, ct)| {
                let mut v = json!({"name": format!("c{j}"), "image": format!("img:{}", ct.image)});
                if let Some(s) = &ct.startup {
                    v["startupProbe"] = probe_json(s);
                }
                if let Some(s) = &ct.readiness {
                    v["readinessProbe"] = probe_json(s);
                }
                if let Some(s) = &ct.liveness {
                    v["livenessProbe"] = probe_json(s);
                }
                v
            })
            .collect();
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name(i), "labels": {"app": "web"}},
            "spec": {"restartPolicy": p.restart_policy, "initContainers": inits,
                     "containers": containers},
        }))
        .unwrap();
        c.apply_pod(pod).unwrap();
    }
    c
}

const BACKOFF: [u64; 7] = [0, 10, 20, 40, 80, 160, 300];

/// What the invariants remember between instants: restart counts per (pod uid, container).
#[derive(Default)]
struct Memory {
    restarts: BTreeMap<(String, String), i32>,
}

fn check(c: &Cluster, m: &mut Memory) -> Result<(), String> {
    let now = c.now();
    let mut expected_ready = BTreeSet::new();
    for (key, p) in c.store.pods.iter() {
        let st = p.status.clone().unwrap_or_default();
        let statuses = st.container_statuses.clone().unwrap_or_default();
        let init_statuses = st.init_container_statuses.clone().unwrap_or_default();
        let uid = p.metadata.uid.clone().unwrap_or_default();
        // Init containers run one at a time, in order, and all before the app containers.
        let state_of =
            |cs: &k8s_openapi::api::core::v1::ContainerStatus| cs.state.clone().unwrap_or_default();
        let completed = |cs: &k8s_openapi::api::core::v1::ContainerStatus| {
            state_of(cs).terminated.is_some_and(|t| t.exit_code == 0)
        };
        for (i, cs) in init_statuses.iter().enumerate() {
            if state_of(cs).running.is_some() {
                let earlier = init_statuses[..i]
                    .iter()
                    .filter(|e| e.name.starts_with('i'))
                    .find(|e| !completed(e));
                if let Some(e) = earlier {
                    return Err(format!(
                        "t={now}: {key} init container {} runs before {} completed",
                        cs.name, e.name
                    ));
                }
            }
        }
        let app_ran = statuses.iter().any(|cs| {
            let s = state_of(cs);
            s.running.is_some() || s.terminated.is_some() || cs.restart_count > 0
        });
        if app_ran
            && let Some(e) = init_statuses
                .iter()
                .filter(|e| e.name.starts_with('i'))
                .find(|e| !completed(e))
        {
            return Err(format!(
                "t={now}: {key} an app container ran before init container {} completed",
                e.name
            ));
        }
        for cs in statuses.iter().chain(&init_statuses) {
            let k = (uid.clone(), cs.name.clone());
            let before = m.restarts.get(&k).copied().unwrap_or(0);
            if cs.restart_count < before {
                return Err(format!(
                    "t={now}: {key} container {} restartCount went from {before} to {}",
                    cs.name, cs.restart_count
                ));
            }
            if cs.restart_count > before {
                // Restarted at this instant: the delay since the exit it replaced.
                let last = cs
                    .last_state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .and_then(|t| t.finished_at.as_ref())
                    .map(Millis::from_time)
                    .ok_or_else(|| {
                        format!("t={now}: {key} {} restarted without a last state", cs.name)
                    })?;
                let delay = now.0.saturating_sub(last.0);
                if delay % 1000 != 0 || !BACKOFF.contains(&(delay / 1000)) {
                    return Err(format!(
                        "t={now}: {key} container {} restarted {delay} ms after its exit at {last}",
                        cs.name
                    ));
                }
            }
            m.restarts.insert(k, cs.restart_count);
        }
        let ready = st
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        let sidecars = init_statuses.iter().filter(|c| c.name.starts_with('s'));
        let all = !statuses.is_empty() && statuses.iter().chain(sidecars).all(|c| c.ready);
        if ready != all {
            return Err(format!(
                "t={now}: {key} Ready={ready} but containers ready: {:?}, init containers: {:?}",
                statuses.iter().map(|c| c.ready).collect::<Vec<_>>(),
                init_statuses
                    .iter()
                    .map(|c| (c.name.as_str(), c.ready))
                    .collect::<Vec<_>>()
            ));
        }
        let finished = matches!(st.phase.as_deref(), Some("Succeeded" | "Failed"));
        let never = p.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) == Some("Never");
        let on_failure =
            p.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) == Some("OnFailure");
        let gone = (never && finished) || (on_failure && st.phase.as_deref() == Some("Succeeded"));
        if ready && p.metadata.deletion_timestamp.is_none() && st.pod_ip.is_some() && !gone {
            expected_ready.insert(key.name.to_string());
        }
    }
    let got: BTreeSet<String> = slices_of(c, &ObjectKey::new("default", "svc"))
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
        .filter_map(|e| e.target_ref.as_ref().and_then(|r| r.name.clone()))
        .collect();
    if got != expected_ready {
        return Err(format!(
            "t={now}: ready endpoints {got:?}, ready pods {expected_ready:?}"
        ));
    }
    Ok(())
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let mut c = build(case);
    let mut m = Memory::default();
    let mut actions = case.actions.clone();
    actions.sort_by_key(|a| match a {
        Action::Flip { at, .. } | Action::Delete { at, .. } => *at,
    });
    let mut actions = actions.into_iter().peekable();
    let end = Millis::from_secs(300);
    c.settle();
    check(&c, &mut m).map_err(TestCaseError::fail)?;
    loop {
        let next_action = actions.peek().map(|a| match a {
            Action::Flip { at, .. } | Action::Delete { at, .. } => Millis::from_secs(*at),
        });
        let next = [c.next_timer_at(), next_action]
            .into_iter()
            .flatten()
            .min()
            .filter(|t| *t <= end);
        let Some(at) = next else { break };
        c.run_until(at);
        while let Some(a) = actions.next_if(|a| match a {
            Action::Flip { at: t, .. } | Action::Delete { at: t, .. } => {
                Millis::from_secs(*t) <= c.now()
            }
        }) {
            match a {
                Action::Flip {
                    pod,
                    readiness,
                    passing,
                    ..
                } => {
                    let kind = if readiness {
                        ProbeKind::Readiness
                    } else {
                        ProbeKind::Liveness
                    };
                    // A pod already gone cannot be flipped; that is fine.
                    let _ = c.set_probe_endpoint(
                        &ObjectKey::new("default", pod_name(pod)),
                        kind,
                        passing,
                    );
                }
                Action::Delete { pod, .. } => {
                    let _ = c.delete::<Pod>(
                        &ObjectKey::new("default", pod_name(pod)),
                        Propagation::Background,
                    );
                }
            }
            c.settle();
        }
        check(&c, &mut m).map_err(TestCaseError::fail)?;
    }
    Ok(())
}

fn config() -> ProptestConfig {
    common::proptest_config(0x706f_6473_7072_6f62)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pod_invariants_hold(case in case()) {
        run(&case).map_err(|e| match e {
            TestCaseError::Fail(why) => TestCaseError::fail(format!("cluster seed {}: {why}", case.seed)),
            other => other,
        })?;
    }
}

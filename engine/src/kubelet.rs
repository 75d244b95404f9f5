//! The kubelet model: containers start, run, crash, restart with back-off and stop, as the
//! kubelet reports them in pod status. See [`pod_bound`] for the entry point.
//!
//! The kubelet keeps its own per-pod runtime state (like the real kubelet's pod workers) and
//! renders `pod.status` from it after every transition. Timing comes from the image behaviour
//! model ([`crate::images`]).
//!
//! Mirrors, in simplified form: `pkg/kubelet/kuberuntime/kuberuntime_manager.go`
//! (`computePodActions`, `doBackOff`), `pkg/kubelet/status/generate.go` (pod conditions) and
//! `k8s.io/client-go/util/flowcontrol/backoff.go` (the back-off arithmetic).
//!
//! Probes run per container through [`crate::prober`]: the kubelet schedules each probe, and acts
//! on published results: readiness sets [`Container::ready`], a failed liveness or startup
//! probe kills and restarts the container, a successful startup probe releases the other
//! probes. A container without a readiness probe is ready once started.

use crate::Cluster;
use crate::cluster::{Propagation, Timer};
use crate::events::EventType;
use crate::images::ImageBehaviour;
use crate::prober::{self, Outcome, ProbeKind, ProbeSpec, Worker};
use crate::store::ObjectKey;
use crate::time::Millis;
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rustc_hash::FxHashMap as HashMap;

/// The kubelet's container restart back-off: 10 s doubling to 300 s (`MaxContainerBackOff`).
const BACKOFF_INITIAL: Millis = Millis::from_secs(10);
const BACKOFF_MAX: Millis = Millis::from_secs(300);
/// How soon the kubelet retries creating a container whose configuration could not be
/// resolved: its next sync of the pod (inferred; the pod worker requeues a failed sync).
const CONFIG_RETRY: Millis = Millis::from_secs(10);

#[derive(Debug, Default)]
pub struct Kubelet {
    pods: HashMap<ObjectKey, PodRuntime>,
    next_ip: u32,
    next_container_id: u64,
}

#[derive(Debug)]
struct PodRuntime {
    uid: String,
    ip: String,
    host_ip: String,
    bound_at: Millis,
    restart_policy: String,
    grace: Millis,
    terminating: bool,
    containers: Vec<Container>,
}

#[derive(Debug)]
pub(crate) struct Container {
    name: String,
    image: String,
    behaviour: ImageBehaviour,
    state: State,
    /// Set by the prober; without probes, a running container is ready.
    pub(crate) ready: bool,
    restart_count: i32,
    /// Bumped on every (re)start so stale timers are ignored.
    incarnation: u32,
    container_id: String,
    last_terminated: Option<Terminated>,
    /// `flowcontrol.Backoff` entry: (current delay, lastUpdate).
    backoff: Option<(Millis, Millis)>,
    pull_backoff: Option<(Millis, Millis)>,
    /// Startup, readiness and liveness probes, by [`ProbeKind::index`]; boxed, and absent for
    /// a container without probes, so that probe-less pods stay small.
    probes: Option<Box<[Option<ProbeSpec>; 3]>>,
    /// The probe workers of the current incarnation.
    workers: [Worker; 3],
    /// Bumped when a worker's probe chain is replaced (the immediate readiness probe after
    /// startup), so the old chain's timers are ignored.
    probe_gen: [u32; 3],
    /// `ContainerStatus.started`: the startup probe succeeded (or there is none).
    started: bool,
    /// A spec's override of the readiness and liveness endpoints of the running process.
    flips: [Option<bool>; 3],
    /// Being killed after a failed liveness or startup probe.
    killing: bool,
    /// The environment the current process was started with.
    env: Vec<(String, String)>,
}

impl Container {
    fn spec(&self, k: usize) -> Option<&ProbeSpec> {
        self.probes.as_ref()?[k].as_ref()
    }
}

fn fresh_workers() -> [Worker; 3] {
    ProbeKind::ALL.map(Worker::new)
}

#[derive(Clone, Debug)]
enum State {
    Creating,
    PullError {
        reason: &'static str,
        message: String,
    },
    Running {
        since: Millis,
    },
    Terminated(Terminated),
    CrashLoop {
        message: String,
    },
    /// The container's configuration cannot be resolved (a missing ConfigMap, Secret or key).
    ConfigError {
        message: String,
    },
}

#[derive(Clone, Debug)]
struct Terminated {
    exit_code: i32,
    reason: &'static str,
    started: Millis,
    finished: Millis,
    container_id: String,
}

/// A kubelet transition due at some instant.
#[derive(Clone, Debug)]
pub struct KubeletTimer {
    pod: ObjectKey,
    uid: String,
    container: usize,
    incarnation: u32,
    what: What,
}

#[derive(Clone, Copy, Debug)]
enum What {
    Started,
    Exited,
    /// A probe of this kind is due (the worker's chain generation).
    Probe(ProbeKind, u32),
    /// A container killed after a failed probe has stopped. `restart_now` is decided at the
    /// kill from the newest earlier exit (`doBackOff` sees the status from before the kill);
    /// `earlier_exit` is that exit's finish time, if any.
    ProbeKilled {
        exit_code: i32,
        restart_now: bool,
        earlier_exit: Option<Millis>,
    },
    Restart,
    PullRetry,
    PullBackOff,
    /// Try again to create a container whose configuration could not be resolved.
    ConfigRetry,
    Stopped,
}

/// The kubelet sees a pod bound to its node: create its sandbox and start its containers.
pub(crate) fn pod_bound(c: &mut Cluster, key: &ObjectKey, node: &str) {
    let Some(pod) = c.store.pods.get(key) else {
        return;
    };
    let no_spec = k8s_openapi::api::core::v1::PodSpec::default();
    let spec = pod.spec.as_ref().unwrap_or(&no_spec);
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    c.kubelet.next_ip += 1;
    let n = c.kubelet.next_ip;
    let node_index: u32 = node
        .rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let containers = spec
        .containers
        .iter()
        .map(|ct| {
            let image = ct.image.clone().unwrap_or_default();
            Container {
                name: ct.name.clone(),
                behaviour: c.images.get(&image),
                image,
                state: State::Creating,
                ready: false,
                restart_count: 0,
                incarnation: 0,
                container_id: String::new(),
                last_terminated: None,
                backoff: None,
                pull_backoff: None,
                probes: {
                    let probes = prober::container_probes(ct);
                    probes.iter().any(Option::is_some).then(|| Box::new(probes))
                },
                workers: fresh_workers(),
                probe_gen: [0; 3],
                started: false,
                flips: [None; 3],
                killing: false,
                env: Vec::new(),
            }
        })
        .collect();
    let rt = PodRuntime {
        uid: uid.clone(),
        ip: format!("10.244.{}.{}", n / 250, n % 250 + 2),
        host_ip: format!("172.18.0.{}", node_index + 1),
        bound_at: c.now(),
        restart_policy: spec
            .restart_policy
            .clone()
            .unwrap_or_else(|| "Always".into()),
        grace: Millis::from_secs(spec.termination_grace_period_seconds.unwrap_or(30).max(0) as u64),
        terminating: false,
        containers,
    };
    let count = rt.containers.len();
    c.kubelet.pods.insert(key.clone(), rt);
    for i in 0..count {
        start_container(c, key, i);
    }
    render(c, key);
}

/// Begins (re)starting container `i`: pull the image, then run it after its start time.
fn start_container(c: &mut Cluster, key: &ObjectKey, i: usize) {
    let now = c.now();
    let (uid, image, behaviour, incarnation) = {
        let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
        let ct = &mut rt.containers[i];
        ct.incarnation += 1;
        ct.state = State::Creating;
        ct.started = false;
        ct.killing = false;
        (
            rt.uid.clone(),
            ct.image.clone(),
            ct.behaviour.clone(),
            ct.incarnation,
        )
    };
    let pod_key = key.clone();
    if behaviour.pull_fails {
        c.record_event_for::<Pod>(
            &pod_key,
            EventType::Normal,
            "Pulling",
            format!("Pulling image \"{image}\""),
            "kubelet",
        );
        let msg = format!(
            "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"
        );
        c.record_event_for::<Pod>(
            &pod_key,
            EventType::Warning,
            "Failed",
            msg.clone(),
            "kubelet",
        );
        c.record_event_for::<Pod>(
            &pod_key,
            EventType::Warning,
            "Failed",
            "Error: ErrImagePull".into(),
            "kubelet",
        );
        let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
        let ct = &mut rt.containers[i];
        ct.state = State::PullError {
            reason: "ErrImagePull",
            message: msg,
        };
        // The image back-off: the next pull is attempted once the back-off has passed; in
        // between the kubelet reports ImagePullBackOff (from its next pod sync, 1 s later).
        let delay = next_backoff(&mut ct.pull_backoff, now, now);
        c.schedule(
            now + Millis::from_secs(1),
            Timer::Kubelet(KubeletTimer {
                pod: key.clone(),
                uid: uid.clone(),
                container: i,
                incarnation,
                what: What::PullBackOff,
            }),
        );
        c.schedule(
            now + delay,
            Timer::Kubelet(KubeletTimer {
                pod: key.clone(),
                uid,
                container: i,
                incarnation,
                what: What::PullRetry,
            }),
        );
        return;
    }
    if incarnation == 1 {
        c.record_event_for::<Pod>(
            &pod_key,
            EventType::Normal,
            "Pulled",
            crate::events::concat(&[
                "Container image \"",
                &image,
                "\" already present on machine",
            ]),
            "kubelet",
        );
    }
    // The environment is resolved when the container is created; a missing reference keeps it
    // waiting in CreateContainerConfigError, retried on the kubelet's next pod sync.
    let env = c.store.pods.get(key).and_then(|p| {
        let ct = p.spec.as_ref()?.containers.get(i)?;
        Some(crate::env::container_env(c, p, ct))
    });
    match env {
        Some(Err(crate::env::ConfigError(message))) => {
            c.record_event_for::<Pod>(
                &pod_key,
                EventType::Warning,
                "Failed",
                format!("Error: {message}"),
                "kubelet",
            );
            let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
            rt.containers[i].state = State::ConfigError { message };
            c.schedule(
                now + CONFIG_RETRY,
                Timer::Kubelet(KubeletTimer {
                    pod: key.clone(),
                    uid,
                    container: i,
                    incarnation,
                    what: What::ConfigRetry,
                }),
            );
            return;
        }
        Some(Ok(env)) => {
            let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
            rt.containers[i].env = env;
        }
        None => {}
    }
    c.schedule(
        now + behaviour.start,
        Timer::Kubelet(KubeletTimer {
            pod: key.clone(),
            uid,
            container: i,
            incarnation,
            what: What::Started,
        }),
    );
}

/// `containerd://` and the id as 64 hex digits (what `format!("containerd://{:064x}")` gives,
/// without the formatter's padding machinery).
fn container_id(n: u64) -> String {
    const PREFIX: &str = "containerd://";
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(PREFIX.len() + 64);
    s.push_str(PREFIX);
    s.push_str(&"0".repeat(48));
    for shift in (0..16).rev() {
        s.push(HEX[((n >> (shift * 4)) & 0xf) as usize] as char);
    }
    s
}

/// `flowcontrol.Backoff.Next`: the first call (or one after 2×max of quiet) gives the initial
/// delay; each later call doubles it up to the maximum. Returns the new delay.
fn next_backoff(entry: &mut Option<(Millis, Millis)>, event_time: Millis, now: Millis) -> Millis {
    let delay = match *entry {
        Some((d, last)) if event_time.saturating_sub(last) <= Millis(BACKOFF_MAX.0 * 2) => {
            Millis((d.0 * 2).min(BACKOFF_MAX.0))
        }
        _ => BACKOFF_INITIAL,
    };
    *entry = Some((delay, now));
    delay
}

/// `flowcontrol.Backoff.IsInBackOffSince(id, eventTime)`.
fn in_backoff_since(
    entry: &Option<(Millis, Millis)>,
    event_time: Millis,
    now: Millis,
) -> Option<Millis> {
    let (d, last) = (*entry)?;
    if event_time.saturating_sub(last) > Millis(BACKOFF_MAX.0 * 2) {
        return None;
    }
    (now.saturating_sub(event_time) < d).then_some(d)
}

/// Applies a kubelet timer.
pub(crate) fn fire(c: &mut Cluster, t: KubeletTimer) {
    let now = c.now();
    let Some(rt) = c.kubelet.pods.get(&t.pod) else {
        return;
    };
    if rt.uid != t.uid {
        return;
    }
    if let What::Stopped = t.what {
        c.kubelet.pods.remove(&t.pod);
        c.remove::<Pod>(&t.pod, Propagation::Background);
        return;
    }
    let Some(ct) = rt.containers.get(t.container) else {
        return;
    };
    // A terminating pod's containers are left to stop; only readiness keeps probing.
    let readiness = matches!(t.what, What::Probe(ProbeKind::Readiness, _));
    if ct.incarnation != t.incarnation || (rt.terminating && !readiness) {
        return;
    }
    match t.what {
        What::Started => {
            c.kubelet.next_container_id += 1;
            let id = container_id(c.kubelet.next_container_id);
            let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
            let ct = &mut rt.containers[t.container];
            ct.state = State::Running { since: now };
            ct.container_id = id;
            // Initial results: startup Unknown (not started), readiness Failure (not ready
            // until its first success), liveness Success.
            ct.workers = fresh_workers();
            ct.flips = [None; 3];
            ct.started = ct.spec(ProbeKind::Startup.index()).is_none();
            ct.ready = ct.started && ct.spec(ProbeKind::Readiness.index()).is_none();
            let first_probes: Vec<(ProbeKind, Millis, u32)> = ProbeKind::ALL
                .into_iter()
                .filter_map(|k| {
                    let p = ct.spec(k.index())?;
                    Some((k, now + p.initial_delay, ct.probe_gen[k.index()]))
                })
                .collect();
            let (name, exit) = (ct.name.clone(), ct.behaviour.exit);
            for (kind, at, generation) in first_probes {
                c.schedule(
                    at,
                    Timer::Kubelet(KubeletTimer {
                        what: What::Probe(kind, generation),
                        ..t.clone()
                    }),
                );
            }
            let pod_key = t.pod.clone();
            c.record_event_for::<Pod>(
                &pod_key,
                EventType::Normal,
                "Created",
                crate::events::concat(&["Created container: ", &name]),
                "kubelet",
            );
            c.record_event_for::<Pod>(
                &pod_key,
                EventType::Normal,
                "Started",
                crate::events::concat(&["Started container ", &name]),
                "kubelet",
            );
            if let Some(exit) = exit {
                c.schedule(
                    now + exit.after,
                    Timer::Kubelet(KubeletTimer {
                        what: What::Exited,
                        ..t.clone()
                    }),
                );
            }
        }
        What::Exited => {
            let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
            let ct = &mut rt.containers[t.container];
            let State::Running { since } = ct.state else {
                return;
            };
            let code = ct.behaviour.exit.map(|e| e.code).unwrap_or(0);
            let term = Terminated {
                exit_code: code,
                reason: if code == 0 { "Completed" } else { "Error" },
                started: since,
                finished: now,
                container_id: ct.container_id.clone(),
            };
            after_exit(c, &t, term, None);
        }
        What::Probe(kind, generation) => {
            if !probe(c, &t, kind, generation) {
                return;
            }
        }
        What::ProbeKilled {
            exit_code,
            restart_now,
            earlier_exit,
        } => {
            let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
            let ct = &mut rt.containers[t.container];
            let State::Running { since } = ct.state else {
                return;
            };
            let term = Terminated {
                exit_code,
                reason: "Error",
                started: since,
                finished: now,
                container_id: ct.container_id.clone(),
            };
            after_exit(c, &t, term, restart_now.then_some(earlier_exit));
        }
        What::Restart => {
            let finished = c.kubelet.pods.get(&t.pod).and_then(|rt| {
                let ct = &rt.containers[t.container];
                match &ct.state {
                    State::Terminated(term) => Some(term.finished),
                    _ => ct.last_terminated.as_ref().map(|term| term.finished),
                }
            });
            restart_container(c, &t.pod, t.container, Some(finished.unwrap_or(now)));
        }
        What::PullBackOff => {
            let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
            let ct = &mut rt.containers[t.container];
            let image = ct.image.clone();
            ct.state = State::PullError {
                reason: "ImagePullBackOff",
                message: format!("Back-off pulling image \"{image}\""),
            };
            let pod_key = t.pod.clone();
            c.record_event_for::<Pod>(
                &pod_key,
                EventType::Normal,
                "BackOff",
                format!("Back-off pulling image \"{image}\""),
                "kubelet",
            );
            c.record_event_for::<Pod>(
                &pod_key,
                EventType::Warning,
                "Failed",
                "Error: ImagePullBackOff".into(),
                "kubelet",
            );
        }
        What::PullRetry | What::ConfigRetry => start_container(c, &t.pod, t.container),
        What::Stopped => unreachable!("handled above"),
    }
    render(c, &t.pod);
}

/// Runs one probe of container `t.container` (`worker.doProbe`), acts on a newly published
/// result and schedules the next probe. Returns whether the pod status may have changed.
fn probe(c: &mut Cluster, t: &KubeletTimer, kind: ProbeKind, generation: u32) -> bool {
    let now = c.now();
    let k = kind.index();
    let rt = c.kubelet.pods.get(&t.pod).expect("checked");
    let ip = rt.ip.clone();
    let ct = &rt.containers[t.container];
    let Some(spec) = ct.spec(k).cloned() else {
        return false;
    };
    if ct.probe_gen[k] != generation || ct.workers[k].on_hold || ct.killing {
        return false;
    }
    // A container that is not running: its worker waits for the next incarnation, whose
    // start schedules a fresh chain.
    let State::Running { since } = ct.state else {
        return false;
    };
    let next = Timer::Kubelet(KubeletTimer {
        what: What::Probe(kind, generation),
        ..t.clone()
    });
    match kind {
        // Startup is done: its worker stops.
        ProbeKind::Startup if ct.started => return false,
        // Startup gating: liveness and readiness wait until the container has started.
        ProbeKind::Readiness | ProbeKind::Liveness if !ct.started => {
            c.schedule(now + spec.period, next);
            return false;
        }
        _ => {}
    }
    c.stats.probes += 1;
    let result = prober::check(
        kind,
        &spec,
        &ct.behaviour,
        now.saturating_sub(since),
        ct.flips[k],
        &ip,
    );
    let name = ct.name.clone();
    if let Err(output) = &result {
        c.record_event_for::<Pod>(
            &t.pod,
            EventType::Warning,
            "Unhealthy",
            format!("{} probe failed: {output}", kind.title()),
            "kubelet",
        );
    }
    let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
    let ct = &mut rt.containers[t.container];
    let published = ct.workers[k].observe(result.is_ok(), &spec);
    let mut changed = false;
    match (kind, published) {
        (ProbeKind::Readiness, Some(outcome)) => {
            ct.ready = outcome == Outcome::Success;
            changed = true;
        }
        (ProbeKind::Startup, Some(Outcome::Success)) => {
            ct.workers[k].on_hold = true;
            ct.started = true;
            changed = true;
            let r = ProbeKind::Readiness.index();
            if ct.spec(r).is_some() {
                // The kubelet probes readiness at once after startup succeeds; that probe
                // starts the readiness worker's new chain.
                ct.probe_gen[r] += 1;
                let generation = ct.probe_gen[r];
                c.schedule(
                    now,
                    Timer::Kubelet(KubeletTimer {
                        what: What::Probe(ProbeKind::Readiness, generation),
                        ..t.clone()
                    }),
                );
            } else {
                ct.ready = true;
            }
        }
        (ProbeKind::Liveness | ProbeKind::Startup, Some(Outcome::Failure)) => {
            ct.workers[k].on_hold = true;
            kill_for_probe(c, t, kind, &spec, &name);
            return true;
        }
        _ => {}
    }
    let rt = c.kubelet.pods.get(&t.pod).expect("checked");
    if !rt.containers[t.container].workers[k].on_hold {
        c.schedule(now + spec.period, next);
    }
    changed
}

/// Kills a container whose liveness or startup probe failed; it is restarted once stopped.
///
/// `computePodActions` puts the container in both ContainersToKill and ContainersToStart, and
/// `doBackOff` runs against the status from before the kill, where this container still runs:
/// the back-off looks at the newest earlier exit. With none, the restart is immediate and the
/// back-off entry is left alone; with one still in back-off, the container waits as after a
/// crash (spec §4.4, kubernetes/kubernetes#22240).
fn kill_for_probe(
    c: &mut Cluster,
    t: &KubeletTimer,
    kind: ProbeKind,
    spec: &ProbeSpec,
    name: &str,
) {
    let now = c.now();
    let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
    let grace = spec.termination_grace.unwrap_or(rt.grace);
    let ct = &mut rt.containers[t.container];
    ct.killing = true;
    ct.ready = false;
    let earlier_exit = ct.last_terminated.as_ref().map(|term| term.finished);
    let restart_now = match earlier_exit {
        None => true,
        Some(finished) => in_backoff_since(&ct.backoff, finished, now).is_none(),
    };
    // The process exits on SIGTERM after its stop time, or is killed at the grace period.
    let (stop, exit_code) = if ct.behaviour.stop > grace {
        (grace, 137)
    } else {
        (ct.behaviour.stop, 143)
    };
    let what = match kind {
        ProbeKind::Startup => "startup",
        _ => "liveness",
    };
    c.record_event_for::<Pod>(
        &t.pod,
        EventType::Normal,
        "Killing",
        format!("Container {name} failed {what} probe, will be restarted"),
        "kubelet",
    );
    c.schedule(
        now + stop,
        Timer::Kubelet(KubeletTimer {
            what: What::ProbeKilled {
                exit_code,
                restart_now,
                earlier_exit,
            },
            ..t.clone()
        }),
    );
}

/// Restarts container `i`. `backoff_from` is the exit time `doBackOff` passes to the back-off
/// (`backOff.Next(key, finishedAt)`); `None` leaves the back-off entry alone, as upstream does
/// when the status it looked at had no exited instance.
fn restart_container(c: &mut Cluster, key: &ObjectKey, i: usize, backoff_from: Option<Millis>) {
    let now = c.now();
    let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
    let ct = &mut rt.containers[i];
    if let Some(finished) = backoff_from {
        next_backoff(&mut ct.backoff, finished, now);
    }
    if let State::Terminated(t) = &ct.state {
        ct.last_terminated = Some(t.clone());
    }
    ct.restart_count += 1;
    start_container(c, key, i);
}

/// A container has exited (by itself, or killed after a failed probe): record it, and restart
/// it as the restart policy says, at once or after its back-off (`computePodActions` and
/// `doBackOff`). `immediate` is `Some` for a probe kill decided to restart at once, carrying
/// the earlier exit the back-off is advanced from.
fn after_exit(
    c: &mut Cluster,
    t: &KubeletTimer,
    term: Terminated,
    immediate: Option<Option<Millis>>,
) {
    let now = c.now();
    let (pod_name, ns) = (t.pod.name.clone(), t.pod.namespace.clone());
    let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
    let uid = rt.uid.clone();
    let restart = match rt.restart_policy.as_str() {
        "Never" => false,
        "OnFailure" => term.exit_code != 0,
        _ => true,
    };
    let ct = &mut rt.containers[t.container];
    ct.state = State::Terminated(term);
    ct.ready = false;
    ct.killing = false;
    if !restart {
        return;
    }
    if let Some(earlier_exit) = immediate {
        restart_container(c, &t.pod, t.container, earlier_exit);
        return;
    }
    // Restart at once unless the container is in back-off since this exit.
    let name = ct.name.clone();
    let Some(delay) = in_backoff_since(&ct.backoff, now, now) else {
        restart_container(c, &t.pod, t.container, Some(now));
        return;
    };
    let message = format!(
        "back-off {}s restarting failed container={name} pod={pod_name}_{ns}({uid})",
        delay.whole_secs()
    );
    // The exit becomes the container's last state while it waits.
    if let State::Terminated(term) = std::mem::replace(&mut ct.state, State::CrashLoop { message })
    {
        ct.last_terminated = Some(term);
    }
    c.record_event_for::<Pod>(
        &t.pod,
        EventType::Warning,
        "BackOff",
        format!("Back-off restarting failed container {name} in pod {pod_name}_{ns}({uid})"),
        "kubelet",
    );
    c.schedule(
        now + delay,
        Timer::Kubelet(KubeletTimer {
            what: What::Restart,
            ..t.clone()
        }),
    );
}

/// A graceful pod deletion: the API server sets the deletionTimestamp; the kubelet stops the
/// containers (SIGTERM, then SIGKILL at the grace period) and the pod is removed once they have
/// exited. A pod on no node is removed at once.
pub(crate) fn delete_pod(c: &mut Cluster, key: &ObjectKey) -> crate::api::Result<()> {
    let now = c.now();
    let Some(rt) = c.kubelet.pods.get_mut(key) else {
        c.remove::<Pod>(key, Propagation::Background);
        return Ok(());
    };
    rt.terminating = true;
    let grace = rt.grace;
    let stop = rt
        .containers
        .iter()
        .filter(|ct| matches!(ct.state, State::Running { .. }))
        .map(|ct| ct.behaviour.stop)
        .max()
        .unwrap_or(Millis::ZERO)
        .min(grace);
    let running: Vec<String> = rt
        .containers
        .iter()
        .filter(|ct| matches!(ct.state, State::Running { .. }))
        .map(|ct| ct.name.clone())
        .collect();
    let uid = rt.uid.clone();
    c.modify_in_place::<Pod>(key, |p| {
        p.metadata.deletion_timestamp = Some(now.to_time());
        p.metadata.deletion_grace_period_seconds = Some(grace.whole_secs() as i64);
        true
    })?;
    let pod_key = key.clone();
    for name in running {
        c.record_event_for::<Pod>(
            &pod_key,
            EventType::Normal,
            "Killing",
            crate::events::concat(&["Stopping container ", &name]),
            "kubelet",
        );
    }
    c.schedule(
        now + stop,
        Timer::Kubelet(KubeletTimer {
            pod: key.clone(),
            uid,
            container: 0,
            incarnation: 0,
            what: What::Stopped,
        }),
    );
    Ok(())
}

impl Cluster {
    /// The environment container `container` of a pod was last started with (what `env` run
    /// inside it would print), or `None` when it has not been created.
    pub fn container_env(&self, pod: &ObjectKey, container: &str) -> Option<&[(String, String)]> {
        let ct = self
            .kubelet
            .pods
            .get(pod)?
            .containers
            .iter()
            .find(|ct| ct.name == container)?;
        (!ct.container_id.is_empty()).then_some(ct.env.as_slice())
    }

    /// Makes the readiness or liveness endpoint of every running container of a pod pass or
    /// fail from now on, as a user does with `curl /readiness/status` on a real application.
    /// The probes notice at their next run; a restarted container starts with the image's
    /// behaviour again. Returns how many containers have a probe of that kind.
    pub fn set_probe_endpoint(
        &mut self,
        pod: &ObjectKey,
        kind: ProbeKind,
        passing: bool,
    ) -> Result<usize, crate::ApiError> {
        let Some(rt) = self.kubelet.pods.get_mut(pod) else {
            return Err(crate::ApiError::not_found(crate::Kind::Pod, &pod.name));
        };
        let mut probed = 0;
        for ct in rt.containers.iter_mut() {
            if matches!(ct.state, State::Running { .. }) {
                ct.flips[kind.index()] = Some(passing);
            }
            if ct.spec(kind.index()).is_some() {
                probed += 1;
            }
        }
        Ok(probed)
    }
}

/// Writes `pod.status` from the runtime state (`generateAPIPodStatus`).
///
/// Field by field and where the pod lies: a field is written only when it differs, so that
/// nothing is copied or rebuilt to find out whether anything changed.
fn render(c: &mut Cluster, key: &ObjectKey) {
    let now = c.now();
    let Some(rt) = c.kubelet.pods.get(key) else {
        return;
    };
    let Some(pod) = c.store.pods.get_mut(key) else {
        return;
    };
    if render_status(pod, rt, now) {
        c.written_in_place::<Pod>(key);
    }
}

/// What one of the kubelet's own pod conditions should say.
struct WantCondition<'a> {
    type_: &'static str,
    ok: bool,
    reason: Option<&'static str>,
    message: Option<&'a str>,
    last_transition_time: Time,
}

impl WantCondition<'_> {
    fn status(&self) -> &'static str {
        if self.ok { "True" } else { "False" }
    }

    fn to_condition(&self) -> PodCondition {
        PodCondition {
            type_: self.type_.to_string(),
            status: self.status().to_string(),
            reason: self.reason.map(str::to_string),
            message: self.message.map(str::to_string),
            last_transition_time: Some(self.last_transition_time.clone()),
            ..Default::default()
        }
    }

    /// Makes `c` (already of this type) say this; notes whether that changed it.
    fn write_into(&self, c: &mut PodCondition, changed: &mut bool) {
        let PodCondition {
            last_probe_time,
            last_transition_time,
            message,
            observed_generation,
            reason,
            status,
            type_: _,
        } = c;
        if status != self.status() {
            *status = self.status().to_string();
            *changed = true;
        }
        set_str(reason, self.reason, changed);
        set_str(message, self.message, changed);
        if last_transition_time.as_ref() != Some(&self.last_transition_time) {
            *last_transition_time = Some(self.last_transition_time.clone());
            *changed = true;
        }
        set(last_probe_time, None, changed);
        set(observed_generation, None, changed);
    }
}

/// Brings `p.status` up to date with the runtime state; returns whether anything changed.
/// Debug builds check the result against a full render of the status.
fn render_status(p: &mut Pod, rt: &PodRuntime, now: Millis) -> bool {
    #[cfg(debug_assertions)]
    let expected = full_render(p.status.clone(), rt, now);
    let changed = write_status(p, rt, now);
    #[cfg(debug_assertions)]
    {
        debug_assert_eq!(
            (p.status.as_ref(), changed),
            (Some(&expected.0), expected.1),
            "the in-place status differs from a full render"
        );
    }
    changed
}

/// The status rendered from scratch, the way [`write_status`] must leave it, and whether it
/// differs from `old`: every list rebuilt, then compared.
#[cfg(debug_assertions)]
fn full_render(old: Option<PodStatus>, rt: &PodRuntime, now: Millis) -> (PodStatus, bool) {
    let mut st = old.unwrap_or_default();
    let all_ready = rt.containers.iter().all(|ct| ct.ready);
    let old_conds = st.conditions.clone().unwrap_or_default();
    let cond =
        |type_: &str, ok: bool, reason: Option<&str>, message: Option<String>, since: Millis| {
            let status = if ok { "True" } else { "False" };
            let ltt = old_conds
                .iter()
                .find(|c| c.type_ == type_ && c.status == status)
                .and_then(|c| c.last_transition_time.clone())
                .unwrap_or_else(|| since.to_time());
            PodCondition {
                type_: type_.to_string(),
                status: status.to_string(),
                reason: reason.map(str::to_string),
                message,
                last_transition_time: Some(ltt),
                ..Default::default()
            }
        };
    let unready: Vec<&str> = rt
        .containers
        .iter()
        .filter(|ct| !ct.ready)
        .map(|ct| ct.name.as_str())
        .collect();
    let not_ready_msg =
        (!all_ready).then(|| format!("containers with unready status: [{}]", unready.join(" ")));
    let reason = (!all_ready).then_some("ContainersNotReady");
    let mut conditions = vec![
        cond("PodReadyToStartContainers", true, None, None, rt.bound_at),
        cond("Initialized", true, None, None, rt.bound_at),
        cond("Ready", all_ready, reason, not_ready_msg.clone(), now),
        cond("ContainersReady", all_ready, reason, not_ready_msg, now),
    ];
    conditions.extend(
        old_conds
            .iter()
            .find(|c| c.type_ == "PodScheduled")
            .cloned(),
    );
    let mut changed = false;
    let phase = {
        // The phase is the one part rendered the same way on both paths.
        let mut p = Pod {
            status: Some(PodStatus::default()),
            ..Default::default()
        };
        write_status(&mut p, rt, now);
        p.status.and_then(|s| s.phase)
    };
    set(&mut st.phase, phase, &mut changed);
    set(&mut st.conditions, Some(conditions), &mut changed);
    set(
        &mut st.host_ips,
        Some(vec![HostIP {
            ip: rt.host_ip.clone(),
        }]),
        &mut changed,
    );
    set(&mut st.host_ip, Some(rt.host_ip.clone()), &mut changed);
    set(
        &mut st.pod_ips,
        Some(vec![PodIP { ip: rt.ip.clone() }]),
        &mut changed,
    );
    set(&mut st.pod_ip, Some(rt.ip.clone()), &mut changed);
    set(
        &mut st.start_time,
        Some(rt.bound_at.to_time()),
        &mut changed,
    );
    set(&mut st.qos_class, Some("BestEffort".into()), &mut changed);
    let statuses = rt.containers.iter().map(container_status).collect();
    set(&mut st.container_statuses, Some(statuses), &mut changed);
    (st, changed)
}

/// [`render_status`] without the debug check.
fn write_status(p: &mut Pod, rt: &PodRuntime, now: Millis) -> bool {
    let all_ready = rt.containers.iter().all(|ct| ct.ready);
    let any_started = rt.containers.iter().any(|ct| {
        ct.restart_count > 0
            || matches!(
                ct.state,
                State::Running { .. } | State::Terminated(_) | State::CrashLoop { .. }
            )
    });
    let all_terminated = rt
        .containers
        .iter()
        .all(|ct| matches!(ct.state, State::Terminated(_)));
    let phase = if all_terminated && rt.restart_policy != "Always" {
        let ok = rt
            .containers
            .iter()
            .all(|ct| matches!(&ct.state, State::Terminated(t) if t.exit_code == 0));
        if ok || rt.restart_policy == "Never" {
            if ok { "Succeeded" } else { "Failed" }
        } else {
            "Running"
        }
    } else if any_started {
        "Running"
    } else {
        "Pending"
    };
    let bound_at = rt.bound_at;
    let not_ready_msg = (!all_ready).then(|| {
        let mut m = String::from("containers with unready status: [");
        for (i, ct) in rt.containers.iter().filter(|ct| !ct.ready).enumerate() {
            if i > 0 {
                m.push(' ');
            }
            m.push_str(&ct.name);
        }
        m.push(']');
        m
    });
    let st = p.status.get_or_insert_with(PodStatus::default);
    let mut changed = false;

    // Conditions: a condition keeps its lastTransitionTime while its status stays; the
    // scheduler's PodScheduled condition is kept, last.
    let old_conds = st.conditions.as_deref().unwrap_or_default();
    let want = |type_: &'static str, ok: bool, reason, message, since: Millis| {
        let status = if ok { "True" } else { "False" };
        let last_transition_time = old_conds
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .and_then(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| since.to_time());
        WantCondition {
            type_,
            ok,
            reason,
            message,
            last_transition_time,
        }
    };
    let reason = (!all_ready).then_some("ContainersNotReady");
    let message = not_ready_msg.as_deref();
    let wanted = [
        want("PodReadyToStartContainers", true, None, None, bound_at),
        want("Initialized", true, None, None, bound_at),
        want("Ready", all_ready, reason, message, now),
        want("ContainersReady", all_ready, reason, message, now),
    ];
    let scheduled = old_conds.iter().position(|c| c.type_ == "PodScheduled");
    let same_shape = old_conds.len() == wanted.len() + usize::from(scheduled.is_some())
        && old_conds
            .iter()
            .zip(&wanted)
            .all(|(c, w)| c.type_ == w.type_);
    if same_shape {
        // The same conditions in the same order (PodScheduled, if any, is the fifth):
        // rewrite them where they are.
        for (c, w) in st.conditions.iter_mut().flatten().zip(&wanted) {
            w.write_into(c, &mut changed);
        }
    } else {
        let scheduled = scheduled.map(|i| old_conds[i].clone());
        let mut conditions = Vec::with_capacity(wanted.len() + 1);
        conditions.extend(wanted.iter().map(WantCondition::to_condition));
        conditions.extend(scheduled);
        set(&mut st.conditions, Some(conditions), &mut changed);
    }

    set_str(&mut st.phase, Some(phase), &mut changed);
    match st.host_ips.as_deref() {
        Some([HostIP { ip }]) if *ip == rt.host_ip => {}
        _ => {
            st.host_ips = Some(vec![HostIP {
                ip: rt.host_ip.clone(),
            }]);
            changed = true;
        }
    }
    set_str(&mut st.host_ip, Some(&rt.host_ip), &mut changed);
    match st.pod_ips.as_deref() {
        Some([PodIP { ip }]) if *ip == rt.ip => {}
        _ => {
            st.pod_ips = Some(vec![PodIP { ip: rt.ip.clone() }]);
            changed = true;
        }
    }
    set_str(&mut st.pod_ip, Some(&rt.ip), &mut changed);
    set(&mut st.start_time, Some(bound_at.to_time()), &mut changed);
    set_str(&mut st.qos_class, Some("BestEffort"), &mut changed);
    match st.container_statuses.as_mut() {
        Some(statuses) if statuses.len() == rt.containers.len() => {
            for (cs, ct) in statuses.iter_mut().zip(&rt.containers) {
                write_container_status(cs, ct, &mut changed);
            }
        }
        _ => set(
            &mut st.container_statuses,
            Some(rt.containers.iter().map(container_status).collect()),
            &mut changed,
        ),
    }
    changed
}

/// Writes `value` into `field` when it differs, and notes the change.
fn set<T: PartialEq>(field: &mut T, value: T, changed: &mut bool) {
    if *field != value {
        *field = value;
        *changed = true;
    }
}

/// [`set`] for an optional string, allocating only when it differs.
fn set_str(field: &mut Option<String>, value: Option<&str>, changed: &mut bool) {
    if field.as_deref() != value {
        *field = value.map(str::to_string);
        *changed = true;
    }
}

fn terminated_state(t: &Terminated) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: t.exit_code,
            reason: Some(t.reason.to_string()),
            started_at: Some(t.started.to_time()),
            finished_at: Some(t.finished.to_time()),
            container_id: Some(t.container_id.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn container_state(ct: &Container) -> ContainerState {
    let waiting = |reason: &str, message: Option<String>| ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..Default::default()
    };
    match &ct.state {
        State::Creating => waiting("ContainerCreating", None),
        State::PullError { reason, message } => waiting(reason, Some(message.clone())),
        State::CrashLoop { message } => waiting("CrashLoopBackOff", Some(message.clone())),
        State::ConfigError { message } => {
            waiting("CreateContainerConfigError", Some(message.clone()))
        }
        State::Running { since } => ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(since.to_time()),
            }),
            ..Default::default()
        },
        State::Terminated(t) => terminated_state(t),
    }
}

fn container_status(ct: &Container) -> ContainerStatus {
    let running = matches!(ct.state, State::Running { .. });
    ContainerStatus {
        name: ct.name.clone(),
        image: ct.image.clone(),
        image_id: String::new(),
        container_id: (!ct.container_id.is_empty()).then(|| ct.container_id.clone()),
        ready: ct.ready,
        started: Some(running && ct.started),
        restart_count: ct.restart_count,
        state: Some(container_state(ct)),
        last_state: ct.last_terminated.as_ref().map(terminated_state),
        ..Default::default()
    }
}

/// Makes `cs` what [`container_status`] gives for `ct`, field by field; notes any change.
fn write_container_status(cs: &mut ContainerStatus, ct: &Container, changed: &mut bool) {
    let ContainerStatus {
        allocated_resources,
        allocated_resources_status,
        container_id,
        image,
        image_id,
        last_state,
        name,
        ready,
        resources,
        restart_count,
        started,
        state,
        stop_signal,
        user,
        volume_mounts,
    } = cs;
    if *name != ct.name {
        name.clone_from(&ct.name);
        *changed = true;
    }
    if *image != ct.image {
        image.clone_from(&ct.image);
        *changed = true;
    }
    if !image_id.is_empty() {
        image_id.clear();
        *changed = true;
    }
    let id = (!ct.container_id.is_empty()).then_some(ct.container_id.as_str());
    set_str(container_id, id, changed);
    set(ready, ct.ready, changed);
    let running = matches!(ct.state, State::Running { .. });
    set(started, Some(running && ct.started), changed);
    set(restart_count, ct.restart_count, changed);
    set(state, Some(container_state(ct)), changed);
    set(
        last_state,
        ct.last_terminated.as_ref().map(terminated_state),
        changed,
    );
    set(allocated_resources, None, changed);
    set(allocated_resources_status, None, changed);
    set(resources, None, changed);
    set(stop_signal, None, changed);
    set(user, None, changed);
    set(volume_mounts, None, changed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_are_64_hex_digits() {
        for n in [0, 1, 255, 0xdead_beef, u64::MAX] {
            assert_eq!(container_id(n), format!("containerd://{n:064x}"));
        }
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_resets_after_quiet() {
        let mut e = None;
        let mut delays = vec![];
        for i in 0..8 {
            delays.push(
                next_backoff(&mut e, Millis::from_secs(i), Millis::from_secs(i)).whole_secs(),
            );
        }
        assert_eq!(delays, vec![10, 20, 40, 80, 160, 300, 300, 300]);
        // More than 2 × 300 s since the last update: back to the initial delay.
        assert_eq!(
            next_backoff(&mut e, Millis::from_secs(7 + 601), Millis::from_secs(608)).whole_secs(),
            10
        );
    }
}

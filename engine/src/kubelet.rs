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
use crate::cluster::Timer;
use crate::events::{EventType, ObjectId};
use crate::images::ImageBehaviour;
use crate::prober::{self, Outcome, ProbeKind, ProbeSpec, Worker};
use crate::store::{
    Compact, CompactContainer, CompactState, KeyStr, KubeletStatus, ObjectKey, Terminated, host_ip,
    name_list, pod_ip, ready_condition,
};
use crate::time::Millis;
use k8s_openapi::api::core::v1::{
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rustc_hash::FxHashMap as HashMap;

/// The kubelet's container restart back-off: 10 s doubling to 300 s (`MaxContainerBackOff`).
const BACKOFF_INITIAL: Millis = Millis::from_secs(10);
const BACKOFF_MAX: Millis = Millis::from_secs(300);
/// The shortest grace period the kubelet kills a container with (`minimumGracePeriodInSeconds`
/// in `kuberuntime_container.go`), whatever the spec says.
const MIN_KILL_GRACE: Millis = Millis::from_secs(2);
/// How soon the kubelet retries creating a container whose configuration could not be
/// resolved: its next sync of the pod (inferred; the pod worker requeues a failed sync).
const CONFIG_RETRY: Millis = Millis::from_secs(10);
/// The volume manager's retry of a failed mount: exponential back-off from 500 ms, capped at
/// 2 min 2 s (`nestedpendingoperations`).
const MOUNT_RETRY_INITIAL: Millis = Millis(500);
const MOUNT_RETRY_MAX: Millis = Millis::from_secs(122);
/// How often the kubelet refreshes the content of mounted ConfigMap and Secret volumes (its
/// periodic pod resync; inferred: upstream gives "the sync period plus the cache delay").
const VOLUME_RESYNC: Millis = Millis::from_secs(60);

#[derive(Clone, Debug, Default)]
pub struct Kubelet {
    /// Boxed: the map stays small (a key and a pointer per pod), so growing it past the
    /// peak pod count of a large rollout rehashes and allocates little.
    pods: HashMap<ObjectKey, Box<PodRuntime>>,
    next_ip: u32,
    next_container_id: u64,
    /// The serial number of the last pod runtime made.
    next_runtime: u64,
}

#[derive(Clone, Debug)]
struct PodRuntime {
    uid: String,
    /// This runtime's serial number, which its timers carry.
    serial: u64,
    /// The pod's address number ([`pod_ip`]) and its node's index ([`host_ip`]).
    ip: u32,
    node: u32,
    bound_at: Millis,
    restart_policy: KeyStr,
    grace: Millis,
    terminating: bool,
    /// The init containers, in spec order, then the app containers: a timer's container index
    /// points into this list.
    containers: Vec<Container>,
    /// How many of `containers` are init containers.
    n_init: usize,
    /// The first init container that has not yet completed (or, for a sidecar, started): the
    /// kubelet starts init containers one at a time, in order.
    next_init: usize,
    /// Initialization is over and the app containers have been started.
    apps_started: bool,
    /// The pod failed for good (an init container failed under restartPolicy Never): nothing
    /// is started or restarted any more.
    failed: bool,
    /// The sidecars are being stopped because the app containers have all ended for good:
    /// they are not restarted.
    stopping_sidecars: bool,
    /// The files of the ConfigMap and Secret volumes; `None` until every volume is mounted.
    volumes: Option<crate::volumes::Payloads>,
    /// The delay before the next mount attempt, after a failed one.
    mount_retry: Millis,
    /// The pod in the event log, once the kubelet has reported an event about it.
    events: Option<ObjectId>,
}

/// What a container is to its pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// An init container: runs to completion before the next one starts.
    Init,
    /// A restartable init container (`restartPolicy: Always`): once started, the next init
    /// container starts, and it keeps running beside the app containers.
    Sidecar,
    /// An app container (`spec.containers`).
    App,
}

#[derive(Clone, Debug)]
pub(crate) struct Container {
    /// The name and image, inline when short ([`KeyStr`]): no allocation per container.
    name: KeyStr,
    role: Role,
    image: KeyStr,
    behaviour: std::sync::Arc<ImageBehaviour>,
    state: State,
    /// Set by the prober; without probes, a running container is ready.
    pub(crate) ready: bool,
    restart_count: i32,
    /// Bumped on every (re)start so stale timers are ignored.
    incarnation: u32,
    /// The number of the current container's id ([`crate::store::container_id`]), once created.
    container_id: Option<u64>,
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
    /// The environment the current process was started with: the declared variables, and
    /// the Service variables of that moment.
    env: Vec<(String, String)>,
    service_env: crate::env::ServiceEnv,
    /// The files of its `subPath` mounts, copied when the current process started.
    subpath_files: Vec<(String, String)>,
    /// The command line of the current process.
    command: Vec<String>,
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
    /// Not started yet: waiting for the init containers before it (`PodInitializing`).
    Pending,
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

/// A kubelet transition due at some instant.
#[derive(Clone, Debug)]
pub struct KubeletTimer {
    pod: ObjectKey,
    /// The runtime the timer was set for: a pod made again under the same name has another.
    runtime: u64,
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
    /// Try again to mount the pod's volumes.
    MountRetry,
    /// Refresh the content of the pod's mounted ConfigMap and Secret volumes.
    VolumeResync,
    Stopped,
}

/// The kubelet sees a pod bound to its node: create its sandbox and start its containers.
pub(crate) fn pod_bound(c: &mut Cluster, key: &ObjectKey, node: &str) {
    let Some(pod) = c.store.pods.record(key).map(crate::store::PodRecord::parts) else {
        return;
    };
    let no_spec = k8s_openapi::api::core::v1::PodSpec::default();
    // (`spec.nodeName` may be missing from it: `node` says where the pod is.)
    let spec = pod.spec.unwrap_or(&no_spec);
    let uid = pod.uid.unwrap_or_default().to_owned();
    c.kubelet.next_ip += 1;
    let n = c.kubelet.next_ip;
    let node_index: u32 = node
        .rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let n_init = inits.len();
    let roles = inits
        .iter()
        .map(|ct| {
            if ct.restart_policy.as_deref() == Some("Always") {
                Role::Sidecar
            } else {
                Role::Init
            }
        })
        .chain(std::iter::repeat(Role::App));
    let containers = inits
        .iter()
        .chain(spec.containers.iter())
        .zip(roles)
        .map(|(ct, role)| {
            let image = KeyStr::from(ct.image.as_deref().unwrap_or_default());
            Container {
                name: KeyStr::from(ct.name.as_str()),
                role,
                behaviour: c.images.get(&image),
                image,
                state: if n_init > 0 {
                    State::Pending
                } else {
                    State::Creating
                },
                ready: false,
                restart_count: 0,
                incarnation: 0,
                container_id: None,
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
                service_env: Default::default(),
                subpath_files: Vec::new(),
                command: Vec::new(),
            }
        })
        .collect();
    c.kubelet.next_runtime += 1;
    let rt = PodRuntime {
        uid: uid.clone(),
        serial: c.kubelet.next_runtime,
        ip: n,
        node: node_index,
        bound_at: c.now(),
        restart_policy: KeyStr::from(spec.restart_policy.as_deref().unwrap_or("Always")),
        grace: Millis::from_secs(spec.termination_grace_period_seconds.unwrap_or(30).max(0) as u64),
        terminating: false,
        containers,
        n_init,
        next_init: 0,
        apps_started: false,
        failed: false,
        stopping_sidecars: false,
        volumes: None,
        mount_retry: MOUNT_RETRY_INITIAL,
        events: None,
    };
    let has_volumes = crate::volumes::has_data_volumes(pod.spec);
    c.kubelet.pods.insert(key.clone(), Box::new(rt));
    if has_volumes {
        mount_volumes(c, key);
    } else if let Some(rt) = c.kubelet.pods.get_mut(key) {
        rt.volumes = Some(Default::default());
    }
    advance(c, key);
    render(c, key);
}

/// Sets up the pod's ConfigMap and Secret volumes (`WaitForAttachAndMount`). On failure the
/// kubelet reports `FailedMount` and retries with back-off; no container starts meanwhile.
/// Once mounted, the content is refreshed at every resync.
fn mount_volumes(c: &mut Cluster, key: &ObjectKey) {
    let now = c.now();
    let Some(result) = c.store.pods.get(key).map(|p| crate::volumes::mount(c, p)) else {
        return;
    };
    let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
    let runtime = rt.serial;
    let timer = |what| {
        Timer::Kubelet(KubeletTimer {
            pod: key.clone(),
            runtime,
            container: 0,
            incarnation: 0,
            what,
        })
    };
    match result {
        Ok(payloads) => {
            rt.volumes = Some(payloads);
            c.schedule(now + VOLUME_RESYNC, timer(What::VolumeResync));
        }
        Err(message) => {
            let delay = rt.mount_retry;
            rt.mount_retry = Millis((delay.0 * 2).min(MOUNT_RETRY_MAX.0));
            pod_event(c, key, EventType::Warning, "FailedMount", message);
            c.schedule(now + delay, timer(What::MountRetry));
        }
    }
}

/// Moves initialization on (`computeInitContainerActions`): starts the first init container
/// that has not run yet once those before it are done (a regular one exited 0, a sidecar
/// started), and the app containers, all at once, when every init container is done.
fn advance(c: &mut Cluster, key: &ObjectKey) {
    loop {
        let Some(rt) = c.kubelet.pods.get_mut(key) else {
            return;
        };
        if rt.apps_started || rt.failed || rt.terminating || rt.volumes.is_none() {
            return;
        }
        let k = rt.next_init;
        if k == rt.n_init {
            rt.apps_started = true;
            for i in rt.n_init..rt.containers.len() {
                start_container(c, key, i);
            }
            return;
        }
        let ct = &rt.containers[k];
        if ct.incarnation == 0 {
            start_container(c, key, k);
            return;
        }
        let done = match ct.role {
            Role::Sidecar => ct.started && matches!(ct.state, State::Running { .. }),
            _ => matches!(&ct.state, State::Terminated(t) if t.exit_code == 0),
        };
        if !done {
            return;
        }
        rt.next_init += 1;
    }
}

/// Begins (re)starting container `i`: pull the image, then run it after its start time.
fn start_container(c: &mut Cluster, key: &ObjectKey, i: usize) {
    let now = c.now();
    let (runtime, image, behaviour, incarnation) = {
        let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
        let ct = &mut rt.containers[i];
        ct.incarnation += 1;
        ct.state = State::Creating;
        ct.started = false;
        ct.killing = false;
        (
            rt.serial,
            ct.image.clone(),
            ct.behaviour.clone(),
            ct.incarnation,
        )
    };
    let pod_key = key.clone();
    if behaviour.pull_fails {
        pod_event(
            c,
            &pod_key,
            EventType::Normal,
            "Pulling",
            format!("Pulling image \"{image}\""),
        );
        let msg = format!(
            "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"
        );
        pod_event(c, &pod_key, EventType::Warning, "Failed", msg.clone());
        pod_event(
            c,
            &pod_key,
            EventType::Warning,
            "Failed",
            "Error: ErrImagePull".into(),
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
                runtime,
                container: i,
                incarnation,
                what: What::PullBackOff,
            }),
        );
        c.schedule(
            now + delay,
            Timer::Kubelet(KubeletTimer {
                pod: key.clone(),
                runtime,
                container: i,
                incarnation,
                what: What::PullRetry,
            }),
        );
        return;
    }
    if incarnation == 1 {
        pod_event(
            c,
            &pod_key,
            EventType::Normal,
            "Pulled",
            crate::events::concat(&[
                "Container image \"",
                &image,
                "\" already present on machine",
            ]),
        );
    }
    // The environment is resolved when the container is created; a missing reference keeps it
    // waiting in CreateContainerConfigError, retried on the kubelet's next pod sync.
    let n_init = c.kubelet.pods.get(key).map_or(0, |rt| rt.n_init);
    let links = c
        .store
        .pods
        .record(key)
        .is_none_or(|p| crate::env::service_links(p.parts().spec));
    let services = c.service_env(&key.namespace, links);
    let env = c.store.pods.record(key).and_then(|p| {
        let ct = spec_container(p.parts().spec, i, n_init)?;
        Some(crate::env::container_env(c, p, ct, &services))
    });
    match env {
        Some(Err(crate::env::ConfigError(message))) => {
            pod_event(
                c,
                &pod_key,
                EventType::Warning,
                "Failed",
                format!("Error: {message}"),
            );
            let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
            rt.containers[i].state = State::ConfigError { message };
            c.schedule(
                now + CONFIG_RETRY,
                Timer::Kubelet(KubeletTimer {
                    pod: key.clone(),
                    runtime,
                    container: i,
                    incarnation,
                    what: What::ConfigRetry,
                }),
            );
            return;
        }
        Some(Ok(env)) => {
            let (subpath, command) = c
                .store
                .pods
                .record(key)
                .and_then(|p| {
                    let rt = c.kubelet.pods.get(key)?;
                    let ct = spec_container(p.parts().spec, i, rt.n_init)?;
                    let subpath = rt
                        .volumes
                        .as_ref()
                        .map(|v| crate::volumes::subpath_files(ct, v))
                        .unwrap_or_default();
                    Some((subpath, command_line(ct, &behaviour, &env, &services)))
                })
                .unwrap_or_default();
            let rt = c.kubelet.pods.get_mut(key).expect("pod runtime exists");
            let ct = &mut rt.containers[i];
            ct.env = env;
            ct.service_env = services;
            ct.subpath_files = subpath;
            ct.command = command;
        }
        None => {}
    }
    c.schedule(
        now + behaviour.start,
        Timer::Kubelet(KubeletTimer {
            pod: key.clone(),
            runtime,
            container: i,
            incarnation,
            what: What::Started,
        }),
    );
}

/// The command line the runtime starts: `command` replaces the image's ENTRYPOINT and drops
/// its CMD; `args` replaces the CMD; `$(VAR)` references are expanded against the container's
/// environment (`kubecontainer.ExpandContainerCommandAndArgs`).
fn command_line(
    ct: &k8s_openapi::api::core::v1::Container,
    image: &ImageBehaviour,
    env: &[(String, String)],
    services: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let (command, args) = (ct.command.as_deref(), ct.args.as_deref());
    let (entry, rest): (&[String], &[String]) = match (command, args) {
        (Some(c), Some(a)) => (c, a),
        (Some(c), None) => (c, &[]),
        (None, Some(a)) => (&image.entrypoint, a),
        (None, None) => (&image.entrypoint, &image.cmd),
    };
    if command.is_none() && args.is_none() {
        // The image's own command line is not expanded.
        return entry.iter().chain(rest).cloned().collect();
    }
    let lookup = |k: &str| {
        env.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
            .or_else(|| services.get(k).map(String::as_str))
    };
    entry
        .iter()
        .chain(rest)
        .map(|s| crate::env::expand(s, lookup))
        .collect()
}

/// The spec of runtime container `i`: init containers come first.
fn spec_container(
    spec: Option<&k8s_openapi::api::core::v1::PodSpec>,
    i: usize,
    n_init: usize,
) -> Option<&k8s_openapi::api::core::v1::Container> {
    let spec = spec?;
    if i < n_init {
        spec.init_containers.as_ref()?.get(i)
    } else {
        spec.containers.get(i - n_init)
    }
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

/// Records an event about pod `key`, from the kubelet. The pod's identity in the event log is
/// kept in its runtime after the first one, so that its later events are recorded without
/// looking the pod up again, in the store and then in the log. (The kubelet drops a pod's
/// runtime before the pod leaves the store, so the identity stays that of the stored pod.)
fn pod_event(
    c: &mut Cluster,
    key: &ObjectKey,
    type_: EventType,
    reason: &'static str,
    message: String,
) {
    match c.kubelet.pods.get(key).map(|rt| rt.events) {
        Some(Some(object)) => {
            debug_assert_eq!(
                c.store.pods.record(key).and_then(|p| p.parts().uid),
                c.kubelet.pods.get(key).map(|rt| rt.uid.as_str()),
                "a pod's runtime outlived it in the store"
            );
            c.record_event_on(object, type_, reason, message, "kubelet");
        }
        known => {
            let object = c.record_event_for::<Pod>(key, type_, reason, message, "kubelet");
            if known.is_some()
                && let Some(rt) = c.kubelet.pods.get_mut(key)
            {
                rt.events = object;
            }
        }
    }
}

/// Applies a kubelet timer.
pub(crate) fn fire(c: &mut Cluster, t: KubeletTimer) {
    let now = c.now();
    let Some(rt) = c.kubelet.pods.get(&t.pod) else {
        return;
    };
    if rt.serial != t.runtime {
        return;
    }
    match t.what {
        What::Stopped => {
            c.kubelet.pods.remove(&t.pod);
            c.pod_stopped(&t.pod);
            return;
        }
        What::MountRetry | What::VolumeResync if rt.terminating => return,
        What::MountRetry => {
            mount_volumes(c, &t.pod);
            advance(c, &t.pod);
            render(c, &t.pod);
            return;
        }
        What::VolumeResync => {
            // A ConfigMap or Secret that has gone keeps its last content in the volume.
            if let Some(Ok(payloads)) = c
                .store
                .pods
                .get(&t.pod)
                .map(|p| crate::volumes::mount(c, p))
            {
                let rt = c.kubelet.pods.get_mut(&t.pod).expect("checked");
                rt.volumes = Some(payloads);
            }
            c.schedule(now + VOLUME_RESYNC, Timer::Kubelet(t));
            return;
        }
        _ => {}
    }
    let Some(ct) = rt.containers.get(t.container) else {
        return;
    };
    // A terminating pod's containers are left to stop; only readiness keeps probing
    // (worker.go `doProbe`: on a deletion, liveness and startup workers publish Success and
    // stop, so a terminating container is never killed for a probe).
    let readiness = matches!(t.what, What::Probe(ProbeKind::Readiness, _));
    if ct.incarnation != t.incarnation || (rt.terminating && !readiness) {
        return;
    }
    // A failed pod starts nothing more, and stopped sidecars stay down.
    let winding_down = rt.failed || (rt.stopping_sidecars && ct.role == Role::Sidecar);
    if winding_down
        && matches!(
            t.what,
            What::Started | What::Restart | What::PullRetry | What::ConfigRetry
        )
    {
        return;
    }
    match t.what {
        What::Started => {
            c.kubelet.next_container_id += 1;
            let id = Some(c.kubelet.next_container_id);
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
            pod_event(
                c,
                &pod_key,
                EventType::Normal,
                "Created",
                crate::events::concat(&["Created container: ", &name]),
            );
            pod_event(
                c,
                &pod_key,
                EventType::Normal,
                "Started",
                crate::events::concat(&["Started container ", &name]),
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
                container_id: ct.container_id.unwrap_or_default(),
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
                container_id: ct.container_id.unwrap_or_default(),
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
            pod_event(
                c,
                &pod_key,
                EventType::Normal,
                "BackOff",
                format!("Back-off pulling image \"{image}\""),
            );
            pod_event(
                c,
                &pod_key,
                EventType::Warning,
                "Failed",
                "Error: ImagePullBackOff".into(),
            );
        }
        What::PullRetry | What::ConfigRetry => start_container(c, &t.pod, t.container),
        What::Stopped | What::MountRetry | What::VolumeResync => unreachable!("handled above"),
    }
    advance(c, &t.pod);
    render(c, &t.pod);
}

/// Runs one probe of container `t.container` (`worker.doProbe`), acts on a newly published
/// result and schedules the next probe. Returns whether the pod status may have changed.
fn probe(c: &mut Cluster, t: &KubeletTimer, kind: ProbeKind, generation: u32) -> bool {
    let now = c.now();
    let k = kind.index();
    let rt = c.kubelet.pods.get(&t.pod).expect("checked");
    let ip = pod_ip(rt.ip);
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
    // prober.go: a failure is `Unhealthy`; a warning (an httpGet redirect not followed) is
    // `ProbeWarning` and counts as a success.
    let event = match &result {
        Err(output) => Some((
            "Unhealthy",
            format!("{} probe failed: {output}", kind.title()),
        )),
        Ok(Some(output)) => Some((
            "ProbeWarning",
            format!("{} probe warning: {output}", kind.title()),
        )),
        Ok(None) => None,
    };
    if let Some((reason, message)) = event {
        pod_event(c, &t.pod, EventType::Warning, reason, message);
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
    // `setTerminationGracePeriod`: the probe's own grace period, else the pod's; `killContainer`
    // then gives at least `minimumGracePeriodInSeconds`.
    let grace = spec
        .termination_grace
        .unwrap_or(rt.grace)
        .max(MIN_KILL_GRACE);
    let ct = &mut rt.containers[t.container];
    ct.killing = true;
    ct.ready = false;
    let earlier_exit = ct.last_terminated.as_ref().map(|term| term.finished);
    let restart_now = match earlier_exit {
        None => true,
        Some(finished) => in_backoff_since(&ct.backoff, finished, now).is_none(),
    };
    let (stop, exit_code) = sigterm(ct, grace);
    let what = match kind {
        ProbeKind::Startup => "startup",
        _ => "liveness",
    };
    pod_event(
        c,
        &t.pod,
        EventType::Normal,
        "Killing",
        format!("Container {name} failed {what} probe, will be restarted"),
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

/// How a container stopped with SIGTERM ends: it exits after its stop time (143), or is killed
/// at the grace period (137). Returns when, and the exit code.
fn sigterm(ct: &Container, grace: Millis) -> (Millis, i32) {
    if ct.behaviour.stop > grace {
        (grace, 137)
    } else {
        (ct.behaviour.stop, 143)
    }
}

/// The kubelet's event for a container it sends SIGTERM to (`killContainer`).
fn record_stopping(c: &mut Cluster, key: &ObjectKey, name: &str) {
    pod_event(
        c,
        key,
        EventType::Normal,
        "Killing",
        crate::events::concat(&["Stopping container ", name]),
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
    let role = rt.containers[t.container].role;
    let restart = match role {
        // A sidecar is always restarted, until the pod winds down.
        Role::Sidecar => !rt.stopping_sidecars && !rt.failed,
        // An init container that failed is retried unless the policy is Never.
        Role::Init => term.exit_code != 0 && rt.restart_policy != "Never",
        Role::App => match rt.restart_policy.as_str() {
            "Never" => false,
            "OnFailure" => term.exit_code != 0,
            _ => true,
        },
    };
    let init_failed = role == Role::Init && term.exit_code != 0 && !restart;
    let ct = &mut rt.containers[t.container];
    ct.state = State::Terminated(term);
    ct.ready = false;
    ct.killing = false;
    if !restart {
        if role == Role::Sidecar {
            // The sidecars are being stopped: on to the one before.
            stop_sidecars(c, &t.pod);
        } else if init_failed {
            // The pod has failed: the kubelet kills what still runs (the sidecars).
            rt.failed = true;
            stop_sidecars(c, &t.pod);
        } else if role == Role::App
            && rt
                .containers
                .iter()
                .filter(|ct| ct.role == Role::App)
                .all(|ct| matches!(ct.state, State::Terminated(_)))
        {
            // Every app container has ended for good: the sidecars are stopped.
            stop_sidecars(c, &t.pod);
        }
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
    pod_event(
        c,
        &t.pod,
        EventType::Warning,
        "BackOff",
        format!("Back-off restarting failed container {name} in pod {pod_name}_{ns}({uid})"),
    );
    c.schedule(
        now + delay,
        Timer::Kubelet(KubeletTimer {
            what: What::Restart,
            ..t.clone()
        }),
    );
}

/// Stops the pod's sidecars once its app containers have ended for good (or an init container
/// failed for good): SIGTERM to the last running sidecar; the one before it is stopped when it
/// has exited, so they stop in reverse order. Sidecars waiting to restart stay down.
fn stop_sidecars(c: &mut Cluster, key: &ObjectKey) {
    let now = c.now();
    let Some(rt) = c.kubelet.pods.get_mut(key) else {
        return;
    };
    rt.stopping_sidecars = true;
    let grace = rt.grace;
    let runtime = rt.serial;
    for ct in rt
        .containers
        .iter_mut()
        .filter(|ct| ct.role == Role::Sidecar)
    {
        if !matches!(ct.state, State::Running { .. } | State::Terminated(_))
            && let Some(last) = ct.last_terminated.clone()
        {
            ct.state = State::Terminated(last);
        }
    }
    let Some(i) = rt
        .containers
        .iter()
        .rposition(|ct| ct.role == Role::Sidecar && matches!(ct.state, State::Running { .. }))
    else {
        return;
    };
    let ct = &mut rt.containers[i];
    if ct.killing {
        return;
    }
    ct.killing = true;
    ct.ready = false;
    let (stop, exit_code) = sigterm(ct, grace);
    let (name, incarnation) = (ct.name.clone(), ct.incarnation);
    record_stopping(c, key, &name);
    c.schedule(
        now + stop,
        Timer::Kubelet(KubeletTimer {
            pod: key.clone(),
            runtime,
            container: i,
            incarnation,
            what: What::ProbeKilled {
                exit_code,
                restart_now: false,
                earlier_exit: None,
            },
        }),
    );
}

/// A graceful pod deletion: the API server sets the deletionTimestamp; the kubelet stops the
/// containers (SIGTERM, then SIGKILL at the grace period) and the pod is removed once they have
/// exited. A pod on no node is removed at once.
pub(crate) fn delete_pod(c: &mut Cluster, key: &ObjectKey) -> crate::api::Result<()> {
    let now = c.now();
    let Some(rt) = c.kubelet.pods.get_mut(key) else {
        c.pod_stopped(key);
        return Ok(());
    };
    rt.terminating = true;
    // SIGTERM reaches the running app containers now. An application that fails its
    // readiness (or liveness) endpoint on SIGTERM does so from here on; the readiness worker,
    // which keeps probing a terminating pod, notices at its next probe.
    for ct in rt
        .containers
        .iter_mut()
        .filter(|ct| ct.role == Role::App && matches!(ct.state, State::Running { .. }))
    {
        if ct.behaviour.unready_on_sigterm {
            ct.flips[ProbeKind::Readiness.index()] = Some(false);
        }
        if ct.behaviour.unhealthy_on_sigterm {
            ct.flips[ProbeKind::Liveness.index()] = Some(false);
        }
    }
    let grace = rt.grace;
    // The app containers stop together; then the sidecars, one at a time in reverse order
    // (`killContainersWithSyncResult`); all within the grace period.
    let is_running = |ct: &&Container| matches!(ct.state, State::Running { .. });
    let apps_stop = rt
        .containers
        .iter()
        .filter(|ct| ct.role == Role::App)
        .filter(is_running)
        .map(|ct| ct.behaviour.stop)
        .max()
        .unwrap_or(Millis::ZERO);
    let sidecars: Vec<&Container> = rt
        .containers
        .iter()
        .rev()
        .filter(|ct| ct.role != Role::App)
        .filter(is_running)
        .collect();
    let stop = sidecars
        .iter()
        .fold(apps_stop, |t, ct| t + ct.behaviour.stop)
        .min(grace);
    let running: Vec<String> = rt
        .containers
        .iter()
        .filter(|ct| ct.role == Role::App)
        .filter(is_running)
        .chain(sidecars)
        .map(|ct| ct.name.to_string())
        .collect();
    let runtime = rt.serial;
    c.modify_pod_in_place(key, |p| {
        *p.deletion_timestamp = Some(now.to_time());
        *p.deletion_grace_period_seconds = Some(grace.whole_secs() as i64);
        true
    })?;
    let pod_key = key.clone();
    for name in running {
        record_stopping(c, &pod_key, &name);
    }
    c.schedule(
        now + stop,
        Timer::Kubelet(KubeletTimer {
            pod: key.clone(),
            runtime,
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
    pub fn container_env(&self, pod: &ObjectKey, container: &str) -> Option<Vec<(String, String)>> {
        let ct = self
            .kubelet
            .pods
            .get(pod)?
            .containers
            .iter()
            .find(|ct| ct.name == container)?;
        ct.container_id
            .is_some()
            .then(|| crate::env::with_services(&ct.env, &ct.service_env))
    }

    /// The command line container `container` of a pod was last started with, or `None` when
    /// it has not been created.
    pub fn container_command(&self, pod: &ObjectKey, container: &str) -> Option<&[String]> {
        let ct = self
            .kubelet
            .pods
            .get(pod)?
            .containers
            .iter()
            .find(|ct| ct.name == container)?;
        ct.container_id.is_some().then_some(ct.command.as_slice())
    }

    /// The files container `container` of a pod sees through its ConfigMap and Secret volume
    /// mounts, by absolute path, or `None` when it has not been created.
    pub fn container_files(
        &self,
        pod: &ObjectKey,
        container: &str,
    ) -> Option<Vec<(String, String)>> {
        let rt = self.kubelet.pods.get(pod)?;
        let i = rt.containers.iter().position(|ct| ct.name == container)?;
        let ct = &rt.containers[i];
        // Not created yet: no files.
        ct.container_id?;
        let spec = spec_container(self.store.pods.record(pod)?.parts().spec, i, rt.n_init)?;
        Some(crate::volumes::container_files(
            spec,
            rt.volumes.as_ref()?,
            &ct.subpath_files,
        ))
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

/// Writes `pod.status` from the runtime state (`generateAPIPodStatus`): the container statuses,
/// the phase (`getPhase`) and the kubelet's conditions (`status/generate.go`).
///
/// Field by field and where the pod lies: a field is written only when it differs, so that
/// nothing is copied or rebuilt to find out whether anything changed.
///
/// A pod without init containers, whose record shares its shape, has its status held in
/// numbers ([`Compact`]): rendering it then compares and writes a few words, not the strings
/// of a `PodStatus`.
fn render(c: &mut Cluster, key: &ObjectKey) {
    let now = c.now();
    let Some(rt) = c.kubelet.pods.get(key) else {
        return;
    };
    let Some(pod) = c.store.pods.slot_mut(key) else {
        return;
    };
    let mut status = pod.per_pod_mut().status;
    let changed = match status.compact() {
        Some((compact, spec))
            if compact.as_ref().is_some_and(|c| c.kubelet.is_some()) || in_numbers(rt, spec) =>
        {
            render_compact(compact, spec, rt, now)
        }
        _ => render_status(status.whole(), rt, now),
    };
    if changed {
        c.written_in_place::<Pod>(key);
    }
}

/// Whether the kubelet can hold this pod's status in numbers: the pod has no init
/// containers, and its containers are the spec's, by name and image (the status names them
/// from the spec). Once it holds it so, it stays so: the containers never change, and a write
/// through the API gives the pod a whole status.
fn in_numbers(rt: &PodRuntime, spec: Option<&PodSpec>) -> bool {
    let Some(spec) = spec else {
        return false;
    };
    rt.n_init == 0
        && spec
            .init_containers
            .as_deref()
            .unwrap_or_default()
            .is_empty()
        && spec.containers.len() == rt.containers.len()
        && spec
            .containers
            .iter()
            .zip(&rt.containers)
            .all(|(s, ct)| s.name == ct.name && s.image.as_deref().unwrap_or_default() == ct.image)
}

/// [`render_status`] for a status held in numbers. Debug builds check that it reads as a full
/// render of the status.
#[cfg_attr(not(debug_assertions), allow(unused_variables))]
fn render_compact(
    compact: &mut Option<Compact>,
    spec: Option<&PodSpec>,
    rt: &PodRuntime,
    now: Millis,
) -> bool {
    #[cfg(debug_assertions)]
    let expected = full_render(compact.as_ref().map(|c| c.to_status(spec)), rt, now);
    let changed = write_compact(compact, rt, now);
    #[cfg(debug_assertions)]
    {
        debug_assert_eq!(
            (compact.as_ref().map(|c| c.to_status(spec)), changed),
            (Some(expected.0), expected.1),
            "the status in numbers differs from a full render"
        );
    }
    changed
}

/// Brings a status held in numbers up to date with the runtime state (the pod has no init
/// containers); returns whether anything changed.
fn write_compact(compact: &mut Option<Compact>, rt: &PodRuntime, now: Millis) -> bool {
    let mut changed = compact.is_none();
    let c = compact.get_or_insert(Compact {
        scheduled: None,
        kubelet: None,
    });
    let phase = pod_phase(rt);
    // A condition keeps its lastTransitionTime while its status stays.
    let was_ready = c.kubelet.as_ref().map(|k| (k.ready(), k.ready_since));
    let k = match &mut c.kubelet {
        Some(k) if k.containers.len() == rt.containers.len() => {
            set(&mut k.phase, phase, &mut changed);
            for (cc, ct) in k.containers.iter_mut().zip(&rt.containers) {
                write_compact_container(cc, ct, &mut changed);
            }
            k
        }
        slot => {
            changed = true;
            slot.insert(KubeletStatus {
                phase,
                bound_at: rt.bound_at,
                ready_since: Millis::ZERO,
                pod_ip: rt.ip,
                node: rt.node,
                containers: rt
                    .containers
                    .iter()
                    .map(|ct| compact_container(ct, false))
                    .collect(),
            })
        }
    };
    match was_ready {
        Some((ready, since)) if ready == k.ready() => k.ready_since = since,
        _ => {
            k.ready_since = Millis::from_secs(now.whole_secs());
            changed = true;
        }
    }
    changed
}

/// A condition's status, reason and message.
type CondWant = (bool, Option<&'static str>, Option<String>);

/// What the kubelet's phase and conditions say for a runtime state.
struct Summary {
    phase: &'static str,
    /// Ready and ContainersReady (sidecars, then app containers, in spec order).
    ready: CondWant,
    initialized: CondWant,
    /// When Initialized changes: at once with init containers, else when the pod was bound.
    init_since: Millis,
}

fn summarize(rt: &PodRuntime, now: Millis) -> Summary {
    let (inits, apps) = rt.containers.split_at(rt.n_init);
    let phase = pod_phase(rt);
    let unready = rt
        .containers
        .iter()
        .filter(|ct| ct.role != Role::Init && !ct.ready);
    let ready = ready_condition(phase, unready.map(|ct| ct.name.as_str()));
    // Initialized: every init container done, or an app container has run already.
    let mut incomplete = inits.iter().filter(|ct| !init_done(ct)).peekable();
    let app_ran = apps
        .iter()
        .any(|ct| matches!(ct.state, State::Running { .. } | State::Terminated(_)));
    let initialized = if phase == "Succeeded" {
        (true, Some("PodCompleted"), None)
    } else if app_ran || incomplete.peek().is_none() {
        (true, None, None)
    } else {
        (
            false,
            Some("ContainersNotInitialized"),
            Some(name_list(
                "containers with incomplete status: [",
                incomplete.map(|ct| ct.name.as_str()),
            )),
        )
    };
    Summary {
        phase,
        ready,
        initialized,
        init_since: if rt.n_init > 0 { now } else { rt.bound_at },
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
            status.clear();
            status.push_str(self.status());
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

/// Brings a pod's status up to date with the runtime state; returns whether anything changed.
/// Debug builds check the result against a full render of the status.
fn render_status(status: &mut PodStatus, rt: &PodRuntime, now: Millis) -> bool {
    #[cfg(debug_assertions)]
    let expected = full_render(Some(status.clone()), rt, now);
    let changed = write_status(status, rt, now);
    #[cfg(debug_assertions)]
    {
        debug_assert_eq!(
            (&*status, changed),
            (&expected.0, expected.1),
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
    let sum = summarize(rt, now);
    let has_init = rt.n_init > 0;
    let (inits, apps) = rt.containers.split_at(rt.n_init);
    let old_conds = st.conditions.clone().unwrap_or_default();
    let cond = |type_: &str, (ok, reason, message): CondWant, since: Millis| {
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
    let mut conditions = vec![
        cond("PodReadyToStartContainers", (true, None, None), rt.bound_at),
        cond("Initialized", sum.initialized, sum.init_since),
        cond("Ready", sum.ready.clone(), now),
        cond("ContainersReady", sum.ready, now),
    ];
    conditions.extend(
        old_conds
            .iter()
            .find(|c| c.type_ == "PodScheduled")
            .cloned(),
    );
    let mut changed = false;
    let (host, ip) = (host_ip(rt.node), pod_ip(rt.ip));
    set(&mut st.phase, Some(sum.phase.to_string()), &mut changed);
    set(&mut st.conditions, Some(conditions), &mut changed);
    set(
        &mut st.host_ips,
        Some(vec![HostIP { ip: host.clone() }]),
        &mut changed,
    );
    set(&mut st.host_ip, Some(host), &mut changed);
    set(
        &mut st.pod_ips,
        Some(vec![PodIP { ip: ip.clone() }]),
        &mut changed,
    );
    set(&mut st.pod_ip, Some(ip), &mut changed);
    set(
        &mut st.start_time,
        Some(rt.bound_at.to_time()),
        &mut changed,
    );
    set(&mut st.qos_class, Some("BestEffort".into()), &mut changed);
    let init_statuses =
        has_init.then(|| inits.iter().map(|ct| container_status(ct, true)).collect());
    set(&mut st.init_container_statuses, init_statuses, &mut changed);
    let statuses = apps
        .iter()
        .map(|ct| container_status(ct, has_init))
        .collect();
    set(&mut st.container_statuses, Some(statuses), &mut changed);
    (st, changed)
}

/// [`render_status`] without the debug check.
fn write_status(st: &mut PodStatus, rt: &PodRuntime, now: Millis) -> bool {
    let sum = summarize(rt, now);
    let bound_at = rt.bound_at;
    let mut changed = false;

    // Conditions: a condition keeps its lastTransitionTime while its status stays; the
    // scheduler's PodScheduled condition is kept, last.
    let old_conds = st.conditions.as_deref().unwrap_or_default();
    fn want<'a>(
        old_conds: &[PodCondition],
        type_: &'static str,
        (ok, reason, message): (bool, Option<&'static str>, Option<&'a str>),
        since: Millis,
    ) -> WantCondition<'a> {
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
    }
    let (ready, ready_reason, ready_msg) = &sum.ready;
    let (init, init_reason, init_msg) = &sum.initialized;
    let ready = (*ready, *ready_reason, ready_msg.as_deref());
    let wanted = [
        want(
            old_conds,
            "PodReadyToStartContainers",
            (true, None, None),
            bound_at,
        ),
        want(
            old_conds,
            "Initialized",
            (*init, *init_reason, init_msg.as_deref()),
            sum.init_since,
        ),
        want(old_conds, "Ready", ready, now),
        want(old_conds, "ContainersReady", ready, now),
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

    set_str(&mut st.phase, Some(sum.phase), &mut changed);
    let (host, ip) = (host_ip(rt.node), pod_ip(rt.ip));
    match st.host_ips.as_deref() {
        Some([HostIP { ip }]) if *ip == host => {}
        _ => {
            st.host_ips = Some(vec![HostIP { ip: host.clone() }]);
            changed = true;
        }
    }
    set_str(&mut st.host_ip, Some(&host), &mut changed);
    match st.pod_ips.as_deref() {
        Some([PodIP { ip: old }]) if *old == ip => {}
        _ => {
            st.pod_ips = Some(vec![PodIP { ip: ip.clone() }]);
            changed = true;
        }
    }
    set_str(&mut st.pod_ip, Some(&ip), &mut changed);
    set(&mut st.start_time, Some(bound_at.to_time()), &mut changed);
    set_str(&mut st.qos_class, Some("BestEffort"), &mut changed);
    let has_init = rt.n_init > 0;
    let (inits, apps) = rt.containers.split_at(rt.n_init);
    if has_init {
        write_statuses(&mut st.init_container_statuses, inits, true, &mut changed);
    } else {
        set(&mut st.init_container_statuses, None, &mut changed);
    }
    write_statuses(&mut st.container_statuses, apps, has_init, &mut changed);
    changed
}

/// Makes a list of container statuses what [`container_status`] gives for `cts`: in place
/// when it has the right length, else rebuilt.
fn write_statuses(
    field: &mut Option<Vec<ContainerStatus>>,
    cts: &[Container],
    in_init_pod: bool,
    changed: &mut bool,
) {
    match field.as_mut() {
        Some(statuses) if statuses.len() == cts.len() => {
            for (cs, ct) in statuses.iter_mut().zip(cts) {
                write_container_status(cs, ct, in_init_pod, changed);
            }
        }
        _ => set(
            field,
            Some(
                cts.iter()
                    .map(|ct| container_status(ct, in_init_pod))
                    .collect(),
            ),
            changed,
        ),
    }
}

/// An init container is done: a regular one exited 0, a sidecar has started
/// (`isInitContainerInitialized`).
fn init_done(ct: &Container) -> bool {
    match ct.role {
        Role::Sidecar => ct.started && matches!(ct.state, State::Running { .. }),
        _ => matches!(&ct.state, State::Terminated(t) if t.exit_code == 0),
    }
}

/// The pod phase from its containers, as `getPhase` derives it from the container statuses.
///
/// Only a failed regular init container under restartPolicy Never fails the pod before its
/// app containers ran; a terminated sidecar is ignored; a waiting container with an earlier
/// exit counts as stopped (it is restarting).
fn pod_phase(rt: &PodRuntime) -> &'static str {
    let (mut pending_init, mut failed_init, mut pending_sidecars) = (0, 0, 0);
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for ct in &rt.containers {
        let last_exit = ct.last_terminated.as_ref().map(|t| t.exit_code);
        match (ct.role, &ct.state) {
            (Role::Init, State::Running { .. }) => pending_init += 1,
            (Role::Init, State::Terminated(t)) => failed_init += usize::from(t.exit_code != 0),
            (Role::Init, _) => match last_exit {
                Some(code) => failed_init += usize::from(code != 0),
                None => pending_init += 1,
            },
            (Role::Sidecar, State::Running { .. }) => {
                pending_sidecars += usize::from(!ct.started);
                running += 1;
            }
            (Role::Sidecar, State::Terminated(_)) => {}
            (Role::Sidecar, _) => {
                if last_exit.is_none() {
                    pending_sidecars += 1;
                    waiting += 1;
                }
            }
            (Role::App, State::Running { .. }) => running += 1,
            (Role::App, State::Terminated(t)) => {
                stopped += 1;
                succeeded += usize::from(t.exit_code == 0);
            }
            (Role::App, _) => match last_exit {
                Some(_) => stopped += 1,
                None => waiting += 1,
            },
        }
    }
    // `HasAnyActiveRegularContainerStarted`: an app container has been created.
    let initialized = rt.containers[rt.n_init..]
        .iter()
        .any(|ct| ct.container_id.is_some());
    if failed_init > 0 && rt.restart_policy == "Never" {
        "Failed"
    } else if pending_init > 0 || (pending_sidecars > 0 && !initialized) || waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped > 0 {
        if rt.restart_policy == "Always" {
            "Running"
        } else if stopped == succeeded {
            "Succeeded"
        } else if rt.restart_policy == "Never" {
            "Failed"
        } else {
            "Running"
        }
    } else {
        "Pending"
    }
}

/// Writes `value` into `field` when it differs, and notes the change.
fn set<T: PartialEq>(field: &mut T, value: T, changed: &mut bool) {
    if *field != value {
        *field = value;
        *changed = true;
    }
}

/// [`set`] for an optional string, allocating only when it differs and there is no string to
/// write it into.
fn set_str(field: &mut Option<String>, value: Option<&str>, changed: &mut bool) {
    if field.as_deref() != value {
        match (field.as_mut(), value) {
            (Some(f), Some(v)) => {
                f.clear();
                f.push_str(v);
            }
            _ => *field = value.map(str::to_string),
        }
        *changed = true;
    }
}

/// A container's state. `in_init_pod`: the pod has init containers, so a container not yet
/// created waits in `PodInitializing` rather than `ContainerCreating`.
fn compact_state(ct: &Container, in_init_pod: bool) -> CompactState {
    let waiting = |reason: &'static str, message: Option<&String>| CompactState::Waiting {
        reason,
        message: message.map(|m| m.as_str().into()),
    };
    match &ct.state {
        State::Pending => waiting("PodInitializing", None),
        State::Creating if in_init_pod => waiting("PodInitializing", None),
        State::Creating => waiting("ContainerCreating", None),
        State::PullError { reason, message } => waiting(reason, Some(message)),
        State::CrashLoop { message } => waiting("CrashLoopBackOff", Some(message)),
        State::ConfigError { message } => waiting("CreateContainerConfigError", Some(message)),
        State::Running { since } => CompactState::Running { since: *since },
        State::Terminated(t) => CompactState::Terminated(t.clone()),
    }
}

/// Whether the status reports the container ready: a regular init container is once it has
/// exited 0 (`UpdatePodStatus`).
fn status_ready(ct: &Container) -> bool {
    ct.ready || (ct.role == Role::Init && init_done(ct))
}

/// A container's status, but for its name and image.
fn compact_container(ct: &Container, in_init_pod: bool) -> CompactContainer {
    CompactContainer {
        id: ct.container_id,
        ready: status_ready(ct),
        started: matches!(ct.state, State::Running { .. }) && ct.started,
        restart_count: ct.restart_count,
        state: compact_state(ct, in_init_pod),
        last_state: ct.last_terminated.clone(),
    }
}

/// Makes `cc` what [`compact_container`] gives for an app container of a pod without init
/// containers; notes any change.
fn write_compact_container(cc: &mut CompactContainer, ct: &Container, changed: &mut bool) {
    set(&mut cc.id, ct.container_id, changed);
    set(&mut cc.ready, status_ready(ct), changed);
    let started = matches!(ct.state, State::Running { .. }) && ct.started;
    set(&mut cc.started, started, changed);
    set(&mut cc.restart_count, ct.restart_count, changed);
    set(&mut cc.state, compact_state(ct, false), changed);
    if cc.last_state != ct.last_terminated {
        cc.last_state.clone_from(&ct.last_terminated);
        *changed = true;
    }
}

fn container_status(ct: &Container, in_init_pod: bool) -> ContainerStatus {
    compact_container(ct, in_init_pod).to_status(&ct.name, &ct.image)
}

/// Makes `cs` what [`container_status`] gives for `ct`, field by field; notes any change.
fn write_container_status(
    cs: &mut ContainerStatus,
    ct: &Container,
    in_init_pod: bool,
    changed: &mut bool,
) {
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
        name.clear();
        name.push_str(&ct.name);
        *changed = true;
    }
    if *image != ct.image {
        image.clear();
        image.push_str(&ct.image);
        *changed = true;
    }
    if !image_id.is_empty() {
        image_id.clear();
        *changed = true;
    }
    let id = ct.container_id.map(crate::store::container_id);
    set_str(container_id, id.as_deref(), changed);
    set(ready, status_ready(ct), changed);
    let running = matches!(ct.state, State::Running { .. });
    set(started, Some(running && ct.started), changed);
    set(restart_count, ct.restart_count, changed);
    set(
        state,
        Some(compact_state(ct, in_init_pod).to_state()),
        changed,
    );
    set(
        last_state,
        ct.last_terminated.as_ref().map(Terminated::to_state),
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

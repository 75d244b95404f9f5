//! `kubespec bench`: the wall time and memory of a full RollingUpdate on the engine, per size.
//! See [`bench`]. It prints numbers; nothing here asserts a timing.
//!
//! Each size runs in a fresh child process (`kubespec bench-one --replicas N`, hidden) so that the
//! peak RSS it reports (VmHWM) belongs to that size alone and not to the largest size run before.

use std::process::{Command, Stdio};
use std::time::Instant;

use kubespec_engine::{Cluster, ClusterConfig, Millis};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, Result};

/// One size's measurements; also the JSON line `bench-one` prints and `bench --json` repeats.
#[derive(Debug, Serialize, Deserialize)]
pub struct Measurement {
    pub replicas: u32,
    /// Wall time to create the Deployment and run until its first rollout completed.
    pub setup_ms: f64,
    /// Wall time from the image change to rollout completion.
    pub rollout_ms: f64,
    /// Virtual time the rollout took.
    pub simulated_s: f64,
    /// Pods created by the rollout (the new ReplicaSet's pods).
    pub pods_created: u64,
    /// Peak resident set size of the process (VmHWM), in MB; `null` where /proc is unavailable.
    pub peak_rss_mb: Option<f64>,
    /// `rollout_ms` per replica, in microseconds.
    pub us_per_replica: f64,
    /// Work the engine did during the rollout: ReplicaSet syncs, pods those syncs read,
    /// Deployment syncs and events recorded.
    pub replicaset_syncs: u64,
    pub replicaset_pods_scanned: u64,
    pub deployment_syncs: u64,
    pub events: u64,
    /// Writes to the store (each one a new resourceVersion).
    pub writes: u64,
    /// `FailedScheduling` events seen during the rollout, with their repeats (an event first
    /// seen before it counts whole): pods that found no node with room. The benchmark sizes its
    /// cluster so that this stays 0; a rollout that waits for room times something else.
    #[serde(default)]
    pub failed_scheduling: u64,
    /// System CPU time the process spent during the rollout, in ms (`getrusage`): on a VM,
    /// mostly the kernel zeroing fresh pages, whose cost varies from run to run. `null` where
    /// it cannot be read.
    #[serde(default)]
    pub rollout_sys_ms: Option<f64>,
}

/// No rollout in the benchmark should take anywhere near this much virtual time.
const LIMIT: Millis = Millis(24 * 3600 * 1000);

/// What `bench` reports per size: the run with the median rollout time, and the spread.
#[derive(Debug, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub median: Measurement,
    /// How many processes measured this size.
    pub runs: usize,
    pub rollout_ms_min: f64,
    pub rollout_ms_max: f64,
}

/// Runs `kubespec bench-one <args>` `runs` times, each in a fresh process (so peak RSS is that
/// run's alone), and returns the results sorted by `key`.
pub(crate) fn measure_in_children<T: serde::de::DeserializeOwned>(
    replicas: u32,
    args: &[&str],
    runs: usize,
    key: impl Fn(&T) -> f64,
) -> Result<Vec<T>> {
    let mut all = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        all.push(measure_in_child(replicas, args)?);
    }
    all.sort_by(|a, b| key(a).total_cmp(&key(b)));
    Ok(all)
}

/// Runs `kubespec bench-one <args> --replicas <replicas>` once, in a fresh process.
fn measure_in_child<T: serde::de::DeserializeOwned>(replicas: u32, args: &[&str]) -> Result<T> {
    let failed = |message: String| CliError::Bench { replicas, message };
    let exe = std::env::current_exe()
        .map_err(|e| failed(format!("cannot find the kubespec executable: {e}")))?;
    let out = Command::new(&exe)
        .arg("bench-one")
        .args(args)
        .args(["--replicas", &replicas.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| failed(format!("cannot start {}: {e}", exe.display())))?;
    if !out.status.success() {
        return Err(failed(format!(
            "the measuring process failed ({})",
            out.status
        )));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim())
        .map_err(|e| failed(format!("unreadable result {:?}: {e}", line.trim())))
}

pub fn bench(sizes: &[u32], runs: usize, json: bool) -> Result<()> {
    if !json {
        println!(
            "RollingUpdate (maxSurge 25%, maxUnavailable 25%) of one Deployment, bench:v1 -> bench:v2\n\
             {runs} process(es) per size; each row is the run with the median rollout time\n\
             {:>9} {:>10} {:>11} {:>17} {:>7} {:>12} {:>12} {:>11} {:>7}",
            "replicas",
            "setup ms",
            "rollout ms",
            "(min-max)",
            "sim s",
            "pods created",
            "peak RSS MB",
            "µs/replica",
            "sys ms"
        );
    }
    // Round-robin over the sizes, so that every size sees the machine in the same moods: on a
    // shared VM the wall time of the same run drifts by a factor of two within minutes, and the
    // per-replica comparison between sizes is only fair when their runs interleave.
    let mut by_size: Vec<Vec<Measurement>> = sizes.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs.max(1) {
        for (all, &replicas) in by_size.iter_mut().zip(sizes) {
            all.push(measure_in_child(replicas, &[])?);
        }
    }
    // Each round's runs met the machine in the same mood: the cost per replica of one size
    // against the size before it, round by round.
    let paired: Vec<Vec<f64>> = by_size
        .windows(2)
        .map(|w| {
            let mut r: Vec<f64> = w[0]
                .iter()
                .zip(&w[1])
                .map(|(a, b)| b.us_per_replica / a.us_per_replica)
                .collect();
            r.sort_by(f64::total_cmp);
            r
        })
        .collect();
    let mut medians: Vec<(u32, f64)> = Vec::new();
    for mut all in by_size {
        all.sort_by(|a, b| a.rollout_ms.total_cmp(&b.rollout_ms));
        let (min, max) = (all[0].rollout_ms, all[all.len() - 1].rollout_ms);
        let n = all.len();
        let summary = Summary {
            median: all.swap_remove((n - 1) / 2),
            runs: n,
            rollout_ms_min: min,
            rollout_ms_max: max,
        };
        medians.push((summary.median.replicas, summary.median.us_per_replica));
        if json {
            println!(
                "{}",
                serde_json::to_string(&summary).expect("a Summary serializes")
            );
        } else {
            let m = &summary.median;
            let rss = m
                .peak_rss_mb
                .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}"));
            let sys = m
                .rollout_sys_ms
                .map_or_else(|| "n/a".to_owned(), |s| format!("{s:.1}"));
            println!(
                "{:>9} {:>10.1} {:>11.1} {:>17} {:>7.1} {:>12} {:>12} {:>11.2} {:>7}",
                m.replicas,
                m.setup_ms,
                m.rollout_ms,
                format!("({min:.1}-{max:.1})"),
                m.simulated_s,
                m.pods_created,
                rss,
                m.us_per_replica,
                sys
            );
            if m.failed_scheduling > 0 {
                println!(
                    "          ({} FailedScheduling events: pods waited for a node)",
                    m.failed_scheduling
                );
            }
        }
    }
    if !json {
        for (pair, rounds) in medians.windows(2).zip(&paired) {
            let ((small, a), (large, b)) = (pair[0], pair[1]);
            let n = rounds.len();
            println!(
                "cost per replica at {large} replicas: {:.2}× that at {small} \
                 (round by round: median {:.2}×, {:.2}–{:.2}× over {n} rounds)",
                b / a,
                rounds[(n - 1) / 2],
                rounds[0],
                rounds[n - 1]
            );
        }
    }
    Ok(())
}

/// The probe-heavy case: a Deployment whose pods each run a startup, a readiness and a
/// liveness probe every second, kept running for ten minutes of cluster time.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProbeMeasurement {
    pub case: String,
    pub replicas: u32,
    /// Wall time to run the ten minutes once the Deployment is available.
    pub wall_ms: f64,
    pub simulated_s: f64,
    pub probes_run: u64,
    pub peak_rss_mb: Option<f64>,
    /// `wall_ms` per probe run, in microseconds.
    pub us_per_probe: f64,
}

const PROBE_REPLICAS: u32 = 1000;
const PROBE_MINUTES: u64 = 10;

/// Runs the probe-heavy case in a child process and prints it.
pub fn bench_probes(runs: usize, json: bool) -> Result<()> {
    let mut all: Vec<ProbeMeasurement> = measure_in_children(
        PROBE_REPLICAS,
        &["--probes"],
        runs,
        |m: &ProbeMeasurement| m.wall_ms,
    )?;
    let (min, max) = (all[0].wall_ms, all[all.len() - 1].wall_ms);
    let n = all.len();
    let m = all.swap_remove((n - 1) / 2);
    if json {
        let mut v = serde_json::to_value(&m).expect("a ProbeMeasurement serializes");
        v["runs"] = n.into();
        v["wall_ms_min"] = min.into();
        v["wall_ms_max"] = max.into();
        println!("{v}");
    } else {
        let rss = m
            .peak_rss_mb
            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}"));
        println!(
            "\nProbe-heavy: {} pods, each with startup, readiness and liveness probes every 1 s, {} min of cluster time\n\
             {:>9} {:>10} {:>17} {:>7} {:>11} {:>12} {:>10}\n\
             {:>9} {:>10.1} {:>17} {:>7.0} {:>11} {:>12} {:>10.3}",
            m.replicas,
            PROBE_MINUTES,
            "replicas",
            "wall ms",
            "(min-max)",
            "sim s",
            "probes run",
            "peak RSS MB",
            "µs/probe",
            m.replicas,
            m.wall_ms,
            format!("({min:.1}-{max:.1})"),
            m.simulated_s,
            m.probes_run,
            rss,
            m.us_per_probe
        );
    }
    Ok(())
}

/// Measures the probe-heavy case in this process and prints one JSON [`ProbeMeasurement`].
pub fn bench_one_probes(replicas: u32) -> Result<()> {
    let m = measure_probes(replicas).map_err(|message| CliError::Bench { replicas, message })?;
    println!(
        "{}",
        serde_json::to_string(&m).expect("a ProbeMeasurement serializes")
    );
    Ok(())
}

fn measure_probes(replicas: u32) -> Result<ProbeMeasurement, String> {
    use k8s_openapi::api::core::v1::{HTTPGetAction, Probe};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let nodes = u64::from(replicas).div_ceil(110) as u32 + 1;
    let mut c = Cluster::new(ClusterConfig {
        seed: 0,
        nodes,
        pods_per_node: 110,
        trace: false,
    });
    let probe = |path: &str| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(8080),
            ..Default::default()
        }),
        period_seconds: Some(1),
        ..Default::default()
    };
    let mut d = kubespec_engine::kubectl::simple_deployment(
        "probed",
        i32::try_from(replicas).unwrap_or(i32::MAX),
        "probed:v1",
    );
    if let Some(ct) = d
        .spec
        .as_mut()
        .and_then(|s| s.template.spec.as_mut())
        .and_then(|s| s.containers.first_mut())
    {
        ct.startup_probe = Some(probe("/started"));
        ct.readiness_probe = Some(probe("/ready"));
        ct.liveness_probe = Some(probe("/healthz"));
    }
    let key = c
        .apply_deployment(d)
        .map_err(|e| format!("creating the deployment: {e}"))?;
    let limit = Millis(c.now().0 + LIMIT.0);
    if !c.run_until_condition(limit, |c| c.deployment_complete(&key)) {
        return Err(format!(
            "the deployment did not become available within {LIMIT} of simulated time"
        ));
    }
    let before = c.stats();
    let sim_start = c.now();
    let wall = Instant::now();
    c.run_until(Millis(sim_start.0 + PROBE_MINUTES * 60 * 1000));
    let wall_ms = ms(wall);
    let probes_run = c.stats().probes - before.probes;
    Ok(ProbeMeasurement {
        case: "probes".into(),
        replicas,
        wall_ms: round3(wall_ms),
        simulated_s: (c.now().0 - sim_start.0) as f64 / 1000.0,
        probes_run,
        peak_rss_mb: peak_rss_mb().map(round3),
        us_per_probe: round3(wall_ms * 1000.0 / probes_run.max(1) as f64),
    })
}

/// Measures one size in this process and prints one JSON [`Measurement`].
pub fn bench_one(replicas: u32) -> Result<()> {
    let m = measure(replicas).map_err(|message| CliError::Bench { replicas, message })?;
    println!(
        "{}",
        serde_json::to_string(&m).expect("a Measurement serializes")
    );
    Ok(())
}

fn measure(replicas: u32) -> Result<Measurement, String> {
    // Room for twice the replicas plus slack, at every size, so that no pod ever waits for a
    // node: old pods keep their place on a node until they have terminated, so during the
    // surge the new pods, the old ones still running and the old ones terminating can together
    // near 2 × replicas. (Room for only 125% left 4,740 pods of the 10,000 case waiting
    // `Unschedulable` and none of the 1,000 case's: the two sizes timed different rollouts.)
    // 10,000 replicas → ceil(20,000 / 110) + 3 = 185 nodes.
    let nodes = (u64::from(replicas) * 2).div_ceil(110) as u32 + 3;
    let setup = Instant::now();
    let mut c = Cluster::new(ClusterConfig {
        seed: 0,
        nodes,
        pods_per_node: 110,
        trace: false,
    });
    let key = c
        .apply_deployment(kubespec_engine::kubectl::simple_deployment(
            "bench",
            i32::try_from(replicas).unwrap_or(i32::MAX),
            "bench:v1",
        ))
        .map_err(|e| format!("creating the deployment: {e}"))?;
    let limit = Millis(c.now().0 + LIMIT.0);
    if !c.run_until_condition(limit, |c| c.deployment_complete(&key)) {
        return Err(format!(
            "the first rollout did not complete within {LIMIT} of simulated time"
        ));
    }
    let setup_ms = ms(setup);
    if std::env::var_os("KS_DEBUG_RSS").is_some() {
        eprintln!(
            "after setup: {:?} MB, events {}",
            peak_rss_mb(),
            c.stats().events
        );
    }

    let before = c.stats();
    let sim_start = c.now();
    let sys_before = system_cpu_ms();
    let rollout = Instant::now();
    c.set_deployment_image(&key, "bench", "bench:v2")
        .map_err(|e| format!("setting the image: {e}"))?;
    let limit = Millis(c.now().0 + LIMIT.0);
    if !c.run_until_condition(limit, |c| c.deployment_complete(&key)) {
        return Err(format!(
            "the rolling update did not complete within {LIMIT} of simulated time"
        ));
    }
    let rollout_ms = ms(rollout);
    let rollout_sys_ms = system_cpu_ms()
        .zip(sys_before)
        .map(|(after, before)| round3(after - before));
    let after = c.stats();
    let failed_scheduling = c
        .events
        .iter()
        .filter(|e| e.reason == "FailedScheduling" && e.last_timestamp >= sim_start)
        .map(|e| u64::from(e.count))
        .sum();

    Ok(Measurement {
        replicas,
        setup_ms: round3(setup_ms),
        rollout_ms: round3(rollout_ms),
        simulated_s: (c.now().0 - sim_start.0) as f64 / 1000.0,
        pods_created: c.stats().pods_created - before.pods_created,
        peak_rss_mb: peak_rss_mb().map(round3),
        us_per_replica: round3(rollout_ms * 1000.0 / f64::from(replicas)),
        replicaset_syncs: after.replicaset_syncs - before.replicaset_syncs,
        replicaset_pods_scanned: after.replicaset_pods_scanned - before.replicaset_pods_scanned,
        deployment_syncs: after.deployment_syncs - before.deployment_syncs,
        events: after.events - before.events,
        writes: after.writes - before.writes,
        failed_scheduling,
        rollout_sys_ms,
    })
}

/// The system CPU time this process has used, in ms (`getrusage(RUSAGE_SELF)`).
fn system_cpu_ms() -> Option<f64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable `rusage`; getrusage only writes into it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: getrusage returned 0, so it filled `usage` (which was zeroed besides).
    let t = unsafe { usage.assume_init() }.ru_stime;
    Some(t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0)
}

/// Three decimals: enough for every column, and short JSON.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub(crate) fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// VmHWM ("high water mark" of the resident set) from /proc/self/status, in MB (10^6 bytes).
pub(crate) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024.0 / 1e6)
}

/// The StatefulSet case: one OrderedReady StatefulSet scaled from 0 to 1,000 replicas (each
/// pod starts in 1 s, so each waits for the one before it) and back to 0 (each pod stops in
/// 1 s, and each deletion waits for the one before it to be gone).
#[derive(Debug, Serialize, Deserialize)]
pub struct StatefulSetMeasurement {
    pub case: String,
    pub replicas: u32,
    /// Wall time of the scale-up, until every pod is ready.
    pub scale_up_ms: f64,
    /// Wall time of the scale-down, until every pod is gone.
    pub scale_down_ms: f64,
    /// Virtual time of the scale-up and of the scale-down.
    pub scale_up_s: f64,
    pub scale_down_s: f64,
    pub pods_created: u64,
    pub events: u64,
    pub writes: u64,
    pub peak_rss_mb: Option<f64>,
}

const STATEFULSET_REPLICAS: u32 = 1000;

/// Runs the StatefulSet case in child processes and prints the median run.
pub fn bench_statefulset(runs: usize, json: bool) -> Result<()> {
    let key = |m: &StatefulSetMeasurement| m.scale_up_ms + m.scale_down_ms;
    let mut all: Vec<StatefulSetMeasurement> =
        measure_in_children(STATEFULSET_REPLICAS, &["--statefulset"], runs, key)?;
    let (min, max) = (key(&all[0]), key(&all[all.len() - 1]));
    let n = all.len();
    let m = all.swap_remove((n - 1) / 2);
    if json {
        let mut v = serde_json::to_value(&m).expect("a StatefulSetMeasurement serializes");
        v["runs"] = n.into();
        v["wall_ms_min"] = min.into();
        v["wall_ms_max"] = max.into();
        println!("{v}");
    } else {
        let rss = m
            .peak_rss_mb
            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.1}"));
        println!(
            "\nStatefulSet: OrderedReady, 0 -> {} -> 0 replicas, each pod starts and stops in 1 s\n\
             {:>9} {:>12} {:>14} {:>17} {:>9} {:>11} {:>12}\n\
             {:>9} {:>12.1} {:>14.1} {:>17} {:>9.0} {:>11.0} {:>12}",
            m.replicas,
            "replicas",
            "scale-up ms",
            "scale-down ms",
            "(min-max total)",
            "up sim s",
            "down sim s",
            "peak RSS MB",
            m.replicas,
            m.scale_up_ms,
            m.scale_down_ms,
            format!("({min:.1}-{max:.1})"),
            m.scale_up_s,
            m.scale_down_s,
            rss,
        );
    }
    Ok(())
}

/// Measures the StatefulSet case in this process and prints one JSON line.
pub fn bench_one_statefulset(replicas: u32) -> Result<()> {
    let m =
        measure_statefulset(replicas).map_err(|message| CliError::Bench { replicas, message })?;
    println!(
        "{}",
        serde_json::to_string(&m).expect("a StatefulSetMeasurement serializes")
    );
    Ok(())
}

fn measure_statefulset(replicas: u32) -> Result<StatefulSetMeasurement, String> {
    use kubespec_engine::ObjectKey;
    let nodes = u64::from(replicas).div_ceil(110) as u32 + 1;
    let mut c = Cluster::new(ClusterConfig {
        seed: 0,
        nodes,
        pods_per_node: 110,
        trace: false,
    });
    let want = i32::try_from(replicas).unwrap_or(i32::MAX);
    let key: ObjectKey = c
        .apply_stateful_set(kubespec_engine::kubectl::simple_stateful_set(
            "bench", 0, "bench:v1",
        ))
        .map_err(|e| format!("creating the statefulset: {e}"))?;
    c.settle();
    let ready = |c: &Cluster, n: i32| {
        c.store.statefulsets.get(&key).is_some_and(|s| {
            let st = s.status.as_ref();
            st.and_then(|st| st.ready_replicas).unwrap_or(0) == n
                && st.map_or(0, |st| st.replicas) == n
        })
    };
    let before = c.stats();
    let (wall, sim) = (Instant::now(), c.now());
    c.scale_stateful_set(&key, want)
        .map_err(|e| format!("scaling up: {e}"))?;
    let limit = Millis(c.now().0 + LIMIT.0);
    if !c.run_until_condition(limit, |c| ready(c, want)) {
        return Err(format!("the scale-up did not complete within {LIMIT}"));
    }
    let (scale_up_ms, scale_up_s) = (ms(wall), (c.now().0 - sim.0) as f64 / 1000.0);
    let (wall, sim) = (Instant::now(), c.now());
    c.scale_stateful_set(&key, 0)
        .map_err(|e| format!("scaling down: {e}"))?;
    let limit = Millis(c.now().0 + LIMIT.0);
    if !c.run_until_condition(limit, |c| c.store.pods.is_empty() && ready(c, 0)) {
        return Err(format!("the scale-down did not complete within {LIMIT}"));
    }
    let (scale_down_ms, scale_down_s) = (ms(wall), (c.now().0 - sim.0) as f64 / 1000.0);
    let after = c.stats();
    Ok(StatefulSetMeasurement {
        case: "statefulset".into(),
        replicas,
        scale_up_ms: round3(scale_up_ms),
        scale_down_ms: round3(scale_down_ms),
        scale_up_s,
        scale_down_s,
        pods_created: after.pods_created - before.pods_created,
        events: after.events - before.events,
        writes: after.writes - before.writes,
        peak_rss_mb: peak_rss_mb().map(round3),
    })
}

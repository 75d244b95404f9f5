//! `kubespec bench-serve`: load on the served engine over loopback, through kube-rs.
//!
//! Watchers stream ConfigMap changes while a paced client sends gets and merge patches. At the
//! end every watcher's stream is checked against the patches that were acknowledged: each
//! acknowledged patch's resourceVersion must appear exactly once in every stream, in order, and
//! nothing else may. It reports latency percentiles, errors and the resident memory sampled
//! through the run (a soak is the same run, longer). It is a benchmark: it prints numbers and
//! fails only when the server answered wrongly (errors, missed or duplicated watch events).

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What load to apply.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub namespace: String,
    pub watchers: usize,
    /// Requests per second, half gets and half patches.
    pub rate: u32,
    pub duration: Duration,
    /// ConfigMaps the requests are spread over.
    pub objects: usize,
    /// How often to sample the resident set size.
    pub sample_every: Duration,
    /// `timeoutSeconds` of each watch request; a watch the server ends is resumed.
    pub watch_timeout: u32,
    /// The process whose resident set is sampled (the server's); `None`: this one.
    pub server_pid: Option<u32>,
}

/// What was measured.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub requests: usize,
    pub gets: Vec<Duration>,
    pub patches: Vec<Duration>,
    pub errors: Vec<String>,
    /// Per watcher: events received, and how many of the acknowledged patches it missed, saw
    /// twice, or saw that were never acknowledged.
    pub watchers: Vec<WatcherTally>,
    /// (seconds since start, resident set in MB).
    pub rss: Vec<(f64, f64)>,
    pub elapsed: Duration,
}

#[derive(Debug, Default, Clone)]
pub struct WatcherTally {
    pub events: usize,
    pub missed: usize,
    pub duplicated: usize,
    pub unexpected: usize,
    pub out_of_order: usize,
    /// Times the server ended the watch (its timeout) and the watcher resumed it.
    pub resumed: usize,
}

impl LoadReport {
    /// Whether the server answered every request and every watcher saw exactly the changes.
    pub fn clean(&self) -> bool {
        self.errors.is_empty()
            && self.watchers.iter().all(|w| {
                w.missed == 0 && w.duplicated == 0 && w.unexpected == 0 && w.out_of_order == 0
            })
    }
}

/// The `p`-th percentile (0..=100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The resident set size in MB of process `pid` (`None`: this one), from
/// `/proc/<pid>/status` (`VmRSS`); `None` where there is no procfs.
pub fn rss_mb(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Runs the load against `client`'s cluster. The namespace must exist.
pub async fn load(client: kube::Client, cfg: LoadConfig) -> LoadReport {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &cfg.namespace);
    let mut report = LoadReport::default();
    // The objects, and the resourceVersion the watchers start from.
    let mut start_rv = String::new();
    for i in 0..cfg.objects {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(format!("load-{i}"));
        cm.data = Some([("counter".to_string(), "0".to_string())].into());
        match cms.create(&PostParams::default(), &cm).await {
            Ok(c) => start_rv = c.metadata.resource_version.unwrap_or_default(),
            Err(e) => report.errors.push(format!("create load-{i}: {e}")),
        }
    }
    if !report.errors.is_empty() {
        return report;
    }

    // Watchers: each keeps the resourceVersions of the MODIFIED events it sees, in order. When
    // the server ends a watch at its timeout, the watcher resumes from the last version it saw,
    // as clients do, so a long soak also exercises resumption.
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut watcher_tasks = Vec::new();
    for _ in 0..cfg.watchers {
        let cms = cms.clone();
        let mut last = start_rv.clone();
        let mut stop = stop_rx.clone();
        let timeout = cfg.watch_timeout;
        watcher_tasks.push(tokio::spawn(async move {
            let mut seen: Vec<String> = Vec::new();
            let mut errors: Vec<String> = Vec::new();
            let mut resumed = 0usize;
            'watch: loop {
                let params = WatchParams::default().timeout(timeout);
                let mut stream = match cms.watch(&params, &last).await {
                    Ok(s) => s.boxed(),
                    Err(e) => {
                        errors.push(format!("watch from {last}: {e}"));
                        break;
                    }
                };
                loop {
                    tokio::select! {
                        ev = stream.next() => match ev {
                            Some(Ok(WatchEvent::Modified(cm))) => {
                                last = cm.metadata.resource_version.unwrap_or_default();
                                seen.push(last.clone());
                            }
                            Some(Ok(WatchEvent::Bookmark(b))) => last = b.metadata.resource_version,
                            Some(Ok(other)) => errors.push(format!("unexpected watch event: {other:?}")),
                            Some(Err(e)) => errors.push(format!("watch stream: {e}")),
                            None => {
                                resumed += 1;
                                continue 'watch;
                            }
                        },
                        _ = stop.changed() => break 'watch,
                    }
                }
            }
            (seen, errors, resumed)
        }));
    }
    // Give every watch time to be registered before the first change.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let gets: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let patches: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let started = Instant::now();
    let total = (cfg.rate as f64 * cfg.duration.as_secs_f64()).round() as usize;
    let mut ticker =
        tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(cfg.rate.max(1))));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut next_sample = Duration::ZERO;
    let mut inflight = Vec::with_capacity(total);
    for i in 0..total {
        ticker.tick().await;
        if started.elapsed() >= next_sample {
            if let Some(mb) = rss_mb(cfg.server_pid) {
                report.rss.push((started.elapsed().as_secs_f64(), mb));
            }
            next_sample += cfg.sample_every;
        }
        let cms = cms.clone();
        let name = format!("load-{}", i % cfg.objects.max(1));
        let (acked, gets, patches, errors) =
            (acked.clone(), gets.clone(), patches.clone(), errors.clone());
        inflight.push(tokio::spawn(async move {
            let t = Instant::now();
            if i % 2 == 0 {
                match cms.get(&name).await {
                    Ok(_) => gets.lock().expect("gets").push(t.elapsed()),
                    Err(e) => errors
                        .lock()
                        .expect("errors")
                        .push(format!("get {name}: {e}")),
                }
            } else {
                let body = serde_json::json!({ "data": { "counter": i.to_string() } });
                match cms
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&body))
                    .await
                {
                    Ok(cm) => {
                        patches.lock().expect("patches").push(t.elapsed());
                        acked
                            .lock()
                            .expect("acked")
                            .push(cm.metadata.resource_version.unwrap_or_default());
                    }
                    Err(e) => errors
                        .lock()
                        .expect("errors")
                        .push(format!("patch {name}: {e}")),
                }
            }
        }));
        // Reap finished requests so the list stays short on a long soak.
        if inflight.len() > 4 * cfg.rate as usize {
            inflight.retain(|h| !h.is_finished());
        }
    }
    for h in inflight {
        if let Err(e) = h.await {
            errors
                .lock()
                .expect("errors")
                .push(format!("request task: {e}"));
        }
    }
    report.elapsed = started.elapsed();
    if let Some(mb) = rss_mb(cfg.server_pid) {
        report.rss.push((report.elapsed.as_secs_f64(), mb));
    }
    // Let the last events reach every watcher, then stop them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);

    let mut acked = std::mem::take(&mut *acked.lock().expect("acked"));
    acked.sort_by_key(|rv| rv.parse::<u64>().unwrap_or(u64::MAX));
    let expected: BTreeSet<&String> = acked.iter().collect();
    for task in watcher_tasks {
        match task.await {
            Ok((seen, errs, resumed)) => {
                report.errors.extend(errs);
                let mut t = tally(&seen, &expected);
                t.resumed = resumed;
                report.watchers.push(t);
            }
            Err(e) => report.errors.push(format!("watcher task: {e}")),
        }
    }
    report.requests = total;
    report.gets = std::mem::take(&mut *gets.lock().expect("gets"));
    report.patches = std::mem::take(&mut *patches.lock().expect("patches"));
    report.gets.sort();
    report.patches.sort();
    report
        .errors
        .extend(std::mem::take(&mut *errors.lock().expect("errors")));
    report
}

/// Compares one watcher's stream with the acknowledged patches.
fn tally(seen: &[String], expected: &BTreeSet<&String>) -> WatcherTally {
    let mut t = WatcherTally {
        events: seen.len(),
        ..Default::default()
    };
    let mut distinct = BTreeSet::new();
    let mut last = 0u64;
    for rv in seen {
        if !distinct.insert(rv) {
            t.duplicated += 1;
        }
        if !expected.contains(rv) {
            t.unexpected += 1;
        }
        let n = rv.parse::<u64>().unwrap_or(0);
        if n <= last {
            t.out_of_order += 1;
        }
        last = n;
    }
    t.missed = expected
        .iter()
        .filter(|rv| !distinct.contains(**rv))
        .count();
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let xs: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&xs, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&xs, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&xs, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn a_tally_finds_missed_duplicated_unexpected_and_reordered_events() {
        let acked = ["10".to_string(), "11".to_string(), "12".to_string()];
        let expected: BTreeSet<&String> = acked.iter().collect();
        let clean = tally(&["10".into(), "11".into(), "12".into()], &expected);
        assert_eq!(
            (
                clean.missed,
                clean.duplicated,
                clean.unexpected,
                clean.out_of_order
            ),
            (0, 0, 0, 0)
        );
        let bad = tally(
            &["11".into(), "10".into(), "10".into(), "99".into()],
            &expected,
        );
        assert_eq!(bad.missed, 1, "12 never came");
        assert_eq!(bad.duplicated, 1, "10 came twice");
        assert_eq!(bad.unexpected, 1, "99 was never acknowledged");
        assert_eq!(bad.out_of_order, 2, "10 after 11, and 10 again");
    }
}

/// `kubespec bench-serve`'s flags.
#[derive(clap::Args, Clone, Debug)]
pub struct BenchServeArgs {
    /// Concurrent watch streams.
    #[arg(long, default_value_t = 50)]
    pub watchers: usize,
    /// Requests per second, alternately a get and a merge patch.
    #[arg(long, default_value_t = 200)]
    pub rate: u32,
    /// How long to send requests: `60s`, `10m`.
    #[arg(long, default_value = "60s", value_parser = parse_wall_duration)]
    pub duration: Duration,
    /// ConfigMaps the requests are spread over.
    #[arg(long, default_value_t = 20)]
    pub objects: usize,
    /// `timeoutSeconds` of each watch request, after which the server ends the watch and the
    /// watcher resumes it from the last resourceVersion it saw.
    #[arg(long, default_value_t = 290)]
    pub watch_timeout: u32,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Serve from this process instead of a `kubespec serve` child process. The resident set
    /// sampled is then the server's and the load generator's together.
    #[arg(long)]
    pub in_process: bool,
}

fn parse_wall_duration(s: &str) -> Result<Duration, String> {
    kubespec_server::parse_duration(s).map(|m| Duration::from_millis(m.0))
}

/// Starts a server on a loopback port (plain HTTP with a bearer token, which kube-rs sends):
/// by default a `kubespec serve` child process, so that the resident set sampled is the
/// server's alone; with `--in-process`, in this process. Drives it with [`load`] through a
/// kube-rs client built from a kubeconfig, and prints what it measured.
///
/// # Errors
///
/// The runtime, the listener or the child cannot start, or the server answered wrongly
/// (errors, missed or duplicated watch events): the numbers are printed first.
pub fn bench_serve(args: BenchServeArgs) -> Result<(), crate::error::CliError> {
    use crate::error::CliError;
    if args.rate == 0 || args.objects == 0 {
        return Err(CliError::ServeUsage(
            "--rate and --objects must be at least 1".into(),
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let report = runtime.block_on(async {
        let (kubeconfig, server) = if args.in_process {
            let (kubeconfig, task) = serve_in_process().await?;
            (kubeconfig, Server::Task(task))
        } else {
            let child = ChildServer::start()?;
            (child.kubeconfig().await?, Server::Child(child))
        };
        let kc = kube::config::Kubeconfig::from_yaml(&kubeconfig)
            .map_err(|e| CliError::Serve(format!("kubeconfig: {e}")))?;
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .map_err(|e| CliError::Serve(format!("kubeconfig: {e}")))?;
        let client =
            kube::Client::try_from(config).map_err(|e| CliError::Serve(format!("client: {e}")))?;
        let report = load(
            client,
            LoadConfig {
                namespace: "default".into(),
                watchers: args.watchers,
                rate: args.rate,
                duration: args.duration,
                objects: args.objects,
                sample_every: Duration::from_secs(10),
                watch_timeout: args.watch_timeout,
                server_pid: server.pid(),
            },
        )
        .await;
        drop(server);
        Ok::<_, CliError>(report)
    })?;
    print_report(&args, &report);
    if report.clean() {
        Ok(())
    } else {
        Err(crate::error::CliError::Failed)
    }
}

/// The server under load; stopped when dropped.
enum Server {
    Task(tokio::task::JoinHandle<std::io::Result<()>>),
    Child(ChildServer),
}

impl Server {
    fn pid(&self) -> Option<u32> {
        match self {
            Server::Task(_) => None,
            Server::Child(c) => Some(c.child.id()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Task(t) = self {
            t.abort();
        }
    }
}

/// The server in this process; returns its kubeconfig.
async fn serve_in_process()
-> Result<(String, tokio::task::JoinHandle<std::io::Result<()>>), crate::error::CliError> {
    use crate::error::CliError;
    let token = format!("{:032x}", rand::random::<u128>());
    let cluster = kubespec_engine::Cluster::new(kubespec_engine::ClusterConfig {
        trace: false,
        ..Default::default()
    });
    let state = kubespec_server::AppState::new(
        cluster,
        kubespec_server::Config {
            token: Some(token.clone()),
            ..Default::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::Serve(format!("cannot listen on loopback: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Serve(format!("cannot read the bound address: {e}")))?;
    let task =
        tokio::spawn(async move { axum::serve(listener, kubespec_server::router(state)).await });
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: http://{addr}\n\
         users:\n- name: bench\n  user:\n    token: {token}\ncontexts:\n- name: bench\n  context:\n    \
         cluster: bench\n    user: bench\n    namespace: default\ncurrent-context: bench\n"
    );
    Ok((kubeconfig, task))
}

/// `kubespec serve --port 0 --insecure-http` as a child process, killed when dropped.
struct ChildServer {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl ChildServer {
    fn start() -> Result<ChildServer, crate::error::CliError> {
        use crate::error::CliError;
        let exe = std::env::current_exe()
            .map_err(|e| CliError::Serve(format!("cannot find the kubespec binary: {e}")))?;
        let dir = std::env::temp_dir().join(format!(
            "kubespec-bench-serve-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| CliError::Serve(format!("cannot create {}: {e}", dir.display())))?;
        let child = std::process::Command::new(exe)
            .args(["serve", "--port", "0", "--insecure-http", "--kubeconfig"])
            .arg(dir.join("kubeconfig"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(|e| CliError::Serve(format!("cannot start kubespec serve: {e}")))?;
        Ok(ChildServer { child, dir })
    }

    /// Waits (at most 30 s) for the child to write its kubeconfig.
    async fn kubeconfig(&self) -> Result<String, crate::error::CliError> {
        let path = self.dir.join("kubeconfig");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && text.contains("current-context")
            {
                return Ok(text);
            }
            if Instant::now() > deadline {
                return Err(crate::error::CliError::Serve(format!(
                    "kubespec serve wrote no kubeconfig at {} within 30 s",
                    path.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_report(args: &BenchServeArgs, r: &LoadReport) {
    let events: Vec<usize> = r.watchers.iter().map(|w| w.events).collect();
    let sum = |f: fn(&WatcherTally) -> usize| r.watchers.iter().map(f).sum::<usize>();
    let rss_first = r.rss.first().map_or(0.0, |x| x.1);
    let rss_last = r.rss.last().map_or(0.0, |x| x.1);
    let rss_max = r.rss.iter().map(|x| x.1).fold(0.0, f64::max);
    if args.json {
        let v = serde_json::json!({
            "watchers": args.watchers,
            "rate": args.rate,
            "duration_s": r.elapsed.as_secs_f64(),
            "requests": r.requests,
            "errors": r.errors.len(),
            "get_p50_ms": ms(percentile(&r.gets, 50.0)),
            "get_p99_ms": ms(percentile(&r.gets, 99.0)),
            "patch_p50_ms": ms(percentile(&r.patches, 50.0)),
            "patch_p99_ms": ms(percentile(&r.patches, 99.0)),
            "events_per_watcher_min": events.iter().min().copied().unwrap_or(0),
            "events_per_watcher_max": events.iter().max().copied().unwrap_or(0),
            "missed": sum(|w| w.missed),
            "duplicated": sum(|w| w.duplicated),
            "unexpected": sum(|w| w.unexpected),
            "out_of_order": sum(|w| w.out_of_order),
            "watches_resumed": sum(|w| w.resumed),
            "server_in_process": args.in_process,
            "rss_mb": r.rss.iter().map(|(t, mb)| serde_json::json!([t, mb])).collect::<Vec<_>>(),
            "rss_mb_first": rss_first,
            "rss_mb_last": rss_last,
            "rss_mb_max": rss_max,
        });
        println!("{v}");
    } else {
        println!(
            "{} watch streams, {} requests/s (gets and merge patches) for {:.1} s on loopback, server {}",
            args.watchers,
            args.rate,
            r.elapsed.as_secs_f64(),
            if args.in_process {
                "in this process"
            } else {
                "in its own process"
            }
        );
        println!(
            " requests {}  errors {}  acknowledged patches {}",
            r.requests,
            r.errors.len(),
            r.patches.len()
        );
        for (what, xs) in [("get", &r.gets), ("patch", &r.patches)] {
            println!(
                " {what:<6} p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                ms(percentile(xs, 50.0)),
                ms(percentile(xs, 99.0)),
                ms(percentile(xs, 100.0))
            );
        }
        println!(
            " watch events per stream {}..{}  missed {}  duplicated {}  unexpected {}  out of order {}  resumed {}",
            events.iter().min().copied().unwrap_or(0),
            events.iter().max().copied().unwrap_or(0),
            sum(|w| w.missed),
            sum(|w| w.duplicated),
            sum(|w| w.unexpected),
            sum(|w| w.out_of_order),
            sum(|w| w.resumed)
        );
        let samples: Vec<String> = r
            .rss
            .iter()
            .map(|(t, mb)| format!("{t:.0}s:{mb:.1}"))
            .collect();
        let whose = if args.in_process {
            "server and load generator"
        } else {
            "server"
        };
        println!(" {whose} resident MB over time: {}", samples.join(" "));
        for e in r.errors.iter().take(10) {
            println!(" error: {e}");
        }
    }
}

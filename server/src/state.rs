//! The server's shared state: the engine behind a mutex, the virtual clock's link to the wall
//! clock, and the channel that wakes watchers. See [`AppState`].

use kubespec_engine::api::rest;
use kubespec_engine::{Cluster, Millis};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// How a server is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// The bearer token every request must carry; `None` accepts any request (in-process use).
    pub token: Option<String>,
    /// Virtual seconds per wall second; `0` freezes time (it then moves only through
    /// [`AppState::advance`] and `POST /kubespec/v1/advance`).
    pub time_scale: f64,
    /// How many writes the change log keeps for watches; older resourceVersions get 410 Gone.
    pub change_log_capacity: usize,
    /// How often a watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            token: None,
            time_scale: 0.0,
            change_log_capacity: 10_000,
            bookmark_interval: Duration::from_secs(10),
        }
    }
}

/// The engine shared by every request. Cloning is cheap.
///
/// **Invariant:** every write is followed, under the same lock, by [`Cluster::settle`], and then
/// by a publication of the new resourceVersion, so watchers see controllers' reactions at once
/// and in resourceVersion order.
#[derive(Clone)]
pub struct AppState {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    cluster: Arc<Mutex<Cluster>>,
    pub(crate) config: Config,
    /// The latest resourceVersion; watchers wait on it and read the change log themselves.
    changes: watch::Sender<u64>,
    /// (wall instant, virtual instant) at which the clock was last anchored.
    anchor: Mutex<(tokio::time::Instant, Millis)>,
}

impl AppState {
    /// Wraps `cluster`: enables its change log, creates the initial namespaces and settles.
    pub fn new(cluster: Cluster, config: Config) -> Self {
        Self::sharing(Arc::new(Mutex::new(cluster)), config)
    }

    /// Serves a cluster that something else also drives (the in-memory backend of a scenario
    /// that runs a controller): enables its change log, creates the initial namespaces and
    /// settles. Whoever else writes to it calls [`AppState::notify`] afterwards, so watchers
    /// see the change.
    pub fn sharing(cluster: Arc<Mutex<Cluster>>, config: Config) -> Self {
        let (rv, now) = {
            let mut c = cluster.lock().unwrap_or_else(|p| p.into_inner());
            if c.change_log().is_none() {
                c.enable_change_log(config.change_log_capacity);
            }
            rest::install_namespaces(&mut c);
            c.settle();
            (c.resource_version(), c.now())
        };
        let (changes, _) = watch::channel(rv);
        let anchor = Mutex::new((tokio::time::Instant::now(), now));
        AppState {
            shared: Arc::new(Shared {
                cluster,
                config,
                changes,
                anchor,
            }),
        }
    }

    /// Wakes watchers after a write that did not come through the server.
    pub fn notify(&self) {
        let rv = self.read(|c| c.resource_version());
        self.publish(rv);
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Cluster> {
        // A panic while holding the lock leaves the engine as it was at that point; serving on
        // is better than refusing every later request.
        self.shared
            .cluster
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the cluster.
    pub fn read<R>(&self, f: impl FnOnce(&Cluster) -> R) -> R {
        f(&self.lock())
    }

    /// Writes to the cluster: runs `f`, settles, and wakes watchers.
    pub fn write<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let (out, rv) = {
            let mut c = self.lock();
            let out = f(&mut c);
            c.settle();
            (out, c.resource_version())
        };
        self.publish(rv);
        out
    }

    /// A dry run (`dryRun=All`): runs `f` on a copy of the cluster, so admission, defaulting
    /// and validation happen but nothing is stored, no controller reacts and no watcher hears.
    pub fn dry_run<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let mut copy = self.lock().clone();
        f(&mut copy)
    }

    fn publish(&self, rv: u64) {
        self.shared.changes.send_if_modified(|old| {
            let changed = *old != rv;
            *old = rv;
            changed
        });
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    /// Virtual now.
    pub fn now(&self) -> Millis {
        self.read(|c| c.now())
    }

    /// Moves virtual time forward by `by`, processing every instant on the way, and returns the
    /// new now. With a time scale the wall-clock link restarts from here.
    pub fn advance(&self, by: Millis) -> Millis {
        let (now, rv) = {
            let mut c = self.lock();
            let until = c.now() + by;
            c.run_until(until);
            *self.anchor() = (tokio::time::Instant::now(), c.now());
            (c.now(), c.resource_version())
        };
        self.publish(rv);
        now
    }

    fn anchor(&self) -> MutexGuard<'_, (tokio::time::Instant, Millis)> {
        self.shared.anchor.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings virtual time to where the wall clock × the time scale says it is.
    fn tick(&self) {
        let scale = self.shared.config.time_scale;
        if scale <= 0.0 {
            return;
        }
        let rv = {
            let mut c = self.lock();
            let (wall, virt) = *self.anchor();
            let elapsed = wall.elapsed().as_secs_f64() * 1000.0 * scale;
            let target = Millis(virt.0 + elapsed as u64);
            if target <= c.now() {
                return;
            }
            c.run_until(target);
            c.resource_version()
        };
        self.publish(rv);
    }

    /// Starts the task that makes virtual time follow the wall clock (every 20 ms), when the
    /// time scale is above 0. Abort the handle to stop it.
    pub fn spawn_clock(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.shared.config.time_scale <= 0.0 {
            return None;
        }
        *self.anchor() = (tokio::time::Instant::now(), self.now());
        let state = self.clone();
        Some(tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(20));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                state.tick();
            }
        }))
    }

    /// Creates or updates an object from its JSON (as `--apply` does), settling afterwards.
    ///
    /// # Errors
    ///
    /// The `Status` the API would answer: unknown kind, validation errors, …
    pub fn apply_json(&self, obj: serde_json::Value) -> Result<serde_json::Value, rest::Status> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
        let (group, version) = (group.to_string(), version.to_string());
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(|v| v.as_str())
            .unwrap_or("default")
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        self.write(|c| {
            // The built-in kinds, and the kinds of the CRDs applied before (files apply in order).
            let r = rest::served(c)
                .into_iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
                .ok_or_else(|| {
                    rest::Status::new(
                        404,
                        "NotFound",
                        format!("no matches for kind \"{kind}\" in version \"{api_version}\""),
                    )
                })?;
            if !name.is_empty() && rest::get(c, &r, &ns, &name).is_ok() {
                rest::update(c, &r, &ns, &name, obj, rest::Subresource::Main)
            } else {
                rest::create(c, &r, &ns, obj)
            }
        })
    }
}

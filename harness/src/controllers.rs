//! Third-party controllers against a scenario's cluster. See [`register`] for controllers that
//! run in process and [`Attached`] for how the cluster is served to them.
//!
//! The scenario's engine (the memory backend's cluster, or the cluster backend's in-process
//! served engine) is served by the same server `kubespec serve` runs
//! ([`kubespec_server::router`]) while the backend keeps driving it:
//! - in process, a registered controller gets a kube-rs `Client` over the router itself, with no
//!   socket (`kube::Client::new(router, "default")`);
//! - out of process, a program runs with `KUBECONFIG` pointing at the router served on a
//!   loopback port.
//!
//! **Time.** Virtual time stands still while a controller works: before the backend moves time
//! on, it waits until the server has had no request for a short quiet spell ([`QUIET`]), so
//! a controller reacts at the same virtual instant as the change it reacts to, as the built-in
//! controllers do.
//!
//! Against an external cluster ([`Attached::external`]) a registered controller gets the
//! backend's own `Client`, and a program gets a copy of the run's kubeconfig whose context
//! defaults to the scenario's namespace; there is no router to count requests on, so
//! [`Attached::quiesce`] only waits [`QUIET`].

use crate::{Error, Result};
use futures::future::BoxFuture;
use kubespec_engine::Cluster;
use kubespec_server::{AppState, Config};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A controller's entry point: it runs until its task is aborted at the end of the scenario.
pub type ControllerMain = fn(kube::Client) -> BoxFuture<'static, ()>;

fn registry() -> &'static Mutex<BTreeMap<String, ControllerMain>> {
    static R: OnceLock<Mutex<BTreeMap<String, ControllerMain>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Makes a controller available to `Given the controller "<name>" is running`.
pub fn register(name: &str, main: ControllerMain) {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(name.to_string(), main);
}

/// The names of the registered controllers, sorted.
pub fn registered() -> Vec<String> {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .keys()
        .cloned()
        .collect()
}

fn lookup(name: &str) -> Option<ControllerMain> {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(name)
        .copied()
}

/// How long the server must go without a request before virtual time moves on.
pub const QUIET: Duration = Duration::from_millis(15);
/// The longest a backend waits for controllers to go quiet before moving time anyway.
pub const QUIET_AT_MOST: Duration = Duration::from_secs(2);
/// Against an external served engine: how long its resourceVersion must stand still (no
/// write by anyone) before virtual time moves on. Longer than [`QUIET`]: a controller's
/// reaction crosses the network twice (the watch event, then its write).
pub const WRITES_QUIET: Duration = Duration::from_millis(60);

/// The server attached to a scenario's cluster, and what runs against it. Dropping it stops
/// every controller: tasks are aborted, programs killed.
pub struct Attached {
    /// The served engine, or `None` against an external cluster.
    state: Option<AppState>,
    /// The client of an external cluster.
    client: Option<kube::Client>,
    /// The namespace controllers see as their default (the scenario's).
    namespace: String,
    requests: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    children: Vec<(String, tokio::process::Child)>,
    /// The loopback server for programs, and its kubeconfig.
    tcp: Option<(tokio::task::JoinHandle<()>, PathBuf)>,
    /// Against an external cluster: the run's kubeconfig and context, and the copy written
    /// for programs.
    external_kubeconfig: Option<(kube::config::Kubeconfig, String)>,
    written: Option<PathBuf>,
    /// Against an external served engine: a client for its `/kubespec/v1/info`, whose
    /// resourceVersion tells when controllers have stopped writing.
    served_clock: Option<kube::Client>,
}

impl Drop for Attached {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for (_, c) in &mut self.children {
            let _ = c.start_kill();
        }
        if let Some((server, kubeconfig)) = &self.tcp {
            server.abort();
            if let Some(dir) = kubeconfig.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        if let Some(dir) = self.written.as_ref().and_then(|k| k.parent()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Attached {
    /// Serves `cluster` (which the backend goes on driving).
    pub fn new(cluster: Arc<Mutex<Cluster>>) -> Self {
        Self::serving(AppState::sharing(cluster, Config::default()), "default")
    }

    /// Serves an engine that is already served (the cluster backend's in-process engine):
    /// controllers get a router of their own over the same state, with `namespace` as their
    /// default namespace.
    pub fn serving(state: AppState, namespace: &str) -> Self {
        Attached {
            state: Some(state),
            client: None,
            namespace: namespace.to_string(),
            requests: Arc::default(),
            tasks: Vec::new(),
            children: Vec::new(),
            tcp: None,
            external_kubeconfig: None,
            written: None,
            served_clock: None,
        }
    }

    /// Runs controllers against an external cluster through `client` (whose default namespace
    /// should be the scenario's).
    pub fn external(client: kube::Client, namespace: &str) -> Self {
        Attached {
            state: None,
            client: Some(client),
            namespace: namespace.to_string(),
            requests: Arc::default(),
            tasks: Vec::new(),
            children: Vec::new(),
            tcp: None,
            external_kubeconfig: None,
            written: None,
            served_clock: None,
        }
    }

    /// Against an external cluster: the kubeconfig and context the run reached it with, so
    /// controller programs can be given a copy.
    pub fn with_kubeconfig(mut self, kubeconfig: kube::config::Kubeconfig, context: &str) -> Self {
        self.external_kubeconfig = Some((kubeconfig, context.to_string()));
        self
    }

    /// Against an external `kubespec serve` engine: [`Attached::quiesce`] waits until the
    /// engine has had no write for [`WRITES_QUIET`], instead of a fixed [`QUIET`].
    pub fn with_served_clock(mut self, client: kube::Client) -> Self {
        self.served_clock = Some(client);
        self
    }

    /// The server's router, counting requests so [`Attached::quiesce`] can tell when
    /// controllers are done.
    fn router(&self, state: &AppState) -> axum::Router {
        let requests = self.requests.clone();
        kubespec_server::router(state.clone()).layer(tower::util::MapRequestLayer::new(
            move |req: axum::extract::Request| {
                requests.fetch_add(1, Ordering::Relaxed);
                req
            },
        ))
    }

    /// Starts the registered controller `name` in process.
    ///
    /// # Errors
    ///
    /// No controller of that name is registered; the error lists those that are.
    pub fn start(&mut self, name: &str) -> Result<()> {
        let main = lookup(name).ok_or_else(|| {
            let known = registered();
            Error::Backend(format!(
                "no controller named {name:?} is built into kubespec; known: {}. A program of \
                 your own runs with `Given the controller command \"…\" is running`",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let client = match (&self.state, &self.client) {
            (Some(state), _) => kube::Client::new(self.router(state), self.namespace.clone()),
            (None, Some(client)) => client.clone(),
            (None, None) => unreachable!("an Attached has an engine or a client"),
        };
        self.tasks.push(tokio::spawn(main(client)));
        Ok(())
    }

    /// Starts `command` (words separated by spaces; the program is looked up relative to `dir`,
    /// then beside the running kubespec, then on `PATH`) with `KUBECONFIG` set to a kubeconfig
    /// for this cluster served on a loopback port.
    ///
    /// # Errors
    ///
    /// The command is empty, the loopback port or the kubeconfig cannot be made, or the program
    /// cannot be started. Against an external cluster, [`Error::Unsupported`].
    pub async fn start_command(&mut self, command: &str, dir: &Path) -> Result<()> {
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some((program, args)) = words.split_first() else {
            return Err(Error::Backend("the controller command is empty".into()));
        };
        let kubeconfig = match (self.state.clone(), &self.external_kubeconfig) {
            (Some(state), _) => self.serve_tcp(&state).await?,
            (None, Some((kc, context))) => {
                let (kc, context) = (kc.clone(), context.clone());
                self.write_kubeconfig(kc, &context)?
            }
            (None, None) => {
                return Err(Error::Unsupported(format!(
                    "the controller command {command:?} needs a kubeconfig for the scenario's \
                     cluster, and this run reached it without one; run it yourself, or use a \
                     built-in controller"
                )));
            }
        };
        let program = resolve_program(program, dir);
        let child = tokio::process::Command::new(&program)
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                Error::Backend(format!(
                    "cannot start controller {}: {e}",
                    program.display()
                ))
            })?;
        self.children.push((command.to_string(), child));
        Ok(())
    }

    /// The kubeconfig of the loopback server, started on first use.
    async fn serve_tcp(&mut self, state: &AppState) -> Result<PathBuf> {
        if let Some((_, path)) = &self.tcp {
            return Ok(path.clone());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Backend(format!("cannot listen on loopback: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Backend(format!("cannot read the loopback address: {e}")))?;
        let router = self.router(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kubespec-controller-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kubespec\n  cluster:\n    server: \
             http://{addr}\nusers:\n- name: kubespec\n  user: {{}}\ncontexts:\n- name: kubespec\n  \
             context:\n    cluster: kubespec\n    user: kubespec\n    namespace: {ns}\n\
             current-context: kubespec\n",
            ns = self.namespace
        );
        std::fs::write(&path, text)
            .map_err(|e| Error::Backend(format!("cannot write {}: {e}", path.display())))?;
        self.tcp = Some((server, path.clone()));
        Ok(path)
    }

    /// A copy of the run's kubeconfig for programs against an external cluster: `context` is
    /// current and defaults to the scenario's namespace (credentials included, so the file
    /// is readable by its owner only). Written once, removed on drop.
    fn write_kubeconfig(
        &mut self,
        mut kc: kube::config::Kubeconfig,
        context: &str,
    ) -> Result<PathBuf> {
        if let Some(path) = &self.written {
            return Ok(path.clone());
        }
        kc.current_context = Some(context.to_string());
        let named = kc
            .contexts
            .iter_mut()
            .find(|c| c.name == context)
            .and_then(|c| c.context.as_mut())
            .ok_or_else(|| {
                Error::Backend(format!("the kubeconfig has no context named {context:?}"))
            })?;
        named.namespace = Some(self.namespace.clone());
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kubespec-controller-{}-x{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("kubeconfig");
        // JSON is YAML: client-go, kubectl and kube-rs all read it.
        let text = serde_json::to_string_pretty(&kc)
            .map_err(|e| Error::Backend(format!("cannot write the kubeconfig: {e}")))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
        written.map_err(|e| Error::Backend(format!("cannot write {}: {e}", path.display())))?;
        self.written = Some(path.clone());
        Ok(path)
    }

    /// Lets controllers react: wakes watchers, then yields until the server has had no request
    /// for [`QUIET`] (at most [`QUIET_AT_MOST`]).
    ///
    /// # Errors
    ///
    /// A controller program exited: the scenario cannot go on as written.
    pub async fn quiesce(&mut self) -> Result<()> {
        match &self.state {
            None => match &self.served_clock {
                #[cfg(feature = "cluster")]
                Some(client) => writes_quiet(client).await,
                _ => tokio::time::sleep(QUIET).await,
            },
            Some(state) => {
                state.notify();
                let start = Instant::now();
                let mut seen = self.requests.load(Ordering::Relaxed);
                let mut quiet_since = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    let now = self.requests.load(Ordering::Relaxed);
                    if now != seen {
                        seen = now;
                        quiet_since = Instant::now();
                    }
                    if quiet_since.elapsed() >= QUIET || start.elapsed() >= QUIET_AT_MOST {
                        break;
                    }
                }
            }
        }
        for (command, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error::Backend(format!(
                    "controller {command:?} exited ({status}) while the scenario ran"
                )));
            }
        }
        Ok(())
    }
}

/// Waits until an external served engine's resourceVersion has stood still for
/// [`WRITES_QUIET`], at most [`QUIET_AT_MOST`].
#[cfg(feature = "cluster")]
async fn writes_quiet(client: &kube::Client) {
    let start = Instant::now();
    let mut seen = None;
    let mut quiet_since = Instant::now();
    while start.elapsed() < QUIET_AT_MOST {
        let rv = crate::cluster::served::reach(client)
            .await
            .ok()
            .flatten()
            .map(|i| i.resource_version);
        if rv != seen {
            seen = rv;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= WRITES_QUIET {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `program` relative to the feature's directory, else beside the running kubespec binary
/// (cargo puts a workspace's binaries side by side), else as given (looked up on `PATH`).
fn resolve_program(program: &str, dir: &Path) -> PathBuf {
    let p = Path::new(program);
    if p.components().count() > 1 {
        let here = dir.join(p);
        return if here.exists() { here } else { p.to_path_buf() };
    }
    if let Some(beside) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(program)))
        .filter(|p| p.is_file())
    {
        return beside;
    }
    p.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_resolve_relative_to_the_feature_then_beside_kubespec_then_path() {
        let dir = std::env::temp_dir();
        assert_eq!(resolve_program("sh", &dir), PathBuf::from("sh"));
        let missing = resolve_program("./no/such/program", &dir);
        assert_eq!(missing, PathBuf::from("./no/such/program"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_unknown_controller_names_the_known_ones() {
        register("test-noop", |_client| Box::pin(async {}));
        let cluster = Arc::new(Mutex::new(Cluster::new(Default::default())));
        let mut a = Attached::new(cluster);
        let e = a.start("no-such-controller").unwrap_err().to_string();
        assert!(e.contains("test-noop"), "{e}");
        a.start("test-noop").unwrap();
        a.quiesce().await.unwrap();
    }
}

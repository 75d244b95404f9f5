//! `kubespec serve`: the engine behind a Kubernetes API on a loopback port, for kubectl and
//! controllers built with client-go or kube-rs. See [`serve`].
//!
//! It serves HTTPS with a certificate authority made at start (see `kubespec_server::tls`), so
//! that kubectl sends the kubeconfig's bearer token (client-go sends it over TLS only);
//! `--insecure-http` serves plain HTTP instead. It prints `listening on https://ADDRESS:PORT`
//! once the socket is bound (scripts and tests wait for that line), writes a kubeconfig with the
//! CA and a random bearer token when asked, and stops on Ctrl-C or SIGTERM.

use crate::error::{CliError, Result};
use kubespec_engine::{Cluster, ClusterConfig};
use kubespec_server::{AppState, Config, router};
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: IpAddr,
    /// Port to listen on; 0 picks a free one (printed at start).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Write a kubeconfig for this server (cluster, context and user `kubespec`, with the
    /// bearer token) to this file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Manifests to create (or update) before serving.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub apply: Vec<PathBuf>,
    /// Virtual seconds per wall-clock second: 60 makes one real second a minute of cluster
    /// time; 0 freezes time (move it with `POST /kubespec/v1/advance?by=5m`).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Seed for every random choice the engine makes (pod names, uids).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker nodes in the cluster.
    #[arg(long, default_value_t = 3)]
    pub nodes: u32,
    /// Serve plain HTTP instead of HTTPS. NOTE: kubectl and every client-go program that reads
    /// a kubeconfig send no credentials over plain HTTP (clientcmd only reads a user's auth info
    /// for TLS transports), so they also need `--no-auth`; kube-rs sends the token either way.
    #[arg(long)]
    pub insecure_http: bool,
    /// Accept requests without the bearer token (the kubeconfig then has no user credentials).
    #[arg(long)]
    pub no_auth: bool,
    /// Log requests (-v) and more (-vv); `RUST_LOG` overrides.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "kubespec_server=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A random bearer token: 32 hex digits.
fn new_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The kubeconfig for a server at `server`; `ca_data` is the base64 PEM of the CA that signed
/// the serving certificate (`None` for plain HTTP).
fn kubeconfig(server: &str, ca_data: Option<&str>, token: Option<&str>) -> String {
    let user = match token {
        Some(t) => format!("  user:\n    token: {t}\n"),
        None => "  user: {}\n".to_string(),
    };
    let ca = ca_data.map_or(String::new(), |d| {
        format!("    certificate-authority-data: {d}\n")
    });
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: kubespec\n  cluster:\n    server: {server}\n{ca}\
         contexts:\n\
         - name: kubespec\n  context:\n    cluster: kubespec\n    user: kubespec\n    namespace: default\n\
         current-context: kubespec\n\
         users:\n\
         - name: kubespec\n{user}"
    )
}

/// Loads `--apply` files into the server. Errors name the file and line.
fn apply_files(state: &AppState, files: &[PathBuf]) -> Result<()> {
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|source| CliError::Read {
            path: file.clone(),
            source,
        })?;
        let shown = file.display().to_string();
        let manifests = kubespec_harness::manifest::parse_manifests(&text, &shown)
            .map_err(|e| CliError::ServeUsage(e.to_string()))?;
        for m in manifests {
            let what = format!(
                "{} \"{}\"",
                m.object.kind(),
                m.object.name().unwrap_or_default()
            );
            state.apply_json(m.object.to_json()).map_err(|e| {
                CliError::ServeUsage(format!("{}:{}: {what}: {}", m.file, m.line, e.message))
            })?;
        }
    }
    Ok(())
}

/// Waits for Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub fn serve(args: ServeArgs) -> Result<()> {
    if !(args.time_scale >= 0.0 && args.time_scale.is_finite()) {
        return Err(CliError::ServeUsage(format!(
            "--time-scale {}: must be a number >= 0",
            args.time_scale
        )));
    }
    init_logging(args.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async move {
        // Listen for Ctrl-C from the start, so that one during loading is not lost.
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        let token = (!args.no_auth).then(new_token);
        let mut cluster = Cluster::new(ClusterConfig {
            seed: args.seed,
            nodes: args.nodes,
            // The trace grows with every write; a long-running server keeps the change log only.
            trace: false,
            ..ClusterConfig::default()
        });
        // Start the virtual clock at the wall clock's time, so that kubectl's ages and
        // timestamps read right. Nothing is scheduled yet, so this jump costs nothing.
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let since_epoch = wall.saturating_sub(kubespec_engine::time::EPOCH_SECONDS as u64 * 1000);
        cluster.run_until(kubespec_engine::Millis(since_epoch));
        let state = AppState::new(
            cluster,
            Config {
                token: token.clone(),
                time_scale: args.time_scale,
                ..Config::default()
            },
        );
        apply_files(&state, &args.apply)?;
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.address, args.port))
            .await
            .map_err(|e| {
                CliError::ServeUsage(format!(
                    "cannot listen on {}:{}: {e}",
                    args.address, args.port
                ))
            })?;
        let local = listener
            .local_addr()
            .map_err(|e| CliError::Serve(format!("cannot read the bound address: {e}")))?;
        // A server on every interface is still reached, and named in its certificate, as
        // 127.0.0.1 (or ::1).
        let reach = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), local.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), local.port())
            }
            _ => local,
        };
        let identity = if args.insecure_http {
            None
        } else {
            let hosts: Vec<IpAddr> = [args.address]
                .into_iter()
                .filter(|a| !a.is_unspecified())
                .collect();
            Some(
                kubespec_server::tls::Identity::generate(&hosts)
                    .map_err(|e| CliError::Serve(error_chain(&e)))?,
            )
        };
        let scheme = if identity.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{reach}");
        if let Some(path) = &args.kubeconfig {
            let ca = identity.as_ref().map(|i| i.ca_data());
            std::fs::write(path, kubeconfig(&url, ca.as_deref(), token.as_deref())).map_err(
                |source| CliError::Create {
                    what: "kubeconfig",
                    path: path.clone(),
                    source,
                },
            )?;
        }
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on {url}");
        match &args.kubeconfig {
            Some(path) => {
                let _ = writeln!(out, "kubeconfig: {}", path.display());
            }
            None => {
                if let Some(token) = &token {
                    let _ = writeln!(out, "token: {token}");
                }
            }
        }
        let _ = out.flush();
        let clock = state.spawn_clock();
        let mut graceful = stop_rx.clone();
        let shutdown = async move {
            let _ = graceful.wait_for(|s| *s).await;
        };
        let app = router(state);
        let server = match &identity {
            Some(identity) => {
                let config = identity
                    .server_config()
                    .map_err(|e| CliError::Serve(error_chain(&e)))?;
                tokio::spawn(kubespec_server::tls::serve(listener, app, config, shutdown))
            }
            None => tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }),
        };
        // Open watches keep connections alive; give them a moment after the signal, then go.
        let result = tokio::select! {
            r = server => r.map_err(|e| CliError::Serve(e.to_string()))
                .and_then(|r| r.map_err(|e| CliError::Serve(e.to_string()))),
            () = async {
                let _ = stop_rx.wait_for(|s| *s).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            } => Ok(()),
        };
        if let Some(c) = clock {
            c.abort();
        }
        result
    })
}

/// `e` and its sources, joined with ": ".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubeconfig_names_everything_kubespec() {
        let k = kubeconfig("https://127.0.0.1:1234", Some("Q0E="), Some("abc"));
        let v: serde_json::Value = serde_saphyr::from_str(&k).unwrap();
        assert_eq!(v["current-context"], "kubespec");
        assert_eq!(v["clusters"][0]["name"], "kubespec");
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:1234"
        );
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            "Q0E="
        );
        assert_eq!(v["users"][0]["user"]["token"], "abc");
        assert_eq!(v["contexts"][0]["context"]["user"], "kubespec");
        assert_eq!(new_token().len(), 32);
        assert_ne!(new_token(), new_token());
        let anonymous: serde_json::Value =
            serde_saphyr::from_str(&kubeconfig("http://x", None, None)).unwrap();
        assert_eq!(anonymous["users"][0]["user"], serde_json::json!({}));
        assert_eq!(
            anonymous["clusters"][0]["cluster"],
            serde_json::json!({"server": "http://x"})
        );
    }
}

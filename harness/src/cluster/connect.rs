//! Which cluster the cluster backend talks to, and whether it may: kubeconfig loading, the
//! context safety rule ([`check_context`]), and the per-scenario served engine in process
//! ([`Target::InProcess`]).

use crate::{Error, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubespec_engine::Cluster;
use kubespec_server::{AppState, Config};
use std::path::PathBuf;

/// How to reach a cluster from a kubeconfig.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`; otherwise `KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; otherwise the kubeconfig's current context.
    pub context: Option<String>,
    /// `--allow-context` patterns (`*` matches any run of characters).
    pub allow_contexts: Vec<String>,
    /// `--keep-namespaces`: leave each scenario's namespace behind for debugging.
    pub keep_namespaces: bool,
    /// `--plain-cluster`: treat the cluster as a real one even when it is a `kubespec serve`
    /// engine: no engine extensions, wall-clock time, image behaviour acted out by agnhost.
    pub plain: bool,
    /// The cluster runs no containers (kwok): image behaviour cannot be acted out.
    pub no_containers: bool,
    /// `--agnhost-images all`: every image runs agnhost on a real cluster, not only those a
    /// step describes.
    pub agnhost_all_images: bool,
}

/// Where scenarios run.
#[derive(Clone)]
pub enum Target {
    /// A cluster reached through a kubeconfig, shared by every scenario.
    External(Connection),
    /// A fresh served engine per scenario, in process (a kube `Client` over its router): the
    /// same kube-rs code path, with each scenario's virtual time its own.
    InProcess { keep_namespaces: bool },
}

/// A cluster reached through a kubeconfig.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// The context's name, for messages.
    pub context: String,
    pub keep_namespaces: bool,
    /// See [`ConnectOptions::plain`].
    pub plain: bool,
    /// See [`ConnectOptions::no_containers`].
    pub no_containers: bool,
    /// See [`ConnectOptions::agnhost_all_images`].
    pub agnhost_all_images: bool,
    /// The kubeconfig the client was built from (file paths made absolute), for controller
    /// programs: they get a copy whose context defaults to the scenario's namespace.
    pub kubeconfig: Option<Box<Kubeconfig>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connection(context {:?})", self.context)
    }
}

/// The context name and cluster server kubespec's own kubeconfigs (`kubespec serve
/// --kubeconfig`) use.
pub const KUBESPEC_CONTEXT: &str = "kubespec";

/// The safety rule: kubespec runs only against a context it started (`kubespec serve`'s
/// kubeconfig: context `kubespec` on a loopback server), one named with `--context`, or one an
/// `--allow-context` pattern matches.
///
/// # Errors
///
/// The context is none of those; the message says how to allow it.
pub fn check_context(
    context: &str,
    server: Option<&str>,
    named: bool,
    allow: &[String],
) -> Result<()> {
    if named || allow.iter().any(|p| glob_match(p, context)) {
        return Ok(());
    }
    if context == KUBESPEC_CONTEXT && server.is_some_and(is_loopback_url) {
        return Ok(());
    }
    Err(Error::Backend(format!(
        "refusing to run against context {context:?} (server {}): kubespec did not start it. \
         Scenarios create and delete namespaces there; name the context with \
         `--context {context}` or allow it with `--allow-context '{context}'` (patterns take `*`)",
        server.unwrap_or("unknown")
    )))
}

/// Whether a server URL points at this machine.
fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        rest.split([':', '/']).next().unwrap_or("")
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Loads the kubeconfig, applies the safety rule and builds a client.
///
/// # Errors
///
/// The kubeconfig cannot be read, the context does not exist or is refused, or the client
/// cannot be built from it. Messages name the context.
pub async fn connect(opts: &ConnectOptions) -> Result<Connection> {
    let kc = match &opts.kubeconfig {
        Some(p) => Kubeconfig::read_from(p).map_err(|e| {
            Error::Backend(format!("cannot read kubeconfig {}: {e}", p.display()))
        })?,
        None => Kubeconfig::read().map_err(|e| {
            Error::Backend(format!(
                "cannot read the kubeconfig (KUBECONFIG or ~/.kube/config): {e}; pass --kubeconfig FILE"
            ))
        })?,
    };
    let context = opts
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .ok_or_else(|| {
            Error::Backend("the kubeconfig has no current context; pass --context NAME".into())
        })?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .ok_or_else(|| {
            Error::Backend(format!("the kubeconfig has no context named {context:?}"))
        })?;
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone());
    check_context(
        &context,
        server.as_deref(),
        opts.context.is_some(),
        &opts.allow_contexts,
    )?;
    let kept = kc.clone();
    let config = kube::Config::from_custom_kubeconfig(
        kc,
        &KubeConfigOptions {
            context: Some(context.clone()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| Error::Backend(format!("context {context:?}: {e}")))?;
    let client = kube::Client::try_from(config)
        .map_err(|e| Error::Backend(format!("context {context:?}: {e}")))?;
    Ok(Connection {
        client,
        context,
        keep_namespaces: opts.keep_namespaces,
        plain: opts.plain,
        no_containers: opts.no_containers,
        agnhost_all_images: opts.agnhost_all_images,
        kubeconfig: Some(Box::new(kept)),
    })
}

/// A served engine of its own for one scenario, in process: the engine, and a client over its
/// router. The state must live as long as the client is used.
pub fn in_process_engine(seed: u64) -> (AppState, kube::Client) {
    let cluster = Cluster::new(kubespec_engine::ClusterConfig {
        seed,
        ..Default::default()
    });
    let state = AppState::new(
        cluster,
        Config {
            // A scenario's every write stays readable, so its watches never need to relist.
            change_log_capacity: 1_000_000,
            ..Config::default()
        },
    );
    let client = kube::Client::new(kubespec_server::router(state.clone()), "default");
    (state, client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_kubespec_did_not_start_is_refused_with_the_way_to_allow_it() {
        let e = check_context("prod-eu", Some("https://10.0.0.1:6443"), false, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--context prod-eu"), "{e}");
        assert!(e.contains("--allow-context"), "{e}");
        // Named explicitly, or matched by a pattern: allowed.
        check_context("prod-eu", Some("https://10.0.0.1:6443"), true, &[]).unwrap();
        check_context("kind-ci", None, false, &["kind-*".into()]).unwrap();
        assert!(check_context("kind-ci", None, false, &["k3d-*".into()]).is_err());
    }

    #[test]
    fn kubespec_serve_s_own_context_is_allowed_on_loopback_only() {
        check_context("kubespec", Some("https://127.0.0.1:6443"), false, &[]).unwrap();
        check_context("kubespec", Some("http://localhost:8080"), false, &[]).unwrap();
        check_context("kubespec", Some("https://[::1]:6443"), false, &[]).unwrap();
        assert!(check_context("kubespec", Some("https://10.1.2.3:6443"), false, &[]).is_err());
        assert!(check_context("kubespec", None, false, &[]).is_err());
    }

    #[test]
    fn glob_patterns() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("kind-*", "kind-ci"));
        assert!(glob_match("*-ci", "kind-ci"));
        assert!(glob_match("k*d-*i", "kind-ci"));
        assert!(!glob_match("kind-*", "k3d-ci"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exact2"));
    }
}

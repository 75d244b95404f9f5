//! Clusters kubespec starts for a run (`--backend kind|k3s|kwok`): a kind node, a k3s server or a
//! kwok cluster in a container, through testcontainers (cargo feature `containers`).
//!
//! Everything that decides *what* to run is pure and tested here without Docker: image names
//! per Kubernetes version ([`Flavor::image_for`]), kind's kubeadm configuration and the commands
//! run inside its node ([`kind`]), kwok's simulated node ([`kwok`]), and the kubeconfig rewritten
//! to the port Docker mapped ([`kubeconfig`]). [`ready`] waits for a schedulable, Ready node
//! through any kube client, so it is tested against the served engine. Starting the containers
//! ([`launch`]) needs a Docker engine; its tests are opt-in.

pub mod k3s;
pub mod kind;
pub mod kubeconfig;
pub mod kwok;
pub mod ready;

use std::time::Duration;

/// The Kubernetes version clusters run unless `--kubernetes-version` says otherwise: the one
/// kubespec's API types (k8s-openapi `v1_34`) describe.
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.34.0";

/// The kwok release whose cluster image is used (`registry.k8s.io/kwok/cluster`).
pub const KWOK_RELEASE: &str = "v0.7.0";

/// Which cluster to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// kind's node image (`kindest/node`), brought up by hand as `kind create cluster` does.
    Kind,
    /// A k3s server (`rancher/k3s`).
    K3s,
    /// kwok's all-in-one cluster: a real API server and controllers, simulated nodes.
    Kwok,
}

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "Kubernetes version {0:?} is not MAJOR.MINOR.PATCH (for example {DEFAULT_KUBERNETES_VERSION})"
    )]
    BadVersion(String),
    #[error(
        "kubespec was built without the `containers` feature, so it cannot start a {0} cluster; rebuild with `cargo build --release --features containers`"
    )]
    NotBuilt(&'static str),
    #[error("docker: {0}")]
    Docker(String),
    #[error("`{command}` exited with {code:?} in the {flavor} container:\n{output}")]
    Command {
        flavor: &'static str,
        command: String,
        code: Option<i64>,
        output: String,
    },
    #[error("the kubeconfig of the {flavor} cluster: {message}")]
    Kubeconfig {
        flavor: &'static str,
        message: String,
    },
    #[error("{what} did not happen within {after:?}; last seen: {observed}")]
    Timeout {
        what: String,
        after: Duration,
        observed: String,
    },
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Kind => "kind",
            Flavor::K3s => "k3s",
            Flavor::Kwok => "kwok",
        }
    }

    /// The image for Kubernetes `version` (`1.34.0` or `v1.34.0`). The tags follow each
    /// project's naming; `--image` picks another when a release is not published under it.
    ///
    /// # Errors
    ///
    /// `BadVersion` when `version` is not `MAJOR.MINOR.PATCH`.
    pub fn image_for(self, version: &str) -> Result<String, Error> {
        let v = parse_version(version)?;
        let v = format!("v{}.{}.{}", v.0, v.1, v.2);
        Ok(match self {
            Flavor::Kind => format!("kindest/node:{v}"),
            Flavor::K3s => format!("rancher/k3s:{v}-k3s1"),
            Flavor::Kwok => format!("registry.k8s.io/kwok/cluster:{KWOK_RELEASE}-k8s.{v}"),
        })
    }
}

/// `MAJOR.MINOR.PATCH`, with or without a leading `v`.
///
/// # Errors
///
/// `BadVersion` for anything else.
pub fn parse_version(version: &str) -> Result<(u32, u32, u32), Error> {
    let bad = || Error::BadVersion(version.to_string());
    let mut parts = version.strip_prefix('v').unwrap_or(version).split('.');
    let mut next =
        || -> Result<u32, Error> { parts.next().ok_or_else(bad)?.parse().map_err(|_| bad()) };
    let v = (next()?, next()?, next()?);
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(v)
}

/// Splits `repository:tag` (a registry port's colon is not a tag separator).
pub fn split_image(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// The Docker host's name when `DOCKER_HOST` points at a remote engine (`tcp://name:port`,
/// `ssh://user@name`): the API server is then reached by that name, which its certificate
/// must carry. `None` for a local socket or a loopback address.
pub fn remote_docker_host(docker_host: Option<&str>) -> Option<String> {
    let rest = docker_host?.split_once("://")?.1;
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.0,
        None => host_port.split(':').next()?,
    };
    let host = host.split('/').next()?;
    (!host.is_empty() && !matches!(host, "localhost" | "127.0.0.1" | "::1"))
        .then(|| host.to_string())
}

/// How to start a cluster.
#[derive(Clone, Debug)]
pub struct Options {
    pub flavor: Flavor,
    pub kubernetes_version: String,
    /// Overrides [`Flavor::image_for`].
    pub image: Option<String>,
    /// How long the container may take to start.
    pub startup_timeout: Duration,
    /// How long, once started, until a node is Ready.
    pub ready_timeout: Duration,
}

impl Options {
    pub fn new(flavor: Flavor) -> Options {
        Options {
            flavor,
            kubernetes_version: DEFAULT_KUBERNETES_VERSION.into(),
            image: None,
            startup_timeout: Duration::from_secs(300),
            ready_timeout: Duration::from_secs(180),
        }
    }

    /// The image to run.
    ///
    /// # Errors
    ///
    /// `BadVersion`.
    pub fn image(&self) -> Result<String, Error> {
        match &self.image {
            Some(i) => Ok(i.clone()),
            None => self.flavor.image_for(&self.kubernetes_version),
        }
    }
}

/// A started cluster: its kubeconfig, and the container, which is removed when this is dropped
/// unless [`Cluster::keep`] was called.
pub struct Cluster {
    pub flavor: Flavor,
    pub image: String,
    /// A kubeconfig (JSON, which is also YAML) whose current context is the cluster.
    pub kubeconfig: String,
    #[cfg(feature = "containers")]
    container: Option<containers::Handle>,
}

impl Cluster {
    /// Leaves the container running after kubespec exits (`--keep-cluster`); returns its id.
    pub fn keep(&mut self) -> Option<String> {
        #[cfg(feature = "containers")]
        {
            self.container.take().map(containers::Handle::keep)
        }
        #[cfg(not(feature = "containers"))]
        {
            None
        }
    }
}

/// Starts a cluster and waits until it has a Ready node, reporting progress through `progress`
/// (one line per phase: pulling, booting, kubeadm, CNI, waiting for the node).
///
/// # Errors
///
/// Docker is unreachable, a step inside the container failed (its output is in the error), or
/// a wait timed out (with what was last seen).
pub async fn launch(options: &Options, progress: &(dyn Fn(&str) + Sync)) -> Result<Cluster, Error> {
    #[cfg(feature = "containers")]
    {
        containers::launch(options, progress).await
    }
    #[cfg(not(feature = "containers"))]
    {
        let _ = progress;
        Err(Error::NotBuilt(options.flavor.name()))
    }
}

#[cfg(feature = "containers")]
mod containers;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_follow_each_projects_tag_naming() {
        assert_eq!(
            Flavor::Kind.image_for("1.34.0").unwrap(),
            "kindest/node:v1.34.0"
        );
        assert_eq!(
            Flavor::K3s.image_for("v1.33.4").unwrap(),
            "rancher/k3s:v1.33.4-k3s1"
        );
        assert_eq!(
            Flavor::Kwok.image_for("1.33.0").unwrap(),
            "registry.k8s.io/kwok/cluster:v0.7.0-k8s.v1.33.0"
        );
        for bad in ["1.34", "1.34.0.1", "latest", "v1.x.0", ""] {
            assert!(
                matches!(Flavor::Kind.image_for(bad), Err(Error::BadVersion(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_image_splits_at_its_tag_not_at_a_registry_port() {
        assert_eq!(
            split_image("registry.k8s.io/kwok/cluster:v0.7.0-k8s.v1.33.0"),
            ("registry.k8s.io/kwok/cluster", "v0.7.0-k8s.v1.33.0")
        );
        assert_eq!(
            split_image("localhost:5000/kindest/node"),
            ("localhost:5000/kindest/node", "latest")
        );
        assert_eq!(
            split_image("localhost:5000/node:v1"),
            ("localhost:5000/node", "v1")
        );
    }

    #[test]
    fn an_explicit_image_wins_over_the_version() {
        let mut o = Options::new(Flavor::K3s);
        o.kubernetes_version = "nonsense".into();
        assert!(o.image().is_err());
        o.image = Some("rancher/k3s:v1.34.1-k3s1".into());
        assert_eq!(o.image().unwrap(), "rancher/k3s:v1.34.1-k3s1");
    }

    #[test]
    fn a_remote_docker_host_is_named_and_a_local_one_is_not() {
        for (env, want) in [
            (None, None),
            (Some("unix:///var/run/docker.sock"), None),
            (Some("tcp://127.0.0.1:2375"), None),
            (Some("tcp://localhost:2375"), None),
            (Some("tcp://docker.internal:2376"), Some("docker.internal")),
            (
                Some("ssh://me@builder.example.com"),
                Some("builder.example.com"),
            ),
            (Some("tcp://[fd00::5]:2375"), Some("fd00::5")),
        ] {
            assert_eq!(remote_docker_host(env).as_deref(), want, "{env:?}");
        }
    }

    #[cfg(not(feature = "containers"))]
    #[tokio::test]
    async fn without_the_feature_launch_says_how_to_get_it() {
        let e = launch(&Options::new(Flavor::Kind), &|_| {})
            .await
            .err()
            .unwrap();
        assert!(e.to_string().contains("--features containers"), "{e}");
    }
}

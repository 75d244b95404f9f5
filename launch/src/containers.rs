//! Starting the clusters through testcontainers (feature `containers`; needs a Docker engine).
//! What runs is decided by the pure modules ([`crate::kind`], [`crate::k3s`], [`crate::kwok`],
//! [`crate::kubeconfig`]); this module only talks to Docker.

use crate::{Cluster, Error, Flavor, Options, k3s, kind, kubeconfig, kwok, ready, split_image};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, PostParams};
use std::time::Duration;
use testcontainers_modules::k3s::{K3s, KUBE_SECURE_PORT};
use testcontainers_modules::kwok::{KWOK_CLUSTER_PORT, KwokCluster};
use testcontainers_modules::testcontainers::core::{
    AccessMode, CgroupnsMode, ContainerPort, ExecCommand, Mount,
};
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{ContainerAsync, GenericImage, ImageExt};

/// The running container; dropping it removes it.
pub(crate) enum Handle {
    Kind(ContainerAsync<GenericImage>),
    K3s(ContainerAsync<K3s>),
    Kwok(ContainerAsync<KwokCluster>),
}

impl Handle {
    /// Leaves the container running; returns its id.
    pub(crate) fn keep(self) -> String {
        let id = match &self {
            Handle::Kind(c) => c.id().to_string(),
            Handle::K3s(c) => c.id().to_string(),
            Handle::Kwok(c) => c.id().to_string(),
        };
        std::mem::forget(self);
        id
    }
}

fn docker(e: impl std::fmt::Display) -> Error {
    Error::Docker(e.to_string())
}

/// The Docker host's name when it is remote (`DOCKER_HOST=tcp://name:port`): the API servers'
/// certificates must name it.
fn remote_docker_host() -> Option<String> {
    crate::remote_docker_host(std::env::var("DOCKER_HOST").ok().as_deref())
}

pub(crate) async fn launch(
    options: &Options,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Cluster, Error> {
    let image = options.image()?;
    let remote = remote_docker_host();
    progress(&format!(
        "starting a {} cluster from {image} (pulling it the first time takes a while)",
        options.flavor.name()
    ));
    let (kubeconfig, handle) = match options.flavor {
        Flavor::Kind => kind_cluster(options, &image, remote.as_deref(), progress).await?,
        Flavor::K3s => k3s_cluster(options, &image, remote.as_deref()).await?,
        Flavor::Kwok => kwok_cluster(options, &image).await?,
    };
    progress("waiting for a Ready node");
    let client = client(options.flavor, &kubeconfig).await?;
    if options.flavor == Flavor::Kwok {
        let nodes: Api<Node> = Api::all(client.clone());
        nodes
            .create(&PostParams::default(), &kwok::node())
            .await
            .map_err(|e| Error::Docker(format!("creating kwok's node: {e}")))?;
    }
    let node =
        ready::wait_for_ready_node(client, options.ready_timeout, Duration::from_secs(1)).await?;
    progress(&format!(
        "{} cluster ready (node {node})",
        options.flavor.name()
    ));
    Ok(Cluster {
        flavor: options.flavor,
        image,
        kubeconfig,
        container: Some(handle),
    })
}

async fn client(flavor: Flavor, kubeconfig: &str) -> Result<kube::Client, Error> {
    let err = |message: String| Error::Kubeconfig {
        flavor: flavor.name(),
        message,
    };
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).map_err(|e| err(e.to_string()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .map_err(|e| err(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| err(e.to_string()))
}

/// Runs `cmd` in the container; its output when it exits 0.
async fn exec(
    flavor: Flavor,
    c: &ContainerAsync<GenericImage>,
    cmd: &[String],
) -> Result<String, Error> {
    let mut res = c
        .exec(ExecCommand::new(cmd.iter().cloned()))
        .await
        .map_err(docker)?;
    let mut output =
        String::from_utf8_lossy(&res.stdout_to_vec().await.map_err(docker)?).into_owned();
    output.push_str(&String::from_utf8_lossy(
        &res.stderr_to_vec().await.map_err(docker)?,
    ));
    let code = res.exit_code().await.map_err(docker)?;
    if code == Some(0) {
        Ok(output)
    } else {
        Err(Error::Command {
            flavor: flavor.name(),
            command: cmd.join(" "),
            code,
            output,
        })
    }
}

async fn kind_cluster(
    options: &Options,
    image: &str,
    remote: Option<&str>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(String, Handle), Error> {
    let (repo, tag) = split_image(image);
    let c = GenericImage::new(repo, tag)
        .with_entrypoint("/usr/local/bin/entrypoint")
        .with_exposed_port(ContainerPort::Tcp(6443))
        .with_cmd(["/sbin/init"])
        .with_privileged(true)
        .with_cgroupns_mode(CgroupnsMode::Private)
        .with_hostname(kind::NODE_NAME)
        .with_mount(Mount::tmpfs_mount("/run"))
        .with_mount(Mount::tmpfs_mount("/tmp"))
        .with_mount(
            Mount::bind_mount("/lib/modules", "/lib/modules")
                .with_access_mode(AccessMode::ReadOnly),
        )
        .with_env_var("KUBECONFIG", kind::ADMIN_KUBECONFIG)
        .with_startup_timeout(options.startup_timeout)
        .start()
        .await
        .map_err(docker)?;
    progress("booting the node (systemd)");
    let wait_for_boot: Vec<String> = vec![
        "systemctl".into(),
        "is-system-running".into(),
        "--wait".into(),
    ];
    let boot = exec(Flavor::Kind, &c, &wait_for_boot);
    match tokio::time::timeout(options.startup_timeout, boot).await {
        Err(_) => {
            return Err(Error::Timeout {
                what: "the kind node's systemd boot".into(),
                after: options.startup_timeout,
                observed: "systemctl is-system-running --wait had not returned".into(),
            });
        }
        // `degraded` (a unit failed, as some do in containers) still runs kubelet.
        Ok(Err(Error::Command { output, .. })) if output.trim() == "degraded" => {}
        Ok(r) => {
            r?;
        }
    }
    let node_ip = c.get_bridge_ip_address().await.map_err(docker)?.to_string();
    let config = kind::kubeadm_config(&kind::KubeadmParams {
        kubernetes_version: options.kubernetes_version.clone(),
        node_ip,
        extra_sans: remote.map(str::to_string).into_iter().collect(),
    })?;
    for (what, cmd) in kind::bring_up(&config) {
        progress(what);
        if let Err(e) = exec(Flavor::Kind, &c, &cmd).await {
            let journal = exec(Flavor::Kind, &c, &kind::diagnostics())
                .await
                .unwrap_or_default();
            return Err(match e {
                Error::Command {
                    flavor,
                    command,
                    code,
                    output,
                } => Error::Command {
                    flavor,
                    command,
                    code,
                    output: format!("{output}\n-- the kubelet's journal --\n{journal}"),
                },
                other => other,
            });
        }
    }
    let raw = c
        .copy_file_from(kind::ADMIN_KUBECONFIG, Vec::<u8>::new())
        .await
        .map_err(docker)?;
    let port = c
        .get_host_port_ipv4(ContainerPort::Tcp(6443))
        .await
        .map_err(docker)?;
    let host = c.get_host().await.map_err(docker)?;
    let kubeconfig = kubeconfig::with_server(
        Flavor::Kind,
        &String::from_utf8_lossy(&raw),
        &format!("https://{host}:{port}"),
        None,
    )?;
    Ok((kubeconfig, Handle::Kind(c)))
}

async fn k3s_cluster(
    options: &Options,
    image: &str,
    remote: Option<&str>,
) -> Result<(String, Handle), Error> {
    let (repo, tag) = split_image(image);
    let c = K3s::default()
        .with_name(repo)
        .with_tag(tag)
        .with_privileged(true)
        .with_cgroupns_mode(CgroupnsMode::Host)
        .with_userns_mode("host")
        .with_mount(Mount::tmpfs_mount("/run"))
        .with_mount(Mount::tmpfs_mount("/var/run"))
        .with_cmd(k3s::server_args(remote))
        .with_startup_timeout(options.startup_timeout)
        .start()
        .await
        .map_err(docker)?;
    let raw = c
        .copy_file_from(k3s::KUBECONFIG_PATH, Vec::<u8>::new())
        .await
        .map_err(docker)?;
    let port = c
        .get_host_port_ipv4(KUBE_SECURE_PORT)
        .await
        .map_err(docker)?;
    let host = c.get_host().await.map_err(docker)?;
    let kubeconfig = kubeconfig::with_server(
        Flavor::K3s,
        &String::from_utf8_lossy(&raw),
        &format!("https://{host}:{port}"),
        None,
    )?;
    Ok((kubeconfig, Handle::K3s(c)))
}

async fn kwok_cluster(options: &Options, image: &str) -> Result<(String, Handle), Error> {
    let (repo, tag) = split_image(image);
    let c = KwokCluster::default()
        .with_name(repo)
        .with_tag(tag)
        .with_startup_timeout(options.startup_timeout)
        .start()
        .await
        .map_err(docker)?;
    let port = c
        .get_host_port_ipv4(KWOK_CLUSTER_PORT)
        .await
        .map_err(docker)?;
    let host = c.get_host().await.map_err(docker)?;
    let kubeconfig = kubeconfig::insecure(Flavor::Kwok, &format!("http://{host}:{port}"));
    Ok((kubeconfig, Handle::Kwok(c)))
}

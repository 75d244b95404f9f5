//! kind's node image brought up by hand, as `kind create cluster` does it and as the Java
//! library kindcontainer does inside Testcontainers: systemd as PID 1 in a privileged
//! container, `kubeadm init` with a generated configuration, the CNI (kindnet) and storage
//! manifests that ship in the node image, the control-plane taint removed, and the admin
//! kubeconfig copied out. This module holds the configuration and the commands; `containers`
//! runs them.

use crate::{Error, parse_version};

/// The node's name, host name and the cluster's name, as kind names a one-node cluster `kind`.
pub const NODE_NAME: &str = "kind-control-plane";
pub const POD_SUBNET: &str = "10.244.0.0/16";
pub const SERVICE_SUBNET: &str = "10.96.0.0/16";
/// Where the configuration is written inside the node.
pub const KUBEADM_CONFIG_PATH: &str = "/kind/kubeadm.conf";
pub const ADMIN_KUBECONFIG: &str = "/etc/kubernetes/admin.conf";
/// The systemd line the node prints once it has booted.
pub const BOOTED: &str = "Multi-User System";

/// What the kubeadm configuration depends on.
#[derive(Clone, Debug)]
pub struct KubeadmParams {
    pub kubernetes_version: String,
    /// The node's address on Docker's network.
    pub node_ip: String,
    /// Extra names the API server's certificate must carry (the Docker host's name when it is
    /// not local).
    pub extra_sans: Vec<String>,
}

/// kind's kubeadm configuration for a single control-plane node: `ClusterConfiguration` and
/// `InitConfiguration` (kubeadm `v1beta4` from Kubernetes 1.31, `v1beta3` before), the
/// `KubeletConfiguration` kind uses inside containers (systemd cgroups, no disk-pressure
/// eviction) and a `KubeProxyConfiguration`. The node registers without the control-plane
/// taint, so workloads schedule on it.
///
/// # Errors
///
/// `BadVersion`.
pub fn kubeadm_config(p: &KubeadmParams) -> Result<String, Error> {
    let (major, minor, patch) = parse_version(&p.kubernetes_version)?;
    let v4 = (major, minor) >= (1, 31);
    let api = if v4 { "v1beta4" } else { "v1beta3" };
    // v1beta4 writes extra arguments as a list of name/value pairs, v1beta3 as a map.
    let args = |indent: &str, pairs: &[(&str, &str)]| -> String {
        pairs
            .iter()
            .map(|(k, v)| {
                if v4 {
                    format!("{indent}- name: {k}\n{indent}  value: \"{v}\"\n")
                } else {
                    format!("{indent}{k}: \"{v}\"\n")
                }
            })
            .collect()
    };
    let mut sans = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        p.node_ip.clone(),
        NODE_NAME.to_string(),
    ];
    sans.extend(p.extra_sans.iter().cloned());
    let sans: String = sans.iter().map(|s| format!("  - \"{s}\"\n")).collect();
    let node_ip = &p.node_ip;
    Ok(format!(
        "apiVersion: kubeadm.k8s.io/{api}
kind: ClusterConfiguration
kubernetesVersion: v{major}.{minor}.{patch}
clusterName: kind
controlPlaneEndpoint: \"{NODE_NAME}:6443\"
networking:
  podSubnet: \"{POD_SUBNET}\"
  serviceSubnet: \"{SERVICE_SUBNET}\"
apiServer:
  certSANs:
{sans}controllerManager:
  extraArgs:
{cm}scheduler: {{}}
---
apiVersion: kubeadm.k8s.io/{api}
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: \"{node_ip}\"
  bindPort: 6443
nodeRegistration:
  name: \"{NODE_NAME}\"
  criSocket: \"unix:///run/containerd/containerd.sock\"
  taints: []
  kubeletExtraArgs:
{kubelet}---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
cgroupRoot: /kubelet
failSwapOn: false
imageGCHighThresholdPercent: 100
evictionHard:
  nodefs.available: \"0%\"
  nodefs.inodesFree: \"0%\"
  imagefs.available: \"0%\"
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
conntrack:
  maxPerCore: 0
",
        cm = args("  ", &[("enable-hostpath-provisioner", "true")]),
        kubelet = args(
            "  ",
            &[
                ("node-ip", node_ip),
                ("provider-id", "kind://docker/kind/kind-control-plane"),
            ]
        ),
    ))
}

/// `sh -c` that writes `content` to `path` (through a quoted here-document, so nothing in it
/// is expanded).
pub fn write_file(path: &str, content: &str) -> Vec<String> {
    let mut marker = "KUBESPEC_EOF".to_string();
    while content.lines().any(|l| l == marker) {
        marker.push('_');
    }
    let dir = path.rsplit_once('/').map_or(".", |(d, _)| d);
    sh(&format!(
        "mkdir -p {dir} && cat > {path} <<'{marker}'\n{content}\n{marker}\n"
    ))
}

/// The commands that bring the node up once systemd runs, in order, each with what it is for
/// (the progress line).
pub fn bring_up(config: &str) -> Vec<(&'static str, Vec<String>)> {
    let kubectl = format!("kubectl --kubeconfig={ADMIN_KUBECONFIG}");
    vec![
        (
            "writing the kubeadm configuration",
            write_file(KUBEADM_CONFIG_PATH, config),
        ),
        (
            "kubeadm init",
            vec![
                "kubeadm".into(),
                "init".into(),
                "--skip-phases=preflight".into(),
                format!("--config={KUBEADM_CONFIG_PATH}"),
                "--skip-token-print".into(),
                "--v=6".into(),
            ],
        ),
        (
            "installing the CNI (kindnet)",
            sh(&format!(
                "sed -e 's|{{{{ .PodSubnet }}}}|{POD_SUBNET}|g' /kind/manifests/default-cni.yaml | {kubectl} apply -f -"
            )),
        ),
        (
            "installing the default StorageClass",
            sh(&format!(
                "{kubectl} apply -f /kind/manifests/default-storage.yaml"
            )),
        ),
        (
            "removing the control-plane taint",
            sh(&format!(
                "{kubectl} taint nodes --all node-role.kubernetes.io/control-plane- node-role.kubernetes.io/master- || true"
            )),
        ),
    ]
}

/// What to run when `kubeadm init` fails: the kubelet's journal, for the error.
pub fn diagnostics() -> Vec<String> {
    sh("journalctl --no-pager -u kubelet | tail -n 50")
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: &str) -> KubeadmParams {
        KubeadmParams {
            kubernetes_version: v.into(),
            node_ip: "172.17.0.3".into(),
            extra_sans: vec!["docker.internal".into()],
        }
    }

    #[test]
    fn recent_versions_get_kubeadm_v1beta4_with_list_arguments() {
        let c = kubeadm_config(&params("1.34.0")).unwrap();
        assert!(c.starts_with("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.34.0\n"), "{c}");
        assert!(
            c.contains("  kubeletExtraArgs:\n  - name: node-ip\n    value: \"172.17.0.3\"\n"),
            "{c}"
        );
        assert!(c.contains("  - \"docker.internal\"\n"), "{c}");
        assert!(c.contains("  advertiseAddress: \"172.17.0.3\"\n"), "{c}");
        assert!(c.contains("  taints: []\n"), "{c}");
        assert!(
            c.contains(&format!("  podSubnet: \"{POD_SUBNET}\"\n")),
            "{c}"
        );
        assert_eq!(c.matches("\n---\n").count(), 3);
    }

    #[test]
    fn older_versions_get_v1beta3_with_map_arguments() {
        let c = kubeadm_config(&params("v1.30.13")).unwrap();
        assert!(c.starts_with("apiVersion: kubeadm.k8s.io/v1beta3\n"), "{c}");
        assert!(c.contains("kubernetesVersion: v1.30.13\n"), "{c}");
        assert!(
            c.contains("  kubeletExtraArgs:\n  node-ip: \"172.17.0.3\"\n"),
            "{c}"
        );
        assert!(matches!(
            kubeadm_config(&params("1.30")),
            Err(Error::BadVersion(_))
        ));
    }

    #[test]
    fn the_bring_up_runs_kubeadm_then_the_shipped_manifests() {
        let steps = bring_up("cfg");
        let names: Vec<&str> = steps.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "writing the kubeadm configuration",
                "kubeadm init",
                "installing the CNI (kindnet)",
                "installing the default StorageClass",
                "removing the control-plane taint"
            ]
        );
        assert_eq!(
            steps[1].1,
            [
                "kubeadm",
                "init",
                "--skip-phases=preflight",
                "--config=/kind/kubeadm.conf",
                "--skip-token-print",
                "--v=6"
            ]
        );
        assert_eq!(
            steps[2].1[2],
            "sed -e 's|{{ .PodSubnet }}|10.244.0.0/16|g' /kind/manifests/default-cni.yaml | kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -"
        );
    }

    #[test]
    fn a_file_is_written_verbatim_even_when_it_contains_the_marker() {
        let cmd = write_file("/kind/kubeadm.conf", "a: $HOME\nKUBESPEC_EOF\nb: `x`");
        assert_eq!(&cmd[..2], ["sh", "-c"]);
        assert!(
            cmd[2].starts_with("mkdir -p /kind && cat > /kind/kubeadm.conf <<'KUBESPEC_EOF_'\n")
        );
        assert!(cmd[2].ends_with("\nKUBESPEC_EOF_\n"));
        // Run it: the shell writes exactly the content.
        let dir = std::env::temp_dir().join(format!("kubespec-kind-{}", std::process::id()));
        let path = dir.join("kubeadm.conf");
        let cmd = write_file(path.to_str().unwrap(), "a: $HOME\nKUBESPEC_EOF\nb: `x`");
        let st = std::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "a: $HOME\nKUBESPEC_EOF\nb: `x`\n"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

//! A k3s server (`rancher/k3s`) through testcontainers-modules' K3s image, run as its Java and
//! Go modules run it: privileged, host cgroup namespace, tmpfs on `/run`, Traefik disabled.

/// Where k3s writes its admin kubeconfig.
pub const KUBECONFIG_PATH: &str = "/etc/rancher/k3s/k3s.yaml";

/// The server's arguments. `tls_san` adds the Docker host's name to the serving certificate
/// when the API is reached through a remote Docker host.
pub fn server_args(tls_san: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "server".to_string(),
        "--disable=traefik".to_string(),
        "--snapshotter=native".to_string(),
    ];
    if let Some(san) = tls_san {
        args.push(format!("--tls-san={san}"));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_is_off_and_a_remote_host_is_a_san() {
        assert_eq!(
            server_args(None),
            ["server", "--disable=traefik", "--snapshotter=native"]
        );
        assert_eq!(
            server_args(Some("docker.internal")).last().unwrap(),
            "--tls-san=docker.internal"
        );
    }
}

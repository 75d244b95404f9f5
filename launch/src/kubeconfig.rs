//! Kubeconfigs of started clusters: the one the cluster wrote, pointed at the port Docker
//! mapped, or one made by hand for a server without credentials (kwok).

use crate::{Error, Flavor};
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

/// Points every cluster of `yaml` (the admin kubeconfig copied out of the container) at
/// `server`, the address Docker mapped the API server's port to, and names the cluster, user
/// and context `kubespec-<flavor>`. The CA and credentials stay. When `server`'s host is not
/// one the serving certificate names, `tls_server_name` says which name to check instead.
///
/// # Errors
///
/// The text is not a kubeconfig, or has no cluster.
pub fn with_server(
    flavor: Flavor,
    yaml: &str,
    server: &str,
    tls_server_name: Option<&str>,
) -> Result<String, Error> {
    let err = |message: String| Error::Kubeconfig {
        flavor: flavor.name(),
        message,
    };
    let mut kc = Kubeconfig::from_yaml(yaml).map_err(|e| err(e.to_string()))?;
    if kc.clusters.is_empty() {
        return Err(err("it names no cluster".into()));
    }
    let name = format!("kubespec-{}", flavor.name());
    let cluster = kc.clusters.remove(0);
    let mut c = cluster.cluster.unwrap_or_default();
    c.server = Some(server.to_string());
    if let Some(n) = tls_server_name {
        c.tls_server_name = Some(n.to_string());
    }
    let auth = kc
        .auth_infos
        .first()
        .and_then(|a| a.auth_info.clone())
        .ok_or_else(|| err("it names no user".into()))?;
    Ok(render(name, c, auth))
}

/// A kubeconfig for `server` with no credentials (kwok's insecure port).
pub fn insecure(flavor: Flavor, server: &str) -> String {
    let c = Cluster {
        server: Some(server.to_string()),
        ..Default::default()
    };
    render(
        format!("kubespec-{}", flavor.name()),
        c,
        AuthInfo::default(),
    )
}

fn render(name: String, cluster: Cluster, auth: AuthInfo) -> String {
    let kc = Kubeconfig {
        clusters: vec![NamedCluster {
            name: name.clone(),
            cluster: Some(cluster),
            other: Default::default(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: name.clone(),
            auth_info: Some(auth),
            other: Default::default(),
        }],
        contexts: vec![NamedContext {
            name: name.clone(),
            context: Some(Context {
                cluster: name.clone(),
                user: Some(name.clone()),
                ..Default::default()
            }),
            other: Default::default(),
        }],
        current_context: Some(name),
        api_version: Some("v1".into()),
        kind: Some("Config".into()),
        ..Default::default()
    };
    serde_json::to_string_pretty(&kc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "\
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://10.89.0.2:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
";

    #[test]
    fn the_admin_kubeconfig_points_at_the_mapped_port_and_keeps_its_credentials() {
        let out = with_server(Flavor::Kind, ADMIN, "https://127.0.0.1:32771", None).unwrap();
        let kc = Kubeconfig::from_yaml(&out).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("kubespec-kind"));
        let c = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(c.server.as_deref(), Some("https://127.0.0.1:32771"));
        assert_eq!(c.certificate_authority_data.as_deref(), Some("Q0E="));
        let u = kc.auth_infos[0].auth_info.as_ref().unwrap();
        assert_eq!(u.client_certificate_data.as_deref(), Some("Q0VSVA=="));
        let ctx = kc.contexts[0].context.as_ref().unwrap();
        assert_eq!(
            (ctx.cluster.as_str(), ctx.user.as_deref()),
            ("kubespec-kind", Some("kubespec-kind"))
        );
    }

    #[test]
    fn a_remote_docker_host_keeps_the_certificates_name() {
        let out = with_server(
            Flavor::K3s,
            ADMIN,
            "https://docker.internal:32771",
            Some("localhost"),
        )
        .unwrap();
        let kc = Kubeconfig::from_yaml(&out).unwrap();
        let c = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(c.tls_server_name.as_deref(), Some("localhost"));
    }

    #[test]
    fn garbage_is_an_error_that_names_the_flavor() {
        let e = with_server(Flavor::K3s, "clusters: 5", "https://x", None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("the kubeconfig of the k3s cluster"),
            "{e}"
        );
        let e = with_server(
            Flavor::K3s,
            "apiVersion: v1\nkind: Config\n",
            "https://x",
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("no cluster"), "{e}");
    }

    #[test]
    fn kwoks_kubeconfig_has_no_credentials() {
        let out = insecure(Flavor::Kwok, "http://127.0.0.1:32000");
        let kc = Kubeconfig::from_yaml(&out).unwrap();
        assert_eq!(
            kc.clusters[0].cluster.as_ref().unwrap().server.as_deref(),
            Some("http://127.0.0.1:32000")
        );
        assert!(kc.auth_infos[0].auth_info.as_ref().unwrap().token.is_none());
    }
}

//! Waiting until a started cluster can run pods: a node that is Ready and schedulable, and the
//! `default` ServiceAccount (pods are refused until the ServiceAccount controller made it).

use crate::Error;
use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::Api;
use kube::api::ListParams;
use std::time::Duration;

/// Whether a node accepts pods: `Ready=True`, not cordoned, no `NoSchedule`/`NoExecute` taint.
pub fn schedulable(n: &Node) -> bool {
    let ready = n
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let spec = n.spec.as_ref();
    let cordoned = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    let tainted = spec.and_then(|s| s.taints.as_ref()).is_some_and(|ts| {
        ts.iter()
            .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
    });
    ready && !cordoned && !tainted
}

/// One line per node: name, Ready condition, taints (what a timeout reports).
fn describe(nodes: &[Node]) -> String {
    if nodes.is_empty() {
        return "no nodes".into();
    }
    nodes
        .iter()
        .map(|n| {
            let ready = n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
                .map_or("Ready unknown".to_string(), |c| {
                    format!("Ready={} ({})", c.status, c.reason.as_deref().unwrap_or(""))
                });
            let taints: Vec<String> = n
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .into_iter()
                .flatten()
                .map(|t| format!("{}:{}", t.key, t.effect))
                .collect();
            format!(
                "{} {ready} taints [{}]",
                n.metadata.name.as_deref().unwrap_or("?"),
                taints.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Polls every `every` until a node is schedulable and the `default` ServiceAccount exists in
/// namespace `default`, at most `timeout`. Returns the schedulable node's name.
///
/// # Errors
///
/// `Timeout`, with the nodes (or the API error) last seen.
pub async fn wait_for_ready_node(
    client: kube::Client,
    timeout: Duration,
    every: Duration,
) -> Result<String, Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    let accounts: Api<ServiceAccount> = Api::namespaced(client, "default");
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let observed: String;
        match nodes.list(&ListParams::default()).await {
            Ok(list) => {
                let ready = list.items.iter().find(|n| schedulable(n));
                match ready {
                    Some(n) => match accounts.get("default").await {
                        Ok(_) => return Ok(n.metadata.name.clone().unwrap_or_default()),
                        // A server that serves no ServiceAccounts (kubespec's engine) admits
                        // pods without one.
                        Err(kube::Error::Api(s))
                            if s.code == 404 && !s.message.contains("\"default\"") =>
                        {
                            return Ok(n.metadata.name.clone().unwrap_or_default());
                        }
                        Err(kube::Error::Api(s)) if s.code == 404 => {
                            observed =
                                "no ServiceAccount \"default\" in namespace default yet".into()
                        }
                        Err(e) => observed = format!("reading the default ServiceAccount: {e}"),
                    },
                    None => observed = describe(&list.items),
                }
            }
            Err(e) => observed = format!("listing nodes: {e}"),
        }
        if tokio::time::Instant::now() + every > deadline {
            return Err(Error::Timeout {
                what: "a Ready, schedulable node".into(),
                after: timeout,
                observed,
            });
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::{Patch, PatchParams};
    use kubespec_server::{AppState, Config, router};

    fn served() -> kube::Client {
        let state = AppState::new(
            kubespec_engine::Cluster::new(kubespec_engine::ClusterConfig::default()),
            Config::default(),
        );
        kube::Client::new(router(state), "default")
    }

    #[tokio::test]
    async fn a_ready_node_is_found_on_the_served_engine() {
        let name =
            wait_for_ready_node(served(), Duration::from_secs(10), Duration::from_millis(50))
                .await
                .unwrap();
        assert!(!name.is_empty());
    }

    #[tokio::test]
    async fn tainted_nodes_time_out_with_what_was_seen() {
        let client = served();
        let nodes: Api<Node> = Api::all(client.clone());
        for n in nodes.list(&ListParams::default()).await.unwrap().items {
            let name = n.metadata.name.unwrap();
            nodes
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(serde_json::json!({"spec": {"taints": [
                        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
                    ]}})),
                )
                .await
                .unwrap();
        }
        let e = wait_for_ready_node(
            client,
            Duration::from_millis(300),
            Duration::from_millis(50),
        )
        .await
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("a Ready, schedulable node did not happen within 300ms"),
            "{text}"
        );
        assert!(
            text.contains("taints [node-role.kubernetes.io/control-plane:NoSchedule]"),
            "{text}"
        );
    }
}

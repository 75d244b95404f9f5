//! `configmap-watcher`: runs the example controller against the cluster of the current
//! kubeconfig (`KUBECONFIG`, `~/.kube/config`), for instance one that `kubespec serve` wrote.
//!
//! `WATCH_NAMESPACE` limits it to one namespace, as in the original script; without it, it
//! watches every namespace.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let client = match kube::Client::try_default().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configmap-watcher: no cluster to talk to: {e}");
            return ExitCode::from(2);
        }
    };
    let namespace = std::env::var("WATCH_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty());
    eprintln!(
        "configmap-watcher: watching ConfigMaps in {}",
        namespace
            .as_deref()
            .map_or("every namespace".to_string(), |n| format!(
                "namespace {n:?}"
            ))
    );
    configmap_watcher::run(client, namespace.as_deref()).await;
    ExitCode::SUCCESS
}

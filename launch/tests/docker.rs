//! Starting each cluster for real. Needs a Docker engine and the `containers` feature:
//! `cargo test -p kubespec-launch --features containers -- --ignored`.

#![cfg(feature = "containers")]

use kubespec_launch::{Flavor, Options, launch};

async fn starts(flavor: Flavor) {
    let mut cluster = launch(&Options::new(flavor), &|line| eprintln!("{line}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        cluster
            .kubeconfig
            .contains(&format!("kubespec-{}", flavor.name()))
    );
    if std::env::var_os("KUBESPEC_KEEP_CLUSTER").is_some() {
        eprintln!("kept container {:?}", cluster.keep());
    }
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_kind_node_comes_up_ready() {
    starts(Flavor::Kind).await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_k3s_server_comes_up_ready() {
    starts(Flavor::K3s).await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_kwok_cluster_comes_up_with_its_simulated_node_ready() {
    starts(Flavor::Kwok).await;
}

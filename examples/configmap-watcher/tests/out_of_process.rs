//! The controller as a separate program: the built `configmap-watcher` binary runs with
//! `KUBECONFIG` pointing at an in-memory cluster served on a loopback port (what
//! `Given the controller command "…" is running` does), and replaces the web app's pods when its
//! ConfigMap changes.

use kubespec_harness::manifest::parse_manifests;
use kubespec_harness::{Backend, MemoryBackend};
use std::time::Duration;

const WEBAPP: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: webapp-config
  annotations:
    k8spatterns.io/podDeleteSelector: "app=webapp"
data:
  message: "first"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: webapp
spec:
  replicas: 2
  selector:
    matchLabels:
      app: webapp
  template:
    metadata:
      labels:
        app: webapp
    spec:
      containers:
      - name: app
        image: mini-http-server
        env:
        - name: MESSAGE
          valueFrom:
            configMapKeyRef:
              name: webapp-config
              key: message
"#;

const CHANGED: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: webapp-config
  annotations:
    k8spatterns.io/podDeleteSelector: "app=webapp"
data:
  message: "second"
"#;

async fn messages(b: &mut MemoryBackend) -> Vec<String> {
    let mut out = Vec::new();
    for p in b.pods_of("webapp").await.expect("pods") {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = p.metadata.name.unwrap_or_default();
        let env = b.container_env(&name, "app").await.expect("env");
        out.push(
            env.and_then(|e| e.into_iter().find(|(k, _)| k == "MESSAGE").map(|(_, v)| v))
                .unwrap_or_else(|| "<not started>".into()),
        );
    }
    out
}

#[tokio::test(flavor = "current_thread")]
async fn the_program_replaces_the_pods_when_the_config_map_changes() {
    let mut b = MemoryBackend::with_seed(1);
    for m in parse_manifests(WEBAPP, "webapp.yaml").expect("manifest") {
        b.apply(&m).await.expect("apply");
    }
    b.advance(Duration::from_secs(10)).await.expect("time");
    assert_eq!(messages(&mut b).await, ["first", "first"]);

    let program = env!("CARGO_BIN_EXE_configmap-watcher");
    b.start_controller_command(program, std::path::Path::new("."))
        .await
        .expect("start the controller");
    // Wall time for the program to start, list and watch; virtual time stands still (each
    // zero advance only lets controllers react).
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        b.advance(Duration::ZERO).await.expect("quiesce");
    }

    for m in parse_manifests(CHANGED, "changed.yaml").expect("manifest") {
        b.apply(&m).await.expect("apply");
    }
    let mut seen = Vec::new();
    let ok = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            b.advance(Duration::from_millis(500)).await.expect("time");
            seen = messages(&mut b).await;
            if seen == ["second", "second"] {
                break;
            }
        }
    })
    .await;
    assert!(ok.is_ok(), "the pods still run with {seen:?}");
}

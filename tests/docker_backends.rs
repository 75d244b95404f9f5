//! Each cluster kubespec starts, for real, running `features/deployment/rolling_update.feature`.
//! Needs a Docker engine and the `containers` feature:
//! `cargo test --features containers --test docker_backends -- --ignored`.
//!
//! The suite's images are names (`web:v1`), so kind and k3s run every image as agnhost
//! (`--agnhost-images all`). kwok runs no containers: its scenarios with image behaviour steps
//! are skipped with the reason, and the others must pass.

#![cfg(feature = "containers")]

use assert_cmd::cargo::cargo_bin_cmd;

fn runs_rolling_updates_on(backend: &str, extra: &[&str]) -> String {
    let out = cargo_bin_cmd!("kubespec")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args([
            "run",
            "features/deployment/rolling_update.feature",
            "--backend",
            backend,
        ])
        .args(extra)
        .output()
        .expect("run kubespec");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("failed"), "{stdout}\n{stderr}");
    // The run removed its cluster.
    assert!(
        stderr.contains(&format!("removing the {backend} cluster")),
        "{stderr}"
    );
    stdout
}

#[test]
#[ignore = "needs docker"]
fn rolling_updates_pass_on_kind() {
    let out = runs_rolling_updates_on("kind", &["--agnhost-images", "all"]);
    assert!(!out.contains("skipped"), "{out}");
}

#[test]
#[ignore = "needs docker"]
fn rolling_updates_pass_on_k3s() {
    let out = runs_rolling_updates_on("k3s", &["--agnhost-images", "all"]);
    assert!(!out.contains("skipped"), "{out}");
}

#[test]
#[ignore = "needs docker"]
fn rolling_updates_pass_or_skip_with_a_reason_on_kwok() {
    runs_rolling_updates_on("kwok", &[]);
}

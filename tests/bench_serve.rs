//! `kubespec bench-serve` end to end, briefly: a `kubespec serve` child process under a small
//! load. The numbers are printed, never asserted; what is asserted is that the server answered
//! every request, every watcher saw exactly the acknowledged changes, and the resident set
//! sampled is the child's.

use assert_cmd::cargo::cargo_bin_cmd;
use std::time::Duration;

#[test]
fn bench_serve_loads_a_child_server_and_every_watcher_sees_every_change() {
    let out = cargo_bin_cmd!("kubespec")
        .args([
            "bench-serve",
            "--duration",
            "2s",
            "--watchers",
            "3",
            "--rate",
            "40",
            "--objects",
            "4",
            "--json",
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    println!("{v}");
    assert_eq!(v["server_in_process"], false);
    assert_eq!(v["requests"], 80);
    assert_eq!(v["errors"], 0);
    for k in ["missed", "duplicated", "unexpected", "out_of_order"] {
        assert_eq!(v[k], 0, "{k}");
    }
    // 40 patches, each seen by every watcher.
    assert_eq!(v["events_per_watcher_min"], 40);
    assert!(v["rss_mb_first"].as_f64().unwrap() > 0.0);
}

//! The `kubespec` command as a user runs it: exit codes and what it prints.
//!
//! Feature files are written to a fresh folder under cargo's per-target temporary directory.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;

/// A fresh, empty folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

fn kubespec() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("kubespec");
    cmd.env("NO_COLOR", "1");
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const DEPLOYMENT_STEP: &str = "Given a deployment {string} with {int} replicas of image {string}";

#[test]
fn steps_lists_the_public_vocabulary() {
    let out = kubespec()
        .arg("steps")
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    for phrase in [
        DEPLOYMENT_STEP,
        "Given the manifest:",
        "When I set the image of deployment {string} to {string}",
        "Then the rollout of deployment {string} completes within {duration}",
    ] {
        assert!(
            text.contains(phrase),
            "`kubespec steps` does not list {phrase:?}:\n{text}"
        );
    }
    assert!(
        text.contains(r#"Example: Given a deployment ""#),
        "no examples:\n{text}"
    );
}

#[test]
fn steps_markdown_is_a_table() {
    let out = kubespec()
        .args(["steps", "--markdown"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(text.contains("| Step | Description | Example |"), "{text}");
    assert!(text.contains(&format!("| `{DEPLOYMENT_STEP}` |")), "{text}");
}

#[test]
fn check_reports_an_undefined_step_with_a_suggestion() {
    let dir = scratch("check_undefined");
    let feature = write(
        &dir,
        "typo.feature",
        "Feature: typo\n  Scenario: s\n    Given a deplyment \"web\" with 3 replicas of image \"nginx:1.27\"\n",
    );
    let out = kubespec()
        .arg("check")
        .arg(&feature)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{}:3: undefined step: Given a deplyment",
            feature.display()
        )),
        "no file:line for the undefined step:\n{text}"
    );
    assert!(
        text.contains(&format!("did you mean: {DEPLOYMENT_STEP}")),
        "no suggestion:\n{text}"
    );
}

#[test]
fn check_reports_a_bad_docstring_manifest_at_its_line_in_the_feature() {
    let dir = scratch("check_manifest");
    let feature = write(
        &dir,
        "bad.feature",
        r#"Feature: bad manifest
  Scenario: a typo in a field name
    Given the manifest:
      """yaml
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replcas: 3
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers: [{name: web, image: "nginx:1.27"}]
      """
"#,
    );
    let out = kubespec()
        .arg("check")
        .arg(&feature)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = stdout(&out);
    // `replcas` is on line 10 of the feature file.
    assert!(
        text.contains(&format!("{}:10:", feature.display())),
        "the problem is not at bad.feature:10:\n{text}"
    );
    assert!(
        text.contains("replcas"),
        "the message does not name the field:\n{text}"
    );
}

#[test]
fn check_refuses_an_hpa_the_api_server_would_refuse() {
    let dir = scratch("check_hpa");
    let feature = write(
        &dir,
        "hpa.feature",
        r#"Feature: bad HPA
  Scenario: max below min
    Given the manifest:
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        minReplicas: 4
        maxReplicas: 2
      """
"#,
    );
    let out = kubespec()
        .arg("check")
        .arg(&feature)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains(
            "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
        ),
        "{text}"
    );
    assert!(text.contains(&format!("{}:", feature.display())), "{text}");
}

#[test]
fn check_accepts_a_good_feature_and_counts_what_it_checked() {
    let dir = scratch("check_good");
    write(
        &dir,
        "good.feature",
        "Feature: good\n  Scenario: s\n    Given a deployment \"web\" with 3 replicas of image \"nginx:1.27\"\n    Then deployment \"web\" has 3 replicas\n",
    );
    let out = kubespec()
        .arg("check")
        .arg(&dir)
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        stdout(&out),
        "1 feature, 1 scenario, 2 steps checked: no problems\n"
    );
}

#[test]
fn check_reports_gherkin_errors_with_file_and_line() {
    let dir = scratch("check_gherkin");
    let feature = write(
        &dir,
        "broken.feature",
        "Feature: broken\n  Scenario: s\n    Given a deployment \"web\" with 3 replicas of image \"nginx:1.27\"\n  Blah blah\n",
    );
    let out = kubespec()
        .arg("check")
        .arg(&feature)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{}:4:", feature.display())),
        "{text}"
    );
}

#[test]
fn run_fails_on_an_undefined_step_and_names_it() {
    let dir = scratch("run_undefined");
    let feature = write(
        &dir,
        "typo.feature",
        "Feature: typo\n  Scenario: s\n    Given a deplyment \"web\" with 3 replicas of image \"nginx:1.27\"\n",
    );
    let out = kubespec()
        .arg("run")
        .arg(&feature)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:3: undefined step", feature.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("did you mean: {DEPLOYMENT_STEP}")),
        "{err}"
    );
}

#[test]
fn run_passes_a_passing_feature_and_writes_reports() {
    let dir = scratch("run_pass");
    write(
        &dir,
        "ok.feature",
        "Feature: ok\n  Scenario: two replicas\n    Given a deployment \"web\" with 2 replicas of image \"nginx:1.27\"\n    Then deployment \"web\" has 2 ready replicas\n",
    );
    let (junit, json) = (
        dir.join("reports/junit.xml"),
        dir.join("reports/cucumber.json"),
    );
    let out = kubespec()
        .arg("run")
        .arg(&dir)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        stdout(&out).contains("1 scenario (1 passed)"),
        "{}",
        stdout(&out)
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report exists");
    assert!(
        xml.contains("<testsuite") && xml.contains("two replicas"),
        "{xml}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report exists"))
            .expect("valid JSON");
    assert!(report.is_array(), "{report}");
}

#[test]
fn run_with_a_missing_path_is_a_usage_error() {
    let dir = scratch("run_missing");
    kubespec()
        .arg("run")
        .arg(dir.join("nope.feature"))
        .assert()
        .code(2);
}

#[test]
fn an_unknown_backend_is_a_usage_error() {
    let out = kubespec()
        .args(["run", "--backend", "nope"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(
        stderr(&out).contains("memory"),
        "the error should list the valid backends:\n{}",
        stderr(&out)
    );
}

/// The standard output of `kubespec bench <args>` with only the rollout case.
fn rollout_bench(args: &[&str]) -> String {
    let out = kubespec()
        .arg("bench")
        .args(args)
        .args(["--skip-probes", "--skip-statefulset", "--skip-hpa"])
        .assert()
        .success()
        .get_output()
        .clone();
    stdout(&out)
}

#[test]
fn bench_json_prints_one_object_per_size() {
    let text = rollout_bench(&["--sizes", "50", "--runs", "3", "--json"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let m: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON object");
    for key in [
        "replicas",
        "setup_ms",
        "rollout_ms",
        "simulated_s",
        "pods_created",
        "peak_rss_mb",
        "us_per_replica",
        "runs",
        "rollout_ms_min",
        "rollout_ms_max",
        "rollout_sys_ms",
    ] {
        assert!(m.get(key).is_some(), "no {key:?} in {m}");
    }
    assert_eq!(m["replicas"], 50);
    assert_eq!(
        m["pods_created"], 50,
        "a full rollout of 50 replicas creates 50 new pods: {m}"
    );
    assert_eq!(m["runs"], 3, "{m}");
    let (min, median, max) = (
        m["rollout_ms_min"].as_f64().expect("a number"),
        m["rollout_ms"].as_f64().expect("a number"),
        m["rollout_ms_max"].as_f64().expect("a number"),
    );
    assert!(min <= median && median <= max, "{m}");
}

#[test]
fn bench_prints_the_cost_per_replica_of_each_size_against_the_one_before() {
    let text = rollout_bench(&["--sizes", "20,40", "--runs", "1"]);
    let per_replica = |size: &str| -> f64 {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(size))
            .unwrap_or_else(|| panic!("no row for {size}:\n{text}"));
        // replicas, setup, rollout, (min-max), sim s, pods, peak RSS, µs/replica, sys ms
        row.split_whitespace().nth(7).unwrap().parse().unwrap()
    };
    let line = text
        .lines()
        .find(|l| l.starts_with("cost per replica at 40 replicas: "))
        .unwrap_or_else(|| panic!("no comparison line:\n{text}"));
    let number = |s: &str| -> f64 {
        s.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{s:?} in {line:?}: {e}"))
    };
    let (ratio, rest) = line
        .trim_start_matches("cost per replica at 40 replicas: ")
        .split_once("× that at 20 (round by round: median ")
        .unwrap_or_else(|| panic!("{line:?}"));
    let expected = per_replica("40") / per_replica("20");
    assert!(
        (number(ratio) - expected).abs() < 0.01,
        "{ratio} vs {expected}:\n{text}"
    );
    // One round: its ratio is the median, the least and the greatest.
    let (median, rest) = rest.split_once("×, ").unwrap_or_else(|| panic!("{line:?}"));
    let (least, rest) = rest.split_once("–").unwrap_or_else(|| panic!("{line:?}"));
    let greatest = rest.trim_end_matches("× over 1 rounds)");
    for r in [median, least, greatest] {
        assert!(
            (number(r) - expected).abs() < 0.01,
            "{r} vs {expected}:\n{text}"
        );
    }
}

/// The rollout benchmark times a rollout, not a wait for room: its cluster has a place for every
/// pod, new, old and terminating, so no pod is ever `Unschedulable`. (At 1,000 replicas, room
/// for 125% of them left 100 pods waiting.)
#[test]
fn the_rollout_benchmark_never_runs_out_of_node_room() {
    let out = kubespec()
        .args(["bench-one", "--replicas", "1000"])
        .assert()
        .success()
        .get_output()
        .clone();
    let m: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("a JSON object");
    assert_eq!(m["pods_created"], 1000, "{m}");
    assert_eq!(m["failed_scheduling"], 0, "{m}");
    assert_eq!(
        m["simulated_s"], 2.0,
        "with room for every pod the rollout takes the same 2 s of cluster time at every size: {m}"
    );
}

#[test]
fn the_probe_case_counts_every_probe() {
    let out = kubespec()
        .args(["bench-one", "--probes", "--replicas", "4"])
        .assert()
        .success()
        .get_output()
        .clone();
    let m: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("a JSON object");
    assert_eq!(m["case"], "probes");
    assert_eq!(m["simulated_s"], 600.0);
    // Once started, each pod runs its readiness and liveness probes every second (the startup
    // probe stopped at its first success): 4 pods × 2 probes × 600 s, give or take the probes
    // due at the very start and end of the window.
    let probes = m["probes_run"].as_u64().expect("a count");
    assert!((4 * 2 * 600..=4 * 2 * 601).contains(&probes), "{m}");
}

#[test]
fn bench_one_hpa_measures_an_hour_of_autoscaling() {
    let out = kubespec()
        .args(["bench-one", "--hpa", "--replicas", "2"])
        .assert()
        .success()
        .get_output()
        .clone();
    let m: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("a JSON object");
    assert_eq!(m["case"], "hpa");
    assert_eq!(m["simulated_s"], 3600.0);
    // Two HPAs, one sync every 15 s for an hour each.
    assert_eq!(m["hpa_syncs"], 480);
    assert_eq!(m["metrics_scrapes"], 240);
    assert!(m["rescales"].as_u64().unwrap() > 2, "{m}");
    assert!(m["max_replicas_seen"].as_i64().unwrap() > 2, "{m}");
}

#[test]
fn bench_one_statefulset_scales_up_and_down_one_pod_per_second() {
    let out = kubespec()
        .args(["bench-one", "--statefulset", "--replicas", "5"])
        .assert()
        .success()
        .get_output()
        .clone();
    let m: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("a JSON object");
    assert_eq!(m["case"], "statefulset");
    // OrderedReady: each pod starts in 1 s and the next is created once it is ready; on the
    // way down each pod stops in 1 s and the next is deleted once it is gone.
    assert_eq!(m["scale_up_s"], 5.0, "{m}");
    assert_eq!(m["scale_down_s"], 5.0, "{m}");
    assert_eq!(m["pods_created"], 5, "{m}");
}

/// `--backend kind|k3s|kwok` start a cluster through testcontainers, which the default build
/// leaves out: the run stops at once and says how to build it in (a build with the feature
/// and no Docker engine stops with Docker's error instead).
#[cfg(not(feature = "containers"))]
#[test]
fn starting_a_cluster_without_the_containers_feature_says_how_to_build_it() {
    for backend in ["kind", "k3s", "kwok"] {
        let out = kubespec()
            .args([
                "run",
                "--backend",
                backend,
                "features/deployment/undo.feature",
            ])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{backend}");
        // miette wraps the message in a box; read it as one line.
        let err = stderr(&out);
        let flat = err
            .split_whitespace()
            .filter(|w| !matches!(*w, "│" | "×"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains(&format!("cannot start a {backend} cluster"))
                && flat.contains("--features containers"),
            "{backend}: {err}"
        );
    }
}

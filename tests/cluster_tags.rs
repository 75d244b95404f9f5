//! `@memory-only` / `@cluster-only`, the report's scenario durations, and cluster-scoped
//! objects on the served engine in process (`--backend served`), through the `kubespec` command.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;

/// A fresh, empty folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cluster_tags")
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

/// Runs `kubespec run` with `args`; returns (exit success, stdout, stderr).
fn run(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = cargo_bin_cmd!("kubespec")
        .env("NO_COLOR", "1")
        .arg("run")
        .args(args)
        .output()
        .expect("run kubespec");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn steps_names_the_backend_tags() {
    let out = cargo_bin_cmd!("kubespec")
        .arg("steps")
        .output()
        .expect("run kubespec");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("@memory-only") && text.contains("@cluster-only"),
        "{text}"
    );
}

const TAGGED: &str = r#"Feature: tagged
  Scenario: anywhere
    Given a deployment "web" with 1 replicas of image "nginx:1"

  @memory-only
  Scenario: only in memory
    Given a deployment "web" with 1 replicas of image "nginx:1"

  @cluster-only
  Scenario: only on a cluster
    Given a deployment "web" with 1 replicas of image "nginx:1"
"#;

#[test]
fn cluster_only_scenarios_are_skipped_on_memory_with_the_reason() {
    let dir = scratch("cluster_only");
    let f = write(&dir, "tagged.feature", TAGGED);
    let (ok, stdout, stderr) = run(&[f.as_os_str()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("3 scenarios (2 passed, 1 skipped)"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(
            "tagged.feature:10: scenario \"only on a cluster\": tagged @cluster-only: it runs \
             only on a cluster backend, not on the memory backend"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("@memory-only"), "{stderr}");
}

#[test]
fn memory_only_scenarios_are_skipped_on_the_served_backend_with_the_reason() {
    let dir = scratch("memory_only");
    let f = write(&dir, "tagged.feature", TAGGED);
    let (ok, stdout, stderr) = run(&[f.as_os_str(), "--backend".as_ref(), "served".as_ref()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("3 scenarios (2 passed, 1 skipped)"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(
            "tagged.feature:6: scenario \"only in memory\": tagged @memory-only: it runs only on \
             the memory backend, not on the served backend"
        ),
        "{stderr}"
    );
}

#[test]
fn a_feature_tag_skips_every_scenario_and_the_reports_count_them_skipped() {
    let dir = scratch("feature_tag");
    let f = write(
        &dir,
        "tagged.feature",
        "@cluster-only\nFeature: tagged\n  Background:\n    Given a deployment \"web\" with 1 replicas of image \"nginx:1\"\n\n  Scenario: one\n    Then the deployment \"web\" exists\n\n  Scenario: two\n    Then the deployment \"web\" exists\n",
    );
    let junit = dir.join("report.xml");
    let (ok, stdout, stderr) = run(&[f.as_os_str(), "--junit".as_ref(), junit.as_os_str()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("2 scenarios (2 skipped)"), "{stdout}");
    assert_eq!(
        stderr.matches("tagged @cluster-only").count(),
        2,
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit report");
    assert_eq!(xml.matches("<skipped").count(), 2, "{xml}");
}

#[test]
fn the_report_says_how_long_each_scenario_took() {
    let dir = scratch("durations");
    let f = write(
        &dir,
        "time.feature",
        "Feature: time\n  Scenario: ten minutes\n    Given a deployment \"web\" with 1 replicas of image \"nginx:1\"\n    When 10 minutes pass\n",
    );
    let junit = dir.join("report.xml");
    let json = dir.join("report.json");
    for backend in ["memory", "served"] {
        let (ok, stdout, stderr) = run(&[
            f.as_os_str(),
            "--backend".as_ref(),
            backend.as_ref(),
            "--junit".as_ref(),
            junit.as_os_str(),
            "--json".as_ref(),
            json.as_os_str(),
        ]);
        assert!(ok, "{backend}: {stdout}\n{stderr}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with("time: ") && l.contains("scenario \"ten minutes\": "))
            .unwrap_or_else(|| panic!("{backend}: no time line:\n{stderr}"));
        assert!(line.contains(" wall"), "{backend}: {line}");
        // At least the ten minutes the scenario moved its clock.
        assert!(
            line.contains("m ") && line.ends_with(" virtual"),
            "{backend}: {line}"
        );
        let xml = std::fs::read_to_string(&junit).expect("junit report");
        assert!(
            xml.contains("<testcase") && xml.contains(" time=\""),
            "{backend}: {xml}"
        );
        let report = std::fs::read_to_string(&json).expect("json report");
        assert!(report.contains("\"duration\":"), "{backend}: {report}");
    }
}

const CRD: &str = r#"Feature: cluster-scoped
  Scenario: a CRD of the scenario's own
    Given the manifest:
      """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: widgets.example.com
      spec:
        group: example.com
        names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
        scope: Namespaced
        versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
      """
    Then the customresourcedefinition "widgets.example.com" matches:
      """
      metadata:
        labels:
          kubespec.dev/scenario: default
      """

  Scenario: a node kubespec did not create
    When I try to apply the manifest:
      """
      apiVersion: v1
      kind: Node
      metadata:
        name: node-1
        labels: {team: x}
      """
    Then the request is rejected with an error containing "refusing to apply the cluster-scoped Node"
    And the request is rejected with an error containing "kubespec did not create it"
"#;

#[test]
fn cluster_scoped_objects_are_labelled_and_others_refused_on_the_served_backend() {
    let dir = scratch("crd");
    let f = write(&dir, "crd.feature", CRD);
    let (ok, stdout, stderr) = run(&[f.as_os_str(), "--backend".as_ref(), "served".as_ref()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 scenarios (2 passed)"),
        "{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("skipped:"), "{stderr}");
}

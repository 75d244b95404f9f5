//! The bundled conformance suite (`features/`) passes on the in-memory engine, as
//! `kubespec run features` runs it, so `cargo test` alone proves the suite green.

use assert_cmd::cargo::cargo_bin_cmd;

#[test]
fn the_conformance_suite_passes_on_the_memory_backend() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = cargo_bin_cmd!("kubespec")
        .current_dir(root)
        .env("NO_COLOR", "1")
        .args(["run", "features"])
        .output()
        .expect("run kubespec");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the suite failed:\n{stdout}\n{stderr}"
    );
    // Every scenario in the folder ran and passed: the summary counts them all.
    let features = count_files(&std::path::Path::new(root).join("features"));
    assert!(
        features >= 18,
        "expected the deployment and validation features, found {features}"
    );
    let summary = stdout
        .lines()
        .find(|l| l.contains(" scenarios ("))
        .unwrap_or_default();
    let (ran, passed) =
        parse_summary(summary).unwrap_or_else(|| panic!("no scenario summary in:\n{stdout}"));
    assert_eq!(ran, passed, "{summary}");
    assert!(ran >= 202, "only {ran} scenarios ran: {summary}");
}

fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .expect("features/ exists")
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_files(&p)
            } else {
                usize::from(p.extension().is_some_and(|x| x == "feature"))
            }
        })
        .sum()
}

/// `72 scenarios (72 passed)` → (72, 72).
fn parse_summary(line: &str) -> Option<(usize, usize)> {
    let (ran, rest) = line.trim().split_once(" scenarios (")?;
    let passed = rest.strip_suffix(" passed)")?;
    Some((ran.trim().parse().ok()?, passed.trim().parse().ok()?))
}

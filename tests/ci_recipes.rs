//! The CI recipes in `ci/` are ready to copy: each is valid YAML, and every `kubespec` command
//! in them is one the CLI accepts (checked with clap, through `--help`, without running it).

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// Every string in `v` (the scripts' lines and `run:` blocks).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The `kubespec check|run …` command lines of a recipe, as argument lists.
fn commands(file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(file).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut all = Vec::new();
    strings(&doc, &mut all);
    all.iter()
        .flat_map(|s| {
            s.lines()
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.starts_with("kubespec run") || l.starts_with("kubespec check"))
        .map(|l| l.split_whitespace().skip(1).map(str::to_string).collect())
        .collect()
}

#[test]
fn every_recipe_is_yaml_and_its_kubespec_commands_parse() {
    let expected = [
        ("ci/github-actions.yml", "features"),
        ("ci/gitlab-ci.yml", "features"),
        (
            "ci/github-actions-kind.yml",
            "--backend kind --junit report.xml",
        ),
        ("ci/gitlab-ci-kind.yml", "--backend kind --junit report.xml"),
    ];
    for (file, needle) in expected {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let cmds = commands(&path);
        assert!(
            cmds.iter()
                .any(|c| c[0] == "run" && c.join(" ").contains(needle)),
            "{file}: no `kubespec run` with {needle:?} in {cmds:?}"
        );
        for c in cmds {
            let out = cargo_bin_cmd!("kubespec")
                .args(&c)
                .arg("--help")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{file}: `kubespec {}` is refused: {}",
                c.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

//! `kubespec check`: lint features without running anything (for CI lint jobs). See [`check`].
//!
//! Reports Gherkin errors, undefined or ambiguous steps (with the closest known step), and
//! manifests that the API server would refuse: docstrings of `... the manifest:` steps and files
//! named by `the manifest {string}` / `apply {string}` steps.
//!
//! NOTE: steps whose text starts with `I try to` expect the manifest to be refused, so their
//! manifests are not validated; only a missing manifest file is reported for them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use kubespec_engine::api::{defaults, validation};
use kubespec_harness::manifest::{self, ManifestObject};
use kubespec_steps::registry::{self, StepDef};

use crate::error::{CliError, Result};
use crate::features::{self, Lookup, Problem, StepSite};

pub fn check(paths: &[PathBuf]) -> Result<()> {
    let files = features::collect(paths)?;
    let all = |_: &_, _: Option<&_>, _: &_| true;
    let (mut n_features, mut n_scenarios, mut n_steps) = (0, 0, 0);
    let mut reports: Vec<String> = Vec::new();

    for file in &files {
        let feature = match features::parse(file) {
            Ok(f) => f,
            Err(problem) => {
                reports.push(problem.to_string());
                continue;
            }
        };
        n_features += 1;
        n_scenarios += features::count_scenarios(&feature, &all);
        // The source, for mapping positions inside docstrings back to columns of the feature file.
        let source = std::fs::read_to_string(file).unwrap_or_default();
        for site in features::steps(file, &feature, &all) {
            n_steps += 1;
            match features::lookup(&site) {
                Lookup::Defined(def) => reports.extend(check_manifests(&site, def, &source)),
                _ => reports.extend(features::undefined_report(&site)),
            }
        }
    }

    // An expanded Scenario Outline repeats its steps once per Examples row: report each once.
    let mut seen = HashSet::new();
    reports.retain(|r| seen.insert(r.clone()));

    if reports.is_empty() {
        let counts = counts(n_features, n_scenarios, n_steps);
        println!("{counts} checked: no problems");
        return Ok(());
    }
    for r in &reports {
        println!("{r}");
    }
    println!(
        "{} in {}",
        plural(reports.len(), "problem"),
        counts(n_features, n_scenarios, n_steps)
    );
    Err(CliError::Failed)
}

fn counts(features: usize, scenarios: usize, steps: usize) -> String {
    format!(
        "{}, {}, {}",
        plural(features, "feature"),
        plural(scenarios, "scenario"),
        plural(steps, "step")
    )
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Whether `def` applies manifests, and from where.
enum ManifestSource {
    Docstring,
    File,
}

fn manifest_source(def: &StepDef) -> Option<ManifestSource> {
    let e = def.expression;
    if e.ends_with("the manifest:") {
        Some(ManifestSource::Docstring)
    } else if e.ends_with("the manifest {string}") || e.ends_with("apply {string}") {
        Some(ManifestSource::File)
    } else {
        None
    }
}

fn check_manifests(site: &StepSite<'_>, def: &'static StepDef, source: &str) -> Vec<String> {
    let expect_refusal = site.step.value.starts_with("I try to");
    match manifest_source(def) {
        None => vec![],
        Some(ManifestSource::Docstring) if expect_refusal => vec![],
        Some(ManifestSource::Docstring) => match &site.step.docstring {
            None => vec![
                site.problem("this step needs a docstring with the manifest below it")
                    .to_string(),
            ],
            Some(raw) => check_docstring(site, &registry::normalize_docstring(raw), source),
        },
        Some(ManifestSource::File) => {
            let Some(arg) =
                registry::captures(def, &site.step.value).and_then(|c| c.into_iter().last())
            else {
                return vec![];
            };
            let name = unquote(&arg);
            match resolve(site.file, &name) {
                Err(looked) => vec![
                    site.problem(format!(
                        "manifest file \"{name}\" not found (looked for {looked})"
                    ))
                    .to_string(),
                ],
                Ok(_) if expect_refusal => vec![],
                Ok(path) => check_file(site, &path),
            }
        }
    }
}

/// `"a.yaml"` → `a.yaml` (the step table's `{string}` keeps its quotes in raw captures).
fn unquote(raw: &str) -> String {
    let t = raw.trim();
    let inner = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| t.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(t);
    inner
        .replace("\\\"", "\"")
        .replace("\\'", "'")
        .replace("\\\\", "\\")
}

/// A manifest path as the steps resolve it: relative to the feature file's folder, then to the
/// working directory. The error lists where it looked.
fn resolve(feature: &Path, name: &str) -> Result<PathBuf, String> {
    let given = Path::new(name);
    if given.is_absolute() {
        return if given.is_file() {
            Ok(given.to_path_buf())
        } else {
            Err(given.display().to_string())
        };
    }
    let beside = feature.parent().unwrap_or(Path::new("")).join(given);
    if beside.is_file() {
        return Ok(beside);
    }
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    if beside == given {
        Err(given.display().to_string())
    } else {
        Err(format!("{} and {}", beside.display(), given.display()))
    }
}

fn check_file(site: &StepSite<'_>, path: &Path) -> Vec<String> {
    let used_at = format!(
        "\n  (used at {}:{})",
        site.file.display(),
        site.step.position.line
    );
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return vec![format!("{}: cannot read: {e}{used_at}", path.display())],
    };
    let shown = path.display().to_string();
    match manifest::parse_manifests(&text, &shown) {
        Err(e) => vec![format!("{e}{used_at}")],
        Ok(manifests) => manifests
            .into_iter()
            .filter_map(|m| {
                let line = m.line;
                validate(m.object)
                    .err()
                    .map(|e| format!("{shown}:{line}: {e}{used_at}"))
            })
            .collect(),
    }
}

/// Checks a docstring manifest. Positions are reported in the feature file: the text is padded
/// with blank lines so that the parser's line numbers are the feature's, and columns are shifted
/// by the docstring's indentation.
fn check_docstring(site: &StepSite<'_>, text: &str, source: &str) -> Vec<String> {
    // Line k (1-based) of the docstring is on feature line step + 1 + k (see
    // `registry::normalize_docstring`).
    let first_line = site.step.position.line + 2;
    let padded = format!("{}{text}", "\n".repeat(first_line - 1));
    let shown = site.file.display().to_string();
    match manifest::parse_manifests(&padded, &shown) {
        Err(e) => vec![shift_column(&e.to_string(), &shown, &padded, source)],
        Ok(manifests) => manifests
            .into_iter()
            .filter_map(|m| {
                // Thanks to the padding, `m.line` is already a line of the feature file.
                let line = if m.line >= first_line {
                    m.line
                } else {
                    first_line
                };
                validate(m.object).err().map(|message| {
                    Problem {
                        file: site.file.to_path_buf(),
                        line,
                        col: None,
                        message,
                    }
                    .to_string()
                })
            })
            .collect(),
    }
}

/// `file:LINE:COL: message` with COL counted in the docstring → COL counted in the feature file.
fn shift_column(message: &str, shown: &str, padded: &str, source: &str) -> String {
    let shifted = (|| {
        let rest = message.strip_prefix(shown)?.strip_prefix(':')?;
        let (line, rest) = rest.split_once(':')?;
        let (col, rest) = rest.split_once(':')?;
        let (line, col): (usize, usize) = (line.parse().ok()?, col.parse().ok()?);
        let doc_line = padded.lines().nth(line.checked_sub(1)?)?;
        let src_line = source.lines().nth(line - 1)?;
        let indent = if src_line.ends_with(doc_line) {
            src_line.len() - doc_line.len()
        } else {
            0
        };
        Some(format!("{shown}:{line}:{}:{rest}", col + indent))
    })();
    shifted.unwrap_or_else(|| message.to_owned())
}

/// Defaults and validates one object as the API server would on create.
///
/// # Errors
///
/// The API server's message, e.g. `Deployment.apps "web" is invalid: spec.strategy...`.
fn validate(object: ManifestObject) -> Result<(), String> {
    match object {
        ManifestObject::Deployment(mut d) => {
            defaults::default_deployment(&mut d);
            validation::validate_deployment(&d)
        }
        ManifestObject::ReplicaSet(mut rs) => {
            defaults::default_replica_set(&mut rs);
            validation::validate_replica_set(&rs)
        }
        ManifestObject::Pod(mut p) => {
            defaults::default_pod(&mut p);
            validation::validate_pod(&p)
        }
        ManifestObject::Generic {
            api_version,
            kind,
            value,
        } if kind == "HorizontalPodAutoscaler" => {
            kubespec_engine::api::autoscaling::hpa_from_json(&api_version, value).and_then(
                |mut hpa| {
                    if hpa.metadata.namespace.is_none() {
                        hpa.metadata.namespace = Some("default".into());
                    }
                    kubespec_engine::api::autoscaling::admit_hpa(&mut hpa, None)
                },
            )
        }
        ManifestObject::Generic { kind, value, .. } if kind == "StatefulSet" => {
            // The loader has already checked it against the StatefulSet type.
            match serde_json::from_value(value) {
                Ok(mut s) => {
                    defaults::default_stateful_set(&mut s);
                    validation::validate_stateful_set(&s)
                }
                Err(e) => return Err(format!("StatefulSet does not decode: {e}")),
            }
        }
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    }
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_move_by_the_docstring_indentation() {
        let source = "Feature: f\n  Scenario: s\n    Given the manifest:\n      \"\"\"\n      kind: Pod\n      replcas: 3\n      \"\"\"\n";
        let padded = "\n\n\n\nkind: Pod\nreplcas: 3\n";
        assert_eq!(
            shift_column(
                "a.feature:6:1: unknown field `replcas`",
                "a.feature",
                padded,
                source
            ),
            "a.feature:6:7: unknown field `replcas`"
        );
        // Anything else is left as it is.
        assert_eq!(
            shift_column("other: message", "a.feature", padded, source),
            "other: message"
        );
    }

    #[test]
    fn quoted_paths() {
        assert_eq!(unquote(r#""fixtures/web.yaml""#), "fixtures/web.yaml");
        assert_eq!(unquote("'a b.yaml'"), "a b.yaml");
    }
}

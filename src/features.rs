//! Finding, parsing and walking feature files; shared by `run` and `check`. See [`load`].
//!
//! Features are parsed once, here, and the parsed [`Feature`]s are what cucumber runs (through
//! [`Preparsed`]), so the undefined-step report and the run can never see different files.

use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, Feature, GherkinEnv, Rule, Scenario, Step};
use kubespec_steps::registry::{self, Keyword, StepDef};

use crate::error::{CliError, Result};

/// The `.feature` files named by `paths`: files as given, folders searched recursively (sorted),
/// each file once, in order.
///
/// # Errors
///
/// [`CliError::MissingPath`] for a path that does not exist, [`CliError::NoFeatures`] when
/// nothing is found at all.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(CliError::MissingPath { path: path.clone() });
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.canonicalize().unwrap_or_else(|_| f.clone())));
    if files.is_empty() {
        return Err(CliError::NoFeatures {
            paths: paths.to_vec(),
        });
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let read_err = |source| CliError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        // `kubespec run .` shows `sub/a.feature`, not `./sub/a.feature`.
        let path = path
            .strip_prefix(".")
            .map(Path::to_path_buf)
            .unwrap_or(path);
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("feature"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// A problem at a place in a file, printed as `file:line: message` (or `file:line:col:`, or
/// `file:` when the line is unknown, 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub col: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.col) {
            (0, _) => write!(f, "{}: {}", self.file.display(), self.message),
            (line, Some(col)) => {
                write!(f, "{}:{line}:{col}: {}", self.file.display(), self.message)
            }
            (line, None) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
        }
    }
}

/// Parses one feature file and expands its Scenario Outlines, as cucumber's own parser does.
///
/// # Errors
///
/// A [`Problem`] naming the file and, where gherkin gives one, the line and column.
pub fn parse(path: &Path) -> Result<Feature, Problem> {
    let problem = |line, col, message| Problem {
        file: path.to_path_buf(),
        line,
        col,
        message,
    };
    let feature = Feature::parse_path(path, GherkinEnv::default()).map_err(|e| match e {
        gherkin::ParseFileError::Reading { source, .. } => problem(0, None, format!("cannot read: {source}")),
        gherkin::ParseFileError::Parsing { error, source, .. } => {
            // gherkin keeps the position private; its Display is "Error at LINE:COL: {expected}".
            let shown = source.to_string();
            let (line, col) = shown
                .strip_prefix("Error at ")
                .and_then(|rest| rest.split(": ").next())
                .and_then(|lc| lc.split_once(':'))
                .and_then(|(l, c)| Some((l.parse().ok()?, c.parse().ok()?)))
                .unwrap_or((0, 0));
            let (line, col) = match &error {
                // gherkin reports where parsing gave up, often the end of the file; the line that
                // starts with the unknown word is more useful.
                Some(gherkin::EnvError::UnknownKeyword(word)) => std::fs::read_to_string(path)
                    .ok()
                    .and_then(|src| {
                        src.lines().enumerate().find_map(|(i, l)| {
                            let indent = l.len() - l.trim_start().len();
                            l.trim_start().starts_with(word.as_str()).then_some((i + 1, indent + 1))
                        })
                    })
                    .unwrap_or((line, col)),
                _ => (line, col),
            };
            let why = match error {
                Some(env) => format!("not valid Gherkin: {env}"),
                None => "not valid Gherkin: expected a Feature, Background, Rule, Scenario, Examples, \
                         a step (Given/When/Then/And/But), a table row, a docstring, a tag or a comment"
                    .to_owned(),
            };
            problem(line, Some(col), why)
        }
    })?;
    feature
        .expand_examples()
        .map_err(|e| problem(0, None, format!("cannot expand Examples: {e}")))
}

/// One step of a parsed feature, with where it sits.
pub struct StepSite<'a> {
    pub file: &'a Path,
    pub step: &'a Step,
}

impl StepSite<'_> {
    pub fn keyword(&self) -> Keyword {
        Keyword::from(self.step.ty)
    }

    /// `Given a deployment "web" ...`, with the keyword as written (`And`, `But` included).
    pub fn line_text(&self) -> String {
        format!("{} {}", self.step.keyword.trim(), self.step.value)
    }

    pub fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            file: self.file.to_path_buf(),
            line: self.step.position.line,
            col: None,
            message: message.into(),
        }
    }
}

/// Every step of `feature`, background steps once each, in file order. `select` decides which
/// scenarios count; a background's steps are included when any scenario they precede is selected.
pub fn steps<'a>(
    file: &'a Path,
    feature: &'a Feature,
    select: &dyn Fn(&Feature, Option<&Rule>, &Scenario) -> bool,
) -> Vec<StepSite<'a>> {
    let mut out = Vec::new();
    let site = |step| StepSite { file, step };
    let chosen: Vec<&Scenario> = feature
        .scenarios
        .iter()
        .filter(|s| select(feature, None, s))
        .collect();
    let rules: Vec<(&Rule, Vec<&Scenario>)> = feature
        .rules
        .iter()
        .map(|r| {
            (
                r,
                r.scenarios
                    .iter()
                    .filter(|s| select(feature, Some(r), s))
                    .collect(),
            )
        })
        .collect();
    if !chosen.is_empty() || rules.iter().any(|(_, c)| !c.is_empty()) {
        out.extend(feature.background.iter().flat_map(|b| &b.steps).map(site));
    }
    for s in chosen {
        out.extend(s.steps.iter().map(site));
    }
    for (rule, chosen) in rules {
        if !chosen.is_empty() {
            out.extend(rule.background.iter().flat_map(|b| &b.steps).map(site));
        }
        for s in chosen {
            out.extend(s.steps.iter().map(site));
        }
    }
    out
}

/// Number of scenarios (after expanding outlines) that `select` picks.
pub fn count_scenarios(
    feature: &Feature,
    select: &dyn Fn(&Feature, Option<&Rule>, &Scenario) -> bool,
) -> usize {
    feature
        .scenarios
        .iter()
        .filter(|s| select(feature, None, s))
        .count()
        + feature
            .rules
            .iter()
            .map(|r| {
                r.scenarios
                    .iter()
                    .filter(|s| select(feature, Some(r), s))
                    .count()
            })
            .sum::<usize>()
}

/// What the step table says about one step.
pub enum Lookup {
    Defined(&'static StepDef),
    Undefined {
        suggestion: Option<&'static StepDef>,
    },
    Ambiguous(Vec<&'static StepDef>),
}

pub fn lookup(site: &StepSite<'_>) -> Lookup {
    let found = registry::find_all(site.keyword(), &site.step.value);
    match found.len() {
        0 => Lookup::Undefined {
            suggestion: registry::suggest_def(Some(site.keyword()), &site.step.value)
                .map(|(d, _)| d),
        },
        1 => Lookup::Defined(found[0]),
        _ => Lookup::Ambiguous(found),
    }
}

/// The report lines for a step that cucumber could not run, or `None` if it is defined.
pub fn undefined_report(site: &StepSite<'_>) -> Option<String> {
    match lookup(site) {
        Lookup::Defined(_) => None,
        Lookup::Undefined { suggestion } => {
            let mut s = site
                .problem(format!("undefined step: {}", site.line_text()))
                .to_string();
            if let Some(d) = suggestion {
                s.push_str(&format!("\n  did you mean: {}", d.phrase()));
            }
            Some(s)
        }
        Lookup::Ambiguous(defs) => {
            let mut s = site
                .problem(format!("ambiguous step: {}", site.line_text()))
                .to_string();
            for d in defs {
                s.push_str(&format!("\n  matches: {}", d.phrase()));
            }
            Some(s)
        }
    }
}

/// Feeds already-parsed features to cucumber, so the run sees exactly what was checked.
pub struct Preparsed;

impl cucumber::Parser<Vec<Feature>> for Preparsed {
    type Cli = cucumber::cli::Empty;
    type Output = futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<Feature>>>;

    fn parse(self, input: Vec<Feature>, _cli: Self::Cli) -> Self::Output {
        futures::stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}

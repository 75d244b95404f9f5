//! `kubespec steps`: the step vocabulary, read from the same table cucumber runs, so a spec writer
//! never has to read Rust to know what can be written. See [`steps`].

use std::fmt::Write as _;

use kubespec_steps::registry::{self, Keyword, StepDef};

use crate::error::Result;

pub fn steps(markdown: bool) -> Result<()> {
    let defs = registry::catalogue();
    let out = if markdown {
        render_markdown(&defs)
    } else {
        render_text(&defs)
    };
    print!("{out}");
    Ok(())
}

/// Grouped by keyword, in table order within a group:
///
/// ```text
/// Given steps
///
///   Given a deployment {string} with {int} replicas of image {string}
///       Creates a Deployment ... and waits until it is available.
///       Example: Given a deployment "web" with 3 replicas of image "nginx:1.27"
/// ```
fn render_text(defs: &[StepDef]) -> String {
    let mut out = String::new();
    for kw in Keyword::ALL {
        let group: Vec<&StepDef> = defs.iter().filter(|d| d.keyword == kw).collect();
        if group.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{kw} steps\n");
        for d in group {
            let _ = writeln!(
                out,
                "  {}\n      {}\n      Example: {}",
                d.phrase(),
                d.description,
                d.example
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{} steps. {{string}} is text in double quotes, {{int}} a whole number, {{word}} one word \
         without spaces, {{duration}} e.g. \"30 seconds\", \"5 minutes\", \"90s\", \"500ms\".\n\
         Tags: @{} runs a scenario (or a feature's, a rule's) only on the memory backend, @{} only \
         on a cluster backend (cluster, served, kind, k3s, kwok); elsewhere it is reported as \
         skipped.",
        defs.len(),
        crate::tags::MEMORY_ONLY,
        crate::tags::CLUSTER_ONLY,
    );
    out
}

/// One Markdown table per keyword, for the docs.
fn render_markdown(defs: &[StepDef]) -> String {
    let mut out = String::new();
    for kw in Keyword::ALL {
        let group: Vec<&StepDef> = defs.iter().filter(|d| d.keyword == kw).collect();
        if group.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "## {kw}\n\n| Step | Description | Example |\n|---|---|---|"
        );
        for d in group {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                code(&d.phrase()),
                cell(d.description),
                code(d.example)
            );
        }
    }
    out
}

/// Escapes a table cell: `|` would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A code span that survives backticks in the text.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "`` " } else { "`" };
    let close = if text.contains('`') { " ``" } else { "`" };
    format!("{fence}{}{close}", cell(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_are_escaped() {
        assert_eq!(cell("a | b"), "a \\| b");
        assert_eq!(code("x"), "`x`");
        assert_eq!(code("a `b`"), "`` a `b` ``");
    }
}

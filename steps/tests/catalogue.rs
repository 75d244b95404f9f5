//! The step table is a public contract: it must not shrink, and every entry must be usable.
//!
//! Steps are registered from an explicit table rather than by `inventory` (cucumber-rs issues
//! #304 and #347), so this test sees exactly what `kubespec run` registers.

use kubespec_steps::registry::{self, Keyword};

/// The number of step definitions when this constant was last raised.
// raise when steps are added
const MIN_STEPS: usize = 130;

#[test]
fn the_catalogue_does_not_shrink() {
    let n = registry::catalogue().len();
    assert!(
        n >= MIN_STEPS,
        "the step table has {n} definitions, fewer than the {MIN_STEPS} it had: was a step dropped?"
    );
}

#[test]
fn every_expression_compiles() {
    let problems: Vec<String> = registry::catalogue()
        .iter()
        .filter_map(|d| registry::try_expression_regex(d.expression).err())
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_entry_is_documented() {
    for d in registry::catalogue() {
        assert!(
            !d.description.trim().is_empty(),
            "{}: empty description",
            d.phrase()
        );
        assert!(
            !d.description.contains('\n'),
            "{}: the description must be one line",
            d.phrase()
        );
        assert!(
            !d.example.contains('\n'),
            "{}: the example must be one line",
            d.phrase()
        );
    }
}

/// Each example must be a line a spec writer can paste: it starts with its own keyword, matches
/// its own expression, and matches no other definition of that keyword (cucumber would refuse it
/// as ambiguous).
#[test]
fn every_example_matches_its_own_expression_and_no_other() {
    let defs = registry::catalogue();
    let mut problems = Vec::new();
    for d in &defs {
        let prefix = format!("{} ", d.keyword);
        if !d.example.starts_with(&prefix) {
            problems.push(format!(
                "{}: example {:?} does not start with {prefix:?}",
                d.phrase(),
                d.example
            ));
            continue;
        }
        let text = d.example_text();
        if !registry::expression_regex(d.expression).is_match(text) {
            problems.push(format!(
                "{}: example {:?} does not match its expression",
                d.phrase(),
                d.example
            ));
        }
        for other in defs
            .iter()
            .filter(|o| o.keyword == d.keyword && o.expression != d.expression)
        {
            if registry::expression_regex(other.expression).is_match(text) {
                problems.push(format!(
                    "{}: example {:?} also matches \"{}\" (ambiguous)",
                    d.phrase(),
                    d.example,
                    other.phrase()
                ));
            }
        }
        let found = registry::find_all(d.keyword, text);
        if found.len() != 1 {
            problems.push(format!(
                "{}: find_all returns {} definitions for its example",
                d.phrase(),
                found.len()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_keyword_is_listed_by_name() {
    // `kubespec steps` groups by these names; a new keyword would need a new group.
    assert_eq!(
        Keyword::ALL.map(|k| k.to_string()),
        ["Given", "When", "Then"]
    );
}

#[test]
fn a_misspelt_example_gets_its_own_step_suggested() {
    // Misspell the first long literal word of every example ("replicas" -> "rplicas") and expect a
    // suggestion of the same keyword with a useful score.
    for d in registry::catalogue() {
        let literal: Vec<&str> = d
            .expression
            .split_whitespace()
            .filter(|w| !w.contains(['{', '(', '\\']))
            .collect();
        let words: Vec<&str> = d.example_text().split(' ').collect();
        let Some(i) = words
            .iter()
            .position(|w| w.len() >= 4 && literal.contains(w))
        else {
            continue;
        };
        let mut typo_words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        typo_words[i].remove(1);
        let typo = typo_words.join(" ");
        let (def, score) = registry::suggest_def(Some(d.keyword), &typo)
            .unwrap_or_else(|| panic!("no suggestion for {typo:?} (from {})", d.phrase()));
        assert!(score > 0.5, "{typo:?}: score {score}");
        assert_eq!(
            def.keyword,
            d.keyword,
            "{typo:?} suggested {}",
            def.phrase()
        );
        assert!(
            registry::find(d.keyword, &typo).is_none(),
            "{typo:?} should be undefined"
        );
    }
}

/// The step phrasings the pods and probes issue lists: each must be a registered expression,
/// exactly as written.
#[test]
fn the_probe_phrasings_are_registered_as_written() {
    let contract = [
        (
            Keyword::Given,
            "image {string} becomes ready {duration} after start",
        ),
        (Keyword::Given, "image {string} never becomes ready"),
        (
            Keyword::Given,
            "image {string} becomes unhealthy {duration} after start",
        ),
        (
            Keyword::Given,
            "image {string} takes {duration} to start up",
        ),
        (
            Keyword::Given,
            "image {string} exits with code {int} {duration} after start",
        ),
        (
            Keyword::Given,
            "image {string} crashes {duration} after start",
        ),
        (
            Keyword::When,
            "the readiness probe of pod {string} starts failing",
        ),
        (
            Keyword::When,
            "the readiness probe of pod {string} starts passing",
        ),
        (
            Keyword::When,
            "the liveness probe of pod {string} starts failing",
        ),
        (
            Keyword::When,
            "the liveness probe of pod {string} starts passing",
        ),
        (Keyword::Then, "pod {string} is ready"),
        (Keyword::Then, "pod {string} is not ready"),
        (Keyword::Then, "pod {string} has restarted {int} times"),
        (Keyword::Then, "pod {string} is in state {string}"),
        (Keyword::Then, "the events of pod {string} include {string}"),
        (Keyword::Then, "service {string} has {int} ready endpoints"),
        (
            Keyword::Then,
            "container {string} of pod {string} has environment variable {string} set to {string}",
        ),
    ];
    let defs = registry::catalogue();
    let missing: Vec<String> = contract
        .iter()
        .filter(|(k, e)| !defs.iter().any(|d| d.keyword == *k && d.expression == *e))
        .map(|(k, e)| format!("{k} {e}"))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:#?}");
}

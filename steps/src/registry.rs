//! The step table: one list of [`StepDef`]s that cucumber registration, `kubespec steps`,
//! `kubespec check` and "did you mean" suggestions all read. See [`catalogue`] for the entry point.
//!
//! Steps are registered explicitly with [`register`] instead of cucumber's `inventory`-based
//! attribute macros, because the linker can drop `inventory` entries that live in a library crate
//! (cucumber-rs issues #304 and #347). A step is a plain value here, so nothing can go missing
//! silently, and `steps/tests/catalogue.rs` fails if the table shrinks.
//!
//! **Architecture invariant:** a step's Cucumber Expression is compiled to a regex by
//! [`expression_regex`] and nothing else; the regex given to cucumber and the one `kubespec check`
//! matches with are the same, so `check` and `run` can never disagree on what is defined.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use cucumber::Cucumber;
use cucumber::gherkin::StepType;
use futures::future::LocalBoxFuture;
use regex::Regex;

use crate::World;

/// The keyword a step is registered under. `And` and `But` take the keyword of the step before
/// them (gherkin resolves that into [`StepType`] when it parses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Keyword {
    Given,
    When,
    Then,
}

impl Keyword {
    pub const ALL: [Keyword; 3] = [Keyword::Given, Keyword::When, Keyword::Then];

    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Given => "Given",
            Keyword::When => "When",
            Keyword::Then => "Then",
        }
    }
}

impl fmt::Display for Keyword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<StepType> for Keyword {
    fn from(ty: StepType) -> Self {
        match ty {
            StepType::Given => Keyword::Given,
            StepType::When => Keyword::When,
            StepType::Then => Keyword::Then,
        }
    }
}

/// What a step handler returns: `Err(message)` fails the step, and the message (which may span
/// several lines) is what the user sees.
pub type StepResult = Result<(), String>;

/// One entry of the step vocabulary. Build it with [`step!`](crate::step).
#[derive(Clone, Copy)]
pub struct StepDef {
    pub keyword: Keyword,
    /// A Cucumber Expression, e.g. `a deployment {string} with {int} replicas of image {string}`.
    pub expression: &'static str,
    /// One line, shown by `kubespec steps`.
    pub description: &'static str,
    /// A complete step line including the keyword, e.g.
    /// `Given a deployment "web" with 3 replicas of image "nginx:1.27"`.
    pub example: &'static str,
    pub run: cucumber::Step<World>,
}

impl StepDef {
    /// `Given a deployment {string} with {int} replicas of image {string}`.
    pub fn phrase(&self) -> String {
        format!("{} {}", self.keyword, self.expression)
    }

    /// The example line without its leading keyword (`Given`, `When`, `Then`, `And`, `But`).
    pub fn example_text(&self) -> &'static str {
        let ex = self.example.trim_start();
        for kw in ["Given ", "When ", "Then ", "And ", "But "] {
            if let Some(rest) = ex.strip_prefix(kw) {
                return rest.trim_start();
            }
        }
        ex
    }
}

impl fmt::Debug for StepDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepDef")
            .field("keyword", &self.keyword)
            .field("expression", &self.expression)
            .finish_non_exhaustive()
    }
}

/// Builds a [`StepDef`] whose `run` calls `handler(&mut World, Args)` (an `async fn` returning
/// [`StepResult`]) and fails the step, by panicking with the error text, on `Err`; or skips
/// the scenario, by panicking with a [`Skip`], when the backend could not do what the step
/// asked ([`kubespec_harness::Error::Unsupported`]).
///
/// ```ignore
/// step!(Given, "image {string} crashes on start", "The image exits with code 1 on every start.",
///       r#"Given image "bad:v2" crashes on start"#, images::crashes_on_start)
/// ```
#[macro_export]
macro_rules! step {
    ($kw:ident, $expr:literal, $desc:literal, $example:literal, $handler:path $(,)?) => {
        $crate::registry::StepDef {
            keyword: $crate::registry::Keyword::$kw,
            expression: $expr,
            description: $desc,
            example: $example,
            run: |world, ctx| {
                ::std::boxed::Box::pin(async move {
                    if let ::std::option::Option::Some(reason) = world.take_scenario_skip() {
                        ::std::panic::panic_any($crate::registry::Skip(reason));
                    }
                    world.take_unsupported_for_step();
                    let result = $handler(&mut *world, $crate::registry::Args::new(ctx)).await;
                    $crate::registry::__fail_on_err(world, result)
                })
            },
        }
    };
}

/// The panic payload of a step the backend could not run: the runner reports the scenario as
/// skipped with this reason instead of failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip(pub String);

/// Turns a handler's result into the step's outcome. Not public API: used by [`step!`].
///
/// # Panics
///
/// When the handler returns `Err`: that is how a cucumber step fails, and cucumber shows the
/// panic message as the failure. The payload is a [`Skip`] when the backend said it cannot do
/// what the step asked.
#[doc(hidden)]
pub fn __fail_on_err(world: &mut World, result: StepResult) {
    if let Err(message) = result {
        if let Some(reason) = world.take_unsupported_for_step() {
            std::panic::panic_any(Skip(reason));
        }
        // `panic_any` with a `String` payload: cucumber prints a String or &str payload as
        // the failure message and nothing else, so no "panicked at" noise reaches the user.
        std::panic::panic_any(message);
    }
}

/// A step's arguments: the captures of its expression, its docstring and its table.
#[derive(Clone, Debug)]
pub struct Args {
    ctx: cucumber::step::Context,
}

impl Args {
    pub fn new(ctx: cucumber::step::Context) -> Self {
        Args { ctx }
    }

    /// The matched gherkin step (keyword, text, position, docstring, table).
    pub fn step(&self) -> &cucumber::gherkin::Step {
        &self.ctx.step
    }

    /// The `i`-th parameter (0-based) as matched, before any conversion.
    ///
    /// # Errors
    ///
    /// When the expression has fewer than `i + 1` parameters (a bug in the step definition).
    pub fn raw(&self, i: usize) -> Result<&str, String> {
        // matches[0] is the whole match; parameters start at 1 (see cucumber's `Collection::find`).
        self.ctx
            .matches
            .get(i + 1)
            .map(|(_, s)| s.as_str())
            .ok_or_else(|| {
                format!(
                    "step {:?} has no argument #{i} (it has {}): the step definition is wrong",
                    self.ctx.step.value,
                    self.ctx.matches.len().saturating_sub(1)
                )
            })
    }

    /// A `{string}` parameter, without its quotes and with `\"`, `\'` and `\\` unescaped.
    pub fn string(&self, i: usize) -> Result<String, String> {
        Ok(unquote(self.raw(i)?))
    }

    /// A `{word}` parameter.
    pub fn word(&self, i: usize) -> Result<String, String> {
        Ok(self.raw(i)?.to_owned())
    }

    /// An `{int}` parameter.
    pub fn int(&self, i: usize) -> Result<i64, String> {
        let raw = self.raw(i)?;
        raw.parse()
            .map_err(|e| format!("argument {raw:?} is not an integer: {e}"))
    }

    /// A `{float}` parameter.
    pub fn float(&self, i: usize) -> Result<f64, String> {
        let raw = self.raw(i)?;
        raw.parse()
            .map_err(|e| format!("argument {raw:?} is not a number: {e}"))
    }

    /// A `{duration}` parameter; see [`parse_duration`].
    pub fn duration(&self, i: usize) -> Result<Duration, String> {
        parse_duration(self.raw(i)?)
    }

    /// The step's docstring, with gherkin 0.16's quirks undone (see [`normalize_docstring`]).
    ///
    /// # Errors
    ///
    /// When the step has no docstring.
    pub fn docstring(&self) -> Result<String, String> {
        match &self.ctx.step.docstring {
            Some(raw) => Ok(normalize_docstring(raw)),
            None => Err(format!(
                "step \"{}\" needs a docstring (text between two \"\"\" lines) below it",
                self.ctx.step.value
            )),
        }
    }

    /// The step's data table, header row included.
    ///
    /// # Errors
    ///
    /// When the step has no table.
    pub fn table(&self) -> Result<Vec<Vec<String>>, String> {
        match &self.ctx.step.table {
            Some(t) => Ok(t.rows.clone()),
            None => Err(format!(
                "step \"{}\" needs a table (| a | b | rows) below it",
                self.ctx.step.value
            )),
        }
    }
}

/// Strips the quotes of a `{string}` match and unescapes `\"`, `\'` and `\\`.
fn unquote(raw: &str) -> String {
    let inner = match raw.as_bytes() {
        [q @ (b'"' | b'\''), .., last] if last == q => &raw[1..raw.len() - 1],
        _ => raw,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\'' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes gherkin 0.16's handling of docstrings.
///
/// NOTE: gherkin 0.16 does not understand content types. For
///
/// ```text
///     """yaml
///     kind: Pod
///     """
/// ```
///
/// it returns `"yaml\n    kind: Pod\n"`: the content type becomes the first line and the rest is
/// not dedented. Without a content type it returns `"\nkind: Pod\n"`: dedented, with a leading
/// newline. Only the first form lacks the leading newline, which is how the two are told apart.
///
/// Either way, line `k` (1-based) of the result is on line `step line + 1 + k` of the feature.
pub fn normalize_docstring(raw: &str) -> String {
    if let Some(body) = raw.strip_prefix('\n') {
        return body.to_owned();
    }
    let (first, rest) = raw.split_once('\n').unwrap_or((raw, ""));
    let is_content_type = !first.is_empty()
        && first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.' | '/'));
    if !is_content_type {
        return raw.to_owned();
    }
    dedent(rest)
}

/// Removes the indentation common to all non-blank lines.
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(&line[indent..]);
        }
    }
    out
}

/// Parses a `{duration}`: `1 second`, `30 seconds`, `1 minute`, `5 minutes`, `1 hour`, `2 hours`,
/// `500 milliseconds`, and the short forms `90s`, `2m`, `500ms`, `1h` (a space before a short unit
/// is allowed too). Whole numbers only: `1.5 minutes` is refused rather than rounded.
///
/// # Errors
///
/// A message naming the text and the accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{text:?} is not a duration: write a whole number and a unit, \
             e.g. \"30 seconds\", \"5 minutes\", \"1 hour\", \"500 milliseconds\", \"90s\", \"2m\", \"500ms\""
        )
    };
    let t = text.trim();
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return Err(bad());
    }
    let n: u64 = t[..digits].parse().map_err(|_| bad())?;
    let unit = t[digits..].trim_start();
    let millis_per_unit: u64 = match unit {
        "ms" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        _ => return Err(bad()),
    };
    let millis = n
        .checked_mul(millis_per_unit)
        .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    Ok(Duration::from_millis(millis))
}

/// The regex of one parameter type. Each has exactly one capturing group, so the `i`-th parameter
/// of an expression is capture `i + 1`.
fn parameter_regex(name: &str) -> Option<&'static str> {
    Some(match name {
        // Double or single quotes, backslash escapes allowed inside; quotes stripped by `Args::string`.
        "string" => r#"("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"#,
        "int" => r"(-?\d+)",
        "float" => r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)",
        "word" => r"([^\s]+)",
        // Keep in step with `parse_duration`: long units first, so `5 minutes` is not read as `5 m`.
        "duration" => r"(\d+ ?(?:milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|h))",
        "" => r"(.*)",
        _ => return None,
    })
}

/// Compiles a Cucumber Expression to an anchored regex, or explains why it cannot.
///
/// Supported: the parameters `{string}`, `{int}`, `{float}`, `{word}`, `{duration}` and the
/// anonymous `{}`; optional text in parentheses (`{duration} pass(es)`); `\` escapes the next
/// character (`\(`, `\{`, `\/`). Everything else, including `/`, is literal (Cucumber's
/// `a/b` alternation is not supported: register both phrasings instead).
///
/// # Errors
///
/// An unknown parameter type, an unclosed `{` or `(`, a parameter inside optional text.
pub fn try_expression_regex(expr: &str) -> Result<Regex, String> {
    let mut re = String::from("^");
    let mut chars = expr.chars().peekable();
    let mut in_optional = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => return Err(format!("expression {expr:?} ends with a lone backslash")),
            },
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(n) => name.push(n),
                        None => return Err(format!("expression {expr:?}: unclosed '{{'")),
                    }
                }
                if in_optional {
                    return Err(format!(
                        "expression {expr:?}: a parameter may not be inside optional text (...)"
                    ));
                }
                let p = parameter_regex(&name).ok_or_else(|| {
                    format!(
                        "expression {expr:?}: unknown parameter type {{{name}}} \
                         (known: {{string}}, {{int}}, {{float}}, {{word}}, {{duration}}, {{}})"
                    )
                })?;
                re.push_str(p);
            }
            '(' => {
                if in_optional {
                    return Err(format!(
                        "expression {expr:?}: optional text (...) may not be nested"
                    ));
                }
                in_optional = true;
                re.push_str("(?:");
            }
            ')' if in_optional => {
                in_optional = false;
                re.push_str(")?");
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    if in_optional {
        return Err(format!("expression {expr:?}: unclosed '('"));
    }
    re.push('$');
    Regex::new(&re).map_err(|e| format!("expression {expr:?} compiles to an invalid regex: {e}"))
}

/// Compiles a Cucumber Expression to an anchored regex; see [`try_expression_regex`].
///
/// # Panics
///
/// When the expression is malformed: step expressions are part of the program, not user input.
pub fn expression_regex(expr: &str) -> Regex {
    try_expression_regex(expr).unwrap_or_else(|e| panic!("bad step expression: {e}"))
}

/// A step definition with its compiled regex.
struct Compiled {
    def: StepDef,
    regex: Regex,
}

/// Checks the table; the error lists every problem found.
fn check(defs: &[StepDef]) -> Result<Vec<Regex>, String> {
    let mut problems = Vec::new();
    let mut regexes = Vec::with_capacity(defs.len());
    for (i, d) in defs.iter().enumerate() {
        match try_expression_regex(d.expression) {
            Ok(r) => regexes.push(r),
            Err(e) => problems.push(e),
        }
        if let Some(prev) = defs[..i]
            .iter()
            .find(|p| p.keyword == d.keyword && p.expression == d.expression)
        {
            problems.push(format!(
                "step \"{}\" is defined twice (same keyword {})",
                d.phrase(),
                prev.keyword
            ));
        }
    }
    if problems.is_empty() {
        Ok(regexes)
    } else {
        Err(problems.join("\n"))
    }
}

fn compiled() -> &'static [Compiled] {
    static COMPILED: OnceLock<Vec<Compiled>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let defs = crate::all_steps();
        let regexes = check(&defs).unwrap_or_else(|e| panic!("the step table is invalid:\n{e}"));
        defs.into_iter()
            .zip(regexes)
            .map(|(def, regex)| Compiled { def, regex })
            .collect()
    })
}

/// Every step definition, in the order `crate::all_steps()` lists them.
///
/// # Panics
///
/// When two definitions have the same keyword and expression, or an expression does not compile.
/// Both are bugs in the step table, caught by `steps/tests/catalogue.rs`.
pub fn catalogue() -> Vec<StepDef> {
    compiled().iter().map(|c| c.def).collect()
}

/// Adds every [`StepDef`] to a cucumber runner with `.given` / `.when` / `.then`.
pub fn register<P, I, Wr, Cli, F, B, A>(
    mut cucumber: Cucumber<World, P, I, cucumber::runner::Basic<World, F, B, A>, Wr, Cli>,
) -> Cucumber<World, P, I, cucumber::runner::Basic<World, F, B, A>, Wr, Cli>
where
    World: cucumber::World,
    P: cucumber::Parser<I>,
    Wr: cucumber::Writer<World>,
    Cli: cucumber::cli::Args,
    F: Fn(
            &cucumber::gherkin::Feature,
            Option<&cucumber::gherkin::Rule>,
            &cucumber::gherkin::Scenario,
        ) -> cucumber::ScenarioType
        + 'static,
    B: for<'a> Fn(
            &'a cucumber::gherkin::Feature,
            Option<&'a cucumber::gherkin::Rule>,
            &'a cucumber::gherkin::Scenario,
            &'a mut World,
        ) -> LocalBoxFuture<'a, ()>
        + 'static,
    A: for<'a> Fn(
            &'a cucumber::gherkin::Feature,
            Option<&'a cucumber::gherkin::Rule>,
            &'a cucumber::gherkin::Scenario,
            &'a cucumber::event::ScenarioFinished,
            Option<&'a mut World>,
        ) -> LocalBoxFuture<'a, ()>
        + 'static,
{
    for c in compiled() {
        let regex = c.regex.clone();
        cucumber = match c.def.keyword {
            Keyword::Given => cucumber.given(regex, c.def.run),
            Keyword::When => cucumber.when(regex, c.def.run),
            Keyword::Then => cucumber.then(regex, c.def.run),
        };
    }
    cucumber
}

/// The same table as a cucumber step collection, for callers that build their own runner.
pub fn collection() -> cucumber::step::Collection<World> {
    compiled()
        .iter()
        .fold(cucumber::step::Collection::new(), |col, c| {
            let regex = c.regex.clone();
            match c.def.keyword {
                Keyword::Given => col.given(None, regex, c.def.run),
                Keyword::When => col.when(None, regex, c.def.run),
                Keyword::Then => col.then(None, regex, c.def.run),
            }
        })
}

/// The step definition cucumber would run for `text` under `keyword` (the resolved keyword: for
/// `And`/`But`, that of the step before), or `None` if the step is undefined. Cucumber matches
/// only definitions of the same keyword, and so does this.
pub fn find(keyword: Keyword, text: &str) -> Option<&'static StepDef> {
    compiled()
        .iter()
        .find(|c| c.def.keyword == keyword && c.regex.is_match(text))
        .map(|c| &c.def)
}

/// Every definition that matches: more than one means cucumber will refuse the step as ambiguous.
pub fn find_all(keyword: Keyword, text: &str) -> Vec<&'static StepDef> {
    compiled()
        .iter()
        .filter(|c| c.def.keyword == keyword && c.regex.is_match(text))
        .map(|c| &c.def)
        .collect()
}

/// The regex captures of `text` against `def`, parameters only (quotes of `{string}` kept).
/// `None` if `def` does not match `text`.
pub fn captures(def: &StepDef, text: &str) -> Option<Vec<String>> {
    let c = compiled()
        .iter()
        .find(|c| std::ptr::eq(&c.def, def))
        .map(|c| &c.regex);
    let owned;
    let regex = match c {
        Some(r) => r,
        None => {
            owned = try_expression_regex(def.expression).ok()?;
            &owned
        }
    };
    let caps = regex.captures(text)?;
    Some(
        caps.iter()
            .skip(1)
            .map(|m| m.map_or(String::new(), |m| m.as_str().to_owned()))
            .collect(),
    )
}

/// The expression closest to an undefined step's text, with a similarity in `0.0..=1.0`, or `None`
/// when nothing is close enough to be a useful hint. See [`suggest_def`].
pub fn suggest(text: &str) -> Option<(&'static str, f64)> {
    suggest_def(None, text).map(|(d, score)| (d.expression, score))
}

/// Below this similarity a suggestion is more confusing than helpful.
const SUGGEST_THRESHOLD: f64 = 0.5;

/// The definition closest to an undefined step's text, preferring `keyword` on near-ties.
///
/// Quoted strings, durations and numbers in `text` are replaced by `{string}`, `{duration}` and
/// `{int}` first, so `deployment "web" has 3 redy replicas` is compared as
/// `deployment {string} has {int} redy replicas`; the score is 1 − (Levenshtein distance / length
/// of the longer text), counted in characters.
pub fn suggest_def(keyword: Option<Keyword>, text: &str) -> Option<(&'static StepDef, f64)> {
    let shape = placeholder_shape(text);
    let mut best: Option<(&'static StepDef, f64, f64)> = None;
    for c in compiled() {
        let score = similarity(&shape, c.def.expression);
        // A small bonus breaks near-ties in favour of the keyword the user wrote.
        let ranked = score
            + if keyword == Some(c.def.keyword) {
                0.05
            } else {
                0.0
            };
        if best.is_none_or(|(_, _, r)| ranked > r) {
            best = Some((&c.def, score, ranked));
        }
    }
    best.filter(|(_, score, _)| *score >= SUGGEST_THRESHOLD)
        .map(|(d, s, _)| (d, s))
}

/// Replaces the values in a step text by the placeholders an expression would have there.
fn placeholder_shape(text: &str) -> String {
    static SHAPES: OnceLock<[(Regex, &str); 3]> = OnceLock::new();
    let shapes = SHAPES.get_or_init(|| {
        [
            (
                Regex::new(r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"#).expect("static regex"),
                "{string}",
            ),
            (
                Regex::new(
                    r"\b\d+ ?(?:milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|h)\b",
                )
                .expect("static regex"),
                "{duration}",
            ),
            (Regex::new(r"-?\b\d+\b").expect("static regex"), "{int}"),
        ]
    });
    let mut out = text.trim().to_owned();
    for (re, placeholder) in shapes {
        out = re.replace_all(&out, *placeholder).into_owned();
    }
    out
}

/// 1 − normalized Levenshtein distance, over characters.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - prev[b.len()] as f64 / longest as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_long_and_short() {
        let cases = [
            ("1 second", 1_000),
            ("30 seconds", 30_000),
            ("1 minute", 60_000),
            ("5 minutes", 300_000),
            ("1 hour", 3_600_000),
            ("2 hours", 7_200_000),
            ("500 milliseconds", 500),
            ("90s", 90_000),
            ("2m", 120_000),
            ("500ms", 500),
            ("1h", 3_600_000),
            ("0s", 0),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_durations_are_refused_with_the_text() {
        for text in [
            "",
            "s",
            "5",
            "5 fortnights",
            "1.5 minutes",
            "-1s",
            "five seconds",
            "99999999999999999999h",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains(&format!("{text:?}")), "{text}: {err}");
        }
    }

    #[test]
    fn every_duration_form_matches_the_duration_parameter() {
        let re = expression_regex("{duration} pass");
        for text in [
            "1 second",
            "30 seconds",
            "5 minutes",
            "1 hour",
            "500 milliseconds",
            "90s",
            "2m",
            "500ms",
            "1h",
        ] {
            let line = format!("{text} pass");
            let caps = re
                .captures(&line)
                .unwrap_or_else(|| panic!("{line:?} does not match"));
            assert_eq!(&caps[1], text);
            parse_duration(&caps[1]).unwrap();
        }
        assert!(!re.is_match("5 fortnights pass"));
    }

    #[test]
    fn expression_parameters_and_literals() {
        let re = expression_regex("a deployment {string} with {int} replicas of image {string}");
        let caps = re
            .captures(r#"a deployment "web" with 3 replicas of image 'nginx:1.27'"#)
            .unwrap();
        assert_eq!(
            (&caps[1], &caps[2], &caps[3]),
            (r#""web""#, "3", "'nginx:1.27'")
        );
        assert!(!re.is_match(r#"a deployment "web" with 3 replicas of image "nginx" and more"#));
        assert!(!re.is_match(r#"Given a deployment "web" with 3 replicas of image "nginx""#));

        // Regex metacharacters in the literal text are literal.
        let re = expression_regex("the rollout status is {string}.*");
        assert!(re.is_match(r#"the rollout status is "x".*"#));
        assert!(!re.is_match(r#"the rollout status is "x"abc"#));

        let re = expression_regex("I delete {word} {string}");
        let caps = re.captures(r#"I delete pod "web-0""#).unwrap();
        assert_eq!((&caps[1], &caps[2]), ("pod", r#""web-0""#));

        let re = expression_regex("scale to {int} and {float}");
        assert!(re.is_match("scale to -2 and 0.5"));
        assert!(!re.is_match("scale to two and 0.5"));
    }

    #[test]
    fn optional_text_and_escapes() {
        let re = expression_regex("{duration} pass(es)");
        assert!(re.is_match("1 minute passes"));
        assert!(re.is_match("1 minute pass"));
        // Optional text adds no capture group: the duration is still capture 1.
        assert_eq!(re.captures_len(), 2);
        let re = expression_regex(r"literal \(parens\) and \{braces\} and a/b");
        assert!(re.is_match("literal (parens) and {braces} and a/b"));
    }

    #[test]
    fn malformed_expressions_are_explained() {
        for (expr, needle) in [
            ("a {nope} b", "unknown parameter type {nope}"),
            ("a {string", "unclosed '{'"),
            ("a (b", "unclosed '('"),
            ("a ({int})", "inside optional text"),
            ("trailing \\", "lone backslash"),
        ] {
            let err = try_expression_regex(expr).unwrap_err();
            assert!(err.contains(needle), "{expr}: {err}");
        }
    }

    #[test]
    fn strings_are_unquoted_and_unescaped() {
        assert_eq!(unquote(r#""web""#), "web");
        assert_eq!(unquote("'web'"), "web");
        assert_eq!(unquote(r#""say \"hi\"""#), r#"say "hi""#);
        assert_eq!(unquote(r#""a\\b""#), r"a\b");
        assert_eq!(unquote(r#""""#), "");
        let re = expression_regex("the status is {string}");
        let caps = re
            .captures(r#"the status is "Waiting for deployment \"web\" rollout to finish""#)
            .unwrap();
        assert_eq!(
            unquote(&caps[1]),
            r#"Waiting for deployment "web" rollout to finish"#
        );
    }

    #[test]
    fn docstrings_with_and_without_content_type() {
        // What gherkin 0.16 returns for `"""yaml` followed by indented lines.
        assert_eq!(
            normalize_docstring("yaml\n      apiVersion: v1\n      spec:\n        replicas: 3\n"),
            "apiVersion: v1\nspec:\n  replicas: 3\n"
        );
        // ... and for a plain `"""`.
        assert_eq!(
            normalize_docstring("\napiVersion: v1\n  kind: Pod\n"),
            "apiVersion: v1\n  kind: Pod\n"
        );
        // Blank lines inside survive the dedent.
        assert_eq!(
            normalize_docstring("yaml\n    a: 1\n\n    b: 2\n"),
            "a: 1\n\nb: 2\n"
        );
        // Not a content type: left alone.
        assert_eq!(normalize_docstring("kind: Pod\n"), "kind: Pod\n");
    }

    #[test]
    fn placeholders_and_similarity() {
        assert_eq!(
            placeholder_shape(r#"deployment "web" has 3 ready replicas within 2 minutes"#),
            "deployment {string} has {int} ready replicas within {duration}"
        );
        assert_eq!(placeholder_shape("90s pass"), "{duration} pass");
        assert_eq!(similarity("abc", "abc"), 1.0);
        assert_eq!(similarity("", ""), 1.0);
        assert!((similarity("kitten", "sitting") - (1.0 - 3.0 / 7.0)).abs() < 1e-9);
    }

    #[test]
    fn keywords_from_gherkin() {
        assert_eq!(Keyword::from(StepType::When), Keyword::When);
        assert_eq!(Keyword::Then.to_string(), "Then");
    }
}

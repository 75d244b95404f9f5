//! `field.ErrorList` for CRDs and custom resources: error bodies rendered as apimachinery's
//! `field.Error.ErrorBody` renders them for *unstructured* values, and the aggregate
//! `<Kind>.<group> "<name>" is invalid: …` message of `apierrors.NewInvalid`.
//!
//! Values here are `serde_json::Value`s, which is what an unstructured object holds in Go
//! (`string`, `int64`, `float64`, `bool`, `nil`, `map[string]interface{}`, `[]interface{}`).
//! Since v1.34 (kubernetes/kubernetes#132314) `ErrorBody` prints a `string` with `%q`, an
//! `int64`/`float64`/`bool` with `%v`, `nil` as `null`, and anything else as JSON.

use super::super::{ApiError, FieldError, Reason};
use serde_json::Value;

/// `field.ErrorList`, deduplicated on insertion like `ErrorList.ToAggregate`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorList(pub Vec<FieldError>);

impl ErrorList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn push(&mut self, field: impl Into<String>, detail: String) {
        let fe = FieldError {
            field: field.into(),
            detail,
        };
        if !self.0.contains(&fe) {
            self.0.push(fe);
        }
    }

    pub fn extend(&mut self, other: ErrorList) {
        for fe in other.0 {
            if !self.0.contains(&fe) {
                self.0.push(fe);
            }
        }
    }

    /// `field.Invalid` with an already rendered value.
    pub fn invalid(&mut self, field: impl Into<String>, value: String, detail: &str) {
        self.push(
            field,
            with_detail(format!("Invalid value: {value}"), detail),
        );
    }

    /// `field.Invalid` with an unstructured value.
    pub fn invalid_value(&mut self, field: impl Into<String>, value: &Value, detail: &str) {
        self.invalid(field, render_value(value), detail);
    }

    /// `field.Required`.
    pub fn required(&mut self, field: impl Into<String>, detail: &str) {
        self.push(field, with_detail("Required value".into(), detail));
    }

    /// `field.Forbidden`.
    pub fn forbidden(&mut self, field: impl Into<String>, detail: &str) {
        self.push(field, with_detail("Forbidden".into(), detail));
    }

    /// `field.Duplicate`.
    pub fn duplicate(&mut self, field: impl Into<String>, value: &Value) {
        self.push(field, format!("Duplicate value: {}", render_value(value)));
    }

    /// `field.NotSupported`: every supported value is `strconv.Quote`d.
    pub fn not_supported(&mut self, field: impl Into<String>, value: String, supported: &[String]) {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        self.push(
            field,
            with_detail(format!("Unsupported value: {value}"), &detail),
        );
    }

    /// `field.TooLong`: the value is omitted from the body.
    pub fn too_long(&mut self, field: impl Into<String>, max: i64) {
        let detail = if max >= 0 {
            format!(
                "may not be more than {max} {}",
                if max == 1 { "byte" } else { "bytes" }
            )
        } else {
            "value is too long".into()
        };
        self.push(field, format!("Too long: {detail}"));
    }

    /// `field.TooMany`.
    pub fn too_many(&mut self, field: impl Into<String>, actual: i64, max: i64) {
        let detail = if max >= 0 {
            format!(
                "must have at most {max} {}",
                if max == 1 { "item" } else { "items" }
            )
        } else {
            "has too many items".into()
        };
        let body = if actual >= 0 {
            format!("Too many: {actual}: {detail}")
        } else {
            format!("Too many: {detail}")
        };
        self.push(field, body);
    }

    /// Every error's field prefixed with `prefix` (`field.Path` joining: `prefix.field`, or
    /// `prefix[0]` for an index).
    pub fn prefixed(self, prefix: &str) -> ErrorList {
        if prefix.is_empty() {
            return self;
        }
        ErrorList(
            self.0
                .into_iter()
                .map(|fe| FieldError {
                    field: join_path(prefix, &fe.field),
                    detail: fe.detail,
                })
                .collect(),
        )
    }

    /// `apierrors.NewInvalid(qualifiedKind, name, errs)`.
    pub fn into_invalid(self, qualified_kind: &str, name: &str) -> ApiError {
        new_invalid(qualified_kind, name, self.0)
    }
}

fn with_detail(head: String, detail: &str) -> String {
    if detail.is_empty() {
        head
    } else {
        format!("{head}: {detail}")
    }
}

/// Joins a child path onto a parent the way `field.Path.Child` prints it.
pub fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_string(),
        (false, true) => parent.to_string(),
        (false, false) if child.starts_with('[') => format!("{parent}{child}"),
        (false, false) => format!("{parent}.{child}"),
    }
}

/// `apierrors.NewInvalid`: `Kind.group "name" is invalid: <aggregate>`, where the aggregate
/// of one error is that error and of several is `[a, b]`; no errors gives `… is invalid`.
pub fn new_invalid(qualified_kind: &str, name: &str, causes: Vec<FieldError>) -> ApiError {
    let message = match causes.len() {
        0 => format!("{qualified_kind} {} is invalid", go_quote(name)),
        1 => format!(
            "{qualified_kind} {} is invalid: {}",
            go_quote(name),
            causes[0]
        ),
        _ => format!(
            "{qualified_kind} {} is invalid: [{}]",
            go_quote(name),
            causes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    ApiError {
        reason: Reason::Invalid,
        message,
        causes,
    }
}

/// A bad value as `ErrorBody` prints it: `%q` for strings, `%v` for numbers and booleans,
/// `null` for nil, JSON for maps and slices.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => render_number(n),
        Value::Array(_) | Value::Object(_) => go_json(v),
    }
}

/// `%v` of an `int64` or `float64`.
pub fn render_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        go_float(n.as_f64().unwrap_or(0.0))
    }
}

/// Go's `%v` for a `float64`: shortest representation, `%e` form when the exponent is
/// below -4 or at least 21 (`1e+21`, `1.5e-05`), plain otherwise (`0.5`, `10`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return "0".into();
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..21).contains(&exp) {
        format!("{f}")
    } else {
        // Rust: `1.5e-5`; Go: `1.5e-05`.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mant, e)) => {
                let (sign, digits) = match e.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', e),
                };
                let digits = if digits.len() < 2 {
                    format!("0{digits}")
                } else {
                    digits.to_string()
                };
                format!("{mant}e{sign}{digits}")
            }
            None => s,
        }
    }
}

/// Go's `encoding/json` output: map keys sorted, HTML characters escaped, no spaces.
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go_json(&mut out, v);
    out
}

fn write_go_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                // encoding/json writes floats with 'f' format unless the exponent is extreme.
                let f = n.as_f64().unwrap_or(0.0);
                let abs = f.abs();
                if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
                    out.push_str(&go_float(f).replace("e-0", "e-"));
                } else {
                    out.push_str(&format!("{f}"));
                }
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => out.push_str(&json_string(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            // serde_json's Map is a BTreeMap here (no `preserve_order`), so keys are sorted.
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(k));
                out.push(':');
                write_go_json(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` (`strconv.Quote`).
pub fn go_quote(s: &str) -> String {
    super::super::validation::go_quote(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_render_like_error_body() {
        assert_eq!(render_value(&json!("a\"b")), r#""a\"b""#);
        assert_eq!(render_value(&json!(3)), "3");
        assert_eq!(render_value(&json!(1.5)), "1.5");
        assert_eq!(render_value(&json!(2.0)), "2");
        assert_eq!(render_value(&json!(null)), "null");
        assert_eq!(
            render_value(&json!({"b": 1, "a": "<"})),
            r#"{"a":"\u003c","b":1}"#
        );
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.000015), "1.5e-05");
        assert_eq!(go_float(0.5), "0.5");
    }

    #[test]
    fn aggregate_message_lists_many_causes_in_brackets() {
        let mut e = ErrorList::default();
        e.required("spec.size", "");
        let one = e.clone().into_invalid("CronTab.stable.example.com", "c");
        assert_eq!(
            one.message,
            r#"CronTab.stable.example.com "c" is invalid: spec.size: Required value"#
        );
        e.too_long("spec.name", 3);
        e.required("spec.size", "");
        let two = e.into_invalid("CronTab.stable.example.com", "c");
        assert_eq!(
            two.message,
            r#"CronTab.stable.example.com "c" is invalid: [spec.size: Required value, spec.name: Too long: may not be more than 3 bytes]"#
        );
        assert_eq!(two.causes.len(), 2);
    }
}

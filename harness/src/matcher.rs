//! Partial matching of API objects against an expected document, for `… matches:` steps.
//!
//! Rules: a map matches when every key it gives matches (other keys are ignored); scalars must
//! be equal (numbers compare by value, so `3` matches `3.0`); a list matches when every expected
//! element matches some element of the actual list, in any order; `null` matches an absent key.

use serde_json::Value;

/// One reason a document did not match.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// `status.conditions[type=Available].status`
    pub path: String,
    pub expected: Value,
    pub actual: Option<Value>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.actual {
            Some(a) => write!(f, "{}: expected {}, got {}", self.path, self.expected, a),
            None => write!(
                f,
                "{}: expected {}, but it is absent",
                self.path, self.expected
            ),
        }
    }
}

/// Matches `actual` against `expected`; on failure, every mismatch found.
pub fn matches(expected: &Value, actual: &Value) -> Result<(), Vec<Mismatch>> {
    let mut out = Vec::new();
    walk(expected, Some(actual), "", &mut out);
    if out.is_empty() { Ok(()) } else { Err(out) }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(expected: &Value, actual: Option<&Value>, path: &str, out: &mut Vec<Mismatch>) {
    match (expected, actual) {
        (Value::Null, None | Some(Value::Null)) => {}
        (Value::Object(e), Some(Value::Object(a))) => {
            for (k, v) in e {
                walk(v, a.get(k), &join(path, k), out);
            }
        }
        (Value::Array(e), Some(Value::Array(a))) => {
            for (i, item) in e.iter().enumerate() {
                if !a.iter().any(|x| matches(item, x).is_ok()) {
                    out.push(Mismatch {
                        path: format!("{path}[{}]", element_label(item, i)),
                        expected: item.clone(),
                        actual: Some(closest(item, a).cloned().unwrap_or(Value::Null)),
                    });
                }
            }
        }
        (Value::Number(e), Some(Value::Number(a))) if e.as_f64() == a.as_f64() => {}
        (e, Some(a)) if e == a => {}
        (e, a) => out.push(Mismatch {
            path: path.to_string(),
            expected: e.clone(),
            actual: a.cloned(),
        }),
    }
}

/// `type=Available` when the element has a distinguishing key, else its index.
fn element_label(item: &Value, i: usize) -> String {
    for key in ["type", "name"] {
        if let Some(v) = item.get(key).and_then(Value::as_str) {
            return format!("{key}={v}");
        }
    }
    i.to_string()
}

/// The actual element with the fewest mismatches, to show next to a failed list element.
fn closest<'a>(item: &Value, actual: &'a [Value]) -> Option<&'a Value> {
    actual.iter().min_by_key(|a| {
        let mut out = Vec::new();
        walk(item, Some(a), "", &mut out);
        out.len()
    })
}

/// The parts of `actual` that `expected` talks about, for a focused diff.
pub fn project(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => Value::Object(
            e.keys()
                .filter_map(|k| a.get(k).map(|v| (k.clone(), project(&e[k], v))))
                .collect(),
        ),
        (Value::Array(e), Value::Array(a)) => Value::Array(
            e.iter()
                .filter_map(|item| {
                    a.iter()
                        .find(|x| matches(item, x).is_ok())
                        .or_else(|| closest(item, a))
                        .map(|x| project(item, x))
                })
                .collect(),
        ),
        (_, a) => a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_lists_and_scalars() {
        let actual = json!({"status": {"replicas": 3, "conditions": [
            {"type": "Progressing", "status": "True"}, {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}});
        assert!(
            matches(
                &json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}}),
                &actual
            )
            .is_ok()
        );
        assert!(matches(&json!({"status": {"replicas": 3.0}}), &actual).is_ok());
        let err = matches(&json!({"status": {"replicas": 4, "conditions": [{"type": "Available", "status": "False"}]}}), &actual).unwrap_err();
        assert_eq!(err.len(), 2);
        // Keys are visited in sorted order.
        assert_eq!(err[0].path, "status.conditions[type=Available]");
        assert_eq!(err[1].to_string(), "status.replicas: expected 4, got 3");
    }

    #[test]
    fn null_matches_absent() {
        assert!(matches(&json!({"spec": {"paused": null}}), &json!({"spec": {}})).is_ok());
        assert!(
            matches(
                &json!({"spec": {"paused": null}}),
                &json!({"spec": {"paused": true}})
            )
            .is_err()
        );
    }

    #[test]
    fn projection_keeps_only_expected_keys() {
        let actual = json!({"a": 1, "b": {"c": 2, "d": 3}});
        assert_eq!(
            project(&json!({"b": {"c": 0}}), &actual),
            json!({"b": {"c": 2}})
        );
    }
}

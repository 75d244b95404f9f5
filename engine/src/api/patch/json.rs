//! JSON patch (RFC 6902): `add`, `remove`, `replace`, `move`, `copy` and `test` over JSON
//! pointers (RFC 6901). See [`apply`]; [`decode`] parses a request body.
//!
//! Written here rather than taken from the `json-patch` crate so that errors carry upstream's
//! wording and every failure is a value, never a panic. The operations apply to a copy: a patch
//! that fails part-way leaves nothing changed, as RFC 6902 §5 requires.

use super::{PatchError, Result};
use serde_json::Value;

/// One operation of a JSON patch.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
    Move { from: String, path: String },
    Copy { from: String, path: String },
    Test { path: String, value: Value },
}

/// Parses a JSON patch document: an array of operation objects.
///
/// # Errors
///
/// `BadRequest` when the body is not JSON, not an array, or an operation lacks `op`, `path`,
/// `from` or `value`, or names an unknown op; `TooLarge` (413) beyond
/// [`MAX_JSON_PATCH_OPERATIONS`] operations.
pub fn decode(body: &[u8]) -> Result<Vec<Op>> {
    let doc = super::decode_json(body)?;
    decode_value(&doc)
}

/// [`decode`] for an already parsed document.
pub fn decode_value(doc: &Value) -> Result<Vec<Op>> {
    let Value::Array(items) = doc else {
        return Err(PatchError::BadRequest(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch".into(),
        ));
    };
    let ops: Vec<Op> = items.iter().map(decode_op).collect::<Result<_>>()?;
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooLarge(format!(
            "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
            ops.len()
        )));
    }
    Ok(ops)
}

/// Upstream's `maxJSONPatchOperations` (apiserver `handlers/patch.go`).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

fn decode_op(item: &Value) -> Result<Op> {
    let Value::Object(m) = item else {
        return Err(PatchError::BadRequest(format!(
            "json patch operation is not an object: {item}"
        )));
    };
    let text = |k: &str| -> Result<String> {
        match m.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(PatchError::BadRequest(format!(
                "json patch operation {item} has no string \"{k}\""
            ))),
        }
    };
    let value = || -> Result<Value> {
        m.get("value").cloned().ok_or_else(|| {
            PatchError::BadRequest(format!("json patch operation {item} has no \"value\""))
        })
    };
    let op = text("op")?;
    let path = text("path")?;
    Ok(match op.as_str() {
        "add" => Op::Add {
            path,
            value: value()?,
        },
        "remove" => Op::Remove { path },
        "replace" => Op::Replace {
            path,
            value: value()?,
        },
        "move" => Op::Move {
            from: text("from")?,
            path,
        },
        "copy" => Op::Copy {
            from: text("from")?,
            path,
        },
        "test" => Op::Test {
            path,
            value: value()?,
        },
        other => {
            return Err(PatchError::BadRequest(format!("Unexpected kind: {other}")));
        }
    })
}

/// Applies `ops` in order to a copy of `doc` (RFC 6902 §4), as `jsonpatch.Patch.Apply`
/// (`gopkg.in/evanphx/json-patch.v4`, the apiserver's), with its error messages.
///
/// # Errors
///
/// `Unprocessable` (upstream's 422) when a path does not exist, an index is out of range, or a
/// `test` fails; nothing is applied then.
pub fn apply(doc: &Value, ops: &[Op]) -> Result<Value> {
    let mut doc = doc.clone();
    for op in ops {
        apply_op(&mut doc, op)?;
    }
    Ok(doc)
}

fn apply_op(doc: &mut Value, op: &Op) -> Result<()> {
    match op {
        Op::Add { path, value } => add(doc, path, value.clone(), "add"),
        Op::Remove { path } => remove(doc, path, "remove").map(drop),
        Op::Replace { path, value } if path.is_empty() => {
            // The root (RFC 6901 `""`) is the whole document.
            *doc = value.clone();
            Ok(())
        }
        Op::Replace { path, value } => {
            let (parent, last) = parent_mut(doc, path, "replace")?;
            let slot = match parent {
                Value::Object(m) => m.get_mut(&last),
                Value::Array(a) => {
                    let i = parse_index(&last, a.len())?;
                    a.get_mut(i)
                }
                _ => None,
            };
            let Some(slot) = slot else {
                return Err(unprocessable(format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                )));
            };
            *slot = value.clone();
            Ok(())
        }
        Op::Move { from, path } => {
            if path != from && path.starts_with(&format!("{from}/")) {
                return Err(unprocessable(format!(
                    "move operation does not apply: \"from\" {from} is a proper prefix of \"path\" {path}"
                )));
            }
            let v = remove(doc, from, "move")?;
            add(doc, path, v, "move")
        }
        Op::Copy { from, path } => {
            let Some(v) = get(doc, from)? else {
                return Err(unprocessable(format!(
                    "copy operation does not apply: doc is missing from path: {from}: missing value"
                )));
            };
            let v = v.clone();
            add(doc, path, v, "copy")
        }
        Op::Test { path, value } => {
            // A missing value tests equal to `null`, as upstream's container `get` answers nil.
            let actual = get(doc, path)?.map(|v| &*v).unwrap_or(&Value::Null);
            if actual == value {
                Ok(())
            } else {
                Err(unprocessable(format!(
                    "testing value {path} failed: test failed"
                )))
            }
        }
    }
}

fn unprocessable(msg: String) -> PatchError {
    PatchError::Unprocessable(msg)
}

/// Splits a JSON pointer into unescaped reference tokens (`~1` is `/`, `~0` is `~`, in that
/// order, RFC 6901 §4). `""` is the whole document.
pub fn parse_pointer(pointer: &str) -> Result<Vec<String>> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(unprocessable(format!(
            "JSON pointer {pointer:?} does not start with \"/\""
        )));
    };
    rest.split('/')
        .map(|t| {
            // An escape other than ~0 and ~1 is an error (RFC 6901 §3).
            let mut out = String::with_capacity(t.len());
            let mut chars = t.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(unprocessable(format!(
                                "JSON pointer {pointer:?} has an invalid escape"
                            )));
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .collect()
}

/// An array index below `len`: digits without a leading zero (RFC 6901 §4).
fn parse_index(token: &str, len: usize) -> Result<usize> {
    let valid = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    let i = if valid {
        token.parse::<usize>().ok()
    } else {
        None
    };
    match i {
        Some(i) if i < len => Ok(i),
        _ => Err(unprocessable(format!(
            "Unable to access invalid index: {token}: invalid index referenced"
        ))),
    }
}

/// Steps into `cur` by one token; `Ok(None)` when the member is missing.
fn step<'a>(cur: &'a mut Value, token: &str) -> Result<Option<&'a mut Value>> {
    Ok(match cur {
        Value::Object(m) => m.get_mut(token),
        Value::Array(a) => {
            let i = parse_index(token, a.len())?;
            a.get_mut(i)
        }
        _ => None,
    })
}

/// The value at `path`, `None` when it is missing.
fn get<'a>(doc: &'a mut Value, path: &str) -> Result<Option<&'a mut Value>> {
    let mut cur = doc;
    for t in parse_pointer(path)? {
        match step(cur, &t)? {
            Some(next) => cur = next,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// The container of the last token of `path`, and that token; `op` words the error when the
/// container is missing (`add operation does not apply: doc is missing path: "/a/b": ...`).
fn parent_mut<'a>(doc: &'a mut Value, path: &str, op: &str) -> Result<(&'a mut Value, String)> {
    let mut tokens = parse_pointer(path)?;
    let missing = || {
        unprocessable(format!(
            "{op} operation does not apply: doc is missing path: \"{path}\": missing value"
        ))
    };
    let Some(last) = tokens.pop() else {
        return Err(missing());
    };
    let mut cur = doc;
    for t in &tokens {
        cur = step(cur, t)?.ok_or_else(missing)?;
    }
    if !(cur.is_object() || cur.is_array()) {
        return Err(missing());
    }
    Ok((cur, last))
}

/// RFC 6902 §4.1: into an object, sets the member; into an array, inserts before the index, or
/// appends for `-`; the root path replaces the document.
fn add(doc: &mut Value, path: &str, value: Value, op: &str) -> Result<()> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = parent_mut(doc, path, op)?;
    match parent {
        Value::Object(m) => {
            m.insert(last, value);
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
            } else {
                // Inserting at index len appends; anything beyond is out of range.
                let i = parse_index(&last, a.len() + 1)?;
                a.insert(i, value);
            }
        }
        _ => {}
    }
    Ok(())
}

/// RFC 6902 §4.2: removes and returns the value at `path`, which must exist.
fn remove(doc: &mut Value, path: &str, op: &str) -> Result<Value> {
    if path.is_empty() {
        return Ok(std::mem::take(doc));
    }
    let (parent, last) = parent_mut(doc, path, op)?;
    let removed = match parent {
        Value::Object(m) => m.remove(&last),
        Value::Array(a) => {
            let i = parse_index(&last, a.len())?;
            Some(a.remove(i))
        }
        _ => None,
    };
    removed.ok_or_else(|| {
        unprocessable(format!(
            "Unable to remove nonexistent key: {last}: missing value"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(doc: Value, patch: Value, expected: Value) {
        let ops = decode_value(&patch).expect("patch decodes");
        pretty_assertions::assert_eq!(apply(&doc, &ops).expect("patch applies"), expected);
    }

    fn check_err(doc: Value, patch: Value) -> PatchError {
        match decode_value(&patch).and_then(|ops| apply(&doc, &ops)) {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e,
        }
    }

    /// RFC 6902 Appendix A.
    #[test]
    fn rfc6902_appendix_a() {
        check(
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/baz","value":"qux"}]),
            json!({"baz":"qux","foo":"bar"}),
        );
        check(
            json!({"foo":["bar","baz"]}),
            json!([{"op":"add","path":"/foo/1","value":"qux"}]),
            json!({"foo":["bar","qux","baz"]}),
        );
        check(
            json!({"baz":"qux","foo":"bar"}),
            json!([{"op":"remove","path":"/baz"}]),
            json!({"foo":"bar"}),
        );
        check(
            json!({"foo":["bar","qux","baz"]}),
            json!([{"op":"remove","path":"/foo/1"}]),
            json!({"foo":["bar","baz"]}),
        );
        check(
            json!({"baz":"qux","foo":"bar"}),
            json!([{"op":"replace","path":"/baz","value":"boo"}]),
            json!({"baz":"boo","foo":"bar"}),
        );
        check(
            json!({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}),
            json!([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]),
            json!({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}),
        );
        check(
            json!({"foo":["all","grass","cows","eat"]}),
            json!([{"op":"move","from":"/foo/1","path":"/foo/3"}]),
            json!({"foo":["all","cows","eat","grass"]}),
        );
        check(
            json!({"baz":"qux","foo":["a",2,"c"]}),
            json!([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]),
            json!({"baz":"qux","foo":["a",2,"c"]}),
        );
        check(
            json!({"foo":["bar"]}),
            json!([{"op":"add","path":"/foo/-","value":["abc","def"]}]),
            json!({"foo":["bar",["abc","def"]]}),
        );
        check(
            json!({"foo":"bar"}),
            json!([{"op":"copy","from":"/foo","path":"/baz"}]),
            json!({"foo":"bar","baz":"bar"}),
        );
    }

    #[test]
    fn pointer_escapes() {
        check(
            json!({"metadata":{"annotations":{"a/b":"1","c~d":"2"}}}),
            json!([
                {"op":"replace","path":"/metadata/annotations/a~1b","value":"x"},
                {"op":"remove","path":"/metadata/annotations/c~0d"}
            ]),
            json!({"metadata":{"annotations":{"a/b":"x"}}}),
        );
        // `~01` is `~1` literally, not `/`.
        assert_eq!(parse_pointer("/~01").unwrap(), vec!["~1".to_string()]);
    }

    #[test]
    fn failures_are_errors_and_change_nothing() {
        let doc = json!({"baz":"qux","foo":["a"]});
        // A failed test after a successful add: the add is not kept (apply works on a copy).
        let e = check_err(
            doc.clone(),
            json!([{"op":"add","path":"/x","value":1},{"op":"test","path":"/baz","value":"bar"}]),
        );
        assert_eq!(e.code(), 422);
        assert!(e.to_string().contains("test failed"), "{e}");
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"remove","path":"/nope"}])).to_string(),
            "Unable to remove nonexistent key: nope: missing value"
        );
        assert_eq!(
            check_err(
                doc.clone(),
                json!([{"op":"replace","path":"/nope","value":1}])
            )
            .to_string(),
            "replace operation does not apply: doc is missing key: /nope: missing value"
        );
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"add","path":"/a/b","value":1}])).to_string(),
            "add operation does not apply: doc is missing path: \"/a/b\": missing value"
        );
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"remove","path":"/foo/5"}])).to_string(),
            "Unable to access invalid index: 5: invalid index referenced"
        );
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"copy","from":"/x","path":"/y"}])).to_string(),
            "copy operation does not apply: doc is missing from path: /x: missing value"
        );
        // `test` of a missing member against null passes; against anything else fails.
        check(
            doc.clone(),
            json!([{"op":"test","path":"/nope","value":null}]),
            doc.clone(),
        );
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"test","path":"/nope","value":1}])).code(),
            422
        );
        assert_eq!(
            check_err(
                doc.clone(),
                json!([{"op":"replace","path":"/foo/1","value":1}])
            )
            .code(),
            422
        );
        assert_eq!(
            check_err(
                doc.clone(),
                json!([{"op":"add","path":"/foo/01","value":1}])
            )
            .code(),
            422
        );
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"add","path":"/a/b","value":1}])).code(),
            422
        );
        assert_eq!(
            check_err(
                doc.clone(),
                json!([{"op":"move","from":"/foo","path":"/foo/0"}])
            )
            .code(),
            422
        );
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"add","path":"nope","value":1}])).code(),
            422
        );
        // Malformed patches are 400.
        assert_eq!(check_err(doc.clone(), json!({"op":"add"})).code(), 400);
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"frob","path":"/a"}])).code(),
            400
        );
        assert_eq!(
            check_err(doc.clone(), json!([{"op":"add","path":"/a"}])).code(),
            400
        );
        assert_eq!(check_err(doc, json!([{"path":"/a"}])).code(), 400);
        assert_eq!(decode(b"[{").unwrap_err().code(), 400);
    }

    #[test]
    fn more_than_ten_thousand_operations_is_too_large() {
        let op = json!({"op":"test","path":"/a","value":1});
        let ok = Value::Array(vec![op.clone(); MAX_JSON_PATCH_OPERATIONS]);
        assert_eq!(decode_value(&ok).unwrap().len(), MAX_JSON_PATCH_OPERATIONS);
        let e = decode_value(&Value::Array(vec![op; MAX_JSON_PATCH_OPERATIONS + 1])).unwrap_err();
        assert_eq!(e.code(), 413);
        assert_eq!(
            e.to_string(),
            "The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
    }

    #[test]
    fn add_at_end_index_appends() {
        check(
            json!({"a":[1]}),
            json!([{"op":"add","path":"/a/1","value":2}]),
            json!({"a":[1,2]}),
        );
    }
}

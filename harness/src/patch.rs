//! Merge patches as `kubectl patch` applies them to the kinds kubespec simulates.
//!
//! JSON merge patch (RFC 7386) — `null` deletes a key, maps merge, scalars replace — with one
//! strategic-merge rule: lists whose elements are objects with a `name` (containers,
//! initContainers, env, volumes, ports) merge element by element on `name`, as the API's
//! `patchMergeKey: name` does. Other lists are replaced.

use serde_json::Value;

/// Applies `patch` to `target` in place.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    match t.get_mut(k) {
                        Some(existing) => merge_patch(existing, v),
                        None => {
                            let mut fresh = if v.is_object() {
                                Value::Object(Default::default())
                            } else {
                                Value::Null
                            };
                            merge_patch(&mut fresh, v);
                            t.insert(k.clone(), fresh);
                        }
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(p)) if is_named_list(t) && is_named_list(p) => {
            for item in p {
                let name = item.get("name").cloned();
                match t.iter_mut().find(|e| e.get("name") == name.as_ref()) {
                    Some(existing) => merge_patch(existing, item),
                    None => t.push(item.clone()),
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn is_named_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|e| e.get("name").is_some_and(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name_and_null_deletes() {
        let mut d = json!({"spec": {"replicas": 3, "paused": true, "template": {"spec": {"containers": [
            {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}});
        merge_patch(
            &mut d,
            &json!({"spec": {"paused": null, "template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}),
        );
        assert_eq!(
            d,
            json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]}}}})
        );
    }

    #[test]
    fn plain_lists_are_replaced() {
        let mut d = json!({"args": ["a", "b"]});
        merge_patch(&mut d, &json!({"args": ["c"]}));
        assert_eq!(d, json!({"args": ["c"]}));
    }
}

//! PATCH bodies: which kind of patch a request carries, and applying it to the live object.
//! See [`apply_patch`], the one function every PATCH goes through.

use kubespec_engine::api::rest::{ResourceInfo, Status};
use serde_json::Value;

/// The patch types of the `Content-Type` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    StrategicMerge,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// The patch type a `Content-Type` names (parameters such as `; charset=utf-8` ignored).
    ///
    /// # Errors
    ///
    /// `UnsupportedMediaType` (415) with upstream's message for anything else.
    pub fn from_content_type(content_type: &str) -> Result<PatchType, Status> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(PatchType::Apply),
            _ => Err(Status::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: \
                     application/json-patch+json, application/merge-patch+json, \
                     application/apply-patch+yaml (got {content_type:?})"
                ),
            )),
        }
    }
}

/// Applies a PATCH body to the live object and returns the object to store. The caller then
/// writes it as an update (so a `metadata.resourceVersion` in the patch is checked, and the
/// engine admits the result).
///
/// NOTE: strategic merge patch and server-side apply are written on another branch
/// (`engine/src/api/patch/`, with per-kind list merge keys and managedFields); once merged they
/// plug in here, the only place PATCH bodies are interpreted. Until then both are answered 415
/// with a message that names them. `now` and `live == None` are for server-side apply, which
/// stamps managedFields times and may create the object.
///
/// # Errors
///
/// `BadRequest` for a body that is not a patch of its type, `Invalid` (422) when a JSON patch
/// operation fails (a `test` that does not hold, a path that is not there), `NotFound` when
/// there is no live object, `UnsupportedMediaType` for the two types not served yet.
pub fn apply_patch(
    r: &ResourceInfo,
    name: &str,
    live: Option<&Value>,
    body: &[u8],
    patch_type: PatchType,
    now: kubespec_engine::Millis,
) -> Result<Value, Status> {
    let _ = now;
    match patch_type {
        PatchType::StrategicMerge => {
            return Err(Status::new(
                415,
                "UnsupportedMediaType",
                "strategic merge patch (application/strategic-merge-patch+json) is not supported by \
                 kubespec serve yet; use a JSON merge patch (application/merge-patch+json) or a \
                 JSON patch (application/json-patch+json)",
            ));
        }
        PatchType::Apply => {
            return Err(Status::new(
                415,
                "UnsupportedMediaType",
                "server-side apply (application/apply-patch+yaml) is not supported by kubespec \
                 serve yet; use a JSON merge patch (application/merge-patch+json) or a JSON \
                 patch (application/json-patch+json)",
            ));
        }
        PatchType::Json | PatchType::Merge => {}
    }
    let Some(live) = live else {
        return Err(Status::not_found(r, name));
    };
    let mut out = live.clone();
    match patch_type {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| Status::bad_request(format!("the JSON patch is not valid: {e}")))?;
            json_patch::patch(&mut out, &ops).map_err(|e| {
                Status::new(
                    422,
                    "Invalid",
                    format!("the JSON patch could not be applied: {e}"),
                )
            })?;
        }
        PatchType::Merge => {
            let patch: Value = serde_json::from_slice(body).map_err(|e| {
                Status::bad_request(format!("the merge patch is not valid JSON: {e}"))
            })?;
            if !patch.is_object() {
                return Err(Status::bad_request("the merge patch must be a JSON object"));
            }
            json_patch::merge(&mut out, &patch);
        }
        PatchType::StrategicMerge | PatchType::Apply => unreachable!("answered above"),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubespec_engine::api::rest;
    use serde_json::json;

    fn cm() -> &'static ResourceInfo {
        rest::find("", "v1", "configmaps").unwrap()
    }

    #[test]
    fn merge_patch_sets_and_removes_keys() {
        let live = json!({"data": {"a": "1", "b": "2"}});
        let out = apply_patch(
            cm(),
            "x",
            Some(&live),
            br#"{"data": {"a": null, "c": "3"}}"#,
            PatchType::Merge,
            kubespec_engine::Millis::ZERO,
        )
        .unwrap();
        assert_eq!(out, json!({"data": {"b": "2", "c": "3"}}));
    }

    #[test]
    fn json_patch_applies_operations_and_a_failed_test_is_invalid() {
        let live = json!({"data": {"a": "1"}});
        let out = apply_patch(
            cm(),
            "x",
            Some(&live),
            br#"[{"op": "replace", "path": "/data/a", "value": "2"}]"#,
            PatchType::Json,
            kubespec_engine::Millis::ZERO,
        )
        .unwrap();
        assert_eq!(out, json!({"data": {"a": "2"}}));
        let e = apply_patch(
            cm(),
            "x",
            Some(&live),
            br#"[{"op": "test", "path": "/data/a", "value": "9"}]"#,
            PatchType::Json,
            kubespec_engine::Millis::ZERO,
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
        let e = apply_patch(
            cm(),
            "x",
            Some(&live),
            b"{",
            PatchType::Json,
            kubespec_engine::Millis::ZERO,
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn strategic_merge_and_apply_are_unsupported_media_types_for_now() {
        let live = json!({});
        for (t, word) in [
            (PatchType::StrategicMerge, "strategic merge"),
            (PatchType::Apply, "server-side apply"),
        ] {
            let e = apply_patch(
                cm(),
                "x",
                Some(&live),
                b"{}",
                t,
                kubespec_engine::Millis::ZERO,
            )
            .unwrap_err();
            assert_eq!(e.code, 415);
            assert!(e.message.contains(word), "{}", e.message);
        }
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Ok(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("text/plain").unwrap_err().code,
            415
        );
    }
}

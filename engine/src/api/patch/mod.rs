//! PATCH semantics as the API server applies them: JSON patch, merge patch, strategic merge patch
//! and server-side apply, over plain JSON. See [`patch`] for the entry point.
//!
//! Pure functions of (live object, patch body, patch type, time): no store, no clock. The server
//! reads the live object, calls [`patch`], then defaults, validates and stores the result as it
//! would an update. Ordinary writes (create, update, and JSON/merge/strategic patches) record
//! their field ownership with [`apply::update_managed_fields`], as upstream's field manager does
//! for every non-apply request.
//!
//! | upstream                                                        | here            |
//! |-----------------------------------------------------------------|-----------------|
//! | `github.com/evanphx/json-patch` (RFC 6902)                      | [`json`]        |
//! | `github.com/evanphx/json-patch` `MergePatch` (RFC 7386)         | [`merge`]       |
//! | `k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`          | [`strategic`]   |
//! | struct tags in `k8s.io/api/{core,apps,...}/v1/types.go`         | [`meta`]        |
//! | `sigs.k8s.io/structured-merge-diff` + apiserver `fieldmanager`  | [`apply`]       |

pub mod apply;
pub mod json;
pub mod merge;
pub mod meta;
pub mod strategic;

use super::{ApiError, FieldError, Reason};
use serde_json::Value;

/// The four `Content-Type`s of a PATCH request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`: built-in kinds only.
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply by `field_manager`.
    Apply { field_manager: String, force: bool },
}

/// The group/version and kind of the object being patched: `apps/v1` `Deployment`; for a custom
/// resource, optionally its version's OpenAPI schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeRef<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// A custom resource's `openAPIV3Schema`: server-side apply then reads
    /// `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` from it
    /// (without one, its lists are atomic). Ignored for built-in kinds, whose metadata is
    /// [`meta`].
    pub openapi_schema: Option<&'a Value>,
}

impl<'a> TypeRef<'a> {
    pub fn new(api_version: &'a str, kind: &'a str) -> Self {
        TypeRef {
            api_version,
            kind,
            openapi_schema: None,
        }
    }

    /// This type with a custom resource's `openAPIV3Schema`.
    pub fn with_openapi_schema(self, schema: &'a Value) -> Self {
        TypeRef {
            openapi_schema: Some(schema),
            ..self
        }
    }
}

/// One field of an apply conflict: `.spec.replicas`, owned by `manager`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager as upstream prints it: `"kubectl"` for an applier,
    /// `"kubectl-client-side-apply" using apps/v1 at <time>` for an updater.
    pub manager: String,
    /// The field path as upstream prints it: `.spec.template.spec.containers[name="web"].image`.
    pub field: String,
}

/// Why a patch was refused. Each variant maps to one API `Status` (see [`PatchError::reason`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// 400: the body does not decode, or a patch is malformed (unknown op, bad directive).
    #[error("{0}")]
    BadRequest(String),
    /// 422: a JSON patch that decodes but cannot be applied (missing path, failed `test`), as
    /// upstream's `jsonPatcher` reports it.
    #[error("{0}")]
    Unprocessable(String),
    /// 409: server-side apply found fields owned by other managers with other values.
    #[error("{message}")]
    Conflict {
        message: String,
        conflicts: Vec<Conflict>,
    },
    /// 415: strategic merge patch on a kind without patch metadata (a custom resource).
    #[error(
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )]
    UnsupportedMediaType,
    /// 413: a JSON patch with more operations than upstream's `maxJSONPatchOperations`.
    #[error("{0}")]
    TooLarge(String),
    /// 404: a JSON, merge or strategic patch of an object that does not exist.
    #[error("the object to patch does not exist")]
    NotFound,
}

pub type Result<T, E = PatchError> = std::result::Result<T, E>;

impl PatchError {
    /// The `Status` reason the API server reports.
    pub fn reason(&self) -> Reason {
        match self {
            PatchError::BadRequest(_) => Reason::BadRequest,
            PatchError::Unprocessable(_) => Reason::Invalid,
            PatchError::Conflict { .. } => Reason::Conflict,
            PatchError::UnsupportedMediaType => Reason::UnsupportedMediaType,
            PatchError::TooLarge(_) => Reason::RequestEntityTooLarge,
            PatchError::NotFound => Reason::NotFound,
        }
    }

    /// The HTTP status code of the `Status`.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::Unprocessable(_) => 422,
            PatchError::Conflict { .. } => 409,
            PatchError::UnsupportedMediaType => 415,
            PatchError::TooLarge(_) => 413,
            PatchError::NotFound => 404,
        }
    }
}

impl From<PatchError> for ApiError {
    /// Conflicts carry one cause per field (`field: .spec.replicas`, `detail: conflict with
    /// "kubectl"`), as upstream's `NewApplyConflict` does.
    fn from(e: PatchError) -> Self {
        let causes = match &e {
            PatchError::Conflict { conflicts, .. } => conflicts
                .iter()
                .map(|c| FieldError {
                    field: c.field.clone(),
                    detail: format!("conflict with {}", c.manager),
                })
                .collect(),
            _ => Vec::new(),
        };
        ApiError {
            reason: e.reason(),
            message: e.to_string(),
            causes,
        }
    }
}

/// Decodes a JSON request body; a body that does not decode is a `BadRequest`.
pub(crate) fn decode_json(body: &[u8]) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| PatchError::BadRequest(format!("invalid JSON: {e}")))
}

/// Applies `body`, of type `patch_type`, to `live`, the stored object of type `ty`, and returns the
/// new object. `now` is the engine's virtual time in RFC 3339, used for `managedFields[].time`.
///
/// - JSON, merge and strategic patches need a live object ([`PatchError::NotFound`] otherwise);
///   the caller records their ownership with [`apply::update_managed_fields`].
/// - Apply creates the object when `live` is `None`, and maintains `metadata.managedFields`.
///
/// The result is not defaulted or validated: that is the caller's job, as for an update.
///
/// # Errors
///
/// See [`PatchError`]: a malformed body, a JSON patch that does not apply, an apply conflict, or a
/// strategic merge patch of a kind without patch metadata.
///
/// # Example
///
/// `kubectl set image deployment/web web=nginx:1.11` sends a strategic merge patch; the other
/// container is kept, because containers merge by `name`:
///
/// ```
/// use kubespec_engine::api::patch::{PatchType, TypeRef, patch};
/// use serde_json::json;
///
/// let live = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
///     "spec": {"template": {"spec": {"containers": [
///         {"name": "web", "image": "nginx:1.10"}, {"name": "log", "image": "busybox"}]}}}});
/// let body = br#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.11"}]}}}}"#;
/// let out = patch(TypeRef::new("apps/v1", "Deployment"), Some(&live), body,
///                 &PatchType::Strategic, "2026-01-01T00:00:00Z")?;
/// assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([
///     {"name": "web", "image": "nginx:1.11"}, {"name": "log", "image": "busybox"}]));
/// # Ok::<(), kubespec_engine::api::patch::PatchError>(())
/// ```
pub fn patch(
    ty: TypeRef<'_>,
    live: Option<&Value>,
    body: &[u8],
    patch_type: &PatchType,
    now: &str,
) -> Result<Value> {
    let out = patch_value(ty, live, body, patch_type, now)?;
    if !out.is_object() {
        // A merge patch or a JSON patch of the root can replace the object with anything.
        return Err(PatchError::BadRequest(format!(
            "the patched object is not a JSON object: {out}"
        )));
    }
    Ok(out)
}

fn patch_value(
    ty: TypeRef<'_>,
    live: Option<&Value>,
    body: &[u8],
    patch_type: &PatchType,
    now: &str,
) -> Result<Value> {
    match patch_type {
        PatchType::Json => {
            let live = live.ok_or(PatchError::NotFound)?;
            let ops = json::decode(body)?;
            json::apply(live, &ops)
        }
        PatchType::Merge => {
            let live = live.ok_or(PatchError::NotFound)?;
            let p = decode_json(body)?;
            Ok(merge::merge_patch(live, &p))
        }
        PatchType::Strategic => {
            let schema = meta::schema_for(ty.api_version, ty.kind)
                .ok_or(PatchError::UnsupportedMediaType)?;
            let live = live.ok_or(PatchError::NotFound)?;
            let p = decode_json(body)?;
            strategic::strategic_merge_patch(live, &p, schema)
        }
        PatchType::Apply {
            field_manager,
            force,
        } => {
            let config = apply::decode_apply_body(body)?;
            apply::apply(ty, live, &config, field_manager, *force, now)
        }
    }
}

//! PATCH semantics as the API server applies them: JSON patch, merge patch, strategic merge patch
//! and server-side apply, over plain JSON. See [`patch`] for the entry point.
//!
//! Pure functions of (live object, patch body, patch type, time): no store, no clock. The server
//! turns the request into a [`PatchType`] ([`PatchType::from_request`]), reads the live object,
//! calls [`patch`], then defaults, validates and stores the result as it would an update.
//! Ordinary writes (create, update, and JSON/merge/strategic patches) record their field
//! ownership with [`apply::update_managed_fields`] (or [`apply::record_update`]), as upstream's
//! field manager does for every non-apply request.
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
    /// 415: a `Content-Type` that is no patch type, or strategic merge patch on a kind without
    /// patch metadata (a custom resource). `strategic`: whether the kind accepts strategic merge
    /// patches (the message lists it then).
    #[error(
        "the body of the request was in an unknown format - accepted media types include: {}",
        accepted_media_types(*strategic)
    )]
    UnsupportedMediaType { strategic: bool },
    /// 422: `PatchOptions` that do not fit the patch type (`ValidatePatchOptions`): `force`
    /// without apply, apply without `fieldManager`. One (field, detail) per error.
    #[error("{}", invalid_options_message(causes))]
    InvalidOptions { causes: Vec<(String, String)> },
    /// 413: a JSON patch with more operations than upstream's `maxJSONPatchOperations`.
    #[error("{0}")]
    TooLarge(String),
    /// 404: a JSON, merge or strategic patch of an object that does not exist. The server words
    /// the `Status` itself (`deployments.apps "web" not found`), as it knows the resource.
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
            PatchError::UnsupportedMediaType { .. } => Reason::UnsupportedMediaType,
            PatchError::InvalidOptions { .. } => Reason::Invalid,
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
            PatchError::UnsupportedMediaType { .. } => 415,
            PatchError::InvalidOptions { .. } => 422,
            PatchError::TooLarge(_) => 413,
            PatchError::NotFound => 404,
        }
    }
}

fn accepted_media_types(strategic: bool) -> String {
    let mut types = vec![JSON_PATCH, MERGE_PATCH, APPLY_PATCH];
    if strategic {
        types.push(STRATEGIC_MERGE_PATCH);
    }
    types.join(", ")
}

/// `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: ...`, as
/// `errors.NewInvalid` words one error, and `[a, b]` for several.
fn invalid_options_message(causes: &[(String, String)]) -> String {
    let each: Vec<String> = causes.iter().map(|(f, d)| format!("{f}: {d}")).collect();
    let body = match each.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", each.join(", ")),
    };
    format!("PatchOptions.meta.k8s.io \"\" is invalid: {body}")
}

pub const JSON_PATCH: &str = "application/json-patch+json";
pub const MERGE_PATCH: &str = "application/merge-patch+json";
pub const STRATEGIC_MERGE_PATCH: &str = "application/strategic-merge-patch+json";
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";

impl PatchType {
    /// The patch type of a PATCH request: its `Content-Type` (parameters such as `charset` are
    /// ignored) and its `fieldManager` and `force` query parameters, checked as upstream's
    /// `ValidatePatchOptions` does. `strategic`: whether the kind has patch metadata (see
    /// [`meta::schema_for`]), for the 415's list of accepted types.
    ///
    /// # Errors
    ///
    /// `UnsupportedMediaType` for any other `Content-Type`; `InvalidOptions` for `force` without
    /// apply, or apply without a `fieldManager`.
    pub fn from_request(
        content_type: &str,
        field_manager: Option<&str>,
        force: Option<bool>,
        strategic: bool,
    ) -> Result<PatchType> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let is_apply = media == APPLY_PATCH;
        let mut causes = Vec::new();
        if !is_apply && force.is_some() {
            causes.push((
                "force".to_string(),
                "Forbidden: may not be specified for non-apply patch".to_string(),
            ));
        }
        if is_apply && field_manager.is_none_or(str::is_empty) {
            causes.push((
                "fieldManager".to_string(),
                "Required value: is required for apply patch".to_string(),
            ));
        }
        let ty = match media.as_str() {
            JSON_PATCH => PatchType::Json,
            MERGE_PATCH => PatchType::Merge,
            STRATEGIC_MERGE_PATCH => PatchType::Strategic,
            APPLY_PATCH => PatchType::Apply {
                field_manager: field_manager.unwrap_or_default().to_string(),
                force: force.unwrap_or(false),
            },
            _ => return Err(PatchError::UnsupportedMediaType { strategic }),
        };
        if !causes.is_empty() {
            return Err(PatchError::InvalidOptions { causes });
        }
        Ok(ty)
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
            PatchError::InvalidOptions { causes } => causes
                .iter()
                .map(|(field, detail)| FieldError {
                    field: field.clone(),
                    detail: detail.clone(),
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
                .ok_or(PatchError::UnsupportedMediaType { strategic: false })?;
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

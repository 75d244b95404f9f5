//! Server-side apply: not implemented yet; every apply is refused.

use super::{PatchError, Result, TypeRef};
use serde_json::Value;

/// Decodes an apply body.
pub fn decode_apply_body(body: &[u8]) -> Result<Value> {
    super::decode_json(body)
}

/// Refuses every apply until server-side apply lands.
pub fn apply(
    _ty: TypeRef<'_>,
    _live: Option<&Value>,
    _config: &Value,
    _field_manager: &str,
    _force: bool,
    _now: &str,
) -> Result<Value> {
    Err(PatchError::BadRequest(
        "server-side apply is not supported yet".into(),
    ))
}

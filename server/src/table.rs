//! Server-side printing for `kubectl get`: the engine's `Table`s
//! ([`kubespec_engine::api::table`], upstream's columns and cells per kind) with the list
//! metadata of a response. See [`table`].

use kubespec_engine::Millis;
use kubespec_engine::api::rest::{ResourceInfo, Status};
use kubespec_engine::api::table as engine_table;
use serde_json::{Value, json};

pub use engine_table::{IncludeObject as Include, wants_table};

/// The `includeObject` query parameter.
///
/// # Errors
///
/// 400 with upstream's message for a value other than `None`, `Metadata` or `Object`.
pub fn include(q: Option<&str>) -> Result<Include, Status> {
    Include::parse(q).map_err(Status::bad_request)
}

/// The Table of `items` (objects of resource `r`) at virtual time `now`.
pub fn table(
    r: &ResourceInfo,
    items: &[Value],
    now: Millis,
    resource_version: u64,
    continue_token: Option<&str>,
    include: Include,
) -> Value {
    let mut meta = json!({"resourceVersion": resource_version.to_string()});
    if let Some(t) = continue_token {
        meta["continue"] = t.into();
    }
    engine_table::table(r.kind, items, now, include, meta)
}

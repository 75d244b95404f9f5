//! Server-side printing for `kubectl get`: the engine's `Table`s
//! ([`kubespec_engine::api::table`], upstream's columns and cells per kind) with the list
//! metadata of a response. See [`table`].

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceColumnDefinition;
use kubespec_engine::api::rest::{ResourceInfo, Status, Storage};
use kubespec_engine::api::table as engine_table;
use kubespec_engine::{Cluster, Millis};
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

/// The printer columns of a custom resource's version; `None` for the built-in kinds.
pub fn custom_columns(
    c: &Cluster,
    r: &ResourceInfo,
) -> Option<Vec<CustomResourceColumnDefinition>> {
    (r.storage == Storage::Custom)
        .then(|| c.custom_resources.description(r.group, r.plural))
        .flatten()
        .and_then(|d| d.version(r.version))
        .map(|v| v.printer_columns())
}

/// The `Table` of `items` at virtual time `now`: for a custom resource (`columns`), `NAME` and
/// its version's `additionalPrinterColumns` (or `AGE`), as upstream's `tableconvertor` prints
/// them; for the built-in kinds, the engine's printers.
pub fn table_of(
    r: &ResourceInfo,
    columns: Option<&[CustomResourceColumnDefinition]>,
    items: &[Value],
    now: Millis,
    rv: u64,
    continue_token: Option<&str>,
    include: Include,
) -> Value {
    let Some(columns) = columns else {
        return table(r, items, now, rv, continue_token, include);
    };
    let now_ms = now.to_time().0.as_millisecond();
    let mut defs = vec![json!({"name": "Name", "type": "string", "format": "name",
        "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        "priority": 0})];
    defs.extend(columns.iter().map(|col| {
        json!({
            "name": col.name,
            "type": col.type_,
            "format": col.format.clone().unwrap_or_default(),
            "description": col.description.clone().unwrap_or_default(),
            "priority": col.priority.unwrap_or(0),
        })
    }));
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut cells = vec![o.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
            for col in columns {
                let value = simple_json_path(o, &col.json_path);
                cells.push(match (col.type_.as_str(), value) {
                    ("date", Some(Value::String(t))) => t
                        .parse::<jiff::Timestamp>()
                        .map(|t| {
                            kubespec_engine::api::table::human_duration(now_ms - t.as_millisecond())
                                .into()
                        })
                        .unwrap_or_else(|_| "<unknown>".into()),
                    (_, Some(v)) => v.clone(),
                    (_, None) => Value::Null,
                });
            }
            engine_table::row(cells, o, include)
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(t) = continue_token {
        meta["continue"] = t.into();
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": defs,
        "rows": rows,
    })
}

/// The value at a printer column's JSONPath, for the simple paths CRDs use (`.spec.cronSpec`,
/// `.status.conditions[0].type`); `None` when absent or when the path is beyond that.
fn simple_json_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut cur = obj;
    for part in path.trim_start_matches('.').split('.') {
        if part.is_empty() {
            continue;
        }
        let (field, index) = match part.split_once('[') {
            Some((f, rest)) => (f, Some(rest.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (part, None),
        };
        if !field.is_empty() {
            cur = cur.get(field)?;
        }
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

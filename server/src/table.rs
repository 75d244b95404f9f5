//! Server-side printing: `meta.k8s.io/v1` Tables for `kubectl get`, with the columns of
//! upstream's `pkg/printers/internalversion/printers.go` for the kinds the engine models and
//! `NAME`/`AGE` for the rest. See [`table`].
//!
//! kubectl asks for a Table with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`; a
//! server that answers with a plain list makes it fall back to `NAME`/`AGE` columns.

use kubespec_engine::Millis;
use kubespec_engine::api::rest::ResourceInfo;
use serde_json::{Value, json};

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// `duration.HumanDuration`: `45s`, `3m20s`, `15m`, `5h3m`, `3d4h`, `400d`, `2y10d`.
pub fn human_duration(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn age(obj: &Value, field: &str, now: Millis) -> String {
    let Some(ts) = obj
        .pointer(field)
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    else {
        return "<unknown>".into();
    };
    let now_ms = (kubespec_engine::time::EPOCH_SECONDS * 1000) + now.0 as i64;
    human_duration(now_ms - ts.as_millisecond())
}

fn s(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

fn int(obj: &Value, p: &str) -> i64 {
    obj.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

fn containers(obj: &Value, p: &str) -> (String, String) {
    let cs = obj.pointer(p).and_then(Value::as_array);
    let join = |f: &str| {
        cs.into_iter()
            .flatten()
            .map(|c| s(c.get(f)))
            .collect::<Vec<_>>()
            .join(",")
    };
    (join("name"), join("image"))
}

fn selector(obj: &Value) -> String {
    obj.pointer("/spec/selector")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .map(|s| kubespec_engine::labels::format_selector(&s))
        .map_or_else(|| "<none>".into(), or_none)
}

/// (name, type, priority): priority 1 columns show only with `-o wide`.
type Column = (&'static str, &'static str, u8);

fn columns(kind: &str) -> Vec<Column> {
    match kind {
        "Pod" => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        "Deployment" => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        "ReplicaSet" => vec![
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        "StatefulSet" => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
        ],
        "Service" => vec![
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
            ("Selector", "string", 1),
        ],
        "HorizontalPodAutoscaler" => vec![
            ("Name", "string", 0),
            ("Reference", "string", 0),
            ("Targets", "string", 0),
            ("MinPods", "string", 0),
            ("MaxPods", "integer", 0),
            ("Replicas", "integer", 0),
            ("Age", "string", 0),
        ],
        "Node" => vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
        ],
        "Namespace" => vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "string", 0),
        ],
        "ConfigMap" => vec![
            ("Name", "string", 0),
            ("Data", "integer", 0),
            ("Age", "string", 0),
        ],
        "Secret" => vec![
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "integer", 0),
            ("Age", "string", 0),
        ],
        "Event" => vec![
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
        ],
        _ => vec![("Name", "string", 0), ("Age", "string", 0)],
    }
}

fn cells(kind: &str, o: &Value, now: Millis) -> Vec<Value> {
    let name = s(o.pointer("/metadata/name"));
    let created = age(o, "/metadata/creationTimestamp", now);
    match kind {
        "Pod" => {
            let statuses = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array);
            let total = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = statuses
                .into_iter()
                .flatten()
                .filter(|c| c["ready"] == true)
                .count();
            let restarts: i64 = statuses
                .into_iter()
                .flatten()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            let status = serde_json::from_value::<k8s_openapi::api::core::v1::Pod>(o.clone())
                .map(|p| kubespec_engine::kubectl::pod_status_column(&p))
                .unwrap_or_default();
            vec![
                name.into(),
                format!("{ready}/{total}").into(),
                status.into(),
                restarts.to_string().into(),
                created.into(),
                or_none(s(o.pointer("/status/podIP"))).into(),
                or_none(s(o.pointer("/spec/nodeName"))).into(),
                "<none>".into(),
                "<none>".into(),
            ]
        }
        "Deployment" => {
            let (cn, im) = containers(o, "/spec/template/spec/containers");
            vec![
                name.into(),
                format!(
                    "{}/{}",
                    int(o, "/status/readyReplicas"),
                    o.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )
                .into(),
                int(o, "/status/updatedReplicas").into(),
                int(o, "/status/availableReplicas").into(),
                created.into(),
                cn.into(),
                im.into(),
                selector(o).into(),
            ]
        }
        "ReplicaSet" => {
            let (cn, im) = containers(o, "/spec/template/spec/containers");
            vec![
                name.into(),
                int(o, "/spec/replicas").into(),
                int(o, "/status/replicas").into(),
                int(o, "/status/readyReplicas").into(),
                created.into(),
                cn.into(),
                im.into(),
                selector(o).into(),
            ]
        }
        "StatefulSet" => {
            let (cn, im) = containers(o, "/spec/template/spec/containers");
            vec![
                name.into(),
                format!(
                    "{}/{}",
                    int(o, "/status/readyReplicas"),
                    o.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )
                .into(),
                created.into(),
                cn.into(),
                im.into(),
            ]
        }
        "Service" => {
            let ports: Vec<String> = o
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    let base = format!("{}/{}", s(p.get("port")), s(p.get("protocol")));
                    match p.get("nodePort") {
                        Some(np) => format!(
                            "{}:{}/{}",
                            s(p.get("port")),
                            s(Some(np)),
                            s(p.get("protocol"))
                        ),
                        None => base,
                    }
                })
                .collect();
            let sel = o
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", s(Some(v))))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            vec![
                name.into(),
                or_none(s(o.pointer("/spec/type"))).into(),
                or_none(s(o.pointer("/spec/clusterIP"))).into(),
                "<none>".into(),
                or_none(ports.join(",")).into(),
                created.into(),
                or_none(sel).into(),
            ]
        }
        "HorizontalPodAutoscaler" => {
            let targets = serde_json::from_value::<
                k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
            >(o.clone())
            .map(|h| kubespec_engine::printers::hpa_targets(&h))
            .unwrap_or_default();
            vec![
                name.into(),
                format!(
                    "{}/{}",
                    s(o.pointer("/spec/scaleTargetRef/kind")),
                    s(o.pointer("/spec/scaleTargetRef/name"))
                )
                .into(),
                targets.into(),
                o.pointer("/spec/minReplicas")
                    .map_or_else(|| "<unset>".to_string(), |v| s(Some(v)))
                    .into(),
                int(o, "/spec/maxReplicas").into(),
                int(o, "/status/currentReplicas").into(),
                created.into(),
            ]
        }
        "Node" => {
            let ready = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready")
                .is_some_and(|c| c["status"] == "True");
            vec![
                name.into(),
                if ready { "Ready" } else { "NotReady" }.into(),
                "<none>".into(),
                created.into(),
                "v1.34.0".into(),
            ]
        }
        "Namespace" => vec![
            name.into(),
            s(o.pointer("/status/phase")).into(),
            created.into(),
        ],
        "ConfigMap" => {
            let n = ["/data", "/binaryData"]
                .iter()
                .filter_map(|p| o.pointer(p).and_then(Value::as_object))
                .map(|m| m.len())
                .sum::<usize>();
            vec![name.into(), n.into(), created.into()]
        }
        "Secret" => {
            let n = ["/data", "/stringData"]
                .iter()
                .filter_map(|p| o.pointer(p).and_then(Value::as_object))
                .map(|m| m.len())
                .sum::<usize>();
            vec![
                name.into(),
                s(o.pointer("/type")).into(),
                n.into(),
                created.into(),
            ]
        }
        "Event" => vec![
            age(o, "/lastTimestamp", now).into(),
            s(o.pointer("/type")).into(),
            s(o.pointer("/reason")).into(),
            format!(
                "{}/{}",
                s(o.pointer("/involvedObject/kind")).to_ascii_lowercase(),
                s(o.pointer("/involvedObject/name"))
            )
            .into(),
            s(o.pointer("/message")).into(),
        ],
        _ => vec![name.into(), created.into()],
    }
}

/// What a row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

impl Include {
    pub fn parse(q: Option<&str>) -> Include {
        match q {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
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
    let defs: Vec<Value> = columns(r.kind)
        .into_iter()
        .map(|(name, ty, priority)| {
            let mut d = json!({"name": name, "type": ty, "format": "", "description": "", "priority": priority});
            if name == "Name" {
                d["format"] = "name".into();
            }
            d
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut row = json!({"cells": cells(r.kind, o, now)});
            match include {
                Include::None => {}
                Include::Object => row["object"] = o.clone(),
                Include::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o.get("metadata").cloned().unwrap_or_default(),
                    });
                }
            }
            row
        })
        .collect();
    let mut meta = json!({"resourceVersion": resource_version.to_string()});
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_follow_upstream() {
        let s = 1000;
        for (ms, want) in [
            (-5 * s, "<invalid>"),
            (45 * s, "45s"),
            (119 * s, "119s"),
            (200 * s, "3m20s"),
            (300 * s, "5m"),
            (15 * 60 * s, "15m"),
            ((5 * 3600 + 180) * s, "5h3m"),
            (30 * 3600 * s, "30h"),
            ((3 * 24 + 4) * 3600 * s, "3d4h"),
            (400 * 24 * 3600 * s, "400d"),
            ((2 * 365 + 10) * 24 * 3600 * s, "2y10d"),
        ] {
            assert_eq!(human_duration(ms), want, "{ms}");
        }
    }

    #[test]
    fn only_a_first_preference_for_tables_gets_one() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/json, application/json;as=Table;v=v1;g=meta.k8s.io"
        ));
    }
}

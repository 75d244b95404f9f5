//! Legacy discovery documents (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`)
//! built from the engine's resource registry ([`rest::RESOURCES`]).
//!
//! NOTE: kubectl first asks for aggregated discovery (`as=APIGroupDiscoveryList`); answering
//! with `application/json` and a legacy document makes it fall back, as it does against older
//! servers.

use kubespec_engine::api::rest::{self, VERBS};
use serde_json::{Value, json};

/// The Kubernetes version the engine models (see ARCHITECTURE.md, Fidelity).
pub const KUBERNETES_VERSION: &str = "v1.34.0+kubespec";

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "34",
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    })
}

fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in rest::RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

fn group(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis`.
pub fn group_list() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": groups().into_iter().map(|(g, v)| group(g, v)).collect::<Vec<_>>(),
    })
}

/// `/apis/{group}`, when served.
pub fn group_doc(name: &str) -> Option<Value> {
    let (_, v) = groups().into_iter().find(|(g, _)| *g == name)?;
    let mut doc = group(name, v);
    doc["kind"] = "APIGroup".into();
    doc["apiVersion"] = "v1".into();
    Some(doc)
}

/// `/api/v1`, `/apis/{group}/{version}`: the resources with their verbs, short names and
/// subresources, or `None` when the group/version is not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let served: Vec<&rest::ResourceInfo> = rest::RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for r in served {
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": VERBS,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        resources.push(entry);
        for sub in r.subresources {
            let mut e = json!({
                "name": format!("{}/{sub}", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            });
            if *sub == "scale" {
                e["group"] = "autoscaling".into();
                e["version"] = "v1".into();
                e["kind"] = "Scale".into();
            }
            resources.push(e);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

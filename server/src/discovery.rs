//! Legacy discovery documents (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`)
//! built from the engine's served resources ([`rest::served`]: the built-in [`rest::RESOURCES`]
//! and those of the Established CustomResourceDefinitions).
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

fn groups(served: &[rest::ResourceInfo]) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in served.iter().filter(|r| !r.group.is_empty()) {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// A group with its served versions, the first one preferred (a CRD lists its versions in
/// its own order; upstream prefers by version priority, which the first usually is).
fn group(name: &str, versions: &[&str]) -> Value {
    let gvs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": gvs, "preferredVersion": gvs.first().cloned()})
}

/// Each group with its versions, in order of first appearance.
fn grouped(served: &[rest::ResourceInfo]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for (g, v) in groups(served) {
        match out.iter_mut().find(|(name, _)| *name == g) {
            Some((_, vs)) => vs.push(v),
            None => out.push((g, vec![v])),
        }
    }
    out
}

/// `/apis`, for the `served` resources.
pub fn group_list(served: &[rest::ResourceInfo]) -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": grouped(served).into_iter().map(|(g, vs)| group(g, &vs)).collect::<Vec<_>>(),
    })
}

/// `/apis/{group}`, when served.
pub fn group_doc(served: &[rest::ResourceInfo], name: &str) -> Option<Value> {
    let (_, vs) = grouped(served).into_iter().find(|(g, _)| *g == name)?;
    let mut doc = group(name, &vs);
    doc["kind"] = "APIGroup".into();
    doc["apiVersion"] = "v1".into();
    Some(doc)
}

/// `/api/v1`, `/apis/{group}/{version}`: the resources with their verbs, short names and
/// subresources, or `None` when the group/version is not served.
pub fn resource_list(served: &[rest::ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&rest::ResourceInfo> = served
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

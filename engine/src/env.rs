//! A container's environment as the kubelet builds it when it starts the container
//! (`makeEnvironmentVariables` in `pkg/kubelet/kubelet_pods.go`): `envFrom` sources in order,
//! then `env` entries, which win; `$(VAR)` references expanded against what came before
//! (`third_party/forked/golang/expansion`); values from ConfigMaps, Secrets, the pod's own
//! fields and the container's resources.
//!
//! Service environment variables (`getServiceEnvVarMap`, `envvars.FromServices`) come last: those
//! of the `kubernetes` Service in `default` always, those of the pod's namespace's Services
//! with a cluster IP unless `enableServiceLinks` is false; a declared variable of the same name
//! wins, and `$(VAR)` can refer to them.

use crate::Cluster;
use crate::store::ObjectKey;
use k8s_openapi::api::core::v1::{Container, Pod};
use std::collections::BTreeMap;

/// Why a container cannot be created: the kubelet reports it as `CreateContainerConfigError`
/// with this message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

/// The data of a ConfigMap or Secret (Secret values decoded), or `None` when it does not exist.
pub(crate) fn source(
    c: &Cluster,
    kind: &str,
    ns: &str,
    name: &str,
) -> Option<BTreeMap<String, String>> {
    let obj = c
        .store
        .generic
        .get(&(kind.to_string(), ObjectKey::new(ns, name)))?;
    let mut out = BTreeMap::new();
    match kind {
        "secret" => {
            let s: k8s_openapi::api::core::v1::Secret =
                serde_json::from_value(obj.value.clone()).ok()?;
            for (k, v) in s.data.into_iter().flatten() {
                out.insert(k, String::from_utf8_lossy(&v.0).into_owned());
            }
            // stringData is merged into data by the API server, winning over it.
            for (k, v) in s.string_data.into_iter().flatten() {
                out.insert(k, v);
            }
        }
        _ => {
            let m: k8s_openapi::api::core::v1::ConfigMap =
                serde_json::from_value(obj.value.clone()).ok()?;
            out.extend(m.data.into_iter().flatten());
        }
    }
    Some(out)
}

fn title(kind: &str) -> &'static str {
    if kind == "secret" {
        "Secret"
    } else {
        "ConfigMap"
    }
}

/// One key of a ConfigMap or Secret: `Ok(None)` when optional and missing.
fn key_ref(
    c: &Cluster,
    kind: &str,
    ns: &str,
    name: &str,
    key: &str,
    optional: bool,
) -> Result<Option<String>, ConfigError> {
    let Some(data) = source(c, kind, ns, name) else {
        if optional {
            return Ok(None);
        }
        return Err(ConfigError(format!("{kind} \"{name}\" not found")));
    };
    match data.get(key) {
        Some(v) => Ok(Some(v.clone())),
        None if optional => Ok(None),
        None => Err(ConfigError(format!(
            "couldn't find key {key} in {} {ns}/{name}",
            title(kind)
        ))),
    }
}

/// `fieldRef`: the pod fields the downward API offers to env.
fn field(pod: &Pod, path: &str) -> Option<String> {
    let meta = &pod.metadata;
    let st = pod.status.as_ref();
    let spec = pod.spec.as_ref();
    let map_entry = |m: Option<&BTreeMap<String, String>>, prefix: &str| {
        let k = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(m.and_then(|m| m.get(k)).cloned().unwrap_or_default())
    };
    Some(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_else(|| "default".into()),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_else(|| "default".into()),
        "status.hostIP" => st.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
        "status.hostIPs" => join(
            st.and_then(|s| s.host_ips.as_ref())
                .into_iter()
                .flatten()
                .map(|i| &i.ip),
        ),
        "status.podIP" => st.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        "status.podIPs" => join(
            st.and_then(|s| s.pod_ips.as_ref())
                .into_iter()
                .flatten()
                .map(|i| &i.ip),
        ),
        p if p.starts_with("metadata.labels['") => {
            map_entry(meta.labels.as_ref(), "metadata.labels['")?
        }
        p if p.starts_with("metadata.annotations['") => {
            map_entry(meta.annotations.as_ref(), "metadata.annotations['")?
        }
        _ => return None,
    })
}

/// IPs as the downward API gives a list: comma-separated.
fn join<'a>(ips: impl Iterator<Item = &'a String>) -> String {
    ips.map(String::as_str).collect::<Vec<_>>().join(",")
}

/// A quantity in its base unit (cores or bytes), as an exact rational `n / d`.
fn quantity(q: &str) -> Option<(i128, i128)> {
    let q = q.trim();
    let split = q
        .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    let mut n = digits;
    let mut d: i128 = 10i128.pow(frac.len() as u32);
    let mul: i128 = match suffix {
        "" => 1,
        "m" => {
            d *= 1000;
            1
        }
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "P" => 1_000_000_000_000_000,
        "E" => 1_000_000_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        _ => return None,
    };
    n *= mul;
    Some((n, d))
}

/// `resourceFieldRef`: a request or limit divided by the divisor and rounded up
/// (`ExtractContainerResourceValue`); a missing limit is the node's allocatable.
fn resource(ct: &Container, resource: &str, divisor: Option<&str>) -> Option<String> {
    let res = ct.resources.as_ref();
    let (which, name) = resource.split_once('.')?;
    let set = match which {
        "limits" => res.and_then(|r| r.limits.as_ref()),
        "requests" => res.and_then(|r| r.requests.as_ref()),
        _ => return None,
    };
    let value = set.and_then(|m| m.get(name)).map(|q| q.0.clone());
    // The engine's nodes allocate 32 CPUs and 128Gi of memory; an unset request is 0.
    let value = match (value, which, name) {
        (Some(v), _, _) => v,
        (None, "limits", "cpu") => "32".into(),
        (None, "limits", "memory") => "128Gi".into(),
        (None, "limits", "ephemeral-storage") => "100Gi".into(),
        (None, _, _) => "0".into(),
    };
    let (n, d) = quantity(&value)?;
    let divisor = divisor.filter(|s| !s.is_empty()).unwrap_or("1");
    let (dn, dd) = quantity(divisor)?;
    if dn == 0 {
        return None;
    }
    // ceil((n/d) / (dn/dd)) = ceil(n·dd / (d·dn))
    let (top, bottom) = (n * dd, d * dn);
    Some(((top + bottom - 1) / bottom).to_string())
}

/// `expansion.Expand`: `$(VAR)` becomes VAR's value when `lookup` knows VAR, `$$` becomes `$`,
/// and anything else is left as written.
pub fn expand<'a>(input: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::new();
    let b = input.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            match b[i + 1] {
                b'$' => {
                    out.push('$');
                    i += 2;
                    continue;
                }
                b'(' => {
                    if let Some(end) = input[i + 2..].find(')') {
                        let name = &input[i + 2..i + 2 + end];
                        match lookup(name) {
                            Some(v) => out.push_str(v),
                            None => out.push_str(&input[i..i + 3 + end]),
                        }
                        i += 3 + end;
                        continue;
                    }
                }
                _ => {}
            }
        }
        let ch = input[i..].chars().next().unwrap_or('$');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The Service environment variables a container gets, by name; shared between containers.
pub type ServiceEnv = std::sync::Arc<BTreeMap<String, String>>;

/// Whether the pod asks for its namespace's Service variables (`enableServiceLinks`, default
/// true).
pub fn service_links(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> bool {
    spec.and_then(|s| s.enable_service_links).unwrap_or(true)
}

/// The environment of container `ct` of `pod` that its spec declares (`envFrom`, then `env`), in
/// the order the kubelet sets it; `services` are the Service variables, which `$(VAR)` can
/// refer to and which come after these (see [`with_services`]).
pub fn container_env(
    c: &Cluster,
    record: &crate::store::PodRecord,
    ct: &Container,
    services: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let pod = record.parts();
    let ns = pod.namespace.unwrap_or("default");
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut set = |vars: &mut BTreeMap<String, String>, k: String, v: String| {
        if !vars.contains_key(&k) {
            order.push(k.clone());
        }
        vars.insert(k, v);
    };
    for from in ct.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        let (kind, name, optional) = if let Some(r) = &from.config_map_ref {
            ("configmap", r.name.clone(), r.optional.unwrap_or(false))
        } else if let Some(r) = &from.secret_ref {
            ("secret", r.name.clone(), r.optional.unwrap_or(false))
        } else {
            continue;
        };
        match source(c, kind, ns, &name) {
            Some(data) => {
                for (k, v) in data {
                    set(&mut vars, format!("{prefix}{k}"), v);
                }
            }
            None if optional => {}
            None => return Err(ConfigError(format!("{kind} \"{name}\" not found"))),
        }
    }
    for e in ct.env.iter().flatten() {
        let value = match &e.value_from {
            // `$(VAR)` sees the declared variables first, then the services'
            // (`expansion.MappingFuncFor(tmpEnv, serviceEnv)`).
            None => Some(expand(e.value.as_deref().unwrap_or(""), |k| {
                vars.get(k).or_else(|| services.get(k)).map(String::as_str)
            })),
            Some(from) => {
                if let Some(r) = &from.config_map_key_ref {
                    key_ref(
                        c,
                        "configmap",
                        ns,
                        &r.name,
                        &r.key,
                        r.optional.unwrap_or(false),
                    )?
                } else if let Some(r) = &from.secret_key_ref {
                    key_ref(
                        c,
                        "secret",
                        ns,
                        &r.name,
                        &r.key,
                        r.optional.unwrap_or(false),
                    )?
                } else if let Some(f) = &from.field_ref {
                    // The downward API reads any field: only here is the whole pod read.
                    let whole = crate::store::Slot::get(record);
                    Some(field(whole, &f.field_path).unwrap_or_default())
                } else if let Some(r) = &from.resource_field_ref {
                    let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
                        Some(n) => pod
                            .spec
                            .and_then(|s| s.containers.iter().find(|c| c.name == n))
                            .unwrap_or(ct),
                        None => ct,
                    };
                    Some(
                        resource(
                            target,
                            &r.resource,
                            r.divisor.as_ref().map(|d| d.0.as_str()),
                        )
                        .unwrap_or_default(),
                    )
                } else {
                    Some(String::new())
                }
            }
        };
        // An optional reference that is missing sets nothing.
        if let Some(v) = value {
            set(&mut vars, e.name.clone(), v);
        }
    }
    Ok(order
        .into_iter()
        .map(|k| {
            let v = vars.remove(&k).unwrap_or_default();
            (k, v)
        })
        .collect())
}

/// A container's whole environment: the declared variables, then the Service variables of
/// names not declared, by name.
pub fn with_services(
    declared: &[(String, String)],
    services: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let mut out = declared.to_vec();
    out.extend(
        services
            .iter()
            .filter(|(k, _)| !declared.iter().any(|(d, _)| d == *k))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    out
}

/// The Service environment variables a container of a pod in `ns` gets, by name
/// (`getServiceEnvVarMap` then `envvars.FromServices`).
pub(crate) fn service_env(c: &Cluster, ns: &str, links: bool) -> ServiceEnv {
    let mut chosen: BTreeMap<String, k8s_openapi::api::core::v1::Service> = BTreeMap::new();
    let mut add = |namespace: &str, only: Option<&str>, replace: bool| {
        let services = c
            .store
            .generic
            .range(("service".to_string(), ObjectKey::new(namespace, ""))..)
            .take_while(|((k, key), _)| k == "service" && key.namespace == namespace);
        for ((_, key), o) in services {
            if only.is_some_and(|n| n != key.name) {
                continue;
            }
            let Ok(svc) =
                serde_json::from_value::<k8s_openapi::api::core::v1::Service>(o.value.clone())
            else {
                continue;
            };
            let ip = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref());
            if ip.is_none_or(|ip| ip.is_empty() || ip == "None") {
                continue;
            }
            if replace || !chosen.contains_key(key.name.as_str()) {
                chosen.insert(key.name.to_string(), svc);
            }
        }
    };
    if links {
        add(ns, None, true);
    }
    // The master service is added unless the namespace has a Service of that name.
    add("default", Some("kubernetes"), false);
    let mut out = BTreeMap::new();
    for (name, svc) in chosen {
        let spec = svc.spec.unwrap_or_default();
        let ip = spec.cluster_ip.unwrap_or_default();
        let ports = spec.ports.unwrap_or_default();
        let Some(first) = ports.first() else {
            continue;
        };
        let prefix = name.replace('-', "_").to_uppercase();
        out.insert(format!("{prefix}_SERVICE_HOST"), ip.clone());
        out.insert(format!("{prefix}_SERVICE_PORT"), first.port.to_string());
        for p in ports
            .iter()
            .filter_map(|p| Some((p.name.as_deref()?, p.port)))
        {
            if !p.0.is_empty() {
                let port_name = p.0.replace('-', "_").to_uppercase();
                out.insert(
                    format!("{prefix}_SERVICE_PORT_{port_name}"),
                    p.1.to_string(),
                );
            }
        }
        for (i, p) in ports.iter().enumerate() {
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            let lower = proto.to_lowercase();
            let url = format!("{lower}://{ip}:{}", p.port);
            if i == 0 {
                out.insert(format!("{prefix}_PORT"), url.clone());
            }
            let pp = format!("{prefix}_PORT_{}_{}", p.port, proto.to_uppercase());
            out.insert(format!("{pp}_PROTO"), lower);
            out.insert(format!("{pp}_PORT"), p.port.to_string());
            out.insert(format!("{pp}_ADDR"), ip.clone());
            out.insert(pp, url);
        }
    }
    std::sync::Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_the_kubelet() {
        let vars = BTreeMap::from([("A".to_string(), "x".to_string())]);
        let look = |k: &str| vars.get(k).map(String::as_str);
        assert_eq!(expand("$(A)-$(B)", look), "x-$(B)");
        assert_eq!(expand("$$(A)", look), "$(A)");
        assert_eq!(expand("cost $5 $(A", look), "cost $5 $(A");
        assert_eq!(expand("é$(A)", look), "éx");
    }

    #[test]
    fn resources_are_divided_and_rounded_up() {
        let ct: Container = serde_json::from_value(serde_json::json!({
            "name": "c",
            "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "250m"}}
        }))
        .unwrap();
        assert_eq!(resource(&ct, "limits.cpu", None).as_deref(), Some("1"));
        assert_eq!(
            resource(&ct, "limits.cpu", Some("1m")).as_deref(),
            Some("500")
        );
        assert_eq!(
            resource(&ct, "requests.cpu", Some("1m")).as_deref(),
            Some("250")
        );
        assert_eq!(
            resource(&ct, "limits.memory", Some("1Mi")).as_deref(),
            Some("64")
        );
        assert_eq!(
            resource(&ct, "limits.memory", None).as_deref(),
            Some("67108864")
        );
        assert_eq!(resource(&ct, "requests.memory", None).as_deref(), Some("0"));
        let bare: Container = serde_json::from_value(serde_json::json!({"name": "c"})).unwrap();
        assert_eq!(resource(&bare, "limits.cpu", None).as_deref(), Some("32"));
    }
}

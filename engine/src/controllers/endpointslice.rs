//! The EndpointSlice controller: one set of EndpointSlices per Service with a selector, listing
//! the matching pods that have an IP, with their ready, serving and terminating conditions.
//! Mirrors `pkg/controller/endpointslice` and `staging/src/k8s.io/endpointslice` (`podToEndpoint`,
//! `ShouldPodBeInEndpoints`, at most 100 endpoints per slice), simplified: slices are rebuilt
//! from scratch on every sync rather than updated in place by the reconciler's placement rules.
//!
//! Services and EndpointSlices are stored as generic objects (JSON), like every kind no
//! controller of the spine acted on; this controller reads and writes them typed.

use crate::Cluster;
use crate::labels;
use crate::store::{GenericObject, ObjectKey};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// `maxEndpointsPerSlice` default of kube-controller-manager.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";

/// The Service stored under `key`, typed.
pub fn service(c: &Cluster, key: &ObjectKey) -> Option<Service> {
    let obj = c.store.generic.get(&("service".to_string(), key.clone()))?;
    serde_json::from_value(obj.value.clone()).ok()
}

/// EndpointSlices the controller manages for a Service, in key order.
pub fn slices_of(c: &Cluster, service: &ObjectKey) -> Vec<EndpointSlice> {
    c.store
        .generic
        .range(
            (
                "endpointslice".to_string(),
                ObjectKey::new(service.namespace.clone(), ""),
            )..,
        )
        .take_while(|((k, key), _)| k == "endpointslice" && key.namespace == service.namespace)
        .filter_map(|(_, o)| serde_json::from_value::<EndpointSlice>(o.value.clone()).ok())
        .filter(|s| {
            let l = s.metadata.labels.as_ref();
            l.and_then(|l| l.get(SERVICE_NAME_LABEL))
                .map(String::as_str)
                == Some(service.name.as_str())
                && l.and_then(|l| l.get(MANAGED_BY_LABEL)).map(String::as_str) == Some(MANAGED_BY)
        })
        .collect()
}

/// Services in the pod's namespace whose selector matches these labels.
pub(crate) fn services_selecting(
    c: &Cluster,
    namespace: &str,
    pod_labels: Option<&BTreeMap<String, String>>,
) -> Vec<ObjectKey> {
    if c.store.generic.is_empty() {
        // No Service is stored: nothing to look for (and no range key to build).
        return Vec::new();
    }
    c.store
        .generic
        .range(("service".to_string(), ObjectKey::new(namespace, ""))..)
        .take_while(|((k, key), _)| k == "service" && key.namespace == namespace)
        .filter(|(_, o)| {
            let sel = o
                .value
                .pointer("/spec/selector")
                .and_then(|s| s.as_object());
            sel.is_some_and(|sel| {
                !sel.is_empty()
                    && sel.iter().all(|(k, v)| {
                        pod_labels.and_then(|l| l.get(k)).map(String::as_str) == v.as_str()
                    })
            })
        })
        .map(|((_, key), _)| key.clone())
        .collect()
}

/// `ShouldPodBeInEndpoints` with terminating pods included: the pod has an IP and has not
/// finished (a pod that never restarts and has exited is gone for good).
fn in_endpoints(p: &Pod) -> bool {
    let st = p.status.as_ref();
    let ip = st.and_then(|s| s.pod_ip.as_deref()).unwrap_or("");
    if ip.is_empty() {
        return false;
    }
    let phase = st.and_then(|s| s.phase.as_deref()).unwrap_or("");
    let restart = p
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    match restart {
        "Never" => phase != "Failed" && phase != "Succeeded",
        "OnFailure" => phase != "Succeeded",
        _ => true,
    }
}

/// `podToEndpoint`.
fn endpoint(svc: &Service, p: &Pod) -> Endpoint {
    let serving = crate::controllers::replicaset::is_pod_ready(p);
    let terminating = p.metadata.deletion_timestamp.is_some();
    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    Endpoint {
        addresses: vec![
            p.status
                .as_ref()
                .and_then(|s| s.pod_ip.clone())
                .unwrap_or_default(),
        ],
        conditions: Some(EndpointConditions {
            ready: Some(publish || (serving && !terminating)),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        node_name: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        target_ref: Some(k8s_openapi::api::core::v1::ObjectReference {
            kind: Some("Pod".into()),
            name: p.metadata.name.clone(),
            namespace: p.metadata.namespace.clone(),
            uid: p.metadata.uid.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The endpoint ports of a Service for one pod: each service port's targetPort, a named one
/// looked up among the pod's container ports (a pod without it is left out of that port).
fn ports(svc: &Service, p: &Pod) -> Option<Vec<EndpointPort>> {
    let mut out = Vec::new();
    for sp in svc.spec.as_ref()?.ports.iter().flatten() {
        let target = sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port));
        let port = match target {
            IntOrString::Int(n) => n,
            IntOrString::String(name) => p
                .spec
                .as_ref()?
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find(|cp| cp.name.as_deref() == Some(name.as_str()))
                .map(|cp| cp.container_port)?,
        };
        out.push(EndpointPort {
            name: Some(sp.name.clone().unwrap_or_default()),
            port: Some(port),
            protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
            app_protocol: sp.app_protocol.clone(),
        });
    }
    Some(out)
}

/// Syncs the EndpointSlices of one Service (`syncService`).
pub(crate) fn sync_service(c: &mut Cluster, key: &ObjectKey) {
    let existing = slices_of(c, key);
    let Some(svc) = service(c, key) else {
        for s in existing {
            let k = ObjectKey::of(&s.metadata);
            c.delete_generic("EndpointSlice", &k);
        }
        return;
    };
    let Some(selector) = svc.spec.as_ref().and_then(|s| s.selector.clone()) else {
        // A Service without a selector has its endpoints managed by hand.
        return;
    };
    let selector = LabelSelector {
        match_labels: Some(selector),
        ..Default::default()
    };
    // Endpoints grouped by their port list, in pod key order.
    let mut groups: Vec<(Vec<EndpointPort>, Vec<Endpoint>)> = Vec::new();
    for (pk, p) in c.store.pods.iter() {
        if pk.namespace != key.namespace
            || !labels::selector_matches(&selector, p.metadata.labels.as_ref())
            || !in_endpoints(p)
        {
            continue;
        }
        let Some(ports) = ports(&svc, p) else {
            continue;
        };
        let e = endpoint(&svc, p);
        match groups.iter_mut().find(|(ps, _)| *ps == ports) {
            Some((_, es)) => es.push(e),
            None => groups.push((ports, vec![e])),
        }
    }
    let mut wanted: Vec<(Vec<EndpointPort>, Vec<Endpoint>)> = Vec::new();
    for (ports, eps) in groups {
        for chunk in eps.chunks(MAX_ENDPOINTS_PER_SLICE) {
            wanted.push((ports.clone(), chunk.to_vec()));
        }
    }
    if wanted.is_empty() {
        // The reconciler keeps one placeholder slice, without endpoints or ports, for a
        // Service that has no endpoints.
        wanted.push((Vec::new(), Vec::new()));
    }
    let owner = OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: key.name.to_string(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let mut labels_map = svc.metadata.labels.clone().unwrap_or_default();
    labels_map.insert(SERVICE_NAME_LABEL.into(), key.name.to_string());
    labels_map.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    let headless = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None");
    if headless {
        labels_map.insert("service.kubernetes.io/headless".into(), String::new());
    }
    let mut reuse = existing.into_iter();
    for (ports, endpoints) in wanted {
        let name = match reuse.next() {
            Some(s) => s.metadata.name.clone().unwrap_or_default(),
            None => format!("{}-{}", key.name, c.random_suffix(5)),
        };
        let slice = EndpointSlice {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(key.namespace.to_string()),
                generate_name: Some(format!("{}-", key.name)),
                labels: Some(labels_map.clone()),
                owner_references: Some(vec![owner.clone()]),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            endpoints,
            ports: Some(ports),
        };
        put_slice(c, &ObjectKey::new(key.namespace.clone(), name), slice);
    }
    for s in reuse {
        let k = ObjectKey::of(&s.metadata);
        c.delete_generic("EndpointSlice", &k);
    }
}

/// Writes a slice unless the stored one already says the same.
fn put_slice(c: &mut Cluster, key: &ObjectKey, slice: EndpointSlice) {
    let mut value = serde_json::to_value(&slice).unwrap_or_default();
    value["apiVersion"] = "discovery.k8s.io/v1".into();
    value["kind"] = "EndpointSlice".into();
    if let Some(old) = c
        .store
        .generic
        .get(&("endpointslice".to_string(), key.clone()))
    {
        let mut a = old.value.clone();
        let mut b = value.clone();
        for v in [&mut a, &mut b] {
            if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                for f in ["uid", "resourceVersion", "creationTimestamp"] {
                    m.remove(f);
                }
            }
        }
        if a == b {
            return;
        }
    }
    c.put_generic(GenericObject {
        api_version: "discovery.k8s.io/v1".into(),
        kind: "EndpointSlice".into(),
        value,
    });
}

/// API-server defaults of a Service (`SetDefaults_Service`, the ClusterIP allocator): type
/// ClusterIP, a cluster IP from 10.96.0.0/12 unless headless (`None`), single-stack IPv4,
/// sessionAffinity None, internalTrafficPolicy Cluster, and per port protocol TCP and
/// targetPort = port. `live` is the stored Service, whose cluster IP is immutable.
pub fn default_service(svc: &mut Service, live: Option<&Service>, next_ip: &mut u32) {
    let spec = svc.spec.get_or_insert_with(Default::default);
    if spec.type_.as_deref().unwrap_or("").is_empty() {
        spec.type_ = Some("ClusterIP".into());
    }
    if spec.session_affinity.is_none() {
        spec.session_affinity = Some("None".into());
    }
    if spec.internal_traffic_policy.is_none() {
        spec.internal_traffic_policy = Some("Cluster".into());
    }
    for p in spec.ports.iter_mut().flatten() {
        if p.protocol.is_none() {
            p.protocol = Some("TCP".into());
        }
        if p.target_port.is_none() {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    let live_ip = live
        .and_then(|l| l.spec.as_ref())
        .and_then(|s| s.cluster_ip.clone());
    if spec.type_.as_deref() != Some("ExternalName") {
        let ip = match (spec.cluster_ip.clone(), live_ip) {
            (_, Some(ip)) => ip,
            (Some(ip), None) if !ip.is_empty() => ip,
            _ => {
                *next_ip += 1;
                format!("10.96.{}.{}", *next_ip / 254, *next_ip % 254 + 1)
            }
        };
        spec.cluster_ips = Some(vec![ip.clone()]);
        spec.cluster_ip = Some(ip);
        if spec.ip_families.is_none() {
            spec.ip_families = Some(vec!["IPv4".into()]);
        }
        if spec.ip_family_policy.is_none() {
            spec.ip_family_policy = Some("SingleStack".into());
        }
    }
}

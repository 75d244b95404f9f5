//! Cluster DNS for headless Services, as CoreDNS's kubernetes plugin answers from
//! EndpointSlices: an A record `<hostname>.<service>.<namespace>.svc.cluster.local` for each
//! ready endpoint whose pod has that hostname and the Service as its subdomain, and SRV records
//! on `<service>.<namespace>.svc.cluster.local` listing those names. "Ready" is the endpoint's
//! `ready` condition, which the EndpointSlice controller sets for every pod when the Service
//! has `publishNotReadyAddresses`.

use crate::Cluster;
use crate::controllers::endpointslice;
use crate::store::ObjectKey;

/// The cluster domain.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// (pod name, FQDN, IP) of every ready endpoint of a headless Service that has a hostname
/// under it, in FQDN order.
fn records(c: &Cluster, service: &ObjectKey) -> Vec<(String, String, String)> {
    let Some(svc) = endpointslice::service(c, service) else {
        return Vec::new();
    };
    if svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) != Some("None") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for slice in endpointslice::slices_of(c, service) {
        for ep in slice.endpoints {
            if ep.conditions.as_ref().and_then(|c| c.ready) != Some(true) {
                continue;
            }
            let Some(pod_name) = ep.target_ref.as_ref().and_then(|r| r.name.clone()) else {
                continue;
            };
            let Some(pod) = c
                .store
                .pods
                .get(&ObjectKey::new(service.namespace.clone(), pod_name.clone()))
            else {
                continue;
            };
            let spec = pod.spec.as_ref();
            let (Some(host), Some(sub)) = (
                spec.and_then(|s| s.hostname.as_deref()),
                spec.and_then(|s| s.subdomain.as_deref()),
            ) else {
                continue;
            };
            if sub != service.name {
                continue;
            }
            let fqdn = format!(
                "{host}.{}.{}.svc.{CLUSTER_DOMAIN}",
                service.name, service.namespace
            );
            if let Some(ip) = ep.addresses.first() {
                out.push((pod_name, fqdn, ip.clone()));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Splits `<first>.<service>.<namespace>.svc.cluster.local` (a trailing dot allowed).
fn split(name: &str) -> Option<Vec<&str>> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let rest = name.strip_suffix(&format!(".svc.{CLUSTER_DOMAIN}"))?;
    Some(rest.split('.').collect())
}

/// The pods an A lookup of `name` (`<pod>.<service>.<namespace>.svc.cluster.local`) answers
/// with, as (pod name, IP).
pub fn resolve(c: &Cluster, name: &str) -> Vec<(String, String)> {
    let Some(parts) = split(name) else {
        return Vec::new();
    };
    let [host, service, namespace] = parts[..] else {
        return Vec::new();
    };
    let want = format!("{host}.{service}.{namespace}.svc.{CLUSTER_DOMAIN}");
    records(c, &ObjectKey::new(namespace, service))
        .into_iter()
        .filter(|(_, fqdn, _)| *fqdn == want)
        .map(|(pod, _, ip)| (pod, ip))
        .collect()
}

/// The targets of an SRV lookup of `<service>.<namespace>.svc.cluster.local`: the FQDN of
/// every ready endpoint with a hostname, sorted.
pub fn srv(c: &Cluster, name: &str) -> Vec<String> {
    let Some(parts) = split(name) else {
        return Vec::new();
    };
    let [service, namespace] = parts[..] else {
        return Vec::new();
    };
    records(c, &ObjectKey::new(namespace, service))
        .into_iter()
        .map(|(_, fqdn, _)| fqdn)
        .collect()
}

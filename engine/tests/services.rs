//! Services and their EndpointSlices: ready, serving and terminating endpoints.

use k8s_openapi::api::core::v1::Pod;
use kubespec_engine::controllers::endpointslice::{service, slices_of};
use kubespec_engine::prober::ProbeKind;
use kubespec_engine::store::GenericObject;
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey, Propagation};
use serde_json::json;

fn cluster() -> Cluster {
    Cluster::new(ClusterConfig {
        seed: 3,
        nodes: 2,
        pods_per_node: 110,
        trace: false,
    })
}

fn pod(name: &str, app: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{
            "name": "web", "image": "web:v1",
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1}
        }]}
    }))
    .unwrap()
}

fn svc(c: &mut Cluster, extra: serde_json::Value) -> ObjectKey {
    let mut spec =
        json!({"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]});
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    c.apply_generic(GenericObject {
        api_version: "v1".into(),
        kind: "Service".into(),
        value: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}),
    })
}

/// (pod name, ready, serving, terminating) over every slice of the Service.
fn endpoints(c: &Cluster, key: &ObjectKey) -> Vec<(String, bool, bool, bool)> {
    let mut out: Vec<_> = slices_of(c, key)
        .iter()
        .flat_map(|s| s.endpoints.clone())
        .map(|e| {
            let cond = e.conditions.unwrap();
            (
                e.target_ref.unwrap().name.unwrap(),
                cond.ready.unwrap(),
                cond.serving.unwrap(),
                cond.terminating.unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn endpoints_follow_readiness_and_termination() {
    let mut c = cluster();
    c.images.update("web:v1", |b| b.stop = Millis::from_secs(5));
    let key = svc(&mut c, json!({}));
    c.apply_pod(pod("a", "web")).unwrap();
    c.apply_pod(pod("b", "web")).unwrap();
    c.apply_pod(pod("other", "db")).unwrap();
    c.settle();
    // Not ready until the first probe passes, 1 s after the start.
    let s = service(&c, &key).unwrap();
    let ip = s.spec.as_ref().unwrap().cluster_ip.clone().unwrap();
    assert!(ip.starts_with("10.96."), "{ip}");
    c.run_until(Millis::from_secs(1));
    assert_eq!(
        endpoints(&c, &key),
        vec![
            ("a".to_string(), true, true, false),
            ("b".to_string(), true, true, false)
        ]
    );
    let slice = &slices_of(&c, &key)[0];
    let port = &slice.ports.as_ref().unwrap()[0];
    assert_eq!(
        (port.port, port.protocol.as_deref()),
        (Some(8080), Some("TCP"))
    );
    assert_eq!(slice.address_type, "IPv4");

    c.set_probe_endpoint(&ObjectKey::new("default", "a"), ProbeKind::Readiness, false)
        .unwrap();
    c.run_until(Millis::from_secs(2));
    assert_eq!(
        endpoints(&c, &key)[0],
        ("a".to_string(), false, false, false)
    );

    c.delete::<Pod>(&ObjectKey::new("default", "b"), Propagation::Background)
        .unwrap();
    c.settle();
    assert_eq!(endpoints(&c, &key)[1], ("b".to_string(), false, true, true));
    c.run_until(Millis::from_secs(10));
    assert_eq!(endpoints(&c, &key).len(), 1, "b is gone once it stopped");
}

#[test]
fn publish_not_ready_addresses_and_headless_services() {
    let mut c = cluster();
    c.images.update("web:v1", |b| b.ready_after = None);
    let key = svc(
        &mut c,
        json!({"clusterIP": "None", "publishNotReadyAddresses": true}),
    );
    c.apply_pod(pod("a", "web")).unwrap();
    c.run_until(Millis::from_secs(5));
    assert_eq!(
        endpoints(&c, &key),
        vec![("a".to_string(), true, false, false)]
    );
    let slice = &slices_of(&c, &key)[0];
    assert!(
        slice
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .contains_key("service.kubernetes.io/headless")
    );
    let s = service(&c, &key).unwrap();
    assert_eq!(s.spec.unwrap().cluster_ip.as_deref(), Some("None"));
}

#[test]
fn a_service_without_pods_keeps_one_empty_slice_and_deleting_it_removes_its_slices() {
    let mut c = cluster();
    let key = svc(&mut c, json!({"ports": [{"port": 80}]}));
    c.settle();
    let slices = slices_of(&c, &key);
    assert_eq!(slices.len(), 1);
    assert!(slices[0].endpoints.is_empty());
    // Upstream's placeholder: `endpointMeta{ports: []discovery.EndpointPort{}}`.
    assert_eq!(slices[0].ports.as_deref(), Some(&[][..]));
    assert!(c.delete_generic("Service", &key));
    c.settle();
    assert!(slices_of(&c, &key).is_empty());
}

#[test]
fn more_than_a_hundred_endpoints_take_more_slices() {
    let mut c = cluster();
    let key = svc(&mut c, json!({}));
    for i in 0..150 {
        c.apply_pod(pod(&format!("p{i:03}"), "web")).unwrap();
    }
    c.run_until(Millis::from_secs(2));
    let sizes: Vec<usize> = slices_of(&c, &key)
        .iter()
        .map(|s| s.endpoints.len())
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort();
    assert_eq!(sorted, vec![50, 100], "{sizes:?}");
    assert_eq!(endpoints(&c, &key).iter().filter(|e| e.1).count(), 150);
}

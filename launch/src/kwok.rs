//! kwok's all-in-one cluster image runs a real API server, scheduler and controller manager,
//! and kwok's controller, which plays the kubelet for every Node annotated as kwok's. The image
//! starts with no node, so kubespec creates one large node for the workloads (what
//! `kwokctl scale node` does).

use k8s_openapi::api::core::v1::Node;

/// The node kubespec adds.
pub const NODE_NAME: &str = "kubespec-kwok-node";

/// A Node kwok simulates: annotated and labelled `kwok.x-k8s.io/node: fake`, with room for
/// many pods, Ready once kwok's controller takes it over.
pub fn node() -> Node {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "kwok.x-k8s.io/node": "fake"
            },
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/role": "agent",
                "node-role.kubernetes.io/agent": "",
                "type": "kwok"
            }
        },
        "status": {
            "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "1000"},
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "1000"},
            "nodeInfo": {
                "architecture": "amd64",
                "kubeProxyVersion": "fake",
                "kubeletVersion": "fake",
                "operatingSystem": "linux"
            },
            "phase": "Running"
        }
    }))
    .expect("a Node")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_is_kwoks_and_schedulable() {
        let n = node();
        let m = &n.metadata;
        assert_eq!(m.name.as_deref(), Some(NODE_NAME));
        assert_eq!(
            m.annotations.as_ref().unwrap()["kwok.x-k8s.io/node"],
            "fake"
        );
        assert!(n.spec.as_ref().is_none_or(|s| s.taints.is_none()));
        let alloc = n.status.as_ref().unwrap().allocatable.as_ref().unwrap();
        assert_eq!(alloc["pods"].0, "1000");
    }
}

//! kubectl's table printers for the kinds whose columns steps check. See [`hpa_targets`].
//!
//! Mirrors `pkg/printers/internalversion/printers.go` (`formatHPAMetrics`,
//! `printHorizontalPodAutoscaler`).
//!
//! NOTE: a quantity in `spec` prints as it is stored here, which is as the manifest wrote it;
//! the API server would store its canonical form (`1000` becomes `1k`). Values in `status`
//! are written canonical by the controller.

use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, MetricStatus};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

const UNKNOWN: &str = "<unknown>";

fn q(v: Option<&Quantity>) -> String {
    v.map_or_else(String::new, |q| q.0.clone())
}

/// The TARGETS column of `kubectl get hpa`: at most two metrics, `cpu: 16%/20%`,
/// `memory: 131072k/100Mi`, `1500/1k`, `5k/2k`, `30/30 (avg)`, then `+ N more...`; a metric
/// without a current value shows `<unknown>`.
pub fn hpa_targets(hpa: &HorizontalPodAutoscaler) -> String {
    let specs = hpa
        .spec
        .as_ref()
        .and_then(|s| s.metrics.as_deref())
        .unwrap_or_default();
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let statuses: &[MetricStatus] = hpa
        .status
        .as_ref()
        .and_then(|s| s.current_metrics.as_deref())
        .unwrap_or_default();
    let mut list = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let st = statuses.get(i);
        let entry = match spec.type_.as_str() {
            "External" => {
                let x = spec.external.as_ref();
                let t = x.map(|x| &x.target);
                let cur = st.and_then(|s| s.external.as_ref()).map(|s| &s.current);
                if let Some(avg) = t.and_then(|t| t.average_value.as_ref()) {
                    let current = cur
                        .and_then(|c| c.average_value.as_ref())
                        .map_or(UNKNOWN.to_string(), |v| v.0.clone());
                    format!("{current}/{} (avg)", avg.0)
                } else {
                    let current = cur.map_or(UNKNOWN.to_string(), |c| q(c.value.as_ref()));
                    format!("{current}/{}", q(t.and_then(|t| t.value.as_ref())))
                }
            }
            "Pods" => {
                let current = st
                    .and_then(|s| s.pods.as_ref())
                    .map_or(UNKNOWN.to_string(), |p| q(p.current.average_value.as_ref()));
                let target = spec
                    .pods
                    .as_ref()
                    .and_then(|p| p.target.average_value.as_ref());
                format!("{current}/{}", q(target))
            }
            "Object" => {
                let o = spec.object.as_ref();
                let t = o.map(|o| &o.target);
                let cur = st.and_then(|s| s.object.as_ref()).map(|s| &s.current);
                if let Some(avg) = t.and_then(|t| t.average_value.as_ref()) {
                    let current = cur
                        .and_then(|c| c.average_value.as_ref())
                        .map_or(UNKNOWN.to_string(), |v| v.0.clone());
                    format!("{current}/{} (avg)", avg.0)
                } else {
                    let current = cur.map_or(UNKNOWN.to_string(), |c| q(c.value.as_ref()));
                    format!("{current}/{}", q(t.and_then(|t| t.value.as_ref())))
                }
            }
            "Resource" | "ContainerResource" => {
                let (name, target, current) = if spec.type_ == "Resource" {
                    let r = spec.resource.as_ref();
                    (
                        r.map(|r| r.name.clone()).unwrap_or_default(),
                        r.map(|r| r.target.clone()).unwrap_or_default(),
                        st.and_then(|s| s.resource.as_ref())
                            .map(|s| s.current.clone()),
                    )
                } else {
                    let r = spec.container_resource.as_ref();
                    (
                        r.map(|r| r.name.clone()).unwrap_or_default(),
                        r.map(|r| r.target.clone()).unwrap_or_default(),
                        st.and_then(|s| s.container_resource.as_ref())
                            .map(|s| s.current.clone()),
                    )
                };
                if let Some(avg) = &target.average_value {
                    let c = current.map_or(UNKNOWN.to_string(), |c| q(c.average_value.as_ref()));
                    format!("{name}: {c}/{}", avg.0)
                } else {
                    let c = current
                        .and_then(|c| c.average_utilization)
                        .map_or(UNKNOWN.to_string(), |u| format!("{u}%"));
                    let t = target
                        .average_utilization
                        .map_or("<auto>".to_string(), |u| format!("{u}%"));
                    format!("{name}: {c}/{t}")
                }
            }
            _ => "<unknown type>".to_string(),
        };
        list.push(entry);
    }
    let count = list.len();
    if count > 2 {
        list.truncate(2);
        return format!("{} + {} more...", list.join(", "), count - 2);
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(v: serde_json::Value) -> HorizontalPodAutoscaler {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn cpu_with_and_without_a_current_value() {
        let mut h = hpa(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 20}}}]}
        }));
        assert_eq!(hpa_targets(&h), "cpu: <unknown>/20%");
        h.status = Some(
            serde_json::from_value(serde_json::json!({
                "desiredReplicas": 3,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageUtilization": 16, "averageValue": "83m"}}}]
            }))
            .unwrap(),
        );
        assert_eq!(hpa_targets(&h), "cpu: 16%/20%");
    }

    #[test]
    fn more_than_two_metrics_are_summarised() {
        let h = hpa(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "a"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
                    {"type": "External", "external": {"metric": {"name": "b"}, "target": {"type": "AverageValue", "averageValue": "30"}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}
                ]}
        }));
        assert_eq!(
            hpa_targets(&h),
            "<unknown>/1k, <unknown>/30 (avg) + 1 more..."
        );
    }
}

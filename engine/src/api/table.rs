//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get` asks for, with the
//! columns and cells of upstream's printers. See [`table`].
//!
//! Mirrors `pkg/printers/internalversion/printers.go` (`AddHandlers` for the column definitions,
//! `printDeployment`, `printPod`, … for the cells) and `duration.HumanDuration` for AGE. Columns
//! with priority 1 are the ones `kubectl get -o wide` adds. Kinds without a printer get upstream's
//! default table (`Name`, `Created At` becomes `Age`), as the API server does for kinds it has no
//! handler for.

use crate::printers::hpa_targets;
use crate::time::{EPOCH_SECONDS, Millis};
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Container, Node, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

/// What each row carries besides its cells (`?includeObject=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    /// A `PartialObjectMetadata` with the object's metadata: the API server's default.
    Metadata,
    Object,
}

impl IncludeObject {
    /// Parses the query parameter; empty means the default.
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        match s.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(format!(
                "includeObject: Unsupported value: {other:?}: supported values: \"None\", \"Metadata\", \"Object\""
            )),
        }
    }
}

/// Whether an `Accept` header asks for a Table (`application/json;as=Table;v=v1;g=meta.k8s.io`).
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"as=Table")
            && params.contains(&"g=meta.k8s.io")
            && params.iter().any(|p| *p == "v=v1" || *p == "v=v1beta1")
    })
}

struct Column {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    priority: u8,
    description: &'static str,
}

const fn col(
    name: &'static str,
    ty: &'static str,
    priority: u8,
    description: &'static str,
) -> Column {
    Column {
        name,
        ty,
        format: "",
        priority,
        description,
    }
}

const NAME: Column = Column {
    name: "Name",
    ty: "string",
    format: "name",
    priority: 0,
    description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
};
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.";
const AGE: Column = col("Age", "string", 0, AGE_DOC);
const CONTAINERS: Column = col(
    "Containers",
    "string",
    1,
    "Names of each container in the template.",
);
const IMAGES: Column = col(
    "Images",
    "string",
    1,
    "Images referenced by each container in the template.",
);

fn columns(kind: &str) -> Vec<Column> {
    match kind {
        "Pod" => vec![
            NAME,
            col(
                "Ready",
                "string",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            col(
                "Status",
                "string",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            col(
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            col(
                "IP",
                "string",
                1,
                "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
            col(
                "Node",
                "string",
                1,
                "NodeName indicates in which node this pod is scheduled.",
            ),
            col(
                "Nominated Node",
                "string",
                1,
                "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
            ),
            col(
                "Readiness Gates",
                "string",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        "Deployment" => vec![
            NAME,
            col("Ready", "string", 0, "Number of the pod with ready state"),
            col(
                "Up-to-date",
                "string",
                0,
                "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "string",
                0,
                "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            col(
                "Selector",
                "string",
                1,
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
            ),
        ],
        "ReplicaSet" => vec![
            NAME,
            col(
                "Desired",
                "integer",
                0,
                "Replicas is the number of desired pods.",
            ),
            col(
                "Current",
                "integer",
                0,
                "Replicas is the most recently observed number of non-terminating pods.",
            ),
            col(
                "Ready",
                "integer",
                0,
                "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            col(
                "Selector",
                "string",
                1,
                "Selector is a label query over pods that should match the replica count.",
            ),
        ],
        "StatefulSet" => vec![
            NAME,
            col("Ready", "string", 0, "Number of the pod with ready state"),
            AGE,
            CONTAINERS,
            IMAGES,
        ],
        "ControllerRevision" => vec![
            NAME,
            col("Controller", "string", 0, "Controller of the object"),
            col(
                "Revision",
                "string",
                0,
                "Revision indicates the revision of the state represented by Data.",
            ),
            AGE,
        ],
        "HorizontalPodAutoscaler" => vec![
            NAME,
            col(
                "Reference",
                "string",
                0,
                "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
            ),
            col(
                "Targets",
                "string",
                0,
                "metrics contains the specifications for which to use to calculate the desired replica count.",
            ),
            col(
                "MinPods",
                "string",
                0,
                "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
            ),
            col(
                "MaxPods",
                "string",
                0,
                "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
            ),
            col(
                "Replicas",
                "string",
                0,
                "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
            ),
            AGE,
        ],
        "Service" => vec![
            NAME,
            col(
                "Type",
                "string",
                0,
                "type determines how the Service is exposed.",
            ),
            col(
                "Cluster-IP",
                "string",
                0,
                "clusterIP is the IP address of the service and is usually assigned randomly.",
            ),
            col(
                "External-IP",
                "string",
                0,
                "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
            ),
            col(
                "Port(s)",
                "string",
                0,
                "The list of ports that are exposed by this service.",
            ),
            AGE,
            col(
                "Selector",
                "string",
                1,
                "Route service traffic to pods with label keys and values matching this selector.",
            ),
        ],
        "Endpoints" => vec![
            NAME,
            col(
                "Endpoints",
                "string",
                0,
                "The set of all endpoints is the union of all subsets.",
            ),
            AGE,
        ],
        "EndpointSlice" => vec![
            NAME,
            col(
                "AddressType",
                "string",
                0,
                "addressType specifies the type of address carried by this EndpointSlice.",
            ),
            col(
                "Ports",
                "string",
                0,
                "ports specifies the list of network ports exposed by each endpoint in this slice.",
            ),
            col(
                "Endpoints",
                "string",
                0,
                "endpoints is a list of unique endpoints in this slice.",
            ),
            AGE,
        ],
        "Node" => vec![
            NAME,
            col("Status", "string", 0, "The status of the node"),
            col("Roles", "string", 0, "The roles of the node"),
            AGE,
            col(
                "Version",
                "string",
                0,
                "Kubelet Version reported by the node.",
            ),
            col(
                "Internal-IP",
                "string",
                1,
                "List of addresses reachable to the node.",
            ),
            col(
                "External-IP",
                "string",
                1,
                "List of addresses reachable to the node.",
            ),
            col(
                "OS-Image",
                "string",
                1,
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            ),
            col(
                "Kernel-Version",
                "string",
                1,
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            ),
            col(
                "Container-Runtime",
                "string",
                1,
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            ),
        ],
        "Event" => vec![
            col(
                "Last Seen",
                "string",
                0,
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            col(
                "Type",
                "string",
                0,
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            col(
                "Reason",
                "string",
                0,
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            col(
                "Object",
                "string",
                0,
                "The object that this event is about.",
            ),
            col(
                "Subobject",
                "string",
                1,
                "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
            ),
            col(
                "Source",
                "string",
                1,
                "The component reporting this event. Should be a short machine understandable string.",
            ),
            col(
                "Message",
                "string",
                0,
                "A human-readable description of the status of this operation.",
            ),
            col(
                "First Seen",
                "string",
                1,
                "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
            ),
            col(
                "Count",
                "string",
                1,
                "The number of times this event has occurred.",
            ),
            Column {
                priority: 1,
                ..NAME
            },
        ],
        "Namespace" => vec![
            NAME,
            col("Status", "string", 0, "The status of the namespace"),
            AGE,
        ],
        "ConfigMap" => vec![
            NAME,
            col("Data", "string", 0, "Data contains the configuration data."),
            AGE,
        ],
        "Secret" => vec![
            NAME,
            col(
                "Type",
                "string",
                0,
                "Used to facilitate programmatic handling of secret data.",
            ),
            col("Data", "string", 0, "Data contains the secret data."),
            AGE,
        ],
        "PersistentVolumeClaim" => vec![
            NAME,
            col(
                "Status",
                "string",
                0,
                "phase represents the current phase of PersistentVolumeClaim.",
            ),
            col(
                "Volume",
                "string",
                0,
                "volumeName is the binding reference to the PersistentVolume backing this claim.",
            ),
            col(
                "Capacity",
                "string",
                0,
                "capacity represents the actual resources of the underlying volume.",
            ),
            col(
                "Access Modes",
                "string",
                0,
                "accessModes contains the actual access modes the volume backing the PVC has.",
            ),
            col("StorageClass", "string", 0, "StorageClass of the pvc"),
            col(
                "VolumeAttributesClass",
                "string",
                0,
                "VolumeAttributesClass of the pvc",
            ),
            AGE,
            col(
                "VolumeMode",
                "string",
                1,
                "volumeMode defines what type of volume is required by the claim.",
            ),
        ],
        "PersistentVolume" => vec![
            NAME,
            col(
                "Capacity",
                "string",
                0,
                "capacity is the description of the persistent volume's resources and capacity.",
            ),
            col(
                "Access Modes",
                "string",
                0,
                "accessModes contains all ways the volume can be mounted.",
            ),
            col(
                "Reclaim Policy",
                "string",
                0,
                "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
            ),
            col(
                "Status",
                "string",
                0,
                "phase indicates if a volume is available, bound to a claim, or released by a claim.",
            ),
            col(
                "Claim",
                "string",
                0,
                "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
            ),
            col("StorageClass", "string", 0, "StorageClass of the pv"),
            col(
                "VolumeAttributesClass",
                "string",
                0,
                "VolumeAttributesClass of the pv",
            ),
            col(
                "Reason",
                "string",
                0,
                "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
            ),
            AGE,
            col(
                "VolumeMode",
                "string",
                1,
                "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
            ),
        ],
        _ => vec![NAME, AGE],
    }
}

/// `duration.HumanDuration`: `45s`, `3m20s`, `15m`, `5h30m`, `3d4h`, `400d`, `2y30d`.
pub fn human_duration(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
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
    if minutes < 60 * 3 {
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

/// `translateTimestampSince`: the age of an RFC 3339 timestamp at virtual instant `now`.
fn since(ts: Option<&Value>, now: Millis) -> String {
    let Some(t) = ts
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    else {
        return "<unknown>".into();
    };
    let now_ms = (EPOCH_SECONDS * 1000).saturating_add(now.0 as i64);
    human_duration(now_ms - t.as_millisecond())
}

fn typed<T: serde::de::DeserializeOwned + Default>(v: &Value) -> T {
    // The object was admitted by the engine, so it has the kind's shape; a value that does not
    // (it cannot happen through the API) prints as an empty object rather than failing the list.
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

/// `layoutContainerCells`.
fn container_cells(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    (names.join(","), images.join(","))
}

/// `metav1.FormatLabelSelector`.
pub fn format_label_selector(s: Option<&LabelSelector>) -> String {
    let Some(s) = s else {
        return "<none>".into();
    };
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default();
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({})", e.key, values.join(",")),
            "NotIn" => format!("{} notin ({})", e.key, values.join(",")),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({})", e.key, values.join(",")),
        });
    }
    let out = parts.join(",");
    if out.is_empty() { "<none>".into() } else { out }
}

fn map_selector(m: Option<&std::collections::BTreeMap<String, String>>) -> String {
    let s: Vec<String> = m
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    none_if_empty(s.join(","))
}

/// The cells of one object, for every column of its kind (wide ones included: kubectl drops
/// the priority-1 columns unless asked for `-o wide`).
fn cells(kind: &str, v: &Value, now: Millis) -> Vec<Value> {
    let name = json!(v["metadata"]["name"].as_str().unwrap_or(""));
    let age = json!(since(
        v.get("metadata").and_then(|m| m.get("creationTimestamp")),
        now
    ));
    match kind {
        "Pod" => {
            let pod: Pod = typed(v);
            let status = pod.status.clone().unwrap_or_default();
            let statuses = status.container_statuses.clone().unwrap_or_default();
            // Sidecars (restartable init containers) count as containers of the pod.
            let sidecars: Vec<&str> = pod
                .spec
                .iter()
                .flat_map(|s| s.init_containers.iter().flatten())
                .filter(|c| c.restart_policy.as_deref() == Some("Always"))
                .map(|c| c.name.as_str())
                .collect();
            let total = pod.spec.as_ref().map_or(0, |s| s.containers.len()) + sidecars.len();
            let ready = statuses.iter().filter(|c| c.ready).count()
                + status
                    .init_container_statuses
                    .iter()
                    .flatten()
                    .filter(|c| sidecars.contains(&c.name.as_str()) && c.ready)
                    .count();
            let restarts: i32 = statuses.iter().map(|c| c.restart_count).sum();
            let last_restart = statuses
                .iter()
                .filter_map(|c| {
                    c.last_state
                        .as_ref()?
                        .terminated
                        .as_ref()?
                        .finished_at
                        .as_ref()
                        .map(|t| t.0)
                })
                .max();
            let restarts = match last_restart {
                Some(t) => {
                    let now_ms = (EPOCH_SECONDS * 1000).saturating_add(now.0 as i64);
                    format!(
                        "{restarts} ({} ago)",
                        human_duration(now_ms - t.as_millisecond())
                    )
                }
                None => restarts.to_string(),
            };
            let gates = pod
                .spec
                .as_ref()
                .and_then(|s| s.readiness_gates.as_ref())
                .filter(|g| !g.is_empty())
                .map(|g| {
                    let conditions = status.conditions.clone().unwrap_or_default();
                    let true_count = g
                        .iter()
                        .filter(|gate| {
                            conditions
                                .iter()
                                .any(|c| c.type_ == gate.condition_type && c.status == "True")
                        })
                        .count();
                    format!("{true_count}/{}", g.len())
                })
                .unwrap_or_else(|| "<none>".into());
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(crate::kubectl::pod_status_column(&pod)),
                json!(restarts),
                age,
                json!(none_if_empty(status.pod_ip.clone().unwrap_or_default())),
                json!(none_if_empty(
                    pod.spec
                        .as_ref()
                        .and_then(|s| s.node_name.clone())
                        .unwrap_or_default()
                )),
                json!(none_if_empty(
                    status.nominated_node_name.clone().unwrap_or_default()
                )),
                json!(gates),
            ]
        }
        "Deployment" => {
            let d: Deployment = typed(v);
            let spec = d.spec.clone().unwrap_or_default();
            let status = d.status.clone().unwrap_or_default();
            let (names, images) =
                container_cells(&spec.template.spec.clone().unwrap_or_default().containers);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    status.ready_replicas.unwrap_or(0),
                    spec.replicas.unwrap_or(0)
                )),
                json!(status.updated_replicas.unwrap_or(0)),
                json!(status.available_replicas.unwrap_or(0)),
                age,
                json!(names),
                json!(images),
                json!(format_label_selector(Some(&spec.selector))),
            ]
        }
        "ReplicaSet" => {
            let rs: ReplicaSet = typed(v);
            let spec = rs.spec.clone().unwrap_or_default();
            let status = rs.status.clone().unwrap_or_default();
            let (names, images) = container_cells(
                &spec
                    .template
                    .clone()
                    .and_then(|t| t.spec)
                    .unwrap_or_default()
                    .containers,
            );
            vec![
                name,
                json!(spec.replicas.unwrap_or(0)),
                json!(status.replicas),
                json!(status.ready_replicas.unwrap_or(0)),
                age,
                json!(names),
                json!(images),
                json!(format_label_selector(Some(&spec.selector))),
            ]
        }
        "StatefulSet" => {
            let s: StatefulSet = typed(v);
            let spec = s.spec.clone().unwrap_or_default();
            let status = s.status.clone().unwrap_or_default();
            let (names, images) =
                container_cells(&spec.template.spec.clone().unwrap_or_default().containers);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    status.ready_replicas.unwrap_or(0),
                    spec.replicas.unwrap_or(0)
                )),
                age,
                json!(names),
                json!(images),
            ]
        }
        "ControllerRevision" => {
            let r: ControllerRevision = typed(v);
            let controller = r
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.controller == Some(true))
                .map(|o| {
                    let group = o.api_version.split('/').rev().nth(1).unwrap_or("");
                    let kind = o.kind.to_lowercase();
                    if group.is_empty() {
                        format!("{kind}/{}", o.name)
                    } else {
                        format!("{kind}.{group}/{}", o.name)
                    }
                })
                .unwrap_or_else(|| "<none>".into());
            vec![name, json!(controller), json!(r.revision), age]
        }
        "HorizontalPodAutoscaler" => {
            // An autoscaling/v1 object reads in the stored version.
            let h: HorizontalPodAutoscaler = if v["apiVersion"] == "autoscaling/v1" {
                crate::api::autoscaling::v1_json_to_v2(v.clone())
                    .map(|v| typed(&v))
                    .unwrap_or_default()
            } else {
                typed(v)
            };
            let spec = h.spec.clone().unwrap_or_default();
            let reference = format!(
                "{}/{}",
                spec.scale_target_ref.kind, spec.scale_target_ref.name
            );
            let min = spec
                .min_replicas
                .map_or("<unset>".to_string(), |m| m.to_string());
            let current = h
                .status
                .as_ref()
                .and_then(|s| s.current_replicas)
                .unwrap_or(0);
            vec![
                name,
                json!(reference),
                json!(hpa_targets(&h)),
                json!(min),
                json!(spec.max_replicas),
                json!(current),
                age,
            ]
        }
        "Service" => {
            let s: Service = typed(v);
            let spec = s.spec.clone().unwrap_or_default();
            let ty = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
            let cluster_ip = none_if_empty(spec.cluster_ip.clone().unwrap_or_default());
            let external = match ty.as_str() {
                "ExternalName" => spec.external_name.clone().unwrap_or_default(),
                "LoadBalancer" => {
                    let ingress: Vec<String> = s
                        .status
                        .as_ref()
                        .and_then(|st| st.load_balancer.as_ref())
                        .and_then(|lb| lb.ingress.as_ref())
                        .into_iter()
                        .flatten()
                        .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone()))
                        .chain(spec.external_ips.clone().unwrap_or_default())
                        .collect();
                    if ingress.is_empty() {
                        "<pending>".into()
                    } else {
                        ingress.join(",")
                    }
                }
                _ => spec.external_ips.clone().unwrap_or_default().join(","),
            };
            let ports: Vec<String> = spec
                .ports
                .iter()
                .flatten()
                .map(|p| {
                    let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                    match p.node_port {
                        Some(np) if np != 0 => format!("{}:{np}/{protocol}", p.port),
                        _ => format!("{}/{protocol}", p.port),
                    }
                })
                .collect();
            vec![
                name,
                json!(ty),
                json!(cluster_ip),
                json!(none_if_empty(external)),
                json!(none_if_empty(ports.join(","))),
                age,
                json!(map_selector(spec.selector.as_ref())),
            ]
        }
        "Endpoints" => {
            let mut addrs = Vec::new();
            for subset in v["subsets"].as_array().into_iter().flatten() {
                let ports: Vec<i64> = subset["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["port"].as_i64())
                    .collect();
                for a in subset["addresses"].as_array().into_iter().flatten() {
                    let ip = a["ip"].as_str().unwrap_or("");
                    if ports.is_empty() {
                        addrs.push(ip.to_string());
                    }
                    for p in &ports {
                        addrs.push(format!("{ip}:{p}"));
                    }
                }
            }
            vec![name, json!(format_list(&addrs, 3)), age]
        }
        "EndpointSlice" => {
            let ports: Vec<String> = v["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["port"].as_i64().map(|n| n.to_string()))
                .collect();
            let addrs: Vec<String> = v["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|e| e["addresses"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            vec![
                name,
                json!(v["addressType"].as_str().unwrap_or("")),
                json!(if ports.is_empty() {
                    "<unset>".into()
                } else {
                    ports.join(",")
                }),
                json!(format_list(&addrs, 3)),
                age,
            ]
        }
        "Node" => {
            let n: Node = typed(v);
            let status = n.status.clone().unwrap_or_default();
            let ready = status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "Ready")
                .map(|c| {
                    if c.status == "True" {
                        "Ready"
                    } else {
                        "NotReady"
                    }
                })
                .unwrap_or("Unknown");
            let mut state = ready.to_string();
            if n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
                state.push_str(",SchedulingDisabled");
            }
            let mut roles: Vec<String> = n
                .metadata
                .labels
                .iter()
                .flatten()
                .filter_map(|(k, _)| {
                    k.strip_prefix("node-role.kubernetes.io/")
                        .map(str::to_string)
                })
                .filter(|r| !r.is_empty())
                .collect();
            roles.sort();
            let info = status.node_info.clone().unwrap_or_default();
            let addr = |ty: &str| {
                status
                    .addresses
                    .iter()
                    .flatten()
                    .find(|a| a.type_ == ty)
                    .map(|a| a.address.clone())
                    .unwrap_or_else(|| "<none>".into())
            };
            vec![
                name,
                json!(state),
                json!(none_if_empty(roles.join(","))),
                age,
                json!(info.kubelet_version),
                json!(addr("InternalIP")),
                json!(addr("ExternalIP")),
                json!(none_if_empty(info.os_image)),
                json!(none_if_empty(info.kernel_version)),
                json!(none_if_empty(info.container_runtime_version)),
            ]
        }
        "Event" => {
            let last = v
                .get("lastTimestamp")
                .filter(|t| !t.is_null())
                .or_else(|| v.get("eventTime"));
            let first = v.get("firstTimestamp");
            let obj = &v["involvedObject"];
            let source = {
                let component = v["source"]["component"].as_str().unwrap_or("");
                let host = v["source"]["host"].as_str().unwrap_or("");
                if host.is_empty() {
                    component.to_string()
                } else {
                    format!("{component}, {host}")
                }
            };
            vec![
                json!(since(last, now)),
                json!(v["type"].as_str().unwrap_or("")),
                json!(v["reason"].as_str().unwrap_or("")),
                json!(format!(
                    "{}/{}",
                    obj["kind"].as_str().unwrap_or("").to_lowercase(),
                    obj["name"].as_str().unwrap_or("")
                )),
                json!(obj["fieldPath"].as_str().unwrap_or("")),
                json!(source),
                json!(v["message"].as_str().unwrap_or("").trim()),
                json!(since(first, now)),
                json!(v["count"].as_i64().unwrap_or(1)),
                name,
            ]
        }
        "Namespace" => vec![
            name,
            json!(v["status"]["phase"].as_str().unwrap_or("Active")),
            age,
        ],
        "ConfigMap" => {
            let n = v["data"].as_object().map_or(0, |m| m.len())
                + v["binaryData"].as_object().map_or(0, |m| m.len());
            vec![name, json!(n), age]
        }
        "Secret" => {
            let n = v["data"].as_object().map_or(0, |m| m.len());
            vec![
                name,
                json!(v["type"].as_str().unwrap_or("Opaque")),
                json!(n),
                age,
            ]
        }
        "PersistentVolumeClaim" => {
            let modes = access_modes(&v["status"]["accessModes"]);
            let capacity = v["status"]["capacity"]["storage"].as_str().unwrap_or("");
            let phase = if v["metadata"]["deletionTimestamp"].is_string() {
                "Terminating"
            } else {
                v["status"]["phase"].as_str().unwrap_or("")
            };
            vec![
                name,
                json!(phase),
                json!(v["spec"]["volumeName"].as_str().unwrap_or("")),
                json!(capacity),
                json!(modes),
                json!(v["spec"]["storageClassName"].as_str().unwrap_or("")),
                json!(
                    v["spec"]["volumeAttributesClassName"]
                        .as_str()
                        .unwrap_or("<unset>")
                ),
                age,
                json!(v["spec"]["volumeMode"].as_str().unwrap_or("<unset>")),
            ]
        }
        "PersistentVolume" => {
            let claim = match (
                v["spec"]["claimRef"]["namespace"].as_str(),
                v["spec"]["claimRef"]["name"].as_str(),
            ) {
                (Some(ns), Some(n)) => format!("{ns}/{n}"),
                _ => String::new(),
            };
            vec![
                name,
                json!(v["spec"]["capacity"]["storage"].as_str().unwrap_or("")),
                json!(access_modes(&v["spec"]["accessModes"])),
                json!(
                    v["spec"]["persistentVolumeReclaimPolicy"]
                        .as_str()
                        .unwrap_or("")
                ),
                json!(v["status"]["phase"].as_str().unwrap_or("")),
                json!(claim),
                json!(v["spec"]["storageClassName"].as_str().unwrap_or("")),
                json!(
                    v["spec"]["volumeAttributesClassName"]
                        .as_str()
                        .unwrap_or("<unset>")
                ),
                json!(v["status"]["reason"].as_str().unwrap_or("")),
                age,
                json!(v["spec"]["volumeMode"].as_str().unwrap_or("<unset>")),
            ]
        }
        _ => vec![name, age],
    }
}

/// `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order.
fn access_modes(v: &Value) -> String {
    let modes: Vec<&str> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| modes.contains(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// `formatEndpoints`/`formatDiscoveryEndpoints`: the first `max` entries, then `+ N more...`.
fn format_list(items: &[String], max: usize) -> String {
    if items.is_empty() {
        return "<none>".into();
    }
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if items.len() > max {
        s.push_str(&format!(" + {} more...", items.len() - max));
    }
    s
}

/// A Table row: its cells, and the object as `includeObject` asks (none, its metadata as a
/// `PartialObjectMetadata`, or all of it).
pub fn row(cells: Vec<Value>, o: &Value, include: IncludeObject) -> Value {
    let mut row = json!({ "cells": cells });
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o.get("metadata").cloned().unwrap_or(Value::Null),
            });
        }
        IncludeObject::Object => row["object"] = o.clone(),
    }
    row
}

/// The `Table` for `objects` of `kind` at virtual instant `now`. `list_metadata` is the list's
/// `metadata` (resourceVersion, continue), carried over.
pub fn table(
    kind: &str,
    objects: &[Value],
    now: Millis,
    include: IncludeObject,
    list_metadata: Value,
) -> Value {
    let defs: Vec<Value> = columns(kind)
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.ty,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| row(cells(kind, o, now), o, include))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": defs,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn human_durations_match_upstream() {
        for (secs, want) in [
            (-5, "<invalid>"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (5 * 3600 + 30 * 60, "5h30m"),
            (47 * 3600, "47h"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (8 * 86400, "8d"),
            (400 * 86400, "400d"),
            (2 * 365 * 86400 + 30 * 86400, "2y30d"),
            (9 * 365 * 86400, "9y"),
        ] {
            assert_eq!(human_duration(secs * 1000), want, "{secs}s");
        }
    }

    #[test]
    fn accept_headers_that_ask_for_a_table() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
        ));
    }

    fn at(secs: i64) -> String {
        jiff::Timestamp::from_second(EPOCH_SECONDS + secs)
            .expect("in range")
            .to_string()
    }

    #[test]
    fn a_deployment_row_has_upstreams_cells() {
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "nginx", "creationTimestamp": at(0) },
            "spec": {
                "replicas": 3,
                "selector": { "matchLabels": { "app": "nginx" } },
                "template": { "metadata": { "labels": { "app": "nginx" } },
                    "spec": { "containers": [
                        { "name": "nginx", "image": "nginx:1.10" },
                        { "name": "log", "image": "busybox" } ] } }
            },
            "status": { "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2 }
        });
        let t = table(
            "Deployment",
            &[d],
            Millis::from_secs(200),
            IncludeObject::None,
            json!({ "resourceVersion": "7" }),
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "nginx",
                "2/3",
                3,
                2,
                "3m20s",
                "nginx,log",
                "nginx:1.10,busybox",
                "app=nginx"
            ])
        );
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c["name"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(t["metadata"]["resourceVersion"], "7");
        assert!(t["rows"][0].get("object").is_none());
    }

    #[test]
    fn a_pod_row_shows_restarts_with_their_age() {
        let p = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "web-1", "creationTimestamp": at(0) },
            "spec": { "nodeName": "node-1", "containers": [ { "name": "web", "image": "web:v1" } ] },
            "status": {
                "phase": "Running", "podIP": "10.244.1.5",
                "containerStatuses": [ {
                    "name": "web", "image": "web:v1", "imageID": "", "ready": true, "restartCount": 2,
                    "state": { "running": { "startedAt": at(50) } },
                    "lastState": { "terminated": { "exitCode": 1, "finishedAt": at(45) } }
                } ]
            }
        });
        let t = table(
            "Pod",
            &[p],
            Millis::from_secs(60),
            IncludeObject::Metadata,
            json!({}),
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web-1",
                "1/1",
                "Running",
                "2 (15s ago)",
                "60s",
                "10.244.1.5",
                "node-1",
                "<none>",
                "<none>"
            ])
        );
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "web-1");
    }

    #[test]
    fn a_kind_without_a_printer_gets_name_and_age() {
        let cr = json!({ "metadata": { "name": "my-tab", "creationTimestamp": at(0) } });
        let t = table(
            "CronTab",
            &[cr],
            Millis::from_secs(5),
            IncludeObject::Object,
            json!({}),
        );
        assert_eq!(t["rows"][0]["cells"], json!(["my-tab", "5s"]));
        assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "my-tab");
    }

    #[test]
    fn services_print_ports_and_selectors() {
        let s = json!({
            "metadata": { "name": "web", "creationTimestamp": at(0) },
            "spec": { "type": "NodePort", "clusterIP": "10.96.0.10",
                "ports": [ { "port": 80, "nodePort": 30080, "protocol": "TCP" }, { "port": 53, "protocol": "UDP" } ],
                "selector": { "app": "web" } }
        });
        let t = table(
            "Service",
            &[s],
            Millis::from_secs(1),
            IncludeObject::None,
            json!({}),
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "NodePort",
                "10.96.0.10",
                "<none>",
                "80:30080/TCP,53/UDP",
                "1s",
                "app=web"
            ])
        );
    }
}

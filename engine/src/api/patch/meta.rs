//! Patch metadata of the built-in kinds: per field, the strategic-merge strategy and merge key
//! and the server-side-apply list type and keys. See [`schema_for`] for the entry point.
//!
//! Taken from the struct tags of Kubernetes v1.34 (`patchStrategy:"merge"
//! patchMergeKey:"name"`, `+listType=map`, `+listMapKey=...`, `+structType=atomic`) in
//! `k8s.io/api/core/v1/types.go`, `apps/v1/types.go`, `autoscaling/v2/types.go`,
//! `discovery/v1/types.go` and `k8s.io/apimachinery/pkg/apis/meta/v1/types.go`.
//!
//! **Architecture invariant**: the tree lists only fields whose metadata differs from the
//! default, and the structs on the way to them. A field not listed is a plain field: a map
//! merges key by key, a list has no patch strategy (strategic merge replaces it) and is atomic
//! for apply. That is exactly upstream's behaviour for untagged fields, so leaving a field out is
//! never wrong for lists of scalars, `command`, `args`, `tolerations` and the like.
//!
//! The OpenAPI generator reads the same table ([`Schema::fields`], [`Field::openapi_extensions`],
//! [`Type::openapi_extensions`]) to emit `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and
//! `x-kubernetes-map-type`.

/// `patchStrategy` of a field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Strategy {
    /// `merge`: lists merge (by the merge key for lists of objects, as a union otherwise).
    pub merge: bool,
    /// `retainKeys`: a patch carrying `$retainKeys` clears the keys it does not list.
    pub retain_keys: bool,
    /// `replace`: the field is replaced as a whole.
    pub replace: bool,
}

impl Strategy {
    pub const NONE: Strategy = Strategy {
        merge: false,
        retain_keys: false,
        replace: false,
    };
    pub const MERGE: Strategy = Strategy {
        merge: true,
        retain_keys: false,
        replace: false,
    };
    pub const RETAIN_KEYS: Strategy = Strategy {
        merge: false,
        retain_keys: true,
        replace: false,
    };
    pub const MERGE_RETAIN_KEYS: Strategy = Strategy {
        merge: true,
        retain_keys: true,
        replace: false,
    };

    /// The tag text: `merge,retainKeys`, or `None` when the field has no strategy.
    pub fn as_tag(self) -> Option<&'static str> {
        match (self.merge, self.retain_keys, self.replace) {
            (true, true, _) => Some("merge,retainKeys"),
            (true, false, _) => Some("merge"),
            (false, true, _) => Some("retainKeys"),
            (false, false, true) => Some("replace"),
            (false, false, false) => None,
        }
    }
}

/// `+listType` of a list field (server-side apply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value, owned and replaced as a whole (the default).
    Atomic,
    /// Unique scalars; each is owned separately (`v:"x"`).
    Set,
    /// Objects identified by these keys (`+listMapKey`); each is owned separately
    /// (`k:{"name":"web"}`).
    Map(&'static [&'static str]),
}

impl ListType {
    /// The `x-kubernetes-list-type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Atomic => "atomic",
            ListType::Set => "set",
            ListType::Map(_) => "map",
        }
    }
}

/// One field of a struct, with its metadata.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub strategy: Strategy,
    /// `patchMergeKey`: the key strategic merge matches list elements on.
    pub merge_key: Option<&'static str>,
    /// `+listType`, for list fields that declare one.
    pub list_type: Option<ListType>,
    /// The struct of the value (for an object field) or of each element (for a list field).
    pub elem: Option<&'static Type>,
}

impl Field {
    /// The OpenAPI extensions upstream publishes for this field:
    /// `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`
    /// and `x-kubernetes-list-map-keys`, each only when it applies.
    pub fn openapi_extensions(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value;
        let mut m = serde_json::Map::new();
        if let Some(s) = self.strategy.as_tag() {
            m.insert("x-kubernetes-patch-strategy".into(), Value::from(s));
        }
        if let Some(k) = self.merge_key {
            m.insert("x-kubernetes-patch-merge-key".into(), Value::from(k));
        }
        if let Some(t) = self.list_type {
            m.insert("x-kubernetes-list-type".into(), Value::from(t.as_str()));
            if let ListType::Map(keys) = t {
                m.insert(
                    "x-kubernetes-list-map-keys".into(),
                    Value::from(keys.to_vec()),
                );
            }
        }
        m
    }
}

/// A struct type: its notable fields (see the module's invariant).
#[derive(Debug)]
pub struct Type {
    pub name: &'static str,
    /// `+structType=atomic`: apply owns and replaces the struct as a whole.
    pub atomic: bool,
    pub fields: &'static [Field],
}

impl Type {
    /// `x-kubernetes-map-type: atomic` for an atomic struct, nothing otherwise.
    pub fn openapi_extensions(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        if self.atomic {
            m.insert("x-kubernetes-map-type".into(), "atomic".into());
        }
        m
    }
}

/// A position in the schema tree: a struct, or nothing known (a custom field, a map value).
#[derive(Clone, Copy, Debug)]
pub struct Schema(Option<&'static Type>);

/// What is known about one field: [`Schema::field`]'s answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldMeta {
    pub strategy: Strategy,
    pub merge_key: Option<&'static str>,
    pub list_type: ListType,
}

impl Schema {
    /// Nothing known below this point: maps merge, lists are atomic and have no strategy.
    pub const UNKNOWN: Schema = Schema(None);

    /// The schema rooted at struct `t` (tests and callers with their own types).
    pub const fn of(t: &'static Type) -> Schema {
        Schema(Some(t))
    }

    /// The struct type at this position, if known.
    pub fn type_(self) -> Option<&'static Type> {
        self.0
    }

    /// The notable fields of this struct (empty when unknown).
    pub fn fields(self) -> &'static [Field] {
        self.0.map(|t| t.fields).unwrap_or(&[])
    }

    /// `+structType=atomic`.
    pub fn is_atomic(self) -> bool {
        self.0.is_some_and(|t| t.atomic)
    }

    fn find(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The metadata of field `name`, defaults for a field that is not listed.
    pub fn field(self, name: &str) -> FieldMeta {
        match self.find(name) {
            Some(f) => FieldMeta {
                strategy: f.strategy,
                merge_key: f.merge_key,
                list_type: f.list_type.unwrap_or(ListType::Atomic),
            },
            None => FieldMeta {
                strategy: Strategy::NONE,
                merge_key: None,
                list_type: ListType::Atomic,
            },
        }
    }

    /// The schema of field `name`'s value, or of each of its elements for a list.
    pub fn child(self, name: &str) -> Schema {
        Schema(self.find(name).and_then(|f| f.elem))
    }

    /// Descends a dotted path of field names (`spec.template.spec.containers`) and returns the
    /// metadata of its last field; list fields on the way are stepped into element-wise.
    pub fn lookup(self, path: &str) -> Option<FieldMeta> {
        let mut names = path.split('.').peekable();
        let mut at = self;
        while let Some(n) = names.next() {
            if names.peek().is_none() {
                return Some(at.field(n));
            }
            at = at.child(n);
        }
        None
    }
}

/// The schema of a served built-in kind, `None` for anything else (custom resources), for which
/// strategic merge patch is refused.
pub fn schema_for(api_version: &str, kind: &str) -> Option<Schema> {
    let t: &'static Type = match (api_version, kind) {
        ("v1", "Pod") => &POD,
        ("v1", "PodTemplate") => &POD_TEMPLATE,
        ("v1", "Service") => &SERVICE,
        ("v1", "Endpoints") => &ENDPOINTS,
        ("v1", "ConfigMap") => &CONFIG_MAP,
        ("v1", "Secret") => &SECRET,
        ("v1", "Event") => &EVENT,
        ("v1", "PersistentVolumeClaim") => &PERSISTENT_VOLUME_CLAIM,
        ("v1", "PersistentVolume") => &PERSISTENT_VOLUME,
        ("v1", "Namespace") => &NAMESPACE,
        ("v1", "Node") => &NODE,
        ("discovery.k8s.io/v1", "EndpointSlice") => &ENDPOINT_SLICE,
        ("apps/v1", "Deployment") => &DEPLOYMENT,
        ("apps/v1", "ReplicaSet") => &REPLICA_SET,
        ("apps/v1", "StatefulSet") => &STATEFUL_SET,
        ("apps/v1", "ControllerRevision") => &CONTROLLER_REVISION,
        ("autoscaling/v2", "HorizontalPodAutoscaler") => &HORIZONTAL_POD_AUTOSCALER,
        ("autoscaling/v1", "HorizontalPodAutoscaler") => &HORIZONTAL_POD_AUTOSCALER_V1,
        _ => return None,
    };
    Some(Schema(Some(t)))
}

/// Every kind [`schema_for`] knows, as (apiVersion, kind).
pub const KINDS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "PodTemplate"),
    ("v1", "Service"),
    ("v1", "Endpoints"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Event"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "PersistentVolume"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ControllerRevision"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
];

// ---- builders -------------------------------------------------------------------------------

/// A struct-valued field.
const fn obj(name: &'static str, t: &'static Type) -> Field {
    Field {
        name,
        strategy: Strategy::NONE,
        merge_key: None,
        list_type: None,
        elem: Some(t),
    }
}

/// A struct-valued field with a strategy (`retainKeys` on `DeploymentSpec.strategy`).
const fn obj_with(name: &'static str, strategy: Strategy, t: &'static Type) -> Field {
    Field {
        name,
        strategy,
        merge_key: None,
        list_type: None,
        elem: Some(t),
    }
}

/// `patchStrategy:"merge" patchMergeKey:"<key>"` + `+listType=map +listMapKey=<keys>`.
const fn merge_list(
    name: &'static str,
    strategy: Strategy,
    merge_key: &'static str,
    keys: &'static [&'static str],
    elem: Option<&'static Type>,
) -> Field {
    Field {
        name,
        strategy,
        merge_key: Some(merge_key),
        list_type: Some(ListType::Map(keys)),
        elem,
    }
}

/// A list with `+listType` and no patch strategy.
const fn typed_list(name: &'static str, list_type: ListType, elem: Option<&'static Type>) -> Field {
    Field {
        name,
        strategy: Strategy::NONE,
        merge_key: None,
        list_type: Some(list_type),
        elem,
    }
}

/// A list of objects without metadata of its own whose elements hold notable fields
/// (`volumeClaimTemplates`): atomic for apply, replaced by strategic merge.
const fn atomic_list(name: &'static str, elem: &'static Type) -> Field {
    Field {
        name,
        strategy: Strategy::NONE,
        merge_key: None,
        list_type: Some(ListType::Atomic),
        elem: Some(elem),
    }
}

/// `conditions` with `patchStrategy:"merge" patchMergeKey:"type"`, `+listType=map
/// +listMapKey=type`: the same on every status that has them.
const CONDITIONS: Field = merge_list("conditions", Strategy::MERGE, "type", &["type"], None);

const fn plain(name: &'static str, fields: &'static [Field]) -> Type {
    Type {
        name,
        atomic: false,
        fields,
    }
}

const fn atomic(name: &'static str) -> Type {
    Type {
        name,
        atomic: true,
        fields: &[],
    }
}

// ---- meta/v1 --------------------------------------------------------------------------------

/// `metav1.ObjectMeta`: finalizers merge as a set; ownerReferences merge by uid.
pub static OBJECT_META: Type = plain(
    "ObjectMeta",
    &[
        Field {
            name: "finalizers",
            strategy: Strategy::MERGE,
            merge_key: None,
            list_type: Some(ListType::Set),
            elem: None,
        },
        merge_list(
            "ownerReferences",
            Strategy::MERGE,
            "uid",
            &["uid"],
            Some(&OWNER_REFERENCE),
        ),
        // managedFields is atomic (no tags): apply never descends into it.
        typed_list("managedFields", ListType::Atomic, None),
    ],
);

/// `+structType=atomic`.
pub static OWNER_REFERENCE: Type = atomic("OwnerReference");
/// `+structType=atomic`: a selector is owned and replaced whole.
pub static LABEL_SELECTOR: Type = atomic("LabelSelector");

// ---- core/v1: the pod ---------------------------------------------------------------------

pub static POD: Type = plain(
    "Pod",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &POD_SPEC),
        obj("status", &POD_STATUS),
    ],
);

pub static POD_TEMPLATE: Type = plain(
    "PodTemplate",
    &[
        obj("metadata", &OBJECT_META),
        obj("template", &POD_TEMPLATE_SPEC),
    ],
);

/// Embedded in Deployment, ReplicaSet, StatefulSet and PodTemplate.
pub static POD_TEMPLATE_SPEC: Type = plain(
    "PodTemplateSpec",
    &[obj("metadata", &OBJECT_META), obj("spec", &POD_SPEC)],
);

pub static POD_SPEC: Type = plain(
    "PodSpec",
    &[
        merge_list(
            "volumes",
            Strategy::MERGE_RETAIN_KEYS,
            "name",
            &["name"],
            Some(&VOLUME),
        ),
        merge_list(
            "initContainers",
            Strategy::MERGE,
            "name",
            &["name"],
            Some(&CONTAINER),
        ),
        merge_list(
            "containers",
            Strategy::MERGE,
            "name",
            &["name"],
            Some(&CONTAINER),
        ),
        merge_list(
            "ephemeralContainers",
            Strategy::MERGE,
            "name",
            &["name"],
            Some(&CONTAINER),
        ),
        merge_list("imagePullSecrets", Strategy::MERGE, "name", &["name"], None),
        merge_list("hostAliases", Strategy::MERGE, "ip", &["ip"], None),
        merge_list(
            "topologySpreadConstraints",
            Strategy::MERGE,
            "topologyKey",
            &["topologyKey", "whenUnsatisfiable"],
            Some(&TOPOLOGY_SPREAD_CONSTRAINT),
        ),
        merge_list(
            "resourceClaims",
            Strategy::MERGE_RETAIN_KEYS,
            "name",
            &["name"],
            None,
        ),
        merge_list("schedulingGates", Strategy::MERGE, "name", &["name"], None),
        typed_list("tolerations", ListType::Atomic, None),
        typed_list("readinessGates", ListType::Atomic, None),
        obj("resources", &RESOURCE_REQUIREMENTS),
    ],
);

/// `Volume` embeds `VolumeSource` inline: its members are the one-of sources, which is why
/// `volumes` carries `retainKeys` (switching `emptyDir` to `configMap` drops `emptyDir`).
pub static VOLUME: Type = plain("Volume", &[]);

pub static TOPOLOGY_SPREAD_CONSTRAINT: Type = plain(
    "TopologySpreadConstraint",
    &[obj("labelSelector", &LABEL_SELECTOR)],
);

pub static CONTAINER: Type = plain(
    "Container",
    &[
        merge_list(
            "ports",
            Strategy::MERGE,
            "containerPort",
            &["containerPort", "protocol"],
            None,
        ),
        merge_list("env", Strategy::MERGE, "name", &["name"], None),
        merge_list(
            "volumeMounts",
            Strategy::MERGE,
            "mountPath",
            &["mountPath"],
            None,
        ),
        merge_list(
            "volumeDevices",
            Strategy::MERGE,
            "devicePath",
            &["devicePath"],
            None,
        ),
        typed_list("envFrom", ListType::Atomic, None),
        typed_list("resizePolicy", ListType::Atomic, None),
        obj("resources", &RESOURCE_REQUIREMENTS),
    ],
);

pub static RESOURCE_REQUIREMENTS: Type = plain(
    "ResourceRequirements",
    &[typed_list("claims", ListType::Map(&["name"]), None)],
);

pub static POD_STATUS: Type = plain(
    "PodStatus",
    &[
        CONDITIONS,
        merge_list("podIPs", Strategy::MERGE, "ip", &["ip"], None),
        merge_list("hostIPs", Strategy::MERGE, "ip", &["ip"], None),
        merge_list(
            "resourceClaimStatuses",
            Strategy::MERGE_RETAIN_KEYS,
            "name",
            &["name"],
            None,
        ),
        typed_list(
            "containerStatuses",
            ListType::Atomic,
            Some(&CONTAINER_STATUS),
        ),
        typed_list(
            "initContainerStatuses",
            ListType::Atomic,
            Some(&CONTAINER_STATUS),
        ),
        typed_list(
            "ephemeralContainerStatuses",
            ListType::Atomic,
            Some(&CONTAINER_STATUS),
        ),
    ],
);

pub static CONTAINER_STATUS: Type = plain(
    "ContainerStatus",
    &[
        typed_list("volumeMounts", ListType::Map(&["mountPath"]), None),
        typed_list("allocatedResourcesStatus", ListType::Map(&["name"]), None),
    ],
);

// ---- core/v1: the rest ----------------------------------------------------------------------

pub static SERVICE: Type = plain(
    "Service",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &SERVICE_SPEC),
        obj("status", &SERVICE_STATUS),
    ],
);

pub static SERVICE_SPEC: Type = plain(
    "ServiceSpec",
    &[
        merge_list(
            "ports",
            Strategy::MERGE,
            "port",
            &["port", "protocol"],
            None,
        ),
        typed_list("clusterIPs", ListType::Atomic, None),
        typed_list("externalIPs", ListType::Atomic, None),
        typed_list("ipFamilies", ListType::Atomic, None),
        typed_list("loadBalancerSourceRanges", ListType::Atomic, None),
    ],
);

pub static SERVICE_STATUS: Type = plain("ServiceStatus", &[CONDITIONS]);

/// `subsets` and their `addresses` and `ports` are atomic (untagged).
pub static ENDPOINTS: Type = plain("Endpoints", &[obj("metadata", &OBJECT_META)]);

pub static CONFIG_MAP: Type = plain("ConfigMap", &[obj("metadata", &OBJECT_META)]);
pub static SECRET: Type = plain("Secret", &[obj("metadata", &OBJECT_META)]);
pub static EVENT: Type = plain("Event", &[obj("metadata", &OBJECT_META)]);

pub static PERSISTENT_VOLUME_CLAIM: Type = plain(
    "PersistentVolumeClaim",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &PERSISTENT_VOLUME_CLAIM_SPEC),
        obj("status", &PERSISTENT_VOLUME_CLAIM_STATUS),
    ],
);

pub static PERSISTENT_VOLUME_CLAIM_SPEC: Type = plain(
    "PersistentVolumeClaimSpec",
    &[
        typed_list("accessModes", ListType::Atomic, None),
        obj("selector", &LABEL_SELECTOR),
    ],
);

pub static PERSISTENT_VOLUME_CLAIM_STATUS: Type = plain(
    "PersistentVolumeClaimStatus",
    &[
        CONDITIONS,
        typed_list("accessModes", ListType::Atomic, None),
    ],
);

pub static PERSISTENT_VOLUME: Type = plain(
    "PersistentVolume",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &PERSISTENT_VOLUME_SPEC),
    ],
);

pub static PERSISTENT_VOLUME_SPEC: Type = plain(
    "PersistentVolumeSpec",
    &[
        typed_list("accessModes", ListType::Atomic, None),
        typed_list("mountOptions", ListType::Atomic, None),
    ],
);

pub static NAMESPACE: Type = plain(
    "Namespace",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &NAMESPACE_SPEC),
        obj("status", &NAMESPACE_STATUS),
    ],
);

pub static NAMESPACE_SPEC: Type = plain(
    "NamespaceSpec",
    &[typed_list("finalizers", ListType::Atomic, None)],
);

pub static NAMESPACE_STATUS: Type = plain("NamespaceStatus", &[CONDITIONS]);

pub static NODE: Type = plain(
    "Node",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &NODE_SPEC),
        obj("status", &NODE_STATUS),
    ],
);

pub static NODE_SPEC: Type = plain(
    "NodeSpec",
    &[
        Field {
            name: "podCIDRs",
            strategy: Strategy::MERGE,
            merge_key: None,
            list_type: Some(ListType::Set),
            elem: None,
        },
        typed_list("taints", ListType::Atomic, None),
    ],
);

/// NOTE: `addresses` merge on `type` although two addresses may share a type (upstream keeps the
/// tag for compatibility, kubernetes/kubernetes#79391).
pub static NODE_STATUS: Type = plain(
    "NodeStatus",
    &[
        CONDITIONS,
        merge_list("addresses", Strategy::MERGE, "type", &["type"], None),
        typed_list("images", ListType::Atomic, None),
        typed_list("volumesInUse", ListType::Atomic, None),
        typed_list("volumesAttached", ListType::Atomic, None),
    ],
);

// ---- discovery.k8s.io/v1 --------------------------------------------------------------------

pub static ENDPOINT_SLICE: Type = plain(
    "EndpointSlice",
    &[
        obj("metadata", &OBJECT_META),
        typed_list("endpoints", ListType::Atomic, Some(&ENDPOINT)),
        typed_list("ports", ListType::Atomic, None),
    ],
);

pub static ENDPOINT: Type = plain("Endpoint", &[typed_list("addresses", ListType::Set, None)]);

// ---- apps/v1 --------------------------------------------------------------------------------

pub static DEPLOYMENT: Type = plain(
    "Deployment",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &DEPLOYMENT_SPEC),
        obj("status", &DEPLOYMENT_STATUS),
    ],
);

/// `strategy` is `patchStrategy:"retainKeys"`: switching to `Recreate` with `$retainKeys`
/// drops `rollingUpdate`.
pub static DEPLOYMENT_SPEC: Type = plain(
    "DeploymentSpec",
    &[
        obj("selector", &LABEL_SELECTOR),
        obj("template", &POD_TEMPLATE_SPEC),
        obj_with("strategy", Strategy::RETAIN_KEYS, &DEPLOYMENT_STRATEGY),
    ],
);

pub static DEPLOYMENT_STRATEGY: Type = plain("DeploymentStrategy", &[]);

pub static DEPLOYMENT_STATUS: Type = plain("DeploymentStatus", &[CONDITIONS]);

pub static REPLICA_SET: Type = plain(
    "ReplicaSet",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &REPLICA_SET_SPEC),
        obj("status", &REPLICA_SET_STATUS),
    ],
);

pub static REPLICA_SET_SPEC: Type = plain(
    "ReplicaSetSpec",
    &[
        obj("selector", &LABEL_SELECTOR),
        obj("template", &POD_TEMPLATE_SPEC),
    ],
);

pub static REPLICA_SET_STATUS: Type = plain("ReplicaSetStatus", &[CONDITIONS]);

pub static STATEFUL_SET: Type = plain(
    "StatefulSet",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &STATEFUL_SET_SPEC),
        obj("status", &STATEFUL_SET_STATUS),
    ],
);

/// `volumeClaimTemplates` is untagged upstream: strategic merge replaces it, apply owns it whole.
pub static STATEFUL_SET_SPEC: Type = plain(
    "StatefulSetSpec",
    &[
        obj("selector", &LABEL_SELECTOR),
        obj("template", &POD_TEMPLATE_SPEC),
        atomic_list("volumeClaimTemplates", &PERSISTENT_VOLUME_CLAIM),
    ],
);

pub static STATEFUL_SET_STATUS: Type = plain("StatefulSetStatus", &[CONDITIONS]);

/// `data` is a `runtime.RawExtension`: an opaque object.
pub static CONTROLLER_REVISION: Type =
    plain("ControllerRevision", &[obj("metadata", &OBJECT_META)]);

// ---- autoscaling/v2 -------------------------------------------------------------------------

pub static HORIZONTAL_POD_AUTOSCALER: Type = plain(
    "HorizontalPodAutoscaler",
    &[
        obj("metadata", &OBJECT_META),
        obj("spec", &HPA_SPEC),
        obj("status", &HPA_STATUS),
    ],
);

pub static HPA_SPEC: Type = plain(
    "HorizontalPodAutoscalerSpec",
    &[typed_list("metrics", ListType::Atomic, None)],
);

pub static HPA_STATUS: Type = plain(
    "HorizontalPodAutoscalerStatus",
    &[
        CONDITIONS,
        typed_list("currentMetrics", ListType::Atomic, None),
    ],
);

// ---- autoscaling/v1 -------------------------------------------------------------------------

/// autoscaling/v1 has no list but the metadata's: its spec and status are scalars and a
/// reference.
pub static HORIZONTAL_POD_AUTOSCALER_V1: Type =
    plain("HorizontalPodAutoscaler", &[obj("metadata", &OBJECT_META)]);

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(api_version: &str, kind: &str, path: &str) -> FieldMeta {
        schema_for(api_version, kind)
            .and_then(|s| s.lookup(path))
            .unwrap_or_else(|| panic!("{kind} {path}"))
    }

    #[test]
    fn containers_merge_by_name_everywhere_a_pod_spec_is_embedded() {
        for (v, k, p) in [
            ("v1", "Pod", "spec.containers"),
            ("apps/v1", "Deployment", "spec.template.spec.containers"),
            ("apps/v1", "ReplicaSet", "spec.template.spec.initContainers"),
            ("apps/v1", "StatefulSet", "spec.template.spec.containers"),
        ] {
            let m = lookup(v, k, p);
            assert_eq!(m.merge_key, Some("name"), "{k} {p}");
            assert_eq!(m.strategy, Strategy::MERGE, "{k} {p}");
            assert_eq!(m.list_type, ListType::Map(&["name"]), "{k} {p}");
        }
    }

    #[test]
    fn struct_tags() {
        let m = lookup("v1", "Pod", "spec.containers.ports");
        assert_eq!(m.merge_key, Some("containerPort"));
        assert_eq!(m.list_type, ListType::Map(&["containerPort", "protocol"]));
        let m = lookup("v1", "Pod", "spec.volumes");
        assert_eq!(m.strategy.as_tag(), Some("merge,retainKeys"));
        let m = lookup("apps/v1", "Deployment", "spec.strategy");
        assert_eq!(m.strategy.as_tag(), Some("retainKeys"));
        let m = lookup("v1", "Pod", "metadata.finalizers");
        assert_eq!((m.strategy, m.list_type), (Strategy::MERGE, ListType::Set));
        let m = lookup("v1", "ConfigMap", "metadata.ownerReferences");
        assert_eq!(m.merge_key, Some("uid"));
        let m = lookup("v1", "Service", "spec.ports");
        assert_eq!(m.list_type, ListType::Map(&["port", "protocol"]));
        let m = lookup("v1", "Node", "status.conditions");
        assert_eq!(m.merge_key, Some("type"));
        // Untagged lists: no strategy, atomic.
        let m = lookup("v1", "Pod", "spec.containers.args");
        assert_eq!(m.strategy.as_tag(), None);
        assert_eq!(m.list_type, ListType::Atomic);
        let m = lookup("apps/v1", "StatefulSet", "spec.volumeClaimTemplates");
        assert_eq!((m.merge_key, m.list_type), (None, ListType::Atomic));
    }

    #[test]
    fn every_kind_has_metadata_and_custom_kinds_have_none() {
        for (v, k) in KINDS {
            let s = schema_for(v, k).expect(k);
            assert!(s.child("metadata").type_().is_some(), "{k}");
        }
        assert!(schema_for("example.com/v1", "Widget").is_none());
        assert!(schema_for("v1", "Deployment").is_none());
    }

    #[test]
    fn openapi_extensions_as_upstream_publishes_them() {
        let ports = CONTAINER.fields.iter().find(|f| f.name == "ports").unwrap();
        assert_eq!(
            serde_json::Value::Object(ports.openapi_extensions()),
            serde_json::json!({
                "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "containerPort",
                "x-kubernetes-patch-strategy": "merge"
            })
        );
        let finalizers = OBJECT_META
            .fields
            .iter()
            .find(|f| f.name == "finalizers")
            .unwrap();
        assert_eq!(
            serde_json::Value::Object(finalizers.openapi_extensions()),
            serde_json::json!({"x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"})
        );
        let template = DEPLOYMENT_SPEC
            .fields
            .iter()
            .find(|f| f.name == "template")
            .unwrap();
        assert!(template.openapi_extensions().is_empty());
        assert_eq!(
            serde_json::Value::Object(LABEL_SELECTOR.openapi_extensions()),
            serde_json::json!({"x-kubernetes-map-type": "atomic"})
        );
    }

    #[test]
    fn label_selectors_are_atomic_structs() {
        let s = schema_for("apps/v1", "Deployment").unwrap();
        assert!(s.child("spec").child("selector").is_atomic());
        assert!(!s.child("spec").child("template").is_atomic());
    }
}

//! The generic REST layer: the served resources and the verbs on them (get, list, create,
//! update, delete, deletecollection, the `status` and `scale` subresources), on
//! `serde_json::Value`, with upstream's status codes and messages. `kubespec serve` is a thin
//! HTTP shell around it. See [`RESOURCES`] and the verb functions ([`get`], [`list`],
//! [`create`], [`update`], [`delete`]).
//!
//! Writes of kinds the engine models go through the same admission as manifests do (the
//! `Cluster::apply_*` and `update_*` operations of `crate::ops`, which default and validate), so
//! the server's validation IS the engine's. Kinds it does not model are stored as JSON
//! ([`crate::store::GenericObject`]).
//!
//! **API boundary:** nothing here does I/O or reads a clock; callers settle the cluster after a
//! write ([`crate::Cluster::settle`]) so that controllers react at once.
//!
//! NOTE: cluster-scoped objects (Nodes, Namespaces, PersistentVolumes) are keyed under namespace
//! `default` in the store, as `ObjectKey::of` keys them; [`render`] drops the namespace again.

use crate::api::{ApiError, Reason, autoscaling, crd, defaults, validation};
use crate::events::{Event, InvolvedObject};
use crate::store::{GenericObject, Kind, ObjectKey, Resource};
use crate::{Cluster, Propagation};
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Where a resource's objects live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// A typed table of the store; controllers act on it.
    Typed(Kind),
    /// JSON in the store's generic table, under the lower-case kind.
    Generic,
    /// The engine's [`crate::events::EventLog`], plus Events that clients created (generic).
    Events,
    /// Objects of a CustomResourceDefinition's kind: JSON in the generic table under
    /// `kind.group` (two CRDs may name the same kind in different groups), admitted against
    /// the CRD's schema ([`crd::resource`]). See [`CustomResources`].
    Custom,
}

/// One served resource, as discovery describes it.
#[derive(Clone, Copy, Debug)]
pub struct ResourceInfo {
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// `status`, `scale`.
    pub subresources: &'static [&'static str],
    pub storage: Storage,
}

/// The verbs every served resource supports.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const ALL: &[&str] = &["all"];

macro_rules! res {
    ($g:expr, $v:expr, $plural:expr, $singular:expr, $kind:expr, $ns:expr, $short:expr, $cat:expr, $sub:expr, $st:expr) => {
        ResourceInfo {
            group: $g,
            version: $v,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $ns,
            short_names: $short,
            categories: $cat,
            subresources: $sub,
            storage: $st,
        }
    };
}

/// Every served resource, grouped by group/version in discovery order.
pub const RESOURCES: &[ResourceInfo] = &[
    res!(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
        &[],
        &[],
        Storage::Generic
    ),
    res!(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
        &[],
        &[],
        Storage::Generic
    ),
    res!(
        "",
        "v1",
        "events",
        "event",
        "Event",
        true,
        &["ev"],
        &[],
        &[],
        Storage::Events
    ),
    res!(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
        &[],
        &["status"],
        Storage::Generic
    ),
    res!(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        false,
        &["no"],
        &[],
        &["status"],
        Storage::Typed(Kind::Node)
    ),
    res!(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
        &[],
        &["status"],
        Storage::Typed(Kind::PersistentVolumeClaim)
    ),
    res!(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        &["pv"],
        &[],
        &["status"],
        Storage::Generic
    ),
    res!(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        true,
        &["po"],
        ALL,
        &["status"],
        Storage::Typed(Kind::Pod)
    ),
    res!(
        "",
        "v1",
        "secrets",
        "secret",
        "Secret",
        true,
        &[],
        &[],
        &[],
        Storage::Generic
    ),
    res!(
        "",
        "v1",
        "services",
        "service",
        "Service",
        true,
        &["svc"],
        ALL,
        &["status"],
        Storage::Generic
    ),
    res!(
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
        &[],
        &[],
        &[],
        Storage::Typed(Kind::ControllerRevision)
    ),
    res!(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
        ALL,
        &["status", "scale"],
        Storage::Typed(Kind::Deployment)
    ),
    res!(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
        ALL,
        &["status", "scale"],
        Storage::Typed(Kind::ReplicaSet)
    ),
    res!(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
        ALL,
        &["status", "scale"],
        Storage::Typed(Kind::StatefulSet)
    ),
    res!(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        &["hpa"],
        ALL,
        &["status"],
        Storage::Typed(Kind::HorizontalPodAutoscaler)
    ),
    // Stored as autoscaling/v2, served converted ([`autoscaling::to_v1`], [`stored_as`]).
    res!(
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        &["hpa"],
        ALL,
        &["status"],
        Storage::Typed(Kind::HorizontalPodAutoscaler)
    ),
    res!(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        &[],
        &[],
        &[],
        Storage::Generic
    ),
    res!(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        CRD_KIND,
        false,
        &["crd", "crds"],
        &["api-extensions"],
        &["status"],
        Storage::Generic
    ),
];

/// The kind of a CustomResourceDefinition, which the REST layer admits with [`crd::definition`].
pub const CRD_KIND: &str = "CustomResourceDefinition";

/// The namespaces a new API server has.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-node-lease", "kube-public", "kube-system"];

impl ResourceInfo {
    /// `apps/v1`, `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, `pods`: the name upstream's messages use.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The kind the store and the change log know this resource's objects by: the kind, or
    /// for a custom resource `CronTab.stable.example.com`.
    pub fn store_kind(&self) -> String {
        match self.storage {
            Storage::Custom => format!("{}.{}", self.kind, self.group),
            _ => self.kind.to_string(),
        }
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.contains(&sub)
    }

    /// The store key of `name` in `namespace` (cluster-scoped objects: see the module note).
    pub fn key(&self, namespace: &str, name: &str) -> ObjectKey {
        if self.namespaced {
            ObjectKey::new(namespace, name)
        } else {
            ObjectKey::new("default", name)
        }
    }
}

/// The resource served at `group/version` under `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The version a resource served in another version than its storage's is stored in:
/// `autoscaling/v1` HorizontalPodAutoscalers are stored as `autoscaling/v2`, as upstream stores
/// them. Writes convert the body to it; reads convert back ([`render`]).
pub fn stored_as(r: &ResourceInfo) -> Option<&'static ResourceInfo> {
    if r.group == "autoscaling" && r.version == "v1" && r.kind == "HorizontalPodAutoscaler" {
        find("autoscaling", "v2", "horizontalpodautoscalers")
    } else {
        None
    }
}

/// The resource whose objects have `kind` (for watches, which the change log keys by kind).
pub fn find_kind(kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES.iter().find(|r| r.kind == kind)
}

/// The resource served at `group/version` under `plural`: a built-in one ([`RESOURCES`]) or
/// one of an Established CRD.
pub fn find_in(c: &Cluster, group: &str, version: &str, plural: &str) -> Option<ResourceInfo> {
    find(group, version, plural)
        .copied()
        .or_else(|| c.custom_resources.find(group, version, plural))
}

/// Every served resource: [`RESOURCES`], then one per served version of each Established CRD
/// (by CRD name, versions in the CRD's order).
pub fn served(c: &Cluster) -> Vec<ResourceInfo> {
    RESOURCES
        .iter()
        .copied()
        .chain(c.custom_resources.infos())
        .collect()
}

// ------------------------------------------------------------------------------------ errors

/// A failed request as the API server reports it: a `Status` object with a code and reason.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Status {
    pub code: u16,
    /// `NotFound`, `Conflict`, …
    pub reason: &'static str,
    pub message: String,
    /// `details`: the object's name, group and resource, and for `Invalid` one cause per field.
    pub details: Option<Box<StatusDetails>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusDetails {
    pub name: String,
    pub group: String,
    /// The resource (`deployments`), as upstream puts it in `details.kind`.
    pub kind: String,
    /// (reason, message, field)
    pub causes: Vec<(String, String, String)>,
}

impl Status {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Status {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Status::new(400, "BadRequest", message)
    }

    pub fn not_found(r: &ResourceInfo, name: &str) -> Self {
        Status::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", r.qualified()),
        )
        .with_details(r, name)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Status::new(405, "MethodNotAllowed", message)
    }

    /// `Operation cannot be fulfilled on deployments.apps "web": the object has been modified;
    /// please apply your changes to the latest version and try again`
    pub fn conflict(r: &ResourceInfo, name: &str) -> Self {
        Status::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                r.qualified()
            ),
        )
        .with_details(r, name)
    }

    fn with_details(mut self, r: &ResourceInfo, name: &str) -> Self {
        let d = self.details.get_or_insert_with(Default::default);
        d.name = name.to_string();
        d.group = r.group.to_string();
        d.kind = r.plural.to_string();
        self
    }

    /// An engine error about an object of resource `r`.
    pub fn from_api(e: ApiError, r: &ResourceInfo, name: &str) -> Self {
        let (code, reason) = match e.reason {
            Reason::NotFound => (404, "NotFound"),
            Reason::AlreadyExists => (409, "AlreadyExists"),
            Reason::Invalid => (422, "Invalid"),
            Reason::BadRequest => (400, "BadRequest"),
            Reason::Conflict => (409, "Conflict"),
            Reason::UnsupportedMediaType => (415, "UnsupportedMediaType"),
            Reason::RequestEntityTooLarge => (413, "RequestEntityTooLarge"),
        };
        let mut s = Status::new(code, reason, e.message).with_details(r, name);
        if let Some(d) = s.details.as_mut() {
            d.kind = if e.reason == Reason::Invalid {
                r.kind.to_string()
            } else {
                r.plural.to_string()
            };
            d.causes = e
                .causes
                .iter()
                .map(|c| {
                    (
                        cause_reason(&c.detail).to_string(),
                        c.detail.clone(),
                        c.field.clone(),
                    )
                })
                .collect();
        }
        s
    }

    /// The `Status` object.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            let mut details = json!({"name": d.name, "kind": d.kind});
            if !d.group.is_empty() {
                details["group"] = d.group.clone().into();
            }
            if !d.causes.is_empty() {
                details["causes"] = d
                    .causes
                    .iter()
                    .map(|(reason, message, field)| {
                        json!({"reason": reason, "message": message, "field": field})
                    })
                    .collect();
            }
            v["details"] = details;
        }
        v
    }
}

/// `field.ErrorType` of a field error from its detail (`Invalid value: …` → `FieldValueInvalid`).
fn cause_reason(detail: &str) -> &'static str {
    [
        ("Required value", "FieldValueRequired"),
        ("Unsupported value", "FieldValueNotSupported"),
        ("Forbidden", "FieldValueForbidden"),
        ("Duplicate value", "FieldValueDuplicate"),
        ("Too long", "FieldValueTooLong"),
        ("Not found", "FieldValueNotFound"),
        ("conflict with", "FieldManagerConflict"),
    ]
    .into_iter()
    .find(|(p, _)| detail.starts_with(p))
    .map_or("FieldValueInvalid", |(_, r)| r)
}

pub type Result<T, E = Status> = std::result::Result<T, E>;

// ------------------------------------------------------------------------------------ selectors

/// One requirement of a label selector (`app=web`, `tier in (a,b)`, `!canary`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// One requirement of a field selector (`metadata.name=web`, `status.phase!=Running`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub value: String,
    pub equal: bool,
}

/// A List's or watch's `labelSelector` and `fieldSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selectors {
    pub labels: Vec<LabelRequirement>,
    pub fields: Vec<FieldRequirement>,
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, ch) in s.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Parses a label selector string (`labels.Parse`).
///
/// # Errors
///
/// `BadRequest` naming the requirement that does not parse.
pub fn parse_label_selector(s: &str) -> Result<Vec<LabelRequirement>> {
    let bad = |p: &str| Status::bad_request(format!("unable to parse requirement: {p:?}"));
    let mut out = Vec::new();
    for part in split_top(s) {
        let set = |rest: &str| -> Option<Vec<String>> {
            let rest = rest.trim();
            let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
            Some(
                inner
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect(),
            )
        };
        let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
        let req = if let Some(k) = part.strip_prefix('!') {
            LabelRequirement::DoesNotExist(k.trim().to_string())
        } else if let Some((k, v)) = part.split_once("!=") {
            LabelRequirement::NotEquals(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            LabelRequirement::Equals(k.trim().into(), v.trim().into())
        } else if words.len() == 2 {
            let rest = words[1].trim_start();
            if let Some(r) = rest.strip_prefix("notin") {
                LabelRequirement::NotIn(words[0].into(), set(r).ok_or_else(|| bad(part))?)
            } else if let Some(r) = rest.strip_prefix("in") {
                LabelRequirement::In(words[0].into(), set(r).ok_or_else(|| bad(part))?)
            } else {
                return Err(bad(part));
            }
        } else {
            LabelRequirement::Exists(part.to_string())
        };
        out.push(req);
    }
    Ok(out)
}

/// Fields a field selector may name on every kind, and per kind.
fn field_supported(kind: &str, field: &str) -> bool {
    if matches!(field, "metadata.name" | "metadata.namespace") {
        return true;
    }
    match kind {
        "Pod" => matches!(
            field,
            "spec.nodeName"
                | "spec.restartPolicy"
                | "spec.schedulerName"
                | "spec.serviceAccountName"
                | "spec.hostNetwork"
                | "status.phase"
                | "status.podIP"
                | "status.nominatedNodeName"
        ),
        "Event" => {
            field.starts_with("involvedObject.")
                || matches!(field, "reason" | "reportingComponent" | "source" | "type")
        }
        "Secret" => field == "type",
        "Node" => field == "spec.unschedulable",
        "Namespace" => field == "status.phase",
        "ReplicaSet" => field == "status.replicas",
        _ => false,
    }
}

/// Parses a field selector string for objects of `kind` (`fields.ParseSelector`).
///
/// # Errors
///
/// `BadRequest` for a malformed requirement or an unsupported field
/// (`field label not supported: spec.foo`).
pub fn parse_field_selector(kind: &str, s: &str) -> Result<Vec<FieldRequirement>> {
    let mut out = Vec::new();
    for part in split_top(s) {
        let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
            (f, v, false)
        } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            (f, v, true)
        } else {
            return Err(Status::bad_request(format!(
                "invalid selector: '{s}'; can't understand '{part}'"
            )));
        };
        let field = field.trim();
        if !field_supported(kind, field) {
            return Err(Status::bad_request(format!(
                "field label not supported: {field}"
            )));
        }
        out.push(FieldRequirement {
            field: field.to_string(),
            value: value.trim().to_string(),
            equal,
        });
    }
    Ok(out)
}

impl Selectors {
    /// Parses a request's `labelSelector` and `fieldSelector` for objects of `kind`.
    ///
    /// # Errors
    ///
    /// `BadRequest` when either does not parse.
    pub fn parse(kind: &str, labels: Option<&str>, fields: Option<&str>) -> Result<Selectors> {
        Ok(Selectors {
            labels: labels
                .map(parse_label_selector)
                .transpose()?
                .unwrap_or_default(),
            fields: fields
                .map(|f| parse_field_selector(kind, f))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// Whether the object (JSON) satisfies both selectors.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let labels_ok = self.labels.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => label(k) == Some(v),
            LabelRequirement::NotEquals(k, v) => label(k) != Some(v),
            LabelRequirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelRequirement::NotIn(k, vs) => label(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
            LabelRequirement::Exists(k) => label(k).is_some(),
            LabelRequirement::DoesNotExist(k) => label(k).is_none(),
        });
        labels_ok
            && self.fields.iter().all(|f| {
                let pointer = format!("/{}", f.field.replace('.', "/"));
                let actual = match obj.pointer(&pointer) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Object(o)) if f.field == "source" => o
                        .get("component")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    Some(v) => v.to_string(),
                };
                (actual == f.value) == f.equal
            })
    }
}

// ------------------------------------------------------------------------------------ reading

/// The object as served: cluster-scoped objects without a namespace; a custom resource in the
/// version asked for (upstream's `None` conversion strategy: only `apiVersion` changes).
pub fn render(r: &ResourceInfo, mut v: Value) -> Value {
    if stored_as(r).is_some() {
        v = autoscaling::v2_json_to_v1(v);
    }
    if r.storage == Storage::Custom
        && let Some(o) = v.as_object_mut()
    {
        o.insert("apiVersion".into(), r.api_version().into());
    }
    if !r.namespaced
        && let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut)
    {
        m.remove("namespace");
    }
    v
}

use crate::store::with_type;

fn typed_json<T: Resource>(c: &Cluster, key: &ObjectKey) -> Option<Value> {
    T::table(&c.store)
        .get(key)
        .and_then(|o| serde_json::to_value(o).ok())
}

fn generic_key(r: &ResourceInfo, key: &ObjectKey) -> (String, ObjectKey) {
    (r.store_kind().to_ascii_lowercase(), key.clone())
}

/// The stored object's JSON, unrendered.
fn lookup(c: &Cluster, r: &ResourceInfo, key: &ObjectKey) -> Option<Value> {
    match r.storage {
        Storage::Typed(kind) => with_type!(kind, T => typed_json::<T>(c, key)),
        Storage::Generic | Storage::Custom => c
            .store
            .generic
            .get(&generic_key(r, key))
            .map(|o| o.value.clone()),
        Storage::Events => c
            .store
            .generic
            .get(&generic_key(r, key))
            .map(|o| o.value.clone())
            .or_else(|| {
                engine_events(c)
                    .into_iter()
                    .find(|e| object_key(r, e) == *key)
            }),
    }
}

fn object_key(r: &ResourceInfo, v: &Value) -> ObjectKey {
    let m = &v["metadata"];
    r.key(
        m["namespace"].as_str().unwrap_or("default"),
        m["name"].as_str().unwrap_or_default(),
    )
}

/// GET of one object.
///
/// # Errors
///
/// `NotFound` when there is no such object.
pub fn get(c: &Cluster, r: &ResourceInfo, namespace: &str, name: &str) -> Result<Value> {
    let key = r.key(namespace, name);
    lookup(c, r, &key)
        .map(|v| render(r, v))
        .ok_or_else(|| Status::not_found(r, name))
}

/// The engine's events as core/v1 Events, oldest first. Names are `<object>.<index in hex>`,
/// stable for the life of the cluster.
pub fn engine_events(c: &Cluster) -> Vec<Value> {
    let rv = c.resource_version().to_string();
    c.events
        .iter()
        .enumerate()
        .map(|(i, e)| event_json(i, e, c.events.involved(e.object), &rv))
        .collect()
}

fn event_json(i: usize, e: &Event, o: &InvolvedObject, rv: &str) -> Value {
    let first = e.first_timestamp.to_time();
    let last = e.last_timestamp.to_time();
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.{:x}", o.key.name, 0x1800_0000_0000_0000u64 + i as u64),
            "namespace": o.key.namespace,
            "resourceVersion": rv,
            "creationTimestamp": first,
        },
        "involvedObject": {
            "apiVersion": o.kind.api_version(),
            "kind": o.kind.as_str(),
            "name": o.key.name,
            "namespace": o.key.namespace,
            "uid": o.uid,
        },
        "reason": e.reason,
        "message": e.message,
        "type": e.type_.as_str(),
        "count": e.count,
        "firstTimestamp": first,
        "lastTimestamp": last,
        "source": {"component": e.source},
        "reportingComponent": e.source,
        "reportingInstance": "",
    })
}

/// The objects of a List, before paging.
fn all_objects(c: &Cluster, r: &ResourceInfo, namespace: Option<&str>) -> Vec<Value> {
    let ns_ok = |key: &ObjectKey| !r.namespaced || namespace.is_none_or(|n| key.namespace == n);
    let generic = |c: &Cluster| -> Vec<Value> {
        let kind = r.store_kind().to_ascii_lowercase();
        c.store
            .generic
            .range((kind.clone(), ObjectKey::default())..)
            .take_while(|((k, _), _)| *k == kind)
            .filter(|((_, key), _)| ns_ok(key))
            .map(|(_, o)| o.value.clone())
            .collect()
    };
    match r.storage {
        Storage::Typed(kind) => with_type!(kind, T => T::table(&c.store)
            .iter()
            .filter(|(k, _)| ns_ok(k))
            .filter_map(|(_, o)| serde_json::to_value(o).ok())
            .collect()),
        Storage::Generic | Storage::Custom => generic(c),
        Storage::Events => {
            let mut all: Vec<Value> = engine_events(c)
                .into_iter()
                .filter(|e| ns_ok(&object_key(r, e)))
                .collect();
            all.extend(generic(c));
            all
        }
    }
}

/// A List's items and resourceVersion.
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    pub items: Vec<Value>,
    pub resource_version: u64,
    /// The `continue` token of the next page, when `limit` cut the list.
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

/// LIST: the objects of `namespace` (or all namespaces), in key order, that match `selectors`;
/// `limit` and `continue_from` page it (the token is the offset of the next page).
///
/// # Errors
///
/// `BadRequest` for a malformed `continue` token.
pub fn list(
    c: &Cluster,
    r: &ResourceInfo,
    namespace: Option<&str>,
    selectors: &Selectors,
    limit: Option<usize>,
    continue_from: Option<&str>,
) -> Result<List> {
    let items: Vec<Value> = all_objects(c, r, namespace)
        .into_iter()
        .filter(|o| selectors.matches(o))
        .map(|o| render(r, o))
        .collect();
    let offset = match continue_from.filter(|s| !s.is_empty()) {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| Status::bad_request(format!("invalid continue token {t:?}")))?,
        None => 0,
    };
    let total = items.len();
    let mut page: Vec<Value> = items.into_iter().skip(offset).collect();
    let (mut continue_token, mut remaining) = (None, None);
    if let Some(limit) = limit.filter(|l| *l > 0)
        && page.len() > limit
    {
        page.truncate(limit);
        continue_token = Some((offset + limit).to_string());
        remaining = Some(total - offset - limit);
    }
    Ok(List {
        items: page,
        resource_version: c.resource_version(),
        continue_token,
        remaining,
    })
}

// ------------------------------------------------------------------------------------ writing

fn decode<T: serde::de::DeserializeOwned>(r: &ResourceInfo, v: Value) -> Result<T> {
    serde_json::from_value(v)
        .map_err(|e| Status::bad_request(format!("error decoding {} object: {e}", r.kind)))
}

/// Checks the body's apiVersion and kind, and sets its namespace from the path.
fn prepare_body(r: &ResourceInfo, namespace: &str, body: &mut Value) -> Result<()> {
    let Some(obj) = body.as_object_mut() else {
        return Err(Status::bad_request(format!(
            "the body of the request was not a {} object",
            r.kind
        )));
    };
    let want = r.api_version();
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            obj.insert("apiVersion".into(), want.clone().into());
        }
        Some(v) if v == want => {}
        Some(v) => {
            return Err(Status::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({want})"
            )));
        }
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            obj.insert("kind".into(), r.kind.into());
        }
        Some(k) if k == r.kind => {}
        Some(k) => {
            return Err(Status::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                r.kind
            )));
        }
    }
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| Status::bad_request("metadata must be an object"))?;
    if r.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != namespace => {
                return Err(Status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {
                meta.insert("namespace".into(), namespace.into());
            }
        }
    } else {
        meta.remove("namespace");
    }
    Ok(())
}

fn name_of(body: &Value) -> String {
    body.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn namespace_exists(c: &Cluster, ns: &str) -> bool {
    c.store
        .generic
        .contains_key(&("namespace".to_string(), ObjectKey::new("default", ns)))
}

/// Creates the namespaces a new API server has (`default`, `kube-system`, …) if missing.
pub fn install_namespaces(c: &mut Cluster) {
    for ns in INITIAL_NAMESPACES {
        if !namespace_exists(c, ns) {
            put_namespace(c, ns);
        }
    }
}

fn put_namespace(c: &mut Cluster, name: &str) {
    c.put_generic(GenericObject {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        value: json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }),
    });
}

/// CREATE (POST). Returns the stored object.
///
/// # Errors
///
/// `AlreadyExists`, `NotFound` for a missing namespace, `Invalid` from the engine's validation,
/// `BadRequest` for a body that is not such an object.
pub fn create(c: &mut Cluster, r: &ResourceInfo, namespace: &str, body: Value) -> Result<Value> {
    create_with(c, r, namespace, body, FieldValidation::Warn).map(|w| w.object)
}

/// CREATE (POST) with a `fieldValidation` directive; returns the stored object and the
/// `Warning`s of the response.
///
/// # Errors
///
/// As [`create`]; with [`FieldValidation::Strict`], `BadRequest` for unknown fields of a
/// custom resource.
pub fn create_with(
    c: &mut Cluster,
    r: &ResourceInfo,
    namespace: &str,
    mut body: Value,
    fv: FieldValidation,
) -> Result<Written> {
    if let Some(stored) = stored_as(r) {
        prepare_body(r, namespace, &mut body)?;
        let name = name_of(&body);
        let body = autoscaling::v1_json_to_v2(body).map_err(|e| Status::from_api(e, r, &name))?;
        let mut w = create_with(c, stored, namespace, body, fv)?;
        w.object = render(r, w.object);
        return Ok(w);
    }
    let mut warnings = Vec::new();
    prepare_body(r, namespace, &mut body)?;
    if r.namespaced && !namespace_exists(c, namespace) {
        return Err(Status::new(
            404,
            "NotFound",
            format!("namespaces \"{namespace}\" not found"),
        )
        .with_details(&NAMESPACES, namespace));
    }
    let mut name = name_of(&body);
    if name.is_empty() {
        let prefix = body
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if prefix.is_empty() {
            let mut e = Status::new(
                422,
                "Invalid",
                format!(
                    "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                    r.kind
                ),
            )
            .with_details(r, "");
            if let Some(d) = e.details.as_mut() {
                d.kind = r.kind.to_string();
                d.causes = vec![(
                    "FieldValueRequired".into(),
                    "Required value: name or generateName is required".into(),
                    "metadata.name".into(),
                )];
            }
            return Err(e);
        }
        loop {
            let candidate = format!("{prefix}{}", c.random_suffix(5));
            if lookup(c, r, &r.key(namespace, &candidate)).is_none() {
                name = candidate;
                break;
            }
        }
        body["metadata"]["name"] = name.clone().into();
    }
    let key = r.key(namespace, &name);
    if lookup(c, r, &key).is_some() {
        return Err(Status::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", r.qualified()),
        )
        .with_details(r, &name));
    }
    if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        // The server's fields are the server's.
        for f in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
        ] {
            m.remove(f);
        }
    }
    let err = |e: ApiError| Status::from_api(e, r, &name);
    match r.storage {
        Storage::Typed(kind) => match kind {
            Kind::Deployment => {
                let mut d: Deployment = decode(r, body)?;
                d.status = None;
                c.apply_deployment(d).map_err(err)?;
            }
            Kind::ReplicaSet => {
                let mut rs: ReplicaSet = decode(r, body)?;
                rs.status = None;
                c.apply_replica_set(rs).map_err(err)?;
            }
            Kind::Pod => {
                let mut p: Pod = decode(r, body)?;
                p.status = None;
                c.apply_pod(p).map_err(err)?;
            }
            Kind::StatefulSet => {
                let mut s: StatefulSet = decode(r, body)?;
                s.status = None;
                c.apply_stateful_set(s).map_err(err)?;
            }
            Kind::HorizontalPodAutoscaler => {
                c.apply_hpa("autoscaling/v2", body).map_err(err)?;
            }
            Kind::PersistentVolumeClaim => {
                let p: PersistentVolumeClaim = decode(r, body)?;
                c.apply_persistent_volume_claim(p).map_err(err)?;
            }
            Kind::Node => {
                let n: Node = decode(r, body)?;
                c.create(n).map_err(err)?;
            }
            Kind::ControllerRevision => {
                let cr: ControllerRevision = decode(r, body)?;
                c.create(cr).map_err(err)?;
            }
        },
        Storage::Custom => {
            let desc = custom_description(c, r, &name)?;
            let admitted = crd::resource::admit_create(&desc, r.version, body).map_err(err)?;
            warnings = fv
                .check(&desc, r.version, &admitted.unknown_fields)
                .map_err(err)?;
            put_generic_body(c, r, admitted.object);
        }
        Storage::Generic | Storage::Events => {
            if r.kind == "Namespace" {
                let m = body["metadata"].as_object_mut().expect("prepared");
                let labels = m.entry("labels").or_insert_with(|| json!({}));
                labels["kubernetes.io/metadata.name"] = name.clone().into();
                body["status"] = json!({"phase": "Active"});
            }
            if r.kind == CRD_KIND && r.group == "apiextensions.k8s.io" {
                let crd = decode(r, body)?;
                let crd = crd::definition::admit_create(crd).map_err(err)?;
                body = accept_crd(c, crd, r)?;
            }
            put_generic_body(c, r, body);
            if r.kind == CRD_KIND {
                refresh_custom_resources(c);
            }
        }
    }
    let object = lookup(c, r, &key)
        .map(|v| render(r, v))
        .ok_or_else(|| Status::not_found(r, &name))?;
    Ok(Written { object, warnings })
}

const NAMESPACES: ResourceInfo = RESOURCES[3];

fn put_generic_body(c: &mut Cluster, r: &ResourceInfo, mut body: Value) {
    if !r.namespaced
        && let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut)
    {
        m.insert("namespace".into(), "default".into());
    }
    c.apply_generic(GenericObject {
        api_version: r.api_version(),
        kind: r.store_kind(),
        value: body,
    });
}

/// Which part of an object an update writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subresource {
    /// The object: spec and metadata; the status is kept when the kind has a status
    /// subresource.
    Main,
    /// Only the status.
    Status,
}

fn resource_version_of(v: &Value) -> Option<&str> {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// UPDATE (PUT) of the object or of its status. A `metadata.resourceVersion` other than the
/// live one is a `Conflict`; none means "whatever is there" (the kinds here all allow
/// unconditional updates).
///
/// # Errors
///
/// `NotFound`, `Conflict`, `Invalid`, `BadRequest`.
pub fn update(
    c: &mut Cluster,
    r: &ResourceInfo,
    namespace: &str,
    name: &str,
    body: Value,
    sub: Subresource,
) -> Result<Value> {
    update_with(c, r, namespace, name, body, sub, FieldValidation::Warn).map(|w| w.object)
}

/// UPDATE (PUT) with a `fieldValidation` directive; returns the stored object and the
/// `Warning`s of the response.
///
/// # Errors
///
/// As [`update`]; with [`FieldValidation::Strict`], `BadRequest` for unknown fields of a
/// custom resource.
pub fn update_with(
    c: &mut Cluster,
    r: &ResourceInfo,
    namespace: &str,
    name: &str,
    mut body: Value,
    sub: Subresource,
    fv: FieldValidation,
) -> Result<Written> {
    if let Some(stored) = stored_as(r) {
        prepare_body(r, namespace, &mut body)?;
        let body = autoscaling::v1_json_to_v2(body).map_err(|e| Status::from_api(e, r, name))?;
        let mut w = update_with(c, stored, namespace, name, body, sub, fv)?;
        w.object = render(r, w.object);
        return Ok(w);
    }
    let mut warnings = Vec::new();
    prepare_body(r, namespace, &mut body)?;
    let body_name = name_of(&body);
    if !body_name.is_empty() && body_name != name {
        return Err(Status::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    body["metadata"]["name"] = name.into();
    let key = r.key(namespace, name);
    let Some(live) = lookup(c, r, &key) else {
        return Err(Status::not_found(r, name));
    };
    if let Some(rv) = resource_version_of(&body)
        && Some(rv) != resource_version_of(&live)
    {
        return Err(Status::conflict(r, name));
    }
    let err = |e: ApiError| Status::from_api(e, r, name);
    // The deletion fields are the server's: an update neither sets nor clears them.
    if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
            match live.pointer(&format!("/metadata/{f}")) {
                Some(v) => m.insert(f.into(), v.clone()),
                None => m.remove(f),
            };
        }
    }
    let keeps_status = sub == Subresource::Main && r.has_subresource("status");
    // For a status update the new object is the live one with the body's status.
    let new = match sub {
        Subresource::Status => {
            let mut v = live.clone();
            v["status"] = body.get("status").cloned().unwrap_or(Value::Null);
            v
        }
        Subresource::Main => {
            let mut v = body;
            if keeps_status {
                v["status"] = live.get("status").cloned().unwrap_or(Value::Null);
            }
            v
        }
    };
    match r.storage {
        Storage::Typed(kind) => match (kind, sub) {
            (Kind::Deployment, Subresource::Main) => {
                let new: Deployment = decode(r, new)?;
                c.update_deployment(&key, move |d| *d = new).map_err(err)?;
            }
            (Kind::StatefulSet, Subresource::Main) => {
                let new: StatefulSet = decode(r, new)?;
                c.update_stateful_set(&key, move |s| *s = new)
                    .map_err(err)?;
            }
            (Kind::ReplicaSet, Subresource::Main) => {
                let mut new: ReplicaSet = decode(r, new)?;
                defaults::default_replica_set(&mut new);
                validation::validate_replica_set(&new).map_err(err)?;
                c.update(new).map_err(err)?;
            }
            (Kind::Pod, Subresource::Main) => {
                let mut new: Pod = decode(r, new)?;
                defaults::default_pod(&mut new);
                validation::validate_pod(&new).map_err(err)?;
                c.update(new).map_err(err)?;
            }
            (Kind::HorizontalPodAutoscaler, Subresource::Main) => {
                let old: HorizontalPodAutoscaler = decode(r, live)?;
                let mut hpa = autoscaling::hpa_from_json("autoscaling/v2", new).map_err(err)?;
                autoscaling::admit_hpa(&mut hpa, Some(&old)).map_err(err)?;
                c.update(hpa).map_err(err)?;
            }
            _ => with_type!(kind, T => {
                let new: T = decode(r, new)?;
                c.update(new).map_err(err)?;
            }),
        },
        Storage::Generic | Storage::Events | Storage::Custom => {
            let mut new = new;
            // Admission compares with the object as served (a cluster-scoped one without the
            // store's namespace, see the module note).
            let served_live = render(r, live.clone());
            if r.storage == Storage::Custom {
                let desc = custom_description(c, r, name)?;
                let admitted = match sub {
                    Subresource::Main => {
                        crd::resource::admit_update(&desc, r.version, &served_live, new)
                    }
                    Subresource::Status => {
                        crd::resource::admit_status_update(&desc, r.version, &served_live, new)
                    }
                }
                .map_err(err)?;
                warnings = fv
                    .check(&desc, r.version, &admitted.unknown_fields)
                    .map_err(err)?;
                new = admitted.object;
            }
            if r.kind == CRD_KIND && r.group == "apiextensions.k8s.io" {
                let old: CustomResourceDefinition = decode(r, served_live.clone())?;
                let crd: CustomResourceDefinition = decode(r, new)?;
                let crd = match sub {
                    Subresource::Main => crd::definition::admit_update(&old, crd).map_err(err)?,
                    Subresource::Status => crd,
                };
                new = accept_crd(c, crd, r)?;
            }
            if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                // Identity fields are the server's; put_generic restamps uid and time.
                m.remove("resourceVersion");
            }
            if new == live_without_rv(&served_live) {
                return Ok(Written {
                    object: render(r, live),
                    warnings,
                });
            }
            put_generic_body(c, r, new);
            if r.kind == CRD_KIND {
                refresh_custom_resources(c);
            }
        }
    }
    // An update that removed the last finalizer of an object being deleted deleted it; it
    // answers with that last state.
    let object = lookup(c, r, &key)
        .or_else(|| last_deleted(c, r, &key))
        .map(|v| render(r, v))
        .ok_or_else(|| Status::not_found(r, name))?;
    Ok(Written { object, warnings })
}

/// The last state of an object the change log saw deleted.
fn last_deleted(c: &Cluster, r: &ResourceInfo, key: &ObjectKey) -> Option<Value> {
    let log = c.change_log()?;
    let kind = r.store_kind();
    log.since(log.floor())
        .ok()?
        .filter(|ch| ch.verb == crate::trace::Verb::Deleted && &ch.key == key && ch.kind == kind)
        .last()
        .map(|ch| (*ch.object).clone())
}

fn live_without_rv(live: &Value) -> Value {
    let mut v = live.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    v
}

// ------------------------------------------------------------------------------------ scale

/// GET of the `scale` subresource: an `autoscaling/v1` Scale.
///
/// # Errors
///
/// `NotFound`; `NotFound` too when the resource has no scale subresource.
pub fn get_scale(c: &Cluster, r: &ResourceInfo, namespace: &str, name: &str) -> Result<Value> {
    if !r.has_subresource("scale") {
        return Err(Status::not_found(r, name));
    }
    let live = get(c, r, namespace, name)?;
    let (spec_path, status_path) = scale_paths(c, r);
    let selector = match custom_scale(c, r) {
        Some(scale) => scale
            .label_selector_path
            .and_then(|p| live.pointer(&json_pointer(&p)).cloned())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        None => live
            .pointer("/spec/selector")
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .map(|s| crate::labels::format_selector(&s))
            .unwrap_or_default(),
    };
    let default_replicas = if r.storage == Storage::Custom { 0 } else { 1 };
    let m = &live["metadata"];
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"],
            "namespace": m["namespace"],
            "uid": m["uid"],
            "resourceVersion": m["resourceVersion"],
            "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": live.pointer(&spec_path).cloned().unwrap_or(json!(default_replicas))},
        "status": {
            "replicas": live.pointer(&status_path).cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    }))
}

/// UPDATE of the `scale` subresource: sets `spec.replicas` from an `autoscaling/v1` Scale.
///
/// # Errors
///
/// `NotFound`, `Conflict` on a stale resourceVersion, `Invalid` for negative replicas,
/// `BadRequest` for a body without `spec.replicas`.
pub fn update_scale(
    c: &mut Cluster,
    r: &ResourceInfo,
    namespace: &str,
    name: &str,
    body: &Value,
) -> Result<Value> {
    let live = get(c, r, namespace, name)?;
    if !r.has_subresource("scale") {
        return Err(Status::not_found(r, name));
    }
    if let Some(rv) = resource_version_of(body)
        && Some(rv) != resource_version_of(&live)
    {
        return Err(Status::conflict(r, name));
    }
    let replicas = body
        .pointer("/spec/replicas")
        .map(|v| v.as_i64().ok_or(()))
        .transpose()
        .ok()
        .flatten()
        .unwrap_or(0);
    let Ok(replicas) = i32::try_from(replicas) else {
        return Err(Status::bad_request("spec.replicas is out of range"));
    };
    if replicas < 0 {
        let mut s = Status::from_api(
            ApiError::invalid(
                Kind::Deployment,
                name,
                "spec.replicas",
                &format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            ),
            r,
            name,
        );
        s.message = format!(
            "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
        );
        return Err(s);
    }
    let mut new = live;
    let (spec_path, _) = scale_paths(c, r);
    set_pointer(&mut new, &spec_path, replicas.into());
    update(c, r, namespace, name, new, Subresource::Main)?;
    get_scale(c, r, namespace, name)
}

// ------------------------------------------------------------------------------------ delete

/// `DeleteOptions.propagationPolicy` (or the deprecated `orphanDependents`).
pub fn propagation(policy: Option<&str>, orphan_dependents: Option<bool>) -> Result<Propagation> {
    match policy {
        Some("Orphan") => Ok(Propagation::Orphan),
        Some("Background") => Ok(Propagation::Background),
        Some("Foreground") => Ok(Propagation::Foreground),
        None | Some("") => Ok(if orphan_dependents == Some(true) {
            Propagation::Orphan
        } else {
            Propagation::Background
        }),
        Some(other) => Err(Status::bad_request(format!(
            "DeleteOptions.propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
    }
}

/// DELETE. Returns the object as it was deleted (a pod on a node: with its
/// deletionTimestamp, while the kubelet stops it). A `precondition_rv` other than the live one
/// is a `Conflict`.
///
/// # Errors
///
/// `NotFound`, `Conflict`, `MethodNotAllowed` for engine events.
pub fn delete(
    c: &mut Cluster,
    r: &ResourceInfo,
    namespace: &str,
    name: &str,
    p: Propagation,
    precondition_rv: Option<&str>,
) -> Result<Value> {
    let key = r.key(namespace, name);
    let Some(live) = lookup(c, r, &key) else {
        return Err(Status::not_found(r, name));
    };
    if let Some(rv) = precondition_rv.filter(|s| !s.is_empty())
        && Some(rv) != resource_version_of(&live)
    {
        return Err(Status::conflict(r, name));
    }
    match r.storage {
        Storage::Typed(kind) => {
            c.delete_kind(kind, &key, p)
                .map_err(|e| Status::from_api(e, r, name))?;
        }
        Storage::Generic | Storage::Events | Storage::Custom => {
            if r.kind == "Namespace" {
                delete_namespace_contents(c, name, p);
            }
            let is_crd = r.kind == CRD_KIND && r.storage == Storage::Generic;
            if is_crd && let Ok(crd) = decode::<CustomResourceDefinition>(r, live.clone()) {
                delete_custom_resources(c, &crd::ResourceDescription::from_crd(&crd));
            }
            if !c.delete_generic_with(&r.store_kind(), &key, p) {
                return Err(Status::method_not_allowed(format!(
                    "{} \"{name}\" is recorded by the engine and cannot be deleted",
                    r.qualified()
                )));
            }
            if is_crd {
                refresh_custom_resources(c);
            }
        }
    }
    Ok(render(r, lookup(c, r, &key).unwrap_or(live)))
}

/// Deletes every namespaced object in namespace `ns` (what the namespace controller does
/// before the namespace goes).
fn delete_namespace_contents(c: &mut Cluster, ns: &str, p: Propagation) {
    for r in served(c).iter().filter(|r| r.namespaced) {
        let names: Vec<String> = all_objects(c, r, Some(ns)).iter().map(name_of).collect();
        for name in names {
            let _ = delete(c, r, ns, &name, p, None);
        }
    }
}

/// DELETECOLLECTION: deletes every object of the list `selectors` select. Returns them.
///
/// # Errors
///
/// As [`delete`], for the first object that cannot be deleted.
pub fn delete_collection(
    c: &mut Cluster,
    r: &ResourceInfo,
    namespace: Option<&str>,
    selectors: &Selectors,
    p: Propagation,
) -> Result<Vec<Value>> {
    let targets: Vec<Value> = list(c, r, namespace, selectors, None, None)?.items;
    let mut out = Vec::new();
    for t in targets {
        let ns = t
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        match delete(c, r, &ns, &name_of(&t), p, None) {
            Ok(v) => out.push(v),
            Err(s) if s.code == 404 => {}
            Err(s) => return Err(s),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------- custom resources

/// What a write answers besides its status code: the stored object and the `Warning` headers.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub object: Value,
    /// Texts of `Warning: 299 - "…"` headers: unknown fields under `fieldValidation=Warn`,
    /// a deprecated version's warning.
    pub warnings: Vec<String>,
}

/// The `fieldValidation` query parameter. Upstream's default (since 1.27, when the server
/// honours it) is `Warn`; kubectl sends `Strict` unless `--validate=false`.
///
/// NOTE: only custom resources are checked: built-in kinds are decoded by serde, which
/// drops unknown fields silently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter; empty means `Warn`.
    ///
    /// # Errors
    ///
    /// `BadRequest` with upstream's message for another value.
    pub fn parse(q: Option<&str>) -> Result<Self> {
        match q.unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Ignore" => Ok(FieldValidation::Ignore),
            "Strict" => Ok(FieldValidation::Strict),
            other => Err(Status::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }

    /// The warnings of a custom resource's write that pruned `unknown` fields, or the strict
    /// decoding error.
    fn check(
        self,
        desc: &crd::ResourceDescription,
        version: &str,
        unknown: &[String],
    ) -> Result<Vec<String>, ApiError> {
        let mut warnings: Vec<String> = desc.deprecation_warning(version).into_iter().collect();
        match self {
            FieldValidation::Strict if !unknown.is_empty() => {
                // Wrapped as the handler's `transformDecodeError` wraps decoding errors.
                let mut e = crd::strict_decoding_error(unknown);
                e.message = format!(
                    "{kind} in version {version:?} cannot be handled as a {kind}: {}",
                    e.message,
                    kind = desc.kind,
                );
                return Err(e);
            }
            FieldValidation::Warn => warnings.extend(crd::unknown_field_warnings(unknown)),
            _ => {}
        }
        Ok(warnings)
    }
}

/// The served resources of the Established CRDs: per CRD name, its [`crd::ResourceDescription`]
/// and one [`ResourceInfo`] per served version.
///
/// NOTE: [`ResourceInfo`] holds `&'static str`s. The names of custom resources are interned
/// ([`intern`]): each distinct string is leaked once for the life of the process, so memory
/// grows with the number of distinct names ever served, not with requests or CRD updates.
#[derive(Clone, Debug, Default)]
pub struct CustomResources {
    by_crd: BTreeMap<String, (crd::ResourceDescription, Vec<ResourceInfo>)>,
}

impl CustomResources {
    /// The served resource at `group/version` under `plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<ResourceInfo> {
        self.infos()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Every served version of every Established CRD.
    pub fn infos(&self) -> impl Iterator<Item = ResourceInfo> + '_ {
        self.by_crd
            .values()
            .flat_map(|(_, infos)| infos.iter().copied())
    }

    /// The description of the CRD that serves `plural` in `group`.
    pub fn description(&self, group: &str, plural: &str) -> Option<&crd::ResourceDescription> {
        self.by_crd
            .values()
            .map(|(d, _)| d)
            .find(|d| d.group == group && d.plural == plural)
    }
}

/// `s` as a `&'static str`, leaked at most once per distinct string (see [`CustomResources`]).
pub fn intern(s: &str) -> &'static str {
    static STRINGS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut set = STRINGS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = set.get(s) {
        return s;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn intern_list(items: &[String]) -> &'static [&'static str] {
    static LISTS: std::sync::Mutex<std::collections::BTreeSet<&'static [&'static str]>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let interned: Vec<&'static str> = items.iter().map(|s| intern(s)).collect();
    let mut set = LISTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(l) = set.get(interned.as_slice()) {
        return l;
    }
    let leaked: &'static [&'static str] = Box::leak(interned.into_boxed_slice());
    set.insert(leaked);
    leaked
}

fn info_of(d: &crd::ResourceDescription, v: &crd::VersionDescription) -> ResourceInfo {
    let mut subresources = Vec::new();
    if v.status_subresource {
        subresources.push("status".to_string());
    }
    if v.scale.is_some() {
        subresources.push("scale".to_string());
    }
    ResourceInfo {
        group: intern(&d.group),
        version: intern(&v.name),
        plural: intern(&d.plural),
        singular: intern(&d.singular),
        kind: intern(&d.kind),
        namespaced: d.namespaced,
        short_names: intern_list(&d.short_names),
        categories: intern_list(&d.categories),
        subresources: intern_list(&subresources),
        storage: Storage::Custom,
    }
}

fn stored_crds(c: &Cluster) -> Vec<CustomResourceDefinition> {
    let kind = CRD_KIND.to_ascii_lowercase();
    c.store
        .generic
        .range((kind.clone(), ObjectKey::default())..)
        .take_while(|((k, _), _)| *k == kind)
        .filter_map(|(_, o)| serde_json::from_value(o.value.clone()).ok())
        .collect()
}

/// Rebuilds [`Cluster::custom_resources`] from the stored CRDs: the Established ones serve
/// their served versions.
pub fn refresh_custom_resources(c: &mut Cluster) {
    let mut by_crd = BTreeMap::new();
    for crd in stored_crds(c) {
        let established = crd::definition::condition(&crd, "Established")
            .is_some_and(|cond| cond.status == "True");
        if !established {
            continue;
        }
        let d = crd::ResourceDescription::from_crd(&crd);
        let infos = d
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|v| info_of(&d, v))
            .collect();
        by_crd.insert(crd.metadata.name.clone().unwrap_or_default(), (d, infos));
    }
    c.custom_resources = CustomResources { by_crd };
}

/// An admitted CRD after the naming and establishing controllers (which upstream run within
/// milliseconds of a write), as the JSON to store.
fn accept_crd(c: &Cluster, mut crd: CustomResourceDefinition, r: &ResourceInfo) -> Result<Value> {
    let others = stored_crds(c);
    crd::definition::accept(&mut crd, &others, &c.now().to_time());
    let mut v = serde_json::to_value(&crd)
        .map_err(|e| Status::new(500, "InternalError", format!("encoding {}: {e}", r.kind)))?;
    v["apiVersion"] = r.api_version().into();
    v["kind"] = r.kind.into();
    Ok(v)
}

fn custom_description(
    c: &Cluster,
    r: &ResourceInfo,
    name: &str,
) -> Result<crd::ResourceDescription> {
    c.custom_resources
        .description(r.group, r.plural)
        .cloned()
        .ok_or_else(|| Status::not_found(r, name))
}

/// Deletes every object of the CRD `d` describes (upstream's `customresourcecleanup`
/// finalizer, done at once).
fn delete_custom_resources(c: &mut Cluster, d: &crd::ResourceDescription) {
    let kind = format!("{}.{}", d.kind, d.group);
    let lower = kind.to_ascii_lowercase();
    let keys: Vec<ObjectKey> = c
        .store
        .generic
        .range((lower.clone(), ObjectKey::default())..)
        .take_while(|((k, _), _)| *k == lower)
        .map(|((_, key), _)| key.clone())
        .collect();
    for key in keys {
        c.delete_generic(&kind, &key);
    }
}

fn custom_scale(c: &Cluster, r: &ResourceInfo) -> Option<crd::ScaleDescription> {
    if r.storage != Storage::Custom {
        return None;
    }
    c.custom_resources
        .description(r.group, r.plural)?
        .version(r.version)?
        .scale
        .clone()
}

/// JSON pointers of a resource's desired and current replicas.
fn scale_paths(c: &Cluster, r: &ResourceInfo) -> (String, String) {
    match custom_scale(c, r) {
        Some(s) => (
            json_pointer(&s.spec_replicas_path),
            json_pointer(&s.status_replicas_path),
        ),
        None => ("/spec/replicas".into(), "/status/replicas".into()),
    }
}

/// `.spec.replicas` → `/spec/replicas` (the simple JSONPaths scale subresources allow).
fn json_pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |acc, p| format!("{acc}/{p}"))
}

/// Sets the value at `pointer`, creating objects on the way.
fn set_pointer(v: &mut Value, pointer: &str, value: Value) {
    let mut cur = v;
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            obj.insert((*p).to_string(), value);
            return;
        }
        cur = obj.entry((*p).to_string()).or_insert_with(|| json!({}));
    }
}

/// Names of objects by kind, for reports: `{"Deployment": ["default/web"]}`.
pub fn inventory(c: &Cluster) -> BTreeMap<&'static str, Vec<String>> {
    let mut out = BTreeMap::new();
    for r in RESOURCES.iter().filter(|r| stored_as(r).is_none()) {
        let names: Vec<String> = all_objects(c, r, None)
            .iter()
            .map(|o| object_key(r, o).to_string())
            .collect();
        out.insert(r.kind, names);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClusterConfig;
    use crate::Millis;

    fn cluster() -> Cluster {
        let mut c = Cluster::new(ClusterConfig::default());
        c.enable_change_log(10_000);
        install_namespaces(&mut c);
        c
    }

    fn deployments() -> &'static ResourceInfo {
        find("apps", "v1", "deployments").unwrap()
    }

    fn deployment(name: &str, replicas: i32) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
                },
            },
        })
    }

    #[test]
    fn create_get_list_update_delete_a_deployment() {
        let mut c = cluster();
        let r = deployments();
        let created = create(&mut c, r, "default", deployment("web", 2)).unwrap();
        // Defaulted by the engine's admission.
        assert_eq!(created["spec"]["strategy"]["type"], "RollingUpdate");
        assert_eq!(created["metadata"]["generation"], 1);
        c.settle();
        let got = get(&c, r, "default", "web").unwrap();
        assert_eq!(got["metadata"]["uid"], created["metadata"]["uid"]);

        let mut changed = got.clone();
        changed["spec"]["replicas"] = 3.into();
        let updated = update(&mut c, r, "default", "web", changed, Subresource::Main).unwrap();
        assert_eq!(updated["spec"]["replicas"], 3);
        assert_eq!(updated["metadata"]["generation"], 2);
        c.settle();

        let pods = find("", "v1", "pods").unwrap();
        let sel = Selectors::parse("Pod", Some("app=web"), None).unwrap();
        assert_eq!(
            list(&c, pods, Some("default"), &sel, None, None)
                .unwrap()
                .items
                .len(),
            3
        );
        let none = Selectors::parse("Pod", Some("app in (db,cache)"), None).unwrap();
        assert!(
            list(&c, pods, None, &none, None, None)
                .unwrap()
                .items
                .is_empty()
        );

        delete(&mut c, r, "default", "web", Propagation::Background, None).unwrap();
        assert_eq!(get(&c, r, "default", "web").unwrap_err().code, 404);
    }

    #[test]
    fn a_crd_serves_its_kind_with_its_scale_paths_until_it_is_deleted() {
        let mut c = cluster();
        let crds = find("apiextensions.k8s.io", "v1", "customresourcedefinitions").unwrap();
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com", "scope": "Cluster",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer", "minimum": 0}}},
                        "status": {"type": "object", "properties": {
                            "size": {"type": "integer"}}}}}},
                    "subresources": {"status": {}, "scale": {
                        "specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size"}}}]
            }
        });
        assert!(find_in(&c, "example.com", "v1", "widgets").is_none());
        create(&mut c, crds, "default", crd).unwrap();
        let w = find_in(&c, "example.com", "v1", "widgets").expect("served once Established");
        assert_eq!(w.store_kind(), "Widget.example.com");
        assert_eq!(w.subresources, &["status", "scale"]);
        let obj = create(
            &mut c,
            &w,
            "default",
            json!({"metadata": {"name": "a"}, "spec": {"size": 2}}),
        )
        .unwrap();
        assert_eq!(obj["apiVersion"], "example.com/v1");
        assert_eq!(obj["metadata"].get("namespace"), None, "cluster-scoped");
        let mut scale = get_scale(&c, &w, "default", "a").unwrap();
        assert_eq!(scale["spec"]["replicas"], 2);
        scale["spec"]["replicas"] = 5.into();
        update_scale(&mut c, &w, "default", "a", &scale).unwrap();
        assert_eq!(get(&c, &w, "default", "a").unwrap()["spec"]["size"], 5);

        delete(
            &mut c,
            crds,
            "default",
            "widgets.example.com",
            Propagation::Background,
            None,
        )
        .unwrap();
        assert!(find_in(&c, "example.com", "v1", "widgets").is_none());
        assert!(
            !c.store
                .generic
                .keys()
                .any(|(k, _)| k == "widget.example.com"),
            "the CRD's objects go with it"
        );
    }

    #[test]
    fn a_stale_resource_version_is_a_conflict_with_upstreams_message() {
        let mut c = cluster();
        let r = deployments();
        let first = create(&mut c, r, "default", deployment("web", 1)).unwrap();
        c.settle();
        let mut fresh = get(&c, r, "default", "web").unwrap();
        fresh["spec"]["replicas"] = 2.into();
        update(&mut c, r, "default", "web", fresh, Subresource::Main).unwrap();
        let mut stale = first;
        stale["spec"]["replicas"] = 5.into();
        let e = update(&mut c, r, "default", "web", stale, Subresource::Main).unwrap_err();
        assert_eq!((e.code, e.reason), (409, "Conflict"));
        assert_eq!(
            e.message,
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
        );
    }

    #[test]
    fn invalid_objects_are_refused_with_field_causes() {
        let mut c = cluster();
        let e = create(&mut c, deployments(), "default", deployment("web", -1)).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        let causes = &e.details.as_ref().unwrap().causes;
        assert_eq!(causes[0].2, "spec.replicas");
        assert_eq!(causes[0].0, "FieldValueInvalid");
    }

    #[test]
    fn creating_in_a_missing_namespace_is_not_found_and_duplicates_already_exist() {
        let mut c = cluster();
        let r = find("", "v1", "configmaps").unwrap();
        let cm = json!({"metadata": {"name": "x"}, "data": {"a": "1"}});
        let e = create(&mut c, r, "nope", cm.clone()).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (404, "namespaces \"nope\" not found")
        );
        create(&mut c, r, "default", cm.clone()).unwrap();
        let e = create(&mut c, r, "default", cm).unwrap_err();
        assert_eq!((e.code, e.reason), (409, "AlreadyExists"));
        assert_eq!(e.message, "configmaps \"x\" already exists");
    }

    #[test]
    fn status_updates_change_only_the_status_and_scale_sets_replicas() {
        let mut c = cluster();
        let r = deployments();
        create(&mut c, r, "default", deployment("web", 1)).unwrap();
        c.settle();
        let scale = get_scale(&c, r, "default", "web").unwrap();
        assert_eq!(scale["spec"]["replicas"], 1);
        assert_eq!(scale["status"]["selector"], "app=web");
        let mut s = scale.clone();
        s["spec"]["replicas"] = 4.into();
        let after = update_scale(&mut c, r, "default", "web", &s).unwrap();
        assert_eq!(after["spec"]["replicas"], 4);
        let e = update_scale(&mut c, r, "default", "web", &scale).unwrap_err();
        assert_eq!(
            e.code, 409,
            "the first Scale's resourceVersion is stale now"
        );

        let mut body = get(&c, r, "default", "web").unwrap();
        body["spec"]["replicas"] = 9.into();
        body["status"]["observedGeneration"] = 42.into();
        let out = update(&mut c, r, "default", "web", body, Subresource::Status).unwrap();
        assert_eq!(
            out["spec"]["replicas"], 4,
            "a status update ignores the spec"
        );
        assert_eq!(out["status"]["observedGeneration"], 42);
    }

    #[test]
    fn field_selectors_pick_pods_by_phase_and_node_and_refuse_unknown_fields() {
        let mut c = cluster();
        create(&mut c, deployments(), "default", deployment("web", 3)).unwrap();
        c.run_until(Millis::from_secs(30));
        let pods = find("", "v1", "pods").unwrap();
        let running = Selectors::parse("Pod", None, Some("status.phase=Running")).unwrap();
        assert_eq!(
            list(&c, pods, None, &running, None, None)
                .unwrap()
                .items
                .len(),
            3
        );
        let on = Selectors::parse("Pod", None, Some("spec.nodeName=nowhere")).unwrap();
        assert!(
            list(&c, pods, None, &on, None, None)
                .unwrap()
                .items
                .is_empty()
        );
        let e = Selectors::parse("Deployment", None, Some("spec.replicas=1")).unwrap_err();
        assert_eq!(e.message, "field label not supported: spec.replicas");
        // Paging: two pages of 2 and 1.
        let all = Selectors::default();
        let p1 = list(&c, pods, None, &all, Some(2), None).unwrap();
        assert_eq!(
            (p1.items.len(), p1.continue_token.as_deref()),
            (2, Some("2"))
        );
        let p2 = list(&c, pods, None, &all, Some(2), p1.continue_token.as_deref()).unwrap();
        assert_eq!((p2.items.len(), p2.continue_token), (1, None));
    }

    #[test]
    fn the_change_log_records_every_write_in_strictly_increasing_order() {
        let mut c = cluster();
        let floor = c
            .change_log()
            .unwrap()
            .iter()
            .last()
            .unwrap()
            .resource_version;
        create(&mut c, deployments(), "default", deployment("web", 2)).unwrap();
        c.run_until(Millis::from_secs(30));
        delete(
            &mut c,
            deployments(),
            "default",
            "web",
            Propagation::Background,
            None,
        )
        .unwrap();
        c.run_until(Millis::from_secs(60));
        let log = c.change_log().unwrap();
        let rvs: Vec<u64> = log
            .since(floor)
            .unwrap()
            .map(|e| e.resource_version)
            .collect();
        assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{rvs:?}");
        assert_eq!(*rvs.last().unwrap(), c.resource_version());
        // Each entry's object carries its own resourceVersion: every intermediate state.
        for e in log.since(floor).unwrap() {
            assert_eq!(
                e.object["metadata"]["resourceVersion"],
                e.resource_version.to_string(),
                "{} {}",
                e.kind,
                e.key
            );
        }
        let kinds: Vec<(&str, crate::trace::Verb)> = log
            .since(floor)
            .unwrap()
            .filter(|e| e.kind == "Deployment")
            .map(|e| (e.kind.as_str(), e.verb))
            .collect();
        assert_eq!(kinds.first().unwrap().1, crate::trace::Verb::Added);
        assert_eq!(kinds.last().unwrap().1, crate::trace::Verb::Deleted);
        // The pods went too (Background propagation), each with a DELETED entry.
        let deleted_pods = log
            .since(floor)
            .unwrap()
            .filter(|e| e.kind == "Pod" && e.verb == crate::trace::Verb::Deleted)
            .count();
        assert_eq!(deleted_pods, 2);
    }

    #[test]
    fn label_selector_syntax() {
        let r = parse_label_selector("app=web, tier in (a, b),!canary,env!=prod,x notin (y),z")
            .unwrap();
        assert_eq!(
            r,
            vec![
                LabelRequirement::Equals("app".into(), "web".into()),
                LabelRequirement::In("tier".into(), vec!["a".into(), "b".into()]),
                LabelRequirement::DoesNotExist("canary".into()),
                LabelRequirement::NotEquals("env".into(), "prod".into()),
                LabelRequirement::NotIn("x".into(), vec!["y".into()]),
                LabelRequirement::Exists("z".into()),
            ]
        );
    }

    /// One request of a random sequence.
    #[derive(Clone, Debug)]
    enum Op {
        CreateMap(u8),
        UpdateMap(u8, u8),
        DeleteMap(u8),
        CreateDeployment(u8, u8),
        ScaleDeployment(u8, u8),
        DeleteDeployment(u8),
        Advance(u16),
        /// Take the snapshot a watcher would list at this point.
        Snapshot,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0..4u8).prop_map(Op::CreateMap),
            (0..4u8, 0..8u8).prop_map(|(a, b)| Op::UpdateMap(a, b)),
            (0..4u8).prop_map(Op::DeleteMap),
            (0..2u8, 0..4u8).prop_map(|(a, b)| Op::CreateDeployment(a, b)),
            (0..2u8, 0..4u8).prop_map(|(a, b)| Op::ScaleDeployment(a, b)),
            (0..2u8).prop_map(Op::DeleteDeployment),
            (1..30_000u16).prop_map(Op::Advance),
            Just(Op::Snapshot),
        ]
    }

    /// Every stored object of the watched resources, by (kind, key), with its JSON.
    fn state(c: &Cluster) -> BTreeMap<(String, ObjectKey), Value> {
        let mut out = BTreeMap::new();
        for plural in ["configmaps", "pods", "deployments", "replicasets"] {
            let r = RESOURCES.iter().find(|r| r.plural == plural).unwrap();
            for o in list(c, r, None, &Selectors::default(), None, None)
                .unwrap()
                .items
            {
                out.insert((r.kind.to_string(), object_key(r, &o)), o);
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Whatever the requests, resourceVersions strictly increase along the change log, and
        /// a watcher that listed at some point and then replays the log from that List's
        /// resourceVersion ends with exactly the objects a List shows now.
        #[test]
        fn a_watch_replays_exactly_the_changes_after_its_resource_version(
            ops in proptest::collection::vec(op(), 1..40)
        ) {
            let mut c = cluster();
            let mut snapshot = (state(&c), c.resource_version());
            let maps = find("", "v1", "configmaps").unwrap();
            for op in ops {
                // Refused requests (duplicates, missing objects) are part of the sequence.
                let _ = match op {
                    Op::CreateMap(i) => create(&mut c, maps, "default", json!({"metadata": {"name": format!("m{i}")}, "data": {"v": "0"}})).map(drop),
                    Op::UpdateMap(i, v) => get(&c, maps, "default", &format!("m{i}")).and_then(|mut o| {
                        o["data"]["v"] = v.to_string().into();
                        update(&mut c, maps, "default", &format!("m{i}"), o, Subresource::Main).map(drop)
                    }),
                    Op::DeleteMap(i) => delete(&mut c, maps, "default", &format!("m{i}"), Propagation::Background, None).map(drop),
                    Op::CreateDeployment(i, n) => create(&mut c, deployments(), "default", deployment(&format!("d{i}"), i32::from(n))).map(drop),
                    Op::ScaleDeployment(i, n) => get_scale(&c, deployments(), "default", &format!("d{i}")).and_then(|mut s| {
                        s["spec"]["replicas"] = n.into();
                        update_scale(&mut c, deployments(), "default", &format!("d{i}"), &s).map(drop)
                    }),
                    Op::DeleteDeployment(i) => delete(&mut c, deployments(), "default", &format!("d{i}"), Propagation::Background, None).map(drop),
                    Op::Advance(ms) => {
                        let until = c.now() + Millis(u64::from(ms));
                        c.run_until(until);
                        Ok(())
                    }
                    Op::Snapshot => {
                        snapshot = (state(&c), c.resource_version());
                        Ok(())
                    }
                };
                c.settle();
            }
            let log = c.change_log().unwrap();
            let rvs: Vec<u64> = log.iter().map(|e| e.resource_version).collect();
            proptest::prop_assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{:?}", rvs);
            let (mut replayed, from) = snapshot;
            for e in log.since(from).unwrap() {
                if !["ConfigMap", "Pod", "Deployment", "ReplicaSet"].contains(&e.kind.as_str()) {
                    continue;
                }
                let k = (e.kind.clone(), e.key.clone());
                match e.verb {
                    crate::trace::Verb::Deleted => {
                        proptest::prop_assert!(replayed.remove(&k).is_some(), "DELETED {:?} never seen", k);
                    }
                    _ => {
                        let r = find_kind(&e.kind).unwrap();
                        replayed.insert(k, render(r, (*e.object).clone()));
                    }
                }
            }
            let now = state(&c);
            proptest::prop_assert_eq!(replayed.keys().collect::<Vec<_>>(), now.keys().collect::<Vec<_>>());
            proptest::prop_assert!(replayed == now, "replayed objects differ from the List");
        }
    }
}

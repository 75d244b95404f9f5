//! Server-side apply and field ownership (`metadata.managedFields`), after upstream's
//! `sigs.k8s.io/structured-merge-diff` (`merge.Updater.Apply`/`Update`) and the apiserver's
//! `fieldmanager`. See [`apply`] and [`update_managed_fields`].
//!
//! A field is named by a path of [`PathElement`]s (`.spec.template.spec.containers[name="web"]
//! .image`); a manager owns a [`FieldSet`] of such paths, stored as `fieldsV1`
//! (`{"f:spec":{"f:replicas":{}}}`). The schema decides how lists are named: associative lists
//! (`+listType=map`) by their keys (`k:{"name":"web"}`), sets by value (`v:"x"`), and every
//! other list is atomic: one leaf owned whole. Maps are granular unless the struct is
//! `+structType=atomic` (label selectors). The schema is [`meta`] for the built-in kinds, and a
//! custom resource's OpenAPI schema when the caller passes one ([`TypeRef::openapi_schema`]).
//!
//! Kept from upstream:
//! - apply merges the configuration into the live object (associative lists element-wise, in
//!   upstream's `visitListItems` order) and owns exactly the configuration's fields;
//! - a field the same manager applied before and no longer applies is removed, unless another
//!   manager owns it (or something below it);
//! - a field owned by another manager with a different value is a conflict, listed per manager
//!   with upstream's message; with `force` the ownership moves instead;
//! - an update (any non-apply write) takes ownership of what it changed, from everyone;
//! - the first apply to an object without `managedFields` gives the existing fields to
//!   `before-first-apply`;
//! - `apiVersion`, `kind` and server-set metadata are never owned; `status` of a kind with a
//!   status subresource is ignored by an apply to the main resource.
//!
//! Left out: `null` in an applied configuration (dropped, as if absent), ownership of a field
//! through an ancestor owned as a leaf, conversion between versions (an applier's fields are
//! kept in the version it applied), and the cap of ten update managers (`ancient-changes`).
//!
//! [`meta`]: super::meta

use super::meta::{ListType, Schema, schema_for};
use super::{Conflict, PatchError, Result, TypeRef};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The manager upstream gives the fields of an object that had none when first applied to.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// One step of a field path (`fieldpath.PathElement`). Ordered as upstream's `Compare`: fields,
/// then keys, then values, then indices.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    /// `f:replicas`
    Field(String),
    /// `k:{"name":"web"}`: the key fields of an associative list element, sorted by name, each
    /// value as compact JSON.
    Key(Vec<(String, String)>),
    /// `v:"x"`: an element of a set, as compact JSON.
    Value(String),
    /// `i:0`: an element of a list the schema does not know how to name.
    Index(usize),
}

impl PathElement {
    /// The `fieldsV1` key.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(f) => format!("f:{f}"),
            PathElement::Key(kv) => {
                let body: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                    .collect();
                format!("k:{{{}}}", body.join(","))
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a `fieldsV1` key; `None` for anything else (including `.`).
    pub fn from_fields_v1_key(s: &str) -> Option<PathElement> {
        let (prefix, rest) = s.split_once(':')?;
        match prefix {
            "f" => Some(PathElement::Field(rest.to_string())),
            "v" => {
                let v: Value = serde_json::from_str(rest).ok()?;
                Some(PathElement::Value(v.to_string()))
            }
            "k" => {
                let Value::Object(m) = serde_json::from_str(rest).ok()? else {
                    return None;
                };
                let mut kv: Vec<(String, String)> =
                    m.into_iter().map(|(k, v)| (k, v.to_string())).collect();
                kv.sort();
                Some(PathElement::Key(kv))
            }
            "i" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }
}

impl std::fmt::Display for PathElement {
    /// As upstream's `PathElement.String`: `.image`, `[name="web"]`, `[="x"]`, `[0]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathElement::Field(n) => write!(f, ".{n}"),
            PathElement::Key(kv) => {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "[{}]", body.join(","))
            }
            PathElement::Value(v) => write!(f, "[={v}]"),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

pub type Path = Vec<PathElement>;

/// `.spec.template.spec.containers[name="web"].image`
pub fn path_string(p: &[PathElement]) -> String {
    p.iter().map(ToString::to_string).collect()
}

/// A set of field paths (`fieldpath.Set`): every path is a member on its own, so a list element
/// `k:{...}` and its `f:image` are two members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(pub BTreeSet<Path>);

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, p: &[PathElement]) -> bool {
        self.0.contains(p)
    }

    /// Whether `p` or a path below it is a member.
    pub fn contains_prefixed(&self, p: &[PathElement]) -> bool {
        self.0
            .range(p.to_vec()..)
            .next()
            .is_some_and(|q| q.starts_with(p))
    }

    /// Encodes as `fieldsV1`: a member that has members below it carries `".": {}`.
    pub fn to_fields_v1(&self) -> Value {
        #[derive(Default)]
        struct Node {
            member: bool,
            children: BTreeMap<PathElement, Node>,
        }
        fn encode(n: &Node) -> Value {
            let mut m = Map::new();
            if n.member && !n.children.is_empty() {
                m.insert(".".into(), Value::Object(Map::new()));
            }
            for (pe, c) in &n.children {
                m.insert(pe.to_fields_v1_key(), encode(c));
            }
            Value::Object(m)
        }
        let mut root = Node::default();
        for p in &self.0 {
            let mut n = &mut root;
            for pe in p {
                n = n.children.entry(pe.clone()).or_default();
            }
            n.member = true;
        }
        encode(&root)
    }

    /// Decodes `fieldsV1`; `None` when it is not a valid encoding.
    pub fn from_fields_v1(v: &Value) -> Option<FieldSet> {
        fn walk(v: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) -> Option<()> {
            let Value::Object(m) = v else {
                return None;
            };
            if m.is_empty() && !prefix.is_empty() {
                out.insert(prefix.clone());
            }
            for (k, child) in m {
                if k == "." {
                    if !prefix.is_empty() {
                        out.insert(prefix.clone());
                    }
                    continue;
                }
                prefix.push(PathElement::from_fields_v1_key(k)?);
                walk(child, prefix, out)?;
                prefix.pop();
            }
            Some(())
        }
        let mut out = BTreeSet::new();
        walk(v, &mut Vec::new(), &mut out)?;
        Some(FieldSet(out))
    }
}

/// The paths never owned (upstream's `stripMetaManager`): type and server-set metadata.
fn is_stripped(p: &[PathElement]) -> bool {
    let field = |i: usize| match p.get(i) {
        Some(PathElement::Field(f)) => Some(f.as_str()),
        _ => None,
    };
    match (field(0), p.len()) {
        (Some("apiVersion" | "kind"), 1) => true,
        (Some("metadata"), 1) => true,
        (Some("metadata"), _) => {
            matches!(
                field(1),
                Some(
                    "name"
                        | "namespace"
                        | "creationTimestamp"
                        | "selfLink"
                        | "uid"
                        | "clusterName"
                        | "generation"
                        | "managedFields"
                        | "resourceVersion"
                )
            ) && (p.len() == 2 || field(1) == Some("managedFields"))
        }
        _ => false,
    }
}

/// The key fields of an associative list (`+listMapKey`), each with its default as compact JSON:
/// upstream fills a missing key from the schema's default (`protocol: TCP` on ports).
type Keys<'a> = Vec<(&'a str, Option<String>)>;

/// The key of an associative list element, or `None` when a key without default is missing.
fn key_of(elem: &Value, keys: &[(&str, Option<String>)]) -> Option<PathElement> {
    let m = elem.as_object()?;
    let mut kv = Vec::with_capacity(keys.len());
    for (k, default) in keys {
        let v = match (m.get(*k), default) {
            (Some(v), _) => v.to_string(),
            (None, Some(d)) => d.clone(),
            (None, None) => return None,
        };
        kv.push((k.to_string(), v));
    }
    kv.sort();
    Some(PathElement::Key(kv))
}

/// How a list field is owned and merged.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ListKind<'a> {
    Atomic,
    Set,
    Map(Keys<'a>),
}

/// A position in the schema apply walks: the built-in table ([`meta`]), or a custom resource's
/// OpenAPI v3 schema (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
/// `x-kubernetes-map-type`), as structured-merge-diff reads a CRD's.
///
/// [`meta`]: super::meta
#[derive(Clone, Copy, Debug)]
enum Node<'a> {
    Builtin(Schema),
    OpenApi(Option<&'a Value>),
}

impl<'a> Node<'a> {
    fn for_type(ty: TypeRef<'a>) -> Node<'a> {
        match (schema_for(ty.api_version, ty.kind), ty.openapi_schema) {
            (Some(s), _) => Node::Builtin(s),
            (None, Some(v)) => Node::OpenApi(Some(v)),
            (None, None) => Node::Builtin(Schema::UNKNOWN),
        }
    }

    /// The OpenAPI schema of property `name` of an object schema (or of its map values).
    fn property(v: &'a Value, name: &str) -> Option<&'a Value> {
        v.get("properties")
            .and_then(|p| p.get(name))
            .or_else(|| v.get("additionalProperties").filter(|a| a.is_object()))
    }

    /// The schema of field `name`'s value, or of each element when it is a list.
    fn child(self, name: &str) -> Node<'a> {
        match self {
            Node::Builtin(s) => Node::Builtin(s.child(name)),
            Node::OpenApi(v) => {
                let f = v.and_then(|v| Self::property(v, name));
                Node::OpenApi(match f {
                    Some(f) if f.get("type").and_then(Value::as_str) == Some("array") => {
                        f.get("items")
                    }
                    other => other,
                })
            }
        }
    }

    fn list_kind(self, name: &str) -> ListKind<'a> {
        match self {
            Node::Builtin(s) => match s.field(name).list_type {
                ListType::Atomic => ListKind::Atomic,
                ListType::Set => ListKind::Set,
                ListType::Map(keys) => ListKind::Map(
                    keys.iter()
                        .map(|k| (*k, (*k == "protocol").then(|| "\"TCP\"".to_string())))
                        .collect(),
                ),
            },
            Node::OpenApi(v) => {
                let Some(f) = v.and_then(|v| Self::property(v, name)) else {
                    return ListKind::Atomic;
                };
                match f.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListKind::Set,
                    Some("map") => {
                        let keys: Keys<'a> = f
                            .get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                            .unwrap_or_default()
                            .into_iter()
                            .map(|k| {
                                let default = f
                                    .pointer("/items/properties")
                                    .and_then(|p| p.get(k))
                                    .and_then(|p| p.get("default"))
                                    .map(Value::to_string);
                                (k, default)
                            })
                            .collect();
                        // A map list without keys cannot name its items: atomic.
                        if keys.is_empty() {
                            ListKind::Atomic
                        } else {
                            ListKind::Map(keys)
                        }
                    }
                    _ => ListKind::Atomic,
                }
            }
        }
    }

    /// `+structType=atomic` / `x-kubernetes-map-type: atomic`.
    fn is_atomic(self) -> bool {
        match self {
            Node::Builtin(s) => s.is_atomic(),
            Node::OpenApi(v) => v.is_some_and(|v| {
                v.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
            }),
        }
    }
}

/// The set of fields `v`, an object of type `ty`, sets (`ToFieldSet`). With `strict`, an
/// associative list element without its keys is an error (an applied configuration); otherwise
/// it is named by index (a stored object).
pub fn field_set(ty: TypeRef<'_>, v: &Value, strict: bool) -> Result<FieldSet> {
    field_set_at(Node::for_type(ty), v, strict)
}

fn field_set_at(node: Node<'_>, v: &Value, strict: bool) -> Result<FieldSet> {
    let mut out = BTreeSet::new();
    if let Value::Object(m) = v {
        walk_map(m, node, &mut Vec::new(), &mut out, strict)?;
    }
    out.retain(|p| !is_stripped(p));
    Ok(FieldSet(out))
}

fn walk_map(
    m: &Map<String, Value>,
    schema: Node<'_>,
    prefix: &mut Path,
    out: &mut BTreeSet<Path>,
    strict: bool,
) -> Result<()> {
    for (k, v) in m {
        prefix.push(PathElement::Field(k.clone()));
        walk_value(v, schema, k, prefix, out, strict)?;
        prefix.pop();
    }
    Ok(())
}

fn walk_value(
    v: &Value,
    parent: Node<'_>,
    name: &str,
    prefix: &mut Path,
    out: &mut BTreeSet<Path>,
    strict: bool,
) -> Result<()> {
    let sub = parent.child(name);
    match v {
        Value::Object(m) if !m.is_empty() && !sub.is_atomic() => {
            walk_map(m, sub, prefix, out, strict)?;
        }
        Value::Array(items) if !items.is_empty() => match parent.list_kind(name) {
            ListKind::Atomic => {
                out.insert(prefix.clone());
            }
            ListKind::Set => {
                for item in items {
                    prefix.push(PathElement::Value(item.to_string()));
                    out.insert(prefix.clone());
                    prefix.pop();
                }
            }
            ListKind::Map(keys) => {
                for (i, item) in items.iter().enumerate() {
                    let pe = match key_of(item, &keys) {
                        Some(pe) => pe,
                        None if strict => {
                            return Err(PatchError::BadRequest(format!(
                                "{}: element {i}: associative list with keys has an element that omits key field {:?} (and doesn't have default value)",
                                path_string(prefix),
                                keys.iter()
                                    .find(|(k, _)| item.get(*k).is_none())
                                    .map(|(k, _)| *k)
                                    .unwrap_or_default()
                            )));
                        }
                        None => PathElement::Index(i),
                    };
                    prefix.push(pe);
                    out.insert(prefix.clone());
                    if let Value::Object(m) = item {
                        walk_map(m, sub, prefix, out, strict)?;
                    }
                    prefix.pop();
                }
            }
        },
        _ => {
            out.insert(prefix.clone());
        }
    }
    Ok(())
}

/// The value at `p` in `v`.
pub fn value_at<'a>(v: &'a Value, p: &[PathElement]) -> Option<&'a Value> {
    let mut cur = v;
    for pe in p {
        cur = match (pe, cur) {
            (PathElement::Field(f), Value::Object(m)) => m.get(f)?,
            (PathElement::Index(i), Value::Array(a)) => a.get(*i)?,
            (PathElement::Value(s), Value::Array(a)) => a.iter().find(|x| is_json_text(x, s))?,
            (PathElement::Key(kv), Value::Array(a)) => a.iter().find(|x| matches_key(x, kv))?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Whether `v` serializes to `text` (how set elements are named).
///
/// NOTE: not `*v == *text`: `Value: PartialEq<String>` compares a JSON string's content.
fn is_json_text(v: &Value, text: &str) -> bool {
    serde_json::to_string(v).is_ok_and(|t| t == text)
}

/// Whether `elem` is the element `kv` names. A missing `protocol` matches its default `TCP`
/// (the one defaulted key among the built-in kinds).
fn matches_key(elem: &Value, kv: &[(String, String)]) -> bool {
    let keys: Keys<'_> = kv
        .iter()
        .map(|(k, _)| (k.as_str(), (k == "protocol").then(|| "\"TCP\"".to_string())))
        .collect();
    matches!(key_of(elem, &keys), Some(PathElement::Key(k)) if k == kv)
}

/// Removes the value at `p` from `v`, if there.
fn remove_at(v: &mut Value, p: &[PathElement]) {
    let Some((last, parent_path)) = p.split_last() else {
        return;
    };
    let mut cur = v;
    for pe in parent_path {
        let next = match (pe, cur) {
            (PathElement::Field(f), Value::Object(m)) => m.get_mut(f),
            (PathElement::Index(i), Value::Array(a)) => a.get_mut(*i),
            (PathElement::Value(s), Value::Array(a)) => a.iter_mut().find(|x| is_json_text(x, s)),
            (PathElement::Key(kv), Value::Array(a)) => a.iter_mut().find(|x| matches_key(x, kv)),
            _ => None,
        };
        let Some(next) = next else {
            return;
        };
        cur = next;
    }
    match (last, cur) {
        (PathElement::Field(f), Value::Object(m)) => {
            m.remove(f);
        }
        (PathElement::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        (PathElement::Value(s), Value::Array(a)) => a.retain(|x| !is_json_text(x, s)),
        (PathElement::Key(kv), Value::Array(a)) => a.retain(|x| !matches_key(x, kv)),
        _ => {}
    }
}

/// One `metadata.managedFields` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedFieldsEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl ManagedFieldsEntry {
    /// Upstream's `BuildManagerIdentifier`: appliers are one manager across versions, updaters
    /// one per version.
    fn same_manager(
        &self,
        manager: &str,
        operation: &str,
        api_version: &str,
        subresource: Option<&str>,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
            && (operation == "Apply" || self.api_version == api_version)
    }

    /// As upstream's `printManager` in conflict messages.
    fn printed(&self) -> String {
        let mut name = Value::String(self.manager.clone()).to_string();
        if let Some(sub) = &self.subresource {
            name = format!("{name} with subresource {}", Value::String(sub.clone()));
        }
        if self.operation != "Update" {
            return name;
        }
        match &self.time {
            Some(t) => format!("{name} using {} at {t}", self.api_version),
            None => format!("{name} using {}", self.api_version),
        }
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), Value::String(self.manager.clone()));
        m.insert("operation".into(), Value::String(self.operation.clone()));
        m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        if let Some(t) = &self.time {
            m.insert("time".into(), Value::String(t.clone()));
        }
        m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), Value::String(s.clone()));
        }
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Option<ManagedFieldsEntry> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(ManagedFieldsEntry {
            manager: s("manager").unwrap_or_default(),
            operation: s("operation")?,
            api_version: s("apiVersion").unwrap_or_default(),
            time: s("time"),
            subresource: s("subresource"),
            fields: match v.get("fieldsV1") {
                Some(f) => FieldSet::from_fields_v1(f)?,
                None => FieldSet::default(),
            },
        })
    }
}

/// The managed fields recorded on `obj`; `None` when there are none or they do not decode
/// (upstream then treats the object as unmanaged).
pub fn managed_fields(obj: &Value) -> Option<Vec<ManagedFieldsEntry>> {
    let list = obj.pointer("/metadata/managedFields")?.as_array()?;
    if list.is_empty() {
        return None;
    }
    list.iter().map(ManagedFieldsEntry::from_json).collect()
}

/// Writes `entries` to `obj.metadata.managedFields`, sorted as upstream's
/// `sortEncodedManagedFields` (operation, time, manager, apiVersion, subresource); empty sets
/// are dropped.
fn set_managed_fields(obj: &mut Value, mut entries: Vec<ManagedFieldsEntry>) {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        let key = |e: &'_ ManagedFieldsEntry| {
            (
                e.operation.clone(),
                e.time.clone(),
                e.manager.clone(),
                e.api_version.clone(),
                e.subresource.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let Value::Object(root) = obj else {
        return;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        if entries.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert(
                "managedFields".into(),
                Value::Array(entries.iter().map(ManagedFieldsEntry::to_json).collect()),
            );
        }
    }
}

/// Kinds whose `status` is a subresource: writes to the main resource leave it alone.
fn has_status_subresource(ty: TypeRef<'_>) -> bool {
    !matches!(
        ty.kind,
        "ConfigMap"
            | "Secret"
            | "Event"
            | "Endpoints"
            | "EndpointSlice"
            | "ControllerRevision"
            | "PodTemplate"
    ) && schema_for(ty.api_version, ty.kind).is_some()
}

/// Decodes an `application/apply-patch+yaml` body: YAML, of which JSON is a subset.
///
/// # Errors
///
/// `BadRequest` (`error decoding YAML: ...`) when it is neither.
pub fn decode_apply_body(body: &[u8]) -> Result<Value> {
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| PatchError::BadRequest(format!("error decoding YAML: {e}")))?;
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        // The parser's message carries a source snippet on further lines; a Status has one line.
        let e = e.to_string();
        let first = e.lines().next().unwrap_or_default();
        PatchError::BadRequest(format!("error decoding YAML: {first}"))
    })
}

/// Drops `null` members, at any depth.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Server-side apply of `config` by `field_manager` to `live` (or to nothing: apply creates),
/// as `merge.Updater.Apply` behind the apiserver's field manager. Returns the new object with
/// its `metadata.managedFields`; `now` stamps the applier's entry.
///
/// # Errors
///
/// - `BadRequest` when `config` is not an object, names another apiVersion or kind, sets
///   `metadata.managedFields`, or has an associative list element without its key;
/// - `Conflict` when it would change fields other managers own, unless `force`.
pub fn apply(
    ty: TypeRef<'_>,
    live: Option<&Value>,
    config: &Value,
    field_manager: &str,
    force: bool,
    now: &str,
) -> Result<Value> {
    let Value::Object(_) = config else {
        return Err(PatchError::BadRequest(
            "error decoding YAML: the apply configuration is not an object".into(),
        ));
    };
    let cfg_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if cfg_version != ty.api_version {
        return Err(PatchError::BadRequest(format!(
            "Incorrect version specified in apply patch. Specified patch version: {cfg_version}, expected: {}",
            ty.api_version
        )));
    }
    let cfg_kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
    if cfg_kind != ty.kind {
        return Err(PatchError::BadRequest(format!(
            "Incorrect kind specified in apply patch. Specified patch kind: {cfg_kind}, expected: {}",
            ty.kind
        )));
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|v| !v.is_null())
    {
        return Err(PatchError::BadRequest(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let schema = Node::for_type(ty);
    let mut config = config.clone();
    drop_nulls(&mut config);
    if has_status_subresource(ty)
        && let Value::Object(m) = &mut config
    {
        m.remove("status");
    }
    let config_set = field_set_at(schema, &config, true).map_err(|e| {
        // As upstream's typed-patch error: `(apps/v1, Kind=Deployment)`, `(/v1, Kind=Pod)`.
        let gv = if ty.api_version.contains('/') {
            ty.api_version.to_string()
        } else {
            format!("/{}", ty.api_version)
        };
        PatchError::BadRequest(format!(
            "failed to create typed patch object ({gv}, Kind={}): {e}",
            ty.kind
        ))
    })?;

    let empty = Value::Object(Map::new());
    let live_obj = live.unwrap_or(&empty);
    let mut entries = match (live, managed_fields(live_obj)) {
        (_, Some(e)) => e,
        // An object nobody applied to yet: its fields belong to "before-first-apply".
        (Some(l), None) => {
            let fields = field_set_at(schema, l, false)?;
            vec![ManagedFieldsEntry {
                manager: BEFORE_FIRST_APPLY.into(),
                operation: "Update".into(),
                api_version: ty.api_version.into(),
                time: Some(now.into()),
                subresource: None,
                fields,
            }]
        }
        (None, None) => Vec::new(),
    };

    let mine =
        |e: &ManagedFieldsEntry| e.same_manager(field_manager, "Apply", ty.api_version, None);

    // Conflicts: fields of the configuration owned by another manager with another value.
    let mut conflicts: Vec<(usize, Path)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if mine(e) {
            continue;
        }
        for p in config_set.0.intersection(&e.fields.0) {
            if matches!(p.last(), Some(PathElement::Key(_) | PathElement::Value(_))) {
                continue; // membership of an element: never a conflict by itself
            }
            if value_at(live_obj, p) != value_at(&config, p) {
                conflicts.push((i, p.clone()));
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(conflict_error(&entries, &conflicts));
        }
        for (i, p) in &conflicts {
            entries[*i].fields.0.remove(p);
        }
    }

    // Merge, then remove what this manager dropped and nobody else owns.
    let mut out = merge_value(live_obj, &config, schema, None);
    let previous = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let others: Vec<&ManagedFieldsEntry> = entries.iter().filter(|e| !mine(e)).collect();
    // Parents sort first: a removed element takes its fields along, and the fields' own paths
    // then find nothing.
    for p in previous.0.difference(&config_set.0) {
        if others.iter().any(|e| e.fields.contains_prefixed(p)) || is_key_field(p) {
            continue;
        }
        remove_at(&mut out, p);
    }

    // A no-op apply (same object, same fields) changes nothing, not even the entry's time:
    // upstream writes nothing then, and the resourceVersion stays.
    if let Some(l) = live
        && entries.iter().any(&mine)
        && previous == config_set
        && without_managed_fields(&out) == without_managed_fields(l)
        && managed_fields(l).is_some()
    {
        return Ok(l.clone());
    }

    entries.retain(|e| !mine(e));
    entries.push(ManagedFieldsEntry {
        manager: field_manager.into(),
        operation: "Apply".into(),
        api_version: ty.api_version.into(),
        time: Some(now.into()),
        subresource: None,
        fields: config_set,
    });
    set_managed_fields(&mut out, entries);
    Ok(out)
}

fn without_managed_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::Object(meta)) = v.get_mut("metadata") {
        meta.remove("managedFields");
    }
    v
}

/// Whether `p` is a key field of an associative list element (`[name="web"].name`): it goes
/// with its element, never alone, or the element would lose its identity.
fn is_key_field(p: &[PathElement]) -> bool {
    match p {
        [.., PathElement::Key(kv), PathElement::Field(f)] => kv.iter().any(|(k, _)| k == f),
        _ => false,
    }
}

/// The 409 of upstream's `NewConflictError`/`getConflictMessage`.
fn conflict_error(entries: &[ManagedFieldsEntry], conflicts: &[(usize, Path)]) -> PatchError {
    let list: Vec<Conflict> = conflicts
        .iter()
        .map(|(i, p)| Conflict {
            manager: entries[*i].printed(),
            field: path_string(p),
        })
        .collect();
    let message = if let [c] = list.as_slice() {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager, c.field
        )
    } else {
        let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in &list {
            by_manager.entry(&c.manager).or_default().push(&c.field);
        }
        let mut lines = Vec::new();
        for (m, fields) in by_manager {
            lines.push(format!("conflicts with {m}:"));
            lines.extend(fields.iter().map(|f| format!("- {f}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            list.len(),
            lines.join("\n")
        )
    };
    PatchError::Conflict {
        message,
        conflicts: list,
    }
}

/// Merges `rhs` (the configuration) into `lhs` (the live value); `list` is the list type when
/// both are lists.
fn merge_value(lhs: &Value, rhs: &Value, schema: Node<'_>, list: Option<ListKind<'_>>) -> Value {
    match (lhs, rhs) {
        (Value::Object(l), Value::Object(r)) if !schema.is_atomic() => {
            let mut out = l.clone();
            for (k, rv) in r {
                let merged = match l.get(k) {
                    Some(lv) => merge_value(lv, rv, schema.child(k), Some(schema.list_kind(k))),
                    None => rv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(r)) => match list {
            Some(ListKind::Set) => Value::Array(visit_list_items(
                l,
                r,
                |v| Some(PathElement::Value(v.to_string())),
                |_, r| r.clone(),
            )),
            Some(ListKind::Map(keys)) => Value::Array(visit_list_items(
                l,
                r,
                |v| key_of(v, &keys),
                |lv, rv| merge_value(lv, rv, schema, None),
            )),
            _ => rhs.clone(),
        },
        _ => rhs.clone(),
    }
}

/// Merges two associative lists or sets in upstream's order (`mergingWalker.visitListItems`):
/// live-only items stay where they are, configured items come in the configuration's order, and
/// an item in both is merged where the configuration puts it.
///
/// Worked example: live `[a, b, c]`, configuration `[c, d, a]`: `a` is shared but `c` is the
/// next shared item the configuration wants, so live `a` is skipped for now; `b` is live-only →
/// `b`; `c` matches → `c`; `d` → `d`; `a` → `a`: result `[b, c, d, a]`.
///
/// Items the schema cannot name (no keys) are kept from the side they come from.
fn visit_list_items(
    lhs: &[Value],
    rhs: &[Value],
    pe: impl Fn(&Value) -> Option<PathElement>,
    merge: impl Fn(&Value, &Value) -> Value,
) -> Vec<Value> {
    let lpe: Vec<Option<PathElement>> = lhs.iter().map(&pe).collect();
    let rpe: Vec<Option<PathElement>> = rhs.iter().map(&pe).collect();
    let rhs_set: BTreeSet<&PathElement> = rpe.iter().flatten().collect();
    let mut lhs_pos: BTreeMap<&PathElement, usize> = BTreeMap::new();
    for (i, p) in lpe.iter().enumerate() {
        if let Some(p) = p {
            lhs_pos.entry(p).or_insert(i);
        }
    }
    let in_rhs = |p: &Option<PathElement>| p.as_ref().is_some_and(|p| rhs_set.contains(p));
    let find_l = |p: &Option<PathElement>| p.as_ref().and_then(|p| lhs_pos.get(p).copied());

    let mut shared: std::collections::VecDeque<&Option<PathElement>> =
        rpe.iter().filter(|p| find_l(p).is_some()).collect();
    let mut next_shared = shared.pop_front();
    let mut merged: BTreeSet<&PathElement> = BTreeSet::new();
    let mut out = Vec::with_capacity(lhs.len() + rhs.len());
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            let p = &lpe[li];
            if let Some(q) = p.as_ref().filter(|_| *p == rpe[ri]) {
                merged.insert(q);
                out.push(merge(&lhs[li], &rhs[ri]));
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if in_rhs(p) && next_shared.is_some_and(|n| n != p) {
                li += 1;
                continue;
            }
        }
        if li < lhs.len() {
            let p = &lpe[li];
            if !in_rhs(p) {
                out.push(lhs[li].clone());
                li += 1;
                continue;
            } else if p.as_ref().is_some_and(|q| merged.contains(q)) {
                li += 1;
                continue;
            }
        }
        if ri < rhs.len() {
            let p = &rpe[ri];
            if let Some(q) = p {
                merged.insert(q);
            }
            match find_l(p) {
                Some(i) => out.push(merge(&lhs[i], &rhs[ri])),
                None => out.push(rhs[ri].clone()),
            }
            ri += 1;
            if next_shared.is_some_and(|n| n == p) {
                next_shared = shared.pop_front();
            }
        }
    }
    out
}

/// Records an ordinary write (create, update, JSON/merge/strategic patch) by `manager`, as
/// upstream's field manager does for `operation: Update`: the manager takes ownership of every
/// field it added or changed (from every other manager), and fields it removed are owned by no
/// one. `old` is `None` for a create. Returns `new` with its `metadata.managedFields`.
///
/// The managed fields come from `new` when the writer sent its own (changed, and decodable),
/// from `old` otherwise. As upstream, `managedFields: [{}]` strips them all (an empty list does
/// not, so that clients unaware of the field never strip it).
pub fn update_managed_fields(old: Option<&Value>, new: &Value, manager: &str, now: &str) -> Value {
    let s = |k: &str| new.get(k).and_then(Value::as_str).unwrap_or_default();
    record_update(
        TypeRef::new(s("apiVersion"), s("kind")),
        old,
        new,
        manager,
        None,
        now,
    )
}

/// [`update_managed_fields`] with everything explicit: the type (and so a custom resource's
/// OpenAPI schema, see [`TypeRef::with_openapi_schema`]), and the subresource written through
/// (`Some("status")`, `Some("scale")`), which makes the entry a different manager from the same
/// name's writes to the main resource.
pub fn record_update(
    ty: TypeRef<'_>,
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) -> Value {
    let schema = Node::for_type(ty);
    let api_version = ty.api_version.to_string();
    let empty = Value::Object(Map::new());
    let old_obj = old.unwrap_or(&empty);
    let sent = new.pointer("/metadata/managedFields");
    if sent.is_some_and(|v| *v == serde_json::json!([{}])) {
        let mut out = new.clone();
        set_managed_fields(&mut out, Vec::new());
        return out;
    }
    let mut entries = managed_fields(new)
        .filter(|_| sent != old_obj.pointer("/metadata/managedFields"))
        .or_else(|| managed_fields(old_obj))
        .unwrap_or_default();

    // A stored object always names its list elements (by index when keys are missing).
    let old_set = field_set_at(schema, old_obj, false).unwrap_or_default();
    let new_set = field_set_at(schema, new, false).unwrap_or_default();
    let changed: BTreeSet<Path> = new_set
        .0
        .iter()
        .filter(|p| {
            if matches!(p.last(), Some(PathElement::Key(_) | PathElement::Value(_))) {
                !old_set.contains(p)
            } else {
                value_at(old_obj, p) != value_at(new, p)
            }
        })
        .cloned()
        .collect();
    let removed: BTreeSet<&Path> = old_set.0.difference(&new_set.0).collect();

    for e in &mut entries {
        e.fields
            .0
            .retain(|p| !removed.contains(p) && !changed.contains(p));
    }
    let idx = entries
        .iter()
        .position(|e| e.same_manager(manager, "Update", &api_version, subresource));
    if !changed.is_empty() || idx.is_some() {
        let e = match idx {
            Some(i) => &mut entries[i],
            None => {
                entries.push(ManagedFieldsEntry {
                    manager: manager.into(),
                    operation: "Update".into(),
                    api_version: api_version.clone(),
                    time: None,
                    subresource: subresource.map(str::to_string),
                    fields: FieldSet::default(),
                });
                let last = entries.len() - 1;
                &mut entries[last]
            }
        };
        if !changed.is_empty() {
            e.time = Some(now.into());
        }
        e.fields.0.extend(changed);
    }
    let mut out = new.clone();
    set_managed_fields(&mut out, entries);
    out
}

#[cfg(test)]
mod tests;

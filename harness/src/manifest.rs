//! Loading Kubernetes YAML manifests into k8s-openapi types, with errors that point at
//! `file:line:column` and name the object. See [`parse_manifests`] for the entry point.
//!
//! How a file is read:
//!
//! 1. It is split into documents on `---` and `...` marker lines (markers are only legal at
//!    column 0, outside scalars), remembering where each document starts, so every line number
//!    is relative to the whole file. Documents with nothing but comments are skipped.
//! 2. Each document is parsed into a [`Node`] tree that remembers where every key and value
//!    sits. Errors at this stage are YAML syntax errors.
//! 3. `apiVersion` and `kind` pick the type. Deployments, ReplicaSets and Pods are typed;
//!    other kinds that a v1.34 cluster serves become [`ManifestObject::Generic`]; anything else is
//!    refused the way kubectl refuses it (`no matches for kind ...`).
//! 4. The document text is deserialized straight into the k8s-openapi type (so type errors keep
//!    serde-saphyr's line and column) through `serde_ignored`, because k8s-openapi silently
//!    drops unknown fields. Each unknown field's path is then looked up in the [`Node`] tree to
//!    point at the misspelt key.
//!
//! NOTE: never build typed objects through `serde_json::Value` here: that loses locations.

// A load fails at most once per file, so the size of `ManifestError` costs nothing; boxing it
// would only make matching on it clumsier for callers.
#![allow(clippy::result_large_err)]

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount,
};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// One object read from a manifest.
#[derive(Clone, Debug, PartialEq)]
pub enum ManifestObject {
    Deployment(Deployment),
    ReplicaSet(ReplicaSet),
    Pod(Pod),
    /// A kind the simulator does not model but a v1.34 cluster serves. It has been checked
    /// against its k8s-openapi type (unknown fields, value types); `value` is that typed object
    /// as JSON, so YAML 1.1 spellings such as `name: n` stay strings where the schema says
    /// string.
    Generic {
        api_version: String,
        kind: String,
        value: serde_json::Value,
    },
}

impl ManifestObject {
    /// `Deployment`, `ConfigMap`, ...
    pub fn kind(&self) -> &str {
        match self {
            ManifestObject::Deployment(_) => "Deployment",
            ManifestObject::ReplicaSet(_) => "ReplicaSet",
            ManifestObject::Pod(_) => "Pod",
            ManifestObject::Generic { kind, .. } => kind,
        }
    }

    /// `metadata.name`, when the manifest gives one.
    pub fn name(&self) -> Option<&str> {
        match self {
            ManifestObject::Deployment(d) => d.metadata.name.as_deref(),
            ManifestObject::ReplicaSet(rs) => rs.metadata.name.as_deref(),
            ManifestObject::Pod(p) => p.metadata.name.as_deref(),
            ManifestObject::Generic { value, .. } => value.get("metadata")?.get("name")?.as_str(),
        }
    }

    /// The object as JSON (typed objects as k8s-openapi serializes them, with `apiVersion` and
    /// `kind`).
    pub fn to_json(&self) -> serde_json::Value {
        let typed = match self {
            ManifestObject::Deployment(d) => serde_json::to_value(d),
            ManifestObject::ReplicaSet(rs) => serde_json::to_value(rs),
            ManifestObject::Pod(p) => serde_json::to_value(p),
            ManifestObject::Generic { value, .. } => return value.clone(),
        };
        // k8s-openapi types always serialize; Null is only a guard against panicking.
        typed.unwrap_or(serde_json::Value::Null)
    }
}

/// An object and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub object: ManifestObject,
    pub file: String,
    /// 1-based line, in the whole file, where the document's object starts (its first key).
    pub line: usize,
}

/// A place in a manifest file. Displays as `file:line:column` (both 1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePos {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A manifest that cannot be loaded. Every message starts with `file:line:column: ` and names
/// the object (`Deployment "web"`) when its kind or name is known.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ManifestError {
    /// `web.yaml:4:12: invalid YAML: unclosed bracket '['`
    #[error("{at}: invalid YAML: {message}")]
    Syntax { at: SourcePos, message: String },

    /// `web.yaml:1:1: document is a sequence, not a mapping; ...`
    #[error(
        "{at}: document is {found}, not a mapping; each document must be one Kubernetes object"
    )]
    NotAMapping { at: SourcePos, found: &'static str },

    /// `web.yaml:2:1: missing "apiVersion" in Deployment "web"`
    #[error("{at}: missing \"{field}\" in {object}")]
    MissingField {
        at: SourcePos,
        field: &'static str,
        object: String,
    },

    /// `web.yaml:1:7: "kind" must be a string in object "web"`
    #[error("{at}: \"{field}\" must be a string in {object}")]
    NotAString {
        at: SourcePos,
        field: &'static str,
        object: String,
    },

    /// `web.yaml:1:13: Deployment "web": no matches for kind "Deployment" in version
    /// "extensions/v1beta1": Deployment is served as apps/v1 since Kubernetes 1.16; use
    /// apiVersion: apps/v1`
    #[error("{at}: {object}: no matches for kind \"{kind}\" in version \"{api_version}\"{}", hint.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
    NoMatch {
        at: SourcePos,
        object: String,
        kind: String,
        api_version: String,
        hint: Option<String>,
    },

    /// `x.yaml:7:3: unknown field "replcas" in Deployment "web" (at spec.replcas)`
    #[error(
        "{at}: unknown field \"{field}\" in {object} (at {path}){}",
        more_unknown(others)
    )]
    UnknownField {
        at: SourcePos,
        field: String,
        object: String,
        path: String,
        /// Further unknown fields in the same document: path and `line:column`.
        others: Vec<(String, SourcePos)>,
    },

    /// `web.yaml:6:13: invalid value for spec.replicas in Deployment "web": invalid i32`
    #[error("{at}: invalid value{} in {object}: {message}", path.as_ref().map(|p| format!(" for {p}")).unwrap_or_default())]
    InvalidValue {
        at: SourcePos,
        object: String,
        path: Option<String>,
        message: String,
    },
}

fn more_unknown(others: &[(String, SourcePos)]) -> String {
    if others.is_empty() {
        return String::new();
    }
    let list: Vec<String> = others
        .iter()
        .map(|(p, at)| format!("{p} ({}:{})", at.line, at.column))
        .collect();
    format!("; also unknown: {}", list.join(", "))
}

impl ManifestError {
    /// Where the error points.
    pub fn pos(&self) -> &SourcePos {
        match self {
            ManifestError::Syntax { at, .. }
            | ManifestError::NotAMapping { at, .. }
            | ManifestError::MissingField { at, .. }
            | ManifestError::NotAString { at, .. }
            | ManifestError::NoMatch { at, .. }
            | ManifestError::UnknownField { at, .. }
            | ManifestError::InvalidValue { at, .. } => at,
        }
    }
}

pub type Result<T, E = ManifestError> = std::result::Result<T, E>;

/// Parses every object in a manifest file (one or more YAML documents separated by `---`).
/// `file` is only used in messages and in [`Manifest::file`].
///
/// # Errors
/// The first problem found, in file order: broken YAML, a document that is not a mapping,
/// missing or unknown `apiVersion`/`kind`, an unknown field, or a value of the wrong type.
pub fn parse_manifests(text: &str, file: &str) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for doc in split_documents(text) {
        if doc.is_blank() {
            continue;
        }
        let ctx = Doc {
            text: doc.text,
            file,
            line_offset: doc.line_offset,
        };
        let root = match serde_saphyr::from_str::<Option<Spanned<Node>>>(doc.text) {
            Ok(Some(root)) => root,
            // `~` or `null` on its own: nothing to load, like an empty document.
            Ok(None) => continue,
            Err(e) => {
                let (at, message) = ctx.saphyr_error(&e, None);
                return Err(ManifestError::Syntax { at, message });
            }
        };
        if matches!(root.value, Node::Null) {
            continue;
        }
        let line = ctx.line(&root.referenced);
        out.push(Manifest {
            object: ctx.load(&root)?,
            file: file.to_string(),
            line,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Splitting a file into documents
// ---------------------------------------------------------------------------------------------

struct RawDoc<'a> {
    text: &'a str,
    /// Lines of the file before this document's first line.
    line_offset: usize,
}

impl RawDoc<'_> {
    /// Only blank lines, comments and document markers.
    fn is_blank(&self) -> bool {
        self.text.lines().all(|l| {
            let t = l.trim();
            let after_marker = ["---", "..."]
                .into_iter()
                .find(|m| is_marker(l, m))
                .map(|m| l[m.len()..].trim());
            match after_marker {
                Some(rest) => rest.is_empty() || rest.starts_with('#'),
                None => t.is_empty() || t.starts_with('#'),
            }
        })
    }
}

/// `---` or `...` at column 0, followed by the end of the line or whitespace.
fn is_marker(line: &str, marker: &str) -> bool {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// `%YAML 1.2` and `%TAG` lines (with comments) belong to the document that the next `---`
/// starts.
fn only_directives(text: &str) -> bool {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    lines.peek().is_some() && lines.all(|l| l.starts_with('%'))
}

/// Splits on document markers. A `---` line starts a new document and belongs to it (a
/// parser accepts a leading `---`, and `--- {a: 1}` keeps its content); a `...` line ends the
/// current document and belongs to it.
fn split_documents(text: &str) -> Vec<RawDoc<'_>> {
    let mut docs = Vec::new();
    let (mut start, mut start_line) = (0usize, 0usize);
    let (mut pos, mut line_no) = (0usize, 0usize);
    for line in text.split_inclusive('\n') {
        if is_marker(line, "---") && pos > start && !only_directives(&text[start..pos]) {
            docs.push(RawDoc {
                text: &text[start..pos],
                line_offset: start_line,
            });
            (start, start_line) = (pos, line_no);
        }
        pos += line.len();
        line_no += 1;
        if is_marker(line, "...") {
            docs.push(RawDoc {
                text: &text[start..pos],
                line_offset: start_line,
            });
            (start, start_line) = (pos, line_no);
        }
    }
    if pos > start {
        docs.push(RawDoc {
            text: &text[start..pos],
            line_offset: start_line,
        });
    }
    docs
}

// ---------------------------------------------------------------------------------------------
// A YAML tree that remembers where each key and value is
// ---------------------------------------------------------------------------------------------

/// A YAML value with source locations on every key and value (`serde_saphyr::Spanned`).
#[derive(Debug)]
enum Node {
    Null,
    /// A boolean or a number; only its description is kept.
    Other(&'static str),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
}

impl Node {
    fn describe(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Other(what) => what,
            Node::Str(_) => "a string",
            Node::Seq(_) => "a sequence",
            Node::Map(_) => "a mapping",
        }
    }

    fn get(&self, key: &str) -> Option<&Spanned<Node>> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value.0 == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A mapping key: any scalar, as a string (`1: a` has key `"1"`).
#[derive(Debug)]
struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key("null".into()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                serde::Deserialize::deserialize(d)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Other("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Other("a number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
                String::from_utf8(v.to_vec())
                    .map(Node::Str)
                    .map_err(|_| E::custom("binary value is not UTF-8"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = a.next_key()? {
                    entries.push((k, a.next_value()?));
                }
                Ok(Node::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Field paths
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// `serde_ignored`'s path without its `?` (Option and newtype) boundaries.
fn segments(p: &serde_ignored::Path) -> Vec<Seg> {
    use serde_ignored::Path;
    match p {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => {
            let mut v = segments(parent);
            v.push(Seg::Index(*index));
            v
        }
        Path::Map { parent, key } => {
            let mut v = segments(parent);
            v.push(Seg::Key(key.clone()));
            v
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => segments(parent),
    }
}

/// `spec.template.spec.containers[0].imagee`
fn render_path(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The location of the key (or list item) a path ends at; when part of the path cannot be
/// found (e.g. it came through a YAML merge key), the deepest location that was found.
fn locate(root: &Spanned<Node>, segs: &[Seg]) -> serde_saphyr::Location {
    let mut node = root;
    let mut best = root.referenced;
    for seg in segs {
        let next = match (seg, &node.value) {
            (Seg::Key(k), Node::Map(entries)) => entries
                .iter()
                .find(|(key, _)| &key.value.0 == k)
                .map(|(key, v)| (key.referenced, v)),
            (Seg::Index(i), Node::Seq(items)) => items.get(*i).map(|v| (v.referenced, v)),
            _ => None,
        };
        match next {
            Some((loc, child)) => {
                best = loc;
                node = child;
            }
            None => break,
        }
    }
    best
}

/// The path of the value that starts at `loc`, for naming the field in a type error.
fn path_at(node: &Spanned<Node>, loc: &serde_saphyr::Location, path: &mut Vec<Seg>) -> bool {
    let here = |n: &Spanned<Node>| {
        n.referenced.line() == loc.line() && n.referenced.column() == loc.column()
    };
    match &node.value {
        Node::Map(entries) => entries.iter().any(|(k, v)| {
            path.push(Seg::Key(k.value.0.clone()));
            let found = here(v) || path_at(v, loc, path);
            if !found {
                path.pop();
            }
            found
        }),
        Node::Seq(items) => items.iter().enumerate().any(|(i, v)| {
            path.push(Seg::Index(i));
            let found = here(v) || path_at(v, loc, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------------------------

/// How a document of one `apiVersion`/`kind` is loaded.
enum Loader {
    Deployment,
    ReplicaSet,
    Pod,
    /// Checked against its k8s-openapi type, kept as JSON.
    Generic(fn(&str) -> CheckResult),
}

type CheckResult = std::result::Result<(serde_json::Value, Vec<Vec<Seg>>), serde_saphyr::Error>;

/// The kinds a v1.34 cluster serves that kubespec recognises.
fn loader(api_version: &str, kind: &str) -> Option<Loader> {
    Some(match (api_version, kind) {
        ("apps/v1", "Deployment") => Loader::Deployment,
        ("apps/v1", "ReplicaSet") => Loader::ReplicaSet,
        ("v1", "Pod") => Loader::Pod,
        ("v1", "ConfigMap") => Loader::Generic(check::<ConfigMap>),
        ("v1", "Secret") => Loader::Generic(check::<Secret>),
        ("v1", "Service") => Loader::Generic(check::<Service>),
        ("v1", "ServiceAccount") => Loader::Generic(check::<ServiceAccount>),
        ("v1", "PersistentVolumeClaim") => Loader::Generic(check::<PersistentVolumeClaim>),
        ("v1", "Namespace") => Loader::Generic(check::<Namespace>),
        ("apps/v1", "StatefulSet") => Loader::Generic(check::<StatefulSet>),
        ("apps/v1", "DaemonSet") => Loader::Generic(check::<DaemonSet>),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            Loader::Generic(check::<autoscaling::v2::HorizontalPodAutoscaler>)
        }
        ("autoscaling/v1", "HorizontalPodAutoscaler") => {
            Loader::Generic(check::<autoscaling::v1::HorizontalPodAutoscaler>)
        }
        ("batch/v1", "Job") => Loader::Generic(check::<Job>),
        // Cluster-scoped kinds a scenario may create (labelled and cleaned up on a cluster).
        ("v1", "Node") => Loader::Generic(check::<k8s_openapi::api::core::v1::Node>),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => Loader::Generic(
            check::<
                k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
            >,
        ),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
            Loader::Generic(check::<k8s_openapi::api::rbac::v1::ClusterRole>)
        }
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            Loader::Generic(check::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>)
        }
        _ => return None,
    })
}

/// For an `apiVersion` that once served `kind` but no longer does: the hint kubectl does not
/// give. The workload APIs left extensions/v1beta1 and apps/v1beta1-2 in 1.16
/// (kubernetes/kubernetes#70672); HPA autoscaling/v2beta1 left in 1.25 and v2beta2 in 1.26.
fn removed_version_hint(api_version: &str, kind: &str) -> Option<String> {
    let (current, since) = match (api_version, kind) {
        (
            "extensions/v1beta1" | "apps/v1beta1" | "apps/v1beta2",
            "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet",
        ) => ("apps/v1", "1.16"),
        ("autoscaling/v2beta1", "HorizontalPodAutoscaler") => ("autoscaling/v2", "1.25"),
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler") => ("autoscaling/v2", "1.26"),
        _ => return None,
    };
    Some(format!(
        "{kind} is served as {current} since Kubernetes {since}; use apiVersion: {current}"
    ))
}

/// Deserializes `text` as `T`, collecting the paths of fields `T` does not know.
fn deserialize_checked<T: DeserializeOwned>(
    text: &str,
) -> std::result::Result<(T, Vec<Vec<Seg>>), serde_saphyr::Error> {
    let mut unknown = Vec::new();
    let value = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_ignored::deserialize(de, |p| unknown.push(segments(&p)))
    })?;
    Ok((value, unknown))
}

fn check<T: DeserializeOwned + serde::Serialize>(text: &str) -> CheckResult {
    let (typed, unknown) = deserialize_checked::<T>(text)?;
    // k8s-openapi types always serialize; Null is only a guard against panicking.
    Ok((
        serde_json::to_value(&typed).unwrap_or(serde_json::Value::Null),
        unknown,
    ))
}

// ---------------------------------------------------------------------------------------------
// Loading one document
// ---------------------------------------------------------------------------------------------

struct Doc<'a> {
    text: &'a str,
    file: &'a str,
    line_offset: usize,
}

impl Doc<'_> {
    fn pos(&self, loc: &serde_saphyr::Location) -> SourcePos {
        // Location::UNKNOWN has line 0; point at the document's first line instead.
        let (line, column) = if loc.line() == 0 {
            (1, 1)
        } else {
            (loc.line(), loc.column().max(1))
        };
        SourcePos {
            file: self.file.to_string(),
            line: usize::try_from(line)
                .unwrap_or(usize::MAX)
                .saturating_add(self.line_offset),
            column: usize::try_from(column).unwrap_or(usize::MAX),
        }
    }

    fn line(&self, loc: &serde_saphyr::Location) -> usize {
        self.pos(loc).line
    }

    /// Where a serde-saphyr error points, and its message without the `at line N, column M`
    /// suffix (which would be relative to the document, not the file).
    fn saphyr_error(
        &self,
        e: &serde_saphyr::Error,
        fallback: Option<&serde_saphyr::Location>,
    ) -> (SourcePos, String) {
        let loc = e
            .location()
            .filter(|l| l.line() != 0)
            .or(fallback.copied())
            .unwrap_or(serde_saphyr::Location::UNKNOWN);
        (
            self.pos(&loc),
            clean_message(&e.without_snippet().to_string()),
        )
    }

    fn load(&self, root: &Spanned<Node>) -> Result<ManifestObject> {
        let Node::Map(_) = &root.value else {
            return Err(ManifestError::NotAMapping {
                at: self.pos(&root.referenced),
                found: root.value.describe(),
            });
        };
        // Read the name with a string target: the untyped tree would turn `name: n` into false.
        let head = serde_saphyr::from_str::<Head>(self.text).ok();
        let name = head
            .as_ref()
            .and_then(|h| h.metadata.as_ref()?.name.as_deref());
        let (kind, _) = self.type_field(root, "kind", None, name)?;
        let (api_version, api_loc) = self.type_field(root, "apiVersion", Some(&kind), name)?;
        let object = describe(Some(&kind), name);

        let Some(loader) = loader(&api_version, &kind) else {
            return Err(ManifestError::NoMatch {
                at: self.pos(&api_loc),
                object,
                hint: removed_version_hint(&api_version, &kind),
                kind,
                api_version,
            });
        };
        let (object_value, unknown) = match loader {
            Loader::Deployment => self.typed(
                deserialize_checked(self.text),
                root,
                &object,
                ManifestObject::Deployment,
            )?,
            Loader::ReplicaSet => self.typed(
                deserialize_checked(self.text),
                root,
                &object,
                ManifestObject::ReplicaSet,
            )?,
            Loader::Pod => self.typed(
                deserialize_checked(self.text),
                root,
                &object,
                ManifestObject::Pod,
            )?,
            Loader::Generic(check) => {
                let (value, unknown) =
                    check(self.text).map_err(|e| self.invalid_value(&e, root, &object))?;
                (
                    ManifestObject::Generic {
                        api_version,
                        kind,
                        value,
                    },
                    unknown,
                )
            }
        };
        self.reject_unknown(root, &object, unknown)?;
        Ok(object_value)
    }

    /// `apiVersion` or `kind`: present, non-empty, a string. Returns it with its location.
    fn type_field(
        &self,
        root: &Spanned<Node>,
        field: &'static str,
        kind: Option<&String>,
        name: Option<&str>,
    ) -> Result<(String, serde_saphyr::Location)> {
        let object = describe(kind.map(String::as_str), name);
        match root.value.get(field) {
            None => Err(ManifestError::MissingField {
                at: self.pos(&root.referenced),
                field,
                object,
            }),
            Some(v) => match &v.value {
                Node::Str(s) if !s.is_empty() => Ok((s.clone(), v.referenced)),
                Node::Str(_) | Node::Null => Err(ManifestError::MissingField {
                    at: self.pos(&v.referenced),
                    field,
                    object,
                }),
                _ => Err(ManifestError::NotAString {
                    at: self.pos(&v.referenced),
                    field,
                    object,
                }),
            },
        }
    }

    fn typed<T>(
        &self,
        r: std::result::Result<(T, Vec<Vec<Seg>>), serde_saphyr::Error>,
        root: &Spanned<Node>,
        object: &str,
        wrap: fn(T) -> ManifestObject,
    ) -> Result<(ManifestObject, Vec<Vec<Seg>>)> {
        match r {
            Ok((v, unknown)) => Ok((wrap(v), unknown)),
            Err(e) => Err(self.invalid_value(&e, root, object)),
        }
    }

    fn invalid_value(
        &self,
        e: &serde_saphyr::Error,
        root: &Spanned<Node>,
        object: &str,
    ) -> ManifestError {
        let (at, message) = self.saphyr_error(e, Some(&root.referenced));
        let path = e.location().filter(|l| l.line() != 0).and_then(|loc| {
            let mut segs = Vec::new();
            path_at(root, &loc, &mut segs).then(|| render_path(&segs))
        });
        // The API server cannot even decode such a Secret ("illegal base64 data at input
        // byte N"); say why, since plain text under `data` is a common mistake.
        let message = if object.starts_with("Secret ")
            && path.as_deref().is_some_and(|p| p.starts_with("data."))
        {
            format!(
                "{message} (the values under `data` must be base64-encoded; put plain text under `stringData`, or encode it with `base64`)"
            )
        } else {
            message
        };
        ManifestError::InvalidValue {
            at,
            object: object.to_string(),
            path,
            message,
        }
    }

    fn reject_unknown(
        &self,
        root: &Spanned<Node>,
        object: &str,
        unknown: Vec<Vec<Seg>>,
    ) -> Result<()> {
        let mut found: Vec<(String, String, SourcePos)> = unknown
            .iter()
            .map(|segs| {
                let field = match segs.last() {
                    Some(Seg::Key(k)) => k.clone(),
                    Some(Seg::Index(i)) => format!("[{i}]"),
                    None => String::new(),
                };
                (field, render_path(segs), self.pos(&locate(root, segs)))
            })
            .collect();
        // Report in file order, whatever order the deserializer visited them in.
        found.sort_by_key(|(_, _, at)| (at.line, at.column));
        let mut iter = found.into_iter();
        let Some((field, path, at)) = iter.next() else {
            return Ok(());
        };
        Err(ManifestError::UnknownField {
            at,
            field,
            object: object.to_string(),
            path,
            others: iter.map(|(_, p, at)| (p, at)).collect(),
        })
    }
}

/// Just enough of an object to name it in messages.
#[derive(serde::Deserialize)]
struct Head {
    metadata: Option<HeadMeta>,
}

#[derive(serde::Deserialize)]
struct HeadMeta {
    name: Option<String>,
}

/// `Deployment "web"`, `Deployment (unnamed)`, `object "web"`, `the document`.
fn describe(kind: Option<&str>, name: Option<&str>) -> String {
    match (kind, name) {
        (Some(k), Some(n)) => format!("{k} \"{n}\""),
        (Some(k), None) => format!("{k} (unnamed)"),
        (None, Some(n)) => format!("object \"{n}\""),
        (None, None) => "the document".to_string(),
    }
}

/// Drops serde-saphyr's trailing ` at line N, column M` and its advice about its own options.
fn clean_message(msg: &str) -> String {
    let mut msg = msg.trim();
    if let Some(i) = msg.rfind(" at line ") {
        let tail = &msg[i + " at line ".len()..];
        let is_location = tail.split_once(", column ").is_some_and(|(l, c)| {
            !l.is_empty() && !c.is_empty() && l.bytes().chain(c.bytes()).all(|b| b.is_ascii_digit())
        });
        if is_location {
            msg = &msg[..i];
        }
    }
    msg.trim_end_matches(", set DuplicateKeyPolicy in Options if acceptable")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, file: &str) -> String {
        parse_manifests(text, file)
            .expect_err("expected an error")
            .to_string()
    }

    const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: nginx:1.27
";

    #[test]
    fn multi_document_lines_are_file_relative() {
        let text = format!(
            "# leading comment\n---\n{WEB}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
        );
        let m = parse_manifests(&text, "app.yaml").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].object.kind(), m[0].object.name(), m[0].line),
            ("Deployment", Some("web"), 3)
        );
        assert_eq!(
            (m[1].object.kind(), m[1].object.name(), m[1].line),
            ("Pod", Some("p"), 21)
        );
        assert_eq!(m[1].file, "app.yaml");
        let ManifestObject::Deployment(d) = &m[0].object else {
            panic!("not typed: {:?}", m[0].object)
        };
        assert_eq!(d.spec.as_ref().unwrap().replicas, Some(3));
        assert_eq!(m[0].object.to_json()["spec"]["replicas"], 3);
        assert_eq!(m[0].object.to_json()["kind"], "Deployment");
    }

    #[test]
    fn empty_documents_are_skipped() {
        let text = format!("---\n---\n# only a comment\n---\n\n...\n{WEB}---\n~\n---\n");
        let m = parse_manifests(&text, "x.yaml").unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].line, 7);
        assert_eq!(parse_manifests("", "x.yaml").unwrap(), vec![]);
    }

    #[test]
    fn unknown_top_level_field() {
        let text = WEB.replace("  replicas: 3", "  replcas: 3");
        assert_eq!(
            err(&format!("# one\n---\n{text}"), "features/x.yaml"),
            "features/x.yaml:8:3: unknown field \"replcas\" in Deployment \"web\" (at spec.replcas)"
        );
    }

    #[test]
    fn unknown_field_at_depth_has_line_and_column() {
        let text = format!("{WEB}        imagee: typo\n");
        assert_eq!(
            err(&text, "web.yaml"),
            "web.yaml:18:9: unknown field \"imagee\" in Deployment \"web\" (at spec.template.spec.containers[0].imagee)"
        );
    }

    #[test]
    fn several_unknown_fields_are_all_listed_in_file_order() {
        let text = WEB.replace("  replicas: 3", "  replcas: 3").replace(
            "      app: web\n  template",
            "      app: web\n    matchLabel: {}\n  template",
        );
        assert_eq!(
            err(&text, "w.yaml"),
            "w.yaml:6:3: unknown field \"replcas\" in Deployment \"web\" (at spec.replcas); also unknown: spec.selector.matchLabel (10:5)"
        );
    }

    #[test]
    fn broken_yaml() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: [web\n";
        assert_eq!(
            err(text, "web.yaml"),
            "web.yaml:4:9: invalid YAML: unclosed bracket '['"
        );
        let text = format!("{WEB}---\na: b\n c: d\n");
        assert_eq!(
            err(&text, "web.yaml"),
            "web.yaml:20:3: invalid YAML: mapping values are not allowed in this context"
        );
    }

    #[test]
    fn duplicate_keys_are_syntax_errors() {
        let text = "apiVersion: v1\nkind: Pod\nkind: Pod\n";
        assert_eq!(
            err(text, "p.yaml"),
            "p.yaml:3:1: invalid YAML: duplicate mapping key: kind"
        );
    }

    #[test]
    fn type_error_keeps_saphyr_location_and_names_the_field() {
        let text = format!("---\n{}", WEB.replace("replicas: 3", "replicas: three"));
        assert_eq!(
            err(&text, "web.yaml"),
            "web.yaml:7:13: invalid value for spec.replicas in Deployment \"web\": invalid i32"
        );
    }

    #[test]
    fn removed_workload_versions_are_refused_with_a_hint() {
        for version in ["extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"] {
            let text = WEB.replace("apps/v1", version);
            assert_eq!(
                err(&text, "old.yaml"),
                format!(
                    "old.yaml:1:13: Deployment \"web\": no matches for kind \"Deployment\" in version \"{version}\": \
                     Deployment is served as apps/v1 since Kubernetes 1.16; use apiVersion: apps/v1"
                )
            );
        }
        let rs = "apiVersion: extensions/v1beta1\nkind: ReplicaSet\nmetadata:\n  name: r\n";
        assert!(err(rs, "rs.yaml").ends_with(
            ": ReplicaSet is served as apps/v1 since Kubernetes 1.16; use apiVersion: apps/v1"
        ));
    }

    #[test]
    fn unknown_kind_or_version() {
        assert_eq!(
            err(
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
                "w.yaml"
            ),
            "w.yaml:1:13: Widget \"w\": no matches for kind \"Widget\" in version \"example.com/v1\""
        );
        assert_eq!(
            err("apiVersion: apps/v1\nkind: deployment\n", "w.yaml"),
            "w.yaml:1:13: deployment (unnamed): no matches for kind \"deployment\" in version \"apps/v1\""
        );
    }

    #[test]
    fn missing_api_version_or_kind() {
        assert_eq!(
            err("kind: Deployment\nmetadata:\n  name: web\n", "m.yaml"),
            "m.yaml:1:1: missing \"apiVersion\" in Deployment \"web\""
        );
        assert_eq!(
            err(
                "---\napiVersion: apps/v1\nmetadata:\n  name: web\n",
                "m.yaml"
            ),
            "m.yaml:2:1: missing \"kind\" in object \"web\""
        );
        assert_eq!(
            err("apiVersion: v1\nkind: \"\"\n", "m.yaml"),
            "m.yaml:2:7: missing \"kind\" in the document"
        );
        assert_eq!(
            err("apiVersion: v1\nkind: 3\n", "m.yaml"),
            "m.yaml:2:7: \"kind\" must be a string in the document"
        );
    }

    #[test]
    fn a_document_must_be_a_mapping() {
        assert_eq!(
            err("- apiVersion: v1\n  kind: Pod\n", "l.yaml"),
            "l.yaml:1:1: document is a sequence, not a mapping; each document must be one Kubernetes object"
        );
        assert_eq!(
            err(&format!("{WEB}---\njust text\n"), "l.yaml"),
            "l.yaml:19:1: document is a string, not a mapping; each document must be one Kubernetes object"
        );
    }

    #[test]
    fn generic_kinds_are_checked_and_kept_as_json() {
        let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  key: value
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: http
";
        let m = parse_manifests(text, "g.yaml").unwrap();
        let kinds: Vec<_> = m
            .iter()
            .map(|m| (m.object.kind(), m.object.name(), m.line))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("ConfigMap", Some("cfg"), 1),
                ("HorizontalPodAutoscaler", Some("web"), 8),
                ("Service", Some("web"), 17)
            ]
        );
        let ManifestObject::Generic {
            api_version, value, ..
        } = &m[1].object
        else {
            panic!()
        };
        assert_eq!(api_version, "autoscaling/v2");
        assert_eq!(value["spec"]["maxReplicas"], 5);
        assert_eq!(m[0].object.to_json()["data"]["key"], "value");

        let typo = text.replace("  maxReplicas: 5", "  maxReplica: 5");
        assert_eq!(
            err(&typo, "g.yaml"),
            "g.yaml:15:3: unknown field \"maxReplica\" in HorizontalPodAutoscaler \"web\" (at spec.maxReplica)"
        );
        let bad_type = text.replace("  minReplicas: 1", "  minReplicas: [1]");
        assert!(err(&bad_type, "g.yaml").starts_with(
            "g.yaml:14:16: invalid value for spec.minReplicas in HorizontalPodAutoscaler \"web\": "
        ));
    }

    #[test]
    fn a_secret_with_plain_text_under_data_is_rejected_with_the_reason() {
        let text =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: hunter2!\n";
        let msg = err(text, "s.yaml");
        assert!(
            msg.starts_with("s.yaml:6:13: invalid value for data.password in Secret \"creds\": "),
            "{msg}"
        );
        assert!(msg.contains("must be base64-encoded"), "{msg}");
        assert!(msg.contains("stringData"), "{msg}");
        let ok = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: aHVudGVyMiE=\nstringData:\n  user: admin\n";
        assert!(parse_manifests(ok, "s.yaml").is_ok());
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "\u{feff}apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
            "--- {apiVersion: v1, kind: Namespace, metadata: {name: n}}\n",
            "apiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: n\r\n---\r\n",
            "a: &x [*x]\n",
            "&a [*a]",
            "? [a, b]\n: c\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  <<: {name: p}\n",
            "apiVersion: v1\nkind: Pod\nspec: .nan\n",
            "\t",
            "---\n---\n...\n...\n",
            "'unterminated",
            "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - 3\n",
        ] {
            let _ = parse_manifests(text, "odd.yaml");
        }
        let m = parse_manifests(
            "apiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: n\r\n",
            "crlf.yaml",
        )
        .unwrap();
        assert_eq!(m[0].object.name(), Some("n"));
    }

    #[test]
    fn directives_stay_with_their_document() {
        let m = parse_manifests(
            "%YAML 1.2\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n",
            "d.yaml",
        )
        .unwrap();
        assert_eq!((m[0].object.kind(), m[0].line), ("Namespace", 3));
    }

    #[test]
    fn inline_document_start() {
        let m = parse_manifests(
            "--- {apiVersion: v1, kind: Namespace, metadata: {name: n}}\n",
            "i.yaml",
        )
        .unwrap();
        assert_eq!((m[0].object.kind(), m[0].line), ("Namespace", 1));
    }
}

//! OpenAPI v3 documents for the served kinds: `/openapi/v3` and `/openapi/v3/<api|apis/g>/<v>`.
//!
//! kubectl reads them for three things, and each shapes what is generated here:
//! - `kubectl apply`/`create` ask whether the server validates fields itself
//!   (`QueryParamVerifierV3` in cli-runtime): they look for a PATCH operation carrying
//!   `x-kubernetes-group-version-kind` of the object's kind with a `fieldValidation` query
//!   parameter written inline. When found, they send `fieldValidation=Strict` and skip
//!   client-side validation (which would otherwise need the protobuf `/openapi/v2`);
//! - client-side `kubectl apply` computes its strategic merge patch from the schema of the kind
//!   (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`);
//! - `kubectl explain` walks `components.schemas` from the schema that carries the kind's
//!   `x-kubernetes-group-version-kind`.
//!
//! The schemas come from k8s-openapi's `schemars` implementations, which carry upstream's
//! descriptions; the Kubernetes extensions are added here. See [`documents`].

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use kubespec_engine::api::patch::meta as patch_meta;
use kubespec_engine::api::rest;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// One served resource, as the documents need to know it.
#[derive(Clone, Copy, Debug)]
pub struct DocResource {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// `status` and `scale` subresources.
    pub status: bool,
    pub scale: bool,
    /// The schema name of the object (`io.k8s.api.apps.v1.Deployment`); its list's is this
    /// name with `List` appended.
    pub schema: &'static str,
}

impl DocResource {
    fn list_schema(&self) -> String {
        format!("{}List", self.schema)
    }
}

/// The documents: the root (`/openapi/v3`) and one per group-version, keyed by the path the
/// root lists them under (`api/v1`, `apis/apps/v1`).
pub struct Documents {
    pub root: Value,
    pub by_group_version: Vec<(String, Value)>,
}

/// `api/v1` for the core group, `apis/<group>/<version>` otherwise.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// Builds every document. `schemas` adds the schema of each resource's kind to the generator
/// (`subschema_for::<Deployment>()`). The patch and list extensions come from the engine's
/// patch metadata ([`meta::schema_for`]), the same table its strategic merge and apply use.
pub fn documents(
    resources: &[DocResource],
    schemas: impl Fn(&mut schemars::SchemaGenerator, &DocResource),
    kubernetes_version: &str,
) -> Documents {
    let mut gvs: Vec<(&str, &str)> = resources.iter().map(|r| (r.group, r.version)).collect();
    gvs.sort();
    gvs.dedup();
    let mut by_group_version = Vec::new();
    let mut root_paths = Map::new();
    for (group, version) in gvs {
        let here: Vec<&DocResource> = resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .collect();
        let mut generator = SchemaSettings::openapi3().into_generator();
        for r in &here {
            schemas(&mut generator, r);
        }
        generator.subschema_for::<meta::ListMeta>();
        generator.subschema_for::<meta::Status>();
        generator.subschema_for::<meta::Patch>();
        generator.subschema_for::<meta::DeleteOptions>();
        if here.iter().any(|r| r.scale) {
            generator.subschema_for::<k8s_openapi::api::autoscaling::v1::Scale>();
        }
        let mut defs = generator.take_definitions(true);
        for r in &here {
            let gvk =
                |kind: &str| json!([{ "group": r.group, "version": r.version, "kind": kind }]);
            if let Some(Value::Object(s)) = defs.get_mut(r.schema) {
                s.insert("x-kubernetes-group-version-kind".into(), gvk(r.kind));
            }
            defs.insert(
                r.list_schema(),
                list_schema(r, gvk(&format!("{}List", r.kind))),
            );
        }
        let mut visited = std::collections::BTreeSet::new();
        for r in &here {
            let api_version = if r.group.is_empty() {
                r.version.to_string()
            } else {
                format!("{}/{}", r.group, r.version)
            };
            if let Some(t) = patch_meta::schema_for(&api_version, r.kind).and_then(|s| s.type_()) {
                decorate(&mut defs, r.schema, t, &mut visited);
            }
        }
        let path = gv_path(group, version);
        let doc = json!({
            "openapi": "3.0.0",
            "info": { "title": "Kubernetes", "version": kubernetes_version },
            "paths": paths(&here),
            "components": {
                "schemas": Value::Object(defs),
                "securitySchemes": {
                    "BearerToken": {
                        "type": "apiKey",
                        "description": "Bearer Token authentication",
                        "name": "authorization",
                        "in": "header"
                    }
                }
            },
            "security": [{ "BearerToken": [] }]
        });
        let hash = content_hash(&doc);
        root_paths.insert(
            path.clone(),
            json!({ "serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}") }),
        );
        by_group_version.push((path, doc));
    }
    Documents {
        root: json!({ "paths": Value::Object(root_paths) }),
        by_group_version,
    }
}

/// Adds the extensions of struct `t` and of its notable fields to the schema named `name`, and
/// descends into the schemas its fields refer to (directly, through `allOf`, or as list items).
fn decorate(
    defs: &mut Map<String, Value>,
    name: &str,
    t: &'static patch_meta::Type,
    visited: &mut std::collections::BTreeSet<String>,
) {
    if !visited.insert(name.to_string()) {
        return;
    }
    let mut next = Vec::new();
    if let Some(Value::Object(schema)) = defs.get_mut(name) {
        schema.extend(t.openapi_extensions());
        for f in t.fields {
            let Some(Value::Object(prop)) =
                schema.get_mut("properties").and_then(|p| p.get_mut(f.name))
            else {
                continue;
            };
            prop.extend(f.openapi_extensions());
            if let Some(elem) = f.elem {
                let target = prop.get("items").unwrap_or(&Value::Null);
                let reference = ref_of(target).or_else(|| ref_of(&Value::Object(prop.clone())));
                if let Some(r) = reference {
                    next.push((r, elem));
                }
            }
        }
    }
    for (r, elem) in next {
        decorate(defs, &r, elem, visited);
    }
}

/// The schema name a property refers to: `$ref`, or the one entry of `allOf`.
fn ref_of(v: &Value) -> Option<String> {
    let r = v
        .get("$ref")
        .or_else(|| v.get("allOf")?.as_array()?.first()?.get("$ref"))?
        .as_str()?;
    r.strip_prefix("#/components/schemas/").map(str::to_string)
}

/// A stable hash of a document's JSON, so a client's cache key changes with the content.
fn content_hash(doc: &Value) -> String {
    // FNV-1a over the serialized document: deterministic across runs and platforms.
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `DeploymentList` and its kin: k8s-openapi has one generic `List<T>` without a schema, so
/// the list schemas are written here as upstream spells them.
fn list_schema(r: &DocResource, gvk: Value) -> Value {
    json!({
        "description": format!("{}List is a list of {}.", r.kind, r.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": { "type": "string", "description": "APIVersion defines the versioned schema of this representation of an object." },
            "items": {
                "type": "array",
                "description": format!("Items is the list of {}.", r.kind),
                "items": { "allOf": [schema_ref(r.schema)], "default": {} }
            },
            "kind": { "type": "string", "description": "Kind is a string value representing the REST resource this object represents." },
            "metadata": {
                "allOf": [schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")],
                "default": {},
                "description": "Standard list metadata."
            }
        },
        "x-kubernetes-group-version-kind": gvk
    })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_content(schema: Value) -> Value {
    json!({
        "application/json": { "schema": schema.clone() },
        "application/yaml": { "schema": schema }
    })
}

fn query(name: &str, description: &str, ty: &str) -> Value {
    json!({
        "name": name,
        "in": "query",
        "description": description,
        "schema": { "type": ty, "uniqueItems": true }
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "description": description,
        "required": true,
        "schema": { "type": "string", "uniqueItems": true }
    })
}

const DRY_RUN: &str = "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed";
const FIELD_MANAGER: &str = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.";
const FIELD_VALIDATION: &str = "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present.";
const FORCE: &str = "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.";

fn write_params(patch: bool) -> Vec<Value> {
    let mut v = vec![
        query("dryRun", DRY_RUN, "string"),
        query("fieldManager", FIELD_MANAGER, "string"),
        query("fieldValidation", FIELD_VALIDATION, "string"),
    ];
    if patch {
        v.push(query("force", FORCE, "boolean"));
    }
    v
}

fn list_params() -> Vec<Value> {
    [
        ("allowWatchBookmarks", "allowWatchBookmarks requests watch events with type \"BOOKMARK\".", "boolean"),
        ("continue", "The continue option should be set when retrieving more results from the server.", "string"),
        ("fieldSelector", "A selector to restrict the list of returned objects by their fields. Defaults to everything.", "string"),
        ("labelSelector", "A selector to restrict the list of returned objects by their labels. Defaults to everything.", "string"),
        ("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
        ("resourceVersion", "resourceVersion sets a constraint on what resource versions a request may be served from.", "string"),
        ("resourceVersionMatch", "resourceVersionMatch determines how resourceVersion is applied to list calls.", "string"),
        ("sendInitialEvents", "`sendInitialEvents=true` may be set together with `watch=true`.", "boolean"),
        ("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
        ("watch", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", "boolean"),
    ]
    .iter()
    .map(|(n, d, t)| query(n, d, t))
    .collect()
}

/// `listAppsV1NamespacedDeployment`, upstream's operation ids.
fn operation_id(verb: &str, r: &DocResource, namespaced: bool, suffix: &str) -> String {
    let mut group = String::new();
    for part in r.group.split('.').next().unwrap_or("").split('-') {
        let mut cs = part.chars();
        if let Some(c) = cs.next() {
            group.push(c.to_ascii_uppercase());
            group.push_str(cs.as_str());
        }
    }
    if r.group.is_empty() {
        group = "Core".into();
    }
    let version = {
        let mut cs = r.version.chars();
        cs.next()
            .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
            .unwrap_or_default()
    };
    let scope = if namespaced { "Namespaced" } else { "" };
    format!("{verb}{group}{version}{scope}{}{suffix}", r.kind)
}

fn op(
    r: &DocResource,
    action: &str,
    id: String,
    description: String,
    parameters: Vec<Value>,
    body: Option<Value>,
    response: Value,
) -> Value {
    let tag = if r.group.is_empty() {
        format!("core_{}", r.version)
    } else {
        format!("{}_{}", r.group.split('.').next().unwrap_or(""), r.version)
    };
    let mut o = json!({
        "tags": [tag],
        "description": description,
        "operationId": id,
        "responses": {
            "200": { "description": "OK", "content": json_content(response.clone()) },
            "401": { "description": "Unauthorized" }
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": { "group": r.group, "version": r.version, "kind": r.kind }
    });
    if !parameters.is_empty() {
        o["parameters"] = Value::Array(parameters);
    }
    if let Some(b) = body {
        o["requestBody"] = json!({ "content": { "*/*": { "schema": b } }, "required": true });
    }
    o
}

fn paths(resources: &[&DocResource]) -> Value {
    let mut out = Map::new();
    for r in resources {
        let base = if r.group.is_empty() {
            format!("/api/{}", r.version)
        } else {
            format!("/apis/{}/{}", r.group, r.version)
        };
        let collection = if r.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{base}/{}", r.plural)
        };
        let mut common = vec![];
        if r.namespaced {
            common.push(path_param(
                "namespace",
                "object name and auth scope, such as for teams and projects",
            ));
        }
        let obj = schema_ref(r.schema);
        let kind = r.kind;
        let mut coll = Map::new();
        coll.insert(
            "get".into(),
            op(
                r,
                "list",
                operation_id("list", r, r.namespaced, ""),
                format!("list or watch objects of kind {kind}"),
                list_params(),
                None,
                schema_ref(&r.list_schema()),
            ),
        );
        coll.insert(
            "post".into(),
            op(
                r,
                "post",
                operation_id("create", r, r.namespaced, ""),
                format!("create a {kind}"),
                write_params(false),
                Some(obj.clone()),
                obj.clone(),
            ),
        );
        coll.insert(
            "delete".into(),
            op(
                r,
                "deletecollection",
                operation_id("deleteCollection", r, r.namespaced, ""),
                format!("delete collection of {kind}"),
                list_params(),
                None,
                schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
            ),
        );
        if !common.is_empty() {
            coll.insert("parameters".into(), Value::Array(common.clone()));
        }
        out.insert(collection.clone(), Value::Object(coll));

        let item = format!("{collection}/{{name}}");
        let mut item_params = vec![path_param("name", &format!("name of the {kind}"))];
        item_params.extend(common.iter().cloned());
        let item_ops = |suffix: &str, sub: &str, body: Value| {
            let what = if sub.is_empty() {
                format!("the specified {kind}")
            } else {
                format!("{sub} of the specified {kind}")
            };
            let mut m = Map::new();
            m.insert(
                "get".into(),
                op(
                    r,
                    "get",
                    operation_id("read", r, r.namespaced, suffix),
                    format!("read {what}"),
                    vec![],
                    None,
                    body.clone(),
                ),
            );
            m.insert(
                "put".into(),
                op(
                    r,
                    "put",
                    operation_id("replace", r, r.namespaced, suffix),
                    format!("replace {what}"),
                    write_params(false),
                    Some(body.clone()),
                    body.clone(),
                ),
            );
            m.insert(
                "patch".into(),
                op(
                    r,
                    "patch",
                    operation_id("patch", r, r.namespaced, suffix),
                    format!("partially update {what}"),
                    write_params(true),
                    Some(schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch")),
                    body,
                ),
            );
            m.insert("parameters".into(), Value::Array(item_params.clone()));
            m
        };
        let mut main = item_ops("", "", obj.clone());
        main.insert(
            "delete".into(),
            op(
                r,
                "delete",
                operation_id("delete", r, r.namespaced, ""),
                format!("delete a {kind}"),
                vec![
                    query("dryRun", DRY_RUN, "string"),
                    query("gracePeriodSeconds", "The duration in seconds before the object should be deleted.", "integer"),
                    query("propagationPolicy", "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.", "string"),
                ],
                None,
                schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
            ),
        );
        out.insert(item.clone(), Value::Object(main));
        if r.status {
            out.insert(
                format!("{item}/status"),
                Value::Object(item_ops("Status", "status", obj.clone())),
            );
        }
        if r.scale {
            out.insert(
                format!("{item}/scale"),
                Value::Object(item_ops(
                    "Scale",
                    "scale",
                    schema_ref("io.k8s.api.autoscaling.v1.Scale"),
                )),
            );
        }
        if r.namespaced {
            let all = format!("{base}/{}", r.plural);
            let mut m = Map::new();
            m.insert(
                "get".into(),
                op(
                    r,
                    "list",
                    operation_id("list", r, false, "ForAllNamespaces"),
                    format!("list or watch objects of kind {kind}"),
                    list_params(),
                    None,
                    schema_ref(&r.list_schema()),
                ),
            );
            out.insert(all, Value::Object(m));
        }
    }
    Value::Object(out)
}

/// The schema name k8s-openapi gives each served kind, after adding that schema (and everything
/// it refers to) to the generator. `None` for a kind the server has no typed schema for.
fn add_schema(
    generator: &mut schemars::SchemaGenerator,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<&'static str> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, core::v1 as core,
        discovery::v1 as discovery,
    };
    macro_rules! add {
        ($t:ty, $name:expr) => {{
            generator.subschema_for::<$t>();
            Some($name)
        }};
    }
    match (group, version, kind) {
        ("", "v1", "ConfigMap") => add!(core::ConfigMap, "io.k8s.api.core.v1.ConfigMap"),
        ("", "v1", "Endpoints") => add!(core::Endpoints, "io.k8s.api.core.v1.Endpoints"),
        ("", "v1", "Event") => add!(core::Event, "io.k8s.api.core.v1.Event"),
        ("", "v1", "Namespace") => add!(core::Namespace, "io.k8s.api.core.v1.Namespace"),
        ("", "v1", "Node") => add!(core::Node, "io.k8s.api.core.v1.Node"),
        ("", "v1", "PersistentVolumeClaim") => add!(
            core::PersistentVolumeClaim,
            "io.k8s.api.core.v1.PersistentVolumeClaim"
        ),
        ("", "v1", "PersistentVolume") => add!(
            core::PersistentVolume,
            "io.k8s.api.core.v1.PersistentVolume"
        ),
        ("", "v1", "Pod") => add!(core::Pod, "io.k8s.api.core.v1.Pod"),
        ("", "v1", "Secret") => add!(core::Secret, "io.k8s.api.core.v1.Secret"),
        ("", "v1", "Service") => add!(core::Service, "io.k8s.api.core.v1.Service"),
        ("apps", "v1", "ControllerRevision") => add!(
            apps::ControllerRevision,
            "io.k8s.api.apps.v1.ControllerRevision"
        ),
        ("apps", "v1", "Deployment") => add!(apps::Deployment, "io.k8s.api.apps.v1.Deployment"),
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => add!(
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
        ),
        ("apps", "v1", "ReplicaSet") => add!(apps::ReplicaSet, "io.k8s.api.apps.v1.ReplicaSet"),
        ("apps", "v1", "StatefulSet") => add!(apps::StatefulSet, "io.k8s.api.apps.v1.StatefulSet"),
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => add!(
            autoscaling::HorizontalPodAutoscaler,
            "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"
        ),
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => add!(
            k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler,
            "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler"
        ),
        ("discovery.k8s.io", "v1", "EndpointSlice") => add!(
            discovery::EndpointSlice,
            "io.k8s.api.discovery.v1.EndpointSlice"
        ),
        _ => None,
    }
}

/// The documents of every served built-in resource, built once.
pub fn served() -> &'static Documents {
    static DOCS: std::sync::OnceLock<Documents> = std::sync::OnceLock::new();
    DOCS.get_or_init(|| {
        let mut probe = SchemaSettings::openapi3().into_generator();
        let resources: Vec<DocResource> = rest::RESOURCES
            .iter()
            .filter_map(|r| {
                Some(DocResource {
                    group: r.group,
                    version: r.version,
                    plural: r.plural,
                    kind: r.kind,
                    namespaced: r.namespaced,
                    status: r.subresources.contains(&"status"),
                    scale: r.subresources.contains(&"scale"),
                    schema: add_schema(&mut probe, r.group, r.version, r.kind)?,
                })
            })
            .collect();
        documents(
            &resources,
            |generator, r| {
                add_schema(generator, r.group, r.version, r.kind);
            },
            crate::discovery::KUBERNETES_VERSION,
        )
    })
}

/// The schema name upstream gives a custom kind: the group reversed, the version, the kind
/// (`com.example.stable.v1.CronTab`).
fn custom_schema_name(group: &str, version: &str, kind: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').collect();
    parts.reverse();
    format!("{}.{version}.{kind}", parts.join("."))
}

/// The documents of the custom resources the Established CRDs serve, one per group-version,
/// keyed by path (`apis/stable.example.com/v1`). Each kind's schema is its version's
/// `openAPIV3Schema` with `metadata` as `ObjectMeta` and its `x-kubernetes-group-version-kind`,
/// so `kubectl explain` and kubectl's field-validation check find it.
pub fn custom_documents(c: &kubespec_engine::Cluster) -> Vec<(String, Value)> {
    // (group, version) → its resources with their schemas, in order of first appearance.
    type GroupVersion<'a> = ((&'a str, &'a str), Vec<(DocResource, Value)>);
    let mut by_gv: Vec<GroupVersion<'_>> = Vec::new();
    for r in c.custom_resources.infos() {
        let Some(v) = c
            .custom_resources
            .description(r.group, r.plural)
            .and_then(|d| d.version(r.version))
        else {
            continue;
        };
        let schema = v
            .schema
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or_else(|| json!({"type": "object"}));
        let doc = DocResource {
            group: r.group,
            version: r.version,
            plural: r.plural,
            kind: r.kind,
            namespaced: r.namespaced,
            status: r.subresources.contains(&"status"),
            scale: r.subresources.contains(&"scale"),
            schema: rest::intern(&custom_schema_name(r.group, r.version, r.kind)),
        };
        match by_gv.iter_mut().find(|(gv, _)| *gv == (r.group, r.version)) {
            Some((_, list)) => list.push((doc, schema)),
            None => by_gv.push(((r.group, r.version), vec![(doc, schema)])),
        }
    }
    by_gv
        .into_iter()
        .map(|((g, v), resources)| (gv_path(g, v), custom_document(&resources)))
        .collect()
}

fn custom_document(resources: &[(DocResource, Value)]) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let object_meta = generator.subschema_for::<meta::ObjectMeta>();
    generator.subschema_for::<meta::ListMeta>();
    generator.subschema_for::<meta::Status>();
    generator.subschema_for::<meta::Patch>();
    generator.subschema_for::<meta::DeleteOptions>();
    if resources.iter().any(|(r, _)| r.scale) {
        generator.subschema_for::<k8s_openapi::api::autoscaling::v1::Scale>();
    }
    let object_meta = serde_json::to_value(&object_meta).unwrap_or(Value::Null);
    let mut defs = generator.take_definitions(true);
    for (r, schema) in resources {
        let gvk = |kind: &str| json!([{ "group": r.group, "version": r.version, "kind": kind }]);
        let mut s = schema.clone();
        if let Some(o) = s.as_object_mut() {
            let props = o
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            if let Some(props) = props {
                props.insert(
                    "metadata".into(),
                    json!({"allOf": [object_meta.clone()], "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}),
                );
                for field in ["apiVersion", "kind"] {
                    props
                        .entry(field)
                        .or_insert_with(|| json!({"type": "string"}));
                }
            }
            o.insert("x-kubernetes-group-version-kind".into(), gvk(r.kind));
        }
        defs.insert(r.schema.to_string(), s);
        defs.insert(
            r.list_schema(),
            list_schema(r, gvk(&format!("{}List", r.kind))),
        );
    }
    let here: Vec<&DocResource> = resources.iter().map(|(r, _)| r).collect();
    json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes CRD Swagger", "version": "v0.1.0" },
        "paths": paths(&here),
        "components": {
            "schemas": Value::Object(defs),
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header"
                }
            }
        },
        "security": [{ "BearerToken": [] }]
    })
}

/// `/openapi/v3`: the built-in group-versions and the `custom` ones ([`custom_documents`]).
pub fn root(custom: &[(String, Value)]) -> Value {
    let mut root = served().root.clone();
    for (path, doc) in custom {
        let hash = content_hash(doc);
        root["paths"][path.as_str()] =
            json!({ "serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}") });
    }
    root
}

/// The document at `/openapi/v3/<path>` (`api/v1`, `apis/apps/v1`), if there is one.
pub fn document(path: &str) -> Option<&'static Value> {
    served()
        .by_group_version
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_lists_every_served_group_version() {
        let root = &served().root["paths"];
        for p in [
            "api/v1",
            "apis/apps/v1",
            "apis/autoscaling/v2",
            "apis/discovery.k8s.io/v1",
        ] {
            let url = root[p]["serverRelativeURL"].as_str().unwrap_or_default();
            assert!(
                url.starts_with(&format!("/openapi/v3/{p}?hash=")),
                "{p}: {url}"
            );
            assert!(document(p).is_some(), "{p}");
        }
    }

    /// kubectl's `QueryParamVerifierV3`: a PATCH operation with the kind's GVK and an inline
    /// `fieldValidation` parameter means the server validates fields itself.
    #[test]
    fn patch_operations_carry_the_gvk_and_field_validation() {
        let doc = document("apis/apps/v1").expect("apps/v1");
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            op["x-kubernetes-group-version-kind"],
            serde_json::json!({"group": "apps", "version": "v1", "kind": "Deployment"})
        );
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(names.contains(&"fieldValidation"), "{names:?}");
    }

    #[test]
    fn schemas_carry_patch_strategies_and_list_keys() {
        let doc = document("apis/apps/v1").expect("apps/v1");
        let schemas = &doc["components"]["schemas"];
        let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-list-type"], "map");
        assert_eq!(
            schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]["x-kubernetes-patch-strategy"],
            "retainKeys"
        );
        assert_eq!(
            schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        assert_eq!(
            schemas["io.k8s.api.apps.v1.DeploymentList"]["properties"]["items"]["items"]["allOf"]
                [0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.Deployment"
        );
        // Every reference resolves inside the document.
        let text = serde_json::to_string(doc).expect("json");
        for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &r[..r.find('"').expect("end of ref")];
            assert!(schemas.get(name).is_some(), "dangling $ref {name}");
        }
    }
}

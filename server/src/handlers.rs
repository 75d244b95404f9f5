//! Requests to responses: authentication, path parsing, and each verb on the engine's REST
//! layer ([`kubespec_engine::api::rest`]). See [`handle`], the one handler behind every path.
//!
//! Paths are parsed here rather than by the router's patterns because the API's grammar is
//! ambiguous for a pattern matcher (`/api/v1/namespaces/{ns}/pods` and
//! `/api/v1/nodes/{name}/status` have the same shape).

use crate::patch::{apply_patch, own_update, patch_type};
use crate::state::AppState;
use crate::{discovery, fieldvalidation, watch};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kubespec_engine::Cluster;
use kubespec_engine::api::ApiError;
use kubespec_engine::api::patch::{self as engine_patch, PatchError, PatchType, TypeRef};
use kubespec_engine::api::rest::{self, ResourceInfo, Selectors, Status, Subresource};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// Upstream's limit on a request body (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// A JSON response.
fn json_response(code: u16, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn status_response(s: &Status) -> Response {
    json_response(s.code, &s.to_json())
}

fn ok(v: &Value) -> Response {
    json_response(200, v)
}

fn not_found_path() -> Status {
    Status::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// Every request: checks the token, then routes by path and method. Logs each request at debug
/// level.
pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let response = handle_inner(state, req).await;
    tracing::debug!(%method, %uri, status = response.status().as_u16(), "request");
    response
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = state.shared.config.token.as_deref() else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == token)
}

async fn handle_inner(state: AppState, req: Request) -> Response {
    if !authorized(&state, req.headers()) {
        return status_response(&Status::new(401, "Unauthorized", "Unauthorized"));
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return status_response(&Status::new(
                413,
                "RequestEntityTooLarge",
                format!("the request body is larger than the limit of {MAX_BODY} bytes"),
            ));
        }
    };
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let path = parts.uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let req = Req {
        state,
        method: parts.method,
        headers: parts.headers,
        query,
        body,
    };
    match route(&req, &segments) {
        Ok(r) => r,
        Err(s) => status_response(&s),
    }
}

struct Req {
    state: AppState,
    method: Method,
    headers: HeaderMap,
    query: HashMap<String, String>,
    body: bytes::Bytes,
}

impl Req {
    fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    /// `fieldValidation`: what to do about unknown fields in the body.
    fn field_validation(&self) -> Result<fieldvalidation::Directive, Status> {
        fieldvalidation::Directive::parse(self.q("fieldValidation"))
    }

    /// Who makes a write: `fieldManager`, or the client's user agent up to its first `/`.
    fn field_manager(&self) -> String {
        match self.q("fieldManager") {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => crate::patch::manager_from_user_agent(
                self.headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok()),
            ),
        }
    }

    fn flag(&self, k: &str) -> bool {
        matches!(self.q(k), Some("true" | "1"))
    }

    /// The body as JSON (JSON or YAML by `Content-Type`).
    fn json_body(&self) -> Result<Value, Status> {
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_ascii_lowercase();
        if ct.contains("protobuf") || ct.contains("cbor") {
            return Err(Status::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types \
                     include: application/json, application/yaml (got {ct:?}); kubespec serve does \
                     not read protobuf, which kubectl's `create <kind>` generators send: use \
                     `kubectl create -f` or `kubectl apply -f`"
                ),
            ));
        }
        if self.body.is_empty() {
            return Err(Status::bad_request("the request body is empty"));
        }
        if ct.contains("yaml") {
            let text = std::str::from_utf8(&self.body)
                .map_err(|_| Status::bad_request("the YAML body is not UTF-8"))?;
            return serde_saphyr::from_str::<Value>(text)
                .map_err(|e| Status::bad_request(format!("the YAML body does not parse: {e}")));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| Status::bad_request(format!("the JSON body does not parse: {e}")))
    }

    /// Whether the client asked for a `meta.k8s.io/v1` Table (kubectl get).
    fn wants_table(&self) -> bool {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(crate::table::wants_table)
    }

    /// `dryRun`: `All` (the only directive upstream knows) or nothing. `options` names the
    /// verb's options kind in the error, as upstream's validation does.
    fn dry_run(&self, options: &str) -> Result<bool, Status> {
        match self.q("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(Status::new(
                422,
                "Invalid",
                format!(
                    "{options}.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: \"{other}\": supported values: \"All\""
                ),
            )),
        }
    }

    /// Runs a write on the cluster, or on a copy of it for a dry run.
    fn write<R>(&self, dry_run: bool, f: impl FnOnce(&mut Cluster) -> R) -> R {
        if dry_run {
            self.state.dry_run(f)
        } else {
            self.state.write(f)
        }
    }
}

fn route(req: &Req, seg: &[&str]) -> Result<Response, Status> {
    let get_only = |v: Option<Value>| -> Result<Response, Status> {
        if req.method != Method::GET {
            return Err(Status::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
        v.map(|v| ok(&v)).ok_or_else(not_found_path)
    };
    match seg {
        ["healthz" | "readyz" | "livez", ..] => {
            return Ok(Response::builder()
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("ok"))
                .unwrap_or_default());
        }
        ["version"] => return get_only(Some(discovery::version())),
        ["api"] => return get_only(Some(discovery::core_versions())),
        ["apis"] => {
            return get_only(Some(
                req.state.read(|c| discovery::group_list(&rest::served(c))),
            ));
        }
        ["apis", g] => {
            return get_only(
                req.state
                    .read(|c| discovery::group_doc(&rest::served(c), g)),
            );
        }
        ["openapi", "v3"] => {
            let custom = req.state.read(crate::openapi::custom_documents);
            return get_only(Some(crate::openapi::root(&custom)));
        }
        ["openapi", "v3", path @ ..] => {
            let path = path.join("/");
            if let Some(doc) = crate::openapi::document(&path) {
                return get_only(Some(doc.clone()));
            }
            let custom = req.state.read(crate::openapi::custom_documents);
            return get_only(custom.into_iter().find(|(p, _)| *p == path).map(|(_, d)| d));
        }
        ["kubespec", "v1", "advance"] => return advance(req),
        ["kubespec", "v1", "clock"] => {
            let now = req.state.now();
            return get_only(Some(clock_doc(now)));
        }
        ["kubespec", "v1", rest @ ..] => {
            let out = crate::control::handle(&req.state, &req.method, rest, &req.query, &req.body);
            return out.ok_or_else(not_found_path)?.map(|v| ok(&v));
        }
        _ => {}
    }
    let (group, version, rest) = match seg {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found_path()),
    };
    if rest.is_empty() {
        return get_only(
            req.state
                .read(|c| discovery::resource_list(&rest::served(c), group, version)),
        );
    }
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    // namespaces/{ns}/{resource}[/{name}[/{sub}]], or {resource}[/{name}[/{sub}]].
    let (namespace, plural, name, sub) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => (
            Some(*ns),
            *plural,
            tail.first().copied(),
            tail.get(1).copied(),
        ),
        [plural, tail @ ..] => (None, *plural, tail.first().copied(), tail.get(1).copied()),
        [] => return Err(not_found_path()),
    };
    if rest.len() > 5 {
        return Err(not_found_path());
    }
    let r = req
        .state
        .read(|c| rest::find_in(c, group, version, plural))
        .ok_or_else(not_found_path)?;
    let r = &r;
    if namespace.is_some() && !r.namespaced {
        return Err(not_found_path());
    }
    if let Some(s) = sub
        && !r.has_subresource(s)
    {
        return Err(not_found_path());
    }
    let ns = namespace.unwrap_or("default");
    let watching = watch_path || req.flag("watch");
    match (&req.method, name, sub) {
        (&Method::GET, None, None) if watching => watch(req, r, namespace, None),
        (&Method::GET, Some(n), None) if watching => watch(req, r, namespace, Some(n)),
        (&Method::GET, None, None) => list(req, r, namespace),
        (&Method::GET, Some(n), Some("scale")) => {
            Ok(ok(&req.state.read(|c| rest::get_scale(c, r, ns, n))?))
        }
        (&Method::GET, Some(n), None) if req.wants_table() => {
            let include = crate::table::include(req.q("includeObject"))?;
            let table = req.state.read(|c| {
                rest::get(c, r, ns, n)
                    .map(|obj| table(c, r, &[obj], c.resource_version(), None, include))
            })?;
            Ok(ok(&table))
        }
        (&Method::GET, Some(n), _) => Ok(ok(&req.state.read(|c| rest::get(c, r, ns, n))?)),
        (&Method::POST, None, None) => {
            let dry = req.dry_run("CreateOptions")?;
            if r.namespaced && namespace.is_none() {
                return Err(Status::method_not_allowed(
                    "the server does not allow this method on the requested resource",
                ));
            }
            let body = req.json_body()?;
            let warnings = fieldvalidation::check(r, &body, req.field_validation()?)?;
            let manager = req.field_manager();
            let fv = rest::FieldValidation::parse(req.q("fieldValidation"))?;
            let mut created = req.write(dry, |c| {
                let body = own_update(r, None, None, body, &manager, &rfc3339(c.now()));
                rest::create_with(c, r, ns, body, fv)
            })?;
            if dry {
                dry_run_version(&mut created.object, None);
            }
            Ok(written(201, &created, warnings))
        }
        (&Method::PUT, Some(n), sub) => {
            let dry = req.dry_run("UpdateOptions")?;
            let body = req.json_body()?;
            let warnings = match sub {
                Some("scale") => Vec::new(),
                _ => fieldvalidation::check(r, &body, req.field_validation()?)?,
            };
            let manager = req.field_manager();
            let fv = rest::FieldValidation::parse(req.q("fieldValidation"))?;
            let out = req.write(dry, |c| {
                let old = rest::get(c, r, ns, n).ok();
                let now = rfc3339(c.now());
                let live = match sub {
                    Some("scale") => rest::get_scale(c, r, ns, n).ok(),
                    _ => old.clone(),
                };
                let out = match sub {
                    Some("scale") => rest::update_scale(c, r, ns, n, &body).map(no_warnings),
                    Some(_) => {
                        let body = own_update(r, sub, old.as_ref(), body, &manager, &now);
                        rest::update_with(c, r, ns, n, body, Subresource::Status, fv)
                    }
                    None => {
                        let body = own_update(r, None, old.as_ref(), body, &manager, &now);
                        rest::update_with(c, r, ns, n, body, Subresource::Main, fv)
                    }
                };
                out.map(|mut w| {
                    if dry {
                        dry_run_version(&mut w.object, live.as_ref());
                    }
                    w
                })
            })?;
            Ok(written(200, &out, warnings))
        }
        (&Method::PATCH, Some(n), sub) => {
            let dry = req.dry_run("PatchOptions")?;
            patch(req, r, ns, n, sub, dry)
        }
        (&Method::DELETE, Some(n), None) => {
            let DeleteOpts {
                propagation: p,
                precondition,
                dry_run: dry,
            } = delete_options(req)?;
            let out = req.write(dry, |c| {
                let live = rest::get(c, r, ns, n).ok();
                rest::delete(c, r, ns, n, p, precondition.as_deref()).map(|mut v| {
                    if dry {
                        dry_run_version(&mut v, live.as_ref());
                    }
                    v
                })
            })?;
            Ok(ok(&out))
        }
        (&Method::DELETE, None, None) => {
            let DeleteOpts {
                propagation: p,
                dry_run: dry,
                ..
            } = delete_options(req)?;
            let selectors = selectors(req, r)?;
            let items = req.write(dry, |c| {
                rest::delete_collection(c, r, namespace, &selectors, p)
            })?;
            Ok(ok(&list_doc(
                r,
                items,
                req.state.read(|c| c.resource_version()),
                None,
                None,
            )))
        }
        _ => Err(Status::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

fn clock_doc(now: kubespec_engine::Millis) -> Value {
    json!({"now": now.to_time(), "millis": now.0})
}

fn advance(req: &Req) -> Result<Response, Status> {
    if req.method != Method::POST {
        return Err(Status::method_not_allowed(
            "POST /kubespec/v1/advance?by=<duration> moves virtual time",
        ));
    }
    let by = req
        .q("by")
        .ok_or_else(|| Status::bad_request("missing query parameter by=<duration>, e.g. by=5m"))?;
    let by = crate::parse_duration(by).map_err(Status::bad_request)?;
    let now = req.state.advance(by);
    Ok(ok(&clock_doc(now)))
}

fn selectors(req: &Req, r: &ResourceInfo) -> Result<Selectors, Status> {
    Selectors::parse(r.kind, req.q("labelSelector"), req.q("fieldSelector"))
}

/// A DELETE's options: propagation, the resourceVersion precondition, and whether it is a dry
/// run.
struct DeleteOpts {
    propagation: kubespec_engine::Propagation,
    precondition: Option<String>,
    dry_run: bool,
}

fn delete_options(req: &Req) -> Result<DeleteOpts, Status> {
    // DeleteOptions come in the body (kubectl, kube-rs) or the query.
    let opts: Value = if req.body.is_empty() {
        Value::Null
    } else {
        req.json_body()?
    };
    let mut dry_run = req.dry_run("DeleteOptions")?;
    for d in opts
        .get("dryRun")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match d.as_str() {
            Some("All") => dry_run = true,
            other => {
                return Err(Status::new(
                    422,
                    "Invalid",
                    format!(
                        "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: \"{}\": supported values: \"All\"",
                        other.unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let policy = opts
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or_else(|| req.q("propagationPolicy"));
    let orphan = opts
        .get("orphanDependents")
        .and_then(Value::as_bool)
        .or_else(|| req.q("orphanDependents").map(|v| v == "true"));
    let precondition = opts
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(DeleteOpts {
        propagation: rest::propagation(policy, orphan)?,
        precondition,
        dry_run,
    })
}

fn list_doc(
    r: &ResourceInfo,
    items: Vec<Value>,
    rv: u64,
    continue_token: Option<String>,
    remaining: Option<usize>,
) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(t) = continue_token {
        meta["continue"] = t.into();
    }
    if let Some(n) = remaining {
        meta["remainingItemCount"] = n.into();
    }
    json!({
        "kind": format!("{}List", r.kind),
        "apiVersion": r.api_version(),
        "metadata": meta,
        "items": items,
    })
}

fn list(req: &Req, r: &ResourceInfo, namespace: Option<&str>) -> Result<Response, Status> {
    let selectors = selectors(req, r)?;
    let limit = req
        .q("limit")
        .map(|l| {
            l.parse::<usize>()
                .map_err(|_| Status::bad_request(format!("invalid limit {l:?}")))
        })
        .transpose()?;
    let include = if req.wants_table() {
        Some(crate::table::include(req.q("includeObject"))?)
    } else {
        None
    };
    let (l, table) = req.state.read(|c| {
        let l = rest::list(c, r, namespace, &selectors, limit, req.q("continue"));
        let t = match (&l, include) {
            (Ok(l), Some(include)) => Some(table(
                c,
                r,
                &l.items,
                l.resource_version,
                l.continue_token.as_deref(),
                include,
            )),
            _ => None,
        };
        (l, t)
    });
    let l = l?;
    if let Some(t) = table {
        return Ok(ok(&t));
    }
    Ok(ok(&list_doc(
        r,
        l.items,
        l.resource_version,
        l.continue_token,
        l.remaining,
    )))
}

fn watch(
    req: &Req,
    r: &ResourceInfo,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<Response, Status> {
    let mut selectors = selectors(req, r)?;
    if let Some(n) = name {
        selectors.fields.push(rest::FieldRequirement {
            field: "metadata.name".into(),
            value: n.into(),
            equal: true,
        });
    }
    let timeout = match req.q("timeoutSeconds") {
        Some(t) => Duration::from_secs(
            t.parse::<u64>()
                .map_err(|_| Status::bad_request(format!("invalid timeoutSeconds {t:?}")))?,
        ),
        // Upstream picks between 30 and 60 minutes.
        None => Duration::from_secs(1800),
    };
    let w = watch::WatchRequest {
        resource: *r,
        namespace: namespace.map(str::to_string),
        selectors,
        resource_version: req.q("resourceVersion").map(str::to_string),
        timeout,
        bookmarks: req.flag("allowWatchBookmarks"),
        send_initial_events: req.flag("sendInitialEvents"),
        table: if req.wants_table() {
            Some(crate::table::include(req.q("includeObject"))?)
        } else {
            None
        },
    };
    let interval = req.state.shared.config.bookmark_interval;
    let body = Body::from_stream(watch::stream(req.state.clone(), w, interval));
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap_or_default())
}

fn patch(
    req: &Req,
    r: &ResourceInfo,
    ns: &str,
    name: &str,
    sub: Option<&str>,
    dry: bool,
) -> Result<Response, Status> {
    let ct = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let force = match req.q("force") {
        None => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(other) => {
            return Err(Status::bad_request(format!(
                "force: Invalid value: {other:?}: must be true or false"
            )));
        }
    };
    let patch_type = patch_type(r, sub, ct, req.q("fieldManager"), force)?;
    let manager = req.field_manager();
    let fv = rest::FieldValidation::parse(req.q("fieldValidation"))?;
    let directive = req.field_validation()?;
    let mut warnings = Vec::new();
    let (out, created) = req.write(dry, |c| {
        let live = match sub {
            Some("scale") => rest::get_scale(c, r, ns, name).ok(),
            _ => rest::get(c, r, ns, name).ok(),
        };
        let now = rfc3339(c.now());
        let new = match custom_schema(c, r, sub) {
            Some(schema) => custom_patch(
                r,
                name,
                live.as_ref(),
                &req.body,
                &patch_type,
                &now,
                &schema,
            )?,
            None => apply_patch(r, sub, name, live.as_ref(), &req.body, &patch_type, &now)?,
        };
        if sub != Some("scale") {
            warnings = fieldvalidation::check(r, &new, directive)?;
        }
        // Server-side apply records its own ownership; other patches are updates by `manager`.
        let new = match patch_type {
            PatchType::Apply { .. } => new,
            _ => own_update(r, sub, live.as_ref(), new, &manager, &now),
        };
        let out =
            match (sub, live.is_some()) {
                (Some("scale"), _) => rest::update_scale(c, r, ns, name, &new)
                    .map(no_warnings)
                    .map(|v| (v, false)),
                (None, false) => rest::create_with(c, r, ns, new, fv).map(|v| (v, true)),
                (Some(_), _) => rest::update_with(c, r, ns, name, new, Subresource::Status, fv)
                    .map(|v| (v, false)),
                (None, true) => rest::update_with(c, r, ns, name, new, Subresource::Main, fv)
                    .map(|v| (v, false)),
            };
        out.map(|(mut w, created)| {
            if dry {
                dry_run_version(&mut w.object, live.as_ref());
            }
            (w, created)
        })
    })?;
    Ok(written(if created { 201 } else { 200 }, &out, warnings))
}

/// What a dry run answers for `metadata.resourceVersion`: the live object's (none for a
/// creation), since nothing was stored (upstream's `DryRunnableStorage`).
fn dry_run_version(answer: &mut Value, live: Option<&Value>) {
    let Some(m) = answer.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    match live.and_then(|l| l.pointer("/metadata/resourceVersion")) {
        Some(rv) => m.insert("resourceVersion".into(), rv.clone()),
        None => m.remove("resourceVersion"),
    };
}

/// A write's response: the object, with a `Warning` header per warning: the built-in kinds'
/// unknown fields (`warnings`), then the engine's (a custom resource's unknown fields, a
/// deprecated version).
fn written(code: u16, w: &rest::Written, mut warnings: Vec<String>) -> Response {
    warnings.extend(w.warnings.iter().cloned());
    with_warnings(json_response(code, &w.object), &warnings)
}

fn no_warnings(object: Value) -> rest::Written {
    rest::Written {
        object,
        warnings: Vec::new(),
    }
}

/// A custom resource version's `openAPIV3Schema` as JSON, for server-side apply's list and
/// map types; `None` for built-in kinds and for the `scale` subresource.
fn custom_schema(c: &Cluster, r: &ResourceInfo, sub: Option<&str>) -> Option<Value> {
    if r.storage != rest::Storage::Custom || sub == Some("scale") {
        return None;
    }
    let schema = c
        .custom_resources
        .description(r.group, r.plural)?
        .version(r.version)?
        .schema
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok());
    Some(schema.unwrap_or_else(|| json!({"type": "object"})))
}

/// [`apply_patch`] for a custom resource: the patch module with the CRD's schema.
fn custom_patch(
    r: &ResourceInfo,
    name: &str,
    live: Option<&Value>,
    body: &[u8],
    patch_type: &PatchType,
    now: &str,
    schema: &Value,
) -> Result<Value, Status> {
    let api_version = r.api_version();
    engine_patch::patch(
        TypeRef::new(&api_version, r.kind).with_openapi_schema(schema),
        live,
        body,
        patch_type,
        now,
    )
    .map_err(|e| match e {
        PatchError::NotFound => Status::not_found(r, name),
        e => Status::from_api(ApiError::from(e), r, name),
    })
}

/// The `Table` of `items` (see [`crate::table::table_of`]).
fn table(
    c: &Cluster,
    r: &ResourceInfo,
    items: &[Value],
    rv: u64,
    continue_token: Option<&str>,
    include: crate::table::Include,
) -> Value {
    let columns = crate::table::custom_columns(c, r);
    crate::table::table_of(
        r,
        columns.as_deref(),
        items,
        c.now(),
        rv,
        continue_token,
        include,
    )
}

/// Adds one `Warning: 299 - "<text>"` header per warning, as the API server does.
fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - {}", serde_json::Value::from(w.as_str()));
        if let Ok(v) = axum::http::HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

/// An RFC 3339 timestamp of a virtual instant, for managedFields.
fn rfc3339(m: kubespec_engine::Millis) -> String {
    m.to_time().0.to_string()
}

//! Validation of user-submitted objects, with the field paths and messages of the real API
//! server. Entry points: [`validate_deployment`], [`validate_deployment_update`],
//! [`validate_replica_set`], [`validate_pod`].
//!
//! Mirrors upstream Kubernetes v1.34: `pkg/apis/apps/validation/validation.go`,
//! `pkg/apis/core/validation/validation.go`, `pkg/registry/apps/deployment/strategy.go` (the
//! apps/v1 selector-immutability rule), and from apimachinery
//! `pkg/api/validation/objectmeta.go`, `pkg/apis/meta/v1/validation/validation.go`,
//! `pkg/util/validation/validation.go` and `pkg/util/validation/field/errors.go`.
//!
//! **Invariants.** Validation runs *after* [`super::defaults`], as upstream's does; a field that
//! defaulting always fills is still checked, so a caller that skips defaulting gets upstream's
//! "should never happen" error rather than a panic. All field errors are collected (none
//! short-circuits the others), deduplicated like `ErrorList.ToAggregate`, and returned as one
//! [`ApiError::invalid_fields`]. Maps are visited in key order, so the message order is
//! deterministic (Go's is not, for label maps).
//!
//! **How values render.** Since v1.34 (kubernetes/kubernetes#132314) `field.Error.ErrorBody`
//! prints a bad value of Go type `string` with `%q`, an `int32`/`int64`/`bool` with `%v`, and
//! *everything else as JSON*: a label map is `{"app":"web"}` (not
//! `map[string]string{"app":"web"}`, the pre-1.34 `%#v` form), a selector is
//! `{"matchLabels":{"app":"web"}}`, an IntOrString is `"25%"` or `0`, and a typedef'd string
//! such as `RestartPolicy` is a JSON string `"Never"`.

use super::{ApiError, FieldError};
use crate::store::Kind;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, HTTPGetAction, Pod, PodSpec, PodTemplateSpec, Probe,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Mirrors `ValidateDeployment`: object metadata (name must be a DNS-1123 subdomain), then
/// `ValidateDeploymentSpec`.
///
/// # Errors
/// An `Invalid` [`ApiError`] listing every offending field.
pub fn validate_deployment(d: &Deployment) -> Result<(), ApiError> {
    let mut e = Errors::default();
    validate_object_meta(&mut e, &d.metadata, true, "metadata");
    validate_deployment_spec(&mut e, &spec_or_default(d), "spec");
    e.finish(Kind::Deployment, &name_of(&d.metadata))
}

/// Mirrors `ValidateDeploymentUpdate` plus the apps/v1 rule in the registry strategy's
/// `ValidateUpdate`: after the usual checks on the new object, `spec.selector` may not change
/// (`field is immutable`). Nil and empty maps and lists compare equal, as in
/// `apiequality.Semantic.DeepEqual`.
///
/// # Errors
/// An `Invalid` [`ApiError`] listing every offending field.
pub fn validate_deployment_update(old: &Deployment, new: &Deployment) -> Result<(), ApiError> {
    let mut e = Errors::default();
    validate_object_meta_update(&mut e, &old.metadata, &new.metadata, "metadata");
    let new_spec = spec_or_default(new);
    validate_deployment_spec(&mut e, &new_spec, "spec");
    let old_spec = spec_or_default(old);
    if !selectors_semantically_equal(&old_spec.selector, &new_spec.selector) {
        e.invalid(
            "spec.selector",
            selector_json(&new_spec.selector),
            "field is immutable",
        );
    }
    e.finish(Kind::Deployment, &name_of(&new.metadata))
}

/// Mirrors `ValidateReplicaSet`: object metadata, then `ValidateReplicaSetSpec`.
///
/// # Errors
/// An `Invalid` [`ApiError`] listing every offending field.
pub fn validate_replica_set(rs: &ReplicaSet) -> Result<(), ApiError> {
    let mut e = Errors::default();
    validate_object_meta(&mut e, &rs.metadata, true, "metadata");
    let spec = rs.spec.clone().unwrap_or_default();
    let p = "spec";
    e.nonnegative(&format!("{p}.replicas"), spec.replicas.unwrap_or(0).into());
    e.nonnegative(
        &format!("{p}.minReadySeconds"),
        spec.min_ready_seconds.unwrap_or(0).into(),
    );
    let selector = validate_selector(&mut e, &spec.selector, p);
    let template = spec.template.unwrap_or_default();
    if let Some(selector) = selector {
        validate_pod_template_spec_for_replica_set(
            &mut e,
            &template,
            &selector,
            &format!("{p}.template"),
        );
    }
    e.finish(Kind::ReplicaSet, &name_of(&rs.metadata))
}

/// Mirrors `ValidatePodCreate` (`validatePodMetadataAndSpec` plus the create-only rules).
///
/// # Errors
/// An `Invalid` [`ApiError`] listing every offending field.
pub fn validate_pod(p: &Pod) -> Result<(), ApiError> {
    let mut e = Errors::default();
    validate_object_meta(&mut e, &p.metadata, true, "metadata");
    let spec = p.spec.clone().unwrap_or_default();
    validate_pod_spec(&mut e, &spec, "spec");
    // validateContainersOnlyForPod: templates tolerate padded images (openshift/origin#14659),
    // pods do not.
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| ("initContainers", i, c));
    for (list, i, c) in spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| ("containers", i, c))
        .chain(init)
    {
        let image = c.image.as_deref().unwrap_or("");
        if image.len() != image.trim().len() {
            e.invalid(
                format!("spec.{list}[{i}].image"),
                go_quote(image),
                "must not have leading or trailing whitespace",
            );
        }
    }
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|v| !v.is_empty())
    {
        e.forbidden("spec.ephemeralContainers", "cannot be set on create");
    }
    if spec.node_name.as_deref().is_some_and(|n| !n.is_empty())
        && spec
            .scheduling_gates
            .as_ref()
            .is_some_and(|g| !g.is_empty())
    {
        e.forbidden(
            "spec.nodeName",
            "cannot be set until all schedulingGates have been cleared",
        );
    }
    e.finish(Kind::Pod, &name_of(&p.metadata))
}

// ---------------------------------------------------------------------------------------------
// Error collection and value rendering (field/errors.go)
// ---------------------------------------------------------------------------------------------

/// `field.ErrorList`. Each constructor renders the body exactly as `Error.ErrorBody` does.
#[derive(Default)]
pub(super) struct Errors(Vec<FieldError>);

impl Errors {
    pub(super) fn push(&mut self, field: impl Into<String>, detail: String) {
        let fe = FieldError {
            field: field.into(),
            detail,
        };
        // ToAggregate drops exact duplicates of an earlier message.
        if !self.0.contains(&fe) {
            self.0.push(fe);
        }
    }

    /// `field.Invalid`: `Invalid value: <value>: <detail>`. `value` is already rendered.
    pub(super) fn invalid(&mut self, field: impl Into<String>, value: String, detail: &str) {
        let body = if detail.is_empty() {
            format!("Invalid value: {value}")
        } else {
            format!("Invalid value: {value}: {detail}")
        };
        self.push(field, body);
    }

    /// `field.Required`: `Required value` or `Required value: <detail>`.
    pub(super) fn required(&mut self, field: impl Into<String>, detail: &str) {
        self.push(field, with_detail("Required value", detail));
    }

    /// `field.Forbidden`: `Forbidden: <detail>`.
    pub(super) fn forbidden(&mut self, field: impl Into<String>, detail: &str) {
        self.push(field, with_detail("Forbidden", detail));
    }

    /// `field.Duplicate`: `Duplicate value: <value>`.
    pub(super) fn duplicate(&mut self, field: impl Into<String>, value: String) {
        self.push(field, format!("Duplicate value: {value}"));
    }

    /// `field.NotSupported`: `Unsupported value: <value>: supported values: "a", "b"`.
    pub(super) fn not_supported(
        &mut self,
        field: impl Into<String>,
        value: String,
        supported: &[&str],
    ) {
        let list: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
        self.push(
            field,
            format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
        );
    }

    /// `ValidateNonnegativeField`.
    pub(super) fn nonnegative(&mut self, field: &str, value: i64) {
        if value < 0 {
            self.invalid(field, value.to_string(), IS_NEGATIVE_ERROR_MSG);
        }
    }

    pub(super) fn finish(self, kind: Kind, name: &str) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_fields(kind, name, self.0))
        }
    }
}

fn with_detail(kind: &str, detail: &str) -> String {
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// `apimachineryvalidation.IsNegativeErrorMsg`.
const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";

/// Go's `%q` (`strconv.Quote`) for a bad value of Go type `string`.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

use crate::api::crd::errors::json_string as json_str;

/// A `map[string]string` as JSON: `null` when nil, keys sorted.
fn json_map(m: Option<&BTreeMap<String, String>>) -> String {
    match m {
        None => "null".into(),
        Some(m) => {
            let body: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", json_str(k), json_str(v)))
                .collect();
            format!("{{{}}}", body.join(","))
        }
    }
}

fn json_str_list(values: &[String]) -> String {
    format!(
        "[{}]",
        values
            .iter()
            .map(|v| json_str(v))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// A `*metav1.LabelSelector` as JSON, fields in Go struct order with `omitempty`.
fn selector_json(s: &LabelSelector) -> String {
    let mut fields = Vec::new();
    if let Some(ml) = s.match_labels.as_ref().filter(|m| !m.is_empty()) {
        fields.push(format!("\"matchLabels\":{}", json_map(Some(ml))));
    }
    if let Some(me) = s.match_expressions.as_ref().filter(|v| !v.is_empty()) {
        let exprs: Vec<String> = me
            .iter()
            .map(|r| {
                let mut f = vec![
                    format!("\"key\":{}", json_str(&r.key)),
                    format!("\"operator\":{}", json_str(&r.operator)),
                ];
                if let Some(v) = r.values.as_ref().filter(|v| !v.is_empty()) {
                    f.push(format!("\"values\":{}", json_str_list(v)));
                }
                format!("{{{}}}", f.join(","))
            })
            .collect();
        fields.push(format!("\"matchExpressions\":[{}]", exprs.join(",")));
    }
    format!("{{{}}}", fields.join(","))
}

/// An `intstr.IntOrString` as JSON: `5` or `"25%"`.
fn int_or_string_json(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => json_str(s),
    }
}

// ---------------------------------------------------------------------------------------------
// Name and label formats (apimachinery pkg/util/validation/validation.go)
// ---------------------------------------------------------------------------------------------

const PERCENT_FMT: &str = "[0-9]+%";

pub(super) use super::names::is_dns1123_label;
use super::names::{
    is_dns1123_subdomain, is_qualified_name, is_valid_label_value, max_len_error, regex_error,
};

/// `IsValidPercent`.
fn is_valid_percent(s: &str) -> Vec<String> {
    let ok = s
        .strip_suffix('%')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()));
    if ok {
        vec![]
    } else {
        vec![regex_error(
            "a valid percent string must be a numeric string followed by an ending '%'",
            PERCENT_FMT,
            &["1%", "93%"],
        )]
    }
}

/// `IsValidPortNum`.
fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        vec![]
    } else {
        vec!["must be between 1 and 65535, inclusive".into()]
    }
}

/// `IsValidPortName`.
fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `ValidateLabels` (meta/v1/validation): each key with `ValidateLabelName`, each value with
/// `IsValidLabelValue`, all reported at the map's own path.
fn validate_labels(e: &mut Errors, labels: Option<&BTreeMap<String, String>>, path: &str) {
    for (k, v) in labels.into_iter().flatten() {
        for msg in is_qualified_name(k) {
            e.invalid(path, go_quote(k), &msg);
        }
        for msg in is_valid_label_value(v) {
            e.invalid(path, go_quote(v), &msg);
        }
    }
}

/// `ValidateAnnotations`: keys must be qualified names (compared lower-cased); total size at
/// most 256 KiB.
fn validate_annotations(
    e: &mut Errors,
    annotations: Option<&BTreeMap<String, String>>,
    path: &str,
) {
    let mut total = 0usize;
    for (k, v) in annotations.into_iter().flatten() {
        for msg in is_qualified_name(&k.to_lowercase()) {
            e.invalid(path, go_quote(k), &msg);
        }
        total += k.len() + v.len();
    }
    const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * (1 << 10);
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        e.push(
            path,
            format!("Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT_B} bytes"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Object metadata (apimachinery pkg/api/validation/objectmeta.go)
// ---------------------------------------------------------------------------------------------

/// `ValidateObjectMeta` with `NameIsDNSSubdomain`, which Deployments, ReplicaSets and Pods all
/// use for their names.
pub(super) fn validate_object_meta(
    e: &mut Errors,
    meta: &ObjectMeta,
    requires_namespace: bool,
    path: &str,
) {
    if let Some(gn) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        // NameIsDNSSubdomain(prefix=true) masks one trailing dash.
        let masked = gn
            .strip_suffix('-')
            .map_or_else(|| gn.to_string(), |s| format!("{s}a"));
        for msg in is_dns1123_subdomain(&masked) {
            e.invalid(format!("{path}.generateName"), go_quote(gn), &msg);
        }
    }
    match meta.name.as_deref().filter(|n| !n.is_empty()) {
        None => e.required(format!("{path}.name"), "name or generateName is required"),
        Some(name) => {
            for msg in is_dns1123_subdomain(name) {
                e.invalid(format!("{path}.name"), go_quote(name), &msg);
            }
        }
    }
    if requires_namespace {
        match meta.namespace.as_deref().filter(|n| !n.is_empty()) {
            None => e.required(format!("{path}.namespace"), ""),
            Some(ns) => {
                for msg in is_dns1123_label(ns) {
                    e.invalid(format!("{path}.namespace"), go_quote(ns), &msg);
                }
            }
        }
    }
    e.nonnegative(&format!("{path}.generation"), meta.generation.unwrap_or(0));
    validate_labels(e, meta.labels.as_ref(), &format!("{path}.labels"));
    validate_annotations(e, meta.annotations.as_ref(), &format!("{path}.annotations"));
}

/// The parts of `ValidateObjectMetaUpdate` that a user can trip: name and namespace are
/// immutable; labels and annotations must still be valid.
pub(super) fn validate_object_meta_update(
    e: &mut Errors,
    old: &ObjectMeta,
    new: &ObjectMeta,
    path: &str,
) {
    let (on, nn) = (
        old.name.clone().unwrap_or_default(),
        new.name.clone().unwrap_or_default(),
    );
    if on != nn {
        e.invalid(format!("{path}.name"), go_quote(&nn), "field is immutable");
    }
    let (ons, nns) = (
        old.namespace.clone().unwrap_or_default(),
        new.namespace.clone().unwrap_or_default(),
    );
    if ons != nns {
        e.invalid(
            format!("{path}.namespace"),
            go_quote(&nns),
            "field is immutable",
        );
    }
    e.nonnegative(&format!("{path}.generation"), new.generation.unwrap_or(0));
    validate_labels(e, new.labels.as_ref(), &format!("{path}.labels"));
    validate_annotations(e, new.annotations.as_ref(), &format!("{path}.annotations"));
}

// ---------------------------------------------------------------------------------------------
// Selectors (meta/v1/validation ValidateLabelSelector, LabelSelectorAsSelector)
// ---------------------------------------------------------------------------------------------

/// A converted selector (`labels.Selector`).
enum Selector {
    /// `labels.Nothing()`: what a nil `*LabelSelector` converts to; matches no labels and is
    /// not `Empty()`.
    Nothing,
    /// Requirements that must all hold; an empty list is `labels.Everything()`.
    Requirements(Vec<Requirement>),
}

enum Requirement {
    Equals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Selector {
    fn is_empty(&self) -> bool {
        matches!(self, Selector::Requirements(r) if r.is_empty())
    }

    fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k));
        match self {
            Selector::Nothing => false,
            Selector::Requirements(reqs) => reqs.iter().all(|r| match r {
                Requirement::Equals(k, v) => get(k) == Some(v),
                Requirement::In(k, vs) => get(k).is_some_and(|v| vs.contains(v)),
                Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.contains(v)),
                Requirement::Exists(k) => get(k).is_some(),
                Requirement::DoesNotExist(k) => get(k).is_none(),
            }),
        }
    }
}

/// k8s-openapi has no nil selector: a missing `selector` deserializes to an empty one. A
/// selector with neither field present is treated as Go's nil.
fn selector_is_nil(s: &LabelSelector) -> bool {
    s.match_labels.is_none() && s.match_expressions.is_none()
}

/// `metav1.LabelSelectorAsSelector`; `None` where upstream returns an error.
fn label_selector_as_selector(s: &LabelSelector) -> Option<Selector> {
    if selector_is_nil(s) {
        return Some(Selector::Nothing);
    }
    let mut reqs = Vec::new();
    for (k, v) in s.match_labels.iter().flatten() {
        if !is_qualified_name(k).is_empty() || !is_valid_label_value(v).is_empty() {
            return None;
        }
        reqs.push(Requirement::Equals(k.clone(), v.clone()));
    }
    for r in s.match_expressions.iter().flatten() {
        let values = r.values.clone().unwrap_or_default();
        if !is_qualified_name(&r.key).is_empty()
            || values.iter().any(|v| !is_valid_label_value(v).is_empty())
        {
            return None;
        }
        let key = r.key.clone();
        reqs.push(match (r.operator.as_str(), values.is_empty()) {
            ("In", false) => Requirement::In(key, values),
            ("NotIn", false) => Requirement::NotIn(key, values),
            ("Exists", true) => Requirement::Exists(key),
            ("DoesNotExist", true) => Requirement::DoesNotExist(key),
            _ => return None,
        });
    }
    Some(Selector::Requirements(reqs))
}

/// `ValidateLabelSelector` with `AllowInvalidLabelValueInSelector: false`.
fn validate_label_selector(e: &mut Errors, s: &LabelSelector, path: &str) {
    validate_labels(e, s.match_labels.as_ref(), &format!("{path}.matchLabels"));
    for (i, r) in s.match_expressions.iter().flatten().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let n_values = r.values.as_ref().map_or(0, Vec::len);
        match r.operator.as_str() {
            "In" | "NotIn" if n_values == 0 => e.required(
                format!("{p}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            ),
            "Exists" | "DoesNotExist" if n_values > 0 => e.forbidden(
                format!("{p}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            op => e.invalid(
                format!("{p}.operator"),
                json_str(op),
                "not a valid selector operator",
            ),
        }
        for msg in is_qualified_name(&r.key) {
            e.invalid(format!("{p}.key"), go_quote(&r.key), &msg);
        }
        for (j, v) in r.values.iter().flatten().enumerate() {
            for msg in is_valid_label_value(v) {
                e.invalid(format!("{p}.values[{j}]"), go_quote(v), &msg);
            }
        }
    }
}

/// The selector block shared by `ValidateDeploymentSpec` and `ValidateReplicaSetSpec`.
/// Returns the converted selector, or `None` when it does not convert (and the template
/// therefore is not checked, as upstream).
fn validate_selector(e: &mut Errors, s: &LabelSelector, spec_path: &str) -> Option<Selector> {
    let path = format!("{spec_path}.selector");
    if selector_is_nil(s) {
        e.required(&path, "");
    } else {
        validate_label_selector(e, s, &path);
        let n = s.match_labels.as_ref().map_or(0, BTreeMap::len)
            + s.match_expressions.as_ref().map_or(0, Vec::len);
        if n == 0 {
            // NOTE: upstream says "deployment" for ReplicaSets too (copied text).
            e.invalid(
                &path,
                selector_json(s),
                "empty selector is invalid for deployment",
            );
        }
    }
    let converted = label_selector_as_selector(s);
    if converted.is_none() {
        e.invalid(&path, selector_json(s), "invalid label selector");
    }
    converted
}

/// `apiequality.Semantic.DeepEqual` on two selectors: nil and empty collections are equal.
fn selectors_semantically_equal(a: &LabelSelector, b: &LabelSelector) -> bool {
    let labels = |s: &LabelSelector| s.match_labels.clone().unwrap_or_default();
    let exprs = |s: &LabelSelector| {
        s.match_expressions
            .iter()
            .flatten()
            .map(|r| {
                (
                    r.key.clone(),
                    r.operator.clone(),
                    r.values.clone().unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    };
    labels(a) == labels(b) && exprs(a) == exprs(b)
}

// ---------------------------------------------------------------------------------------------
// apps: Deployment and ReplicaSet specs (pkg/apis/apps/validation/validation.go)
// ---------------------------------------------------------------------------------------------

/// Mirrors `ValidateDeploymentSpec`.
fn validate_deployment_spec(e: &mut Errors, spec: &DeploymentSpec, p: &str) {
    e.nonnegative(&format!("{p}.replicas"), spec.replicas.unwrap_or(0).into());
    if let Some(selector) = validate_selector(e, &spec.selector, p) {
        validate_pod_template_spec_for_replica_set(
            e,
            &spec.template,
            &selector,
            &format!("{p}.template"),
        );
    }
    validate_deployment_strategy(e, spec.strategy.as_ref(), &format!("{p}.strategy"));
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    e.nonnegative(&format!("{p}.minReadySeconds"), min_ready.into());
    if let Some(limit) = spec.revision_history_limit {
        // Zero is a valid revisionHistoryLimit.
        e.nonnegative(&format!("{p}.revisionHistoryLimit"), limit.into());
    }
    if let Some(deadline) = spec.progress_deadline_seconds {
        let path = format!("{p}.progressDeadlineSeconds");
        e.nonnegative(&path, deadline.into());
        if deadline <= min_ready {
            e.invalid(
                path,
                deadline.to_string(),
                "must be greater than minReadySeconds",
            );
        }
    }
}

/// Mirrors `ValidateDeploymentStrategy` and `ValidateRollingUpdateDeployment`.
fn validate_deployment_strategy(e: &mut Errors, strategy: Option<&DeploymentStrategy>, p: &str) {
    let default = DeploymentStrategy::default();
    let strategy = strategy.unwrap_or(&default);
    match strategy.type_.as_deref().unwrap_or("") {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                e.forbidden(
                    format!("{p}.rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                );
            }
        }
        "RollingUpdate" => match strategy.rolling_update.as_ref() {
            None => e.required(
                format!("{p}.rollingUpdate"),
                "this should be defaulted and never be nil",
            ),
            Some(ru) => {
                // The v1 -> internal conversion turns a nil pointer into a zero IntOrString.
                let zero = IntOrString::Int(0);
                let max_unavailable = ru.max_unavailable.as_ref().unwrap_or(&zero);
                let max_surge = ru.max_surge.as_ref().unwrap_or(&zero);
                let rp = format!("{p}.rollingUpdate");
                validate_positive_int_or_percent(
                    e,
                    max_unavailable,
                    &format!("{rp}.maxUnavailable"),
                );
                validate_positive_int_or_percent(e, max_surge, &format!("{rp}.maxSurge"));
                if int_or_percent_value(max_unavailable) == 0
                    && int_or_percent_value(max_surge) == 0
                {
                    e.invalid(
                        format!("{rp}.maxUnavailable"),
                        int_or_string_json(max_unavailable),
                        "may not be 0 when `maxSurge` is 0",
                    );
                }
                // Only maxUnavailable is capped at 100%; a surge above 100% is allowed.
                if percent_value(max_unavailable).is_some_and(|v| v > 100) {
                    e.invalid(
                        format!("{rp}.maxUnavailable"),
                        int_or_string_json(max_unavailable),
                        "must not be greater than 100%",
                    );
                }
            }
        },
        other => {
            // The bad value is the internal `*apps.DeploymentStrategy`, whose fields have no
            // json tags, so JSON uses the Go field names.
            let ru = match strategy.rolling_update.as_ref() {
                None => "null".to_string(),
                Some(ru) => {
                    let zero = IntOrString::Int(0);
                    format!(
                        "{{\"MaxUnavailable\":{},\"MaxSurge\":{}}}",
                        int_or_string_json(ru.max_unavailable.as_ref().unwrap_or(&zero)),
                        int_or_string_json(ru.max_surge.as_ref().unwrap_or(&zero))
                    )
                }
            };
            let value = format!("{{\"Type\":{},\"RollingUpdate\":{ru}}}", json_str(other));
            e.not_supported(p, value, &["Recreate", "RollingUpdate"]);
        }
    }
}

/// Mirrors `ValidatePositiveIntOrPercent`.
fn validate_positive_int_or_percent(e: &mut Errors, v: &IntOrString, path: &str) {
    match v {
        IntOrString::String(s) => {
            for msg in is_valid_percent(s) {
                e.invalid(path, int_or_string_json(v), &msg);
            }
        }
        IntOrString::Int(i) => e.nonnegative(path, (*i).into()),
    }
}

/// `getPercentValue`: the number in a well-formed `"N%"`.
fn percent_value(v: &IntOrString) -> Option<i64> {
    match v {
        IntOrString::String(s) if is_valid_percent(s).is_empty() => s[..s.len() - 1].parse().ok(),
        _ => None,
    }
}

/// `getIntOrPercentValue`: a percent's number, else `IntOrString.IntValue()`, which is
/// `strconv.Atoi` of a string (0 when it does not parse: `"abc"` counts as 0).
fn int_or_percent_value(v: &IntOrString) -> i64 {
    match (percent_value(v), v) {
        (Some(p), _) => p,
        (None, IntOrString::Int(i)) => (*i).into(),
        (None, IntOrString::String(s)) => s.parse().unwrap_or(0),
    }
}

/// Mirrors `ValidatePodTemplateSpecForReplicaSet`, used by Deployments and ReplicaSets.
fn validate_pod_template_spec_for_replica_set(
    e: &mut Errors,
    t: &PodTemplateSpec,
    selector: &Selector,
    p: &str,
) {
    let labels = t.metadata.as_ref().and_then(|m| m.labels.as_ref());
    if !selector.is_empty() && !selector.matches(labels) {
        e.invalid(
            format!("{p}.metadata.labels"),
            json_map(labels),
            "`selector` does not match template `labels`",
        );
    }
    validate_pod_template_spec(e, t, p);
    let spec = t.spec.clone().unwrap_or_default();
    let restart = spec.restart_policy.as_deref().unwrap_or("");
    if restart != "Always" {
        e.not_supported(
            format!("{p}.spec.restartPolicy"),
            json_str(restart),
            &["Always"],
        );
    }
    if spec.active_deadline_seconds.is_some() {
        e.forbidden(
            format!("{p}.spec.activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// core: pod templates and pod specs (pkg/apis/core/validation/validation.go)
// ---------------------------------------------------------------------------------------------

/// Mirrors `ValidatePodTemplateSpec`. NOTE: the template's labels are reported at
/// `<template>.labels`, not `<template>.metadata.labels`, exactly as upstream does.
fn validate_pod_template_spec(e: &mut Errors, t: &PodTemplateSpec, p: &str) {
    let meta = t.metadata.clone().unwrap_or_default();
    validate_labels(e, meta.labels.as_ref(), &format!("{p}.labels"));
    validate_annotations(e, meta.annotations.as_ref(), &format!("{p}.annotations"));
    validate_pod_spec(e, &t.spec.clone().unwrap_or_default(), &format!("{p}.spec"));
    if t.spec
        .as_ref()
        .and_then(|s| s.ephemeral_containers.as_ref())
        .is_some_and(|v| !v.is_empty())
    {
        e.forbidden(
            format!("{p}.spec.ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        );
    }
}

/// Mirrors the parts of `ValidatePodSpec` that the simulator's users can reach: grace
/// period, containers and init containers, restart and DNS policies, node selector, service
/// account and node names, active deadline, hostname and subdomain. Volumes, resources,
/// security contexts, affinity and the like are not validated.
fn validate_pod_spec(e: &mut Errors, s: &PodSpec, p: &str) {
    if s.termination_grace_period_seconds.is_none() {
        e.required(format!("{p}.terminationGracePeriodSeconds"), "");
    }
    validate_containers(e, &s.containers, &format!("{p}.containers"));
    validate_init_containers(
        e,
        s.init_containers.as_deref().unwrap_or(&[]),
        &s.containers,
        &format!("{p}.initContainers"),
    );
    match s.restart_policy.as_deref().unwrap_or("") {
        "Always" | "OnFailure" | "Never" => {}
        "" => e.required(format!("{p}.restartPolicy"), ""),
        other => e.not_supported(
            format!("{p}.restartPolicy"),
            json_str(other),
            &["Always", "OnFailure", "Never"],
        ),
    }
    match s.dns_policy.as_deref().unwrap_or("") {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => e.required(format!("{p}.dnsPolicy"), ""),
        other => e.not_supported(
            format!("{p}.dnsPolicy"),
            json_str(other),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ),
    }
    validate_labels(e, s.node_selector.as_ref(), &format!("{p}.nodeSelector"));
    for (field, value) in [
        ("serviceAccountName", &s.service_account_name),
        ("nodeName", &s.node_name),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            for msg in is_dns1123_subdomain(v) {
                e.invalid(format!("{p}.{field}"), go_quote(v), &msg);
            }
        }
    }
    if let Some(ads) = s.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        e.invalid(
            format!("{p}.activeDeadlineSeconds"),
            ads.to_string(),
            "must be between 1 and 2147483647, inclusive",
        );
    }
    for (field, value) in [("hostname", &s.hostname), ("subdomain", &s.subdomain)] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            for msg in is_dns1123_label(v) {
                e.invalid(format!("{p}.{field}"), go_quote(v), &msg);
            }
        }
    }
}

/// Mirrors `validateContainers`.
fn validate_containers(e: &mut Errors, containers: &[Container], p: &str) {
    if containers.is_empty() {
        e.required(p, "");
        return;
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let cp = format!("{p}[{i}]");
        validate_container_common(e, c, &cp);
        if !names.insert(c.name.as_str()) {
            e.duplicate(format!("{cp}.name"), go_quote(&c.name));
        }
        validate_probe(e, c.liveness_probe.as_ref(), &format!("{cp}.livenessProbe"));
        if let Some(pr) = c.liveness_probe.as_ref()
            && pr.success_threshold.unwrap_or(0) != 1
        {
            e.invalid(
                format!("{cp}.livenessProbe.successThreshold"),
                pr.success_threshold.unwrap_or(0).to_string(),
                "must be 1",
            );
        }
        validate_probe(
            e,
            c.readiness_probe.as_ref(),
            &format!("{cp}.readinessProbe"),
        );
        if let Some(t) = c
            .readiness_probe
            .as_ref()
            .and_then(|pr| pr.termination_grace_period_seconds)
        {
            e.invalid(
                format!("{cp}.readinessProbe.terminationGracePeriodSeconds"),
                t.to_string(),
                "must not be set for readinessProbes",
            );
        }
        validate_probe(e, c.startup_probe.as_ref(), &format!("{cp}.startupProbe"));
        if let Some(pr) = c.startup_probe.as_ref()
            && pr.success_threshold.unwrap_or(0) != 1
        {
            e.invalid(
                format!("{cp}.startupProbe.successThreshold"),
                pr.success_threshold.unwrap_or(0).to_string(),
                "must be 1",
            );
        }
        if c.restart_policy.is_some() {
            e.forbidden(
                format!("{cp}.restartPolicy"),
                "may not be set for non-init containers",
            );
        }
    }
}

/// Mirrors `validateInitContainers` (without sidecar-specific probe validation).
fn validate_init_containers(e: &mut Errors, inits: &[Container], regular: &[Container], p: &str) {
    let mut names: std::collections::BTreeSet<&str> =
        regular.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in inits.iter().enumerate() {
        let cp = format!("{p}[{i}]");
        validate_container_common(e, c, &cp);
        let restart_always = match c.restart_policy.as_deref() {
            None => false,
            Some("Always") => true,
            Some(other) => {
                e.not_supported(format!("{cp}.restartPolicy"), json_str(other), &["Always"]);
                false
            }
        };
        if names.contains(c.name.as_str()) {
            e.duplicate(format!("{cp}.name"), go_quote(&c.name));
        } else if !c.name.is_empty() {
            names.insert(c.name.as_str());
        }
        if !restart_always {
            let msg = "may not be set for init containers without restartPolicy=Always";
            if c.lifecycle.is_some() {
                e.forbidden(format!("{cp}.lifecycle"), msg);
            }
            for (field, probe) in [
                ("livenessProbe", &c.liveness_probe),
                ("readinessProbe", &c.readiness_probe),
                ("startupProbe", &c.startup_probe),
            ] {
                if probe.is_some() {
                    e.forbidden(format!("{cp}.{field}"), msg);
                }
            }
        }
    }
}

/// Mirrors `validateContainerCommon`: name, image, termination message policy, ports, pull
/// policy.
fn validate_container_common(e: &mut Errors, c: &Container, p: &str) {
    if c.name.is_empty() {
        e.required(format!("{p}.name"), "");
    } else {
        for msg in is_dns1123_label(&c.name) {
            e.invalid(format!("{p}.name"), go_quote(&c.name), &msg);
        }
    }
    if c.image.as_deref().unwrap_or("").is_empty() {
        e.required(format!("{p}.image"), "");
    }
    match c.termination_message_policy.as_deref().unwrap_or("") {
        "File" | "FallbackToLogsOnError" => {}
        "" => e.required(format!("{p}.terminationMessagePolicy"), ""),
        other => e.not_supported(
            format!("{p}.terminationMessagePolicy"),
            json_str(other),
            &["File", "FallbackToLogsOnError"],
        ),
    }
    validate_container_ports(e, c.ports.as_deref().unwrap_or(&[]), &format!("{p}.ports"));
    match c.image_pull_policy.as_deref().unwrap_or("") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => e.required(format!("{p}.imagePullPolicy"), ""),
        other => e.not_supported(
            format!("{p}.imagePullPolicy"),
            json_str(other),
            &["Always", "IfNotPresent", "Never"],
        ),
    }
}

/// Mirrors `validateContainerPorts`.
fn validate_container_ports(e: &mut Errors, ports: &[ContainerPort], p: &str) {
    let mut names = std::collections::BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let pp = format!("{p}[{i}]");
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    e.invalid(format!("{pp}.name"), go_quote(name), &msg);
                }
            } else if !names.insert(name) {
                e.duplicate(format!("{pp}.name"), go_quote(name));
            }
        }
        if port.container_port == 0 {
            e.required(format!("{pp}.containerPort"), "");
        } else {
            for msg in is_valid_port_num(port.container_port.into()) {
                e.invalid(
                    format!("{pp}.containerPort"),
                    port.container_port.to_string(),
                    &msg,
                );
            }
        }
        if let Some(hp) = port.host_port.filter(|&h| h != 0) {
            for msg in is_valid_port_num(hp.into()) {
                e.invalid(format!("{pp}.hostPort"), hp.to_string(), &msg);
            }
        }
        match port.protocol.as_deref().unwrap_or("") {
            "TCP" | "UDP" | "SCTP" => {}
            "" => e.required(format!("{pp}.protocol"), ""),
            other => e.not_supported(
                format!("{pp}.protocol"),
                json_str(other),
                &["SCTP", "TCP", "UDP"],
            ),
        }
    }
}

/// Mirrors `validateProbe` and `validateHandler` (probe handlers: exec, httpGet, tcpSocket,
/// grpc).
fn validate_probe(e: &mut Errors, probe: Option<&Probe>, p: &str) {
    let Some(pr) = probe else { return };
    let mut handlers = 0;
    let mut handler = |e: &mut Errors, present: bool, name: &str| -> bool {
        if !present {
            return false;
        }
        if handlers > 0 {
            e.forbidden(
                format!("{p}.{name}"),
                "may not specify more than 1 handler type",
            );
            return false;
        }
        handlers += 1;
        true
    };
    if handler(e, pr.exec.is_some(), "exec")
        && pr
            .exec
            .as_ref()
            .and_then(|x| x.command.as_ref())
            .is_none_or(Vec::is_empty)
    {
        e.required(format!("{p}.exec.command"), "");
    }
    if handler(e, pr.http_get.is_some(), "httpGet")
        && let Some(g) = pr.http_get.as_ref()
    {
        validate_http_get(e, g, &format!("{p}.httpGet"));
    }
    if handler(e, pr.tcp_socket.is_some(), "tcpSocket")
        && let Some(t) = pr.tcp_socket.as_ref()
    {
        validate_port_num_or_name(e, &t.port, &format!("{p}.tcpSocket.port"));
    }
    if handler(e, pr.grpc.is_some(), "grpc")
        && let Some(g) = pr.grpc.as_ref()
    {
        validate_port_num_or_name(e, &IntOrString::Int(g.port), &format!("{p}.grpc.port"));
    }
    if handlers == 0 {
        e.required(p, "must specify a handler type");
    }
    for (field, v) in [
        ("initialDelaySeconds", pr.initial_delay_seconds),
        ("timeoutSeconds", pr.timeout_seconds),
        ("periodSeconds", pr.period_seconds),
        ("successThreshold", pr.success_threshold),
        ("failureThreshold", pr.failure_threshold),
    ] {
        e.nonnegative(&format!("{p}.{field}"), v.unwrap_or(0).into());
    }
    if let Some(t) = pr.termination_grace_period_seconds.filter(|&t| t <= 0) {
        e.invalid(
            format!("{p}.terminationGracePeriodSeconds"),
            t.to_string(),
            "must be greater than 0",
        );
    }
}

/// Mirrors `validateHTTPGetAction`.
fn validate_http_get(e: &mut Errors, g: &HTTPGetAction, p: &str) {
    if g.path.as_deref().unwrap_or("").is_empty() {
        e.required(format!("{p}.path"), "");
    }
    validate_port_num_or_name(e, &g.port, &format!("{p}.port"));
    let scheme = g.scheme.as_deref().unwrap_or("");
    if scheme != "HTTP" && scheme != "HTTPS" {
        e.not_supported(format!("{p}.scheme"), json_str(scheme), &["HTTP", "HTTPS"]);
    }
}

/// Mirrors `ValidatePortNumOrName`.
fn validate_port_num_or_name(e: &mut Errors, port: &IntOrString, p: &str) {
    match port {
        IntOrString::Int(n) => {
            for msg in is_valid_port_num((*n).into()) {
                e.invalid(p, n.to_string(), &msg);
            }
        }
        IntOrString::String(s) => {
            for msg in is_valid_port_name(s) {
                e.invalid(p, go_quote(s), &msg);
            }
        }
    }
}

fn spec_or_default(d: &Deployment) -> DeploymentSpec {
    d.spec.clone().unwrap_or_default()
}

pub(super) fn name_of(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// apps: StatefulSet (pkg/apis/apps/validation/validation.go)
// ---------------------------------------------------------------------------------------------

/// Mirrors `ValidateStatefulSet`: object metadata, then `ValidateStatefulSetSpec`.
///
/// # Errors
/// An `Invalid` [`ApiError`] listing every offending field.
pub fn validate_stateful_set(s: &k8s_openapi::api::apps::v1::StatefulSet) -> Result<(), ApiError> {
    let mut e = Errors::default();
    validate_object_meta(&mut e, &s.metadata, true, "metadata");
    validate_stateful_set_spec(&mut e, &s.spec.clone().unwrap_or_default(), "spec");
    e.finish(Kind::StatefulSet, &name_of(&s.metadata))
}

/// Mirrors `ValidateStatefulSetUpdate`: the new object must be valid, and only `replicas`,
/// `ordinals`, `template`, `updateStrategy`, `revisionHistoryLimit`,
/// `persistentVolumeClaimRetentionPolicy` and `minReadySeconds` may change.
///
/// # Errors
/// An `Invalid` [`ApiError`] listing every offending field.
pub fn validate_stateful_set_update(
    old: &k8s_openapi::api::apps::v1::StatefulSet,
    new: &k8s_openapi::api::apps::v1::StatefulSet,
) -> Result<(), ApiError> {
    let mut e = Errors::default();
    validate_object_meta_update(&mut e, &old.metadata, &new.metadata, "metadata");
    let new_spec = new.spec.clone().unwrap_or_default();
    validate_stateful_set_spec(&mut e, &new_spec, "spec");
    let mut old_spec = old.spec.clone().unwrap_or_default();
    old_spec.replicas = new_spec.replicas;
    old_spec.ordinals = new_spec.ordinals.clone();
    old_spec.template = new_spec.template.clone();
    old_spec.update_strategy = new_spec.update_strategy.clone();
    old_spec.revision_history_limit = new_spec.revision_history_limit;
    old_spec.persistent_volume_claim_retention_policy =
        new_spec.persistent_volume_claim_retention_policy.clone();
    old_spec.min_ready_seconds = new_spec.min_ready_seconds;
    if old_spec != new_spec {
        e.forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        );
    }
    e.finish(Kind::StatefulSet, &name_of(&new.metadata))
}

/// Mirrors `ValidateStatefulSetSpec`.
fn validate_stateful_set_spec(
    e: &mut Errors,
    spec: &k8s_openapi::api::apps::v1::StatefulSetSpec,
    p: &str,
) {
    match spec.pod_management_policy.as_deref() {
        Some("OrderedReady" | "Parallel") => {}
        None | Some("") => e.required(format!("{p}.podManagementPolicy"), ""),
        Some(other) => e.invalid(
            format!("{p}.podManagementPolicy"),
            go_quote(other),
            "must be 'OrderedReady' or 'Parallel'",
        ),
    }
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let sp = format!("{p}.updateStrategy");
    match strategy.type_.as_deref() {
        Some("OnDelete") => {
            if strategy.rolling_update.is_some() {
                e.invalid(
                    format!("{sp}.rollingUpdate"),
                    serde_json::to_string(&strategy.rolling_update).unwrap_or_default(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                );
            }
        }
        Some("RollingUpdate") => {
            if let Some(ru) = &strategy.rolling_update {
                e.nonnegative(
                    &format!("{sp}.rollingUpdate.partition"),
                    ru.partition.unwrap_or(0).into(),
                );
            }
        }
        None | Some("") => e.required(&sp, ""),
        Some(_) => e.invalid(
            &sp,
            serde_json::to_string(&strategy).unwrap_or_default(),
            "must be 'RollingUpdate' or 'OnDelete'",
        ),
    }
    if let Some(policy) = &spec.persistent_volume_claim_retention_policy {
        for (field, value) in [
            ("whenDeleted", &policy.when_deleted),
            ("whenScaled", &policy.when_scaled),
        ] {
            let v = value.as_deref().unwrap_or("");
            if v != "Retain" && v != "Delete" {
                e.not_supported(
                    format!("{p}.persistentVolumeClaimRetentionPolicy.{field}"),
                    go_quote(v),
                    &["Retain", "Delete"],
                );
            }
        }
    }
    e.nonnegative(&format!("{p}.replicas"), spec.replicas.unwrap_or(0).into());
    e.nonnegative(
        &format!("{p}.minReadySeconds"),
        spec.min_ready_seconds.unwrap_or(0).into(),
    );
    if let Some(start) = spec.ordinals.as_ref().and_then(|o| o.start) {
        e.nonnegative(&format!("{p}.ordinals.start"), start.into());
    }
    let path = format!("{p}.selector");
    let s = &spec.selector;
    if selector_is_nil(s) {
        e.required(&path, "");
    } else {
        validate_label_selector(e, s, &path);
        let n = s.match_labels.as_ref().map_or(0, BTreeMap::len)
            + s.match_expressions.as_ref().map_or(0, Vec::len);
        if n == 0 {
            e.invalid(
                &path,
                selector_json(s),
                "empty selector is invalid for statefulset",
            );
        }
    }
    match label_selector_as_selector(s) {
        None => e.invalid(&path, selector_json(s), "invalid label selector"),
        Some(selector) => {
            // `ValidatePodTemplateSpecForStatefulSet`.
            let t = &spec.template;
            let tp = format!("{p}.template");
            let labels = t.metadata.as_ref().and_then(|m| m.labels.as_ref());
            if !selector.is_empty() && !selector.matches(labels) {
                e.invalid(
                    format!("{tp}.metadata.labels"),
                    json_map(labels),
                    "`selector` does not match template `labels`",
                );
            }
            validate_pod_template_spec(e, t, &tp);
            let ps = t.spec.clone().unwrap_or_default();
            let restart = ps.restart_policy.as_deref().unwrap_or("");
            if restart != "Always" {
                e.not_supported(
                    format!("{tp}.spec.restartPolicy"),
                    json_str(restart),
                    &["Always"],
                );
            }
            if ps.active_deadline_seconds.is_some() {
                e.forbidden(
                    format!("{tp}.spec.activeDeadlineSeconds"),
                    "activeDeadlineSeconds in StatefulSet is not Supported",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::defaults::{default_deployment, default_pod, default_replica_set};
    use k8s_openapi::api::apps::v1::{ReplicaSetSpec, RollingUpdateDeployment};
    use k8s_openapi::api::core::v1::TCPSocketAction;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn container(name: &str, image: &str) -> Container {
        Container {
            name: name.into(),
            image: Some(image.into()),
            ..Default::default()
        }
    }

    fn template(app: &str, containers: Vec<Container>) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: labels(&[("app", app)]),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers,
                ..Default::default()
            }),
        }
    }

    /// A valid Deployment `web` (before defaulting) for each test to break in one place.
    fn web() -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some("web".into()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                selector: LabelSelector {
                    match_labels: labels(&[("app", "web")]),
                    ..Default::default()
                },
                template: template("web", vec![container("app", "nginx:1.27")]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn check(mut d: Deployment) -> Result<(), String> {
        default_deployment(&mut d);
        validate_deployment(&d).map_err(|e| e.message)
    }

    fn spec(d: &mut Deployment) -> &mut DeploymentSpec {
        d.spec.as_mut().unwrap()
    }

    fn pod_spec(d: &mut Deployment) -> &mut PodSpec {
        spec(d).template.spec.as_mut().unwrap()
    }

    fn rolling(d: &mut Deployment, surge: Option<IntOrString>, unavailable: Option<IntOrString>) {
        spec(d).strategy = Some(DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: surge,
                max_unavailable: unavailable,
            }),
        });
    }

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    #[test]
    fn valid_deployment_passes() {
        assert_eq!(check(web()), Ok(()));
    }

    #[test]
    fn name_is_required() {
        let mut d = web();
        d.metadata.name = None;
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"\" is invalid: metadata.name: Required value: name or generateName is required"
        );
    }

    #[test]
    fn name_must_be_a_dns_subdomain() {
        let mut d = web();
        d.metadata.name = Some("Web_1".into());
        assert_eq!(
            check(d).unwrap_err(),
            format!(
                "Deployment.apps \"Web_1\" is invalid: metadata.name: Invalid value: \"Web_1\": {SUBDOMAIN_MSG}"
            )
        );
    }

    #[test]
    fn replicas_must_be_nonnegative() {
        let mut d = web();
        spec(&mut d).replicas = Some(-1);
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
    }

    #[test]
    fn missing_selector_is_required_and_matches_nothing() {
        let mut d = web();
        spec(&mut d).selector = LabelSelector::default();
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: [spec.selector: Required value, \
             spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`]"
        );
    }

    #[test]
    fn empty_selector_is_invalid() {
        let mut d = web();
        spec(&mut d).selector = LabelSelector {
            match_labels: Some(BTreeMap::new()),
            match_expressions: None,
        };
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: {}: empty selector is invalid for deployment"
        );
    }

    #[test]
    fn selector_must_match_template_labels() {
        let mut d = web();
        spec(&mut d).selector.match_labels = labels(&[("app", "api")]);
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"
        );
    }

    #[test]
    fn match_expressions_are_checked_and_matched() {
        let mut d = web();
        spec(&mut d).selector = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "app".into(),
                    operator: "In".into(),
                    values: Some(vec!["web".into()]),
                },
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "Exists".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(
            check(d.clone()).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"
        );
        spec(&mut d).selector.match_expressions.as_mut().unwrap()[1] = LabelSelectorRequirement {
            key: "tier".into(),
            operator: "Within".into(),
            values: None,
        };
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: [spec.selector.matchExpressions[1].operator: Invalid value: \"Within\": not a valid selector operator, \
             spec.selector: Invalid value: {\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"web\"]},{\"key\":\"tier\",\"operator\":\"Within\"}]}: invalid label selector]"
        );
    }

    #[test]
    fn max_surge_and_max_unavailable_may_not_both_be_zero() {
        let mut d = web();
        rolling(
            &mut d,
            Some(IntOrString::Int(0)),
            Some(IntOrString::String("0%".into())),
        );
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0"
        );
    }

    #[test]
    fn max_unavailable_over_100_percent() {
        let mut d = web();
        rolling(&mut d, None, Some(IntOrString::String("150%".into())));
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"
        );
        // Upstream caps only maxUnavailable: a surge of 150% is accepted.
        let mut d = web();
        rolling(&mut d, Some(IntOrString::String("150%".into())), None);
        assert_eq!(check(d), Ok(()));
    }

    #[test]
    fn negative_int_values() {
        let mut d = web();
        rolling(
            &mut d,
            Some(IntOrString::Int(-1)),
            Some(IntOrString::Int(1)),
        );
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0"
        );
    }

    #[test]
    fn malformed_percent() {
        let mut d = web();
        rolling(
            &mut d,
            Some(IntOrString::String("five".into())),
            Some(IntOrString::Int(1)),
        );
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.strategy.rollingUpdate.maxSurge: Invalid value: \"five\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
        );
    }

    #[test]
    fn recreate_forbids_rolling_update() {
        let mut d = web();
        spec(&mut d).strategy = Some(DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: Some(RollingUpdateDeployment::default()),
        });
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
        );
    }

    #[test]
    fn unknown_strategy_type_is_unsupported() {
        let mut d = web();
        spec(&mut d).strategy = Some(DeploymentStrategy {
            type_: Some("BlueGreen".into()),
            rolling_update: None,
        });
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.strategy: Unsupported value: {\"Type\":\"BlueGreen\",\"RollingUpdate\":null}: supported values: \"Recreate\", \"RollingUpdate\""
        );
    }

    #[test]
    fn progress_deadline_must_exceed_min_ready() {
        let mut d = web();
        spec(&mut d).min_ready_seconds = Some(10);
        spec(&mut d).progress_deadline_seconds = Some(10);
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"
        );
    }

    #[test]
    fn revision_history_limit_and_min_ready_seconds_nonnegative() {
        let mut d = web();
        spec(&mut d).revision_history_limit = Some(-2);
        spec(&mut d).min_ready_seconds = Some(-5);
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: [spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0, \
             spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0]"
        );
    }

    #[test]
    fn template_restart_policy_must_be_always() {
        let mut d = web();
        pod_spec(&mut d).restart_policy = Some("Never".into());
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
        );
    }

    #[test]
    fn containers_are_required() {
        let mut d = web();
        pod_spec(&mut d).containers.clear();
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: spec.template.spec.containers: Required value"
        );
    }

    #[test]
    fn container_name_and_image_rules() {
        let mut d = web();
        pod_spec(&mut d).containers = vec![
            container("", "nginx"),
            container("App", "nginx"),
            container("app", ""),
            container("app", "nginx"),
        ];
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: [spec.template.spec.containers[0].name: Required value, \
             spec.template.spec.containers[1].name: Invalid value: \"App\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?'), \
             spec.template.spec.containers[2].image: Required value, \
             spec.template.spec.containers[3].name: Duplicate value: \"app\"]"
        );
    }

    #[test]
    fn label_keys_and_values_are_validated() {
        let mut d = web();
        d.metadata.labels = labels(&[("team", "-bad-")]);
        let meta = spec(&mut d).template.metadata.as_mut().unwrap();
        meta.labels
            .as_mut()
            .unwrap()
            .insert("a/b/c".into(), "x".into());
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: [metadata.labels: Invalid value: \"-bad-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), \
             spec.template.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')]"
        );
    }

    #[test]
    fn probe_rules() {
        let mut d = web();
        pod_spec(&mut d).containers[0].liveness_probe = Some(Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::Int(0),
                host: None,
            }),
            success_threshold: Some(2),
            ..Default::default()
        });
        pod_spec(&mut d).containers[0].readiness_probe = Some(Probe::default());
        assert_eq!(
            check(d).unwrap_err(),
            "Deployment.apps \"web\" is invalid: [spec.template.spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive, \
             spec.template.spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1, \
             spec.template.spec.containers[0].readinessProbe: Required value: must specify a handler type]"
        );
    }

    #[test]
    fn errors_are_collected_not_short_circuited() {
        let mut d = web();
        d.metadata.name = Some("web!".into());
        spec(&mut d).replicas = Some(-3);
        pod_spec(&mut d).restart_policy = Some("OnFailure".into());
        let msg = check(d).unwrap_err();
        assert!(
            msg.starts_with(
                "Deployment.apps \"web!\" is invalid: [metadata.name: Invalid value: \"web!\": "
            ),
            "{msg}"
        );
        assert!(
            msg.contains(
                ", spec.replicas: Invalid value: -3: must be greater than or equal to 0, "
            ),
            "{msg}"
        );
        assert!(msg.ends_with(", spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"]"), "{msg}");
    }

    #[test]
    fn selector_is_immutable_on_update() {
        let mut old = web();
        default_deployment(&mut old);
        let mut new = old.clone();
        spec(&mut new).selector.match_labels = labels(&[("app", "web2")]);
        spec(&mut new).template.metadata.as_mut().unwrap().labels = labels(&[("app", "web2")]);
        assert_eq!(
            validate_deployment_update(&old, &new).unwrap_err().message,
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web2\"}}: field is immutable"
        );
        // Scaling is an allowed update.
        let mut scaled = old.clone();
        spec(&mut scaled).replicas = Some(5);
        assert_eq!(validate_deployment_update(&old, &scaled), Ok(()));
    }

    #[test]
    fn update_reports_spec_errors_before_immutability() {
        let mut old = web();
        default_deployment(&mut old);
        let mut new = old.clone();
        spec(&mut new).selector.match_labels = labels(&[("app", "other")]);
        assert_eq!(
            validate_deployment_update(&old, &new).unwrap_err().message,
            "Deployment.apps \"web\" is invalid: [spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`, \
             spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"other\"}}: field is immutable]"
        );
    }

    #[test]
    fn replica_set_rules() {
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web-abc".into()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(-1),
                selector: LabelSelector {
                    match_labels: labels(&[("app", "web")]),
                    ..Default::default()
                },
                template: Some(template("web", vec![container("app", "nginx")])),
                ..Default::default()
            }),
            ..Default::default()
        };
        default_replica_set(&mut rs);
        rs.spec
            .as_mut()
            .unwrap()
            .template
            .as_mut()
            .unwrap()
            .spec
            .as_mut()
            .unwrap()
            .restart_policy = Some("Never".into());
        assert_eq!(
            validate_replica_set(&rs).unwrap_err().message,
            "ReplicaSet.apps \"web-abc\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, \
             spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"]"
        );
    }

    #[test]
    fn pod_rules() {
        let mut p = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![container("app", " nginx")],
                ..Default::default()
            }),
            ..Default::default()
        };
        default_pod(&mut p);
        assert_eq!(
            validate_pod(&p).unwrap_err().message,
            "Pod \"p\" is invalid: spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace"
        );
        // A bare Pod may use any restart policy.
        let mut ok = p.clone();
        let s = ok.spec.as_mut().unwrap();
        s.containers[0].image = Some("nginx".into());
        s.restart_policy = Some("Never".into());
        assert_eq!(validate_pod(&ok), Ok(()));
        let mut bad = ok.clone();
        bad.spec.as_mut().unwrap().restart_policy = Some("Sometimes".into());
        assert_eq!(
            validate_pod(&bad).unwrap_err().message,
            "Pod \"p\" is invalid: spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
        );
    }

    #[test]
    fn quoting_follows_go() {
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(json_str("<&>"), "\"\\u003c\\u0026\\u003e\"");
        assert_eq!(json_map(None), "null");
    }
}

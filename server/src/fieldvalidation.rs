//! Field validation (`?fieldValidation=Strict|Warn|Ignore`): unknown fields in a request body
//! of a built-in kind. See [`check`].
//!
//! The API server decodes a body into its Go type and notes every field the type does not have.
//! k8s-openapi's types drop such fields silently, so the body is decoded here through
//! `serde_ignored`, which reports them. `Strict` refuses the request (400, upstream's
//! `strict decoding error`); `Warn` (the server's default) answers with a `Warning` header per
//! field; `Ignore` says nothing.

use kubespec_engine::api::rest::{ResourceInfo, Status};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What to do about unknown fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directive {
    Strict,
    Warn,
    Ignore,
}

impl Directive {
    /// The query parameter; absent means `Warn`, as the API server defaults it.
    ///
    /// # Errors
    ///
    /// 400 with upstream's message for any other value.
    pub fn parse(q: Option<&str>) -> Result<Directive, Status> {
        match q.unwrap_or("") {
            "" | "Warn" => Ok(Directive::Warn),
            "Strict" => Ok(Directive::Strict),
            "Ignore" => Ok(Directive::Ignore),
            other => Err(Status::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// `spec.template.spec.containers[0].imagee`, as upstream prints a field path.
fn render(p: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match p {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", render(parent)),
        Path::Map { parent, key } => {
            let head = render(parent);
            if head.is_empty() {
                key.clone()
            } else {
                format!("{head}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render(parent),
    }
}

fn unknown_in<T: DeserializeOwned>(body: &Value) -> Vec<String> {
    let mut unknown = Vec::new();
    // A body that does not decode at all is the engine's to refuse, with its own message.
    let _ = serde_ignored::deserialize::<_, _, T>(body, |p| unknown.push(render(&p)));
    unknown
}

/// The unknown fields of `body`, an object of `r`'s kind, in the order they appear. Kinds
/// without a typed schema here (custom resources) have none: their schemas prune and report
/// through the CRD machinery.
pub fn unknown_fields(r: &ResourceInfo, body: &Value) -> Vec<String> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, core::v1 as core,
        discovery::v1 as discovery,
    };
    match (r.group, r.version, r.kind) {
        ("", "v1", "ConfigMap") => unknown_in::<core::ConfigMap>(body),
        ("", "v1", "Endpoints") => unknown_in::<core::Endpoints>(body),
        ("", "v1", "Event") => unknown_in::<core::Event>(body),
        ("", "v1", "Namespace") => unknown_in::<core::Namespace>(body),
        ("", "v1", "Node") => unknown_in::<core::Node>(body),
        ("", "v1", "PersistentVolumeClaim") => unknown_in::<core::PersistentVolumeClaim>(body),
        ("", "v1", "PersistentVolume") => unknown_in::<core::PersistentVolume>(body),
        ("", "v1", "Pod") => unknown_in::<core::Pod>(body),
        ("", "v1", "Secret") => unknown_in::<core::Secret>(body),
        ("", "v1", "Service") => unknown_in::<core::Service>(body),
        ("apps", "v1", "ControllerRevision") => unknown_in::<apps::ControllerRevision>(body),
        ("apps", "v1", "Deployment") => unknown_in::<apps::Deployment>(body),
        ("apps", "v1", "ReplicaSet") => unknown_in::<apps::ReplicaSet>(body),
        ("apps", "v1", "StatefulSet") => unknown_in::<apps::StatefulSet>(body),
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => {
            unknown_in::<autoscaling::HorizontalPodAutoscaler>(body)
        }
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => {
            unknown_in::<k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler>(body)
        }
        ("discovery.k8s.io", "v1", "EndpointSlice") => unknown_in::<discovery::EndpointSlice>(body),
        _ => Vec::new(),
    }
}

/// Applies `directive` to `body`: `Err` (400) under `Strict` when a field is unknown, else the
/// `Warning` header values to send (`unknown field "spec.foo"`), empty under `Ignore`.
///
/// # Errors
///
/// `Strict` and at least one unknown field: `<Kind> in version "<v>" cannot be handled as a
/// <Kind>: strict decoding error: unknown field "a", unknown field "b"`.
pub fn check(r: &ResourceInfo, body: &Value, directive: Directive) -> Result<Vec<String>, Status> {
    if directive == Directive::Ignore {
        return Ok(Vec::new());
    }
    let unknown = unknown_fields(r, body);
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    let each: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    match directive {
        Directive::Strict => Err(Status::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            each.join(", "),
            kind = r.kind,
            version = r.version,
        ))),
        _ => Ok(each),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubespec_engine::api::rest;
    use serde_json::json;

    #[test]
    fn strict_refuses_unknown_fields_with_their_paths() {
        let d = rest::find("apps", "v1", "deployments").unwrap();
        let body = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replcas": 2, "selector": {}, "template": {"spec": {"containers": [
                {"name": "web", "imagee": "x"}]}}}});
        let e = check(d, &body, Directive::Strict).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: \
             unknown field \"spec.replcas\", unknown field \"spec.template.spec.containers[0].imagee\""
        );
        assert_eq!(
            check(d, &body, Directive::Warn).unwrap(),
            [
                "unknown field \"spec.replcas\"",
                "unknown field \"spec.template.spec.containers[0].imagee\""
            ]
        );
        assert!(check(d, &body, Directive::Ignore).unwrap().is_empty());
    }

    #[test]
    fn a_clean_body_passes_and_bad_directives_are_refused() {
        let cm = rest::find("", "v1", "configmaps").unwrap();
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "data": {"a": "1"}});
        assert!(check(cm, &body, Directive::Strict).unwrap().is_empty());
        let top = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "bogus": 1});
        assert!(
            check(cm, &top, Directive::Strict)
                .unwrap_err()
                .message
                .ends_with("unknown field \"bogus\"")
        );
        assert_eq!(Directive::parse(Some("strict")).unwrap_err().code, 400);
        assert_eq!(Directive::parse(None).unwrap(), Directive::Warn);
    }
}

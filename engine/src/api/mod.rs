//! The API server's front door: errors as the API server reports them, defaulting and
//! validation of user-submitted objects.
//!
//! Controllers write through [`crate::Cluster`] directly; objects from users (manifests, patches,
//! kubectl verbs) go through the `Cluster::apply_*` and `update_*` operations of `crate::ops`,
//! which default them ([`defaults`]) and validate them ([`validation`]) first, so a bad object is
//! refused with the message a real API server would give.

pub mod autoscaling;
pub mod crd;
pub mod defaults;
pub mod names;
pub mod patch;
pub mod rest;
pub mod table;
pub mod validation;

use crate::store::Kind;
use std::fmt;

/// A refused API request, with the reason and message a real API server gives.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub reason: Reason,
    /// The message exactly as kubectl prints it after `Error from server (<Reason>): `.
    pub message: String,
    /// For `Invalid`: one entry per offending field.
    pub causes: Vec<FieldError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    NotFound,
    AlreadyExists,
    Invalid,
    BadRequest,
    Conflict,
    /// 415: a patch type the kind does not support (strategic merge on a custom resource).
    UnsupportedMediaType,
    /// 413: a request too large to handle (a JSON patch of more than 10000 operations).
    RequestEntityTooLarge,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::NotFound => "NotFound",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Invalid => "Invalid",
            Reason::BadRequest => "BadRequest",
            Reason::Conflict => "Conflict",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::RequestEntityTooLarge => "RequestEntityTooLarge",
        })
    }
}

/// One field error, as in `field.Error` (`spec.replicas: Invalid value: -1: must be greater
/// than or equal to 0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// `spec.strategy.rollingUpdate.maxUnavailable`
    pub field: String,
    /// Everything after `<field>: `, e.g. `Invalid value: 0: may not be 0 when `maxSurge` is 0`.
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

/// `deployments.apps`, `pods`: the resource name the API server uses in messages.
pub fn resource_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Deployment => "deployments.apps",
        Kind::ReplicaSet => "replicasets.apps",
        Kind::Pod => "pods",
        Kind::Node => "nodes",
        Kind::HorizontalPodAutoscaler => "horizontalpodautoscalers.autoscaling",
        Kind::StatefulSet => "statefulsets.apps",
        Kind::ControllerRevision => "controllerrevisions.apps",
        Kind::PersistentVolumeClaim => "persistentvolumeclaims",
    }
}

impl ApiError {
    pub fn not_found(kind: Kind, name: &str) -> Self {
        ApiError {
            reason: Reason::NotFound,
            message: format!("{} \"{name}\" not found", resource_name(kind)),
            causes: vec![],
        }
    }

    pub fn already_exists(kind: Kind, name: &str) -> Self {
        ApiError {
            reason: Reason::AlreadyExists,
            message: format!("{} \"{name}\" already exists", resource_name(kind)),
            causes: vec![],
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            reason: Reason::BadRequest,
            message: message.into(),
            causes: vec![],
        }
    }

    /// One invalid field.
    pub fn invalid(kind: Kind, name: &str, field: &str, detail: &str) -> Self {
        Self::invalid_fields(
            kind,
            name,
            vec![FieldError {
                field: field.into(),
                detail: detail.into(),
            }],
        )
    }

    /// `Deployment.apps "web" is invalid: [a: …, b: …]`, the API server's aggregate message.
    pub fn invalid_fields(kind: Kind, name: &str, causes: Vec<FieldError>) -> Self {
        let qualified = match kind {
            Kind::Deployment => "Deployment.apps",
            Kind::ReplicaSet => "ReplicaSet.apps",
            Kind::Pod => "Pod",
            Kind::Node => "Node",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler.autoscaling",
            Kind::StatefulSet => "StatefulSet.apps",
            Kind::ControllerRevision => "ControllerRevision.apps",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
        };
        let list = if causes.len() == 1 {
            causes[0].to_string()
        } else {
            format!(
                "[{}]",
                causes
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        ApiError {
            reason: Reason::Invalid,
            message: format!("{qualified} \"{name}\" is invalid: {list}"),
            causes,
        }
    }
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

//! CustomResourceDefinitions and custom resources, admitted as kube-apiserver's
//! apiextensions-apiserver admits them: pure functions the API server calls.
//!
//! Entry points:
//! - a CRD: [`definition::admit_create`] / [`definition::admit_update`] (defaults, strategy,
//!   validation with upstream's messages), then [`definition::accept`] (accepted names and
//!   the `NamesAccepted`/`Established` conditions), then [`ResourceDescription::from_crd`]
//!   for what to serve;
//! - an object of a CRD's kind: [`resource::admit_create`], [`resource::admit_update`],
//!   [`resource::admit_status_update`], which prune unknown fields ([`prune::prune`]), apply
//!   defaults ([`defaults::default`]), reset status / bump generation, and validate against
//!   the OpenAPI v3 schema ([`validate::validate`]).
//!
//! Mirrors Kubernetes v1.34 `staging/src/k8s.io/apiextensions-apiserver` and
//! `kube-openapi/pkg/validation`; each function names the upstream function it mirrors.
//!
//! **Architecture invariant.** Pure: no I/O, no clock (callers pass the time a condition
//! transitions at), no randomness; maps are visited in key order so messages are
//! deterministic. No input panics: user data is never unwrapped.
//!
//! **Not covered.** CEL (`x-kubernetes-validations`) is accepted but not evaluated
//! ([`VersionDescription::has_validation_rules`] tells the server to warn); conversion
//! between versions (webhooks) is not performed; validation ratcheting on update, owner
//! references, finalizers, managed fields and embedded resources' object meta are not
//! checked. Patterns run on Rust's `regex` after [`pattern::asciify`] gives `\d`, `\w`, `\s`
//! Go's ASCII meaning; RE2 syntax Rust lacks (e.g. `\C`) makes a pattern invalid.
//!
//! # Example
//!
//! What the server does for `kubectl apply -f crontab-crd.yaml` and then a CronTab:
//!
//! ```
//! use kubespec_engine::api::crd::{definition, resource, strict_decoding_error, ResourceDescription};
//! use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
//! use serde_json::json;
//!
//! let crd = serde_json::from_value(json!({
//!     "metadata": {"name": "crontabs.stable.example.com"},
//!     "spec": {
//!         "group": "stable.example.com", "scope": "Namespaced",
//!         "names": {"plural": "crontabs", "kind": "CronTab"},
//!         "versions": [{"name": "v1", "served": true, "storage": true,
//!             "schema": {"openAPIV3Schema": {"type": "object", "properties": {
//!                 "spec": {"type": "object", "properties": {
//!                     "replicas": {"type": "integer", "maximum": 10, "default": 1}}}}}}}]
//!     }
//! }))?;
//! let mut crd = definition::admit_create(crd)?;
//! let now = Time(jiff::Timestamp::UNIX_EPOCH);
//! assert!(definition::accept(&mut crd, &[], &now)); // Established: serve it
//! let crontabs = ResourceDescription::from_crd(&crd);
//!
//! let body = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
//!     "metadata": {"name": "c", "namespace": "default"}, "spec": {"replicass": 3}});
//! let admitted = resource::admit_create(&crontabs, "v1", body)?;
//! assert_eq!(admitted.object["spec"], json!({"replicas": 1})); // pruned, then defaulted
//! // fieldValidation=Strict refuses what fieldValidation=Warn only warns about:
//! assert_eq!(
//!     strict_decoding_error(&admitted.unknown_fields).message,
//!     r#"strict decoding error: unknown field "spec.replicass""#
//! );
//!
//! let too_many = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
//!     "metadata": {"name": "c", "namespace": "default"}, "spec": {"replicas": 15}});
//! let err = resource::admit_create(&crontabs, "v1", too_many).unwrap_err();
//! assert_eq!(
//!     err.message,
//!     r#"CronTab.stable.example.com "c" is invalid: spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod defaults;
pub mod definition;
pub mod description;
pub mod errors;
pub mod formats;
pub use crate::api::names;
pub mod pattern;
pub mod prune;
pub mod resource;
pub mod schema;
pub mod structural;
pub mod validate;

pub use description::{ResourceDescription, ScaleDescription, VersionDescription};
pub use errors::ErrorList;
pub use prune::{strict_decoding_error, unknown_field_warnings};
pub use resource::{Admitted, reset_status, spec_changed};

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
//! between versions (webhooks) is not performed; validation ratcheting on update, label and
//! annotation syntax of custom resources, and embedded resources' object meta are not checked.

pub mod defaults;
pub mod definition;
pub mod description;
pub mod errors;
pub mod formats;
pub mod names;
pub mod prune;
pub mod resource;
pub mod schema;
pub mod structural;
pub mod validate;

pub use description::{ResourceDescription, ScaleDescription, VersionDescription};
pub use errors::ErrorList;
pub use prune::{strict_decoding_error, unknown_field_warnings};
pub use resource::{Admitted, reset_status, spec_changed};

//! The harness: the [`Backend`] trait every step talks to, the in-memory backend, manifest
//! loading, patches and the partial-document matcher.
//!
//! See [`backend::Backend`] for the entry point. Dependencies point one way: steps → harness →
//! engine. The cluster backend ([`cluster`], cargo feature `cluster`, on by default) talks to a
//! cluster through kube-rs.

pub mod backend;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod controllers;
pub mod error;
pub mod manifest;
pub mod matcher;
pub mod memory;
pub mod observe;
pub mod patch;

pub use backend::{Backend, ImageChange, MetricChange, ProbeEndpoint};
/// kubectl's client-side logic (rollout status, history, undo): pure functions over API
/// objects, the same for every backend.
pub use kubespec_engine::kubectl;
pub use kubespec_engine::printers;

/// Deployment helpers that read API objects only (revision annotations, the new ReplicaSet).
pub mod deployment_util {
    pub use kubespec_engine::controllers::deployment::util::{
        equal_ignore_hash, find_new_replica_set, replicas, revision,
    };
}
pub use error::{Error, Result};
pub use memory::MemoryBackend;

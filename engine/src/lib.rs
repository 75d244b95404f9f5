//! kubespec's in-memory Kubernetes cluster: an API object store, a virtual clock, the
//! Deployment, ReplicaSet and HorizontalPodAutoscaler controllers, a scheduler, a kubelet model
//! and a metrics model.
//!
//! See [`Cluster`] for the entry point. The engine is pure: no I/O, no async, no wall clock, no
//! threads. The same inputs and seed give a byte-identical [`trace::Trace`].

pub mod api;
pub mod changelog;
pub mod cluster;
pub mod controllers;
pub mod dns;
pub mod env;
pub mod events;
pub mod images;
pub mod kubectl;
pub mod kubelet;
pub mod labels;
pub mod metrics;
pub mod observe;
pub mod ops;
pub mod printers;
pub mod prober;
pub mod quantity;
pub mod store;
pub mod time;
pub mod trace;
pub mod volumes;

pub use api::ApiError;
pub use cluster::{Cluster, ClusterConfig, Propagation};
pub use store::{Kind, ObjectKey};
pub use time::Millis;

//! The World and the kubespec step vocabulary. Steps talk only to the
//! [`kubespec_harness::Backend`] trait.
//!
//! See [`all_steps`] for the vocabulary (one module per concept) and [`World`] for the state a
//! scenario carries. Steps are registered explicitly from the table (see [`registry`]), not by
//! link-time `inventory`, so no step can be dropped by the linker.

pub mod registry;
mod report;
mod world;

mod controllers;
mod deployment;
mod hpa;
mod images;
mod manifests;
mod objects;
mod pods;
mod rollout;
mod services;
mod statefulset;
mod time;

pub use world::{BackendKind, RunConfig, World};

/// Every step definition, in the order `kubespec steps` lists them.
pub fn all_steps() -> Vec<registry::StepDef> {
    let mut all = Vec::new();
    all.extend(manifests::steps());
    all.extend(images::steps());
    all.extend(deployment::steps());
    all.extend(rollout::steps());
    all.extend(objects::steps());
    all.extend(pods::steps());
    all.extend(services::steps());
    all.extend(hpa::steps());
    all.extend(statefulset::steps());
    all.extend(controllers::steps());
    all.extend(time::steps());
    all
}

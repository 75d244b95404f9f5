//! The controllers, as reconcile functions over [`crate::Cluster`].

pub mod deployment;
pub mod endpointslice;
pub mod hpa;
pub mod replicaset;
pub mod scheduler;
pub mod statefulset;

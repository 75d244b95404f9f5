//! The engine is deterministic: the same scenario and seed give a byte-identical trace, and the
//! seed changes identities (uids, pod names) but never the controllers' arithmetic.

use kubespec_engine::images::Exit;
use kubespec_engine::observe::ScaleRecord;
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey};
use pretty_assertions::{assert_eq, assert_ne};
use std::collections::BTreeSet;

use kubespec_engine::kubectl::simple_deployment as deployment;

fn set_paused(c: &mut Cluster, key: &ObjectKey, paused: bool) {
    c.update_deployment(key, |d| {
        d.spec.get_or_insert_with(Default::default).paused = Some(paused)
    })
    .unwrap();
}

fn wait(c: &mut Cluster, secs: u64) {
    let until = c.now() + Millis::from_secs(secs);
    c.run_until(until);
}

/// A Deployment of 5 replicas through an image change, a scale to 8 mid-rollout, a pause with a
/// crashing image set meanwhile, a resume (the rollout crash-loops), an undo back to the
/// working image, and time to settle.
fn scenario(seed: u64) -> (Cluster, ObjectKey) {
    let mut c = Cluster::new(ClusterConfig {
        seed,
        ..Default::default()
    });
    c.images
        .update("web:v2", |b| b.start = Millis::from_secs(3));
    c.images.update("web:crash", |b| {
        b.exit = Some(Exit {
            after: Millis::ZERO,
            code: 1,
        })
    });
    let key = c.apply_deployment(deployment("web", 5, "web:v1")).unwrap();
    wait(&mut c, 10);
    c.set_deployment_image(&key, "web", "web:v2").unwrap();
    wait(&mut c, 2);
    c.update_deployment(&key, |d| {
        d.spec.get_or_insert_with(Default::default).replicas = Some(8)
    })
    .unwrap();
    wait(&mut c, 5);
    set_paused(&mut c, &key, true);
    c.set_deployment_image(&key, "web", "web:crash").unwrap();
    wait(&mut c, 10);
    set_paused(&mut c, &key, false);
    wait(&mut c, 60);
    assert_eq!(
        c.undo_deployment(&key, 0),
        Ok("deployment.apps/web rolled back".to_string())
    );
    wait(&mut c, 120);
    (c, key)
}

fn scales(c: &Cluster, key: &ObjectKey) -> Vec<ScaleRecord> {
    c.observer.deployments[key].scales.clone()
}

/// Pod names from the trace's `ADDED Pod` lines.
fn pod_names(trace: &str) -> BTreeSet<String> {
    trace
        .lines()
        .filter_map(|l| l.split_once(" ADDED Pod "))
        .map(|(_, rest)| rest.split(' ').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn same_seed_gives_a_byte_identical_trace() {
    let (a, key) = scenario(7);
    let (b, _) = scenario(7);
    let trace = a.trace.render();
    assert_eq!(trace, b.trace.render());

    // The scenario does what it says, so the comparison above covers every code path it names.
    assert!(
        trace.contains(" EVENT Normal ScalingReplicaSet Deployment/web: Scaled up replica set "),
        "no scale-up event:\n{trace}"
    );
    assert!(
        trace.contains(" EVENT Normal ScalingReplicaSet Deployment/web: Scaled down replica set "),
        "no scale-down event:\n{trace}"
    );
    assert!(
        trace.contains(" EVENT Warning BackOff Pod/"),
        "the crashing image never crash-looped:\n{trace}"
    );
    assert!(
        pod_names(&trace).len() > 8,
        "too few pods created:\n{trace}"
    );
    assert!(
        a.deployment_complete(&key),
        "the undo's rollout did not complete:\n{trace}"
    );
    let d = &a.store.deployments[&key];
    let image = d
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers[0].image.clone());
    assert_eq!(image.as_deref(), Some("web:v2"));
}

#[test]
fn another_seed_changes_identities_but_not_arithmetic() {
    let (a, key) = scenario(7);
    let (b, _) = scenario(8);
    let (ta, tb) = (a.trace.render(), b.trace.render());
    assert_ne!(ta, tb);
    assert_ne!(
        a.store.deployments[&key].metadata.uid,
        b.store.deployments[&key].metadata.uid
    );
    let (pa, pb) = (pod_names(&ta), pod_names(&tb));
    assert!(
        pa.is_disjoint(&pb),
        "pod names shared by seeds 7 and 8: {:?}",
        pa.intersection(&pb).collect::<Vec<_>>()
    );

    // ReplicaSet names hash the pod template, not the seed, so the whole scaling history
    // (instant, ReplicaSet, from, to) is the same.
    assert_eq!(scales(&a, &key), scales(&b, &key));
    assert!(
        scales(&a, &key).len() > 4,
        "too few ReplicaSet scalings: {:?}",
        scales(&a, &key)
    );
    assert_eq!(
        a.observer.deployments[&key].samples,
        b.observer.deployments[&key].samples
    );
}

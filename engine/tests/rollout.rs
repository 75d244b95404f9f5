//! End-to-end rollouts on the engine, checked against upstream's arithmetic.

use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey};
use std::collections::BTreeMap;

use kubespec_engine::kubectl::simple_deployment as deployment;

/// (old, new) after every ReplicaSet scale since the last template change.
fn table(c: &Cluster, key: &ObjectKey) -> Vec<(i32, i32)> {
    let h = &c.observer.deployments[key];
    let change = h.template_changes.last().unwrap().clone();
    let d = &c.store.deployments[key];
    let uid = d.metadata.uid.clone().unwrap();
    let new_name = c
        .store
        .replicasets_owned_by(&uid)
        .into_iter()
        .find(|rs| {
            kubespec_engine::controllers::deployment::util::equal_ignore_hash(
                rs.spec.as_ref().unwrap().template.as_ref().unwrap(),
                &d.spec.as_ref().unwrap().template,
            )
        })
        .unwrap()
        .metadata
        .name
        .clone()
        .unwrap();
    let mut sizes = change.sizes;
    let row = |s: &BTreeMap<String, i32>| {
        let new = s.get(&new_name).copied().unwrap_or(0);
        (s.values().sum::<i32>() - new, new)
    };
    let mut rows = vec![row(&sizes)];
    for s in &h.scales[change.scales_before..] {
        sizes.insert(s.replica_set.clone(), s.to);
        rows.push(row(&sizes));
    }
    rows
}

fn rollout(replicas: i32) -> Vec<(i32, i32)> {
    let mut c = Cluster::new(ClusterConfig::default());
    let key = c
        .apply_deployment(deployment("web", replicas, "web:v1"))
        .unwrap();
    assert!(c.run_until_condition(Millis::from_secs(600), |c| c.deployment_complete(&key)));
    c.set_deployment_image(&key, "web", "web:v2").unwrap();
    assert!(
        c.run_until_condition(c.now() + Millis::from_secs(600), |c| c
            .deployment_complete(&key))
    );
    table(&c, &key)
}

#[test]
fn three_replicas_roll_one_up_one_down() {
    assert_eq!(
        rollout(3),
        vec![(3, 0), (3, 1), (2, 1), (2, 2), (1, 2), (1, 3), (0, 3)]
    );
}

#[test]
fn four_replicas_remove_two_old_pods_at_once() {
    assert_eq!(
        rollout(4),
        vec![(4, 0), (4, 1), (3, 1), (3, 2), (1, 2), (1, 4), (0, 4)]
    );
}

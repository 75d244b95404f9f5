//! The StatefulSet controller end to end on the engine: the scenarios of the semantics spec
//! (§3.8, S1–S12), kubectl's view of them (K8–K10), and a property test of OrderedReady.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kubespec_engine::controllers::statefulset::utils;
use kubespec_engine::kubectl::{RolloutStatus, simple_stateful_set, stateful_set_rollout_status};
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey, Propagation};

fn key(name: &str) -> ObjectKey {
    ObjectKey::new("default", name)
}

fn cluster() -> Cluster {
    Cluster::new(ClusterConfig::default())
}

fn set(c: &Cluster, name: &str) -> StatefulSet {
    c.store.statefulsets[&key(name)].clone()
}

fn status(c: &Cluster, name: &str) -> k8s_openapi::api::apps::v1::StatefulSetStatus {
    set(c, name).status.unwrap_or_default()
}

/// Names of the pods that exist now, in ordinal order.
fn pods(c: &Cluster) -> Vec<String> {
    let mut v: Vec<(i32, String)> = c
        .store
        .pods
        .values()
        .map(|p| (utils::ordinal(p), p.metadata.name.clone().unwrap()))
        .collect();
    v.sort();
    v.into_iter().map(|(_, n)| n).collect()
}

fn pod<'a>(c: &'a Cluster, name: &str) -> Option<&'a Pod> {
    c.store.pods.get(&key(name))
}

fn image_of(p: &Pod) -> String {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap()
}

fn created(c: &Cluster, name: &str) -> Vec<String> {
    c.observer.statefulsets[&key(name)]
        .created
        .iter()
        .map(|(_, n)| n.clone())
        .collect()
}

fn deleted(c: &Cluster, name: &str) -> Vec<String> {
    c.observer
        .statefulsets
        .get(&key(name))
        .map(|h| h.deleted.iter().map(|(_, n)| n.clone()).collect())
        .unwrap_or_default()
}

fn rollout_done(c: &Cluster, name: &str) -> bool {
    stateful_set_rollout_status(&set(c, name)).is_done()
}

/// Runs until the set's rollout is complete, at most `secs` seconds.
fn settle(c: &mut Cluster, name: &str, secs: u64) {
    let limit = c.now() + Millis::from_secs(secs);
    let n = name.to_string();
    assert!(
        c.run_until_condition(limit, |c| rollout_done(c, &n)),
        "rollout of {name} not done by {limit}: {:?}",
        stateful_set_rollout_status(&set(c, name))
    );
}

fn web(c: &mut Cluster, replicas: i32, edit: impl FnOnce(&mut StatefulSet)) {
    let mut s = simple_stateful_set("web", replicas, "nginx:1.0");
    edit(&mut s);
    c.apply_stateful_set(s).unwrap();
}

#[test]
fn s1_ordered_ready_creates_one_pod_after_another() {
    let mut c = cluster();
    web(&mut c, 3, |_| {});
    c.settle();
    // Only web-0 at first: it is not ready yet.
    assert_eq!(pods(&c), ["web-0"]);
    let p = pod(&c, "web-0").unwrap();
    let labels = p.metadata.labels.clone().unwrap();
    assert_eq!(labels[utils::POD_NAME_LABEL], "web-0");
    assert_eq!(labels[utils::POD_INDEX_LABEL], "0");
    assert_eq!(
        labels[utils::REVISION_LABEL],
        status(&c, "web").update_revision.unwrap()
    );
    let spec = p.spec.as_ref().unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("web-0"));
    assert_eq!(spec.subdomain.as_deref(), Some("web"));
    // Images start in 1 s: web-1 at 1 s, web-2 at 2 s, ready 3 at 3 s.
    let mut ready = vec![];
    for t in 0..=3 {
        c.run_until(Millis::from_secs(t));
        ready.push(status(&c, "web").ready_replicas.unwrap_or(0));
    }
    assert_eq!(ready, [0, 1, 2, 3]);
    let times: Vec<u64> = c.observer.statefulsets[&key("web")]
        .created
        .iter()
        .map(|(t, _)| t.whole_secs())
        .collect();
    assert_eq!(times, [0, 1, 2]);
    assert_eq!(created(&c, "web"), ["web-0", "web-1", "web-2"]);
    let events: Vec<String> = c
        .events
        .about(kubespec_engine::Kind::StatefulSet, &key("web"))
        .map(|e| format!("{} {}", e.reason, e.message))
        .collect();
    assert_eq!(
        events,
        [
            "SuccessfulCreate create Pod web-0 in StatefulSet web successful",
            "SuccessfulCreate create Pod web-1 in StatefulSet web successful",
            "SuccessfulCreate create Pod web-2 in StatefulSet web successful",
        ]
    );
    assert_eq!(
        stateful_set_rollout_status(&set(&c, "web")).line(),
        "partitioned roll out complete: 3 new pods have been updated..."
    );
}

#[test]
fn an_update_to_a_never_ready_image_stops_at_the_highest_pod() {
    let mut c = cluster();
    c.images.update("never:1", |b| b.ready_after = None);
    web(&mut c, 3, |s| {
        let t = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
        t.containers[0].readiness_probe = Some(k8s_openapi::api::core::v1::Probe {
            http_get: Some(k8s_openapi::api::core::v1::HTTPGetAction {
                path: Some("/ready".into()),
                port: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(80),
                ..Default::default()
            }),
            period_seconds: Some(1),
            ..Default::default()
        });
    });
    c.settle();
    c.run_until(Millis::from_secs(5));
    assert_eq!(pods(&c), ["web-0", "web-1", "web-2"]);
    c.set_stateful_set_image(&key("web"), "*", "never:1")
        .unwrap();
    c.run_until(Millis::from_secs(120));
    // The update went web-2 first; web-2 never gets ready, so web-1 is never touched.
    assert_eq!(image_of(pod(&c, "web-2").unwrap()), "never:1");
    assert_eq!(image_of(pod(&c, "web-1").unwrap()), "nginx:1.0");
    let st = status(&c, "web");
    assert_eq!((st.replicas, st.ready_replicas), (3, Some(2)));
    assert_eq!(
        stateful_set_rollout_status(&set(&c, "web")).line(),
        "Waiting for 1 pods to be ready..."
    );
}

#[test]
fn s2_scale_up_halts_behind_an_unready_pod() {
    let mut c = cluster();
    c.images.update("never:1", |b| b.ready_after = None);
    web(&mut c, 3, |s| {
        let t = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
        t.containers[0].image = Some("never:1".into());
        t.containers[0].readiness_probe = Some(k8s_openapi::api::core::v1::Probe {
            http_get: Some(k8s_openapi::api::core::v1::HTTPGetAction {
                path: Some("/ready".into()),
                port: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(80),
                ..Default::default()
            }),
            period_seconds: Some(1),
            ..Default::default()
        });
    });
    c.run_until(Millis::from_secs(600));
    assert_eq!(pods(&c), ["web-0"]);
    let st = status(&c, "web");
    assert_eq!((st.replicas, st.ready_replicas), (1, Some(0)));
    assert_eq!(
        stateful_set_rollout_status(&set(&c, "web")).line(),
        "Waiting for 3 pods to be ready..."
    );
}

#[test]
fn s3_scale_down_deletes_the_highest_ordinal_first_and_waits_for_it() {
    let mut c = cluster();
    c.images
        .update("nginx:1.0", |b| b.stop = Millis::from_secs(5));
    web(&mut c, 3, |_| {});
    settle(&mut c, "web", 60);
    let t0 = c.now();
    c.scale_stateful_set(&key("web"), 1).unwrap();
    c.settle();
    assert_eq!(deleted(&c, "web"), ["web-2"]);
    // web-2 takes 5 s to stop; web-1 is deleted only once it is gone.
    c.run_until(t0 + Millis(4999));
    assert_eq!(deleted(&c, "web"), ["web-2"]);
    c.run_until(t0 + Millis::from_secs(5));
    assert_eq!(deleted(&c, "web"), ["web-2", "web-1"]);
    c.run_until(t0 + Millis::from_secs(10));
    assert_eq!(pods(&c), ["web-0"]);
    assert_eq!(status(&c, "web").replicas, 1);
}

#[test]
fn s4_parallel_creates_and_deletes_all_at_once() {
    let mut c = cluster();
    web(&mut c, 0, |s| {
        s.spec.as_mut().unwrap().pod_management_policy = Some("Parallel".into());
    });
    c.settle();
    c.scale_stateful_set(&key("web"), 3).unwrap();
    c.settle();
    assert_eq!(pods(&c), ["web-0", "web-1", "web-2"]);
    settle(&mut c, "web", 60);
    c.scale_stateful_set(&key("web"), 0).unwrap();
    c.settle();
    let mut d = deleted(&c, "web");
    d.sort();
    assert_eq!(d, ["web-0", "web-1", "web-2"]);
}

#[test]
fn s5_rolling_update_goes_from_the_highest_ordinal_down() {
    let mut c = cluster();
    web(&mut c, 3, |_| {});
    settle(&mut c, "web", 60);
    let first = status(&c, "web").update_revision.unwrap();
    c.set_stateful_set_image(&key("web"), "*", "nginx:2.0")
        .unwrap();
    c.settle();
    let second = status(&c, "web").update_revision.unwrap();
    assert_ne!(first, second);
    let mut updated = vec![];
    let limit = c.now() + Millis::from_secs(60);
    c.run_until_condition(limit, |c| {
        let u = status(c, "web").updated_replicas.unwrap_or(0);
        if updated.last() != Some(&u) {
            updated.push(u);
        }
        rollout_done(c, "web")
    });
    assert_eq!(updated, [0, 1, 2, 3]);
    assert_eq!(deleted(&c, "web"), ["web-2", "web-1", "web-0"]);
    let st = status(&c, "web");
    assert_eq!(st.current_revision, Some(second.clone()));
    assert_eq!(st.current_replicas, Some(3));
    for p in ["web-0", "web-1", "web-2"] {
        assert_eq!(image_of(pod(&c, p).unwrap()), "nginx:2.0");
    }
    // Two revisions, numbered 1 and 2.
    let mut revs: Vec<i64> = c
        .stateful_set_revisions(&key("web"))
        .iter()
        .map(|r| r.revision)
        .collect();
    revs.sort();
    assert_eq!(revs, [1, 2]);
}

/// NOTE: the spec's S6 expects only web-4 and web-3 to be updated; upstream updates every
/// ordinal at or above the partition (`target >= updateMin`), so web-2 too, which is also what
/// K9's "1 out of 3 new pods" says.
#[test]
fn s6_partition_updates_only_the_pods_at_or_above_it() {
    let mut c = cluster();
    web(&mut c, 5, |s| {
        let ru = s
            .spec
            .as_mut()
            .unwrap()
            .update_strategy
            .get_or_insert_with(Default::default);
        ru.type_ = Some("RollingUpdate".into());
        ru.rolling_update = Some(
            k8s_openapi::api::apps::v1::RollingUpdateStatefulSetStrategy {
                partition: Some(2),
                ..Default::default()
            },
        );
    });
    settle(&mut c, "web", 60);
    c.set_stateful_set_image(&key("web"), "*", "nginx:2.0")
        .unwrap();
    settle(&mut c, "web", 60);
    c.run_until(c.now() + Millis::from_secs(30));
    let st = status(&c, "web");
    assert_eq!(
        (st.updated_replicas, st.current_replicas),
        (Some(3), Some(2))
    );
    assert_ne!(st.current_revision, st.update_revision);
    assert_eq!(deleted(&c, "web"), ["web-4", "web-3", "web-2"]);
    assert_eq!(image_of(pod(&c, "web-1").unwrap()), "nginx:1.0");
    assert_eq!(
        stateful_set_rollout_status(&set(&c, "web")).line(),
        "partitioned roll out complete: 3 new pods have been updated..."
    );
    // Deleting web-1 by hand recreates it at the old revision.
    c.delete::<Pod>(&key("web-1"), Propagation::Background)
        .unwrap();
    c.run_until(c.now() + Millis::from_secs(30));
    assert_eq!(image_of(pod(&c, "web-1").unwrap()), "nginx:1.0");
    assert_eq!(
        utils::pod_revision(pod(&c, "web-1").unwrap()),
        status(&c, "web").current_revision.unwrap()
    );
}

#[test]
fn k9_partitioned_status_counts_pods_above_the_partition() {
    let mut c = cluster();
    web(&mut c, 5, |s| {
        let u = s
            .spec
            .as_mut()
            .unwrap()
            .update_strategy
            .get_or_insert_with(Default::default);
        u.type_ = Some("RollingUpdate".into());
        u.rolling_update = Some(
            k8s_openapi::api::apps::v1::RollingUpdateStatefulSetStrategy {
                partition: Some(2),
                ..Default::default()
            },
        );
    });
    settle(&mut c, "web", 60);
    c.images
        .update("nginx:2.0", |b| b.start = Millis::from_secs(10));
    c.set_stateful_set_image(&key("web"), "*", "nginx:2.0")
        .unwrap();
    // web-4 is replaced and starting; once it is ready, web-3 goes.
    let limit = c.now() + Millis::from_secs(60);
    let mut lines = vec![];
    c.run_until_condition(limit, |c| {
        let l = stateful_set_rollout_status(&set(c, "web")).line();
        if lines.last() != Some(&l) {
            lines.push(l);
        }
        rollout_done(c, "web")
    });
    assert!(
        lines.contains(
            &"Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated..."
                .to_string()
        ),
        "{lines:#?}"
    );
    assert_eq!(
        lines.last().unwrap(),
        "partitioned roll out complete: 3 new pods have been updated..."
    );
}

#[test]
fn s7_on_delete_replaces_only_pods_deleted_by_hand() {
    let mut c = cluster();
    web(&mut c, 3, |s| {
        s.spec.as_mut().unwrap().update_strategy =
            Some(k8s_openapi::api::apps::v1::StatefulSetUpdateStrategy {
                type_: Some("OnDelete".into()),
                rolling_update: None,
            });
    });
    c.run_until(Millis::from_secs(10));
    let before = status(&c, "web").update_revision;
    c.set_stateful_set_image(&key("web"), "*", "nginx:2.0")
        .unwrap();
    c.run_until(c.now() + Millis::from_secs(30));
    assert!(deleted(&c, "web").is_empty());
    assert_ne!(status(&c, "web").update_revision, before);
    assert_eq!(
        stateful_set_rollout_status(&set(&c, "web")),
        RolloutStatus::Error(
            "rollout status is only available for RollingUpdate strategy type".into()
        )
    );
    c.delete::<Pod>(&key("web-1"), Propagation::Background)
        .unwrap();
    c.run_until(c.now() + Millis::from_secs(30));
    assert_eq!(image_of(pod(&c, "web-1").unwrap()), "nginx:2.0");
    assert_eq!(image_of(pod(&c, "web-0").unwrap()), "nginx:1.0");
    let st = status(&c, "web");
    // The OnDelete quirk: currentRevision never moves by itself.
    assert_eq!(st.current_revision, before);
    assert_eq!(
        (st.current_replicas, st.updated_replicas),
        (Some(2), Some(1))
    );
}

fn with_claims(s: &mut StatefulSet, when_scaled: &str, when_deleted: &str) {
    let spec = s.spec.as_mut().unwrap();
    spec.volume_claim_templates = Some(vec![PersistentVolumeClaim {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("www".into()),
            ..Default::default()
        },
        spec: Some(k8s_openapi::api::core::v1::PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            ..Default::default()
        }),
        status: None,
    }]);
    spec.persistent_volume_claim_retention_policy = Some(
        k8s_openapi::api::apps::v1::StatefulSetPersistentVolumeClaimRetentionPolicy {
            when_scaled: Some(when_scaled.into()),
            when_deleted: Some(when_deleted.into()),
        },
    );
}

fn claims(c: &Cluster) -> Vec<String> {
    c.store
        .persistentvolumeclaims
        .keys()
        .map(|k| k.name.to_string())
        .collect()
}

#[test]
fn s8_claims_are_kept_on_scale_down_and_reattached_on_scale_up() {
    let mut c = cluster();
    web(&mut c, 2, |s| with_claims(s, "Retain", "Retain"));
    settle(&mut c, "web", 60);
    assert_eq!(claims(&c), ["www-web-0", "www-web-1"]);
    let claim = &c.store.persistentvolumeclaims[&key("www-web-1")];
    assert_eq!(
        claim.status.as_ref().unwrap().phase.as_deref(),
        Some("Bound")
    );
    assert!(claim.metadata.owner_references.is_none());
    let uid = claim.metadata.uid.clone();
    let vol = pod(&c, "web-1")
        .unwrap()
        .spec
        .as_ref()
        .unwrap()
        .volumes
        .clone()
        .unwrap();
    assert_eq!(
        vol[0].persistent_volume_claim.as_ref().unwrap().claim_name,
        "www-web-1"
    );
    c.scale_stateful_set(&key("web"), 1).unwrap();
    c.run_until(c.now() + Millis::from_secs(30));
    assert_eq!(pods(&c), ["web-0"]);
    assert_eq!(claims(&c), ["www-web-0", "www-web-1"]);
    c.scale_stateful_set(&key("web"), 2).unwrap();
    settle(&mut c, "web", 60);
    assert_eq!(
        c.store.persistentvolumeclaims[&key("www-web-1")]
            .metadata
            .uid,
        uid
    );
}

#[test]
fn s9_when_scaled_delete_removes_the_claim_after_its_pod() {
    let mut c = cluster();
    c.images
        .update("nginx:1.0", |b| b.stop = Millis::from_secs(3));
    web(&mut c, 2, |s| with_claims(s, "Delete", "Retain"));
    settle(&mut c, "web", 60);
    let pod_uid = pod(&c, "web-1").unwrap().metadata.uid.clone().unwrap();
    c.scale_stateful_set(&key("web"), 1).unwrap();
    c.settle();
    let refs = c.store.persistentvolumeclaims[&key("www-web-1")]
        .metadata
        .owner_references
        .clone()
        .unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(
        (refs[0].kind.as_str(), refs[0].uid.as_str()),
        ("Pod", pod_uid.as_str())
    );
    // The claim outlives the pod's graceful deletion and goes with it.
    c.run_until(c.now() + Millis(2000));
    assert_eq!(claims(&c), ["www-web-0", "www-web-1"]);
    c.run_until(c.now() + Millis::from_secs(2));
    assert_eq!(claims(&c), ["www-web-0"]);
}

#[test]
fn when_deleted_delete_removes_claims_with_the_set() {
    let mut c = cluster();
    web(&mut c, 2, |s| with_claims(s, "Retain", "Delete"));
    settle(&mut c, "web", 60);
    let refs = c.store.persistentvolumeclaims[&key("www-web-0")]
        .metadata
        .owner_references
        .clone()
        .unwrap();
    assert_eq!(refs[0].kind, "StatefulSet");
    c.delete::<StatefulSet>(&key("web"), Propagation::Background)
        .unwrap();
    c.run_until(c.now() + Millis::from_secs(60));
    assert!(claims(&c).is_empty());
    assert!(pods(&c).is_empty());
}

#[test]
fn s10_start_ordinal_names_and_moves_the_range() {
    let mut c = cluster();
    web(&mut c, 3, |s| {
        s.spec.as_mut().unwrap().ordinals =
            Some(k8s_openapi::api::apps::v1::StatefulSetOrdinals { start: Some(5) });
    });
    settle(&mut c, "web", 60);
    assert_eq!(pods(&c), ["web-5", "web-6", "web-7"]);
    c.update_stateful_set(&key("web"), |s| {
        s.spec.as_mut().unwrap().ordinals =
            Some(k8s_openapi::api::apps::v1::StatefulSetOrdinals { start: Some(3) });
    })
    .unwrap();
    settle(&mut c, "web", 60);
    c.run_until(c.now() + Millis::from_secs(30));
    assert_eq!(pods(&c), ["web-3", "web-4", "web-5"]);
    assert_eq!(
        created(&c, "web"),
        ["web-5", "web-6", "web-7", "web-3", "web-4"]
    );
    assert_eq!(deleted(&c, "web"), ["web-7", "web-6"]);
}

#[test]
fn s11_min_ready_seconds_delays_the_next_pod_and_availability() {
    let mut c = cluster();
    web(&mut c, 2, |s| {
        s.spec.as_mut().unwrap().min_ready_seconds = Some(10)
    });
    c.run_until(Millis::from_secs(1));
    let st = status(&c, "web");
    assert_eq!(
        (st.ready_replicas, st.available_replicas),
        (Some(1), Some(0))
    );
    c.run_until(Millis::from_secs(11));
    assert_eq!(pods(&c), ["web-0"]);
    c.run_until(Millis(11_001));
    assert_eq!(pods(&c), ["web-0", "web-1"]);
    assert_eq!(status(&c, "web").available_replicas, Some(1));
    assert_eq!(
        c.observer.statefulsets[&key("web")].created[1].0,
        Millis(11_001)
    );
}

#[test]
fn s12_a_failed_pod_is_recreated_under_the_same_name_with_its_claim() {
    let mut c = cluster();
    c.images.update("job:1", |b| {
        b.exit = Some(kubespec_engine::images::Exit {
            after: Millis::from_secs(5),
            code: 1,
        })
    });
    // restartPolicy Always is required; a pod evicted or failed otherwise is simulated by
    // writing its phase, as the kubelet does on eviction.
    web(&mut c, 1, |s| with_claims(s, "Retain", "Retain"));
    settle(&mut c, "web", 60);
    let uid = pod(&c, "web-0").unwrap().metadata.uid.clone();
    let claim = c.store.persistentvolumeclaims[&key("www-web-0")]
        .metadata
        .uid
        .clone();
    c.modify::<Pod>(&key("web-0"), |p| {
        p.status.as_mut().unwrap().phase = Some("Failed".into());
    })
    .unwrap();
    c.run_until(c.now() + Millis::from_secs(60));
    let p = pod(&c, "web-0").unwrap();
    assert_ne!(p.metadata.uid, uid);
    assert_eq!(deleted(&c, "web"), ["web-0"]);
    assert_eq!(created(&c, "web"), ["web-0", "web-0"]);
    assert_eq!(
        c.store.persistentvolumeclaims[&key("www-web-0")]
            .metadata
            .uid,
        claim
    );
}

#[test]
fn undo_renumbers_the_older_revision() {
    let mut c = cluster();
    web(&mut c, 2, |_| {});
    settle(&mut c, "web", 60);
    c.set_stateful_set_image(&key("web"), "*", "nginx:2.0")
        .unwrap();
    settle(&mut c, "web", 60);
    assert_eq!(
        c.undo_stateful_set(&key("web"), 5),
        Err("unable to find specified revision 5 in history".into())
    );
    assert_eq!(
        c.undo_stateful_set(&key("web"), 0).unwrap(),
        "statefulset.apps/web rolled back"
    );
    c.settle();
    settle(&mut c, "web", 60);
    let mut revs: Vec<(i64, String)> = c
        .stateful_set_revisions(&key("web"))
        .iter()
        .map(|r| (r.revision, r.metadata.name.clone().unwrap()))
        .collect();
    revs.sort();
    assert_eq!(revs.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(Some(revs[1].1.clone()), status(&c, "web").update_revision);
    for p in ["web-0", "web-1"] {
        assert_eq!(image_of(pod(&c, p).unwrap()), "nginx:1.0");
    }
    assert_eq!(
        c.undo_stateful_set(&key("web"), 3).unwrap(),
        "skipped rollback (current template already matches revision 3)"
    );
}

#[test]
fn history_is_truncated_to_the_limit() {
    let mut c = cluster();
    web(&mut c, 1, |s| {
        s.spec.as_mut().unwrap().revision_history_limit = Some(2)
    });
    settle(&mut c, "web", 60);
    for v in 2..=6 {
        c.set_stateful_set_image(&key("web"), "*", &format!("nginx:{v}.0"))
            .unwrap();
        settle(&mut c, "web", 60);
    }
    let mut revs: Vec<i64> = c
        .stateful_set_revisions(&key("web"))
        .iter()
        .map(|r| r.revision)
        .collect();
    revs.sort();
    // The live revision (6) and two more.
    assert_eq!(revs, [4, 5, 6]);
}

#[test]
fn invalid_stateful_sets_are_refused_with_the_api_servers_words() {
    let mut c = cluster();
    let mut s = simple_stateful_set("web", -1, "nginx");
    s.spec.as_mut().unwrap().pod_management_policy = Some("Sometimes".into());
    let err = c.apply_stateful_set(s).unwrap_err().to_string();
    assert_eq!(
        err,
        "StatefulSet.apps \"web\" is invalid: [spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel', spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
    );
    web(&mut c, 1, |_| {});
    let err = c
        .update_stateful_set(&key("web"), |s| {
            s.spec.as_mut().unwrap().service_name = Some("other".into())
        })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas'"
        ),
        "{err}"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Action {
        Scale(i32),
        Image(u8),
        Partition(i32),
        DeletePod(i32),
        Unready(i32),
        Wait(u64),
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            (0..6i32).prop_map(Action::Scale),
            (0..3u8).prop_map(Action::Image),
            (0..4i32).prop_map(Action::Partition),
            (0..6i32).prop_map(Action::DeletePod),
            (0..6i32).prop_map(Action::Unready),
            (1..20u64).prop_map(Action::Wait),
        ]
    }

    /// Runs instant by instant to `until`, checking after each instant that every pod created
    /// in it has all lower ordinals of the range present, running and ready, and that no
    /// claim (all retained) ever disappears or is replaced.
    fn run_checked(c: &mut Cluster, until: Millis) -> Result<(), TestCaseError> {
        let claim_uids = |c: &Cluster| -> std::collections::BTreeMap<String, String> {
            c.store
                .persistentvolumeclaims
                .iter()
                .map(|(k, p)| (k.name.to_string(), p.metadata.uid.clone().unwrap()))
                .collect()
        };
        loop {
            let claims_before = claim_uids(c);
            let before: std::collections::BTreeSet<String> = c
                .store
                .pods
                .values()
                .map(|p| p.metadata.uid.clone().unwrap())
                .collect();
            let next = match c.next_timer_at() {
                Some(t) if t <= until => t,
                _ => {
                    c.run_until(until);
                    return Ok(());
                }
            };
            c.run_until(next);
            let claims_after = claim_uids(c);
            for (name, uid) in &claims_before {
                prop_assert_eq!(
                    claims_after.get(name),
                    Some(uid),
                    "retained claim {} was deleted or replaced at {}",
                    name,
                    c.now()
                );
            }
            let s = set(c, "web");
            let start = utils::start_ordinal(&s);
            for p in c.store.pods.values() {
                if before.contains(p.metadata.uid.as_ref().unwrap()) {
                    continue;
                }
                let k = utils::ordinal(p);
                for j in start..k {
                    let lower = pod(c, &format!("web-{j}"));
                    prop_assert!(
                        lower.is_some_and(utils::is_running_and_ready),
                        "web-{k} created at {} while web-{j} is {:?}",
                        c.now(),
                        lower.map(kubespec_engine::kubectl::pod_status_column)
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
        #[test]
        fn ordered_ready_keeps_order_and_names(actions in proptest::collection::vec(action(), 1..12)) {
            let mut c = cluster();
            c.images.update("img:2", |b| b.start = Millis::from_secs(3));
            web(&mut c, 2, |s| {
                with_claims(s, "Retain", "Retain");
                let t = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
                t.containers[0].readiness_probe = Some(k8s_openapi::api::core::v1::Probe {
                    http_get: Some(k8s_openapi::api::core::v1::HTTPGetAction {
                        path: Some("/ready".into()),
                        port: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(80),
                        ..Default::default()
                    }),
                    period_seconds: Some(1),
                    ..Default::default()
                });
            });
            for a in &actions {
                match a {
                    Action::Scale(n) => { c.scale_stateful_set(&key("web"), *n).unwrap(); }
                    Action::Image(v) => { c.set_stateful_set_image(&key("web"), "*", &format!("img:{v}")).unwrap(); }
                    Action::Partition(p) => {
                        c.update_stateful_set(&key("web"), |s| {
                            s.spec.as_mut().unwrap().update_strategy = Some(k8s_openapi::api::apps::v1::StatefulSetUpdateStrategy {
                                type_: Some("RollingUpdate".into()),
                                rolling_update: Some(k8s_openapi::api::apps::v1::RollingUpdateStatefulSetStrategy { partition: Some(*p), ..Default::default() }),
                            });
                        }).unwrap();
                    }
                    Action::DeletePod(o) => { let _ = c.delete::<Pod>(&key(&format!("web-{o}")), Propagation::Background); }
                    Action::Unready(o) => {
                        let _ = c.set_probe_endpoint(&key(&format!("web-{o}")), kubespec_engine::prober::ProbeKind::Readiness, false);
                    }
                    Action::Wait(_) => {}
                }
                c.settle();
                let secs = if let Action::Wait(s) = a { *s } else { 0 };
                let until = c.now() + Millis::from_secs(secs);
                run_checked(&mut c, until)?;
            }
            // Make every pod healthy again and let the set settle.
            for p in pods(&c) {
                let _ = c.set_probe_endpoint(&key(&p), kubespec_engine::prober::ProbeKind::Readiness, true);
            }
            let limit = c.now() + Millis::from_secs(600);
            run_checked(&mut c, limit)?;
            let s = set(&c, "web");
            let (start, end) = (utils::start_ordinal(&s), utils::end_ordinal(&s));
            let want: Vec<String> = (start..=end).map(|o| format!("web-{o}")).collect();
            prop_assert_eq!(pods(&c), want);
            prop_assert!(rollout_done(&c, "web"), "{:?}", stateful_set_rollout_status(&s));
        }
    }
}

/// The same seed gives a byte-identical trace; another seed changes uids, not what the
/// controller does.
#[test]
fn statefulset_runs_are_deterministic() {
    let run = |seed: u64| {
        let mut c = Cluster::new(ClusterConfig {
            seed,
            ..Default::default()
        });
        web(&mut c, 3, |s| with_claims(s, "Delete", "Retain"));
        settle(&mut c, "web", 60);
        c.set_stateful_set_image(&key("web"), "*", "nginx:2.0")
            .unwrap();
        settle(&mut c, "web", 60);
        c.scale_stateful_set(&key("web"), 1).unwrap();
        c.run_until(c.now() + Millis::from_secs(30));
        let h = c.observer.statefulsets[&key("web")].clone();
        (c.trace.render(), h)
    };
    let (a, ha) = run(7);
    let (b, hb) = run(7);
    assert_eq!(a, b);
    assert!(a.contains("ADDED Pod default/web-2"), "{a}");
    let (c, hc) = run(8);
    assert_ne!(a, c);
    assert_eq!(ha, hb);
    assert_eq!(ha, hc);
}

/// kubectl's status lines, state by state (spec §2.2), including the branch a set reaches when
/// `type: RollingUpdate` is given without `rollingUpdate` (defaulting then leaves it nil).
#[test]
fn rollout_status_lines_follow_kubectl() {
    use k8s_openapi::api::apps::v1::{
        RollingUpdateStatefulSetStrategy, StatefulSetStatus, StatefulSetUpdateStrategy,
    };
    let mut s = simple_stateful_set("db", 3, "db:1");
    s.metadata.generation = Some(2);
    let with = |s: &StatefulSet, st: StatefulSetStatus| {
        let mut s = s.clone();
        s.status = Some(st);
        stateful_set_rollout_status(&s).line()
    };
    let base = StatefulSetStatus {
        observed_generation: Some(2),
        replicas: 3,
        ready_replicas: Some(1),
        ..Default::default()
    };
    // No rollingUpdate: the revision-based messages.
    s.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: None,
    });
    assert_eq!(
        with(
            &s,
            StatefulSetStatus {
                observed_generation: Some(1),
                ..base.clone()
            }
        ),
        "Waiting for statefulset spec update to be observed..."
    );
    assert_eq!(with(&s, base.clone()), "Waiting for 2 pods to be ready...");
    let ready = StatefulSetStatus {
        ready_replicas: Some(3),
        updated_replicas: Some(1),
        current_replicas: Some(2),
        current_revision: Some("db-a".into()),
        update_revision: Some("db-b".into()),
        ..base.clone()
    };
    assert_eq!(
        with(&s, ready.clone()),
        "waiting for statefulset rolling update to complete 1 pods at revision db-b..."
    );
    assert_eq!(
        with(
            &s,
            StatefulSetStatus {
                current_revision: Some("db-b".into()),
                current_replicas: Some(3),
                ..ready.clone()
            }
        ),
        "statefulset rolling update complete 3 pods at revision db-b..."
    );
    // The defaulted form: partition 0.
    s.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateStatefulSetStrategy {
            partition: Some(0),
            ..Default::default()
        }),
    });
    assert_eq!(
        with(&s, ready.clone()),
        "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated..."
    );
    // The apps/v1 defaults give rollingUpdate only when the type was empty.
    let mut c = cluster();
    c.apply_stateful_set({
        let mut s = simple_stateful_set("explicit", 1, "db:1");
        s.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: None,
        });
        s
    })
    .unwrap();
    c.apply_stateful_set(simple_stateful_set("defaulted", 1, "db:1"))
        .unwrap();
    let strategy = |n: &str| set(&c, n).spec.unwrap().update_strategy.unwrap();
    assert_eq!(strategy("explicit").rolling_update, None);
    assert_eq!(
        strategy("defaulted").rolling_update.unwrap().partition,
        Some(0)
    );
}

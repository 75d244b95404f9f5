//! Per-pod storage: the claims of `volumeClaimTemplates`, their binding by the default
//! StorageClass, and the ownerReferences of `persistentVolumeClaimRetentionPolicy`. Mirrors the
//! claim half of `pkg/controller/statefulset/stateful_pod_control.go` and
//! `stateful_set_utils.go` (`updateClaimOwnerRefForSetAndPod`, `claimOwnerMatchesSetAndPod`).

use super::utils;
use crate::Cluster;
use crate::events::EventType;
use crate::store::ObjectKey;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::BTreeMap;

/// The StorageClass every claim without one is given (the cluster's default class).
pub const DEFAULT_STORAGE_CLASS: &str = "standard";

/// `persistentVolumeClaimRetentionPolicy` as (whenDeleted, whenScaled), `Retain` when unset.
pub fn retention_policy(set: &StatefulSet) -> (&str, &str) {
    let p = set
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    (
        p.and_then(|p| p.when_deleted.as_deref())
            .unwrap_or("Retain"),
        p.and_then(|p| p.when_scaled.as_deref()).unwrap_or("Retain"),
    )
}

/// The ownerReferences the retention policy wants on a claim of `pod`, as (to the set, to the
/// pod); the table of `updateClaimOwnerRefForSetAndPod`:
///
/// | whenScaled / whenDeleted | pod in range | pod scaled down |
/// |---|---|---|
/// | Retain / Retain | none | none |
/// | Retain / Delete | set | set |
/// | Delete / Retain | none | pod |
/// | Delete / Delete | set | pod |
pub fn wanted_owners(set: &StatefulSet, pod: &Pod) -> (bool, bool) {
    let (when_deleted, when_scaled) = retention_policy(set);
    let scaled_down = !utils::pod_in_ordinal_range(pod, set);
    match (when_scaled, when_deleted) {
        ("Delete", "Delete") => (!scaled_down, scaled_down),
        ("Delete", _) => (false, scaled_down),
        (_, "Delete") => (true, false),
        _ => (false, false),
    }
}

fn non_controller_ref(kind: &str, api_version: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        ..Default::default()
    }
}

/// Sets or removes the ownerReference to the object with `uid`; returns whether it changed.
fn set_ref(claim: &mut PersistentVolumeClaim, want: bool, r: OwnerReference) -> bool {
    let refs = claim.metadata.owner_references.get_or_insert_with(Vec::new);
    let has = refs.iter().any(|x| x.uid == r.uid);
    let changed = match (want, has) {
        (true, false) => {
            refs.push(r);
            true
        }
        (false, true) => {
            refs.retain(|x| x.uid != r.uid);
            true
        }
        _ => false,
    };
    if refs.is_empty() {
        claim.metadata.owner_references = None;
    }
    changed
}

/// `updateClaimOwnerRefForSetAndPod`: brings a claim's ownerReferences to what the policy
/// wants. Returns whether anything changed.
fn update_claim_owner_refs(
    set: &StatefulSet,
    pod: &Pod,
    claim: &mut PersistentVolumeClaim,
) -> bool {
    let (to_set, to_pod) = wanted_owners(set, pod);
    let set_ref = non_controller_ref(
        "StatefulSet",
        "apps/v1",
        set.metadata.name.as_deref().unwrap_or(""),
        set.metadata.uid.as_deref().unwrap_or(""),
    );
    let pod_ref = non_controller_ref(
        "Pod",
        "v1",
        pod.metadata.name.as_deref().unwrap_or(""),
        pod.metadata.uid.as_deref().unwrap_or(""),
    );
    let a = set_ref_if_known(claim, to_set, set_ref);
    let b = set_ref_if_known(claim, to_pod, pod_ref);
    a || b
}

/// [`set_ref`], except that an owner without a uid (a pod not created yet) is never added.
fn set_ref_if_known(claim: &mut PersistentVolumeClaim, want: bool, r: OwnerReference) -> bool {
    if r.uid.is_empty() {
        return false;
    }
    set_ref(claim, want, r)
}

/// Whether a claim is controlled by something else (then the controller leaves it alone).
fn has_foreign_controller(claim: &PersistentVolumeClaim) -> bool {
    crate::store::controller_ref(&claim.metadata).is_some()
}

/// `ClaimsMatchRetentionPolicy`: every existing claim of the pod has the ownerReferences the
/// policy wants.
pub(crate) fn claims_match_retention_policy(c: &Cluster, set: &StatefulSet, pod: &Pod) -> bool {
    let ns = set.metadata.namespace.as_deref().unwrap_or("default");
    utils::persistent_volume_claims(set, utils::ordinal(pod))
        .values()
        .all(|want| {
            let key = ObjectKey::new(ns, want.metadata.name.as_deref().unwrap_or(""));
            match c.store.persistentvolumeclaims.get(&key) {
                None => true,
                Some(claim) if has_foreign_controller(claim) => true,
                Some(claim) => {
                    let mut copy = claim.clone();
                    !update_claim_owner_refs(set, pod, &mut copy)
                }
            }
        })
}

/// `UpdatePodClaimForRetentionPolicy`: writes the ownerReferences the policy wants on every
/// existing claim of the pod.
pub(crate) fn update_pod_claim_for_retention_policy(c: &mut Cluster, set: &StatefulSet, pod: &Pod) {
    let ns = set
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    for want in utils::persistent_volume_claims(set, utils::ordinal(pod)).values() {
        let key = ObjectKey::new(ns.clone(), want.metadata.name.clone().unwrap_or_default());
        let Some(claim) = c.store.persistentvolumeclaims.get(&key) else {
            continue;
        };
        if has_foreign_controller(claim) {
            continue;
        }
        let mut claim = claim.clone();
        if update_claim_owner_refs(set, pod, &mut claim) {
            let _ = c.update(claim);
        }
    }
}

/// `createPersistentVolumeClaims`: creates the pod's missing claims, with the ownerReferences
/// of the retention policy, and records `SuccessfulCreate` (or `FailedCreate`) for each.
/// Existing claims are reused as they are: that is how a pod scaled back up gets its data back.
///
/// Claims are deleted at once in the engine (no finalizers), so upstream's wait for a claim
/// that is still being deleted (`PodClaimIsStale`) never applies.
pub(crate) fn create_missing_claims(
    c: &mut Cluster,
    set: &StatefulSet,
    pod: &Pod,
) -> Result<(), String> {
    let ns = set
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    for mut claim in utils::persistent_volume_claims(set, utils::ordinal(pod)).into_values() {
        let name = claim.metadata.name.clone().unwrap_or_default();
        let key = ObjectKey::new(ns.clone(), name.clone());
        if c.store.persistentvolumeclaims.contains_key(&key) {
            continue;
        }
        update_claim_owner_refs(set, pod, &mut claim);
        match c.create(claim) {
            Ok(key) => {
                bind_claim(c, &key);
                c.record_event(
                    set,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("create Claim {name} Pod {pod_name} in StatefulSet {set_name} success"),
                    "statefulset-controller",
                );
            }
            Err(e) => {
                let msg = format!(
                    "create Claim {name} for Pod {pod_name} in StatefulSet {set_name} failed error: {e}"
                );
                c.record_event(
                    set,
                    EventType::Warning,
                    "FailedCreate",
                    msg.clone(),
                    "statefulset-controller",
                );
                return Err(msg);
            }
        }
    }
    Ok(())
}

/// The default StorageClass's provisioner and the PersistentVolume controller, at zero
/// latency: a new claim gets a PersistentVolume `pvc-<claim uid>` of the requested size and
/// is bound to it.
pub(crate) fn bind_claim(c: &mut Cluster, key: &ObjectKey) {
    let Some(claim) = c.store.persistentvolumeclaims.get(key) else {
        return;
    };
    if claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_ref())
        .is_some()
    {
        return;
    }
    let uid = claim.metadata.uid.clone().unwrap_or_default();
    let pv_name = format!("pvc-{uid}");
    let spec = claim.spec.clone().unwrap_or_default();
    let class = spec
        .storage_class_name
        .clone()
        .unwrap_or_else(|| DEFAULT_STORAGE_CLASS.into());
    let capacity: BTreeMap<_, _> = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "storage")
        .collect();
    let access_modes = spec.access_modes.clone();
    c.put_generic(crate::store::GenericObject {
        api_version: "v1".into(),
        kind: "PersistentVolume".into(),
        value: serde_json::json!({
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": pv_name,
                "annotations": {"pv.kubernetes.io/provisioned-by": "kubespec.io/default-provisioner"},
            },
            "spec": {
                "accessModes": access_modes,
                "capacity": capacity,
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "name": key.name,
                    "namespace": key.namespace,
                    "uid": uid,
                },
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": class,
                "volumeMode": "Filesystem",
            },
            "status": {"phase": "Bound"},
        }),
    });
    let _ = c.modify::<PersistentVolumeClaim>(key, |claim| {
        let s = claim.spec.get_or_insert_with(Default::default);
        s.storage_class_name = Some(class);
        s.volume_name = Some(pv_name);
        s.volume_mode.get_or_insert_with(|| "Filesystem".into());
        let a = claim.metadata.annotations.get_or_insert_with(BTreeMap::new);
        a.insert("pv.kubernetes.io/bind-completed".into(), "yes".into());
        a.insert("pv.kubernetes.io/bound-by-controller".into(), "yes".into());
        claim.status = Some(PersistentVolumeClaimStatus {
            phase: Some("Bound".into()),
            access_modes,
            capacity: Some(capacity),
            ..Default::default()
        });
    });
}

//! Pure helpers of the StatefulSet controller: ordinals and names, pod identity, storage,
//! revisions and pod health. Mirrors `pkg/controller/statefulset/stateful_set_utils.go`.

use super::history;
use crate::controllers::replicaset::{is_pod_available, is_pod_ready};
use crate::time::Millis;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use std::collections::BTreeMap;

/// `apps.StatefulSetPodNameLabel`.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// `apps.StatefulSetRevisionLabel` (`ControllerRevisionHashLabelKey`).
pub const REVISION_LABEL: &str = "controller-revision-hash";
/// `apps.PodIndexLabel` (PodIndexLabel, on by default since 1.28).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The StatefulSet's spec with defaults read through (an object that went through the API
/// server always has them).
pub fn replicas(set: &StatefulSet) -> i32 {
    set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `getStartOrdinal`: `spec.ordinals.start`, or 0 (StatefulSetStartOrdinal, GA in 1.31).
pub fn start_ordinal(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
}

/// `getEndOrdinal`: the last ordinal in range (`start + replicas - 1`; below start when the set
/// has no replicas).
pub fn end_ordinal(set: &StatefulSet) -> i32 {
    start_ordinal(set) + replicas(set) - 1
}

/// `allowsBurst`: podManagementPolicy Parallel.
pub fn allows_burst(set: &StatefulSet) -> bool {
    set.spec
        .as_ref()
        .and_then(|s| s.pod_management_policy.as_deref())
        == Some("Parallel")
}

pub fn min_ready_seconds(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

/// `updateStrategy.type`, `RollingUpdate` when unset.
pub fn strategy_type(set: &StatefulSet) -> &str {
    set.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate")
}

/// `updateStrategy.rollingUpdate.partition`, when `rollingUpdate` is set.
pub fn partition(set: &StatefulSet) -> Option<i32> {
    let ru = set
        .spec
        .as_ref()?
        .update_strategy
        .as_ref()?
        .rolling_update
        .as_ref()?;
    Some(ru.partition.unwrap_or(0))
}

pub fn service_name(set: &StatefulSet) -> &str {
    set.spec
        .as_ref()
        .and_then(|s| s.service_name.as_deref())
        .unwrap_or("")
}

pub fn template(set: &StatefulSet) -> PodTemplateSpec {
    set.spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default()
}

/// `getParentNameAndOrdinal`: the name and ordinal of `<parent>-<digits>`, as the regular
/// expression `(.*)-([0-9]+)$` splits it; `None` when the name has no such suffix or the
/// ordinal overflows an int32.
pub fn parent_name_and_ordinal(name: &str) -> Option<(&str, i32)> {
    let dash = name.rfind('-')?;
    let digits = &name[dash + 1..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((&name[..dash], digits.parse().ok()?))
}

/// `getOrdinal`: the pod's ordinal, or -1 when its name has none.
pub fn ordinal(pod: &Pod) -> i32 {
    pod.metadata
        .name
        .as_deref()
        .and_then(parent_name_and_ordinal)
        .map_or(-1, |(_, o)| o)
}

/// `getPodName`.
pub fn pod_name(set_name: &str, ordinal: i32) -> String {
    format!("{set_name}-{ordinal}")
}

/// `isMemberOf`: the pod's name says it belongs to the set.
pub fn is_member_of(set: &StatefulSet, pod: &Pod) -> bool {
    pod.metadata
        .name
        .as_deref()
        .and_then(parent_name_and_ordinal)
        .is_some_and(|(parent, _)| Some(parent) == set.metadata.name.as_deref())
}

/// `podInOrdinalRange`.
pub fn pod_in_ordinal_range(pod: &Pod, set: &StatefulSet) -> bool {
    let o = ordinal(pod);
    o >= start_ordinal(set) && o <= end_ordinal(set)
}

/// `identityMatches`: name, namespace and the pod-name label are the set's.
pub fn identity_matches(set: &StatefulSet, pod: &Pod) -> bool {
    // The name is `<set>-<ordinal>` with the ordinal written as getPodName writes it (no
    // leading zeros), checked without formatting the name.
    let canonical = pod
        .metadata
        .name
        .as_deref()
        .and_then(|n| Some((n, parent_name_and_ordinal(n)?)))
        .is_some_and(|(n, (parent, _))| {
            let digits = &n[parent.len() + 1..];
            Some(parent) == set.metadata.name.as_deref()
                && (digits == "0" || !digits.starts_with('0'))
        });
    canonical
        && pod.metadata.namespace == set.metadata.namespace
        && pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(POD_NAME_LABEL))
            == pod.metadata.name.as_ref()
}

/// `updateIdentity`: name, namespace, hostname, subdomain and the identity labels.
pub fn update_identity(set: &StatefulSet, pod: &mut Pod) {
    let o = ordinal(pod);
    let name = pod_name(set.metadata.name.as_deref().unwrap_or(""), o);
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = set.metadata.namespace.clone();
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), o.to_string());
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.hostname = Some(name);
    let svc = service_name(set);
    if !svc.is_empty() {
        spec.subdomain = Some(svc.to_string());
    }
}

/// `getPersistentVolumeClaimName`: `<template>-<set>-<ordinal>`.
pub fn claim_name(template: &str, set_name: &str, ordinal: i32) -> String {
    format!("{template}-{set_name}-{ordinal}")
}

/// `getPersistentVolumeClaims`: the claims a pod of this ordinal needs, by template name.
/// Labels are the template's plus the set's `selector.matchLabels`.
pub fn persistent_volume_claims(
    set: &StatefulSet,
    ordinal: i32,
) -> BTreeMap<String, PersistentVolumeClaim> {
    let set_name = set.metadata.name.as_deref().unwrap_or("");
    let templates = set
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.clone())
        .unwrap_or_default();
    let selector_labels = set
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    let mut claims = BTreeMap::new();
    for t in templates {
        let tname = t.metadata.name.clone().unwrap_or_default();
        let mut claim = t.clone();
        claim.metadata.name = Some(claim_name(&tname, set_name, ordinal));
        claim.metadata.namespace = set.metadata.namespace.clone();
        let labels = claim.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.extend(selector_labels.clone());
        claim.status = None;
        claims.insert(tname, claim);
    }
    claims
}

/// `updateStorage`: every claim template becomes a pod volume of the template's name that
/// points at the ordinal's claim, replacing a template volume of the same name.
pub fn update_storage(set: &StatefulSet, pod: &mut Pod) {
    let claims = persistent_volume_claims(set, ordinal(pod));
    if claims.is_empty() {
        return;
    }
    let spec = pod.spec.get_or_insert_with(Default::default);
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(tname, claim)| Volume {
            name: tname.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.clone().unwrap_or_default(),
                read_only: Some(false),
            }),
            ..Default::default()
        })
        .collect();
    for v in spec.volumes.take().unwrap_or_default() {
        if !claims.contains_key(&v.name) {
            volumes.push(v);
        }
    }
    spec.volumes = Some(volumes);
}

/// `storageMatches`: every claim template's volume points at the ordinal's claim.
pub fn storage_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let claims = persistent_volume_claims(set, ordinal(pod));
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    claims.iter().all(|(tname, claim)| {
        volumes.iter().any(|v| {
            &v.name == tname
                && v.persistent_volume_claim.as_ref().map(|c| &c.claim_name)
                    == claim.metadata.name.as_ref()
        })
    })
}

/// `newStatefulSetPod`: a pod of the set at `ordinal`, from `template` (the template of the
/// revision it is created at), with the controller ownerReference, identity and storage.
pub fn new_stateful_set_pod(set: &StatefulSet, template: &PodTemplateSpec, ordinal: i32) -> Pod {
    let tm = template.metadata.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(pod_name(&set_name, ordinal)),
            namespace: set.metadata.namespace.clone(),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![crate::controllers::replicaset::owner_ref(
                &set.metadata,
                "StatefulSet",
            )]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    };
    update_identity(set, &mut pod);
    update_storage(set, &mut pod);
    pod
}

/// `getPodRevision`: the pod's `controller-revision-hash` label.
pub fn pod_revision(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map_or("", String::as_str)
}

/// `setPodRevision`.
pub fn set_pod_revision(pod: &mut Pod, revision: &str) {
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_LABEL.into(), revision.into());
}

/// `getPatch`: the part of the set a revision records, `{"spec":{"template":{...,
/// "$patch":"replace"}}}`. Only the template is recorded, so only template changes make
/// revisions.
pub fn get_patch(set: &StatefulSet) -> serde_json::Value {
    let mut t = serde_json::to_value(template(set)).unwrap_or_default();
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), "replace".into());
    }
    serde_json::json!({ "spec": { "template": t } })
}

/// `newRevision`: a ControllerRevision of the set's current template, numbered `revision`,
/// labelled with the template's labels, annotated with the set's annotations, and named with
/// the hash of its data (and `collision_count`).
pub fn new_revision(set: &StatefulSet, revision: i64, collision_count: i32) -> ControllerRevision {
    let data = get_patch(set);
    let mut cr = ControllerRevision {
        metadata: ObjectMeta {
            namespace: set.metadata.namespace.clone(),
            labels: template(set).metadata.and_then(|m| m.labels),
            annotations: set.metadata.annotations.clone(),
            owner_references: Some(vec![crate::controllers::replicaset::owner_ref(
                &set.metadata,
                "StatefulSet",
            )]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    };
    let hash = history::hash_controller_revision(&cr, Some(collision_count));
    cr.metadata.name = Some(history::controller_revision_name(
        set.metadata.name.as_deref().unwrap_or(""),
        &hash,
    ));
    cr.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_LABEL.into(), hash);
    cr
}

/// `ApplyRevision`: the set with the template a revision recorded.
pub fn apply_revision(set: &StatefulSet, revision: &ControllerRevision) -> StatefulSet {
    let mut out = set.clone();
    if let Some(t) = revision_template(revision)
        && let Some(spec) = out.spec.as_mut()
    {
        spec.template = t;
    }
    out
}

/// The pod template a ControllerRevision recorded (`$patch: replace` means the whole
/// template).
pub fn revision_template(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = revision
        .data
        .as_ref()?
        .0
        .get("spec")?
        .get("template")?
        .clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// `isRunningAndReady`: phase Running and the Ready condition True.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_pod_ready(pod)
}

/// `isRunningAndAvailable`: running and available for `minReadySeconds`.
pub fn is_running_and_available(pod: &Pod, min_ready_seconds: i32, now: Millis) -> bool {
    phase(pod) == "Running" && is_pod_available(pod, min_ready_seconds, now)
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// `isHealthy`: running, ready and not terminating.
pub fn is_healthy(pod: &Pod) -> bool {
    is_running_and_ready(pod) && !is_terminating(pod)
}

/// `isUnavailable`: not healthy, or not yet available for `minReadySeconds`.
pub fn is_unavailable(pod: &Pod, min_ready_seconds: i32, now: Millis) -> bool {
    !is_healthy(pod) || !is_running_and_available(pod, min_ready_seconds, now)
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// `isFailed` or `isSucceeded`: a pod that will not run again.
pub fn is_finished(pod: &Pod) -> bool {
    matches!(phase(pod), "Failed" | "Succeeded")
}

/// `completeRollingUpdate`: once a RollingUpdate has every replica updated and ready, the
/// update revision becomes the current one.
///
/// With a partition above 0, or with OnDelete, this never holds by itself, so
/// `currentRevision` stays behind (the known quirk).
pub fn complete_rolling_update(set: &StatefulSet, status: &mut StatefulSetStatus) {
    if strategy_type(set) == "RollingUpdate"
        && status.updated_replicas == Some(status.replicas)
        && status.ready_replicas == Some(status.replicas)
        && status.replicas == replicas(set)
    {
        status.current_replicas = status.updated_replicas;
        status.current_revision = status.update_revision.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_are_the_trailing_digits_after_the_last_dash() {
        assert_eq!(parent_name_and_ordinal("web-0"), Some(("web", 0)));
        assert_eq!(parent_name_and_ordinal("my-web-12"), Some(("my-web", 12)));
        assert_eq!(parent_name_and_ordinal("web-"), None);
        assert_eq!(parent_name_and_ordinal("web-1a"), None);
        assert_eq!(parent_name_and_ordinal("web"), None);
        assert_eq!(parent_name_and_ordinal("web-99999999999"), None);
    }

    #[test]
    fn a_revision_records_the_template_and_gives_it_back() {
        let mut set = StatefulSet::default();
        set.metadata.name = Some("web".into());
        let mut spec = k8s_openapi::api::apps::v1::StatefulSetSpec::default();
        spec.template.metadata = Some(ObjectMeta {
            labels: Some(BTreeMap::from([("app".into(), "web".into())])),
            ..Default::default()
        });
        set.spec = Some(spec);
        let cr = new_revision(&set, 3, 0);
        assert_eq!(cr.revision, 3);
        let name = cr.metadata.name.clone().unwrap();
        let hash = cr.metadata.labels.as_ref().unwrap()[REVISION_LABEL].clone();
        assert_eq!(name, format!("web-{hash}"));
        assert_eq!(
            cr.data.as_ref().unwrap().0["spec"]["template"]["$patch"],
            "replace"
        );
        assert_eq!(revision_template(&cr), Some(template(&set)));
        // Another collision count gives another name for the same data.
        assert_ne!(new_revision(&set, 3, 1).metadata.name, cr.metadata.name);
    }
}

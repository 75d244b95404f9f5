//! ConfigMap and Secret volumes as the kubelet mounts them: the files a container sees. See
//! [`mount`] for the entry point.
//!
//! Mirrors `pkg/volume/configmap` and `pkg/volume/secret` (`SetUpAt`, `MakePayload`): without
//! `items` every key becomes a file named after it; with `items` only the listed keys, at their
//! `path`. A missing ConfigMap or Secret, or a missing listed key, fails the mount unless the
//! volume is `optional`; the kubelet retries, and no container starts until every volume is
//! mounted. A `subPath` mount is a copy made when the container starts and never changes;
//! other mounts follow the object at the kubelet's periodic resync.
//!
//! Other volume types (emptyDir, persistentVolumeClaim, projected, downwardAPI) mount without
//! files in this model.

use crate::Cluster;
use k8s_openapi::api::core::v1::{Container, KeyToPath, Pod, Volume};
use std::collections::BTreeMap;

/// The files of a pod's ConfigMap and Secret volumes: volume name → path inside the volume →
/// content.
pub type Payloads = BTreeMap<String, BTreeMap<String, String>>;

/// Whether the pod has a ConfigMap or Secret volume (anything to mount in this model).
pub fn has_data_volumes(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> bool {
    spec.and_then(|s| s.volumes.as_ref()).is_some_and(|vs| {
        vs.iter()
            .any(|v| v.config_map.is_some() || v.secret.is_some())
    })
}

/// Builds the payload of every ConfigMap and Secret volume of `pod`. The error is the message
/// of the kubelet's `FailedMount` event for the first volume that cannot be set up.
pub fn mount(c: &Cluster, pod: &Pod) -> Result<Payloads, String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut out = Payloads::new();
    for v in pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
    {
        let files = payload(c, ns, v)
            .map_err(|e| format!("MountVolume.SetUp failed for volume \"{}\" : {e}", v.name))?;
        if let Some(files) = files {
            out.insert(v.name.clone(), files);
        }
    }
    Ok(out)
}

/// One volume's files, `None` for a volume type without files here.
fn payload(c: &Cluster, ns: &str, v: &Volume) -> Result<Option<BTreeMap<String, String>>, String> {
    let (kind, name, items, optional) = if let Some(cm) = &v.config_map {
        (
            "configmap",
            cm.name.as_str(),
            cm.items.as_deref(),
            cm.optional,
        )
    } else if let Some(s) = &v.secret {
        let name = s.secret_name.as_deref().unwrap_or_default();
        ("secret", name, s.items.as_deref(), s.optional)
    } else {
        return Ok(None);
    };
    let optional = optional.unwrap_or(false);
    let Some(data) = crate::env::source(c, kind, ns, name) else {
        if optional {
            return Ok(Some(BTreeMap::new()));
        }
        return Err(format!("{kind} \"{name}\" not found"));
    };
    let Some(items) = items.filter(|i| !i.is_empty()) else {
        return Ok(Some(data));
    };
    let mut files = BTreeMap::new();
    for KeyToPath { key, path, .. } in items {
        match data.get(key) {
            Some(value) => {
                files.insert(path.clone(), value.clone());
            }
            None if optional => {}
            None if kind == "secret" => {
                return Err(format!("references non-existent secret key: {key}"));
            }
            None => {
                return Err(format!(
                    "configmap references non-existent config key: {key}"
                ));
            }
        }
    }
    Ok(Some(files))
}

/// The path of a file inside a mount.
fn join(dir: &str, file: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), file)
}

/// The files container `ct` sees through its volume mounts, by absolute path: `subPath` mounts
/// from `snapshot` (taken when it started, see [`subpath_files`]), the others from the pod's
/// current `payloads`.
pub fn container_files(
    ct: &Container,
    payloads: &Payloads,
    snapshot: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = snapshot.to_vec();
    for m in ct.volume_mounts.iter().flatten() {
        if m.sub_path.as_deref().is_some_and(|s| !s.is_empty()) {
            continue;
        }
        if let Some(files) = payloads.get(&m.name) {
            out.extend(
                files
                    .iter()
                    .map(|(path, content)| (join(&m.mount_path, path), content.clone())),
            );
        }
    }
    out.sort();
    out
}

/// The `subPath` mounts of container `ct`: copies of one file each, made when it starts.
pub fn subpath_files(ct: &Container, payloads: &Payloads) -> Vec<(String, String)> {
    let mut out = vec![];
    for m in ct.volume_mounts.iter().flatten() {
        let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        if let Some(content) = payloads.get(&m.name).and_then(|files| files.get(sub)) {
            out.push((m.mount_path.clone(), content.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(mounts: serde_json::Value) -> Container {
        serde_json::from_value(json!({"name": "c", "volumeMounts": mounts})).unwrap()
    }

    fn payloads() -> Payloads {
        let files = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("dir/b".to_string(), "2".to_string()),
        ]);
        Payloads::from([("v".to_string(), files)])
    }

    #[test]
    fn mounts_place_every_file_under_the_mount_path() {
        let ct = container(json!([{"name": "v", "mountPath": "/etc/v/"}]));
        assert_eq!(
            container_files(&ct, &payloads(), &[]),
            vec![
                ("/etc/v/a".to_string(), "1".to_string()),
                ("/etc/v/dir/b".to_string(), "2".to_string()),
            ]
        );
    }

    #[test]
    fn a_sub_path_mount_is_one_file_from_the_snapshot() {
        let ct = container(json!([{"name": "v", "mountPath": "/a.conf", "subPath": "a"}]));
        let snapshot = subpath_files(&ct, &payloads());
        assert_eq!(snapshot, vec![("/a.conf".to_string(), "1".to_string())]);
        // Later payloads do not change it: only the snapshot is read.
        assert_eq!(container_files(&ct, &Payloads::new(), &snapshot), snapshot);
    }
}

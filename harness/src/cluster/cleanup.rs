//! Cluster-scoped objects a scenario creates (a CRD, a ClusterRole, a Namespace its spec names):
//! labelled as the scenario's and deleted when it ends.
//!
//! - **Label.** Every cluster-scoped object a scenario applies carries
//!   `kubespec.dev/scenario=<the scenario's namespace>` ([`LABEL`]); the namespace name is
//!   unique, so the label says which scenario made the object.
//! - **Cleanup.** The backend remembers what it created and deletes it, newest first, when the
//!   scenario ends ([`ClusterBackend::end`](super::ClusterBackend::end), also after a failure),
//!   when a run is interrupted ([`delete_live`], next to the namespaces), unless
//!   `--keep-namespaces`.
//! - **Safety.** kubespec never modifies or deletes a cluster-scoped object that does not carry
//!   its scenario's label: one made by someone else, or by another scenario. That is an
//!   [`Error::Api`] naming the object ([`check_owned`]); the step fails, it is not skipped.
//! - **Namespaces inside.** A cluster-scoped object can name a namespace (a ClusterRoleBinding's
//!   subjects, a webhook's service). Steps are written against `default`, so every
//!   `namespace: default` field inside such an object is rewritten to the scenario's namespace
//!   ([`scope_namespaces`]), as for namespaced objects; reading it back shows `default` again.
//!   Other namespace names are left as written.

use crate::{Error, Result};
use kube::api::{ApiResource, DeleteParams, DynamicObject};
use kube::{Api, Client};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// The label of kubespec's cluster-scoped objects; its value is the scenario's namespace.
pub const LABEL: &str = super::namespace::LABEL;

/// A cluster-scoped object a scenario created.
#[derive(Clone, Debug)]
pub struct Created {
    pub resource: ApiResource,
    pub name: String,
}

type Live = BTreeMap<String, (Client, Vec<Created>)>;

/// What each live scenario (by namespace) created and has not deleted yet.
fn live() -> &'static Mutex<Live> {
    static LIVE: OnceLock<Mutex<Live>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
}

/// Remembers that the scenario of namespace `ns` created `obj`, for [`delete_live`].
pub fn remember(client: &Client, ns: &str, obj: &Created) {
    let mut live = live().lock().unwrap_or_else(|p| p.into_inner());
    let entry = live
        .entry(ns.to_string())
        .or_insert_with(|| (client.clone(), Vec::new()));
    if !entry
        .1
        .iter()
        .any(|c| c.name == obj.name && c.resource.kind == obj.resource.kind)
    {
        entry.1.push(obj.clone());
    }
}

/// Forgets the scenario of namespace `ns` (its objects are deleted or kept).
pub fn forget(ns: &str) {
    live().lock().unwrap_or_else(|p| p.into_inner()).remove(ns);
}

/// `kind "name"`, as messages name an object.
fn describe(ar: &ApiResource, name: &str) -> String {
    if ar.group.is_empty() {
        format!("{} {name:?}", ar.kind)
    } else {
        format!("{}.{} {name:?}", ar.kind, ar.group)
    }
}

/// The scenario label of an existing object, if it has one.
fn label_of(obj: &DynamicObject) -> Option<&str> {
    obj.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(LABEL))
        .map(String::as_str)
}

/// Whether the scenario of namespace `ns` may write the cluster-scoped object `name`: yes when
/// it does not exist (`Ok(true)`: the write creates it) or carries the scenario's label
/// (`Ok(false)`).
///
/// # Errors
///
/// The object exists without the label, or with another scenario's: the message names it and
/// the `verb`. Or the API server could not be asked.
pub async fn check_owned(
    client: &Client,
    ar: &ApiResource,
    name: &str,
    ns: &str,
    verb: &str,
) -> Result<bool> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), ar);
    let existing = api
        .get_opt(name)
        .await
        .map_err(|e| Error::Backend(format!("{verb} {}: {e}", describe(ar, name))))?;
    let Some(obj) = existing else {
        return Ok(true);
    };
    match label_of(&obj) {
        Some(owner) if owner == ns => Ok(false),
        Some(other) => Err(Error::Api(format!(
            "refusing to {verb} the cluster-scoped {}: it belongs to another scenario \
             (label {LABEL}={other}); kubespec writes only cluster-scoped objects its own \
             scenario created",
            describe(ar, name)
        ))),
        None => Err(Error::Api(format!(
            "refusing to {verb} the cluster-scoped {}: kubespec did not create it (it has no \
             {LABEL} label); kubespec writes only cluster-scoped objects its own scenario \
             created",
            describe(ar, name)
        ))),
    }
}

/// Labels `obj` (a manifest as JSON) as the scenario's.
pub fn label(obj: &mut Value, ns: &str) {
    if let Some(map) = obj.as_object_mut() {
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Value::Object(Default::default()));
            if !labels.is_object() {
                *labels = Value::Object(Default::default());
            }
            if let Some(labels) = labels.as_object_mut() {
                labels.insert(LABEL.into(), ns.into());
            }
        }
    }
}

/// Rewrites every `namespace: default` field inside `obj` (outside its metadata) to `ns`.
pub fn scope_namespaces(obj: &mut Value, ns: &str) {
    fn walk(v: &mut Value, ns: &str) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "namespace" && x.as_str() == Some("default") {
                        *x = ns.into();
                    } else {
                        walk(x, ns);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, ns)),
            _ => {}
        }
    }
    if let Some(m) = obj.as_object_mut() {
        for (k, x) in m.iter_mut() {
            if k != "metadata" {
                walk(x, ns);
            }
        }
    }
}

/// Deletes `objects` newest first. A object already gone is not an error.
///
/// # Errors
///
/// The first object that could not be deleted; the others are still attempted.
pub async fn delete(client: &Client, objects: &[Created]) -> Result<()> {
    let mut first = None;
    for c in objects.iter().rev() {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &c.resource);
        match api.delete(&c.name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                first.get_or_insert_with(|| {
                    Error::Backend(format!(
                        "cannot delete the cluster-scoped {}: {e}",
                        describe(&c.resource, &c.name)
                    ))
                });
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// Deletes every cluster-scoped object this process's scenarios created and have not deleted
/// yet (an interrupted run: Ctrl-C). Returns them as `Kind "name"`.
///
/// # Errors
///
/// The first object that could not be deleted; the others are still attempted.
pub async fn delete_live() -> Result<Vec<String>> {
    let pending: Vec<(String, (Client, Vec<Created>))> =
        std::mem::take(&mut *live().lock().unwrap_or_else(|p| p.into_inner()))
            .into_iter()
            .collect();
    let mut first = None;
    let mut names = Vec::new();
    for (_, (client, objects)) in pending {
        match delete(&client, &objects).await {
            Ok(()) => names.extend(objects.iter().map(|c| describe(&c.resource, &c.name))),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(names), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_are_added_next_to_the_manifests_own() {
        let mut crd = json!({"kind": "CustomResourceDefinition", "metadata": {"name": "a.b",
            "labels": {"team": "x"}}});
        label(&mut crd, "kubespec-abc");
        assert_eq!(
            crd["metadata"]["labels"],
            json!({"team": "x", LABEL: "kubespec-abc"})
        );
        let mut bare = json!({"kind": "ClusterRole"});
        label(&mut bare, "kubespec-abc");
        assert_eq!(bare["metadata"]["labels"][LABEL], "kubespec-abc");
    }

    #[test]
    fn default_namespaces_inside_point_at_the_scenario() {
        let mut crb = json!({"kind": "ClusterRoleBinding",
            "metadata": {"name": "r", "namespace": "default"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "default"},
                         {"kind": "ServiceAccount", "name": "sb", "namespace": "kube-system"}]});
        scope_namespaces(&mut crb, "kubespec-abc");
        assert_eq!(crb["subjects"][0]["namespace"], "kubespec-abc");
        assert_eq!(crb["subjects"][1]["namespace"], "kube-system");
        assert_eq!(crb["metadata"]["namespace"], "default");
    }

    const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

    /// A scenario on a served engine reached as a shared cluster (not its own engine).
    async fn scenario(client: &Client) -> super::super::ClusterBackend {
        let target = super::super::Target::External(super::super::Connection {
            client: client.clone(),
            context: "test".into(),
            keep_namespaces: false,
            plain: false,
            no_containers: false,
            agnhost_all_images: false,
            kubeconfig: None,
        });
        super::super::ClusterBackend::start(&target, "cleanup", 1)
            .await
            .expect("start")
    }

    fn crd_api(client: &Client) -> Api<DynamicObject> {
        let ar = ApiResource {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            api_version: "apiextensions.k8s.io/v1".into(),
            kind: "CustomResourceDefinition".into(),
            plural: "customresourcedefinitions".into(),
        };
        Api::all_with(client.clone(), &ar)
    }

    #[tokio::test]
    async fn a_crd_a_scenario_applies_is_labelled_and_deleted_when_it_ends() {
        use crate::Backend as _;
        let (_state, client) = super::super::connect::in_process_engine(1);
        let mut b = scenario(&client).await;
        let m = crate::manifest::parse_manifests(CRD, "crd.yaml").expect("manifest");
        b.apply(&m[0]).await.expect("apply");
        let crd = crd_api(&client)
            .get("widgets.example.com")
            .await
            .expect("get");
        assert_eq!(label_of(&crd), Some(b.namespace()));
        assert_eq!(b.cluster_scoped_created().len(), 1);
        // Applying it again is the scenario's own update, and patching it too.
        b.apply(&m[0]).await.expect("apply again");
        b.end().await.expect("end");
        assert!(
            crd_api(&client)
                .get_opt("widgets.example.com")
                .await
                .expect("get")
                .is_none(),
            "the CRD outlived its scenario"
        );
    }

    #[tokio::test]
    async fn an_object_kubespec_did_not_create_is_refused_by_name() {
        use crate::Backend as _;
        let (_state, client) = super::super::connect::in_process_engine(1);
        // Another scenario's CRD, and an unlabelled node.
        let mut other = scenario(&client).await;
        let m = crate::manifest::parse_manifests(CRD, "crd.yaml").expect("manifest");
        other.apply(&m[0]).await.expect("apply");
        let mut b = scenario(&client).await;
        let e = b.apply(&m[0]).await.unwrap_err().to_string();
        assert!(
            e.contains("CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.com\"")
                && e.contains("another scenario"),
            "{e}"
        );
        let e = b
            .patch(
                "node",
                "node-1",
                &json!({"metadata": {"labels": {"x": "y"}}}),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "refusing to patch the cluster-scoped Node \"node-1\": kubespec did not create it"
            ),
            "{e}"
        );
        let e = b.delete("node", "node-1").await.unwrap_err().to_string();
        assert!(e.contains("refusing to delete"), "{e}");
        b.end().await.expect("end");
        // The other scenario's CRD is untouched until its own end.
        assert!(
            crd_api(&client)
                .get_opt("widgets.example.com")
                .await
                .expect("get")
                .is_some()
        );
        other.end().await.expect("end");
        assert!(
            crd_api(&client)
                .get_opt("widgets.example.com")
                .await
                .expect("get")
                .is_none()
        );
    }
}

//! configmap-watcher: an example third-party controller, written with kube-runtime, that kubespec
//! runs against its engine.
//!
//! It is the controller of the "Controller" pattern in *Kubernetes Patterns*: when a ConfigMap
//! annotated with `k8spatterns.io/podDeleteSelector: "app=webapp"` changes, it deletes the pods
//! that selector matches in the ConfigMap's namespace, so that their Deployment recreates them and
//! the new pods start with the new configuration. Like the original (a shell script reading
//! `?watch=true`), it acts on modifications only: a ConfigMap that appears is remembered, not
//! acted on.
//!
//! See [`run`] for the entry point and [`Tracker`] for the decision, which is pure and tested
//! without a cluster.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::HashMap;

/// The annotation whose value is the label selector of the pods to delete.
pub const ANNOTATION: &str = "k8spatterns.io/podDeleteSelector";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("listing pods with selector {selector:?} in namespace {namespace:?}")]
    List {
        namespace: String,
        selector: String,
        #[source]
        source: kube::Error,
    },
    #[error("deleting pod {namespace}/{name}")]
    Delete {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What to do about a ConfigMap: delete the pods `selector` matches in `namespace`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub config_map: String,
    pub namespace: String,
    pub selector: String,
}

/// Decides, event by event, which ConfigMap changes call for an [`Action`].
///
/// It remembers the resourceVersion it last saw of every ConfigMap. A ConfigMap seen for the
/// first time is only remembered (the script this mirrors acts on `MODIFIED`, not `ADDED`); one
/// seen again with another resourceVersion has been modified, whether the change arrives as a
/// watch event or, after the watch was re-established, in the relist.
#[derive(Debug, Default)]
pub struct Tracker {
    seen: HashMap<(String, String), String>,
}

impl Tracker {
    /// A ConfigMap as the watch (or a relist) shows it now.
    pub fn applied(&mut self, cm: &ConfigMap) -> Option<Action> {
        let namespace = cm.metadata.namespace.clone().unwrap_or_default();
        let name = cm.metadata.name.clone().unwrap_or_default();
        let version = cm.metadata.resource_version.clone().unwrap_or_default();
        let before = self
            .seen
            .insert((namespace.clone(), name.clone()), version.clone())?;
        if before == version {
            return None;
        }
        let selector = cm.metadata.annotations.as_ref()?.get(ANNOTATION)?.trim();
        if selector.is_empty() {
            return None;
        }
        Some(Action {
            config_map: name,
            namespace,
            selector: selector.to_string(),
        })
    }

    /// A ConfigMap was deleted: a later one of the same name is new again.
    pub fn deleted(&mut self, cm: &ConfigMap) {
        let namespace = cm.metadata.namespace.clone().unwrap_or_default();
        let name = cm.metadata.name.clone().unwrap_or_default();
        self.seen.remove(&(namespace, name));
    }
}

/// Deletes the pods an action selects; returns their names.
///
/// # Errors
/// The list or a delete failed. A pod that is already gone is not an error.
pub async fn act(client: &kube::Client, action: &Action) -> Result<Vec<String>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &action.namespace);
    let list = pods
        .list(&ListParams::default().labels(&action.selector))
        .await
        .map_err(|source| Error::List {
            namespace: action.namespace.clone(),
            selector: action.selector.clone(),
            source,
        })?;
    let mut deleted = Vec::new();
    for pod in list.items {
        let Some(name) = pod.metadata.name else {
            continue;
        };
        match pods.delete(&name, &DeleteParams::default()).await {
            Ok(_) => deleted.push(name),
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(source) => {
                return Err(Error::Delete {
                    namespace: action.namespace.clone(),
                    name,
                    source,
                });
            }
        }
    }
    Ok(deleted)
}

/// Runs the controller until the watch stream ends (it does not, short of the process ending):
/// watches ConfigMaps in `namespace` (all namespaces when `None`) and acts on every change.
/// Each action is reported on standard error, one line each. Watch errors are retried with
/// kube-runtime's default back-off; a failed action is reported and the controller goes on.
pub async fn run(client: kube::Client, namespace: Option<&str>) {
    let config_maps: Api<ConfigMap> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut tracker = Tracker::default();
    let mut events = watcher(config_maps, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                eprintln!("configmap-watcher: watch error: {e}");
                continue;
            }
        };
        let action = match &event {
            watcher::Event::Apply(cm) | watcher::Event::InitApply(cm) => tracker.applied(cm),
            watcher::Event::Delete(cm) => {
                tracker.deleted(cm);
                None
            }
            watcher::Event::Init | watcher::Event::InitDone => None,
        };
        if let Some(action) = action {
            match act(&client, &action).await {
                Ok(pods) => eprintln!(
                    "configmap-watcher: configmap {}/{} changed; deleted {} pod(s) matching {:?}: {}",
                    action.namespace,
                    action.config_map,
                    pods.len(),
                    action.selector,
                    pods.join(", ")
                ),
                Err(e) => eprintln!("configmap-watcher: {e}: {}", source_chain(&e)),
            }
        }
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn cm(name: &str, rv: &str, selector: Option<&str>) -> ConfigMap {
        let mut c = ConfigMap::default();
        c.metadata.name = Some(name.into());
        c.metadata.namespace = Some("default".into());
        c.metadata.resource_version = Some(rv.into());
        c.metadata.annotations =
            selector.map(|s| BTreeMap::from([(ANNOTATION.to_string(), s.to_string())]));
        c
    }

    #[test]
    fn a_new_config_map_is_remembered_not_acted_on() {
        let mut t = Tracker::default();
        assert_eq!(
            t.applied(&cm("webapp-config", "10", Some("app=webapp"))),
            None
        );
    }

    #[test]
    fn a_modified_config_map_deletes_the_selected_pods() {
        let mut t = Tracker::default();
        t.applied(&cm("webapp-config", "10", Some("app=webapp")));
        assert_eq!(
            t.applied(&cm("webapp-config", "11", Some("app=webapp"))),
            Some(Action {
                config_map: "webapp-config".into(),
                namespace: "default".into(),
                selector: "app=webapp".into(),
            })
        );
    }

    #[test]
    fn the_same_version_again_is_not_a_change() {
        // A relist after a watch restart shows every ConfigMap again.
        let mut t = Tracker::default();
        t.applied(&cm("webapp-config", "10", Some("app=webapp")));
        assert_eq!(
            t.applied(&cm("webapp-config", "10", Some("app=webapp"))),
            None
        );
    }

    #[test]
    fn without_the_annotation_nothing_happens() {
        let mut t = Tracker::default();
        t.applied(&cm("other", "10", None));
        assert_eq!(t.applied(&cm("other", "11", None)), None);
        t.applied(&cm("blank", "10", Some("  ")));
        assert_eq!(t.applied(&cm("blank", "11", Some("  "))), None);
    }

    #[test]
    fn a_deleted_and_recreated_config_map_is_new_again() {
        let mut t = Tracker::default();
        t.applied(&cm("webapp-config", "10", Some("app=webapp")));
        t.deleted(&cm("webapp-config", "12", Some("app=webapp")));
        assert_eq!(
            t.applied(&cm("webapp-config", "13", Some("app=webapp"))),
            None
        );
    }
}

//! Scenario isolation: each scenario runs in a namespace of its own, created with a unique name
//! and labelled as kubespec's, and deleted when the scenario ends.

use crate::{Error, Result};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// The namespaces this process created and has not deleted yet, with the client that reaches
/// each: what [`delete_live`] cleans up when a run is interrupted.
fn live() -> &'static Mutex<BTreeMap<String, Client>> {
    static LIVE: OnceLock<Mutex<BTreeMap<String, Client>>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
}

/// Deletes every namespace this process created and has not deleted yet (an interrupted run:
/// Ctrl-C). Returns their names.
///
/// # Errors
///
/// The first namespace that could not be deleted; the others are still attempted.
pub async fn delete_live() -> Result<Vec<String>> {
    let pending: Vec<(String, Client)> = live()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|(n, c)| (n.clone(), c.clone()))
        .collect();
    let mut first_error = None;
    let mut names = Vec::new();
    for (name, client) in pending {
        match delete(&client, &name).await {
            Ok(()) => names.push(name),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(names),
    }
}

/// The label every namespace kubespec creates carries (value: the scenario's name, shortened).
pub const LABEL: &str = "kubespec.dev/scenario";

/// `kubespec-<8 lowercase letters and digits>`: a valid DNS-1123 label, unique enough that
/// concurrent runs against one cluster do not collide (36^8 names).
pub fn namespace_name(rng: &mut impl rand::Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = (0..8)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("kubespec-{suffix}")
}

/// A label value from a scenario name: at most 63 characters of `[A-Za-z0-9._-]`, starting and
/// ending with an alphanumeric character.
pub fn label_value(scenario: &str) -> String {
    let mapped: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    mapped
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// Creates the scenario's namespace; unless `keep`, it is remembered for [`delete_live`].
///
/// # Errors
///
/// The API server refused it (or cannot be reached); the message names the context.
pub async fn create(
    client: &Client,
    name: &str,
    scenario: &str,
    context: &str,
    keep: bool,
) -> Result<()> {
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {LABEL: label_value(scenario)}},
    }))
    .map_err(|e| Error::Backend(format!("namespace {name}: {e}")))?;
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .map_err(|e| {
            Error::Backend(format!(
                "cannot create namespace {name} in context {context:?}: {e}"
            ))
        })?;
    if !keep {
        live()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), client.clone());
    }
    Ok(())
}

/// Deletes the scenario's namespace (and, through it, everything the scenario made).
///
/// # Errors
///
/// The API server refused (a namespace already gone is not an error).
pub async fn delete(client: &Client, name: &str) -> Result<()> {
    live()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(name);
    match Api::<Namespace>::all(client.clone())
        .delete(name, &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(Error::Backend(format!(
            "cannot delete namespace {name}: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn namespace_names_are_dns_labels_and_differ() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = namespace_name(&mut rng);
        let b = namespace_name(&mut rng);
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert_eq!(n.len(), "kubespec-".len() + 8, "{n}");
            assert!(n.starts_with("kubespec-"), "{n}");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{n}"
            );
        }
    }

    #[test]
    fn scenario_names_become_label_values() {
        assert_eq!(label_value("one up, one down"), "one-up--one-down");
        assert_eq!(label_value("  (x) "), "x");
        assert_eq!(label_value(&"a".repeat(80)).len(), 63);
    }
}

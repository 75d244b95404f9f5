//! The tags kubespec itself understands: `@memory-only` and `@cluster-only`. See [`backend_skip`].
//!
//! A scenario tagged (directly, or through its feature or rule) `@memory-only` runs only on the
//! memory backend; `@cluster-only` runs only on a cluster backend (`cluster`, `served`, `kind`,
//! `k3s`, `kwok`; a served engine counts as a cluster). Elsewhere the scenario is reported as
//! skipped, with the tag and the backend as the reason, through the same path as a step the
//! backend cannot do ([`crate::skip`]): it is never run, never failed, never passed.

/// The tag of scenarios that run only on the memory backend.
pub const MEMORY_ONLY: &str = "memory-only";
/// The tag of scenarios that run only on a cluster backend.
pub const CLUSTER_ONLY: &str = "cluster-only";

/// Why a scenario with `tags` (its own, its rule's and its feature's, without the `@`) does
/// not run on `backend` (the `--backend` value, e.g. `memory`, `served`), if it does not.
pub fn backend_skip<'a>(
    tags: impl IntoIterator<Item = &'a String>,
    backend: &str,
) -> Option<String> {
    let memory = backend == "memory";
    for tag in tags {
        let tag = tag.trim_start_matches('@');
        if tag == MEMORY_ONLY && !memory {
            return Some(format!(
                "tagged @{MEMORY_ONLY}: it runs only on the memory backend, not on the \
                 {backend} backend"
            ));
        }
        if tag == CLUSTER_ONLY && memory {
            return Some(format!(
                "tagged @{CLUSTER_ONLY}: it runs only on a cluster backend, not on the memory \
                 backend"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn memory_only_skips_every_other_backend() {
        let t = tags(&["smoke", "memory-only"]);
        assert_eq!(backend_skip(&t, "memory"), None);
        for b in ["served", "cluster", "kind", "k3s", "kwok"] {
            let reason = backend_skip(&t, b).expect(b);
            assert!(
                reason.contains("@memory-only") && reason.contains(b),
                "{reason}"
            );
        }
    }

    #[test]
    fn cluster_only_skips_memory() {
        let t = tags(&["cluster-only"]);
        let reason = backend_skip(&t, "memory").expect("skipped on memory");
        assert!(
            reason.contains("@cluster-only") && reason.contains("memory"),
            "{reason}"
        );
        assert_eq!(backend_skip(&t, "served"), None);
        assert_eq!(backend_skip(&tags(&["slow"]), "memory"), None);
    }
}

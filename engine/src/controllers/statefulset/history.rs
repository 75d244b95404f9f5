//! ControllerRevision history: hashing, naming, equality and ordering of revisions. Mirrors
//! `pkg/controller/history/controller_history.go`.

use crate::controllers::deployment::util::safe_encode;
use k8s_openapi::api::apps::v1::ControllerRevision;
use std::cmp::Ordering;

/// `ControllerRevisionHashLabel`.
const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// `HashControllerRevision`: FNV-32a of the revision's data (and of the collision count, when
/// given), written in decimal and safe-encoded.
///
/// NOTE: upstream hashes the raw bytes the API server stored, which are Go's JSON encoding of
/// the patch; this hashes serde's encoding of the same value. Names have upstream's shape
/// (`web-7b6f9c5d8`) and are as stable, but the letters differ from a real cluster's.
pub fn hash_controller_revision(cr: &ControllerRevision, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    if let Some(data) = &cr.data {
        feed(&serde_json::to_vec(&data.0).unwrap_or_default());
    }
    if let Some(c) = collision_count {
        feed(&(c as u32).to_le_bytes());
    }
    safe_encode(&h.to_string())
}

/// `ControllerRevisionName`: `<prefix>-<hash>`, the prefix cut to 223 characters so that the
/// name stays a valid object name.
pub fn controller_revision_name(prefix: &str, hash: &str) -> String {
    let prefix = if prefix.len() > 223 {
        &prefix[..223]
    } else {
        prefix
    };
    format!("{prefix}-{hash}")
}

/// `EqualRevision`: same data (revisions whose hash labels differ are never equal).
pub fn equal_revision(a: &ControllerRevision, b: &ControllerRevision) -> bool {
    let label = |cr: &ControllerRevision| {
        cr.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(HASH_LABEL))
            .cloned()
    };
    if let (Some(x), Some(y)) = (label(a), label(b))
        && x != y
    {
        return false;
    }
    a.data == b.data
}

/// `FindEqualRevisions`, in the order given.
pub fn find_equal_revisions<'a>(
    revisions: &'a [ControllerRevision],
    needle: &ControllerRevision,
) -> Vec<&'a ControllerRevision> {
    revisions
        .iter()
        .filter(|r| equal_revision(r, needle))
        .collect()
}

/// `SortControllerRevisions`: by revision, then creation time, then name.
pub fn sort_controller_revisions(revisions: &mut [ControllerRevision]) {
    revisions.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| {
                let t =
                    |cr: &ControllerRevision| cr.metadata.creation_timestamp.as_ref().map(|t| t.0);
                t(a).partial_cmp(&t(b)).unwrap_or(Ordering::Equal)
            })
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

/// `nextRevision`: one more than the last of sorted revisions, 1 when there are none.
pub fn next_revision(sorted: &[ControllerRevision]) -> i64 {
    sorted.last().map_or(1, |r| r.revision + 1)
}

//! A pod's status as a [`super::PodRecord`] holds it. See [`Compact`].

use crate::time::Millis;
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, PodCondition, PodIP, PodSpec, PodStatus,
};

/// The status the scheduler and the kubelet write for a pod of app containers only, held as
/// numbers.
///
/// A `PodStatus` is some 25 separate allocations, about 2.5 KB, and a rollout rewrites each
/// pod's several times: at 10,000 replicas those writes, and freeing them, went to memory
/// long out of cache. This form is what those writes decide (the phase, when the conditions
/// last changed, the addresses, each container's state); every string is derived from it
/// and from the spec when the status is read ([`Compact::to_status`]). It holds only what
/// the scheduler's binding and the kubelet's render write on a status that had nothing else:
/// any other status (one written through the API, a pod with init containers) is held whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Compact {
    /// `PodScheduled` is True since then (the scheduler's binding). Listed after the kubelet's
    /// conditions.
    pub(crate) scheduled: Option<Millis>,
    /// What the kubelet wrote; until its first render the phase is `Pending`.
    pub(crate) kubelet: Option<KubeletStatus>,
}

/// The kubelet's part of a [`Compact`] status.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct KubeletStatus {
    pub phase: &'static str,
    /// When the pod was bound: `startTime`, and the lastTransitionTime of
    /// `PodReadyToStartContainers` and `Initialized`, which are True from the first render on
    /// (a pod without init containers is initialized at once).
    pub bound_at: Millis,
    /// The lastTransitionTime of `Ready` and `ContainersReady`, which always change together.
    /// Whole seconds, as the API keeps it.
    pub ready_since: Millis,
    /// The pod's address number ([`pod_ip`]) and its node's index ([`host_ip`]).
    pub pod_ip: u32,
    pub node: u32,
    /// The app containers, in spec order: their names and images are the spec's.
    pub containers: Vec<CompactContainer>,
}

impl KubeletStatus {
    /// `Ready` (and `ContainersReady`) is True: the pod has not finished and every container
    /// is ready.
    pub fn ready(&self) -> bool {
        !matches!(self.phase, "Succeeded" | "Failed") && self.containers.iter().all(|c| c.ready)
    }
}

/// One container's status, but for its name and image.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompactContainer {
    /// The number of its `containerID` ([`container_id`]), once created.
    pub id: Option<u64>,
    pub ready: bool,
    /// `started`.
    pub started: bool,
    pub restart_count: i32,
    pub state: CompactState,
    pub last_state: Option<Terminated>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CompactState {
    Waiting {
        reason: &'static str,
        message: Option<Box<str>>,
    },
    Running {
        since: Millis,
    },
    Terminated(Terminated),
}

/// A container that has exited.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Terminated {
    pub exit_code: i32,
    pub reason: &'static str,
    pub started: Millis,
    pub finished: Millis,
    /// The number of the exited container's id ([`container_id`]).
    pub container_id: u64,
}

impl Terminated {
    pub fn to_state(&self) -> ContainerState {
        ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: self.exit_code,
                reason: Some(self.reason.to_string()),
                started_at: Some(self.started.to_time()),
                finished_at: Some(self.finished.to_time()),
                container_id: Some(container_id(self.container_id)),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl CompactState {
    pub fn to_state(&self) -> ContainerState {
        match self {
            CompactState::Waiting { reason, message } => ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.to_string()),
                    message: message.as_deref().map(str::to_string),
                }),
                ..Default::default()
            },
            CompactState::Running { since } => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(since.to_time()),
                }),
                ..Default::default()
            },
            CompactState::Terminated(t) => t.to_state(),
        }
    }
}

impl CompactContainer {
    /// The container's status, named `name` and running `image`.
    pub fn to_status(&self, name: &str, image: &str) -> ContainerStatus {
        ContainerStatus {
            name: name.to_string(),
            image: image.to_string(),
            image_id: String::new(),
            container_id: self.id.map(container_id),
            ready: self.ready,
            started: Some(self.started),
            restart_count: self.restart_count,
            state: Some(self.state.to_state()),
            last_state: self.last_state.as_ref().map(Terminated::to_state),
            ..Default::default()
        }
    }
}

/// A condition the kubelet or the scheduler sets.
fn condition(
    type_: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    since: Millis,
) -> PodCondition {
    PodCondition {
        type_: type_.to_string(),
        status: if ok { "True" } else { "False" }.to_string(),
        reason: reason.map(str::to_string),
        message,
        last_transition_time: Some(since.to_time()),
        ..Default::default()
    }
}

/// `prefix`, the names separated by spaces, and `]` (Go's `%s` of a `[]string`).
pub(crate) fn name_list<'a>(prefix: &str, names: impl Iterator<Item = &'a str>) -> String {
    let mut m = String::from(prefix);
    for (i, name) in names.enumerate() {
        if i > 0 {
            m.push(' ');
        }
        m.push_str(name);
    }
    m.push(']');
    m
}

/// The status, reason and message of `Ready` (and `ContainersReady`) for a pod in `phase`
/// whose app containers and sidecars named `unready` are not ready, as the kubelet's
/// `status/generate.go` words them: True when the pod has not finished and none is unready.
pub(crate) fn ready_condition<'a>(
    phase: &str,
    unready: impl Iterator<Item = &'a str>,
) -> (bool, Option<&'static str>, Option<String>) {
    let mut unready = unready.peekable();
    match phase {
        "Succeeded" => (false, Some("PodCompleted"), None),
        "Failed" => (false, Some("PodFailed"), None),
        _ if unready.peek().is_none() => (true, None, None),
        _ => (
            false,
            Some("ContainersNotReady"),
            Some(name_list("containers with unready status: [", unready)),
        ),
    }
}

impl Compact {
    /// The status as the API shows it. `spec` names the containers.
    pub fn to_status(&self, spec: Option<&PodSpec>) -> PodStatus {
        let scheduled = self
            .scheduled
            .map(|t| condition("PodScheduled", true, None, None, t));
        let Some(k) = &self.kubelet else {
            return PodStatus {
                phase: Some("Pending".into()),
                conditions: scheduled.map(|c| vec![c]),
                ..Default::default()
            };
        };
        let specs = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
        let unready = k.containers.iter().zip(specs).filter(|(c, _)| !c.ready);
        let (ready, reason, message) =
            ready_condition(k.phase, unready.map(|(_, s)| s.name.as_str()));
        let completed = (k.phase == "Succeeded").then_some("PodCompleted");
        let mut conditions = vec![
            condition("PodReadyToStartContainers", true, None, None, k.bound_at),
            condition("Initialized", true, completed, None, k.bound_at),
            condition("Ready", ready, reason, message.clone(), k.ready_since),
            condition("ContainersReady", ready, reason, message, k.ready_since),
        ];
        conditions.extend(scheduled);
        let (host, ip) = (host_ip(k.node), pod_ip(k.pod_ip));
        PodStatus {
            phase: Some(k.phase.to_string()),
            conditions: Some(conditions),
            host_ips: Some(vec![HostIP { ip: host.clone() }]),
            host_ip: Some(host),
            pod_ips: Some(vec![PodIP { ip: ip.clone() }]),
            pod_ip: Some(ip),
            start_time: Some(k.bound_at.to_time()),
            qos_class: Some("BestEffort".into()),
            container_statuses: Some(
                k.containers
                    .iter()
                    .zip(specs)
                    .map(|(c, s)| c.to_status(&s.name, s.image.as_deref().unwrap_or_default()))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

/// A pod's status as a record that shares its shape holds it.
#[derive(Clone, Debug)]
pub(crate) enum StoredStatus {
    /// In numbers; `None` when the pod has no status.
    Compact(Option<Compact>),
    /// Any other status.
    Whole(Box<PodStatus>),
}

impl StoredStatus {
    pub fn new(status: Option<PodStatus>) -> Self {
        match status {
            None => StoredStatus::Compact(None),
            Some(s) => StoredStatus::Whole(Box::new(s)),
        }
    }

    pub fn into_status(self, spec: Option<&PodSpec>) -> Option<PodStatus> {
        match self {
            StoredStatus::Compact(c) => c.map(|c| c.to_status(spec)),
            StoredStatus::Whole(s) => Some(*s),
        }
    }

    pub fn as_ref(&self) -> StatusRef<'_> {
        match self {
            StoredStatus::Compact(None) => StatusRef::Whole(None),
            StoredStatus::Compact(Some(c)) => StatusRef::Compact(c),
            StoredStatus::Whole(s) => StatusRef::Whole(Some(s)),
        }
    }
}

/// A pod's status, to read the few things the store's indexes count without rendering it.
#[derive(Clone, Copy, Debug)]
pub enum StatusRef<'a> {
    Whole(Option<&'a PodStatus>),
    Compact(&'a Compact),
}

impl<'a> StatusRef<'a> {
    /// `status.phase`.
    pub fn phase(self) -> Option<&'a str> {
        match self {
            StatusRef::Whole(s) => s?.phase.as_deref(),
            StatusRef::Compact(c) => Some(c.kubelet.as_ref().map_or("Pending", |k| k.phase)),
        }
    }

    /// When the `Ready` condition is True: `Some` of its lastTransitionTime (`None` if it has
    /// none). `None` when it is not True.
    pub fn ready_since(self) -> Option<Option<Millis>> {
        match self {
            StatusRef::Whole(s) => s?
                .conditions
                .as_ref()?
                .iter()
                .find(|c| c.type_ == "Ready")
                .filter(|c| c.status == "True")
                .map(|c| c.last_transition_time.as_ref().map(Millis::from_time)),
            StatusRef::Compact(c) => c
                .kubelet
                .as_ref()
                .filter(|k| k.ready())
                .map(|k| Some(k.ready_since)),
        }
    }

    /// The highest restart count among the app containers.
    pub fn max_restarts(self) -> i32 {
        match self {
            StatusRef::Whole(s) => s
                .and_then(|s| s.container_statuses.as_ref())
                .into_iter()
                .flatten()
                .map(|c| c.restart_count)
                .max(),
            StatusRef::Compact(c) => c
                .kubelet
                .iter()
                .flat_map(|k| &k.containers)
                .map(|c| c.restart_count)
                .max(),
        }
        .unwrap_or(0)
    }
}

/// A stored pod's status, for the scheduler's and the kubelet's writes.
pub(crate) struct StatusMut<'a>(StatusMutRepr<'a>);

enum StatusMutRepr<'a> {
    /// A record that holds its whole pod.
    Own(&'a mut Option<PodStatus>),
    /// A record that shares its shape: `spec` is the shape's.
    Shared {
        status: &'a mut StoredStatus,
        spec: Option<&'a PodSpec>,
    },
}

impl<'a> StatusMut<'a> {
    pub(super) fn own(status: &'a mut Option<PodStatus>) -> Self {
        StatusMut(StatusMutRepr::Own(status))
    }

    pub(super) fn shared(status: &'a mut StoredStatus, spec: Option<&'a PodSpec>) -> Self {
        StatusMut(StatusMutRepr::Shared { status, spec })
    }

    /// Whether the pod has a status at all.
    pub fn is_none(&self) -> bool {
        match &self.0 {
            StatusMutRepr::Own(s) => s.is_none(),
            StatusMutRepr::Shared { status, .. } => {
                matches!(status, StoredStatus::Compact(None))
            }
        }
    }

    /// The status as a whole `PodStatus`, to change in any way: an empty one when the pod has
    /// none; a status held in numbers is rendered first, and held whole from then on.
    pub fn whole(&mut self) -> &mut PodStatus {
        match &mut self.0 {
            StatusMutRepr::Own(s) => s.get_or_insert_with(PodStatus::default),
            StatusMutRepr::Shared { status, spec } => {
                if let StoredStatus::Compact(c) = status {
                    let whole = c.take().map(|c| c.to_status(*spec)).unwrap_or_default();
                    **status = StoredStatus::Whole(Box::new(whole));
                }
                match status {
                    StoredStatus::Whole(s) => s,
                    StoredStatus::Compact(_) => unreachable!("the status was just made whole"),
                }
            }
        }
    }

    /// The status in numbers, with the spec that names its containers, when the record holds
    /// it so (`None` inside when the pod has no status yet). `None` when it is held whole: a
    /// record that holds its whole pod, or a status something else wrote.
    pub fn compact(&mut self) -> Option<(&mut Option<Compact>, Option<&'a PodSpec>)> {
        match &mut self.0 {
            StatusMutRepr::Shared {
                status: StoredStatus::Compact(c),
                spec,
            } => Some((c, *spec)),
            _ => None,
        }
    }
}

/// `prefix` followed by the numbers joined with dots (an IPv4 address), without `format!`.
fn dotted(prefix: &str, numbers: &[u64]) -> String {
    let mut s = String::with_capacity(prefix.len() + 4 * numbers.len());
    s.push_str(prefix);
    for (i, n) in numbers.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        let mut digits = [0u8; 20];
        s.push_str(crate::cluster::decimal(*n, &mut digits));
    }
    s
}

/// The `n`-th pod address the kubelets hand out: `10.244.x.y`, 250 to a block.
pub(crate) fn pod_ip(n: u32) -> String {
    dotted("10.244.", &[u64::from(n / 250), u64::from(n % 250 + 2)])
}

/// The address of the node with index `node` (`kind-worker-<node>`, 0 for the first).
pub(crate) fn host_ip(node: u32) -> String {
    dotted("172.18.0.", &[u64::from(node) + 1])
}

/// `containerd://` and the id as 64 hex digits (what `format!("containerd://{:064x}")` gives,
/// without the formatter's padding machinery).
pub(crate) fn container_id(n: u64) -> String {
    const PREFIX: &str = "containerd://";
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(PREFIX.len() + 64);
    s.push_str(PREFIX);
    s.push_str(&"0".repeat(48));
    for shift in (0..16).rev() {
        s.push(HEX[((n >> (shift * 4)) & 0xf) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_format_writes_them() {
        for n in [1, 249, 250, 251, 70_000] {
            assert_eq!(
                pod_ip(n),
                format!("10.244.{}.{}", n / 250, n % 250 + 2),
                "pod address {n}"
            );
        }
        assert_eq!(host_ip(122), "172.18.0.123");
    }

    #[test]
    fn container_ids_are_64_hex_digits() {
        for n in [0, 1, 0xabc, u64::MAX] {
            assert_eq!(container_id(n), format!("containerd://{n:064x}"));
        }
    }
}

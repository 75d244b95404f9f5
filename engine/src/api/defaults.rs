//! Defaulting of user-submitted objects, as the API server does before validation.
//!
//! Mirrors upstream Kubernetes v1.34 `pkg/apis/apps/v1/defaults.go` and
//! `pkg/apis/core/v1/defaults.go`, plus the generated `SetObjectDefaults_*` walkers in
//! `zz_generated.defaults.go` that visit every nested container, probe and port. Entry points:
//! [`default_deployment`], [`default_replica_set`], [`default_pod`].
//!
//! **Invariant:** every function here is idempotent: it only fills fields that are unset, so
//! `default_x(default_x(o)) == default_x(o)`.
//!
//! NOTE: `metadata.namespace` is not defaulted by upstream's defaulters; the API server takes it
//! from the request path. kubespec has no request path, so the top-level functions set
//! `"default"` here.

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentStrategy, ReplicaSet, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Container, LifecycleHandler, Pod, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The namespace an object lands in when its manifest names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// `v1.DefaultTerminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;

/// `v1.DefaultSchedulerName`.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// `v1.TerminationMessagePathDefault`.
pub const TERMINATION_MESSAGE_PATH_DEFAULT: &str = "/dev/termination-log";

fn default_namespace(meta: &mut ObjectMeta) {
    if meta.namespace.as_deref().is_none_or(str::is_empty) {
        meta.namespace = Some(DEFAULT_NAMESPACE.to_string());
    }
}

fn set_if_none<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// Like [`set_if_none`], but also replaces an empty string: Go's `if x == ""` cannot tell an
/// absent string field from an empty one.
fn set_if_empty(slot: &mut Option<String>, value: &str) {
    if slot.as_deref().is_none_or(str::is_empty) {
        *slot = Some(value.to_string());
    }
}

/// Mirrors `SetObjectDefaults_Deployment`: `SetDefaults_Deployment` (apps/v1), then the pod
/// template. Upstream's choices for apps/v1, which differ from extensions/v1beta1:
///
/// - `spec.replicas` 1;
/// - `spec.strategy.type` `RollingUpdate`; only when the type *is* `RollingUpdate`,
///   `rollingUpdate.maxUnavailable` and `maxSurge` default to `"25%"` each (a value given as an
///   int is kept as an int);
/// - `spec.revisionHistoryLimit` 10;
/// - `spec.progressDeadlineSeconds` 600.
///
/// `spec.minReadySeconds` is **not** defaulted: it stays unset and reads as 0.
pub fn default_deployment(d: &mut Deployment) {
    default_namespace(&mut d.metadata);
    let spec = d.spec.get_or_insert_with(Default::default);
    set_if_none(&mut spec.replicas, 1);
    let strategy = spec
        .strategy
        .get_or_insert_with(DeploymentStrategy::default);
    set_if_empty(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let ru = strategy
            .rolling_update
            .get_or_insert_with(RollingUpdateDeployment::default);
        set_if_none(&mut ru.max_unavailable, IntOrString::String("25%".into()));
        set_if_none(&mut ru.max_surge, IntOrString::String("25%".into()));
    }
    set_if_none(&mut spec.revision_history_limit, 10);
    set_if_none(&mut spec.progress_deadline_seconds, 600);
    default_pod_template(&mut spec.template);
}

/// Mirrors `SetObjectDefaults_ReplicaSet`: `SetDefaults_ReplicaSet` (apps/v1: `spec.replicas`
/// 1), then the pod template.
pub fn default_replica_set(rs: &mut ReplicaSet) {
    default_namespace(&mut rs.metadata);
    let spec = rs.spec.get_or_insert_with(Default::default);
    set_if_none(&mut spec.replicas, 1);
    default_pod_template(spec.template.get_or_insert_with(Default::default));
}

/// Mirrors `SetObjectDefaults_Pod`: `SetDefaults_Pod` (requests default to limits for each
/// container; `enableServiceLinks` true), then the pod spec.
pub fn default_pod(p: &mut Pod) {
    default_namespace(&mut p.metadata);
    let spec = p.spec.get_or_insert_with(Default::default);
    let init = spec.init_containers.iter_mut().flatten();
    for c in spec.containers.iter_mut().chain(init) {
        // Requests default to limits only on a Pod, never on a template: upstream does this in
        // SetDefaults_Pod rather than on ResourceRequirements for exactly that reason.
        if let Some(res) = c.resources.as_mut()
            && let Some(limits) = res.limits.clone()
        {
            let requests = res.requests.get_or_insert_with(Default::default);
            for (k, v) in limits {
                requests.entry(k).or_insert(v);
            }
        }
    }
    set_if_none(&mut spec.enable_service_links, true);
    default_pod_spec(spec);
}

/// Defaults a pod template's spec (the part of `SetObjectDefaults_Deployment` and friends
/// that walks `spec.template.spec`). The template's metadata is left alone: upstream does not
/// default a template's namespace.
pub fn default_pod_template(t: &mut PodTemplateSpec) {
    default_pod_spec(t.spec.get_or_insert_with(Default::default));
}

/// Mirrors `SetDefaults_PodSpec` and the per-container defaulters the generated walker calls:
///
/// - `dnsPolicy` `ClusterFirst`, `restartPolicy` `Always`, `securityContext` `{}`,
///   `terminationGracePeriodSeconds` 30, `schedulerName` `default-scheduler`;
/// - with `hostNetwork`, each container port's `hostPort` defaults to its `containerPort`
///   (`defaultHostNetworkPorts`);
/// - each container and init container: see [`default_container`];
/// - a volume with no source becomes an `emptyDir` (`SetDefaults_Volume`).
pub fn default_pod_spec(s: &mut PodSpec) {
    set_if_empty(&mut s.dns_policy, "ClusterFirst");
    set_if_empty(&mut s.restart_policy, "Always");
    let host_network = s.host_network.unwrap_or(false);
    set_if_none(&mut s.security_context, PodSecurityContext::default());
    set_if_none(
        &mut s.termination_grace_period_seconds,
        DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
    );
    set_if_empty(&mut s.scheduler_name, DEFAULT_SCHEDULER_NAME);
    for v in s.volumes.iter_mut().flatten() {
        default_volume(v);
    }
    let init = s.init_containers.iter_mut().flatten();
    for c in s.containers.iter_mut().chain(init) {
        if host_network {
            for p in c.ports.iter_mut().flatten() {
                if p.host_port.unwrap_or(0) == 0 {
                    p.host_port = Some(p.container_port);
                }
            }
        }
        default_container(c);
    }
}

/// Mirrors `SetDefaults_Volume`: a volume whose source fields are all unset becomes an
/// `emptyDir: {}`.
fn default_volume(v: &mut Volume) {
    // A Volume has ~30 optional source fields; "only `name` is set" is the same test as
    // upstream's `AllPtrFieldsNil(&obj.VolumeSource)` without listing them all.
    let only_name = serde_json::to_value(&*v)
        .ok()
        .and_then(|j| j.as_object().map(|o| o.keys().all(|k| k == "name")))
        .unwrap_or(false);
    if only_name {
        v.empty_dir = Some(Default::default());
    }
}

/// Mirrors `SetDefaults_Container`, `SetDefaults_ContainerPort`, `SetDefaults_Probe`,
/// `SetDefaults_HTTPGetAction` and `SetDefaults_ObjectFieldSelector` for one container:
///
/// - `imagePullPolicy`: `Always` when the image's tag is `latest` (an image with neither tag
///   nor digest counts as `:latest`), otherwise `IfNotPresent`;
/// - `terminationMessagePath` `/dev/termination-log`, `terminationMessagePolicy` `File`;
/// - `resources` `{}` (a struct in Go, so always present);
/// - each port's `protocol` `TCP`;
/// - each probe: `timeoutSeconds` 1, `periodSeconds` 10, `successThreshold` 1,
///   `failureThreshold` 3; an `httpGet` gets `path` `/` and `scheme` `HTTP`;
/// - lifecycle hooks' `httpGet` as for probes; `env[].valueFrom.fieldRef.apiVersion` `v1`.
pub fn default_container(c: &mut Container) {
    if c.image_pull_policy.as_deref().is_none_or(str::is_empty) {
        let policy = if image_tag(c.image.as_deref().unwrap_or("")) == "latest" {
            "Always"
        } else {
            "IfNotPresent"
        };
        c.image_pull_policy = Some(policy.to_string());
    }
    set_if_empty(
        &mut c.termination_message_path,
        TERMINATION_MESSAGE_PATH_DEFAULT,
    );
    set_if_empty(&mut c.termination_message_policy, "File");
    // Go's `Resources` is a struct, not a pointer: an API server always shows `resources: {}`,
    // and an object sent back (kubectl's rollout undo) carries it. Without it here, an undone
    // template would not equal its old ReplicaSet's.
    if c.resources.is_none() {
        c.resources = Some(Default::default());
    }
    for p in c.ports.iter_mut().flatten() {
        set_if_empty(&mut p.protocol, "TCP");
    }
    for probe in [
        &mut c.liveness_probe,
        &mut c.readiness_probe,
        &mut c.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    if let Some(lc) = c.lifecycle.as_mut() {
        for h in [&mut lc.post_start, &mut lc.pre_stop].into_iter().flatten() {
            default_lifecycle_handler(h);
        }
    }
    for e in c.env.iter_mut().flatten() {
        if let Some(fr) = e.value_from.as_mut().and_then(|vf| vf.field_ref.as_mut()) {
            set_if_empty(&mut fr.api_version, "v1");
        }
    }
}

/// Mirrors `SetDefaults_Probe` (zero counts as unset, as in Go) and the nested
/// `SetDefaults_HTTPGetAction`.
fn default_probe(p: &mut Probe) {
    for (slot, value) in [
        (&mut p.timeout_seconds, 1),
        (&mut p.period_seconds, 10),
        (&mut p.success_threshold, 1),
        (&mut p.failure_threshold, 3),
    ] {
        if slot.unwrap_or(0) == 0 {
            *slot = Some(value);
        }
    }
    if let Some(h) = p.http_get.as_mut() {
        set_if_empty(&mut h.path, "/");
        set_if_empty(&mut h.scheme, "HTTP");
    }
}

fn default_lifecycle_handler(h: &mut LifecycleHandler) {
    if let Some(g) = h.http_get.as_mut() {
        set_if_empty(&mut g.path, "/");
        set_if_empty(&mut g.scheme, "HTTP");
    }
}

/// The tag of an image reference as `parsers.ParseImageName` sees it: `"latest"` when the
/// reference has neither tag nor digest, `""` when it has only a digest.
///
/// `nginx` → `latest`; `nginx:1.27` → `1.27`; `localhost:5000/app` → `latest` (the colon is in
/// the registry host, before the last `/`); `nginx@sha256:ab…` → `""`.
fn image_tag(image: &str) -> &str {
    let (name, has_digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last_segment_start = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_segment_start..].rfind(':') {
        Some(i) => &name[last_segment_start + i + 1..],
        None if has_digest => "",
        None => "latest",
    }
}

/// Mirrors `SetObjectDefaults_StatefulSet`: `SetDefaults_StatefulSet` (apps/v1), then the pod
/// template and the claim templates' volume modes.
///
/// - `spec.podManagementPolicy` `OrderedReady`;
/// - `spec.updateStrategy.type` `RollingUpdate`, with `rollingUpdate: {}` **only when the type
///   was empty**: a manifest that says `type: RollingUpdate` and nothing more keeps
///   `rollingUpdate` nil (which changes what `kubectl rollout status` prints);
/// - `rollingUpdate.partition` 0 when `rollingUpdate` is set;
/// - `persistentVolumeClaimRetentionPolicy` `{whenDeleted: Retain, whenScaled: Retain}`
///   (StatefulSetAutoDeletePVC, GA in 1.32);
/// - `spec.replicas` 1, `spec.revisionHistoryLimit` 10.
pub fn default_stateful_set(s: &mut k8s_openapi::api::apps::v1::StatefulSet) {
    use k8s_openapi::api::apps::v1::{
        RollingUpdateStatefulSetStrategy, StatefulSetPersistentVolumeClaimRetentionPolicy,
    };
    default_namespace(&mut s.metadata);
    let spec = s.spec.get_or_insert_with(Default::default);
    set_if_empty(&mut spec.pod_management_policy, "OrderedReady");
    let strategy = spec.update_strategy.get_or_insert_with(Default::default);
    if strategy.type_.as_deref().is_none_or(str::is_empty) {
        strategy.type_ = Some("RollingUpdate".into());
        strategy
            .rolling_update
            .get_or_insert_with(RollingUpdateStatefulSetStrategy::default);
    }
    if strategy.type_.as_deref() == Some("RollingUpdate")
        && let Some(ru) = strategy.rolling_update.as_mut()
    {
        set_if_none(&mut ru.partition, 0);
    }
    let policy = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(StatefulSetPersistentVolumeClaimRetentionPolicy::default);
    set_if_empty(&mut policy.when_deleted, "Retain");
    set_if_empty(&mut policy.when_scaled, "Retain");
    set_if_none(&mut spec.replicas, 1);
    set_if_none(&mut spec.revision_history_limit, 10);
    default_pod_template(&mut spec.template);
    for claim in spec.volume_claim_templates.iter_mut().flatten() {
        let cs = claim.spec.get_or_insert_with(Default::default);
        set_if_empty(&mut cs.volume_mode, "Filesystem");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DeploymentSpec;
    use k8s_openapi::api::core::v1::{ContainerPort, HTTPGetAction};

    fn deployment(strategy: Option<DeploymentStrategy>) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some("web".into()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                strategy,
                template: PodTemplateSpec {
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "app".into(),
                            image: Some("nginx".into()),
                            ports: Some(vec![ContainerPort {
                                container_port: 80,
                                ..Default::default()
                            }]),
                            readiness_probe: Some(Probe {
                                http_get: Some(HTTPGetAction {
                                    port: IntOrString::Int(80),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn deployment_defaults_match_apps_v1() {
        let mut d = deployment(None);
        default_deployment(&mut d);
        assert_eq!(d.metadata.namespace.as_deref(), Some("default"));
        let spec = d.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(1));
        assert_eq!(spec.revision_history_limit, Some(10));
        assert_eq!(spec.progress_deadline_seconds, Some(600));
        assert_eq!(
            spec.min_ready_seconds, None,
            "upstream leaves minReadySeconds unset"
        );
        let strategy = spec.strategy.as_ref().unwrap();
        assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
        let ru = strategy.rolling_update.as_ref().unwrap();
        assert_eq!(ru.max_surge, Some(IntOrString::String("25%".into())));
        assert_eq!(ru.max_unavailable, Some(IntOrString::String("25%".into())));

        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Always"));
        assert_eq!(pod.dns_policy.as_deref(), Some("ClusterFirst"));
        assert_eq!(pod.scheduler_name.as_deref(), Some("default-scheduler"));
        assert_eq!(pod.termination_grace_period_seconds, Some(30));
        assert_eq!(pod.security_context, Some(PodSecurityContext::default()));
        assert_eq!(
            pod.enable_service_links, None,
            "only Pods get enableServiceLinks"
        );
        let c = &pod.containers[0];
        assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
        assert_eq!(
            c.termination_message_path.as_deref(),
            Some("/dev/termination-log")
        );
        assert_eq!(c.termination_message_policy.as_deref(), Some("File"));
        assert_eq!(c.resources, Some(Default::default()), "resources: {{}}");
        assert_eq!(
            c.ports.as_ref().unwrap()[0].protocol.as_deref(),
            Some("TCP")
        );
        let probe = c.readiness_probe.as_ref().unwrap();
        assert_eq!(
            (
                probe.period_seconds,
                probe.timeout_seconds,
                probe.success_threshold,
                probe.failure_threshold
            ),
            (Some(10), Some(1), Some(1), Some(3))
        );
        let get = probe.http_get.as_ref().unwrap();
        assert_eq!(
            (get.path.as_deref(), get.scheme.as_deref()),
            (Some("/"), Some("HTTP"))
        );
    }

    #[test]
    fn rolling_update_keeps_given_int_values() {
        let mut d = deployment(Some(DeploymentStrategy {
            type_: None,
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(0)),
                max_unavailable: None,
            }),
        }));
        default_deployment(&mut d);
        let ru = d.spec.unwrap().strategy.unwrap().rolling_update.unwrap();
        assert_eq!(ru.max_surge, Some(IntOrString::Int(0)));
        assert_eq!(ru.max_unavailable, Some(IntOrString::String("25%".into())));
    }

    #[test]
    fn recreate_gets_no_rolling_update() {
        let mut d = deployment(Some(DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        }));
        default_deployment(&mut d);
        assert_eq!(d.spec.unwrap().strategy.unwrap().rolling_update, None);
    }

    #[test]
    fn defaulting_is_idempotent() {
        let mut once = deployment(None);
        default_deployment(&mut once);
        let mut twice = once.clone();
        default_deployment(&mut twice);
        assert_eq!(once, twice);

        let mut pod = Pod {
            spec: deployment(None).spec.unwrap().template.spec,
            ..Default::default()
        };
        default_pod(&mut pod);
        let mut again = pod.clone();
        default_pod(&mut again);
        assert_eq!(pod, again);
        assert_eq!(pod.spec.unwrap().enable_service_links, Some(true));
    }

    #[test]
    fn replica_set_defaults_replicas_and_template() {
        let mut rs = ReplicaSet::default();
        default_replica_set(&mut rs);
        let spec = rs.spec.unwrap();
        assert_eq!(spec.replicas, Some(1));
        assert_eq!(
            spec.template
                .unwrap()
                .spec
                .unwrap()
                .restart_policy
                .as_deref(),
            Some("Always")
        );
        assert_eq!(rs.metadata.namespace.as_deref(), Some("default"));
    }

    #[test]
    fn image_pull_policy_follows_the_tag() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.27", "IfNotPresent"),
            ("localhost:5000/app", "Always"),
            ("localhost:5000/app:v2", "IfNotPresent"),
            ("nginx@sha256:0123", "IfNotPresent"),
        ] {
            let mut c = Container {
                image: Some(image.into()),
                ..Default::default()
            };
            default_container(&mut c);
            assert_eq!(c.image_pull_policy.as_deref(), Some(policy), "{image}");
        }
    }

    #[test]
    fn host_network_copies_container_ports_to_host_ports() {
        let mut s = PodSpec {
            host_network: Some(true),
            containers: vec![Container {
                ports: Some(vec![ContainerPort {
                    container_port: 8080,
                    ..Default::default()
                }]),
                ..Default::default()
            }],
            ..Default::default()
        };
        default_pod_spec(&mut s);
        assert_eq!(
            s.containers[0].ports.as_ref().unwrap()[0].host_port,
            Some(8080)
        );
    }

    #[test]
    fn pod_requests_default_to_limits() {
        use k8s_openapi::api::core::v1::ResourceRequirements;
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        let limits = [("cpu".to_string(), Quantity("500m".into()))]
            .into_iter()
            .collect();
        let mut p = Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    resources: Some(ResourceRequirements {
                        limits: Some(limits),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        default_pod(&mut p);
        let res = p.spec.unwrap().containers[0].resources.clone().unwrap();
        assert_eq!(res.requests, res.limits);
    }
}

//! Steps about autoscaling: loads and metrics the HorizontalPodAutoscaler reads, an HPA made
//! in one line, and checks of the replica count over time.

use crate::registry::{Args, StepDef, StepResult};
use crate::world::World;
use crate::{manifests, report, step};
use kubespec_harness::manifest::{Manifest, ManifestObject};
use kubespec_harness::observe::fmt_duration;
use kubespec_harness::{Backend, MetricChange};
use std::fmt::Write as _;
use std::time::Duration;

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            "a deployment {string} with {int} replicas of image {string} requesting {int}m CPU",
            "Like `a deployment … of image …`, with a CPU request on its container (the HPA's utilization is a percentage of it).",
            r#"Given a deployment "web" with 1 replicas of image "php-apache:v1" requesting 500m CPU"#,
            given_deployment_with_request
        ),
        step!(
            Given,
            "deployment {string} is autoscaled from {int} to {int} replicas at {int}% CPU",
            "Creates a HorizontalPodAutoscaler (autoscaling/v2) named like the Deployment: minReplicas, maxReplicas and a CPU Utilization target, no behavior (kubectl autoscale).",
            r#"Given deployment "web" is autoscaled from 1 to 5 replicas at 20% CPU"#,
            autoscale
        ),
        step!(
            When,
            "I autoscale deployment {string} from {int} to {int} replicas at {int}% CPU",
            "kubectl autoscale: like `deployment … is autoscaled from … to … replicas at …% CPU`.",
            r#"When I autoscale deployment "web" from 2 to 10 replicas at 50% CPU"#,
            autoscale
        ),
        step!(
            When,
            "deployment {string} receives a total CPU load of {int}m",
            "From now on the Deployment's pods use this much CPU in total, spread evenly over its Running and Ready pods (others use none).",
            r#"When deployment "web" receives a total CPU load of 250m"#,
            deployment_cpu_load
        ),
        step!(
            When,
            "statefulset {string} receives a total CPU load of {int}m",
            "A total CPU demand on a StatefulSet's Running and Ready pods.",
            r#"When statefulset "db" receives a total CPU load of 900m"#,
            statefulset_cpu_load
        ),
        step!(
            When,
            "deployment {string} receives a total memory load of {int}Mi",
            "A total memory demand, spread evenly over the Deployment's Running and Ready pods.",
            r#"When deployment "web" receives a total memory load of 512Mi"#,
            deployment_memory_load
        ),
        step!(
            When,
            "statefulset {string} receives a total memory load of {int}Mi",
            "A total memory demand on a StatefulSet's Running and Ready pods.",
            r#"When statefulset "db" receives a total memory load of 2048Mi"#,
            statefulset_memory_load
        ),
        step!(
            When,
            "deployment {string} receives this CPU load:",
            "A total CPU demand that changes over time: a table `| after | load |` (after: a duration from now; load: millicores such as 200m). Each value holds until the next row.",
            r#"When deployment "web" receives this CPU load:"#,
            deployment_cpu_shape
        ),
        step!(
            When,
            "deployment {string} receives this CPU load ramp:",
            "Like `receives this CPU load:`, but the total moves linearly from one row's value to the next (a ramp); after the last row it holds.",
            r#"When deployment "web" receives this CPU load ramp:"#,
            deployment_cpu_ramp
        ),
        step!(
            When,
            "each pod of deployment {string} uses {int}m CPU",
            "Every Running pod of the Deployment uses this much CPU, whatever their number (replaces a total load).",
            r#"When each pod of deployment "web" uses 150m CPU"#,
            each_pod_cpu
        ),
        step!(
            When,
            "each pod of deployment {string} uses {int}Mi memory",
            "Every Running pod of the Deployment uses this much memory.",
            r#"When each pod of deployment "web" uses 300Mi memory"#,
            each_pod_memory
        ),
        step!(
            When,
            "each pod of deployment {string} reports the metric {string} as {float}",
            "A `Pods` metric (custom metrics API): every pod of the Deployment reports this value.",
            r#"When each pod of deployment "web" reports the metric "packets-per-second" as 1500"#,
            pods_metric
        ),
        step!(
            When,
            "the metric {string} of deployment {string} is {float}",
            "An `Object` metric (custom metrics API) describing the Deployment.",
            r#"When the metric "requests-per-second" of deployment "web" is 2000"#,
            object_metric
        ),
        step!(
            When,
            "the external metric {string} is {float}",
            "An `External` metric (external metrics API) with one series.",
            r#"When the external metric "queue_messages_ready" is 30"#,
            external_metric
        ),
        step!(
            Then,
            "within {duration} deployment {string} has {int} replicas",
            "Lets time pass until spec.replicas of the Deployment is this number; fails at the deadline, showing the replica counts it went through and the HPA's status.",
            r#"Then within 2 minutes deployment "web" has 3 replicas"#,
            within_replicas
        ),
        step!(
            Then,
            "deployment {string} keeps {int} replicas for {duration}",
            "Lets this much time pass and fails at the first instant spec.replicas is not this number, naming the instant.",
            r#"Then deployment "web" keeps 3 replicas for 5 minutes"#,
            keeps_replicas
        ),
        step!(
            Then,
            "the horizontalpodautoscaler {string} shows targets {string}",
            "The TARGETS column of `kubectl get hpa`: current/target per metric, e.g. `cpu: 16%/20%`, `<unknown>` before the first sample.",
            r#"Then the horizontalpodautoscaler "web" shows targets "cpu: 16%/20%""#,
            shows_targets
        ),
        step!(
            Then,
            "within {duration} the horizontalpodautoscaler {string} shows targets {string}",
            "Lets time pass until the TARGETS column of `kubectl get hpa` reads this.",
            r#"Then within 1 minute the horizontalpodautoscaler "web" shows targets "cpu: 50%/50%""#,
            shows_targets_within
        ),
        step!(
            Then,
            "the replicas of deployment {string} went through {string}",
            "The sequence of spec.replicas values since the Deployment was created (repeats folded), comma separated.",
            r#"Then the replicas of deployment "web" went through "1, 3, 5, 3""#,
            went_through
        ),
    ]
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

fn int32(v: i64, what: &str) -> Result<i32, String> {
    i32::try_from(v).map_err(|_| format!("{what} {v} is out of range"))
}

/// A custom metric value in milli-units (`Quantity.MilliValue`).
fn milli(v: f64) -> Result<i64, String> {
    let m = (v * 1000.0).round();
    if !m.is_finite() || m.abs() > 9.0e15 {
        return Err(format!("metric value {v} is out of range"));
    }
    Ok(m as i64)
}

async fn given_deployment_with_request(w: &mut World, args: Args) -> StepResult {
    let (name, image) = (args.string(0)?, args.string(2)?);
    let replicas = int32(args.int(1)?, "replicas")?;
    let request = args.int(3)?;
    let mut d = kubespec_harness::kubectl::simple_deployment(&name, replicas, &image);
    if let Some(c) = d
        .spec
        .as_mut()
        .and_then(|s| s.template.spec.as_mut())
        .and_then(|s| s.containers.first_mut())
    {
        c.resources = Some(k8s_openapi::api::core::v1::ResourceRequirements {
            requests: Some(
                [(
                    "cpu".to_string(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity(format!("{request}m")),
                )]
                .into(),
            ),
            ..Default::default()
        });
    }
    let m = Manifest {
        object: ManifestObject::Deployment(d),
        file: "<step>".into(),
        line: args.step().position.line,
    };
    let b = w.backend();
    b.apply(&m)
        .await
        .map_err(|err| format!("deployment \"{name}\" was refused: {err}"))?;
    manifests::settle(b, std::slice::from_ref(&m)).await
}

async fn autoscale(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let (min, max, target) = (args.int(1)?, args.int(2)?, args.int(3)?);
    let value = serde_json::json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": min,
            "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": target}}}]
        }
    });
    let m = Manifest {
        object: ManifestObject::Generic {
            api_version: "autoscaling/v2".into(),
            kind: "HorizontalPodAutoscaler".into(),
            value,
        },
        file: "<step>".into(),
        line: args.step().position.line,
    };
    w.backend()
        .apply(&m)
        .await
        .map(|_| ())
        .map_err(|err| format!("horizontalpodautoscaler \"{name}\" was refused: {err}"))
}

async fn load(w: &mut World, kind: &str, name: String, resource: &str, total: i64) -> StepResult {
    w.backend()
        .set_metric(MetricChange::Load {
            kind: kind.into(),
            name,
            resource: resource.into(),
            points: vec![(Duration::ZERO, total)],
            ramp: false,
        })
        .await
        .map_err(e)
}

const MI_MILLI: i64 = 1024 * 1024 * 1000;

async fn deployment_cpu_load(w: &mut World, args: Args) -> StepResult {
    let (name, total) = (args.string(0)?, args.int(1)?);
    load(w, "deployment", name, "cpu", total).await
}

async fn statefulset_cpu_load(w: &mut World, args: Args) -> StepResult {
    let (name, total) = (args.string(0)?, args.int(1)?);
    load(w, "statefulset", name, "cpu", total).await
}

async fn deployment_memory_load(w: &mut World, args: Args) -> StepResult {
    let (name, total) = (args.string(0)?, args.int(1)?);
    load(
        w,
        "deployment",
        name,
        "memory",
        total.saturating_mul(MI_MILLI),
    )
    .await
}

async fn statefulset_memory_load(w: &mut World, args: Args) -> StepResult {
    let (name, total) = (args.string(0)?, args.int(1)?);
    load(
        w,
        "statefulset",
        name,
        "memory",
        total.saturating_mul(MI_MILLI),
    )
    .await
}

/// The `| after | load |` table of a load shape: (time from now, millicores), in order.
fn shape_table(args: &Args) -> Result<Vec<(Duration, i64)>, String> {
    let rows = args.table()?;
    let mut rows = rows.iter();
    let header = rows.next().ok_or("the load table is empty")?;
    let norm: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    if norm != ["after", "load"] {
        return Err(format!(
            "the load table's header must be | after | load |, not | {} |",
            header.join(" | ")
        ));
    }
    let mut points: Vec<(Duration, i64)> = Vec::new();
    for (i, row) in rows.enumerate() {
        let [after, load] = row.as_slice() else {
            return Err(format!("row {} of the load table needs two cells", i + 1));
        };
        let after = crate::registry::parse_duration(after)
            .map_err(|err| format!("row {} of the load table: {err}", i + 1))?;
        let load = load.trim();
        let millicores = load
            .strip_suffix('m')
            .and_then(|n| n.parse::<i64>().ok())
            .or_else(|| load.parse::<i64>().ok().map(|cores| cores * 1000))
            .filter(|v| *v >= 0)
            .ok_or_else(|| {
                format!(
                    "row {} of the load table: {load:?} is not a CPU load (write millicores like 200m, or whole cores like 2)",
                    i + 1
                )
            })?;
        if points.last().is_some_and(|(t, _)| *t >= after) {
            return Err(format!(
                "row {} of the load table: the times must increase",
                i + 1
            ));
        }
        points.push((after, millicores));
    }
    if points.is_empty() {
        return Err("the load table has no rows below its header".into());
    }
    Ok(points)
}

async fn cpu_shape(w: &mut World, args: Args, ramp: bool) -> StepResult {
    let name = args.string(0)?;
    let points = shape_table(&args)?;
    w.backend()
        .set_metric(MetricChange::Load {
            kind: "deployment".into(),
            name,
            resource: "cpu".into(),
            points,
            ramp,
        })
        .await
        .map_err(e)
}

async fn deployment_cpu_shape(w: &mut World, args: Args) -> StepResult {
    cpu_shape(w, args, false).await
}

async fn deployment_cpu_ramp(w: &mut World, args: Args) -> StepResult {
    cpu_shape(w, args, true).await
}

async fn each_pod(w: &mut World, args: Args, resource: &str, scale: i64) -> StepResult {
    let (name, each) = (args.string(0)?, args.int(1)?);
    w.backend()
        .set_metric(MetricChange::PodUsage {
            kind: "deployment".into(),
            name,
            resource: resource.into(),
            each: each.saturating_mul(scale),
        })
        .await
        .map_err(e)
}

async fn each_pod_cpu(w: &mut World, args: Args) -> StepResult {
    each_pod(w, args, "cpu", 1).await
}

async fn each_pod_memory(w: &mut World, args: Args) -> StepResult {
    each_pod(w, args, "memory", MI_MILLI).await
}

async fn pods_metric(w: &mut World, args: Args) -> StepResult {
    let (name, metric, value) = (args.string(0)?, args.string(1)?, milli(args.float(2)?)?);
    w.backend()
        .set_metric(MetricChange::PodsMetric {
            kind: "deployment".into(),
            name,
            metric,
            value,
        })
        .await
        .map_err(e)
}

async fn object_metric(w: &mut World, args: Args) -> StepResult {
    let (metric, name, value) = (args.string(0)?, args.string(1)?, milli(args.float(2)?)?);
    w.backend()
        .set_metric(MetricChange::ObjectMetric {
            kind: "deployment".into(),
            name,
            metric,
            value,
        })
        .await
        .map_err(e)
}

async fn external_metric(w: &mut World, args: Args) -> StepResult {
    let (metric, value) = (args.string(0)?, milli(args.float(1)?)?);
    w.backend()
        .set_metric(MetricChange::External { metric, value })
        .await
        .map_err(e)
}

async fn spec_replicas(b: &mut dyn Backend, name: &str) -> Result<i32, String> {
    let d = b.deployment(name).await.map_err(e)?;
    Ok(d.spec.and_then(|s| s.replicas).unwrap_or(1))
}

/// The replica counts so far and, if an HPA of the same name exists, its status and events.
async fn autoscaling_report(b: &mut dyn Backend, name: &str) -> String {
    let mut out = String::new();
    if let Ok(h) = b.replicas_history("deployment", name).await {
        let seq: Vec<String> = h
            .iter()
            .map(|(t, r)| format!("{r} (t={})", fmt_duration(*t)))
            .collect();
        let _ = writeln!(out, "  spec.replicas went through: {}", seq.join(", "));
    }
    if let Ok(Some(hpa)) = b.get("horizontalpodautoscaler", name).await {
        let st = &hpa["status"];
        let _ = writeln!(
            out,
            "  horizontalpodautoscaler \"{name}\": currentReplicas={} desiredReplicas={} lastScaleTime={}",
            st["currentReplicas"], st["desiredReplicas"], st["lastScaleTime"]
        );
        if let Some(metrics) = st["currentMetrics"].as_array() {
            for m in metrics {
                let _ = writeln!(out, "    current metric {m}");
            }
        }
        if let Some(conditions) = st["conditions"].as_array() {
            for c in conditions {
                let _ = writeln!(
                    out,
                    "    condition {}={} reason={} message={}",
                    c["type"].as_str().unwrap_or(""),
                    c["status"].as_str().unwrap_or(""),
                    c["reason"].as_str().unwrap_or(""),
                    c["message"]
                );
            }
        }
        out.push_str(&report::events(b, "horizontalpodautoscaler", name).await);
    }
    out.push_str(&report::deployment(b, name).await);
    out
}

async fn within_replicas(w: &mut World, args: Args) -> StepResult {
    let (limit, name, want) = (args.duration(0)?, args.string(1)?, args.int(2)?);
    let want = int32(want, "replicas")?;
    let b = w.backend();
    let deadline = b.elapsed().await + limit;
    loop {
        if spec_replicas(b, &name).await? == want {
            return Ok(());
        }
        if !b.next_instant(deadline).await.map_err(e)? {
            let now = spec_replicas(b, &name).await?;
            if now == want {
                return Ok(());
            }
            return Err(format!(
                "deployment \"{name}\" did not reach {want} replicas within {} (it has {now}):\n{}",
                fmt_duration(limit),
                autoscaling_report(b, &name).await
            ));
        }
    }
}

async fn keeps_replicas(w: &mut World, args: Args) -> StepResult {
    let (name, want, limit) = (args.string(0)?, args.int(1)?, args.duration(2)?);
    let want = int32(want, "replicas")?;
    let b = w.backend();
    let start = b.elapsed().await;
    let deadline = start + limit;
    loop {
        let now = spec_replicas(b, &name).await?;
        if now != want {
            let at = b.elapsed().await;
            return Err(format!(
                "deployment \"{name}\" went to {now} replicas at t={} ({} into the {} it should have kept {want}):\n{}",
                fmt_duration(at),
                fmt_duration(at - start),
                fmt_duration(limit),
                autoscaling_report(b, &name).await
            ));
        }
        if !b.next_instant(deadline).await.map_err(e)? {
            let now = spec_replicas(b, &name).await?;
            if now != want {
                return Err(format!(
                    "deployment \"{name}\" went to {now} replicas at the end of {}:\n{}",
                    fmt_duration(limit),
                    autoscaling_report(b, &name).await
                ));
            }
            return Ok(());
        }
    }
}

async fn went_through(w: &mut World, args: Args) -> StepResult {
    let (name, expected) = (args.string(0)?, args.string(1)?);
    let want: Vec<i32> = expected
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<i32>()
                .map_err(|_| format!("{s:?} in {expected:?} is not a replica count"))
        })
        .collect::<Result<_, _>>()?;
    let b = w.backend();
    let history = b.replicas_history("deployment", &name).await.map_err(e)?;
    let got: Vec<i32> = history.iter().map(|(_, r)| *r).collect();
    if got == want {
        return Ok(());
    }
    let fmt = |v: &[i32]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(format!(
        "the replicas of deployment \"{name}\" went through \"{}\", expected \"{}\":\n{}",
        fmt(&got),
        fmt(&want),
        autoscaling_report(b, &name).await
    ))
}

async fn targets(b: &mut dyn Backend, name: &str) -> Result<String, String> {
    let v = b
        .get("horizontalpodautoscaler", name)
        .await
        .map_err(e)?
        .ok_or_else(|| format!("horizontalpodautoscaler \"{name}\" not found"))?;
    let hpa: k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler = serde_json::from_value(v)
        .map_err(|err| {
            format!("horizontalpodautoscaler \"{name}\" does not read as autoscaling/v2: {err}")
        })?;
    Ok(kubespec_harness::printers::hpa_targets(&hpa))
}

async fn shows_targets(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, args.string(1)?);
    let b = w.backend();
    let got = targets(b, &name).await?;
    if got == want {
        return Ok(());
    }
    Err(format!(
        "kubectl get hpa {name} shows TARGETS {got:?}, expected {want:?}\n{}",
        report::events(b, "horizontalpodautoscaler", &name).await
    ))
}

async fn shows_targets_within(w: &mut World, args: Args) -> StepResult {
    let (limit, name, want) = (args.duration(0)?, args.string(1)?, args.string(2)?);
    let b = w.backend();
    let deadline = b.elapsed().await + limit;
    loop {
        let got = targets(b, &name).await?;
        if got == want {
            return Ok(());
        }
        if !b.next_instant(deadline).await.map_err(e)? {
            let got = targets(b, &name).await?;
            if got == want {
                return Ok(());
            }
            return Err(format!(
                "kubectl get hpa {name} shows TARGETS {got:?} after {}, expected {want:?}\n{}",
                fmt_duration(limit),
                report::events(b, "horizontalpodautoscaler", &name).await
            ));
        }
    }
}

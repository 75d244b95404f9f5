//! Steps about StatefulSets: create one with its headless Service, the kubectl verbs, and
//! checks of its pods (order, identity, images), its claims and its DNS records.

use crate::registry::{Args, StepDef, StepResult};
use crate::step;
use crate::world::{SETTLE_LIMIT, World};
use kubespec_harness::Backend;
use kubespec_harness::kubectl::{self, RolloutStatus};
use kubespec_harness::manifest::{Manifest, ManifestObject};
use std::time::Duration;

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            "a statefulset {string} with {int} replicas of image {string}",
            "Creates a headless Service and a StatefulSet of that name (labels app: <name>, one container named <name>, OrderedReady) and waits until its rollout is complete.",
            r#"Given a statefulset "web" with 3 replicas of image "nginx:1.27""#,
            given_stateful_set
        ),
        step!(
            When,
            "I scale statefulset {string} to {int} replicas",
            "kubectl scale statefulset.",
            r#"When I scale statefulset "web" to 5 replicas"#,
            scale
        ),
        step!(
            When,
            "I set the image of statefulset {string} to {string}",
            "kubectl set image on every container of the StatefulSet.",
            r#"When I set the image of statefulset "web" to "nginx:1.28""#,
            set_image
        ),
        step!(
            When,
            "I undo the rollout of statefulset {string}",
            "kubectl rollout undo statefulset: back to the revision before the newest.",
            r#"When I undo the rollout of statefulset "web""#,
            undo
        ),
        step!(
            When,
            "I undo the rollout of statefulset {string} to revision {int}",
            "kubectl rollout undo statefulset --to-revision.",
            r#"When I undo the rollout of statefulset "web" to revision 1"#,
            undo_to
        ),
        step!(
            When,
            "I try to undo the rollout of statefulset {string} to revision {int}",
            "kubectl rollout undo statefulset --to-revision; a refusal is recorded.",
            r#"When I try to undo the rollout of statefulset "web" to revision 9"#,
            try_undo_to
        ),
        step!(
            When,
            "I patch statefulset {string} with:",
            "kubectl patch statefulset (a strategic merge patch) with the docstring's YAML: containers and env merge by name.",
            r#"When I patch statefulset "web" with:"#,
            patch
        ),
        step!(
            Then,
            "the rollout history of statefulset {string} is:",
            "The table kubectl rollout history statefulset prints (header and rows), exactly.",
            r#"Then the rollout history of statefulset "web" is:"#,
            history_is
        ),
        step!(
            Then,
            "the rollout of statefulset {string} completes within {duration}",
            "kubectl rollout status statefulset succeeds within this much cluster time.",
            r#"Then the rollout of statefulset "web" completes within 2 minutes"#,
            completes_within
        ),
        step!(
            Then,
            "the rollout status of statefulset {string} is {string}",
            "The exact line kubectl rollout status statefulset prints now (errors with their `error: ` prefix).",
            r#"Then the rollout status of statefulset "web" is "Waiting for 2 pods to be ready...""#,
            status_is
        ),
        step!(
            Then,
            "the rollout history of statefulset {string} shows revisions {string}",
            "The revisions kubectl rollout history statefulset lists (its ControllerRevisions), comma separated.",
            r#"Then the rollout history of statefulset "web" shows revisions "2, 3""#,
            history_shows
        ),
        step!(
            Then,
            "statefulset {string} has {int} {word} replicas",
            "A status count: ready, available, current, updated, or total (status.replicas).",
            r#"Then statefulset "web" has 3 ready replicas"#,
            has_status_replicas
        ),
        step!(
            Then,
            "pod {string} exists",
            "The pod exists (a terminating pod still exists).",
            r#"Then pod "web-0" exists"#,
            pod_exists
        ),
        step!(
            Then,
            "pod {string} does not exist",
            "The pod does not exist.",
            r#"Then pod "web-3" does not exist"#,
            pod_does_not_exist
        ),
        step!(
            Then,
            "pod {string} runs image {string}",
            "The pod's first container runs this image.",
            r#"Then pod "web-2" runs image "nginx:1.28""#,
            pod_runs_image
        ),
        step!(
            Then,
            "the pods of statefulset {string} were created in order {string}",
            "The pods the StatefulSet controller created, in order, comma separated (every creation, recreations included).",
            r#"Then the pods of statefulset "web" were created in order "web-0, web-1, web-2""#,
            created_in_order
        ),
        step!(
            Then,
            "the pods of statefulset {string} were deleted in order {string}",
            "The pods the StatefulSet controller deleted (scale-down, updates, failed pods), in order, comma separated.",
            r#"Then the pods of statefulset "web" were deleted in order "web-2, web-1""#,
            deleted_in_order
        ),
        step!(
            Then,
            "persistent volume claims {string} exist",
            "Each claim of the comma-separated list exists.",
            r#"Then persistent volume claims "www-web-0, www-web-1" exist"#,
            claims_exist
        ),
        step!(
            Then,
            "persistent volume claim {string} does not exist",
            "The claim does not exist.",
            r#"Then persistent volume claim "www-web-1" does not exist"#,
            claim_does_not_exist
        ),
        step!(
            Then,
            "the DNS name {string} resolves to pod {string}",
            "An A lookup inside the cluster answers with this pod's IP (headless Service records of ready endpoints).",
            r#"Then the DNS name "web-0.web.default.svc.cluster.local" resolves to pod "web-0""#,
            resolves_to
        ),
        step!(
            Then,
            "an SRV lookup of {string} returns {string}",
            "The SRV targets of a headless Service, comma separated, sorted: every ready pod's FQDN (every pod with publishNotReadyAddresses); empty for none.",
            r#"Then an SRV lookup of "web.default.svc.cluster.local" returns "web-0.web.default.svc.cluster.local""#,
            srv_returns
        ),
    ]
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

fn fmt_duration(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// What a failed StatefulSet check shows: the spec and status counts, kubectl's status line,
/// its pods and its recent events.
async fn report(b: &mut dyn Backend, name: &str) -> String {
    let Ok(s) = b.stateful_set(name).await else {
        return format!("  statefulset \"{name}\" does not exist\n");
    };
    let spec = s.spec.clone().unwrap_or_default();
    let st = s.status.clone().unwrap_or_default();
    let mut out = format!(
        "  statefulset \"{name}\": spec.replicas {}, status replicas {} ready {} available {} current {} updated {}, currentRevision {}, updateRevision {}\n",
        spec.replicas.unwrap_or(1),
        st.replicas,
        st.ready_replicas.unwrap_or(0),
        st.available_replicas.unwrap_or(0),
        st.current_replicas.unwrap_or(0),
        st.updated_replicas.unwrap_or(0),
        st.current_revision.unwrap_or_default(),
        st.update_revision.unwrap_or_default(),
    );
    out.push_str(&format!(
        "  kubectl rollout status: {}\n",
        kubectl::stateful_set_rollout_status(&s).line()
    ));
    if let Ok(h) = b.stateful_set_pod_history(name).await {
        fn names<T>(v: &[(T, String)]) -> String {
            v.iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
        out.push_str(&format!("  created: {}\n", names(&h.created)));
        out.push_str(&format!("  deleted: {}\n", names(&h.deleted)));
    }
    if let Ok(events) = b.events_about("statefulset", name).await {
        for ev in events.iter().rev().take(10).rev() {
            out.push_str(&format!(
                "    t={} {} {}: {}\n",
                fmt_duration(ev.last),
                ev.type_,
                ev.reason,
                ev.message
            ));
        }
    }
    out
}

async fn given_stateful_set(w: &mut World, args: Args) -> StepResult {
    let (name, image) = (args.string(0)?, args.string(2)?);
    let replicas = i32::try_from(args.int(1)?).map_err(|_| "replicas out of range".to_string())?;
    let line = args.step().position.line;
    let service = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "clusterIP": "None",
            "selector": {"app": name},
            "ports": [{"name": "web", "port": 80}],
        },
    });
    let set =
        serde_json::to_value(kubectl::simple_stateful_set(&name, replicas, &image)).map_err(e)?;
    let manifests = [("v1", "Service", service), ("apps/v1", "StatefulSet", set)];
    let b = w.backend();
    for (api_version, kind, mut value) in manifests {
        value["apiVersion"] = api_version.into();
        value["kind"] = kind.into();
        let m = Manifest {
            object: ManifestObject::Generic {
                api_version: api_version.into(),
                kind: kind.into(),
                value,
            },
            file: "<step>".into(),
            line,
        };
        b.apply(&m)
            .await
            .map_err(|err| format!("{kind} \"{name}\" was refused: {err}"))?;
    }
    let deadline = b.elapsed().await + SETTLE_LIMIT;
    let (done, s) = wait_status(b, &name, deadline, RolloutStatus::is_done).await?;
    if done {
        return Ok(());
    }
    Err(format!(
        "statefulset \"{name}\" did not settle within 10 minutes of cluster time (a Given step waits for the rollout to complete): {}\n{}",
        s.line(),
        report(b, &name).await
    ))
}

/// Lets time pass until `done` holds for kubectl's status line or `deadline` (a value of
/// `elapsed`) is reached.
async fn wait_status(
    b: &mut dyn Backend,
    name: &str,
    deadline: Duration,
    mut done: impl FnMut(&RolloutStatus) -> bool,
) -> Result<(bool, RolloutStatus), String> {
    loop {
        let s = b.stateful_set_rollout_status(name).await.map_err(e)?;
        if done(&s) {
            return Ok((true, s));
        }
        if !b.next_instant(deadline).await.map_err(e)? {
            let s = b.stateful_set_rollout_status(name).await.map_err(e)?;
            return Ok((done(&s), s));
        }
    }
}

async fn scale(w: &mut World, args: Args) -> StepResult {
    let n = i32::try_from(args.int(1)?).map_err(|_| "replicas out of range".to_string())?;
    w.backend()
        .scale_stateful_set(&args.string(0)?, n)
        .await
        .map_err(e)
}

async fn set_image(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .set_stateful_set_image(&args.string(0)?, None, &args.string(1)?)
        .await
        .map_err(e)
}

async fn undo(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .undo_stateful_set(&args.string(0)?, 0)
        .await
        .map(drop)
        .map_err(e)
}

async fn undo_to(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .undo_stateful_set(&args.string(0)?, args.int(1)?)
        .await
        .map(drop)
        .map_err(e)
}

async fn try_undo_to(w: &mut World, args: Args) -> StepResult {
    let r = w
        .backend()
        .undo_stateful_set(&args.string(0)?, args.int(1)?)
        .await;
    w.last_attempt = Some(r.map_err(e));
    Ok(())
}

async fn completes_within(w: &mut World, args: Args) -> StepResult {
    let (name, limit) = (args.string(0)?, args.duration(1)?);
    let b = w.backend();
    let deadline = b.elapsed().await + limit;
    let (ok, s) = wait_status(b, &name, deadline, |s| {
        !matches!(s, RolloutStatus::Waiting(_))
    })
    .await?;
    match s {
        RolloutStatus::Done(_) if ok => Ok(()),
        _ => Err(format!(
            "the rollout of statefulset \"{name}\" did not complete within {}; kubectl rollout status says: {}\n{}",
            fmt_duration(limit),
            s.line(),
            report(b, &name).await
        )),
    }
}

async fn status_is(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, args.string(1)?);
    let b = w.backend();
    let got = b
        .stateful_set_rollout_status(&name)
        .await
        .map_err(e)?
        .line();
    if got == want {
        return Ok(());
    }
    Err(format!(
        "kubectl rollout status of statefulset \"{name}\":\n  expected: {want}\n  actual:   {got}\n{}",
        report(b, &name).await
    ))
}

async fn history_shows(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, list(&args.string(1)?));
    let b = w.backend();
    let got: Vec<String> = b
        .stateful_set_rollout_history(&name)
        .await
        .map_err(e)?
        .iter()
        .map(|h| h.revision.to_string())
        .collect();
    if got == want {
        return Ok(());
    }
    Err(format!(
        "kubectl rollout history of statefulset \"{name}\" lists revisions {}, expected {}\n{}",
        got.join(", "),
        want.join(", "),
        report(b, &name).await
    ))
}

async fn has_status_replicas(w: &mut World, args: Args) -> StepResult {
    let (name, want, what) = (args.string(0)?, args.int(1)?, args.string(2)?);
    let b = w.backend();
    let st = b
        .stateful_set(&name)
        .await
        .map_err(e)?
        .status
        .unwrap_or_default();
    let got = match what.as_str() {
        "ready" => st.ready_replicas.unwrap_or(0),
        "available" => st.available_replicas.unwrap_or(0),
        "current" => st.current_replicas.unwrap_or(0),
        "updated" => st.updated_replicas.unwrap_or(0),
        "total" => st.replicas,
        other => {
            return Err(format!(
                "unknown replica count {other:?}: use ready, available, current, updated or total"
            ));
        }
    };
    if i64::from(got) == want {
        return Ok(());
    }
    Err(format!(
        "statefulset \"{name}\" has {got} {what} replicas, expected {want}\n{}",
        report(b, &name).await
    ))
}

async fn pod_exists(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    match w.backend().pod(&name).await.map_err(e)? {
        Some(_) => Ok(()),
        None => Err(format!("pod \"{name}\" does not exist")),
    }
}

async fn pod_does_not_exist(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    match w.backend().pod(&name).await.map_err(e)? {
        None => Ok(()),
        Some(p) => Err(format!(
            "pod \"{name}\" exists (created {:?}{})",
            p.metadata.creation_timestamp.map(|t| t.0.to_string()),
            if p.metadata.deletion_timestamp.is_some() {
                ", terminating"
            } else {
                ""
            }
        )),
    }
}

async fn pod_runs_image(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, args.string(1)?);
    let Some(p) = w.backend().pod(&name).await.map_err(e)? else {
        return Err(format!("pod \"{name}\" does not exist"));
    };
    let got = p
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "pod \"{name}\" runs image {got:?}, expected {want:?}"
        ))
    }
}

async fn created_in_order(w: &mut World, args: Args) -> StepResult {
    in_order(w, args, true).await
}

async fn deleted_in_order(w: &mut World, args: Args) -> StepResult {
    in_order(w, args, false).await
}

async fn in_order(w: &mut World, args: Args, created: bool) -> StepResult {
    let (name, want) = (args.string(0)?, list(&args.string(1)?));
    let b = w.backend();
    let h = b.stateful_set_pod_history(&name).await.map_err(e)?;
    let got: Vec<String> = if created { h.created } else { h.deleted }
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    if got == want {
        return Ok(());
    }
    let verb = if created { "created" } else { "deleted" };
    Err(format!(
        "the pods of statefulset \"{name}\" were {verb} in order \"{}\", expected \"{}\"\n{}",
        got.join(", "),
        want.join(", "),
        report(b, &name).await
    ))
}

async fn claims_exist(w: &mut World, args: Args) -> StepResult {
    let want = list(&args.string(0)?);
    let b = w.backend();
    let mut missing = Vec::new();
    for c in &want {
        if b.get("persistentvolumeclaim", c)
            .await
            .map_err(e)?
            .is_none()
        {
            missing.push(c.as_str());
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "persistent volume claims {} do not exist",
            missing.join(", ")
        ))
    }
}

async fn claim_does_not_exist(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    match w
        .backend()
        .get("persistentvolumeclaim", &name)
        .await
        .map_err(e)?
    {
        None => Ok(()),
        Some(c) => Err(format!(
            "persistent volume claim \"{name}\" exists, with ownerReferences {}",
            c.pointer("/metadata/ownerReferences")
                .cloned()
                .unwrap_or_default()
        )),
    }
}

async fn resolves_to(w: &mut World, args: Args) -> StepResult {
    let (dns, pod) = (args.string(0)?, args.string(1)?);
    let b = w.backend();
    let answers = b.resolve_dns(&dns).await.map_err(e)?;
    let ip = b
        .pod(&pod)
        .await
        .map_err(e)?
        .and_then(|p| p.status.and_then(|s| s.pod_ip));
    if let Some(ip) = &ip
        && answers.iter().any(|(p, a)| *p == pod && a == ip)
    {
        return Ok(());
    }
    Err(format!(
        "{dns} resolves to {answers:?}, expected pod \"{pod}\" (IP {ip:?})"
    ))
}

async fn srv_returns(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, list(&args.string(1)?));
    let mut want = want;
    want.sort();
    let got = w.backend().srv_lookup(&name).await.map_err(e)?;
    if got == want {
        return Ok(());
    }
    Err(format!(
        "an SRV lookup of {name} returns \"{}\", expected \"{}\"",
        got.join(", "),
        want.join(", ")
    ))
}

async fn patch(w: &mut World, args: Args) -> StepResult {
    let text = args.docstring()?;
    let p = serde_saphyr::from_str::<serde_json::Value>(&text)
        .map_err(|err| format!("the patch is not valid YAML: {err}"))?;
    w.backend()
        .patch("statefulset", &args.string(0)?, &p)
        .await
        .map_err(e)
}

async fn history_is(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, args.docstring()?);
    let b = w.backend();
    let got = kubectl::format_history(&b.stateful_set_rollout_history(&name).await.map_err(e)?);
    let norm = |s: &str| {
        s.lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string()
    };
    if norm(&got) == norm(&want) {
        return Ok(());
    }
    Err(format!(
        "rollout history of statefulset \"{name}\" differs:\n{}",
        pretty_assertions::StrComparison::new(&norm(&want), &norm(&got))
    ))
}

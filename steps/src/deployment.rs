//! Steps about Deployments: create one, the kubectl verbs that change it, and checks of its
//! replicas, revisions and pods.

use crate::registry::{Args, StepDef, StepResult};
use crate::world::World;
use crate::{manifests, report, step};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kubespec_harness::deployment_util as util;
use kubespec_harness::manifest::{Manifest, ManifestObject};
use kubespec_harness::{Backend, kubectl};

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            "a deployment {string} with {int} replicas of image {string}",
            "Creates a Deployment (labels app: <name>, one container named <name>, default strategy) and waits until it has rolled out.",
            r#"Given a deployment "web" with 3 replicas of image "nginx:1.27""#,
            given_deployment
        ),
        step!(
            When,
            "I set the image of deployment {string} to {string}",
            "kubectl set image on every container of the Deployment.",
            r#"When I set the image of deployment "web" to "nginx:1.28""#,
            set_image_all
        ),
        step!(
            When,
            "I set the image of container {string} in deployment {string} to {string}",
            "kubectl set image on one container.",
            r#"When I set the image of container "sidecar" in deployment "web" to "envoy:1.31""#,
            set_image_one
        ),
        step!(
            When,
            "I scale deployment {string} to {int} replicas",
            "kubectl scale.",
            r#"When I scale deployment "web" to 5 replicas"#,
            scale
        ),
        step!(
            When,
            "I pause the rollout of deployment {string}",
            "kubectl rollout pause.",
            r#"When I pause the rollout of deployment "web""#,
            pause
        ),
        step!(
            When,
            "I resume the rollout of deployment {string}",
            "kubectl rollout resume.",
            r#"When I resume the rollout of deployment "web""#,
            resume
        ),
        step!(
            When,
            "I undo the rollout of deployment {string}",
            "kubectl rollout undo: back to the previous revision (client-side, as kubectl does).",
            r#"When I undo the rollout of deployment "web""#,
            undo
        ),
        step!(
            When,
            "I undo the rollout of deployment {string} to revision {int}",
            "kubectl rollout undo --to-revision.",
            r#"When I undo the rollout of deployment "web" to revision 1"#,
            undo_to
        ),
        step!(
            When,
            "I try to undo the rollout of deployment {string}",
            "kubectl rollout undo; a refusal is recorded for `the request is rejected …`.",
            r#"When I try to undo the rollout of deployment "web""#,
            try_undo
        ),
        step!(
            When,
            "I try to undo the rollout of deployment {string} to revision {int}",
            "kubectl rollout undo --to-revision; a refusal is recorded.",
            r#"When I try to undo the rollout of deployment "web" to revision 7"#,
            try_undo_to
        ),
        step!(
            When,
            "I try to pause the rollout of deployment {string}",
            "kubectl rollout pause; a refusal is recorded.",
            r#"When I try to pause the rollout of deployment "web""#,
            try_pause
        ),
        step!(
            When,
            "I try to resume the rollout of deployment {string}",
            "kubectl rollout resume; a refusal is recorded.",
            r#"When I try to resume the rollout of deployment "web""#,
            try_resume
        ),
        step!(
            When,
            "I patch deployment {string} with:",
            "kubectl patch (a strategic merge patch, its default) with the docstring's YAML: containers and env merge by name, `$patch: delete` removes one.",
            r#"When I patch deployment "web" with:"#,
            patch
        ),
        step!(
            When,
            "I try to patch deployment {string} with:",
            "Like `I patch deployment … with:`; a refusal is recorded.",
            r#"When I try to patch deployment "web" with:"#,
            try_patch
        ),
        step!(
            Then,
            "deployment {string} has {int} replicas",
            "spec.replicas of the Deployment.",
            r#"Then deployment "web" has 5 replicas"#,
            has_replicas
        ),
        step!(
            Then,
            "deployment {string} has {int} {word} replicas",
            "A status count: ready, available, updated, unavailable, or total (status.replicas).",
            r#"Then deployment "web" has 3 available replicas"#,
            has_status_replicas
        ),
        step!(
            Then,
            "deployment {string} has {int} pods",
            "Non-terminating pods of the Deployment's ReplicaSets.",
            r#"Then deployment "web" has 4 pods"#,
            has_pods
        ),
        step!(
            Then,
            "deployment {string} has {int} replica sets",
            "ReplicaSets the Deployment controls (history included).",
            r#"Then deployment "web" has 3 replica sets"#,
            has_replica_sets
        ),
        step!(
            Then,
            "revision {int} of deployment {string} runs image {string}",
            "The ReplicaSet of that revision runs this image (in its first container).",
            r#"Then revision 2 of deployment "web" runs image "nginx:1.28""#,
            revision_image
        ),
        step!(
            Then,
            "revision {int} of deployment {string} has {int} replicas",
            "spec.replicas of the ReplicaSet of that revision.",
            r#"Then revision 1 of deployment "web" has 0 replicas"#,
            revision_replicas
        ),
        step!(
            Then,
            "all pods of deployment {string} run image {string}",
            "Every non-terminating pod of the Deployment runs this image.",
            r#"Then all pods of deployment "web" run image "nginx:1.28""#,
            all_pods_image
        ),
    ]
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

async fn given_deployment(w: &mut World, args: Args) -> StepResult {
    let (name, image) = (args.string(0)?, args.string(2)?);
    let replicas = i32::try_from(args.int(1)?).map_err(|_| "replicas out of range".to_string())?;
    let line = args.step().position.line;
    let m = Manifest {
        object: ManifestObject::Deployment(kubectl::simple_deployment(&name, replicas, &image)),
        file: "<step>".into(),
        line,
    };
    let b = w.backend();
    b.apply(&m)
        .await
        .map_err(|err| format!("deployment \"{name}\" was refused: {err}"))?;
    manifests::settle(b, std::slice::from_ref(&m)).await
}

async fn set_image_all(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .set_image(&args.string(0)?, None, &args.string(1)?)
        .await
        .map_err(e)
}

async fn set_image_one(w: &mut World, args: Args) -> StepResult {
    let (container, d, image) = (args.string(0)?, args.string(1)?, args.string(2)?);
    w.backend()
        .set_image(&d, Some(&container), &image)
        .await
        .map_err(e)
}

async fn scale(w: &mut World, args: Args) -> StepResult {
    let replicas = i32::try_from(args.int(1)?).map_err(|_| "replicas out of range".to_string())?;
    w.backend()
        .scale(&args.string(0)?, replicas)
        .await
        .map_err(e)
}

async fn pause(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .pause(&args.string(0)?)
        .await
        .map(drop)
        .map_err(|err| format!("error: {err}"))
}

async fn resume(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .resume(&args.string(0)?)
        .await
        .map(drop)
        .map_err(|err| format!("error: {err}"))
}

async fn undo(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .undo(&args.string(0)?, 0)
        .await
        .map(drop)
        .map_err(|err| format!("error: {err}"))
}

async fn undo_to(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .undo(&args.string(0)?, args.int(1)?)
        .await
        .map(drop)
        .map_err(|err| format!("error: {err}"))
}

async fn try_undo(w: &mut World, args: Args) -> StepResult {
    let r = w.backend().undo(&args.string(0)?, 0).await.map_err(e);
    w.last_attempt = Some(r);
    Ok(())
}

async fn try_undo_to(w: &mut World, args: Args) -> StepResult {
    let r = w
        .backend()
        .undo(&args.string(0)?, args.int(1)?)
        .await
        .map_err(e);
    w.last_attempt = Some(r);
    Ok(())
}

async fn try_pause(w: &mut World, args: Args) -> StepResult {
    let r = w.backend().pause(&args.string(0)?).await.map_err(e);
    w.last_attempt = Some(r);
    Ok(())
}

async fn try_resume(w: &mut World, args: Args) -> StepResult {
    let r = w.backend().resume(&args.string(0)?).await.map_err(e);
    w.last_attempt = Some(r);
    Ok(())
}

fn yaml_patch(args: &Args) -> Result<serde_json::Value, String> {
    let text = args.docstring()?;
    serde_saphyr::from_str::<serde_json::Value>(&text)
        .map_err(|err| format!("the patch is not valid YAML: {err}"))
}

async fn patch(w: &mut World, args: Args) -> StepResult {
    let p = yaml_patch(&args)?;
    w.backend()
        .patch("deployment", &args.string(0)?, &p)
        .await
        .map_err(e)
}

async fn try_patch(w: &mut World, args: Args) -> StepResult {
    let p = yaml_patch(&args)?;
    let r = w
        .backend()
        .patch("deployment", &args.string(0)?, &p)
        .await
        .map(|_| String::new())
        .map_err(e);
    w.last_attempt = Some(r);
    Ok(())
}

/// Fails with the expectation, the observation and the Deployment's report.
async fn check(b: &mut dyn Backend, name: &str, what: &str, want: i64, got: i64) -> StepResult {
    if want == got {
        return Ok(());
    }
    Err(format!(
        "expected deployment \"{name}\" to have {want} {what}, but it has {got}\n{}",
        report::deployment(b, name).await
    ))
}

async fn has_replicas(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let b = w.backend();
    let d = b.deployment(&name).await.map_err(e)?;
    check(
        b,
        &name,
        "replicas (spec.replicas)",
        args.int(1)?,
        util::replicas(&d) as i64,
    )
    .await
}

async fn has_status_replicas(w: &mut World, args: Args) -> StepResult {
    let (name, which) = (args.string(0)?, args.word(2)?);
    let b = w.backend();
    let st = b
        .deployment(&name)
        .await
        .map_err(e)?
        .status
        .unwrap_or_default();
    let got = match which.as_str() {
        "ready" => st.ready_replicas,
        "available" => st.available_replicas,
        "updated" => st.updated_replicas,
        "unavailable" => st.unavailable_replicas,
        "total" | "current" => st.replicas,
        other => {
            return Err(format!(
                "unknown replica count {other:?}: use ready, available, updated, unavailable or total"
            ));
        }
    };
    check(
        b,
        &name,
        &format!("{which} replicas"),
        args.int(1)?,
        got.unwrap_or(0) as i64,
    )
    .await
}

async fn has_pods(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let b = w.backend();
    let pods = b.pods_of(&name).await.map_err(e)?;
    let n = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .count();
    check(b, &name, "pods (not terminating)", args.int(1)?, n as i64).await
}

async fn has_replica_sets(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let b = w.backend();
    let n = b.replica_sets_of(&name).await.map_err(e)?.len();
    check(b, &name, "replica sets", args.int(1)?, n as i64).await
}

async fn revision_rs(b: &mut dyn Backend, name: &str, revision: i64) -> Result<ReplicaSet, String> {
    let rss = b.replica_sets_of(name).await.map_err(e)?;
    let revisions: Vec<i64> = rss.iter().map(util::revision).collect();
    match rss.into_iter().find(|rs| util::revision(rs) == revision) {
        Some(rs) => Ok(rs),
        None => Err(format!(
            "deployment \"{name}\" has no revision {revision} (revisions: {revisions:?})\n{}",
            report::deployment(b, name).await
        )),
    }
}

fn first_image(t: Option<&PodTemplateSpec>) -> String {
    t.and_then(|t| t.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

async fn revision_image(w: &mut World, args: Args) -> StepResult {
    let (rev, name, image) = (args.int(0)?, args.string(1)?, args.string(2)?);
    let b = w.backend();
    let rs = revision_rs(b, &name, rev).await?;
    let got = first_image(rs.spec.as_ref().and_then(|s| s.template.as_ref()));
    if got == image {
        Ok(())
    } else {
        Err(format!(
            "revision {rev} of deployment \"{name}\" runs image {got:?}, not {image:?}"
        ))
    }
}

async fn revision_replicas(w: &mut World, args: Args) -> StepResult {
    let (rev, name, want) = (args.int(0)?, args.string(1)?, args.int(2)?);
    let b = w.backend();
    let rs = revision_rs(b, &name, rev).await?;
    let got = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) as i64;
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "revision {rev} of deployment \"{name}\" has {got} replicas, not {want}\n{}",
            report::deployment(b, &name).await
        ))
    }
}

async fn all_pods_image(w: &mut World, args: Args) -> StepResult {
    let (name, image) = (args.string(0)?, args.string(1)?);
    let b = w.backend();
    let pods = b.pods_of(&name).await.map_err(e)?;
    let live: Vec<_> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    if live.is_empty() {
        return Err(format!(
            "deployment \"{name}\" has no pods\n{}",
            report::deployment(b, &name).await
        ));
    }
    let wrong: Vec<String> = live
        .iter()
        .filter(|p| {
            p.spec.as_ref().is_none_or(|s| {
                s.containers
                    .iter()
                    .any(|c| c.image.as_deref() != Some(&image))
            })
        })
        .map(|p| {
            let images: Vec<String> = p
                .spec
                .iter()
                .flat_map(|s| s.containers.iter().filter_map(|c| c.image.clone()))
                .collect();
            format!(
                "{} runs {}",
                p.metadata.name.as_deref().unwrap_or(""),
                images.join(",")
            )
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not every pod of deployment \"{name}\" runs {image:?}:\n  {}\n{}",
            wrong.join("\n  "),
            report::deployment(b, &name).await
        ))
    }
}

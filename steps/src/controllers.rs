//! Steps about third-party controllers: running one against the scenario's cluster, and
//! checking what its work left behind (the environment every pod of a Deployment started with).

use crate::registry::{Args, StepDef, StepResult};
use crate::step;
use crate::world::World;
use kubespec_harness::observe::fmt_duration;

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            "the controller {string} is running",
            "Runs a controller built into kubespec (configmap-watcher: the Kubernetes Patterns ConfigMap watcher) in process, against the scenario's cluster through the Kubernetes API, until the scenario ends. Virtual time waits while it works.",
            r#"Given the controller "configmap-watcher" is running"#,
            controller_running
        ),
        step!(
            Given,
            "the controller command {string} is running",
            "Runs a program (words separated by spaces; relative to the feature file, beside kubespec, or on PATH) with KUBECONFIG set to the scenario's cluster served on a loopback port, until the scenario ends.",
            r#"Given the controller command "target/debug/my-operator --namespace default" is running"#,
            controller_command_running
        ),
        step!(
            Then,
            "within {duration} every pod of deployment {string} has environment variable {string} set to {string}",
            "Waits until every non-terminating pod of the Deployment (at least one) runs with this variable set to exactly this value in each of its containers.",
            r#"Then within 30 seconds every pod of deployment "webapp" has environment variable "MESSAGE" set to "Hello""#,
            every_pod_env_within
        ),
        step!(
            Then,
            "every pod of deployment {string} has environment variable {string} set to {string}",
            "Every non-terminating pod of the Deployment (at least one) runs with this variable set to exactly this value in each of its containers.",
            r#"Then every pod of deployment "webapp" has environment variable "MESSAGE" set to "Welcome""#,
            every_pod_env
        ),
    ]
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

async fn controller_running(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    w.backend().start_controller(&name).await.map_err(e)
}

async fn controller_command_running(w: &mut World, args: Args) -> StepResult {
    let command = args.string(0)?;
    let dir = w
        .feature_dir
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    w.backend()
        .start_controller_command(&command, &dir)
        .await
        .map_err(e)
}

/// Pods of the Deployment whose every container runs with `name=want`; and a description of
/// those that do not (or of there being no pod at all).
async fn env_mismatches(
    w: &mut World,
    deployment: &str,
    name: &str,
    want: &str,
) -> Result<Option<String>, String> {
    let b = w.backend();
    let pods = b.pods_of(deployment).await.map_err(e)?;
    let live: Vec<_> = pods
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    if live.is_empty() {
        return Ok(Some(format!(
            "deployment \"{deployment}\" has no running pods"
        )));
    }
    let mut wrong = Vec::new();
    for p in &live {
        let pod = p.metadata.name.clone().unwrap_or_default();
        for c in p.spec.iter().flat_map(|s| s.containers.iter()) {
            let got = b.container_env(&pod, &c.name).await.map_err(e)?;
            let value = got
                .as_ref()
                .and_then(|env| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
            match (got.is_some(), value) {
                (_, Some(v)) if v == want => {}
                (false, _) => wrong.push(format!(
                    "    pod {pod}, container {}: not started yet",
                    c.name
                )),
                (true, None) => wrong.push(format!(
                    "    pod {pod}, container {}: {name} is not set",
                    c.name
                )),
                (true, Some(v)) => {
                    wrong.push(format!("    pod {pod}, container {}: {name}={v:?}", c.name))
                }
            }
        }
    }
    Ok((!wrong.is_empty()).then(|| {
        format!(
            "{} of {} pod(s) of deployment \"{deployment}\" do not run with {name}={want:?}:\n{}",
            wrong.len(),
            live.len(),
            wrong.join("\n")
        )
    }))
}

async fn every_pod_env(w: &mut World, args: Args) -> StepResult {
    let (deployment, name, want) = (args.string(0)?, args.string(1)?, args.string(2)?);
    match env_mismatches(w, &deployment, &name, &want).await? {
        None => Ok(()),
        Some(report) => Err(report),
    }
}

async fn every_pod_env_within(w: &mut World, args: Args) -> StepResult {
    let (limit, deployment, name, want) = (
        args.duration(0)?,
        args.string(1)?,
        args.string(2)?,
        args.string(3)?,
    );
    let deadline = w.backend().elapsed().await + limit;
    loop {
        let report = match env_mismatches(w, &deployment, &name, &want).await? {
            None => return Ok(()),
            Some(r) => r,
        };
        if !w.backend().next_instant(deadline).await.map_err(e)? {
            return match env_mismatches(w, &deployment, &name, &want).await? {
                None => Ok(()),
                Some(_) => Err(format!("not within {}: {report}", fmt_duration(limit))),
            };
        }
    }
}

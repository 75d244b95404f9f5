//! Steps about manifests: apply YAML (inline or from a file), and attempts that may be refused.

use crate::registry::{Args, StepDef, StepResult};
use crate::world::{SETTLE_LIMIT, World};
use crate::{report, step};
use kubespec_harness::Backend;
use kubespec_harness::manifest::{Manifest, ManifestObject, parse_manifests};

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            "the manifest:",
            "Applies the YAML documents of the docstring (create or update, like kubectl apply) and waits until what they create has settled.",
            "Given the manifest:",
            given_inline
        ),
        step!(
            When,
            "I apply the manifest:",
            "Applies the YAML documents of the docstring, without waiting.",
            "When I apply the manifest:",
            when_inline
        ),
        step!(
            Given,
            "the manifest {string}",
            "Applies a manifest file (relative to the feature file, then to the working directory) and waits until it has settled.",
            r#"Given the manifest "fixtures/deployment/web-v1.yaml""#,
            given_file
        ),
        step!(
            When,
            "I apply {string}",
            "Applies a manifest file, without waiting.",
            r#"When I apply "fixtures/deployment/web-v2.yaml""#,
            when_file
        ),
        step!(
            When,
            "I try to apply the manifest:",
            "Applies the docstring's YAML; a refusal is recorded for a later `the request is rejected` step instead of failing.",
            "When I try to apply the manifest:",
            try_inline
        ),
        step!(
            When,
            "I try to apply {string}",
            "Applies a manifest file; a refusal is recorded instead of failing.",
            r#"When I try to apply "fixtures/validation/unknown_field.yaml""#,
            try_file
        ),
        step!(
            Then,
            "the request is rejected with an error containing {string}",
            "The last `I try to …` step was refused with an error containing this text.",
            r#"Then the request is rejected with an error containing "may not be 0 when `maxSurge` is 0""#,
            rejected_containing
        ),
        step!(
            Then,
            "the request is rejected with:",
            "The last `I try to …` step was refused with exactly the docstring's message.",
            "Then the request is rejected with:",
            rejected_exactly
        ),
        step!(
            Then,
            "the request succeeded",
            "The last `I try to …` step was accepted.",
            "Then the request succeeded",
            succeeded
        ),
    ]
}

/// Parses the docstring of a step; line numbers in errors are the feature file's.
fn inline_manifests(w: &World, args: &Args) -> Result<Vec<Manifest>, String> {
    let text = args.docstring()?;
    let step = args.step();
    let file = w
        .feature_path
        .as_ref()
        .map_or_else(|| "<feature>".to_string(), |p| p.display().to_string());
    // The docstring's first line is two lines below the step: pad so that positions are the
    // feature file's lines.
    let padded = format!("{}{text}", "\n".repeat(step.position.line + 1));
    parse_manifests(&padded, &file).map_err(|e| e.to_string())
}

fn file_manifests(w: &World, path: &str) -> Result<Vec<Manifest>, String> {
    let resolved = w.resolve(path);
    let text = std::fs::read_to_string(&resolved)
        .map_err(|e| format!("{path}: cannot read manifest ({}): {e}", resolved.display()))?;
    parse_manifests(&text, path).map_err(|e| e.to_string())
}

async fn apply_all(b: &mut dyn Backend, manifests: &[Manifest]) -> Result<(), String> {
    for m in manifests {
        b.apply(m).await.map_err(|e| {
            format!(
                "{}:{}: {} refused: {e}",
                m.file,
                m.line,
                describe(&m.object)
            )
        })?;
    }
    Ok(())
}

fn describe(o: &ManifestObject) -> String {
    format!("{} \"{}\"", o.kind(), o.name().unwrap_or(""))
}

/// Waits until every Deployment among `manifests` has rolled out and every Pod is ready.
pub(crate) async fn settle(b: &mut dyn Backend, manifests: &[Manifest]) -> Result<(), String> {
    let deadline = b.elapsed().await + SETTLE_LIMIT;
    for m in manifests {
        let Some(name) = m.object.name().map(str::to_string) else {
            continue;
        };
        let settled = match &m.object {
            ManifestObject::Deployment(_) => loop {
                let status = b.rollout_status(&name).await.map_err(|e| e.to_string())?;
                if status.is_done() {
                    break true;
                }
                if !b.next_instant(deadline).await.map_err(|e| e.to_string())? {
                    break b
                        .rollout_status(&name)
                        .await
                        .map_err(|e| e.to_string())?
                        .is_done();
                }
            },
            ManifestObject::Generic { kind, .. } if kind == "StatefulSet" => loop {
                if stateful_set_ready(b, &name).await? {
                    break true;
                }
                if !b.next_instant(deadline).await.map_err(|e| e.to_string())? {
                    break stateful_set_ready(b, &name).await?;
                }
            },
            ManifestObject::Pod(_) => loop {
                if pod_ready(b, &name).await? {
                    break true;
                }
                if !b.next_instant(deadline).await.map_err(|e| e.to_string())? {
                    break pod_ready(b, &name).await?;
                }
            },
            _ => true,
        };
        if !settled {
            let detail = match &m.object {
                ManifestObject::Deployment(_) => report::deployment(b, &name).await,
                ManifestObject::Generic { kind, .. } if kind == "StatefulSet" => {
                    report::events(b, "statefulset", &name).await
                }
                _ => report::events(b, "pod", &name).await,
            };
            return Err(format!(
                "{} did not settle within 10 minutes of cluster time (a Given step waits for rollouts to complete and pods to be ready)\n{detail}",
                describe(&m.object)
            ));
        }
    }
    Ok(())
}

/// A StatefulSet has settled when its controller has seen the latest spec and every replica is
/// ready (whatever its update strategy; a partition may leave old pods, which count).
async fn stateful_set_ready(b: &mut dyn Backend, name: &str) -> Result<bool, String> {
    let s = b.stateful_set(name).await.map_err(|e| e.to_string())?;
    let st = s.status.unwrap_or_default();
    let observed = st.observed_generation.unwrap_or(0);
    Ok(observed > 0
        && observed >= s.metadata.generation.unwrap_or(0)
        && st.ready_replicas.unwrap_or(0) == s.spec.and_then(|sp| sp.replicas).unwrap_or(1))
}

async fn pod_ready(b: &mut dyn Backend, name: &str) -> Result<bool, String> {
    let pod = b.get("pod", name).await.map_err(|e| e.to_string())?;
    Ok(pod
        .as_ref()
        .and_then(|p| p.pointer("/status/conditions"))
        .and_then(|c| c.as_array())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        }))
}

async fn given_inline(w: &mut World, args: Args) -> StepResult {
    let ms = inline_manifests(w, &args)?;
    let b = w.backend();
    apply_all(b, &ms).await?;
    settle(b, &ms).await
}

async fn when_inline(w: &mut World, args: Args) -> StepResult {
    let ms = inline_manifests(w, &args)?;
    apply_all(w.backend(), &ms).await
}

async fn given_file(w: &mut World, args: Args) -> StepResult {
    let ms = file_manifests(w, &args.string(0)?)?;
    let b = w.backend();
    apply_all(b, &ms).await?;
    settle(b, &ms).await
}

async fn when_file(w: &mut World, args: Args) -> StepResult {
    let ms = file_manifests(w, &args.string(0)?)?;
    apply_all(w.backend(), &ms).await
}

async fn attempt(w: &mut World, ms: Result<Vec<Manifest>, String>) -> StepResult {
    let outcome = match ms {
        Err(e) => Err(e),
        Ok(ms) => {
            let b = w.backend();
            let mut result = Ok(String::new());
            for m in &ms {
                if let Err(e) = b.apply(m).await {
                    result = Err(e.to_string());
                    break;
                }
            }
            result
        }
    };
    w.last_attempt = Some(outcome);
    Ok(())
}

async fn try_inline(w: &mut World, args: Args) -> StepResult {
    let ms = inline_manifests(w, &args);
    attempt(w, ms).await
}

async fn try_file(w: &mut World, args: Args) -> StepResult {
    let ms = file_manifests(w, &args.string(0)?);
    attempt(w, ms).await
}

fn last_refusal(w: &World) -> Result<String, String> {
    match &w.last_attempt {
        None => Err("no `When I try to …` step ran before this one".into()),
        Some(Ok(msg)) => Err(format!(
            "expected the request to be rejected, but it succeeded{}",
            if msg.is_empty() {
                String::new()
            } else {
                format!(": {msg}")
            }
        )),
        Some(Err(e)) => Ok(e.clone()),
    }
}

async fn rejected_containing(w: &mut World, args: Args) -> StepResult {
    let want = args.string(0)?;
    let got = last_refusal(w)?;
    if got.contains(&want) {
        Ok(())
    } else {
        Err(format!(
            "the request was rejected, but the error does not contain {want:?}\n  error: {got}"
        ))
    }
}

async fn rejected_exactly(w: &mut World, args: Args) -> StepResult {
    let want = args.docstring()?;
    let got = last_refusal(w)?;
    if got.trim_end() == want.trim_end() {
        Ok(())
    } else {
        Err(format!(
            "the request was rejected with a different error\n{}",
            pretty_assertions::StrComparison::new(want.trim_end(), got.trim_end())
        ))
    }
}

async fn succeeded(w: &mut World, _args: Args) -> StepResult {
    match &w.last_attempt {
        None => Err("no `When I try to …` step ran before this one".into()),
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(format!(
            "expected the request to succeed, but it was rejected: {e}"
        )),
    }
}

//! Steps about any object: delete it, match it against a partial document, check its events.

use crate::registry::{Args, StepDef, StepResult};
use crate::world::World;
use crate::{report, step};
use kubespec_harness::Backend;
use kubespec_harness::matcher::{matches, project};
use kubespec_harness::observe::fmt_duration;

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            When,
            "I delete {word} {string}",
            "kubectl delete <kind> <name> (background cascading deletion; pods terminate gracefully).",
            r#"When I delete pod "web-0""#,
            delete
        ),
        step!(
            Then,
            "the {word} {string} matches:",
            "The object matches the docstring's partial YAML: given keys only, lists match element-wise in any order.",
            r#"Then the deployment "web" matches:"#,
            object_matches
        ),
        step!(
            Then,
            "within {duration} the {word} {string} matches:",
            "The object matches the partial YAML within this much cluster time.",
            r#"Then within 2 minutes the deployment "web" matches:"#,
            object_matches_within
        ),
        step!(
            Then,
            "the {word} {string} exists",
            "The object exists.",
            r#"Then the configmap "settings" exists"#,
            exists
        ),
        step!(
            Then,
            "the {word} {string} does not exist",
            "The object does not exist (a terminating pod still exists).",
            r#"Then the deployment "web" does not exist"#,
            does_not_exist
        ),
        step!(
            Then,
            "the {word} {string} has an event with reason {string} and message {string}",
            "An event about the object has this reason and exactly this message.",
            r#"Then the deployment "web" has an event with reason "ScalingReplicaSet" and message "Scaled up replica set web-5d59d67564 from 0 to 3""#,
            has_event
        ),
        step!(
            Then,
            "the {word} {string} has an event with reason {string}",
            "An event about the object has this reason.",
            r#"Then the deployment "web" has an event with reason "ScalingReplicaSet""#,
            has_event_reason
        ),
        step!(
            Then,
            "the {word} {string} has no event with reason {string}",
            "No event about the object has this reason.",
            r#"Then the deployment "web" has no event with reason "DeploymentRollback""#,
            has_no_event
        ),
    ]
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

async fn delete(w: &mut World, args: Args) -> StepResult {
    w.backend()
        .delete(&args.word(0)?, &args.string(1)?)
        .await
        .map_err(e)
}

fn expected_doc(args: &Args) -> Result<serde_json::Value, String> {
    let text = args.docstring()?;
    serde_saphyr::from_str::<serde_json::Value>(&text)
        .map_err(|err| format!("the expected document is not valid YAML: {err}"))
}

fn to_yaml(v: &serde_json::Value) -> String {
    serde_saphyr::to_string(v).unwrap_or_else(|_| v.to_string())
}

async fn mismatch_report(
    b: &mut dyn Backend,
    kind: &str,
    name: &str,
    expected: &serde_json::Value,
    actual: Option<&serde_json::Value>,
) -> String {
    let mut out = match actual {
        None => format!("{kind} \"{name}\" does not exist\n"),
        Some(actual) => {
            let errs = matches(expected, actual).err().unwrap_or_default();
            let mut s = format!("{kind} \"{name}\" does not match:\n");
            for m in &errs {
                s.push_str(&format!("  {m}\n"));
            }
            s.push_str(&format!(
                "diff (expected vs actual, restricted to the expected keys):\n{}\n",
                pretty_assertions::StrComparison::new(
                    &to_yaml(expected),
                    &to_yaml(&project(expected, actual))
                )
            ));
            s
        }
    };
    if kind == "deployment" {
        out.push_str(&report::deployment(b, name).await);
    } else {
        out.push_str(&report::events(b, kind, name).await);
    }
    out
}

async fn object_matches(w: &mut World, args: Args) -> StepResult {
    let (kind, name) = (args.word(0)?, args.string(1)?);
    let expected = expected_doc(&args)?;
    let b = w.backend();
    let actual = b.get(&kind, &name).await.map_err(e)?;
    if actual
        .as_ref()
        .is_some_and(|a| matches(&expected, a).is_ok())
    {
        return Ok(());
    }
    Err(mismatch_report(b, &kind, &name, &expected, actual.as_ref()).await)
}

async fn object_matches_within(w: &mut World, args: Args) -> StepResult {
    let (limit, kind, name) = (args.duration(0)?, args.word(1)?, args.string(2)?);
    let expected = expected_doc(&args)?;
    let b = w.backend();
    let deadline = b.elapsed().await + limit;
    loop {
        let actual = b.get(&kind, &name).await.map_err(e)?;
        if actual
            .as_ref()
            .is_some_and(|a| matches(&expected, a).is_ok())
        {
            return Ok(());
        }
        if !b.next_instant(deadline).await.map_err(e)? {
            let actual = b.get(&kind, &name).await.map_err(e)?;
            if actual
                .as_ref()
                .is_some_and(|a| matches(&expected, a).is_ok())
            {
                return Ok(());
            }
            let report = mismatch_report(b, &kind, &name, &expected, actual.as_ref()).await;
            return Err(format!(
                "not matched within {}:\n{report}",
                fmt_duration(limit)
            ));
        }
    }
}

async fn exists(w: &mut World, args: Args) -> StepResult {
    let (kind, name) = (args.word(0)?, args.string(1)?);
    match w.backend().get(&kind, &name).await.map_err(e)? {
        Some(_) => Ok(()),
        None => Err(format!("{kind} \"{name}\" does not exist")),
    }
}

async fn does_not_exist(w: &mut World, args: Args) -> StepResult {
    let (kind, name) = (args.word(0)?, args.string(1)?);
    match w.backend().get(&kind, &name).await.map_err(e)? {
        None => Ok(()),
        Some(_) => Err(format!("{kind} \"{name}\" still exists")),
    }
}

async fn event_check(
    w: &mut World,
    args: &Args,
    message: Option<String>,
    present: bool,
) -> StepResult {
    let (kind, name, reason) = (args.word(0)?, args.string(1)?, args.string(2)?);
    let b = w.backend();
    let events = b.events_about(&kind, &name).await.map_err(e)?;
    let found = events
        .iter()
        .any(|ev| ev.reason == reason && message.as_ref().is_none_or(|m| &ev.message == m));
    if found == present {
        return Ok(());
    }
    let what = match &message {
        Some(m) => format!("an event with reason {reason:?} and message {m:?}"),
        None => format!("an event with reason {reason:?}"),
    };
    let verdict = if present {
        format!("expected {what} about {kind} \"{name}\"")
    } else {
        format!("expected no {what} about {kind} \"{name}\"")
    };
    let mut all = String::new();
    for ev in &events {
        all.push_str(&format!(
            "    t={} {} {}: {}\n",
            fmt_duration(ev.last),
            ev.type_,
            ev.reason,
            ev.message
        ));
    }
    Err(format!(
        "{verdict}; its events:\n{}",
        if all.is_empty() {
            "    (none)\n".into()
        } else {
            all
        }
    ))
}

async fn has_event(w: &mut World, args: Args) -> StepResult {
    let msg = args.string(3)?;
    event_check(w, &args, Some(msg), true).await
}

async fn has_event_reason(w: &mut World, args: Args) -> StepResult {
    event_check(w, &args, None, true).await
}

async fn has_no_event(w: &mut World, args: Args) -> StepResult {
    event_check(w, &args, None, false).await
}

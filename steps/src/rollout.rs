//! Steps about rollouts: kubectl rollout status and history, and invariants over the whole
//! rollout (the ReplicaSet sizes it went through, pod and availability bounds).

use crate::registry::{Args, StepDef, StepResult};
use crate::world::World;
use crate::{report, step};
use kubespec_harness::Backend;
use kubespec_harness::deployment_util as util;
use kubespec_harness::kubectl::{RolloutStatus, format_history};
use kubespec_harness::observe::{fmt_duration, scaling_rows};
use std::time::Duration;

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Then,
            "the rollout of deployment {string} completes within {duration}",
            "kubectl rollout status succeeds within this much cluster time (fails at once on a progress-deadline error).",
            r#"Then the rollout of deployment "web" completes within 2 minutes"#,
            completes_within
        ),
        step!(
            Then,
            "the rollout of deployment {string} does not complete within {duration}",
            "kubectl rollout status does not succeed within this much cluster time.",
            r#"Then the rollout of deployment "web" does not complete within 5 minutes"#,
            does_not_complete
        ),
        step!(
            Then,
            "the rollout status of deployment {string} is {string}",
            "The exact line kubectl rollout status prints now (errors with their `error: ` prefix).",
            r#"Then the rollout status of deployment "web" is 'deployment "web" successfully rolled out'"#,
            status_is
        ),
        step!(
            Then,
            "within {duration} the rollout status of deployment {string} is {string}",
            "kubectl rollout status prints exactly this line within this much cluster time.",
            r#"Then within 1 minute the rollout status of deployment "web" is 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'"#,
            status_within
        ),
        step!(
            Then,
            "the rollout status of deployment {string} at revision {int} is {string}",
            "The line kubectl rollout status --revision=N prints now.",
            r#"Then the rollout status of deployment "web" at revision 3 is 'error: desired revision (3) is different from the running revision (4)'"#,
            status_at_revision
        ),
        step!(
            Then,
            "the rollout history of deployment {string} shows revisions {string}",
            "The revisions kubectl rollout history lists, comma separated.",
            r#"Then the rollout history of deployment "web" shows revisions "1, 3, 4""#,
            history_revisions
        ),
        step!(
            Then,
            "the rollout history of deployment {string} is:",
            "The table kubectl rollout history prints (header and rows), exactly.",
            r#"Then the rollout history of deployment "web" is:"#,
            history_is
        ),
        step!(
            Then,
            "the replica sets of deployment {string} went through:",
            "Table | old | new |: the sizes just before the last template change, then after every ReplicaSet scale.",
            r#"Then the replica sets of deployment "web" went through:"#,
            went_through
        ),
        step!(
            Then,
            "during the rollout deployment {string} never had more than {int} pods",
            "Since the last template change, the non-terminating pods never exceeded this.",
            r#"Then during the rollout deployment "web" never had more than 4 pods"#,
            never_more_pods
        ),
        step!(
            Then,
            "during the rollout deployment {string} never had fewer than {int} available pods",
            "Since the last template change, available pods (minReadySeconds applied) never dropped below this.",
            r#"Then during the rollout deployment "web" never had fewer than 3 available pods"#,
            never_fewer_available
        ),
    ]
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

/// Waits until rollout status is done or an error; returns the last status.
async fn wait_status(
    b: &mut dyn Backend,
    name: &str,
    limit: Duration,
    mut done: impl FnMut(&RolloutStatus) -> bool,
) -> Result<(bool, RolloutStatus), String> {
    let deadline = b.elapsed().await + limit;
    loop {
        let s = b.rollout_status(name).await.map_err(e)?;
        if done(&s) {
            return Ok((true, s));
        }
        if !b.next_instant(deadline).await.map_err(e)? {
            let s = b.rollout_status(name).await.map_err(e)?;
            return Ok((done(&s), s));
        }
    }
}

async fn completes_within(w: &mut World, args: Args) -> StepResult {
    let (name, limit) = (args.string(0)?, args.duration(1)?);
    let b = w.backend();
    let start = b.elapsed().await;
    let (ok, s) = wait_status(b, &name, limit, |s| !matches!(s, RolloutStatus::Waiting(_))).await?;
    match s {
        RolloutStatus::Done(_) if ok => Ok(()),
        RolloutStatus::Error(_) => Err(format!(
            "the rollout of deployment \"{name}\" failed after {}: {}\n{}",
            fmt_duration(b.elapsed().await - start),
            s.line(),
            report::deployment(b, &name).await
        )),
        _ => Err(format!(
            "the rollout of deployment \"{name}\" did not complete within {}; kubectl rollout status says: {}\n{}",
            fmt_duration(limit),
            s.line(),
            report::deployment(b, &name).await
        )),
    }
}

async fn does_not_complete(w: &mut World, args: Args) -> StepResult {
    let (name, limit) = (args.string(0)?, args.duration(1)?);
    let b = w.backend();
    let start = b.elapsed().await;
    let (done, _) = wait_status(b, &name, limit, RolloutStatus::is_done).await?;
    if done {
        return Err(format!(
            "expected the rollout of deployment \"{name}\" not to complete within {}, but it completed after {}\n{}",
            fmt_duration(limit),
            fmt_duration(b.elapsed().await - start),
            report::deployment(b, &name).await
        ));
    }
    Ok(())
}

async fn status_is(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, args.string(1)?);
    let b = w.backend();
    let got = b.rollout_status(&name).await.map_err(e)?.line();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "kubectl rollout status of deployment \"{name}\":\n  expected: {want}\n  actual:   {got}\n{}",
            report::deployment(b, &name).await
        ))
    }
}

async fn status_within(w: &mut World, args: Args) -> StepResult {
    let (limit, name, want) = (args.duration(0)?, args.string(1)?, args.string(2)?);
    let b = w.backend();
    let (ok, s) = wait_status(b, &name, limit, |s| s.line() == want).await?;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "kubectl rollout status of deployment \"{name}\" did not print {want:?} within {}; now: {}\n{}",
            fmt_duration(limit),
            s.line(),
            report::deployment(b, &name).await
        ))
    }
}

async fn status_at_revision(w: &mut World, args: Args) -> StepResult {
    let (name, rev, want) = (args.string(0)?, args.int(1)?, args.string(2)?);
    let b = w.backend();
    let d = b.deployment(&name).await.map_err(e)?;
    let got = kubespec_harness::kubectl::rollout_status(&d, rev).line();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "kubectl rollout status --revision={rev}:\n  expected: {want}\n  actual:   {got}"
        ))
    }
}

async fn history_revisions(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, args.string(1)?);
    let want: Vec<String> = want
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let b = w.backend();
    let got: Vec<String> = b
        .rollout_history(&name)
        .await
        .map_err(e)?
        .iter()
        .map(|h| h.revision.to_string())
        .collect();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "rollout history of deployment \"{name}\": expected revisions {}, got {}\n{}",
            want.join(", "),
            got.join(", "),
            report::deployment(b, &name).await
        ))
    }
}

async fn history_is(w: &mut World, args: Args) -> StepResult {
    let (name, want) = (args.string(0)?, args.docstring()?);
    let b = w.backend();
    let got = format_history(&b.rollout_history(&name).await.map_err(e)?);
    let norm = |s: &str| {
        s.lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string()
    };
    if norm(&got) == norm(&want) {
        Ok(())
    } else {
        Err(format!(
            "rollout history of deployment \"{name}\" differs:\n{}",
            pretty_assertions::StrComparison::new(&norm(&want), &norm(&got))
        ))
    }
}

async fn new_rs_name(b: &mut dyn Backend, name: &str) -> Result<String, String> {
    let d = b.deployment(name).await.map_err(e)?;
    let rss = b.replica_sets_of(name).await.map_err(e)?;
    let refs: Vec<_> = rss.iter().collect();
    Ok(util::find_new_replica_set(&d, &refs)
        .and_then(|rs| rs.metadata.name.clone())
        .unwrap_or_default())
}

async fn went_through(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let table = args.table()?;
    let header: Vec<String> = table
        .first()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    if header != ["old", "new"] {
        return Err(format!(
            "the table needs the header | old | new |, got | {} |",
            header.join(" | ")
        ));
    }
    let mut want = Vec::new();
    for (i, row) in table.iter().enumerate().skip(1) {
        let parse = |s: &String| {
            s.trim()
                .parse::<i32>()
                .map_err(|_| format!("row {i}: {s:?} is not a number"))
        };
        want.push((parse(&row[0])?, parse(&row[1])?));
    }
    let b = w.backend();
    let h = b.deployment_history(&name).await.map_err(e)?;
    let new_rs = new_rs_name(b, &name).await?;
    let rows = scaling_rows(&h, &new_rs);
    let got: Vec<(i32, i32)> = rows.iter().map(|r| (r.old, r.new)).collect();
    if got == want {
        return Ok(());
    }
    let mut msg = format!(
        "the replica sets of deployment \"{name}\" went through a different sequence\n  expected | actual (time)\n"
    );
    for i in 0..want.len().max(rows.len()) {
        let exp = want
            .get(i)
            .map(|(o, n)| format!("{o:>3} {n:>3}"))
            .unwrap_or_else(|| "   -   -".into());
        let act = rows
            .get(i)
            .map(|r| format!("{:>3} {:>3}  (t={})", r.old, r.new, fmt_duration(r.at)))
            .unwrap_or_else(|| "  -   -".into());
        let mark = if want.get(i).map(|x| (x.0, x.1)) == rows.get(i).map(|r| (r.old, r.new)) {
            " "
        } else {
            "!"
        };
        msg.push_str(&format!("{mark} {exp} | {act}\n"));
    }
    Err(msg + &report::deployment(b, &name).await)
}

/// Samples since the last template change, starting with the state in force at that change.
async fn rollout_samples(
    b: &mut dyn Backend,
    name: &str,
) -> Result<Vec<kubespec_harness::observe::Sample>, String> {
    let h = b.deployment_history(name).await.map_err(e)?;
    let Some(change) = h.template_changes.last() else {
        return Ok(h.samples.clone());
    };
    let mut out: Vec<_> = change.before.iter().cloned().collect();
    out.extend(h.samples.iter().filter(|s| s.at >= change.at).cloned());
    Ok(out)
}

async fn never_more_pods(w: &mut World, args: Args) -> StepResult {
    let (name, max) = (args.string(0)?, args.int(1)?);
    let b = w.backend();
    let samples = rollout_samples(b, &name).await?;
    if let Some(s) = samples.iter().find(|s| s.pods as i64 > max) {
        return Err(format!(
            "during the rollout deployment \"{name}\" had {} pods at t={} (at most {max} expected; {} available then)\n{}",
            s.pods,
            fmt_duration(Duration::from_millis(s.at.0)),
            s.available,
            report::deployment(b, &name).await
        ));
    }
    Ok(())
}

async fn never_fewer_available(w: &mut World, args: Args) -> StepResult {
    let (name, min) = (args.string(0)?, args.int(1)?);
    let b = w.backend();
    let samples = rollout_samples(b, &name).await?;
    if let Some(s) = samples.iter().find(|s| (s.available as i64) < min) {
        return Err(format!(
            "during the rollout deployment \"{name}\" had only {} available pods at t={} (at least {min} expected; {} pods then)\n{}",
            s.available,
            fmt_duration(Duration::from_millis(s.at.0)),
            s.pods,
            report::deployment(b, &name).await
        ));
    }
    Ok(())
}

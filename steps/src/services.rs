//! Steps about Services and their endpoints.

use crate::registry::{Args, StepDef, StepResult};
use crate::step;
use crate::world::World;

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Then,
            "service {string} has {int} ready endpoints",
            "Endpoints marked ready across the Service's EndpointSlices (ready pods, or every pod with publishNotReadyAddresses; terminating pods are not ready).",
            r#"Then service "web" has 3 ready endpoints"#,
            ready_endpoints
        ),
        step!(
            Then,
            "service {string} has {int} ready endpoints from pods labelled {string}",
            "Ready endpoints whose pod carries this label (key=value): the share of a canary behind one Service.",
            r#"Then service "web" has 1 ready endpoints from pods labelled "track=canary""#,
            ready_endpoints_labelled
        ),
    ]
}

/// (pod name, ready, serving, terminating) of every endpoint of the Service, by pod name.
async fn endpoints(
    w: &mut World,
    service: &str,
) -> Result<Vec<(String, bool, bool, bool)>, String> {
    let slices = w
        .backend()
        .endpoint_slices_of(service)
        .await
        .map_err(|e| e.to_string())?;
    if slices.is_empty()
        && w.backend()
            .get("service", service)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
    {
        return Err(format!("service \"{service}\" not found"));
    }
    let mut out: Vec<_> = slices
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .map(|e| {
            let c = e.conditions.clone().unwrap_or_default();
            (
                e.target_ref
                    .as_ref()
                    .and_then(|r| r.name.clone())
                    .unwrap_or_else(|| e.addresses.join(",")),
                c.ready.unwrap_or(false),
                c.serving.unwrap_or(false),
                c.terminating.unwrap_or(false),
            )
        })
        .collect();
    out.sort();
    Ok(out)
}

fn listing(eps: &[(String, bool, bool, bool)]) -> String {
    if eps.is_empty() {
        return "    (no endpoints)\n".into();
    }
    eps.iter()
        .map(|(n, r, s, t)| format!("    {n}: ready={r} serving={s} terminating={t}\n"))
        .collect()
}

async fn ready_endpoints(w: &mut World, args: Args) -> StepResult {
    let (service, want) = (args.string(0)?, args.int(1)?);
    let eps = endpoints(w, &service).await?;
    let ready = eps.iter().filter(|e| e.1).count() as i64;
    if ready == want {
        return Ok(());
    }
    Err(format!(
        "expected service \"{service}\" to have {want} ready endpoints, found {ready}:\n{}",
        listing(&eps)
    ))
}

async fn ready_endpoints_labelled(w: &mut World, args: Args) -> StepResult {
    let (service, want, label) = (args.string(0)?, args.int(1)?, args.string(2)?);
    let Some((k, v)) = label.split_once('=') else {
        return Err(format!("{label:?} is not a label of the form key=value"));
    };
    let eps = endpoints(w, &service).await?;
    let mut ready = 0i64;
    for (name, r, _, _) in &eps {
        if !r {
            continue;
        }
        let labelled = w
            .backend()
            .pod(name)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|p| p.metadata.labels)
            .is_some_and(|l| l.get(k).map(String::as_str) == Some(v));
        if labelled {
            ready += 1;
        }
    }
    if ready == want {
        return Ok(());
    }
    Err(format!(
        "expected service \"{service}\" to have {want} ready endpoints from pods labelled {label}, found {ready}:\n{}",
        listing(&eps)
    ))
}

//! Steps about single pods: readiness, restarts, the STATUS kubectl shows, events, and flipping
//! the application's probe endpoints.

use crate::registry::{Args, StepDef, StepResult};
use crate::step;
use crate::world::World;
use k8s_openapi::api::core::v1::Pod;
use kubespec_harness::observe::fmt_duration;
use kubespec_harness::{ProbeEndpoint, kubectl};

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            When,
            "the readiness probe of pod {string} starts failing",
            "The application's readiness endpoint fails from now on; the pod turns not Ready after failureThreshold failed probes.",
            r#"When the readiness probe of pod "web-0" starts failing"#,
            readiness_fails
        ),
        step!(
            When,
            "the readiness probe of pod {string} starts passing",
            "The application's readiness endpoint passes from now on.",
            r#"When the readiness probe of pod "web-0" starts passing"#,
            readiness_passes
        ),
        step!(
            When,
            "the liveness probe of pod {string} starts failing",
            "The application's liveness endpoint fails from now on; the kubelet kills and restarts the container after failureThreshold failed probes.",
            r#"When the liveness probe of pod "web-0" starts failing"#,
            liveness_fails
        ),
        step!(
            When,
            "the liveness probe of pod {string} starts passing",
            "The application's liveness endpoint passes from now on.",
            r#"When the liveness probe of pod "web-0" starts passing"#,
            liveness_passes
        ),
        step!(
            Then,
            "pod {string} is ready",
            "The pod's Ready condition is True.",
            r#"Then pod "web-0" is ready"#,
            is_ready
        ),
        step!(
            Then,
            "pod {string} is not ready",
            "The pod's Ready condition is not True.",
            r#"Then pod "web-0" is not ready"#,
            is_not_ready
        ),
        step!(
            Then,
            "pod {string} has restarted {int} times",
            "The RESTARTS column of kubectl get pods: restartCount summed over the pod's containers.",
            r#"Then pod "web-0" has restarted 2 times"#,
            restarted
        ),
        step!(
            Then,
            "pod {string} is in state {string}",
            "The STATUS column of kubectl get pods: Running, CrashLoopBackOff, Error, Completed, Init:1/2, Terminating, …",
            r#"Then pod "web-0" is in state "CrashLoopBackOff""#,
            in_state
        ),
        step!(
            Then,
            "container {string} of pod {string} has environment variable {string} set to {string}",
            "The container's process was started with this variable set to exactly this value (env, envFrom, ConfigMaps, Secrets, the downward API, $(VAR) expansion).",
            r#"Then container "web" of pod "web-0" has environment variable "LOG_LEVEL" set to "debug""#,
            env_is
        ),
        step!(
            Then,
            "container {string} of pod {string} has no environment variable {string}",
            "The container's process was started without this variable (an optional reference that was missing, for example).",
            r#"Then container "web" of pod "web-0" has no environment variable "FEATURE_X""#,
            env_absent
        ),
        step!(
            Then,
            "container {string} of pod {string} runs {string}",
            "The container's process was started with this command line: a JSON array (in single quotes) for the exact argv, or the argv joined by spaces. It is `command` and `args` over the image's ENTRYPOINT and CMD, with $(VAR) expanded.",
            r#"Then container "web" of pod "web-0" runs '["nginx", "-g", "daemon off;"]'"#,
            runs
        ),
        step!(
            Then,
            "file {string} in container {string} of pod {string} has content {string}",
            "The container sees this file (from a ConfigMap or Secret volume) with exactly this content; `\\n` in the expected text is a newline.",
            r#"Then file "/etc/config/log_level" in container "web" of pod "web-0" has content "debug""#,
            file_is
        ),
        step!(
            Then,
            "file {string} in container {string} of pod {string} has content:",
            "The container sees this file with exactly the docstring as its content (a trailing newline in the file is kept; the docstring has none).",
            r#"Then file "/etc/app/app.properties" in container "web" of pod "web-0" has content:"#,
            file_is_doc
        ),
        step!(
            Then,
            "file {string} in container {string} of pod {string} contains {string}",
            "The container sees this file, and its content contains this text.",
            r#"Then file "/etc/app/app.properties" in container "web" of pod "web-0" contains "color=blue""#,
            file_contains
        ),
        step!(
            Then,
            "container {string} of pod {string} has no file {string}",
            "No ConfigMap or Secret volume mount gives the container this file.",
            r#"Then container "web" of pod "web-0" has no file "/etc/config/unused""#,
            file_absent
        ),
        step!(
            Then,
            "the events of pod {string} include {string}",
            "An event about the pod has this reason, and the rest of the text (after a colon or a space) appears in its message. `{pod IP}` in the text stands for the pod's IP (status.podIP), which only a fresh engine can predict.",
            r#"Then the events of pod "web-0" include "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503""#,
            events_include
        ),
    ]
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

async fn flip(w: &mut World, args: Args, endpoint: ProbeEndpoint, passing: bool) -> StepResult {
    let pod = args.string(0)?;
    w.backend()
        .set_probe_endpoint(&pod, endpoint, passing)
        .await
        .map_err(e)
}

async fn readiness_fails(w: &mut World, args: Args) -> StepResult {
    flip(w, args, ProbeEndpoint::Readiness, false).await
}

async fn readiness_passes(w: &mut World, args: Args) -> StepResult {
    flip(w, args, ProbeEndpoint::Readiness, true).await
}

async fn liveness_fails(w: &mut World, args: Args) -> StepResult {
    flip(w, args, ProbeEndpoint::Liveness, false).await
}

async fn liveness_passes(w: &mut World, args: Args) -> StepResult {
    flip(w, args, ProbeEndpoint::Liveness, true).await
}

async fn load(w: &mut World, name: &str) -> Result<Pod, String> {
    w.backend()
        .pod(name)
        .await
        .map_err(e)?
        .ok_or_else(|| format!("pod \"{name}\" not found"))
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn restarts(p: &Pod) -> i32 {
    let st = p.status.as_ref();
    st.and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .chain(st.and_then(|s| s.init_container_statuses.as_ref()))
        .flatten()
        .map(|c| c.restart_count)
        .sum()
}

/// What `kubectl get pod` and `describe` would show, for failure messages.
fn summary(p: &Pod) -> String {
    let mut out = format!(
        "observed: STATUS {}, READY {}, RESTARTS {}\n",
        kubectl::pod_status_column(p),
        ready(p),
        restarts(p)
    );
    let st = p.status.clone().unwrap_or_default();
    for c in st.conditions.iter().flatten() {
        out.push_str(&format!(
            "    condition {}={}{}\n",
            c.type_,
            c.status,
            c.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    let init = st
        .init_container_statuses
        .iter()
        .flatten()
        .map(|c| ("init container", c));
    let app = st
        .container_statuses
        .iter()
        .flatten()
        .map(|c| ("container", c));
    for (what, c) in init.chain(app) {
        let state = c.state.clone().unwrap_or_default();
        let now = if let Some(w) = &state.waiting {
            format!("waiting ({})", w.reason.clone().unwrap_or_default())
        } else if let Some(t) = &state.terminated {
            format!("terminated (exit code {})", t.exit_code)
        } else if state.running.is_some() {
            "running".to_string()
        } else {
            "unknown".to_string()
        };
        out.push_str(&format!(
            "    {what} {}: {now}, ready {}, started {}, restartCount {}\n",
            c.name,
            c.ready,
            c.started.unwrap_or(false),
            c.restart_count
        ));
    }
    out
}

async fn with_events(w: &mut World, name: &str, text: String) -> String {
    let events = w
        .backend()
        .events_about("pod", name)
        .await
        .unwrap_or_default();
    let mut out = text;
    out.push_str("  events:\n");
    if events.is_empty() {
        out.push_str("    (none)\n");
    }
    for ev in events.iter().rev().take(12).rev() {
        out.push_str(&format!(
            "    t={} {} {} (x{}): {}\n",
            fmt_duration(ev.last),
            ev.type_,
            ev.reason,
            ev.count,
            ev.message
        ));
    }
    out
}

async fn expect_ready(w: &mut World, args: Args, want: bool) -> StepResult {
    let name = args.string(0)?;
    let p = load(w, &name).await?;
    if ready(&p) == want {
        return Ok(());
    }
    let verdict = if want {
        format!("pod \"{name}\" is not ready")
    } else {
        format!("pod \"{name}\" is ready")
    };
    Err(with_events(w, &name, format!("{verdict}\n{}", summary(&p))).await)
}

async fn is_ready(w: &mut World, args: Args) -> StepResult {
    expect_ready(w, args, true).await
}

async fn is_not_ready(w: &mut World, args: Args) -> StepResult {
    expect_ready(w, args, false).await
}

async fn restarted(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let want = args.int(1)?;
    let p = load(w, &name).await?;
    if i64::from(restarts(&p)) == want {
        return Ok(());
    }
    Err(with_events(
        w,
        &name,
        format!(
            "expected pod \"{name}\" to have restarted {want} times\n{}",
            summary(&p)
        ),
    )
    .await)
}

async fn in_state(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let want = args.string(1)?;
    let p = load(w, &name).await?;
    if kubectl::pod_status_column(&p) == want {
        return Ok(());
    }
    Err(with_events(
        w,
        &name,
        format!("expected pod \"{name}\" in state {want:?}\n{}", summary(&p)),
    )
    .await)
}

/// `"Unhealthy: Readiness probe failed"` → (`Unhealthy`, `Readiness probe failed`).
fn split_reason(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.find([':', ' ']) {
        Some(i) => (&text[..i], text[i + 1..].trim()),
        None => (text, ""),
    }
}

/// What `the events of pod … include` replaces with the pod's IP.
const POD_IP: &str = "{pod IP}";

async fn events_include(w: &mut World, args: Args) -> StepResult {
    let name = args.string(0)?;
    let mut text = args.string(1)?;
    if text.contains(POD_IP) {
        let p = load(w, &name).await?;
        let ip = p
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .ok_or_else(|| {
                format!(
                    "pod \"{name}\" has no IP (status.podIP) to put for {POD_IP}\n{}",
                    summary(&p)
                )
            })?;
        text = text.replace(POD_IP, &ip);
    }
    let (reason, fragment) = split_reason(&text);
    let events = w.backend().events_about("pod", &name).await.map_err(e)?;
    if events
        .iter()
        .any(|ev| ev.reason == reason && ev.message.contains(fragment))
    {
        return Ok(());
    }
    Err(with_events(
        w,
        &name,
        format!("no event of pod \"{name}\" with reason {reason:?} and a message containing {fragment:?}\n"),
    )
    .await)
}

/// The failure for a container that has not been created: what the pod shows, and its events.
async fn not_created(w: &mut World, container: &str, pod: &str) -> Result<String, String> {
    let p = load(w, pod).await?;
    Ok(with_events(
        w,
        pod,
        format!(
            "container \"{container}\" of pod \"{pod}\" has not been created\n{}",
            summary(&p)
        ),
    )
    .await)
}

async fn env_of(
    w: &mut World,
    container: &str,
    pod: &str,
) -> Result<Vec<(String, String)>, String> {
    match w.backend().container_env(pod, container).await.map_err(e)? {
        Some(env) => Ok(env),
        None => Err(not_created(w, container, pod).await?),
    }
}

fn env_listing(env: &[(String, String)]) -> String {
    if env.is_empty() {
        return "    (empty)\n".into();
    }
    env.iter().map(|(k, v)| format!("    {k}={v}\n")).collect()
}

async fn env_is(w: &mut World, args: Args) -> StepResult {
    let (container, pod, name, want) = (
        args.string(0)?,
        args.string(1)?,
        args.string(2)?,
        args.string(3)?,
    );
    let env = env_of(w, &container, &pod).await?;
    match env.iter().find(|(k, _)| *k == name) {
        Some((_, v)) if *v == want => Ok(()),
        Some((_, v)) => Err(format!(
            "{name} is {v:?} in container \"{container}\" of pod \"{pod}\", expected {want:?}; its environment:\n{}",
            env_listing(&env)
        )),
        None => Err(format!(
            "{name} is not set in container \"{container}\" of pod \"{pod}\"; its environment:\n{}",
            env_listing(&env)
        )),
    }
}

async fn env_absent(w: &mut World, args: Args) -> StepResult {
    let (container, pod, name) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let env = env_of(w, &container, &pod).await?;
    match env.iter().find(|(k, _)| *k == name) {
        None => Ok(()),
        Some((_, v)) => Err(format!(
            "{name} is set to {v:?} in container \"{container}\" of pod \"{pod}\""
        )),
    }
}

async fn runs(w: &mut World, args: Args) -> StepResult {
    let (container, pod, want) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let Some(got) = w
        .backend()
        .container_command(&pod, &container)
        .await
        .map_err(e)?
    else {
        return Err(not_created(w, &container, &pod).await?);
    };
    let matches = if want.trim_start().starts_with('[') {
        crate::images::argv(&want)? == got
    } else {
        got.join(" ") == want
    };
    if matches {
        return Ok(());
    }
    Err(format!(
        "container \"{container}\" of pod \"{pod}\" runs {}, expected {want}",
        serde_json::to_string(&got).unwrap_or_default()
    ))
}

async fn files_of(
    w: &mut World,
    container: &str,
    pod: &str,
) -> Result<Vec<(String, String)>, String> {
    match w
        .backend()
        .container_files(pod, container)
        .await
        .map_err(e)?
    {
        Some(files) => Ok(files),
        None => Err(not_created(w, container, pod).await?),
    }
}

fn file_listing(files: &[(String, String)]) -> String {
    if files.is_empty() {
        return "    (no files from ConfigMap or Secret volumes)\n".into();
    }
    files
        .iter()
        .map(|(path, content)| format!("    {path}: {content:?}\n"))
        .collect()
}

/// The content of file `path` in the container, or a failure listing what it sees.
async fn file_content(
    w: &mut World,
    path: &str,
    container: &str,
    pod: &str,
) -> Result<String, String> {
    let files = files_of(w, container, pod).await?;
    match files.iter().find(|(p, _)| p == path) {
        Some((_, content)) => Ok(content.clone()),
        None => Err(format!(
            "container \"{container}\" of pod \"{pod}\" has no file {path}; it sees:\n{}",
            file_listing(&files)
        )),
    }
}

async fn file_is(w: &mut World, args: Args) -> StepResult {
    let (path, container, pod) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let want = args.string(3)?.replace("\\n", "\n");
    let got = file_content(w, &path, &container, &pod).await?;
    if got == want {
        return Ok(());
    }
    Err(format!(
        "{path} in container \"{container}\" of pod \"{pod}\" has content {got:?}, expected {want:?}"
    ))
}

async fn file_is_doc(w: &mut World, args: Args) -> StepResult {
    let (path, container, pod) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let want = args.docstring()?;
    let got = file_content(w, &path, &container, &pod).await?;
    let want = want.trim_end_matches('\n');
    if got.trim_end_matches('\n') == want {
        return Ok(());
    }
    Err(format!(
        "{path} in container \"{container}\" of pod \"{pod}\" has content {got:?}, expected {want:?}"
    ))
}

async fn file_contains(w: &mut World, args: Args) -> StepResult {
    let (path, container, pod) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let want = args.string(3)?;
    let got = file_content(w, &path, &container, &pod).await?;
    if got.contains(&want) {
        return Ok(());
    }
    Err(format!(
        "{path} in container \"{container}\" of pod \"{pod}\" does not contain {want:?}; its content is {got:?}"
    ))
}

async fn file_absent(w: &mut World, args: Args) -> StepResult {
    let (container, pod, path) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let files = files_of(w, &container, &pod).await?;
    match files.iter().find(|(p, _)| *p == path) {
        None => Ok(()),
        Some((_, content)) => Err(format!(
            "container \"{container}\" of pod \"{pod}\" has {path} with content {content:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::split_reason;

    #[test]
    fn an_event_text_is_a_reason_then_a_message_fragment() {
        assert_eq!(
            split_reason("Unhealthy: Readiness probe failed: HTTP probe failed"),
            ("Unhealthy", "Readiness probe failed: HTTP probe failed")
        );
        assert_eq!(split_reason("Killing"), ("Killing", ""));
        assert_eq!(
            split_reason("BackOff Back-off restarting"),
            ("BackOff", "Back-off restarting")
        );
    }
}

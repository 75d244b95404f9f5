//! Steps describing how images behave, since a simulated cluster cannot run them.

use crate::registry::{Args, StepDef, StepResult};
use crate::step;
use crate::world::World;
use kubespec_harness::{ImageChange, ProbeEndpoint};

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            "image {string} starts in {duration}",
            "Containers of this image are running (and ready, without probes) this long after the kubelet starts them. Default: 1 second.",
            r#"Given image "web:v2" starts in 5 seconds"#,
            starts_in
        ),
        step!(
            Given,
            "image {string} stops in {duration}",
            "Containers of this image take this long to exit after SIGTERM (capped by the grace period). Default: 1 second.",
            r#"Given image "web:v1" stops in 10 seconds"#,
            stops_in
        ),
        step!(
            Given,
            "image {string} crashes on start",
            "Containers of this image exit with code 1 as soon as they start; the kubelet restarts them with back-off; never ready.",
            r#"Given image "web:bad" crashes on start"#,
            crashes
        ),
        step!(
            Given,
            "image {string} exits with code {int} after {duration}",
            "Containers of this image run this long, then exit with this code.",
            r#"Given image "job:v1" exits with code 0 after 30 seconds"#,
            exits_after
        ),
        step!(
            Given,
            "image {string} cannot be pulled",
            "Pulling this image fails: ErrImagePull, then ImagePullBackOff; never started.",
            r#"Given image "web:typo" cannot be pulled"#,
            cannot_be_pulled
        ),
        step!(
            Given,
            "image {string} becomes ready {duration} after start",
            "The application's readiness endpoint passes this long after its process starts (readiness probes fail until then).",
            r#"Given image "web:v2" becomes ready 20 seconds after start"#,
            ready_after
        ),
        step!(
            Given,
            "image {string} never becomes ready",
            "The application's readiness endpoint never passes: with a readiness probe, the pod is never Ready.",
            r#"Given image "web:bad" never becomes ready"#,
            never_ready
        ),
        step!(
            Given,
            "image {string} becomes unhealthy {duration} after start",
            "The application's liveness endpoint fails from this long after its process starts.",
            r#"Given image "web:leaky" becomes unhealthy 30 seconds after start"#,
            unhealthy_after
        ),
        step!(
            Given,
            "image {string} takes {duration} to start up",
            "The application answers no probe (connection refused) until this long after its process starts.",
            r#"Given image "db:v1" takes 2 minutes to start up"#,
            startup_takes
        ),
        step!(
            Given,
            "image {string} exits with code {int} {duration} after start",
            "Containers of this image run this long, then exit with this code (as `exits with code … after …`).",
            r#"Given image "job:v1" exits with code 0 10 seconds after start"#,
            exits_after_start
        ),
        step!(
            Given,
            "image {string} crashes {duration} after start",
            "Containers of this image exit with code 1 this long after they start; the kubelet restarts them with back-off.",
            r#"Given image "web:flaky" crashes 5 seconds after start"#,
            crashes_after
        ),
        step!(
            Given,
            "image {string} has entrypoint {string}",
            "The image's ENTRYPOINT: a JSON array (in single quotes) or words separated by spaces. A container's `command` replaces it.",
            r#"Given image "nginx:1.27" has entrypoint '["/docker-entrypoint.sh"]'"#,
            entrypoint
        ),
        step!(
            Given,
            "image {string} has cmd {string}",
            "The image's CMD: a JSON array (in single quotes) or words separated by spaces. A container's `args` replaces it, and so does a `command`.",
            r#"Given image "nginx:1.27" has cmd '["nginx", "-g", "daemon off;"]'"#,
            cmd
        ),
        step!(
            Given,
            "image {string} answers {string} with status {int}",
            "The application answers this path with this HTTP status code, whatever its endpoints say: an httpGet probe passes on 2xx, passes with a ProbeWarning on 3xx, and fails otherwise.",
            r#"Given image "web:v1" answers "/healthz" with status 500"#,
            answers
        ),
        step!(
            Given,
            "image {string} redirects {string} to {string}",
            "The application answers this path (with its query) with 302 Found to this location. An httpGet probe follows a redirect to the same host; one to another host is not followed, and the probe passes with a ProbeWarning event.",
            r#"Given image "agnhost:2.53" redirects "/redirect?loc=%2Fhealthz" to "/healthz""#,
            redirects
        ),
        step!(
            Given,
            "image {string} becomes unready on SIGTERM",
            "When its pod is deleted, the application makes its readiness endpoint fail while it winds down (a SIGTERM trap that removes its ready file); readiness probes go on during termination and see it.",
            r#"Given image "agnhost:2.53" becomes unready on SIGTERM"#,
            unready_on_sigterm
        ),
        step!(
            Given,
            "image {string} becomes unhealthy on SIGTERM",
            "When its pod is deleted, the application makes its liveness endpoint fail while it winds down; the kubelet stops liveness probes of a terminating pod, so this kills nothing.",
            r#"Given image "agnhost:2.53" becomes unhealthy on SIGTERM"#,
            unhealthy_on_sigterm
        ),
    ]
}

async fn change(w: &mut World, image: String, c: ImageChange) -> StepResult {
    w.backend()
        .set_image_behaviour(&image, c)
        .await
        .map_err(|e| e.to_string())
}

async fn starts_in(w: &mut World, args: Args) -> StepResult {
    change(w, args.string(0)?, ImageChange::StartsIn(args.duration(1)?)).await
}

async fn stops_in(w: &mut World, args: Args) -> StepResult {
    change(w, args.string(0)?, ImageChange::StopsIn(args.duration(1)?)).await
}

async fn crashes(w: &mut World, args: Args) -> StepResult {
    change(w, args.string(0)?, ImageChange::CrashesOnStart).await
}

async fn exits_after(w: &mut World, args: Args) -> StepResult {
    let code = i32::try_from(args.int(1)?).map_err(|_| "exit code out of range".to_string())?;
    change(
        w,
        args.string(0)?,
        ImageChange::ExitsAfter(args.duration(2)?, code),
    )
    .await
}

async fn cannot_be_pulled(w: &mut World, args: Args) -> StepResult {
    change(w, args.string(0)?, ImageChange::CannotBePulled).await
}

async fn ready_after(w: &mut World, args: Args) -> StepResult {
    change(
        w,
        args.string(0)?,
        ImageChange::ReadyAfter(args.duration(1)?),
    )
    .await
}

async fn never_ready(w: &mut World, args: Args) -> StepResult {
    change(w, args.string(0)?, ImageChange::NeverReady).await
}

async fn unhealthy_after(w: &mut World, args: Args) -> StepResult {
    change(
        w,
        args.string(0)?,
        ImageChange::UnhealthyAfter(args.duration(1)?),
    )
    .await
}

async fn startup_takes(w: &mut World, args: Args) -> StepResult {
    change(
        w,
        args.string(0)?,
        ImageChange::StartupTakes(args.duration(1)?),
    )
    .await
}

async fn exits_after_start(w: &mut World, args: Args) -> StepResult {
    exits_after(w, args).await
}

async fn crashes_after(w: &mut World, args: Args) -> StepResult {
    change(
        w,
        args.string(0)?,
        ImageChange::ExitsAfter(args.duration(1)?, 1),
    )
    .await
}

async fn answers(w: &mut World, args: Args) -> StepResult {
    let path = args.string(1)?;
    if !path.starts_with('/') {
        return Err(format!(
            "path {path:?} must start with \"/\", as an httpGet probe's path does"
        ));
    }
    let code = args.int(2)?;
    let code = u16::try_from(code)
        .ok()
        .filter(|c| (100..=599).contains(c))
        .ok_or_else(|| format!("{code} is not an HTTP status code (100 to 599)"))?;
    change(w, args.string(0)?, ImageChange::Answers(path, code)).await
}

async fn redirects(w: &mut World, args: Args) -> StepResult {
    let (path, location) = (args.string(1)?, args.string(2)?);
    if !path.starts_with('/') {
        return Err(format!(
            "redirect path {path:?} must start with \"/\", as an httpGet probe's path does"
        ));
    }
    change(w, args.string(0)?, ImageChange::Redirects(path, location)).await
}

async fn unready_on_sigterm(w: &mut World, args: Args) -> StepResult {
    let c = ImageChange::FailsOnSigterm(ProbeEndpoint::Readiness);
    change(w, args.string(0)?, c).await
}

async fn unhealthy_on_sigterm(w: &mut World, args: Args) -> StepResult {
    let c = ImageChange::FailsOnSigterm(ProbeEndpoint::Liveness);
    change(w, args.string(0)?, c).await
}

/// A command line as a spec writes it: a JSON array of strings, or words separated by spaces.
pub(crate) fn argv(text: &str) -> Result<Vec<String>, String> {
    let t = text.trim();
    if t.starts_with('[') {
        return serde_json::from_str::<Vec<String>>(t).map_err(|err| {
            format!("{text:?} is not a JSON array of strings ({err}); write it as '[\"sh\", \"-c\", \"echo hi\"]' or as words")
        });
    }
    Ok(t.split_whitespace().map(str::to_string).collect())
}

async fn entrypoint(w: &mut World, args: Args) -> StepResult {
    let argv = argv(&args.string(1)?)?;
    change(w, args.string(0)?, ImageChange::Entrypoint(argv)).await
}

async fn cmd(w: &mut World, args: Args) -> StepResult {
    let argv = argv(&args.string(1)?)?;
    change(w, args.string(0)?, ImageChange::Cmd(argv)).await
}

#[cfg(test)]
mod tests {
    use super::argv;

    #[test]
    fn a_command_line_is_a_json_array_or_words() {
        assert_eq!(
            argv(r#"["sh", "-c", "echo hi"]"#).unwrap(),
            ["sh", "-c", "echo hi"]
        );
        assert_eq!(argv("nginx -g  x").unwrap(), ["nginx", "-g", "x"]);
        assert!(
            argv(r#"["sh", 1]"#)
                .unwrap_err()
                .contains("not a JSON array of strings")
        );
    }
}

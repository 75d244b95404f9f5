//! Steps describing how images behave, since a simulated cluster cannot run them.

use crate::registry::{Args, StepDef, StepResult};
use crate::step;
use crate::world::World;
use kubespec_harness::ImageChange;

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

//! Steps that let time pass.

use crate::registry::{Args, StepDef, StepResult};
use crate::step;
use crate::world::World;

pub(crate) fn steps() -> Vec<StepDef> {
    vec![
        step!(
            When,
            "{duration} pass",
            "Processes everything due up to and including now + duration.",
            "When 30 seconds pass",
            pass
        ),
        step!(
            When,
            "{duration} passes",
            "Same as `{duration} pass`.",
            "When 1 minute passes",
            pass
        ),
        step!(
            When,
            "I wait {duration}",
            "Same as `{duration} pass`.",
            "When I wait 90s",
            pass
        ),
    ]
}

async fn pass(w: &mut World, args: Args) -> StepResult {
    let d = args.duration(0)?;
    w.backend().advance(d).await.map_err(|e| e.to_string())
}

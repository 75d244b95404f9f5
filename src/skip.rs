//! Scenarios a backend cannot run are reported as skipped, with the reason, rather than failed.
//! See [`BackendSkips`].
//!
//! A step whose backend returned `Unsupported` panics with a [`Skip`] payload (see
//! `kubespec_steps::step!`). This writer turns that failure into a skipped step before the
//! report writers see it, and prints the reason; cucumber then skips the scenario's remaining
//! steps. It sits inside `fail_on_skipped`, so a step that matches no definition still fails.

use cucumber::event::{self, Cucumber, Feature, RetryableScenario, Rule, Scenario, Step};
use cucumber::{Event, World, Writer, parser};
use kubespec_steps::registry::Skip;

/// Wraps a writer; see the module documentation.
pub struct BackendSkips<W> {
    writer: W,
}

impl<W> BackendSkips<W> {
    pub fn new(writer: W) -> Self {
        BackendSkips { writer }
    }
}

/// The reason, when a step failed with a [`Skip`].
fn skip_reason<Wo>(step: &Step<Wo>) -> Option<String> {
    match step {
        Step::Failed(_, _, _, event::StepError::Panic(info)) => {
            info.downcast_ref::<Skip>().map(|s| s.0.clone())
        }
        _ => None,
    }
}

fn map_scenario<Wo>(
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
    ev: Scenario<Wo>,
) -> Scenario<Wo> {
    let report = |reason: &str| {
        let file = feature
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        eprintln!(
            "skipped: {file}:{}: scenario \"{}\": {reason}",
            scenario.position.line, scenario.name
        );
    };
    match ev {
        Scenario::Step(st, step) => match skip_reason(&step) {
            Some(reason) => {
                report(&reason);
                Scenario::Step(st, Step::Skipped)
            }
            None => Scenario::Step(st, step),
        },
        Scenario::Background(st, step) => match skip_reason(&step) {
            Some(reason) => {
                report(&reason);
                Scenario::Background(st, Step::Skipped)
            }
            None => Scenario::Background(st, step),
        },
        other => other,
    }
}

impl<Wo: World, Wr: Writer<Wo>> Writer<Wo> for BackendSkips<Wr> {
    type Cli = Wr::Cli;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<event::Cucumber<Wo>>>,
        cli: &Self::Cli,
    ) {
        let event = event.map(|outer| {
            outer.map(|ev| match ev {
                Cucumber::Feature(
                    f,
                    Feature::Scenario(sc, RetryableScenario { event, retries }),
                ) => {
                    let event = map_scenario(&f, &sc, event);
                    Cucumber::Feature(
                        f,
                        Feature::Scenario(sc, RetryableScenario { event, retries }),
                    )
                }
                Cucumber::Feature(
                    f,
                    Feature::Rule(r, Rule::Scenario(sc, RetryableScenario { event, retries })),
                ) => {
                    let event = map_scenario(&f, &sc, event);
                    Cucumber::Feature(
                        f,
                        Feature::Rule(r, Rule::Scenario(sc, RetryableScenario { event, retries })),
                    )
                }
                other => other,
            })
        });
        self.writer.handle_event(event, cli).await;
    }
}

/// The traits a cucumber writer wrapper (with the wrapped writer in field `writer`) passes
/// through: `Arbitrary`, `Stats` and `Normalized`.
macro_rules! forward_writer {
    ($wrapper:ident) => {
        impl<Wo, Wr, Val> cucumber::writer::Arbitrary<Wo, Val> for $wrapper<Wr>
        where
            Wo: cucumber::World,
            Self: cucumber::Writer<Wo>,
            Wr: cucumber::writer::Arbitrary<Wo, Val>,
        {
            async fn write(&mut self, val: Val) {
                self.writer.write(val).await;
            }
        }

        impl<Wo, Wr> cucumber::writer::Stats<Wo> for $wrapper<Wr>
        where
            Wr: cucumber::writer::Stats<Wo>,
            Self: cucumber::Writer<Wo>,
        {
            fn passed_steps(&self) -> usize {
                self.writer.passed_steps()
            }

            fn skipped_steps(&self) -> usize {
                self.writer.skipped_steps()
            }

            fn failed_steps(&self) -> usize {
                self.writer.failed_steps()
            }

            fn retried_steps(&self) -> usize {
                self.writer.retried_steps()
            }

            fn parsing_errors(&self) -> usize {
                self.writer.parsing_errors()
            }

            fn hook_errors(&self) -> usize {
                self.writer.hook_errors()
            }

            fn execution_has_failed(&self) -> bool {
                self.writer.execution_has_failed()
            }
        }

        impl<Wr: cucumber::writer::Normalized> cucumber::writer::Normalized for $wrapper<Wr> {}
    };
}
pub(crate) use forward_writer;

forward_writer!(BackendSkips);

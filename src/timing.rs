//! How long each scenario took, printed when it finishes. See [`ScenarioTimes`].
//!
//! The console gets one line per scenario on standard error, next to the `skipped:` lines:
//!
//! ```text
//! time: features/x.feature:12: scenario "one up, one down": 35.2ms wall, 10m 0s virtual
//! ```
//!
//! Wall time runs from the scenario's start event to its finish event (hooks included). The
//! virtual time is what the scenario's clock covered on a backend with one (memory, a served
//! engine); the `after` hook hands it over through [`record_virtual`]. The JUnit report has
//! each scenario's wall time as its test case's `time`, and the JSON report each step's
//! `duration` (cucumber's writers, from the event timestamps).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use cucumber::event::{self, Cucumber, Feature, RetryableScenario, Rule, Scenario};
use cucumber::gherkin;
use cucumber::{Event, World, Writer, parser};

type Key = (String, usize, usize, String);

fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Key {
    (
        feature
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        scenario.position.line,
        scenario.position.col,
        scenario.name.clone(),
    )
}

fn virtual_times() -> &'static Mutex<HashMap<Key, Duration>> {
    static TIMES: OnceLock<Mutex<HashMap<Key, Duration>>> = OnceLock::new();
    TIMES.get_or_init(Default::default)
}

/// The virtual time `scenario` covered; printed when it finishes.
pub fn record_virtual(feature: &gherkin::Feature, scenario: &gherkin::Scenario, virt: Duration) {
    virtual_times()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key(feature, scenario), virt);
}

/// A virtual duration as people read it: `850ms`, `42s`, `10m 0s`, `2h 5m 0s`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Wraps a writer; see the module documentation.
pub struct ScenarioTimes<W> {
    writer: W,
    started: HashMap<Key, Instant>,
}

impl<W> ScenarioTimes<W> {
    pub fn new(writer: W) -> Self {
        ScenarioTimes {
            writer,
            started: HashMap::new(),
        }
    }

    fn see<Wo>(
        &mut self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        ev: &Scenario<Wo>,
    ) {
        match ev {
            Scenario::Started => {
                self.started.insert(key(feature, scenario), Instant::now());
            }
            Scenario::Finished => {
                let k = key(feature, scenario);
                let Some(start) = self.started.remove(&k) else {
                    return;
                };
                let wall = start.elapsed();
                let virt = virtual_times()
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&k);
                let virt = virt
                    .map(|v| format!(", {} virtual", human(v)))
                    .unwrap_or_default();
                eprintln!(
                    "time: {}:{}: scenario \"{}\": {wall:.1?} wall{virt}",
                    k.0, k.1, k.3
                );
            }
            _ => {}
        }
    }
}

impl<Wo: World, Wr: Writer<Wo>> Writer<Wo> for ScenarioTimes<Wr> {
    type Cli = Wr::Cli;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<event::Cucumber<Wo>>>,
        cli: &Self::Cli,
    ) {
        if let Ok(outer) = &event {
            match &outer.value {
                Cucumber::Feature(f, Feature::Scenario(sc, RetryableScenario { event, .. }))
                | Cucumber::Feature(
                    f,
                    Feature::Rule(_, Rule::Scenario(sc, RetryableScenario { event, .. })),
                ) => self.see(f, sc, event),
                _ => {}
            }
        }
        self.writer.handle_event(event, cli).await;
    }
}

crate::skip::forward_writer!(ScenarioTimes);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(42_000)), "42.0s");
        assert_eq!(human(Duration::from_secs(600)), "10m 0s");
        assert_eq!(human(Duration::from_secs(7500)), "2h 5m 0s");
    }
}

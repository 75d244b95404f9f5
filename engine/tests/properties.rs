//! Property tests of the Deployment controller: random sequences of user actions (image changes,
//! scales, pauses, resumes, undos, strategy edits, time passing) on one Deployment, with the
//! controller's invariants checked at every settled instant. See [`deployment_invariants_hold`].
//!
//! A failure prints the shrunk [`Case`]: the cluster seed, the Deployment's initial shape and the
//! action list, which together replay the run exactly (the engine is deterministic). Set
//! `PROPTEST_RNG_SEED` to explore other inputs than the fixed default.

mod common;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubespec_engine::controllers::deployment::util;
use kubespec_engine::{Cluster, ClusterConfig, Millis, ObjectKey};
use proptest::prelude::*;
use std::collections::VecDeque;

// ---------------------------------------------------------------------------- generated input

/// A maxSurge or maxUnavailable value.
#[derive(Clone, Copy, Debug)]
enum Bound {
    Int(i32),
    Percent(i32),
}

impl Bound {
    fn is_zero(self) -> bool {
        matches!(self, Bound::Int(0) | Bound::Percent(0))
    }

    fn to_int_or_string(self) -> IntOrString {
        match self {
            Bound::Int(i) => IntOrString::Int(i),
            Bound::Percent(p) => IntOrString::String(format!("{p}%")),
        }
    }
}

/// The Deployment's strategy. Type switches are not generated (see [`Action::SetRollingUpdate`]).
#[derive(Clone, Copy, Debug)]
enum Plan {
    Recreate,
    RollingUpdate {
        max_surge: Bound,
        max_unavailable: Bound,
    },
}

impl Plan {
    fn to_strategy(self) -> DeploymentStrategy {
        match self {
            Plan::Recreate => DeploymentStrategy {
                type_: Some("Recreate".into()),
                rolling_update: None,
            },
            Plan::RollingUpdate {
                max_surge,
                max_unavailable,
            } => DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(max_surge.to_int_or_string()),
                    max_unavailable: Some(max_unavailable.to_int_or_string()),
                }),
            },
        }
    }
}

/// One thing a user does.
#[derive(Clone, Debug)]
enum Action {
    /// `kubectl set image` to a never-seen image (`web:v2`, `web:v3`, …) whose containers take
    /// `start_ms` to start.
    SetImage { start_ms: u64 },
    /// `kubectl scale --replicas`.
    Scale(i32),
    /// `kubectl rollout pause`.
    Pause,
    /// `kubectl rollout resume`.
    Resume,
    /// `kubectl rollout undo --to-revision` (0 = the previous revision). kubectl refuses some
    /// (paused, unknown revision); a refusal is part of the scenario, not a failure.
    Undo(i64),
    /// Edit maxSurge/maxUnavailable. Only applied to a RollingUpdate Deployment.
    ///
    /// NOTE: switching the strategy *type* is deliberately not generated. Upstream's `sync`
    /// (sync.go) scales proportionally only for RollingUpdate, and `isScalingEvent` keeps routing
    /// every sync to `sync`, so a RollingUpdate→Recreate switch in the middle of a rollout
    /// (two active ReplicaSets) followed by a scale never progresses again. The engine does the
    /// same (checked by hand: replicas 4, maxSurge 1, image change, switch to Recreate, scale to
    /// 6 → stuck at 4 old / 1 new for an hour), which is fidelity, not a bug to test for.
    SetRollingUpdate {
        max_surge: Bound,
        max_unavailable: Bound,
    },
    /// Let virtual time pass.
    Wait { ms: u64 },
}

/// The generated input of one test case.
#[derive(Clone, Debug)]
struct Case {
    /// `ClusterConfig::seed`: uids and pod-name suffixes.
    seed: u64,
    replicas: i32,
    plan: Plan,
    /// Start time of the first image (`web:v1`).
    first_start_ms: u64,
    actions: Vec<Action>,
}

fn bound() -> impl Strategy<Value = Bound> {
    prop_oneof![
        (0..=3i32).prop_map(Bound::Int),
        (0..=100i32).prop_map(Bound::Percent)
    ]
}

/// maxSurge and maxUnavailable, never both zero (validation refuses that).
fn rolling_bounds() -> impl Strategy<Value = (Bound, Bound)> {
    (bound(), bound()).prop_filter("maxSurge and maxUnavailable may not both be 0", |(s, u)| {
        !(s.is_zero() && u.is_zero())
    })
}

fn plan() -> impl Strategy<Value = Plan> {
    prop_oneof![
        1 => Just(Plan::Recreate),
        3 => rolling_bounds().prop_map(|(max_surge, max_unavailable)| Plan::RollingUpdate { max_surge, max_unavailable }),
    ]
}

fn start_ms() -> impl Strategy<Value = u64> {
    0..=20_000u64
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => start_ms().prop_map(|start_ms| Action::SetImage { start_ms }),
        2 => (0..=12i32).prop_map(Action::Scale),
        1 => Just(Action::Pause),
        1 => Just(Action::Resume),
        1 => (0..=6i64).prop_map(Action::Undo),
        1 => rolling_bounds().prop_map(|(max_surge, max_unavailable)| Action::SetRollingUpdate { max_surge, max_unavailable }),
        4 => (0..60_000u64).prop_map(|ms| Action::Wait { ms }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        0..=12i32,
        plan(),
        start_ms(),
        prop::collection::vec(action(), 1..40),
    )
        .prop_map(|(seed, replicas, plan, first_start_ms, actions)| Case {
            seed,
            replicas,
            plan,
            first_start_ms,
            actions,
        })
}

// ---------------------------------------------------------------------------- the invariants

/// What the invariants read at one settled instant.
#[derive(Clone, Debug)]
struct Snapshot {
    at: Millis,
    /// Σ spec.replicas over the Deployment's ReplicaSets.
    total: i32,
    /// Σ status.availableReplicas over the Deployment's ReplicaSets.
    available: i32,
    /// spec.replicas of the Deployment.
    replicas: i32,
    /// `util::max_surge` / `util::max_unavailable` of the live Deployment (0 for Recreate).
    surge: i32,
    unavailable: i32,
    rolling: bool,
    paused: bool,
    /// The Deployment's revision annotation (0 when absent).
    revision: i64,
    /// The highest revision annotation over its ReplicaSets.
    max_rs_revision: i64,
    /// (name, spec.replicas, available) per ReplicaSet, for failure reports.
    sets: Vec<(String, i32, i32)>,
}

fn snapshot(c: &Cluster, key: &ObjectKey) -> Snapshot {
    let d = &c.store.deployments[key];
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let rss = c.store.replicasets_owned_by(&uid);
    let sets = rss
        .iter()
        .map(|rs| {
            (
                rs.metadata.name.clone().unwrap_or_default(),
                util::rs_replicas(rs),
                util::rs_available(rs),
            )
        })
        .collect();
    let revision = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(util::REVISION_ANNOTATION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Snapshot {
        at: c.now(),
        total: util::replica_count(&rss),
        available: util::available_replica_count(&rss),
        replicas: util::replicas(d),
        surge: util::max_surge(d),
        unavailable: util::max_unavailable(d),
        rolling: util::is_rolling_update(d),
        paused: d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false),
        revision,
        max_rs_revision: util::max_revision(&rss),
        sets,
    }
}

/// Checks the invariants at every settled instant and keeps the first violation.
struct Invariants {
    key: ObjectKey,
    prev: Option<Snapshot>,
    /// Set by a user action that lets proportional scaling remove pods, cleared when the
    /// Deployment next reports complete: the availability floor does not apply in between (see
    /// [`Invariants::user_acted`]).
    scaled_down: bool,
    /// Σ ReplicaSet spec.replicas left above `replicas + maxSurge` by a user lowering maxSurge;
    /// the total may stay there and only shrink (see invariant 1 of [`Invariants::check`]).
    overhang: Option<i32>,
    /// The last snapshots, for the failure report.
    recent: VecDeque<Snapshot>,
    violation: Option<String>,
}

impl Invariants {
    fn new(key: ObjectKey) -> Self {
        Invariants {
            key,
            prev: None,
            scaled_down: false,
            overhang: None,
            recent: VecDeque::new(),
            violation: None,
        }
    }

    /// Called after each user action, before the cluster reacts to it. Suspends the
    /// availability floor when the action lets the controller remove pods without regard to
    /// their availability:
    ///
    /// - spec.replicas decreased (a scale-down), or
    /// - `replicas + maxSurge` is now below Σ ReplicaSet spec.replicas. Upstream's `scale`
    ///   (sync.go) resizes every active ReplicaSet proportionally to `replicas + maxSurge` on a
    ///   scaling event *and on every sync of a paused Deployment*, so lowering maxSurge in the
    ///   middle of a rollout and pausing (in either order), or lowering maxSurge by more than a
    ///   scale-up adds, removes available old pods. Example: replicas 10, maxSurge 4,
    ///   maxUnavailable 1, old 9 (available) / new 5 (starting); set maxSurge 0 and pause →
    ///   allowed 10, to remove 4 → old 6 / new 4: 6 available, below the floor of 9. The engine
    ///   does exactly what upstream does; the floor is upstream's promise for rollouts only.
    fn user_acted(&mut self, c: &Cluster) {
        let d = &c.store.deployments[&self.key];
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let total = util::replica_count(&c.store.replicasets_owned_by(&uid));
        let replicas = util::replicas(d);
        let before = self.prev.as_ref().map_or(replicas, |p| p.replicas);
        let allowed = replicas + util::max_surge(d);
        if replicas < before || allowed < total {
            self.scaled_down = true;
        }
        // A change of spec.replicas is a scaling event: the controller resizes to `allowed` at
        // once. Anything else (a lowered maxSurge) may leave the surge above the bound.
        self.overhang = (replicas == before && total > allowed).then_some(total);
    }

    /// Checks one settled instant against the previous one. Returns whether a violation is
    /// known (so that `run_until_condition` stops at the first one).
    ///
    /// The invariants, with `t'` the previous settled instant and all values read at `t`:
    ///
    /// 1. **Surge.** `total(t) ≤ replicas(t) + maxSurge(t)`, where `total` is Σ ReplicaSet
    ///    spec.replicas. This is the bound `NewRSNewReplicas` enforces on every scale-up of the
    ///    new ReplicaSet, and the one proportional scaling (`scale` in sync.go) reaches exactly
    ///    on a scaling event (`allowedSize = replicas + maxSurge`), so equality is allowed, and
    ///    it holds at once after a scale in either direction. One exception, from upstream: when
    ///    the user lowers maxSurge (no scaling event), a surge already above the new bound is
    ///    not shrunk, only no longer added to; until the total is back within the bound it may
    ///    only shrink (`total(t) ≤ total(t')`). Recreate has maxSurge 0.
    /// 2. **Availability floor** (RollingUpdate only; Recreate kills every old pod by design).
    ///    `available(t) ≥ min(available(t'), replicas(t) − maxUnavailable(t))`: the controller
    ///    never takes availability below the floor, and never lowers it while it is already
    ///    below (after a scale-up or a lowered maxUnavailable, the floor is above the available
    ///    pods until new ones start). Pods never fail by themselves here (no crashing image, no
    ///    node loss), so only the controller removes available pods. Suspended from a user
    ///    action that lets proportional scaling shrink the Deployment until it next reports
    ///    complete ([`Invariants::user_acted`]): proportional scaling removes pods from every
    ///    active ReplicaSet regardless of their availability, upstream too. Otherwise the floor
    ///    applies while paused too.
    /// 3. **Revisions.** The Deployment's revision annotation and the highest ReplicaSet revision
    ///    never decrease (history clean-up deletes the *oldest* revisions first).
    fn check(&mut self, c: &Cluster) -> bool {
        if self.violation.is_some() {
            return true;
        }
        let now = snapshot(c, &self.key);
        if c.deployment_complete(&self.key) {
            self.scaled_down = false;
        }
        let mut problems = Vec::new();
        if let Some(prev) = &self.prev {
            let surge_bound = now.replicas + now.surge;
            let allowed = surge_bound.max(self.overhang.unwrap_or(surge_bound));
            if now.total > allowed {
                problems.push(format!(
                    "surge: Σ ReplicaSet spec.replicas = {} > replicas + maxSurge = {} + {}{}",
                    now.total,
                    now.replicas,
                    now.surge,
                    self.overhang
                        .map(|o| format!(" (left at {o} by a lowered maxSurge)"))
                        .unwrap_or_default()
                ));
            }
            self.overhang = self
                .overhang
                .filter(|_| now.total > surge_bound)
                .map(|_| now.total);
            let floor = now.replicas - now.unavailable;
            if now.rolling && !self.scaled_down && now.available < floor.min(prev.available) {
                problems.push(format!(
                    "availability: {} available < min(previously available {}, replicas − maxUnavailable = {} − {})",
                    now.available, prev.available, now.replicas, now.unavailable
                ));
            }
            if now.revision < prev.revision {
                problems.push(format!(
                    "revision: the Deployment's revision went from {} to {}",
                    prev.revision, now.revision
                ));
            }
            if now.max_rs_revision < prev.max_rs_revision {
                problems.push(format!(
                    "revision: the highest ReplicaSet revision went from {} to {}",
                    prev.max_rs_revision, now.max_rs_revision
                ));
            }
        }
        // Several checks fall on one instant (one per action); keep the history readable.
        let same = |a: &Snapshot, b: &Snapshot| {
            (a.at, a.total, a.available, a.replicas, a.revision, &a.sets)
                == (b.at, b.total, b.available, b.replicas, b.revision, &b.sets)
        };
        if !self.recent.back().is_some_and(|last| same(last, &now)) {
            if self.recent.len() == 12 {
                self.recent.pop_front();
            }
            self.recent.push_back(now.clone());
        }
        self.prev = Some(now);
        if !problems.is_empty() {
            self.violation = Some(format!(
                "at {}: {}\n{}",
                c.now(),
                problems.join("; "),
                self.history()
            ));
        }
        self.violation.is_some()
    }

    fn history(&self) -> String {
        let mut out = String::from("recent settled instants (oldest first):\n");
        for s in &self.recent {
            out.push_str(&format!(
                "  {} replicas={} surge={} unavailable={} paused={} total={} available={} rev={} maxRsRev={} sets={:?}\n",
                s.at, s.replicas, s.surge, s.unavailable, s.paused, s.total, s.available, s.revision, s.max_rs_revision, s.sets
            ));
        }
        out
    }
}

// ---------------------------------------------------------------------------- the run

fn deployment(case: &Case) -> Deployment {
    let mut d = kubespec_engine::kubectl::simple_deployment("web", case.replicas, "web:v1");
    if let Some(spec) = d.spec.as_mut() {
        spec.strategy = Some(case.plan.to_strategy());
    }
    d
}

/// Runs to `until`, checking at every settled instant; stops at the first violation.
fn advance(c: &mut Cluster, inv: &mut Invariants, until: Millis) -> Result<(), TestCaseError> {
    c.run_until_condition(until, |c| inv.check(c));
    match &inv.violation {
        Some(v) => Err(TestCaseError::fail(v.clone())),
        None => Ok(()),
    }
}

fn set_paused(c: &mut Cluster, key: &ObjectKey, paused: bool) {
    c.update_deployment(key, |d| {
        d.spec.get_or_insert_with(Default::default).paused = Some(paused)
    })
    .expect("pause/resume is valid");
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let mut c = Cluster::new(ClusterConfig {
        seed: case.seed,
        ..Default::default()
    });
    c.images
        .update("web:v1", |b| b.start = Millis(case.first_start_ms));
    let key = c
        .apply_deployment(deployment(case))
        .expect("the generated Deployment is valid");
    let mut inv = Invariants::new(key.clone());
    let mut images = 1;
    for action in &case.actions {
        match *action {
            Action::SetImage { start_ms } => {
                images += 1;
                let image = format!("web:v{images}");
                c.images.update(&image, |b| b.start = Millis(start_ms));
                c.set_deployment_image(&key, "web", &image)
                    .expect("set image");
            }
            Action::Scale(n) => {
                c.update_deployment(&key, |d| {
                    d.spec.get_or_insert_with(Default::default).replicas = Some(n)
                })
                .expect("scale");
            }
            Action::Pause => set_paused(&mut c, &key, true),
            Action::Resume => set_paused(&mut c, &key, false),
            Action::Undo(to) => {
                let _ = c.undo_deployment(&key, to);
            }
            Action::SetRollingUpdate {
                max_surge,
                max_unavailable,
            } => {
                if util::is_rolling_update(&c.store.deployments[&key]) {
                    c.update_deployment(&key, |d| {
                        d.spec.get_or_insert_with(Default::default).strategy = Some(
                            Plan::RollingUpdate {
                                max_surge,
                                max_unavailable,
                            }
                            .to_strategy(),
                        )
                    })
                    .expect("valid rolling update parameters");
                }
            }
            Action::Wait { .. } => {}
        }
        inv.user_acted(&c);
        let wait = if let Action::Wait { ms } = action {
            *ms
        } else {
            0
        };
        let until = c.now() + Millis(wait);
        advance(&mut c, &mut inv, until)?;
    }

    // The rollout completes once the user stops acting.
    set_paused(&mut c, &key, false);
    let limit = c.now() + Millis::from_secs(3600);
    let complete = c.run_until_condition(limit, |c| inv.check(c) || c.deployment_complete(&key));
    if let Some(v) = &inv.violation {
        return Err(TestCaseError::fail(v.clone()));
    }
    prop_assert!(
        complete,
        "the rollout did not complete within an hour after the last action (at {})\n{}",
        c.now(),
        inv.history()
    );

    let d = &c.store.deployments[&key];
    let want_image = util::template(d)
        .spec
        .and_then(|s| s.containers.first().and_then(|c| c.image.clone()));
    let st = d.status.clone().unwrap_or_default();
    let replicas = util::replicas(d);
    prop_assert_eq!(
        (
            st.updated_replicas.unwrap_or(0),
            st.available_replicas.unwrap_or(0)
        ),
        (replicas, replicas),
        "status.updatedReplicas and availableReplicas must equal spec.replicas once complete"
    );
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let mut running: Vec<(String, Option<String>)> = Vec::new();
    for rs in c.store.replicasets_owned_by(&uid) {
        let rs_uid = rs.metadata.uid.clone().unwrap_or_default();
        for p in c
            .store
            .pods_owned_by(&rs_uid)
            .filter(|p| p.metadata.deletion_timestamp.is_none())
        {
            let image = p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone());
            running.push((p.metadata.name.clone().unwrap_or_default(), image));
        }
    }
    prop_assert_eq!(
        running.len(),
        replicas as usize,
        "non-terminating pods once complete: {:?}",
        running
    );
    for (pod, image) in &running {
        prop_assert_eq!(
            image,
            &want_image,
            "pod {} runs an image other than the template's",
            pod
        );
    }
    Ok(())
}

fn config() -> ProptestConfig {
    common::proptest_config(0x6b75_6265_7370_6563)
}

proptest! {
    #![proptest_config(config())]

    /// The Deployment controller's invariants over random user actions; see [`Invariants::check`]
    /// and, for the end state, [`run`].
    #[test]
    fn deployment_invariants_hold(case in case()) {
        run(&case).map_err(|e| match e {
            TestCaseError::Fail(why) => TestCaseError::fail(format!("cluster seed {}: {why}", case.seed)),
            other => other,
        })?;
    }
}

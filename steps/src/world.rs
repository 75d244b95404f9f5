//! The World: one per scenario. It holds the backend and what earlier steps left for later ones.

#[cfg(feature = "cluster")]
use kubespec_harness::cluster::{ClusterBackend, Target};
use kubespec_harness::{Backend, MemoryBackend};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which backend scenarios run on.
#[derive(Clone, Default)]
pub enum BackendKind {
    /// The in-memory engine, on virtual time.
    #[default]
    Memory,
    /// The cluster backend: a namespace per scenario on a cluster (or a served engine per
    /// scenario in process, [`Target::InProcess`]).
    #[cfg(feature = "cluster")]
    Cluster(Target),
}

impl std::fmt::Debug for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendKind::Memory => f.write_str("Memory"),
            #[cfg(feature = "cluster")]
            BackendKind::Cluster(Target::External(c)) => write!(f, "Cluster({c:?})"),
            #[cfg(feature = "cluster")]
            BackendKind::Cluster(Target::InProcess { .. }) => f.write_str("Cluster(in process)"),
        }
    }
}

/// Settings of a `kubespec run`, applied to each scenario's World before its first step.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    pub backend: BackendKind,
    /// Mixed with the feature path and scenario name, so every scenario has its own seed and a
    /// scenario's result does not depend on which others run.
    pub seed: u64,
}

/// How long a Given step waits for what it created to settle.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(600);

pub struct World {
    backend: Option<Box<dyn Backend>>,
    seed: u64,
    /// The feature file and its folder, for manifest paths and error positions.
    pub(crate) feature_path: Option<PathBuf>,
    pub(crate) feature_dir: Option<PathBuf>,
    /// The outcome of the last `I try to …` step: the success message or the refusal.
    pub(crate) last_attempt: Option<Result<String, String>>,
    /// Why the runner skips this scenario before it starts (a `@memory-only` or
    /// `@cluster-only` tag): its first step reports the skip instead of running.
    skip: Option<String>,
    /// When the scenario started (wall clock), for the report's durations.
    started: Option<std::time::Instant>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = self
            .backend
            .as_ref()
            .map(|b| b.name())
            .unwrap_or("unconfigured");
        write!(f, "World {{ backend: {backend}, seed: {} }}", self.seed)
    }
}

impl cucumber::World for World {
    type Error = std::convert::Infallible;

    async fn new() -> Result<Self, Self::Error> {
        Ok(World {
            backend: None,
            seed: 0,
            feature_path: None,
            feature_dir: None,
            last_attempt: None,
            skip: None,
            started: None,
        })
    }
}

impl World {
    /// Configures the World for one scenario (called by the runner's `before` hook). On the
    /// cluster backend this creates the scenario's namespace and starts its watches.
    ///
    /// # Errors
    ///
    /// The cluster backend cannot start (the cluster cannot be reached, refuses the namespace).
    pub async fn configure(
        &mut self,
        cfg: &RunConfig,
        feature: &cucumber::gherkin::Feature,
        scenario: &cucumber::gherkin::Scenario,
    ) -> Result<(), String> {
        let path = feature.path.clone().unwrap_or_default();
        self.seed = mix_seed(
            cfg.seed,
            &path.to_string_lossy(),
            &scenario.name,
            scenario.position.line,
        );
        self.feature_dir = path.parent().map(Path::to_path_buf);
        self.feature_path = Some(path);
        self.started = Some(std::time::Instant::now());
        self.backend = Some(match &cfg.backend {
            BackendKind::Memory => Box::new(MemoryBackend::with_seed(self.seed)),
            #[cfg(feature = "cluster")]
            BackendKind::Cluster(target) => Box::new(
                ClusterBackend::start(target, &scenario.name, self.seed)
                    .await
                    .map_err(|e| e.to_string())?,
            ),
        });
        Ok(())
    }

    /// Ends the scenario (called by the runner's `after` hook, also after a failure): the
    /// cluster backend deletes the scenario's namespace.
    ///
    /// # Errors
    ///
    /// The backend could not clean up.
    /// Skips the scenario with `reason` instead of configuring a backend: no namespace is made,
    /// and the first step reports the skip (see [`crate::registry::Skip`]).
    pub fn skip_scenario(&mut self, reason: String) {
        self.skip = Some(reason);
    }

    /// The skip set by [`World::skip_scenario`], once. Not public API: used by `step!`.
    #[doc(hidden)]
    pub fn take_scenario_skip(&mut self) -> Option<String> {
        self.skip.take()
    }

    /// How long the scenario took: wall time since [`World::configure`], and the virtual time
    /// it covered on a backend with a virtual clock (memory, a served engine).
    pub async fn durations(&mut self) -> Option<(Duration, Option<Duration>)> {
        let wall = self.started?.elapsed();
        let backend = self.backend.as_mut()?;
        let virt = if backend.name() == "cluster" {
            None
        } else {
            Some(backend.elapsed().await)
        };
        Some((wall, virt))
    }

    pub async fn finish(&mut self) -> Result<(), String> {
        match self.backend.as_mut() {
            Some(b) => b.finish().await.map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// Why the backend could not do what the last step asked, if that was the reason it
    /// failed: the scenario is then skipped, not failed.
    #[doc(hidden)]
    pub fn take_unsupported_for_step(&mut self) -> Option<String> {
        self.backend.as_mut().and_then(|b| b.take_unsupported())
    }

    /// The backend (the in-memory one with seed 0 when the runner did not configure one).
    pub fn backend(&mut self) -> &mut dyn Backend {
        let seed = self.seed;
        self.backend
            .get_or_insert_with(|| Box::new(MemoryBackend::with_seed(seed)))
            .as_mut()
    }

    /// Resolves a manifest path: relative to the feature file first, then to the working
    /// directory.
    pub(crate) fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        if let Some(dir) = &self.feature_dir {
            let candidate = dir.join(p);
            if candidate.exists() {
                return candidate;
            }
        }
        p.to_path_buf()
    }
}

/// FNV-1a over the run seed and the scenario's identity.
fn mix_seed(seed: u64, path: &str, name: &str, line: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in path.bytes().chain(name.bytes()).chain(line.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

//! What the property tests share.

use proptest::test_runner::{Config as ProptestConfig, RngSeed};

/// 64 cases by default (PROPTEST_CASES runs more or fewer), from a fixed RNG seed so that runs
/// are deterministic like the engine (PROPTEST_RNG_SEED explores other inputs). The shrunk
/// input, with its cluster seed, is printed on failure and replays the run; nothing is written
/// next to the sources.
pub fn proptest_config(default_seed: u64) -> ProptestConfig {
    let base = ProptestConfig::default();
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64),
        rng_seed: match base.rng_seed {
            RngSeed::Random => RngSeed::Fixed(default_seed),
            seed => seed,
        },
        failure_persistence: None,
        ..base
    }
}

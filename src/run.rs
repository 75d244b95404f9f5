//! `kubespec run`: parse the features, report undefined steps with suggestions, then run every
//! scenario with cucumber and exit 0 only if all of them passed. See [`run`].
//!
//! cucumber is embedded with our own flags ("Pattern A": `.with_default_cli()` so it never
//! re-parses our argv), fed pre-parsed features through [`Preparsed`], and given the step table by
//! [`registry::register`] rather than by `inventory` (cucumber-rs issues #304 and #347).

use std::io::Write;

use cucumber::gherkin::{Feature, Rule, Scenario};
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Stats as _};
use cucumber::{WriterExt as _, runner};
use futures::FutureExt as _;
use kubespec_steps::registry;
use kubespec_steps::{RunConfig, World};

use crate::RunArgs;
use crate::error::{CliError, Result};
use crate::features::{self, Preparsed};

/// The controllers features can run by name (`Given the controller "…" is running`).
fn register_controllers() {
    kubespec_harness::controllers::register("configmap-watcher", |client| {
        Box::pin(async move { configmap_watcher::run(client, None).await })
    });
}

pub fn run(args: RunArgs) -> Result<()> {
    register_controllers();
    let files = features::collect(&args.paths)?;

    let tags = args.tags.clone();
    let select = move |f: &Feature, r: Option<&Rule>, s: &Scenario| {
        tags.as_ref().is_none_or(|t| {
            t.eval(
                f.tags
                    .iter()
                    .chain(r.iter().flat_map(|r| &r.tags))
                    .chain(&s.tags),
            )
        })
    };

    // Parse everything first: a file that does not parse is reported and fails the run, but the
    // other files still run.
    let mut parsed = Vec::new();
    let mut failed = false;
    let mut stderr = std::io::stderr().lock();
    for file in &files {
        match features::parse(file) {
            Ok(f) => parsed.push(f),
            Err(problem) => {
                failed = true;
                let _ = writeln!(stderr, "{problem}");
            }
        }
    }
    // Undefined steps are also failed by cucumber below (`fail_on_skipped`); reporting them here
    // adds the file, the line and the closest known step. An expanded Scenario Outline repeats
    // its steps once per Examples row: each report is printed once.
    let mut reported = std::collections::HashSet::new();
    for (feature, file) in parsed
        .iter()
        .filter_map(|f| f.path.as_deref().map(|p| (f, p)))
    {
        for site in features::steps(file, feature, &select) {
            if let Some(report) = features::undefined_report(&site)
                && reported.insert(report.clone())
            {
                let _ = writeln!(stderr, "{report}");
            }
        }
    }
    drop(stderr);

    let junit = open_report("--junit", args.junit.as_deref())?;
    let json = open_report("--json", args.json.as_deref())?;
    let coloring = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        writer::Coloring::Never
    } else {
        writer::Coloring::Auto
    };
    let config = RunConfig {
        backend: args.backend.into(),
        seed: args.seed,
    };

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let run_failed = rt.block_on(async move {
        let writer = writer::Basic::raw(std::io::stdout(), coloring, args.verbose.min(2))
            .summarized()
            .tee::<World, _>(writer::JUnit::for_tee(junit, 0))
            .tee::<World, _>(writer::Json::for_tee(json))
            .normalized();
        let mut cucumber = cucumber::Cucumber::<World, _, _, _, _, cucumber::cli::Empty>::custom(
            Preparsed,
            runner::Basic::default(),
            writer,
        )
        // Each scenario gets a fresh World; it must know the backend and seed before its
        // first step, and which scenario it is (for traces and messages).
        .before(move |feature, _rule, scenario, world: &mut World| {
            world.configure(&config, feature, scenario);
            async {}.boxed_local()
        });
        if let Some(n) = args.concurrency {
            cucumber = cucumber.max_concurrent_scenarios(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if args.fail_fast {
            cucumber = cucumber.fail_fast();
        }
        let cucumber = registry::register(cucumber)
            .fail_on_skipped()
            .with_default_cli();
        let result = cucumber.filter_run(parsed, select).await;
        result.execution_has_failed()
    });

    if failed || run_failed {
        Err(CliError::Failed)
    } else {
        Ok(())
    }
}

/// The report file for `flag`, or a sink when the flag is not given.
fn open_report(flag: &'static str, path: Option<&std::path::Path>) -> Result<Box<dyn Write>> {
    match path {
        None => Ok(Box::new(std::io::sink())),
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| CliError::Create {
                    what: flag,
                    path: p.to_path_buf(),
                    source,
                })?;
            }
            let f = std::fs::File::create(p).map_err(|source| CliError::Create {
                what: flag,
                path: p.to_path_buf(),
                source,
            })?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
    }
}

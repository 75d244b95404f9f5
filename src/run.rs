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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let (backend, one_at_a_time, started) = rt.block_on(backend_kind(&args))?;
    let keep_cluster = args.keep_cluster;
    let backend_name = clap::ValueEnum::to_possible_value(&args.backend)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    let config = RunConfig {
        backend,
        seed: args.seed,
    };

    let run_failed = rt.block_on(async move {
        let writer = crate::timing::ScenarioTimes::new(crate::skip::BackendSkips::new(
            writer::Basic::raw(std::io::stdout(), coloring, args.verbose.min(2))
                .summarized()
                .tee::<World, _>(writer::JUnit::for_tee(junit, 0))
                .tee::<World, _>(writer::Json::for_tee(json))
                .normalized(),
        ));
        let mut cucumber = cucumber::Cucumber::<World, _, _, _, _, cucumber::cli::Empty>::custom(
            Preparsed,
            runner::Basic::default(),
            writer,
        )
        // Each scenario gets a fresh World; it must know the backend and seed before its
        // first step, and which scenario it is (for traces and messages).
        .before(move |feature, rule, scenario, world: &mut World| {
            let config = config.clone();
            // `@memory-only` / `@cluster-only`: skipped before anything is made.
            let tagged = crate::tags::backend_skip(
                feature
                    .tags
                    .iter()
                    .chain(rule.iter().flat_map(|r| &r.tags))
                    .chain(&scenario.tags),
                &backend_name,
            );
            async move {
                if let Some(reason) = tagged {
                    world.skip_scenario(reason);
                } else if let Err(e) = world.configure(&config, feature, scenario).await {
                    std::panic::panic_any(e);
                }
            }
            .boxed_local()
        })
        // Also after a failure: the cluster backend deletes the scenario's namespace.
        .after(
            |feature, _rule, scenario, _finished, world: Option<&mut World>| {
                async move {
                    if let Some(w) = world {
                        if let Some((_, Some(virt))) = w.durations().await {
                            crate::timing::record_virtual(feature, scenario, virt);
                        }
                        if let Err(e) = w.finish().await {
                            eprintln!("warning: {e}");
                        }
                    }
                }
                .boxed_local()
            },
        );
        if let Some(n) = args.concurrency {
            cucumber = cucumber.max_concurrent_scenarios(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if one_at_a_time {
            cucumber = cucumber.max_concurrent_scenarios(1);
        }
        if args.fail_fast {
            cucumber = cucumber.fail_fast();
        }
        let cucumber = registry::register(cucumber)
            .fail_on_skipped()
            .with_default_cli();
        let run = cucumber.filter_run(parsed, select);
        // Ctrl-C: the scenarios in flight never reach their `after` hook; their namespaces
        // are deleted here before exiting.
        tokio::select! {
            result = run => Some(result.execution_has_failed()),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(run_failed) = run_failed else {
        #[cfg(feature = "cluster")]
        match rt.block_on(kubespec_harness::cluster::cleanup::delete_live()) {
            Ok(names) if !names.is_empty() => {
                eprintln!("interrupted: deleted cluster-scoped {}", names.join(", "))
            }
            Ok(_) => {}
            Err(e) => eprintln!("interrupted: {e}"),
        }
        #[cfg(feature = "cluster")]
        match rt.block_on(kubespec_harness::cluster::namespace::delete_live()) {
            Ok(names) if !names.is_empty() => {
                eprintln!("interrupted: deleted namespaces {}", names.join(", "))
            }
            Ok(_) => {}
            Err(e) => eprintln!("interrupted: {e}"),
        }
        if let Some(started) = started {
            started.finish(keep_cluster);
        }
        return Err(CliError::Interrupted);
    };
    if let Some(started) = started {
        started.finish(keep_cluster);
    }

    if failed || run_failed {
        Err(CliError::Failed)
    } else {
        Ok(())
    }
}

/// A cluster kubespec started for this run (`--backend kind|k3s|kwok`); the container goes
/// when this is dropped, unless `--keep-cluster`.
pub(crate) struct Started {
    cluster: kubespec_launch::Cluster,
    kubeconfig: std::path::PathBuf,
}

impl Started {
    /// The end of the run: keep the cluster and say how to reach it, or remove it.
    fn finish(mut self, keep: bool) {
        let name = self.cluster.flavor.name();
        if keep {
            let id = self.cluster.keep().unwrap_or_default();
            eprintln!(
                "kept the {name} cluster (container {id}); kubeconfig: {}",
                self.kubeconfig.display()
            );
        } else {
            let _ = std::fs::remove_file(&self.kubeconfig);
            eprintln!("removing the {name} cluster");
        }
    }
}

/// The backend scenarios run on, whether they must run one at a time (an external
/// `kubespec serve` engine has one virtual clock, which concurrent scenarios would move under
/// each other's feet), and the cluster started for the run, if any.
async fn backend_kind(
    args: &RunArgs,
) -> Result<(kubespec_steps::BackendKind, bool, Option<Started>)> {
    use kubespec_steps::BackendKind;
    match args.backend {
        crate::Backend::Memory => Ok((BackendKind::Memory, false, None)),
        #[cfg(feature = "cluster")]
        crate::Backend::Served => Ok((
            BackendKind::Cluster(kubespec_harness::cluster::Target::InProcess {
                keep_namespaces: args.keep_namespaces,
            }),
            false,
            None,
        )),
        #[cfg(feature = "cluster")]
        crate::Backend::Cluster => {
            let opts = kubespec_harness::cluster::ConnectOptions {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
                allow_contexts: args.allow_context.clone(),
                keep_namespaces: args.keep_namespaces,
                plain: args.plain_cluster,
                no_containers: false,
                agnhost_all_images: args.agnhost_images == crate::AgnhostImages::All,
            };
            let (kind, one_at_a_time) = external(&opts, args).await?;
            Ok((kind, one_at_a_time, None))
        }
        #[cfg(feature = "cluster")]
        crate::Backend::Kind | crate::Backend::K3s | crate::Backend::Kwok => {
            use kubespec_launch::Flavor;
            let flavor = match args.backend {
                crate::Backend::Kind => Flavor::Kind,
                crate::Backend::K3s => Flavor::K3s,
                _ => Flavor::Kwok,
            };
            let mut options = kubespec_launch::Options::new(flavor);
            options.kubernetes_version = args.kubernetes_version.clone();
            options.image = args.image.clone();
            let cluster = kubespec_launch::launch(&options, &|line| eprintln!("{line}"))
                .await
                .map_err(|e| CliError::Cluster(e.to_string()))?;
            let kubeconfig = std::env::temp_dir().join(format!(
                "kubespec-{}-{}.kubeconfig",
                flavor.name(),
                std::process::id()
            ));
            std::fs::write(&kubeconfig, &cluster.kubeconfig)
                .map_err(|e| CliError::Cluster(format!("writing {}: {e}", kubeconfig.display())))?;
            let started = Started {
                cluster,
                kubeconfig: kubeconfig.clone(),
            };
            // kubespec started this context, so it is allowed by name.
            let opts = kubespec_harness::cluster::ConnectOptions {
                kubeconfig: Some(kubeconfig),
                context: Some(format!("kubespec-{}", flavor.name())),
                allow_contexts: Vec::new(),
                keep_namespaces: args.keep_namespaces,
                plain: false,
                // kwok's nodes run no containers: image behaviour cannot be acted out there.
                no_containers: flavor == Flavor::Kwok,
                agnhost_all_images: args.agnhost_images == crate::AgnhostImages::All,
            };
            let (kind, one_at_a_time) = external(&opts, args).await?;
            Ok((kind, one_at_a_time, Some(started)))
        }
    }
}

/// Connects to a cluster through a kubeconfig: a real one, or a `kubespec serve` engine,
/// which must have its clock frozen.
#[cfg(feature = "cluster")]
async fn external(
    opts: &kubespec_harness::cluster::ConnectOptions,
    args: &RunArgs,
) -> Result<(kubespec_steps::BackendKind, bool)> {
    use kubespec_harness::cluster;
    use kubespec_steps::BackendKind;
    let conn = cluster::connect(opts)
        .await
        .map_err(|e| CliError::Cluster(e.to_string()))?;
    // An unreachable cluster fails the run here, before any scenario, with the context's name
    // and the client's error; a silent one within 30 s.
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        cluster::served::reach(&conn.client),
    )
    .await
    .map_err(|_| {
        CliError::Cluster(format!(
            "context {:?}: the cluster did not answer within 30s",
            conn.context
        ))
    })?
    .map_err(|e| {
        CliError::Cluster(format!(
            "context {:?}: the cluster cannot be reached: {e}",
            conn.context
        ))
    })?;
    // --plain-cluster: a served engine is any other cluster, its clock the wall clock.
    let probe = probe.filter(|_| !opts.plain);
    if let Some(info) = &probe
        && info.time_scale > 0.0
    {
        return Err(CliError::Cluster(format!(
            "context {:?} is a kubespec serve engine whose virtual time follows the wall \
             clock (time scale {}); start it with --time-scale 0 so that scenarios move \
             time themselves",
            conn.context, info.time_scale
        )));
    }
    let served = probe.is_some();
    if served && args.concurrency.is_some_and(|n| n > 1) {
        eprintln!(
            "note: context {:?} is a kubespec serve engine with one virtual clock: \
             scenarios run one at a time",
            conn.context
        );
    }
    Ok((
        BackendKind::Cluster(cluster::Target::External(conn)),
        served,
    ))
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

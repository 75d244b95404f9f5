//! The `kubespec` command: run Gherkin specs about Kubernetes workloads, list the step vocabulary,
//! lint features without running them, and benchmark the engine.
//!
//! See [`Command`] for the subcommands; each lives in its own module. Exit codes: 0 success,
//! 1 a failed scenario or check, 2 a usage error (bad flag, missing path).

mod bench;
mod bench_hpa;
mod bench_serve;
mod check;
mod error;
mod features;
mod run;
mod serve;
mod skip;
mod steps_cmd;
mod tags;
mod timing;

/// mimalloc: the engine allocates and frees many small objects (pods, events, keys); glibc's
/// allocator spends a large share of a big rollout consolidating free lists.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use cucumber::gherkin::tagexpr::TagOperation;

use crate::error::CliError;

#[derive(Debug, Parser)]
#[command(
    name = "kubespec",
    version,
    about = "Gherkin specs about Kubernetes workloads, run against an in-memory cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run feature files (or folders of them) and report each scenario.
    Run(RunArgs),
    /// List every step phrase with a description and an example.
    Steps {
        /// Print a Markdown table instead (for the docs).
        #[arg(long)]
        markdown: bool,
    },
    /// Lint features without running them: undefined steps, invalid manifests, Gherkin errors.
    Check {
        /// Feature files or folders (searched recursively for *.feature).
        #[arg(default_value = "features")]
        paths: Vec<PathBuf>,
    },
    /// Time a full RollingUpdate of one Deployment at several sizes on the in-memory engine.
    Bench {
        /// One JSON object per size and line, instead of a table.
        #[arg(long)]
        json: bool,
        /// Replica counts to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "100,1000,10000",
              value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        sizes: Vec<u32>,
        /// Processes per size; the run with the median rollout time is reported, with the
        /// fastest and slowest.
        #[arg(long, default_value_t = 5,
              value_parser = clap::value_parser!(u32).range(1..=100))]
        runs: u32,
        /// Leave out the probe-heavy case (1,000 pods, three probes each every second, ten
        /// minutes of cluster time).
        #[arg(long)]
        skip_probes: bool,
        /// Leave out the StatefulSet case (OrderedReady, 0 -> 1,000 -> 0 replicas).
        #[arg(long)]
        skip_statefulset: bool,
        /// Leave out the autoscaling case (50 Deployments with an HPA each, one hour of cluster
        /// time under a ramped load).
        #[arg(long)]
        skip_hpa: bool,
    },
    /// Serve the engine as a Kubernetes API server (for kubectl and controllers), on a
    /// loopback port by default.
    Serve(serve::ServeArgs),
    /// Load on `kubespec serve` over loopback: watch streams plus paced gets and patches;
    /// prints latency percentiles, checks every watch stream, samples memory (a soak is a
    /// longer --duration).
    BenchServe(bench_serve::BenchServeArgs),
    /// One benchmark size, run by `bench` in a child process so peak RSS is per size.
    #[command(hide = true)]
    BenchOne {
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        replicas: u32,
        /// The probe-heavy case instead of a rolling update.
        #[arg(long)]
        probes: bool,
        /// The StatefulSet case instead of a rolling update.
        #[arg(long)]
        statefulset: bool,
        /// The autoscaling case (`--replicas` is the number of Deployments) instead of a
        /// rolling update.
        #[arg(long)]
        hpa: bool,
    },
}

/// `--agnhost-images`: which images run agnhost on a real cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum AgnhostImages {
    /// Images a behaviour step describes.
    #[default]
    Described,
    /// Every image, with the engine's default behaviour where no step describes it.
    All,
}

/// Which cluster the steps talk to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The in-memory engine: virtual time, deterministic.
    #[default]
    Memory,
    /// A cluster from a kubeconfig (--kubeconfig, --context): a namespace per scenario. A
    /// `kubespec serve` engine there honours every step; a real cluster skips behaviour steps.
    #[cfg(feature = "cluster")]
    Cluster,
    /// The cluster backend against a served engine of each scenario's own, in process.
    #[cfg(feature = "cluster")]
    Served,
    /// A kind node started for this run through testcontainers (build with `--features
    /// containers`; needs a Docker engine).
    #[cfg(feature = "cluster")]
    Kind,
    /// A k3s server started for this run through testcontainers.
    #[cfg(feature = "cluster")]
    K3s,
    /// A kwok cluster started for this run through testcontainers: a real API server and
    /// controllers, simulated nodes.
    #[cfg(feature = "cluster")]
    Kwok,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Feature files or folders (searched recursively for *.feature).
    #[arg(default_value = "features")]
    pub paths: Vec<PathBuf>,
    /// The cluster to run against.
    #[arg(long, value_enum, default_value_t = Backend::Memory)]
    pub backend: Backend,
    /// Only scenarios whose tags (with their feature's and rule's) satisfy this expression,
    /// e.g. `@smoke and not @slow`.
    #[arg(long, short = 't')]
    pub tags: Option<TagOperation>,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Cucumber JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Seed for every random choice the backend makes (pod names, uids).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How many scenarios run at once (default: 64).
    #[arg(long, short = 'c', value_parser = clap::value_parser!(u64).range(1..))]
    pub concurrency: Option<u64>,
    /// Stop at the first failed scenario.
    #[arg(long)]
    pub fail_fast: bool,
    /// More output: -v shows docstrings and tables of failed steps, -vv of every step.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// --backend cluster: the kubeconfig (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// --backend cluster: the context to use (default: the kubeconfig's current context).
    /// Naming a context allows kubespec to create and delete namespaces there.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// --backend cluster: allow contexts whose name matches this pattern (`*` matches any
    /// text); repeatable. Without it, only `--context` and kubespec's own contexts are used.
    #[arg(long, value_name = "PATTERN")]
    pub allow_context: Vec<String>,
    /// --backend cluster or served: keep each scenario's namespace for debugging.
    #[arg(long)]
    pub keep_namespaces: bool,
    /// --backend cluster: treat the cluster as a real one even when it is a `kubespec serve`
    /// engine: wall-clock time, and image behaviour acted out by agnhost (start the engine
    /// with --time-scale 1).
    #[arg(long)]
    pub plain_cluster: bool,
    /// --backend cluster|kind|k3s: which images run the e2e test image agnhost, acting out
    /// their behaviour: `described` (images a step describes) or `all` (every image: for
    /// suites whose images are names, such as kubespec's own `features/`).
    #[arg(long, value_enum, default_value = "described", value_name = "WHICH")]
    pub agnhost_images: AgnhostImages,
    /// --backend kind|k3s|kwok: the Kubernetes version of the cluster started.
    #[arg(long, value_name = "X.Y.Z", default_value = kubespec_launch::DEFAULT_KUBERNETES_VERSION)]
    pub kubernetes_version: String,
    /// --backend kind|k3s|kwok: the image to start instead of the version's.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// --backend kind|k3s|kwok: leave the cluster running after the run; its kubeconfig is
    /// printed.
    #[arg(long)]
    pub keep_cluster: bool,
}

fn main() -> ExitCode {
    // `try_parse` + `exit` gives clap's own messages, exit code 2 for usage errors and 0 for
    // --help / --version.
    let cli = Cli::try_parse().unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Steps { markdown } => steps_cmd::steps(markdown),
        Command::Check { paths } => check::check(&paths),
        Command::Serve(args) => serve::serve(args),
        Command::BenchServe(args) => bench_serve::bench_serve(args),
        Command::Bench {
            json,
            sizes,
            runs,
            skip_probes,
            skip_statefulset,
            skip_hpa,
        } => bench::bench(&sizes, runs as usize, json)
            .and_then(|()| {
                if skip_probes {
                    Ok(())
                } else {
                    bench::bench_probes(runs as usize, json)
                }
            })
            .and_then(|()| {
                if skip_statefulset {
                    Ok(())
                } else {
                    bench::bench_statefulset(runs as usize, json)
                }
            })
            .and_then(|()| {
                if skip_hpa {
                    Ok(())
                } else {
                    bench_hpa::bench_hpa(runs as usize, json)
                }
            }),
        Command::BenchOne {
            replicas,
            probes,
            statefulset,
            hpa,
        } => {
            if statefulset {
                bench::bench_one_statefulset(replicas)
            } else if hpa {
                bench_hpa::bench_one_hpa(replicas)
            } else if probes {
                bench::bench_one_probes(replicas)
            } else {
                bench::bench_one(replicas)
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            // `Failed` has already been reported, scenario by scenario or problem by problem.
            if !matches!(e, CliError::Failed) {
                eprintln!("{:?}", miette::Report::new(e));
            }
            ExitCode::from(code)
        }
    }
}

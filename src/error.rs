//! The CLI's errors and their exit codes: 2 for a usage error, 1 for everything else.

use std::path::PathBuf;

pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CliError {
    /// Something was reported already (failed scenarios, check problems); exit 1 quietly.
    #[error("failed")]
    Failed,

    #[error("{path}: no such file or directory")]
    #[diagnostic(
        code(kubespec::usage),
        help("give a .feature file or a folder that contains some")
    )]
    MissingPath { path: PathBuf },

    #[error("no .feature files found in {}", .paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    #[diagnostic(code(kubespec::usage))]
    NoFeatures { paths: Vec<PathBuf> },

    #[error("cannot read {path}")]
    #[diagnostic(code(kubespec::io))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot create {what} {path}")]
    #[diagnostic(code(kubespec::usage))]
    Create {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot start the async runtime")]
    #[diagnostic(code(kubespec::io))]
    Runtime(#[source] std::io::Error),

    /// `kubespec serve` was given something it cannot use (a manifest, an address).
    #[error("{0}")]
    #[diagnostic(code(kubespec::usage))]
    ServeUsage(String),

    /// `kubespec serve` failed while running.
    #[error("{0}")]
    #[diagnostic(code(kubespec::serve))]
    Serve(String),

    /// Ctrl-C during `run`: the scenarios' namespaces were deleted.
    #[error("interrupted")]
    #[diagnostic(code(kubespec::interrupted))]
    Interrupted,

    /// The cluster backend cannot start: unreachable cluster, refused context, bad kubeconfig.
    #[cfg(feature = "cluster")]
    #[error("{0}")]
    #[diagnostic(code(kubespec::cluster))]
    Cluster(String),

    #[error("benchmark with {replicas} replicas: {message}")]
    #[diagnostic(code(kubespec::bench))]
    Bench { replicas: u32, message: String },
}

impl CliError {
    /// 2 for bad input on the command line, 130 for an interrupted run (as a shell reports
    /// SIGINT), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Interrupted => 130,
            CliError::MissingPath { .. }
            | CliError::NoFeatures { .. }
            | CliError::Create { .. }
            | CliError::ServeUsage(_) => 2,
            CliError::Failed
            | CliError::Read { .. }
            | CliError::Runtime(_)
            | CliError::Serve(_)
            | CliError::Bench { .. } => 1,
            #[cfg(feature = "cluster")]
            CliError::Cluster(_) => 1,
        }
    }
}

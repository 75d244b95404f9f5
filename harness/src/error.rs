//! Errors of backend operations.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// The API server refused the request; the message is the server's.
    #[error("{0}")]
    Api(String),
    /// kubectl refused the request on the client side (`error: ` is added when printed).
    #[error("{0}")]
    Kubectl(String),
    #[error("{kind} \"{name}\" not found")]
    NotFound { kind: String, name: String },
    /// Boxed: a manifest error carries its source position and is far larger than the rest.
    #[error(transparent)]
    Manifest(Box<crate::manifest::ManifestError>),
    /// The backend cannot do this (e.g. image behaviour on a real cluster).
    #[error("{0}")]
    Unsupported(String),
    /// What the backend returned does not read as expected.
    #[error("{0}")]
    Backend(String),
}

impl From<crate::manifest::ManifestError> for Error {
    fn from(e: crate::manifest::ManifestError) -> Self {
        Error::Manifest(Box::new(e))
    }
}

impl From<kubespec_engine::ApiError> for Error {
    fn from(e: kubespec_engine::ApiError) -> Self {
        Error::Api(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

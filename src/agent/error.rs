//! Errors of the agent and its container runtimes.

use bollard::errors::Error as BollardError;

/// Why a runtime operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be reached at all.
    #[error("cannot reach the Docker engine: {0}; is dockerd running and is DOCKER_HOST right?")]
    Connect(#[source] BollardError),
    /// The engine answered with an error (or its stream broke).
    #[error("docker {op} failed: {}", engine_message(.source))]
    Engine {
        /// The operation (`create container`, `start`, ...).
        op: &'static str,
        /// The engine's error, kept so callers branch on its HTTP status, not on its text.
        #[source]
        source: bollard::errors::Error,
    },
    /// The image is absent and the pull failed.
    #[error(
        "image {image} is not on this node and could not be pulled: {reason}; build or load it on every node"
    )]
    ImageUnavailable {
        /// The image reference.
        image: String,
        /// Why the pull failed.
        reason: String,
    },
    /// An `external: true` network the task joins does not exist.
    #[error(
        "external network {0} does not exist on this node: create it (docker network create {0}) or drop `external: true`"
    )]
    ExternalNetworkMissing(String),
    /// An `external: true` volume the task mounts does not exist.
    #[error(
        "external volume {0} does not exist on this node: create it (docker volume create {0}) or drop `external: true`"
    )]
    ExternalVolumeMissing(String),
    /// A bind mount's source is not on the node; swarm never creates host paths.
    #[error(
        "bind source path does not exist: {0}; create it on the node (a stack never creates host paths)"
    )]
    BindSourceMissing(String),
    /// The container (or object) does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The spec cannot be turned into a container.
    #[error("invalid task spec: {0}")]
    InvalidSpec(String),
    /// Writing a secret or config file on the node failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl RuntimeError {
    /// Whether the object asked about does not exist: the sim's `NotFound`, or the engine's
    /// HTTP 404 ("No such container", "network ... not found").
    pub fn is_not_found(&self) -> bool {
        match self {
            RuntimeError::NotFound(_) => true,
            RuntimeError::Engine { source, .. } => engine_status(source) == Some(404),
            _ => false,
        }
    }

    /// The engine's own message of an `Engine` error (what its Display shows after the op).
    pub fn engine_message(&self) -> Option<String> {
        match self {
            RuntimeError::Engine { source, .. } => Some(engine_message(source)),
            _ => None,
        }
    }
}

/// Maps an engine error of operation `op`, keeping the engine's error as the source.
pub(super) fn engine(op: &'static str) -> impl Fn(BollardError) -> RuntimeError {
    move |source| RuntimeError::Engine { op, source }
}

/// The HTTP status of an engine error, if it was one.
pub(super) fn engine_status(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The engine's own message when there is one (bollard's display adds noise).
pub(super) fn engine_message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.clone(),
        BollardError::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

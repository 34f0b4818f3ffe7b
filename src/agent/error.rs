//! Errors of the agent and its container runtimes.

/// Why a runtime operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be reached at all.
    #[error("cannot reach the Docker engine: {0}; is dockerd running and is DOCKER_HOST right?")]
    Connect(String),
    /// The engine answered with an error.
    #[error("docker {op} failed: {message}")]
    Engine {
        /// The operation (`create container`, `start`, ...).
        op: &'static str,
        /// The engine's message.
        message: String,
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

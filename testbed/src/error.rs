//! What can go wrong while building, driving or tearing down a testbed.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// A testbed failure; every variant says what was being done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The machine cannot host a testbed (not root, a tool missing).
    #[error("this machine cannot run a testbed: {0}")]
    Unsupported(String),
    /// A command could not be started at all.
    #[error("`{command}` could not run: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why it could not start.
        #[source]
        source: io::Error,
    },
    /// A command ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// A file or directory operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The host's Docker daemon configuration is not a JSON object.
    #[error("{path} is not a JSON object: {detail}")]
    DaemonConfig {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// Something did not happen before its deadline.
    #[error("timed out after {within:?}: {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it was awaited.
        within: Duration,
    },
    /// Every testbed slot is held by a running testbed.
    #[error("all {0} testbed slots are in use")]
    NoFreeSlot(u8),
    /// The caller asked for something the testbed does not have or cannot build.
    #[error("invalid testbed request: {0}")]
    Invalid(String),
    /// A node's engine exited before it answered.
    #[error("the engine of node {node} exited ({status}) before answering; its log ends:\n{log}")]
    EngineExited {
        /// The node.
        node: String,
        /// How dockerd exited.
        status: ExitStatus,
        /// The last lines of its log.
        log: String,
    },
}

/// Shorthand for testbed results.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}

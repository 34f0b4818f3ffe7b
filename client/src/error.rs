//! Client failures, phrased for the person at the terminal.

use serde_json::Value;

/// Why a request to the manager failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens at the address.
    #[error(
        "no swarm manager answers at {host} (start one with `swarmd up`, or set --host / SWARM_HOST)"
    )]
    Unreachable { host: String },
    /// The manager answered with an error; `message` and `details` are the server's.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Value,
    },
    /// The host is not a usable URL.
    #[error("--host `{host}` is not a valid URL: {reason}; use e.g. http://127.0.0.1:4242")]
    InvalidHost { host: String, reason: String },
    /// The connection failed midway or timed out.
    #[error("request to {host} failed: {reason}")]
    Http { host: String, reason: String },
    /// The answer was not what this client understands (a different swarm version?).
    #[error("unexpected answer from {host}: {reason}")]
    Decode { host: String, reason: String },
}

impl ClientError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

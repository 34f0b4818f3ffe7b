//! Client failures, phrased for the person at the terminal. A failure caused by another error
//! keeps it as its `source` (not flattened into the message), so `{:#}` or an error chain shows
//! both and a caller can still inspect the cause.

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
    /// The host is not a usable URL; `source` says why.
    #[error("--host `{host}` is not a usable manager URL (use e.g. http://127.0.0.1:4242)")]
    InvalidHost {
        host: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The connection failed midway or timed out.
    #[error("request to {host} failed")]
    Http {
        host: String,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not what this client understands (a different swarm version?).
    #[error("unexpected answer from {host}")]
    Decode {
        host: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A `--host` whose scheme this client does not speak.
#[derive(Debug, thiserror::Error)]
#[error("scheme `{0}` is not supported yet")]
pub struct UnsupportedScheme(pub String);

impl ClientError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use crate::{Client, ClientError, UnsupportedScheme};

    #[test]
    fn an_invalid_host_keeps_why_as_its_source() {
        let err = Client::new("https://127.0.0.1:4242").expect_err("https is not spoken");
        assert!(matches!(err, ClientError::InvalidHost { .. }), "{err}");
        let source = err.source().expect("a source");
        assert!(
            source.downcast_ref::<UnsupportedScheme>().is_some(),
            "{source}"
        );
        assert_eq!(source.to_string(), "scheme `https` is not supported yet");

        let err = Client::new("no scheme here").expect_err("not a URL");
        assert!(err.source().is_some_and(|s| !s.to_string().is_empty()));
    }
}

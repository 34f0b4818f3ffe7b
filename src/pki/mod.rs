//! The cluster's public-key infrastructure, after SwarmKit's model (issue 10 §3).
//!
//! - [`RootCa`]: made once by `swarmd init`; signs every node's certificate. Its certificate's
//!   digest is pinned by join tokens.
//! - [`NodeKey`] and [`NodeCertificate`]: a node makes its own key and sends a CSR; the CA
//!   signs it with CN = node id, OU = role, O = cluster id, and [`PeerIdentity::from_der`]
//!   reads those back out of a peer's certificate.
//! - [`JoinToken`] / [`JoinSecrets`]: `SWMTKN-1-<CA digest>-<secret>`, one secret per role;
//!   [`JoinToken::pin`] checks a presented CA before anything is sent to it.
//! - [`tls`]: rustls configs for node-to-node mutual TLS, with a [`tls::Refusals`] hook for
//!   removed nodes.
//! - [`files`]: where a node keeps this material in its data directory (keys mode 0600).
//!
//! The join handshake (later work) is: joiner parses the token, fetches the CA certificate,
//! [`JoinToken::pin`]s it, makes a [`NodeKey`] and CSR; a manager checks the token with
//! [`JoinSecrets::admit`] and signs with [`RootCa::issue`].

mod ca;
pub mod cluster;
pub mod files;
mod ids;
mod node;
pub mod tls;
mod token;

pub use ca::RootCa;
pub use ids::{new_cluster_id, new_node_id, new_raft_id, random_base36};
pub use node::{NodeCertificate, NodeKey, PeerIdentity};
pub use token::{JoinSecrets, JoinToken, TokenError, ca_digest};

use serde::{Deserialize, Serialize};

/// A node's role as its certificate states it (the OU); managers may call manager-only
/// endpoints, workers may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Manager,
    Worker,
}

impl Role {
    /// The OU (and the DNS name in the certificate's SANs), as SwarmKit writes it.
    pub const fn ou(self) -> &'static str {
        match self {
            Role::Manager => "swarm-manager",
            Role::Worker => "swarm-worker",
        }
    }

    /// The role an OU names.
    pub fn from_ou(ou: &str) -> Option<Role> {
        [Role::Manager, Role::Worker]
            .into_iter()
            .find(|role| role.ou() == ou)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Manager => "manager",
            Role::Worker => "worker",
        })
    }
}

impl std::str::FromStr for Role {
    type Err = PkiError;

    /// `manager` or `worker`.
    fn from_str(s: &str) -> Result<Role, PkiError> {
        match s {
            "manager" => Ok(Role::Manager),
            "worker" => Ok(Role::Worker),
            other => Err(PkiError::UnknownRole(other.to_owned())),
        }
    }
}

/// Why a PKI operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot generate or sign: {0}")]
    Crypto(#[from] rcgen::Error),
    #[error("the system's random generator failed")]
    Random,
    #[error("not a PEM {what}: {reason}")]
    Pem { what: &'static str, reason: String },
    #[error("cannot read the certificate: {0}")]
    Parse(String),
    #[error("the certificate has no {0}")]
    MissingField(&'static str),
    #[error("unknown role `{0}`: use manager or worker")]
    UnknownRole(String),
    #[error("{0}")]
    Token(#[from] token::TokenError),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("TLS client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Installs ring as rustls's process-wide crypto provider; later calls do nothing. Call it
/// before building any rustls config (the configs here call it too).
pub fn install_crypto_provider() {
    // Err means a provider is installed already (ours, by an earlier call): nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod cluster_tests;

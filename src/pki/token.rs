//! Join tokens, `SWMTKN-1-<digest of the root CA certificate>-<secret>` (SwarmKit's format):
//! the digest lets a joiner pin the CA before it trusts a manager; the secret, one per role,
//! proves to the manager that the joiner was invited, and as what.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ids::{base36, random_base36};
use super::{PkiError, Role};

const PREFIX: &str = "SWMTKN";
const VERSION: &str = "1";
/// Base-36 characters of a SHA-256 digest (2^256 < 36^50).
const DIGEST_LEN: usize = 50;
/// Base-36 characters of a 128-bit secret.
const SECRET_LEN: usize = 25;

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "not a join token: expected SWMTKN-1-<CA digest>-<secret>; copy it again from `swarmctl cluster join-token`"
    )]
    Malformed,
    #[error("join token version `{0}` is not supported (this swarmd reads version 1)")]
    Version(String),
    #[error("the join token's CA digest is malformed: expected {DIGEST_LEN} characters of 0-9a-z")]
    Digest,
    #[error("the join token's secret is malformed: expected {SECRET_LEN} characters of 0-9a-z")]
    Secret,
    #[error(
        "the manager's CA (digest {presented}) is not the one the join token pins ({pinned}): refusing to join; check the manager address and the token"
    )]
    CaMismatch { pinned: String, presented: String },
    #[error(
        "the manager presented no CA certificate to pin: it is not a swarm manager, or an older one; check the manager address"
    )]
    NoCaPresented,
    #[error("invalid join token: it was rotated, or it belongs to another cluster")]
    Refused,
}

/// The digest a token pins: SHA-256 of the CA certificate's DER, in base 36.
pub fn ca_digest(cert_der: &[u8]) -> String {
    base36(&Sha256::digest(cert_der), DIGEST_LEN)
}

/// A parsed join token.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinToken {
    ca_digest: String,
    secret: String,
}

impl fmt::Debug for JoinToken {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinToken")
            .field("ca_digest", &self.ca_digest)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for JoinToken {
    /// The token as users paste it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}-{VERSION}-{}-{}", self.ca_digest, self.secret)
    }
}

impl std::str::FromStr for JoinToken {
    type Err = TokenError;

    /// Parses `SWMTKN-1-<digest>-<secret>` (surrounding whitespace ignored).
    fn from_str(text: &str) -> Result<JoinToken, TokenError> {
        let parts: Vec<&str> = text.trim().split('-').collect();
        let [prefix, version, digest, secret] = parts.as_slice() else {
            return Err(TokenError::Malformed);
        };
        if *prefix != PREFIX {
            return Err(TokenError::Malformed);
        }
        if *version != VERSION {
            return Err(TokenError::Version((*version).to_owned()));
        }
        if !is_base36(digest, DIGEST_LEN) {
            return Err(TokenError::Digest);
        }
        if !is_base36(secret, SECRET_LEN) {
            return Err(TokenError::Secret);
        }
        Ok(JoinToken {
            ca_digest: (*digest).to_owned(),
            secret: (*secret).to_owned(),
        })
    }
}

impl JoinToken {
    /// The CA digest this token pins.
    pub fn ca_digest(&self) -> &str {
        &self.ca_digest
    }

    /// Checks the CA certificate (DER) a manager presents against the pinned digest. A joiner
    /// calls this before it sends the manager anything (its CSR, the secret).
    pub fn pin(&self, ca_cert_der: &[u8]) -> Result<(), TokenError> {
        let presented = ca_digest(ca_cert_der);
        if bool::from(presented.as_bytes().ct_eq(self.ca_digest.as_bytes())) {
            Ok(())
        } else {
            Err(TokenError::CaMismatch {
                pinned: self.ca_digest.clone(),
                presented,
            })
        }
    }
}

/// The current secret of each role's token, as the cluster stores them (replicated through
/// Raft, so every manager admits the same tokens).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinSecrets {
    pub worker: String,
    pub manager: String,
}

impl fmt::Debug for JoinSecrets {
    /// Never prints the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinSecrets(..)")
    }
}

impl JoinSecrets {
    /// Fresh random secrets for both roles.
    pub fn generate() -> Result<JoinSecrets, PkiError> {
        Ok(JoinSecrets {
            worker: random_base36()?,
            manager: random_base36()?,
        })
    }

    /// Replaces `role`'s secret: its old token no longer admits anyone (nodes that joined with
    /// it keep their certificates).
    pub fn rotate(&mut self, role: Role) -> Result<(), PkiError> {
        let fresh = random_base36()?;
        match role {
            Role::Worker => self.worker = fresh,
            Role::Manager => self.manager = fresh,
        }
        Ok(())
    }

    /// `role`'s token for the CA with digest `ca_digest`.
    pub fn token(&self, role: Role, ca_digest: &str) -> JoinToken {
        JoinToken {
            ca_digest: ca_digest.to_owned(),
            secret: match role {
                Role::Worker => self.worker.clone(),
                Role::Manager => self.manager.clone(),
            },
        }
    }

    /// The role a presented token admits its holder as, on a cluster whose CA has digest
    /// `ca_digest`. Both secrets are compared in constant time, whatever matches.
    pub fn admit(&self, token: &str, ca_digest: &str) -> Result<Role, TokenError> {
        let token: JoinToken = token.parse()?;
        let same_ca = token.ca_digest.as_bytes().ct_eq(ca_digest.as_bytes());
        let secret = token.secret.as_bytes();
        let worker = secret.ct_eq(self.worker.as_bytes()) & same_ca;
        let manager = secret.ct_eq(self.manager.as_bytes()) & same_ca;
        if bool::from(manager) {
            Ok(Role::Manager)
        } else if bool::from(worker) {
            Ok(Role::Worker)
        } else {
            Err(TokenError::Refused)
        }
    }
}

fn is_base36(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

//! A cluster backup (`GET /v1/cluster/backup`, `swarmctl cluster backup FILE`, `swarmd restore
//! FILE`): every object of the replicated state, as a Raft snapshot holds it, plus the root CA
//! certificate and signing key, so a cluster restored from it keeps trusting the certificates
//! its workers already hold. It holds every secret in clear: keep the file like a private key.

use model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Record;

/// The format this version writes and reads; a reader refuses any other.
pub const BACKUP_FORMAT: &str = "swarm-backup/1";

/// The backup document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterBackup {
    /// [`BACKUP_FORMAT`]; first, so a reader can refuse a file before decoding the rest.
    pub format: String,
    /// The cluster's id (the O of every node certificate).
    pub cluster_id: String,
    /// When the manager took the backup.
    pub created_at: Timestamp,
    /// The Raft index the objects reflect: every object's version is at most this, and a
    /// restored cluster's log continues after it, so versions keep growing.
    pub raft_index: u64,
    /// The Raft term the backup was taken in.
    pub raft_term: u64,
    /// The root CA that signed every node's certificate.
    pub root_ca: BackupCa,
    /// Every object of every kind, secrets with their content.
    pub records: Vec<Record>,
}

/// The root CA in a backup, PEM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupCa {
    pub cert_pem: String,
    /// The CA's signing key: whoever holds it can make certificates the cluster trusts.
    pub key_pem: String,
}

/// The first field of any backup, read before the rest so an unknown format is refused by
/// name rather than by whatever field it lacks.
#[derive(Debug, Deserialize)]
pub struct BackupHeader {
    /// The format name; absent in a file that is not a swarm backup at all.
    #[serde(default)]
    pub format: Option<String>,
}

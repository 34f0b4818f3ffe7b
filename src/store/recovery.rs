//! Backup, restore and force-new-cluster (issue 10 §6).
//!
//! - [`backup`]: every object as this manager's store holds it, plus the root CA (certificate
//!   and key), as one [`ClusterBackup`] document.
//! - [`restore`]: writes a new data directory from a backup: the CA, a manager certificate for
//!   the new node, and a store holding the backup's objects as a new single-manager Raft group.
//! - [`force_new_cluster`]: turns a surviving manager's data directory into a new
//!   single-manager group that keeps every object it holds.
//!
//! Both restore and force-new-cluster end in [`crate::raft::recovery::reset_to_single_voter`].
//! A restored data directory is marked so that its first start re-runs the (then cheap)
//! force-new-cluster step with the address the node really advertises, which `restore` cannot
//! know.

use std::path::{Path, PathBuf};

use model::{Kind, Timestamp};
use wire::{BACKUP_FORMAT, BackupCa, BackupHeader, ClusterBackup};

use super::Store;
use crate::clock::Clock;
use crate::pki::cluster::{CLUSTER_OBJECT, ClusterSecurity};
use crate::pki::{NodeKey, PkiError, Role, RootCa, files};
use crate::raft::recovery::{self as raft_recovery, Replayed, ResetError};
use crate::raft::{Database, DbError, LogId};

/// Present in a data directory whose next start must make it a new single-manager group (left
/// by `swarmd restore`; removed by that start).
const PENDING_MARKER: &str = "force-new-cluster";

/// Why a backup, restore or force-new-cluster failed; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error(
        "this manager's data directory {0} holds no root CA key, so a backup could not restore its workers' trust; take the backup on a manager that holds DATA_DIR/certificates/swarm-root-ca.key"
    )]
    NoCaKey(String),
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is not a swarm backup ({reason}); give the file `swarmctl cluster backup` wrote"
    )]
    NotABackup { path: String, reason: String },
    #[error(
        "{path} is a backup in format `{found}`, but this swarmd reads only `{BACKUP_FORMAT}`; restore it with the swarm release that wrote it"
    )]
    UnknownFormat { path: String, found: String },
    #[error(
        "{path} already holds {found}; restore into a new, empty --data-dir (or move this one away)"
    )]
    InUse { path: String, found: &'static str },
    #[error(
        "the backup's root CA does not match its cluster ({detail}); the file was edited or put together from two clusters"
    )]
    CaMismatch { detail: String },
    #[error(
        "{0} holds no manager store (swarm.db): --force-new-cluster needs the data directory of a manager"
    )]
    NoStore(String),
    #[error("certificates: {0}")]
    Pki(#[from] PkiError),
    #[error("store {path}: {source}")]
    Db {
        path: String,
        #[source]
        source: DbError,
    },
    #[error("store {path}: {source}")]
    Reset {
        path: String,
        #[source]
        source: ResetError,
    },
    #[error("{path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The backup of everything `store` holds, with the CA kept in its data directory.
pub fn backup(store: &Store) -> Result<ClusterBackup, RecoveryError> {
    let data_dir = store.data_dir();
    let ca = files::load_ca(data_dir)?
        .ok_or_else(|| RecoveryError::NoCaKey(data_dir.display().to_string()))?;
    // Cloned under the read lock, encoded after it: the index and its last executed entry are
    // one consistent state, and apply waits only for the copy.
    let (records, raft_index) = store.read(|index| {
        let records: Vec<wire::Record> = index.records().into_iter().cloned().collect();
        (records, index.last_executed())
    });
    let raft_term = store.metrics()["term"].as_u64().unwrap_or(0);
    tracing::info!(
        objects = records.len(),
        raft.index = raft_index,
        "cluster backup taken"
    );
    Ok(ClusterBackup {
        format: BACKUP_FORMAT.to_owned(),
        cluster_id: ca.cluster_id().to_owned(),
        created_at: store.clock().now(),
        raft_index,
        raft_term,
        root_ca: BackupCa {
            cert_pem: ca.cert_pem().to_owned(),
            key_pem: ca.key_pem(),
        },
        records,
    })
}

/// Reads a backup file, refusing anything but [`BACKUP_FORMAT`] by name.
pub fn read_backup(path: &Path) -> Result<ClusterBackup, RecoveryError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| RecoveryError::Read {
        path: shown.clone(),
        source,
    })?;
    let not_a_backup = |reason: String| RecoveryError::NotABackup {
        path: shown.clone(),
        reason,
    };
    let header: BackupHeader =
        serde_json::from_slice(&bytes).map_err(|e| not_a_backup(e.to_string()))?;
    match header.format {
        None => return Err(not_a_backup("it has no `format` field".into())),
        Some(found) if found != BACKUP_FORMAT => {
            return Err(RecoveryError::UnknownFormat { path: shown, found });
        }
        Some(_) => {}
    }
    serde_json::from_slice(&bytes).map_err(|e| not_a_backup(e.to_string()))
}

/// Refuses a data directory that holds (part of) a node already.
pub fn ensure_unused(data_dir: &Path) -> Result<(), RecoveryError> {
    let taken = [
        ("node.json", "a node identity (node.json)"),
        (crate::raft::db::DATABASE_FILE, "a store (swarm.db)"),
        ("certificates", "certificates"),
    ];
    for (name, found) in taken {
        if data_dir.join(name).exists() {
            return Err(RecoveryError::InUse {
                path: data_dir.display().to_string(),
                found,
            });
        }
    }
    Ok(())
}

/// What [`restore`] wrote.
#[derive(Clone, Debug)]
pub struct Restored {
    pub cluster_id: String,
    pub objects: usize,
    pub raft_index: u64,
}

/// Writes `backup` into `data_dir` (already holding the new node's identity, `node_id` and
/// `raft_id`): the backup's CA, a manager certificate for this node signed by it, and a store
/// holding the backup's objects as a new Raft group with this node its only voter.
pub async fn restore(
    backup: &ClusterBackup,
    data_dir: &Path,
    node_id: &str,
    raft_id: u64,
    now: Timestamp,
) -> Result<Restored, RecoveryError> {
    let ca = RootCa::from_pem(&backup.root_ca.cert_pem, &backup.root_ca.key_pem)?;
    check_ca(backup, &ca)?;
    let key = NodeKey::generate()?;
    let cert = ca.issue(&key.csr_pem()?, node_id, Role::Manager, now)?;
    files::save_ca_key(data_dir, &ca.key_pem())?;
    files::save_node(data_dir, ca.cert_pem(), &cert, &key)?;

    // The backup's log position, under this node: the new group continues the old numbering.
    let at = LogId::new(
        openraft::CommittedLeaderId::new(backup.raft_term, raft_id),
        backup.raft_index,
    );
    let path = db_path(data_dir);
    let db = open_db(&path).await?;
    // The real address is set at the first start (see the marker below).
    let reset = raft_recovery::reset_to_single_voter(&db, at, raft_id, "", Some(&backup.records))
        .await
        .map_err(|source| RecoveryError::Db {
            path: path.display().to_string(),
            source,
        });
    db.close().await;
    reset?;
    let marker = data_dir.join(PENDING_MARKER);
    std::fs::write(&marker, b"set by swarmd restore: the next start makes this node the only manager of a new Raft group\n")
        .map_err(|source| RecoveryError::Write {
            path: marker.display().to_string(),
            source,
        })?;
    Ok(Restored {
        cluster_id: backup.cluster_id.clone(),
        objects: backup.records.len(),
        raft_index: backup.raft_index,
    })
}

/// The CA must be the one the backup's cluster object names (when it has one).
fn check_ca(backup: &ClusterBackup, ca: &RootCa) -> Result<(), RecoveryError> {
    if ca.cluster_id() != backup.cluster_id {
        return Err(RecoveryError::CaMismatch {
            detail: format!(
                "the CA signs for cluster {}, the backup is of cluster {}",
                ca.cluster_id(),
                backup.cluster_id
            ),
        });
    }
    let cluster = backup
        .records
        .iter()
        .find(|r| r.kind == Kind::Cluster && r.metadata.name == CLUSTER_OBJECT);
    if let Some(record) = cluster {
        let security: ClusterSecurity =
            record.spec_as().map_err(|e| RecoveryError::CaMismatch {
                detail: format!("its cluster object is unreadable: {e}"),
            })?;
        if security.ca_cert_pem.trim() != ca.cert_pem().trim() {
            return Err(RecoveryError::CaMismatch {
                detail: "the cluster object names another CA certificate".into(),
            });
        }
    }
    Ok(())
}

/// What a start of the node must do before its Raft node starts: with `forced`
/// (`--force-new-cluster`), or on the first start after `swarmd restore`, make this manager
/// (`raft_id`, reached at `addr`) the only voter of a new group holding everything it has.
/// Returns what was done, `None` when nothing was asked.
pub async fn prepare_start(
    data_dir: &Path,
    raft_id: u64,
    addr: &str,
    forced: bool,
    clock: Clock,
) -> Result<Option<NewCluster>, RecoveryError> {
    let marker = data_dir.join(PENDING_MARKER);
    let restored = marker.exists();
    if !forced && !restored {
        return Ok(None);
    }
    let done = force_new_cluster(data_dir, raft_id, addr, clock).await?;
    if restored {
        std::fs::remove_file(&marker).map_err(|source| RecoveryError::Write {
            path: marker.display().to_string(),
            source,
        })?;
    }
    if forced {
        eprintln!("swarmd: --force-new-cluster: {done}");
    }
    Ok(Some(done))
}

/// What [`force_new_cluster`] did.
#[derive(Clone, Debug)]
pub struct NewCluster {
    /// The voters of the group this node belonged to.
    pub old_voters: Vec<u64>,
    /// What replaying the local log did; the new group starts after `replayed.last_applied`.
    pub replayed: Replayed,
}

impl std::fmt::Display for NewCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.replayed;
        write!(
            f,
            "this manager is now the only manager of a new cluster (the old group's voters were {:?}); \
             it keeps every object up to Raft index {} ({} log entries executed now, {} of them past the last commit it had heard of); \
             workers keep their certificates; other old managers must not be started again with their data directories",
            self.old_voters, r.last_applied.index, r.entries, r.past_commit
        )
    }
}

/// Makes the manager store in `data_dir` a new single-manager group with `raft_id` (reached at
/// `addr`) its only voter, keeping every object it holds, including entries of its log it had
/// received but not executed. Run it with no Raft node on the data directory.
pub async fn force_new_cluster(
    data_dir: &Path,
    raft_id: u64,
    addr: &str,
    clock: Clock,
) -> Result<NewCluster, RecoveryError> {
    let path = db_path(data_dir);
    if !path.exists() {
        return Err(RecoveryError::NoStore(data_dir.display().to_string()));
    }
    let db = open_db(&path).await?;
    let result = rewrite(&db, raft_id, addr, clock).await;
    db.close().await;
    let done = result.map_err(|source| RecoveryError::Reset {
        path: path.display().to_string(),
        source,
    })?;
    tracing::warn!(
        old_voters = ?done.old_voters,
        raft.index = done.replayed.last_applied.index,
        replayed = done.replayed.entries,
        past_commit = done.replayed.past_commit,
        "started a new single-manager cluster from this manager's state"
    );
    Ok(done)
}

async fn rewrite(
    db: &Database,
    raft_id: u64,
    addr: &str,
    clock: Clock,
) -> Result<NewCluster, ResetError> {
    let replayed = raft_recovery::replay_local_log(db, clock).await?;
    // After the replay: a membership change still in the log is part of what the group was.
    let old_voters = raft_recovery::applied_voters(db).await?;
    raft_recovery::reset_to_single_voter(db, replayed.last_applied, raft_id, addr, None).await?;
    Ok(NewCluster {
        old_voters,
        replayed,
    })
}

fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(crate::raft::db::DATABASE_FILE)
}

async fn open_db(path: &Path) -> Result<Database, RecoveryError> {
    Database::open(path)
        .await
        .map_err(|source| RecoveryError::Db {
            path: path.display().to_string(),
            source,
        })
}

//! Starting a new single-manager Raft group from a data directory's database, offline (no Raft
//! node running on it): what `swarmd restore` and `swarmd run --force-new-cluster` share.
//!
//! The new group keeps the log position of the state it starts from: its log continues after
//! that index, so object versions (log indexes) keep growing and new object ids (derived from
//! the log index) never collide with the restored ones. openraft then sees a node whose log
//! was purged up to a snapshot-like applied state, with this node the only voter, and elects it.

use std::collections::{BTreeMap, BTreeSet};

use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::{BasicNode, Membership, RaftLogReader, Vote};
use tokio::sync::broadcast;

use super::db::{self, Database, DbError, MetaTable, write_applied_state};
use super::log_store::{COMMITTED, LAST_PURGED, VOTE};
use super::{LogId, LogStore, StateMachine, StorageError, StoredMembership};
use crate::clock::Clock;
use crate::state::Record;

/// Why a data directory's Raft state could not be replayed or rewritten.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("replaying the local Raft log: {0}")]
    Replay(#[source] Box<StorageError>),
    #[error(
        "this data directory's store has executed no Raft entry: there is no state to start a new cluster from"
    )]
    Empty,
}

impl From<StorageError> for ResetError {
    fn from(err: StorageError) -> ResetError {
        ResetError::Replay(Box::new(err))
    }
}

/// What replaying a data directory's own log did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// The last entry the state machine has now executed: the new group starts after it.
    pub last_applied: LogId,
    /// Entries executed now that the state machine had not executed before.
    pub entries: usize,
    /// Of those, entries past the last commit this node had heard of: the old leader may have
    /// acknowledged them before it died, so they are kept rather than dropped.
    pub past_commit: usize,
}

/// Executes every entry of the local log the state machine has not executed yet, so the state
/// a new group starts from holds everything this manager received.
pub async fn replay_local_log(db: &Database, clock: Clock) -> Result<Replayed, ResetError> {
    // Nobody listens: the events of a replay are seen by no one (a started node reads the
    // index from SQLite).
    let (events, _) = broadcast::channel(1);
    let mut state_machine = StateMachine::open(db, events, clock).await?;
    let mut log = LogStore::new(db);
    let (applied, _) = state_machine.applied_state().await?;
    let committed = log.read_committed().await?;
    let start = applied.map_or(0, |id| id.index + 1);
    let entries = log.try_get_log_entries(start..).await?;
    let past_commit = entries
        .iter()
        .filter(|entry| Some(entry.log_id) > committed)
        .count();
    let count = entries.len();
    if count > 0 {
        state_machine.apply(entries).await?;
    }
    let (applied, _) = state_machine.applied_state().await?;
    Ok(Replayed {
        last_applied: applied.ok_or(ResetError::Empty)?,
        entries: count,
        past_commit,
    })
}

/// Rewrites the Raft state in `db` into a new group whose only voter is `raft_id` (reached at
/// `addr`), starting after `at`: the log, vote and current snapshot are dropped, and the state
/// machine is marked as having applied `at`. With `records` the objects are replaced by them
/// (restore); without, the objects stay (force-new-cluster). One transaction: all or nothing.
pub async fn reset_to_single_voter(
    db: &Database,
    at: LogId,
    raft_id: u64,
    addr: &str,
    records: Option<&[Record]>,
) -> Result<(), DbError> {
    let membership = Membership::new(
        vec![BTreeSet::from([raft_id])],
        BTreeMap::from([(raft_id, BasicNode::new(addr))]),
    );
    let membership = StoredMembership::new(Some(at), membership);
    // A term above the state's: this node's first election is in a term no old leader used.
    let vote = Vote::new(at.leader_id.term + 1, raft_id);

    let mut tx = db.durable().begin().await?;
    for statement in [
        "DELETE FROM raft_log",
        "DELETE FROM raft_meta",
        "DELETE FROM snapshot",
    ] {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    if let Some(records) = records {
        sqlx::query("DELETE FROM objects").execute(&mut *tx).await?;
        db::insert_records(&mut tx, records).await?;
    }
    write_applied_state(&mut tx, &Some(at), &membership).await?;
    MetaTable::Raft.write(&mut *tx, VOTE, &vote).await?;
    MetaTable::Raft
        .write(&mut *tx, COMMITTED, &Some(at))
        .await?;
    MetaTable::Raft.write(&mut *tx, LAST_PURGED, &at).await?;
    tx.commit().await?;
    Ok(())
}

/// The voters of the membership the state machine last applied (what the group was).
pub async fn applied_voters(db: &Database) -> Result<Vec<u64>, DbError> {
    let mut conn = db.relaxed().acquire().await?;
    let (_, membership) = db::read_applied_state(&mut conn).await?;
    Ok(membership.membership().voter_ids().collect())
}

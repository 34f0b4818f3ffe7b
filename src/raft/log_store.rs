//! The Raft log, vote and purge/commit pointers in SQLite.
//!
//! Entries are stored as JSON (`serde_json`, already a dependency and readable with sqlite3);
//! an append of many entries is one transaction, and openraft hears that the entries are durable
//! only after that transaction has committed with `synchronous=FULL`.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogReader, StorageIOError, Vote};
use sqlx::{Row, SqlitePool};
use tracing::instrument;

use super::db::{Database, DbError, MetaTable, to_sql};
use super::{Entry, LogId, StorageError, TypeConfig};

// Keys of `raft_meta` (recovery rewrites them when it starts a new group from a data dir).
pub(super) const VOTE: &str = "vote";
pub(super) const COMMITTED: &str = "committed";
pub(super) const LAST_PURGED: &str = "last_purged";

/// The SQLite-backed Raft log. Cloning is cheap (pool handles); clones serve as log readers
/// for replication tasks.
#[derive(Clone, Debug)]
pub struct LogStore {
    /// Log, vote and purge pointer: on disk before openraft is told.
    pool: SqlitePool,
    /// The commit pointer: advisory (the state machine persists what it applied), so it need
    /// not cost an fsync on every commit.
    relaxed: SqlitePool,
}

impl LogStore {
    /// A log store over an opened, migrated database.
    pub fn new(db: &Database) -> LogStore {
        LogStore {
            pool: db.durable().clone(),
            relaxed: db.relaxed().clone(),
        }
    }

    async fn read_range(&self, start: u64, end: Option<u64>) -> Result<Vec<Entry>, DbError> {
        let end = match end {
            Some(end) => to_sql(end)?,
            None => i64::MAX,
        };
        let rows = sqlx::query(
            "SELECT entry FROM raft_log WHERE log_index >= ? AND log_index < ? ORDER BY log_index",
        )
        .bind(to_sql(start)?)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let bytes: &[u8] = row.try_get(0)?;
                Ok(serde_json::from_slice(bytes)?)
            })
            .collect()
    }

    async fn last_log_id(&self) -> Result<Option<LogId>, DbError> {
        let row = sqlx::query("SELECT entry FROM raft_log ORDER BY log_index DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let bytes: &[u8] = row.try_get(0)?;
        let entry: Entry = serde_json::from_slice(bytes)?;
        Ok(Some(entry.log_id))
    }

    async fn append_all(&self, entries: Vec<Entry>) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        for entry in &entries {
            sqlx::query(
                "INSERT OR REPLACE INTO raft_log (log_index, term, entry) VALUES (?, ?, ?)",
            )
            .bind(to_sql(entry.log_id.index)?)
            .bind(to_sql(entry.log_id.leader_id.term)?)
            .bind(serde_json::to_vec(entry)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn purge_upto(&self, log_id: &LogId) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        // The pointer and the deletion commit together, so the log never looks emptier than
        // `last_purged` says.
        MetaTable::Raft.write(&mut *tx, LAST_PURGED, log_id).await?;
        sqlx::query("DELETE FROM raft_log WHERE log_index <= ?")
            .bind(to_sql(log_id.index)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Turns a range of log indexes into `[start, end)`, `end` absent when unbounded.
fn half_open(range: &impl RangeBounds<u64>) -> (u64, Option<u64>) {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => Some(e.saturating_add(1)),
        Bound::Excluded(&e) => Some(e),
        Bound::Unbounded => None,
    };
    (start, end)
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let (start, end) = half_open(&range);
        self.read_range(start, end)
            .await
            .map_err(|e| StorageIOError::read_logs(&e).into())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let read = async {
            let last_purged: Option<LogId> = MetaTable::Raft.read(&self.pool, LAST_PURGED).await?;
            let last = self.last_log_id().await?.or(last_purged);
            Ok::<_, DbError>(LogState {
                last_purged_log_id: last_purged,
                last_log_id: last,
            })
        };
        read.await.map_err(|e| StorageIOError::read_logs(&e).into())
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    #[instrument(level = "debug", skip(self))]
    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError> {
        MetaTable::Raft
            .write(&self.pool, VOTE, vote)
            .await
            .map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError> {
        MetaTable::Raft
            .read(&self.pool, VOTE)
            .await
            .map_err(|e| StorageIOError::read_vote(&e).into())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        MetaTable::Raft
            .write(&self.relaxed, COMMITTED, &committed)
            .await
            .map_err(|e| StorageIOError::write(&e).into())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        let committed: Option<Option<LogId>> = MetaTable::Raft
            .read(&self.relaxed, COMMITTED)
            .await
            .map_err(|e| StorageIOError::read(&e))?;
        Ok(committed.flatten())
    }

    #[instrument(level = "debug", skip_all)]
    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let last = entries.last().map(|e| e.log_id.index);
        tracing::debug!(raft.index = ?last, count = entries.len(), "appending");
        // Written and committed before returning, so readers see the entries at once and the
        // callback (which lets openraft count this node towards the quorum) follows the fsync.
        match self.append_all(entries).await {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(StorageIOError::write_logs(&e).into())
            }
        }
    }

    #[instrument(level = "debug", skip(self), fields(raft.index = log_id.index))]
    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let delete = async {
            sqlx::query("DELETE FROM raft_log WHERE log_index >= ?")
                .bind(to_sql(log_id.index)?)
                .execute(&self.pool)
                .await?;
            Ok::<_, DbError>(())
        };
        delete
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }

    #[instrument(level = "debug", skip(self), fields(raft.index = log_id.index))]
    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.purge_upto(&log_id)
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }
}

//! The manager's SQLite database (`<data_dir>/swarm.db`): opening it, its small key/value
//! tables and the bulk writes of objects that both `apply` and snapshot install use.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor, SqlitePool};

use super::{LogId, StoredMembership};
use crate::state::Record;
use crate::state::index::Change;

/// The database's file name inside a manager's data directory.
pub const DATABASE_FILE: &str = "swarm.db";

/// Why a read or write of the database failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migrating the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("encoding or decoding stored JSON: {0}")]
    Codec(#[from] serde_json::Error),
    #[error("log index {0} does not fit SQLite's signed 64-bit integers")]
    IndexRange(u64),
    #[error("the in-memory index lock is poisoned: a thread panicked while executing an entry")]
    Poisoned,
}

impl<T> From<std::sync::PoisonError<T>> for DbError {
    fn from(_: std::sync::PoisonError<T>) -> DbError {
        DbError::Poisoned
    }
}

/// Rows per multi-row statement: 6 bound values each stays far below SQLite's 32766-variable
/// limit, and a bounded set of statement shapes keeps the statement cache useful.
const ROWS_PER_STATEMENT: usize = 256;

/// The manager's database, through two pools that differ only in `synchronous`.
///
/// `durable` (FULL) carries what Raft requires on disk before it is acknowledged: log entries,
/// votes, purges. `relaxed` (NORMAL) carries the state machine, snapshots and the commit pointer:
/// in WAL mode a NORMAL commit skips the fsync but stays ordered in the one WAL file, so the
/// next FULL commit (the next log append or purge) makes it durable too. A power loss can
/// therefore only roll the state machine back to a point the log still covers (logs are purged
/// by FULL commits made after the snapshot they rely on), and openraft re-applies from there.
/// This saves two of the three fsyncs a single write would otherwise cost.
#[derive(Clone, Debug)]
pub struct Database {
    durable: SqlitePool,
    relaxed: SqlitePool,
}

impl Database {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Database, DbError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL lets the snapshot builder and log readers read while apply and append write.
            .journal_mode(SqliteJournalMode::Wal)
            // The log store and the state machine write from different tasks; wait for the lock.
            .busy_timeout(Duration::from_secs(30));
        let durable = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone().synchronous(SqliteSynchronous::Full))
            .await?;
        sqlx::migrate!().run(&durable).await?;
        let relaxed = SqlitePoolOptions::new()
            .max_connections(3)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await?;
        Ok(Database { durable, relaxed })
    }

    /// Connections whose commits are on disk when they return (Raft log and vote).
    pub fn durable(&self) -> &SqlitePool {
        &self.durable
    }

    /// Connections whose commits become durable with the next durable commit.
    pub fn relaxed(&self) -> &SqlitePool {
        &self.relaxed
    }

    /// Waits for every connection to be returned and closes them.
    pub async fn close(&self) {
        self.relaxed.close().await;
        self.durable.close().await;
    }
}

/// Converts a log index for SQLite, which stores signed integers.
pub fn to_sql(index: u64) -> Result<i64, DbError> {
    i64::try_from(index).map_err(|_| DbError::IndexRange(index))
}

/// Which key/value table: the log store's or the state machine's.
#[derive(Clone, Copy, Debug)]
pub enum MetaTable {
    Raft,
    StateMachine,
}

impl MetaTable {
    fn select(self) -> &'static str {
        match self {
            MetaTable::Raft => "SELECT value FROM raft_meta WHERE key = ?",
            MetaTable::StateMachine => "SELECT value FROM sm_meta WHERE key = ?",
        }
    }

    fn upsert(self) -> &'static str {
        match self {
            MetaTable::Raft => "INSERT OR REPLACE INTO raft_meta (key, value) VALUES (?, ?)",
            MetaTable::StateMachine => "INSERT OR REPLACE INTO sm_meta (key, value) VALUES (?, ?)",
        }
    }

    /// Reads one value; `None` when it was never written.
    pub async fn read<T: DeserializeOwned>(
        self,
        conn: impl SqliteExecutor<'_>,
        key: &str,
    ) -> Result<Option<T>, DbError> {
        let row = sqlx::query(self.select())
            .bind(key)
            .fetch_optional(conn)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let text: String = row.try_get(0)?;
                Ok(Some(serde_json::from_str(&text)?))
            }
        }
    }

    /// Writes one value, replacing the previous one.
    pub async fn write<T: Serialize>(
        self,
        conn: impl SqliteExecutor<'_>,
        key: &str,
        value: &T,
    ) -> Result<(), DbError> {
        sqlx::query(self.upsert())
            .bind(key)
            .bind(serde_json::to_string(value)?)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Persists an entry's changes in order. Consecutive upserts and removes are grouped into
/// multi-row statements: a 10,000-object command is ~40 statements, not 10,000.
pub async fn write_changes(conn: &mut SqliteConnection, changes: &[Change]) -> Result<(), DbError> {
    let mut rest = changes;
    while let Some(first) = rest.first() {
        let upsert = matches!(first, Change::Upsert(_));
        let run = rest
            .iter()
            .take(ROWS_PER_STATEMENT)
            .take_while(|c| matches!(c, Change::Upsert(_)) == upsert)
            .count();
        let (chunk, tail) = rest.split_at(run);
        if upsert {
            let records = chunk.iter().filter_map(|c| match c {
                Change::Upsert(record) => Some(record.as_ref()),
                Change::Remove { .. } => None,
            });
            upsert_records(conn, records).await?;
        } else {
            remove_objects(conn, chunk).await?;
        }
        rest = tail;
    }
    Ok(())
}

/// Writes all `records` (any number), replacing objects with the same kind and id.
pub async fn insert_records<'a>(
    conn: &mut SqliteConnection,
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<(), DbError> {
    let mut batch = Vec::with_capacity(ROWS_PER_STATEMENT);
    for record in records {
        batch.push(record);
        if batch.len() == ROWS_PER_STATEMENT {
            upsert_records(conn, batch.drain(..)).await?;
        }
    }
    if !batch.is_empty() {
        upsert_records(conn, batch).await?;
    }
    Ok(())
}

async fn upsert_records<'a>(
    conn: &mut SqliteConnection,
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<(), DbError> {
    let mut rows = Vec::new();
    for record in records {
        rows.push((
            record,
            to_sql(record.version)?,
            serde_json::to_string(record)?,
        ));
    }
    if rows.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT OR REPLACE INTO objects (kind, id, name, stack, version, record) ",
    );
    query.push_values(rows, |mut row, (record, version, json)| {
        row.push_bind(record.kind.as_str())
            .push_bind(record.id.clone())
            .push_bind(record.metadata.name.clone())
            .push_bind(record.metadata.stack.clone())
            .push_bind(version)
            .push_bind(json);
    });
    query.build().execute(conn).await?;
    Ok(())
}

async fn remove_objects(conn: &mut SqliteConnection, removes: &[Change]) -> Result<(), DbError> {
    let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM objects WHERE (kind, id) IN (");
    let mut keys = query.separated(", ");
    for change in removes {
        if let Change::Remove { kind, id } = change {
            keys.push("(")
                .push_bind_unseparated(kind.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(id.clone())
                .push_unseparated(")");
        }
    }
    query.push(")");
    query.build().execute(conn).await?;
    Ok(())
}

/// Every stored object, in a stable order.
pub async fn load_records(conn: impl SqliteExecutor<'_>) -> Result<Vec<Record>, DbError> {
    let rows = sqlx::query("SELECT record FROM objects ORDER BY kind, id")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            let text: &str = row.try_get(0)?;
            Ok(serde_json::from_str(text)?)
        })
        .collect()
}

// Keys of `sm_meta`: what the objects table reflects.
const LAST_APPLIED: &str = "last_applied";
const LAST_MEMBERSHIP: &str = "last_membership";

/// The persisted last-applied log id and membership (read on one connection, so a caller in a
/// transaction gets both from the same view).
pub(super) async fn read_applied_state(
    conn: &mut SqliteConnection,
) -> Result<(Option<LogId>, StoredMembership), DbError> {
    let last_applied: Option<Option<LogId>> = MetaTable::StateMachine
        .read(&mut *conn, LAST_APPLIED)
        .await?;
    let membership: Option<StoredMembership> = MetaTable::StateMachine
        .read(&mut *conn, LAST_MEMBERSHIP)
        .await?;
    Ok((last_applied.flatten(), membership.unwrap_or_default()))
}

/// Records what the objects table reflects; always in the transaction that changed it.
pub(super) async fn write_applied_state(
    conn: &mut SqliteConnection,
    last_applied: &Option<LogId>,
    membership: &StoredMembership,
) -> Result<(), DbError> {
    MetaTable::StateMachine
        .write(&mut *conn, LAST_APPLIED, last_applied)
        .await?;
    MetaTable::StateMachine
        .write(&mut *conn, LAST_MEMBERSHIP, membership)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Kind, ObjectMeta, Timestamp};

    fn record(id: &str, version: u64) -> Record {
        Record {
            kind: Kind::Service,
            id: id.into(),
            version,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            metadata: ObjectMeta {
                name: id.into(),
                ..ObjectMeta::default()
            },
            spec: serde_json::json!({}),
            status: serde_json::Value::Null,
        }
    }

    #[tokio::test]
    async fn changes_are_persisted_in_order_across_grouped_statements() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::open(&dir.path().join("swarm.db"))
            .await
            .expect("open");
        let remove = |id: &str| Change::Remove {
            kind: Kind::Service,
            id: id.into(),
        };
        let mut changes: Vec<Change> = (0..600)
            .map(|i| Change::Upsert(std::sync::Arc::new(record(&format!("bulk-{i:03}"), 1))))
            .collect();
        changes.push(remove("bulk-000"));
        changes.push(Change::Upsert(std::sync::Arc::new(record("bulk-000", 2))));
        changes.push(remove("bulk-001"));
        let mut conn = db.relaxed().acquire().await.expect("connection");
        write_changes(&mut conn, &changes).await.expect("write");
        let records = load_records(&mut *conn).await.expect("load");
        assert_eq!(records.len(), 599);
        assert_eq!(
            (records[0].id.as_str(), records[0].version),
            ("bulk-000", 2)
        );
        assert_eq!(records[1].id, "bulk-002");
    }
}

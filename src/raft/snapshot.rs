//! Snapshots: every object plus the applied state, as one JSON document.
//!
//! Format: `{"last_applied": LogId|null, "last_membership": StoredMembership, "records": [Record,
//! ...]}`. The builder reads the objects table inside one read transaction (WAL gives it a
//! consistent view while `apply` keeps writing), so the data always matches the metadata even
//! when the state machine has moved on. The current snapshot is kept in the `snapshot` table so
//! it survives restarts and can be sent to a follower whose log was purged.

use std::io::Cursor;

use openraft::{RaftSnapshotBuilder, Snapshot, SnapshotMeta, StorageIOError};
use serde::Deserialize;
use sqlx::{Row, SqliteConnection, SqliteExecutor, SqlitePool};
use tracing::instrument;

use super::db::{self, DbError, read_applied_state, write_applied_state};
use super::{LogId, StorageError, TypeConfig};
use crate::clock::Clock;
use crate::state::{Event, Index, Record};

type Meta = SnapshotMeta<u64, openraft::BasicNode>;

/// The part of the document `install` needs; the applied state comes from openraft's metadata.
#[derive(Deserialize)]
struct SnapshotDocument {
    records: Vec<Record>,
}

/// Builds a snapshot of whatever the state machine has committed to SQLite.
pub struct SnapshotBuilder {
    pool: SqlitePool,
    clock: Clock,
}

impl SnapshotBuilder {
    /// A builder reading from `pool`, naming snapshots with `clock`.
    pub fn new(pool: SqlitePool, clock: Clock) -> SnapshotBuilder {
        SnapshotBuilder { pool, clock }
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    #[instrument(level = "info", skip_all)]
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        build(&self.pool, self.clock)
            .await
            .map_err(|e| StorageIOError::read_state_machine(&e).into())
    }
}

async fn build(pool: &SqlitePool, clock: Clock) -> Result<Snapshot<TypeConfig>, DbError> {
    // A deferred transaction that only reads: one consistent view of meta and objects.
    let mut tx = pool.begin().await?;
    let (last_applied, last_membership) = read_applied_state(&mut tx).await?;
    let rows = sqlx::query("SELECT record FROM objects ORDER BY kind, id")
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;

    // The records are already JSON in SQLite: splice them in rather than parse and re-encode.
    let mut data = Vec::new();
    data.extend_from_slice(b"{\"last_applied\":");
    serde_json::to_writer(&mut data, &last_applied)?;
    data.extend_from_slice(b",\"last_membership\":");
    serde_json::to_writer(&mut data, &last_membership)?;
    data.extend_from_slice(b",\"records\":[");
    for (position, row) in rows.iter().enumerate() {
        if position > 0 {
            data.push(b',');
        }
        let record: &str = row.try_get(0)?;
        data.extend_from_slice(record.as_bytes());
    }
    data.extend_from_slice(b"]}");

    let meta = Meta {
        snapshot_id: snapshot_id(last_applied, clock),
        last_log_id: last_applied,
        last_membership,
    };
    save(pool, &meta, &data, Replace::IfNotOlder).await?;
    tracing::info!(
        raft.index = ?last_applied.map(|id| id.index),
        objects = rows.len(),
        bytes = data.len(),
        "snapshot built"
    );
    Ok(Snapshot {
        meta,
        snapshot: Box::new(Cursor::new(data)),
    })
}

/// Unique per build: log position plus wall-clock milliseconds (two builds at the same position
/// hold the same data, so a rare collision is harmless).
fn snapshot_id(last_applied: Option<LogId>, clock: Clock) -> String {
    let millis = clock.now().0;
    match last_applied {
        Some(id) => format!("{}-{}-{millis}", id.leader_id.term, id.index),
        None => format!("0-0-{millis}"),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Replace {
    /// A build racing with an install must not overwrite the newer installed snapshot.
    IfNotOlder,
    /// An install replaces whatever is there.
    Always,
}

async fn save(
    conn: impl SqliteExecutor<'_>,
    meta: &Meta,
    data: &[u8],
    replace: Replace,
) -> Result<(), DbError> {
    let sql = match replace {
        Replace::IfNotOlder => {
            "INSERT INTO snapshot (id, last_index, meta, data) VALUES (1, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET last_index = excluded.last_index, \
             meta = excluded.meta, data = excluded.data \
             WHERE excluded.last_index >= snapshot.last_index"
        }
        Replace::Always => {
            "INSERT OR REPLACE INTO snapshot (id, last_index, meta, data) VALUES (1, ?, ?, ?)"
        }
    };
    let last_index = match meta.last_log_id {
        Some(id) => db::to_sql(id.index)?,
        None => -1,
    };
    sqlx::query(sql)
        .bind(last_index)
        .bind(serde_json::to_string(meta)?)
        .bind(data)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the objects table and the applied state with the snapshot's, atomically, and keeps
/// the snapshot as the current one. Returns the records for rebuilding the index.
pub async fn install(pool: &SqlitePool, meta: &Meta, data: &[u8]) -> Result<Vec<Record>, DbError> {
    let document: SnapshotDocument = serde_json::from_slice(data)?;
    let mut tx = pool.begin().await?;
    replace_objects(&mut tx, &document.records).await?;
    write_applied_state(&mut tx, &meta.last_log_id, &meta.last_membership).await?;
    save(&mut *tx, meta, data, Replace::Always).await?;
    tx.commit().await?;
    Ok(document.records)
}

async fn replace_objects(conn: &mut SqliteConnection, records: &[Record]) -> Result<(), DbError> {
    sqlx::query("DELETE FROM objects")
        .execute(&mut *conn)
        .await?;
    db::insert_records(conn, records).await
}

/// The current snapshot, if one was ever built or installed.
pub async fn current(pool: &SqlitePool) -> Result<Option<Snapshot<TypeConfig>>, DbError> {
    let row = sqlx::query("SELECT meta, data FROM snapshot WHERE id = 1")
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let meta: &str = row.try_get(0)?;
    let data: Vec<u8> = row.try_get(1)?;
    Ok(Some(Snapshot {
        meta: serde_json::from_str(meta)?,
        snapshot: Box::new(Cursor::new(data)),
    }))
}

/// The events that turn a follower's view of `old` into `new` after a snapshot install, so
/// event consumers stay consistent without knowing a snapshot happened.
pub fn diff_events(old: &Index, new: &Index, index: u64) -> Vec<Event> {
    let mut events = Vec::new();
    for record in old.records() {
        if new.get(record.kind, &record.id).is_none() {
            events.push(Event::Deleted {
                object: record.reference(),
                version: index,
            });
        }
    }
    for record in new.records() {
        let object = record.reference();
        let version = record.version;
        match old.get(record.kind, &record.id) {
            None => events.push(Event::Created { object, version }),
            Some(before) if before.version != version => {
                events.push(Event::Updated { object, version })
            }
            Some(_) => {}
        }
    }
    events.push(Event::Commit { index });
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Command, Op};
    use model::{Kind, ObjectMeta, Timestamp};

    fn create(name: &str) -> Op {
        Op::Create {
            kind: Kind::Config,
            metadata: ObjectMeta {
                name: name.into(),
                ..ObjectMeta::default()
            },
            spec: serde_json::json!({}),
            status: serde_json::Value::Null,
        }
    }

    #[test]
    fn install_is_reported_as_the_changes_between_the_two_states() {
        let at = Timestamp(0);
        let mut old = Index::default();
        old.execute(
            1,
            &Command {
                at,
                ops: vec![create("kept"), create("gone")],
            },
        );
        let mut new = old.clone();
        let gone = new.find(Kind::Config, None, "gone").map(|r| r.id.clone());
        let delete = Op::Delete {
            kind: Kind::Config,
            id: gone.expect("gone exists"),
            expected_version: None,
        };
        new.execute(
            2,
            &Command {
                at,
                ops: vec![delete, create("added")],
            },
        );
        let events = diff_events(&old, &new, 2);
        let kinds: Vec<(&str, &str)> = events
            .iter()
            .map(|e| match e {
                Event::Created { object, .. } => ("created", object.name.as_str()),
                Event::Updated { object, .. } => ("updated", object.name.as_str()),
                Event::Deleted { object, .. } => ("deleted", object.name.as_str()),
                Event::Commit { .. } => ("commit", ""),
            })
            .collect();
        assert_eq!(
            kinds,
            [("deleted", "gone"), ("created", "added"), ("commit", "")]
        );
    }
}

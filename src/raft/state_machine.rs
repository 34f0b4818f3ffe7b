//! The replicated state machine: executes committed entries against the in-memory [`Index`] with the
//! one deterministic function every replica runs ([`Index::execute`]), persists the resulting
//! changes in SQLite, then publishes the entries' events.

use std::io::Cursor;
use std::sync::{Arc, RwLock};

use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, OptionalSend, Snapshot, SnapshotMeta, StorageIOError};
use sqlx::SqlitePool;
use tokio::sync::broadcast;
use tracing::instrument;

use super::db::{self, Database, DbError, read_applied_state, write_applied_state};
use super::snapshot::{self, SnapshotBuilder};
use super::{Entry, LogId, StorageError, StoredMembership, TypeConfig};
use crate::clock::Clock;
use crate::state::index::Change;
use crate::state::{Event, Executed, Index};

/// The state machine of one manager. The index it maintains is shared with readers through
/// [`StateMachine::index`]; the lock is only ever held for in-memory work, never across I/O.
pub struct StateMachine {
    pool: SqlitePool,
    index: Arc<RwLock<Index>>,
    events: broadcast::Sender<Event>,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    /// Names snapshots.
    clock: Clock,
}

impl StateMachine {
    /// Restores the state machine (and the index) from the database.
    pub async fn open(
        db: &Database,
        events: broadcast::Sender<Event>,
        clock: Clock,
    ) -> Result<StateMachine, DbError> {
        let pool = db.relaxed().clone();
        let (last_applied, membership) = read_applied_state(&mut *pool.acquire().await?).await?;
        let records = db::load_records(&pool).await?;
        let applied = last_applied.map_or(0, |id| id.index);
        let index = Index::from_records(records, applied);
        tracing::info!(
            raft.index = applied,
            objects = index.len(),
            "state machine restored"
        );
        Ok(StateMachine {
            pool,
            index: Arc::new(RwLock::new(index)),
            events,
            last_applied,
            membership,
            clock,
        })
    }

    /// The in-memory index this state machine keeps up to date (the read path).
    pub fn index(&self) -> Arc<RwLock<Index>> {
        Arc::clone(&self.index)
    }

    /// Applies entries to the index; returns responses, changes to persist and events.
    fn execute_in_memory(&mut self, entries: &[Entry]) -> Result<Outcome, DbError> {
        let mut responses = Vec::with_capacity(entries.len());
        let mut changes = Vec::new();
        let mut events = Vec::new();
        let mut index = self.index.write()?;
        for entry in entries {
            let log_index = entry.log_id.index;
            self.last_applied = Some(entry.log_id);
            match &entry.payload {
                EntryPayload::Normal(command) => {
                    let (executed, entry_changes, entry_events) = index.execute(log_index, command);
                    responses.push(executed);
                    changes.extend(entry_changes);
                    events.extend(entry_events);
                }
                EntryPayload::Blank => {
                    index.mark_executed(log_index);
                    responses.push(no_objects(log_index));
                }
                EntryPayload::Membership(membership) => {
                    self.membership = StoredMembership::new(Some(entry.log_id), membership.clone());
                    index.mark_executed(log_index);
                    responses.push(no_objects(log_index));
                }
            }
        }
        Ok(Outcome {
            responses,
            changes,
            events,
        })
    }

    async fn persist(&self, changes: &[Change]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        db::write_changes(&mut tx, changes).await?;
        write_applied_state(&mut tx, &self.last_applied, &self.membership).await?;
        tx.commit().await?;
        Ok(())
    }

    fn publish(&self, events: Vec<Event>) {
        for event in events {
            // No receiver is not an error: events are for whoever listens right now.
            let _ = self.events.send(event);
        }
    }
}

/// What executing a batch of entries in memory produced.
struct Outcome {
    responses: Vec<Executed>,
    changes: Vec<Change>,
    events: Vec<Event>,
}

/// The response to an entry that carries no command.
fn no_objects(index: u64) -> Executed {
    Executed::Ok {
        index,
        ids: Vec::new(),
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        Ok((self.last_applied, self.membership.clone()))
    }

    #[instrument(level = "debug", skip_all, fields(raft.index))]
    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Executed>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let Some(last) = entries.last().map(|e| e.log_id) else {
            return Ok(Vec::new());
        };
        tracing::Span::current().record("raft.index", last.index);
        let Outcome {
            responses,
            changes,
            events,
        } = self
            .execute_in_memory(&entries)
            .map_err(|e| StorageIOError::apply(last, &e))?;
        // All entries of this call share one transaction: each entry stays all-or-nothing (the
        // batch is), and one fsync covers the batch. If it fails the node stops (openraft treats
        // storage errors as fatal), so the index running ahead of SQLite is never served long.
        self.persist(&changes)
            .await
            .map_err(|e| StorageIOError::apply(last, &e))?;
        // Only now are the changes durable locally: observers never see an event for a change
        // a restart could lose.
        self.publish(events);
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        SnapshotBuilder::new(self.pool.clone(), self.clock)
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    #[instrument(level = "info", skip_all, fields(raft.index = ?meta.last_log_id.map(|id| id.index)))]
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, openraft::BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let signature = Some(meta.signature());
        let data = snapshot.into_inner();
        let records = snapshot::install(&self.pool, meta, &data)
            .await
            .map_err(|e| StorageIOError::write_snapshot(signature.clone(), &e))?;
        let applied = meta.last_log_id.map_or(0, |id| id.index);
        let fresh = Index::from_records(records, applied);
        let events = {
            let mut index = self
                .index
                .write()
                .map_err(|e| StorageIOError::write_snapshot(signature, &DbError::from(e)))?;
            let events = snapshot::diff_events(&index, &fresh, applied);
            *index = fresh;
            events
        };
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        tracing::info!(
            changed = events.len().saturating_sub(1),
            "snapshot installed"
        );
        self.publish(events);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        snapshot::current(&self.pool)
            .await
            .map_err(|e| StorageIOError::read_snapshot(None, &e).into())
    }
}

//! openraft's storage conformance suite against the SQLite log store and state machine, each
//! test on a fresh database file in its own temporary directory.

use openraft::testing::{StoreBuilder, Suite};
use openraft::{StorageError, StorageIOError};
use swarm::raft::{Database, LogStore, StateMachine, TypeConfig};
use tempfile::TempDir;
use tokio::sync::broadcast;

struct SqliteStores;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for SqliteStores {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError<u64>> {
        let dir = tempfile::tempdir().map_err(|e| StorageIOError::write(&e))?;
        let db = Database::open(&dir.path().join("swarm.db"))
            .await
            .map_err(|e| StorageIOError::write(&e))?;
        let (events, _) = broadcast::channel(16);
        let state_machine = StateMachine::open(&db, events, swarm::clock::Clock::system())
            .await
            .map_err(|e| StorageIOError::read_state_machine(&e))?;
        Ok((dir, LogStore::new(&db), state_machine))
    }
}

#[test]
fn sqlite_store_passes_the_openraft_storage_suite() {
    if let Err(error) = Suite::test_all(SqliteStores) {
        panic!("storage suite failed: {error}");
    }
}

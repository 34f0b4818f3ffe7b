//! Replication and durability: the openraft type configuration, the SQLite log store and state
//! machine, and the HTTP transport between managers. The store handle (`Store`) wires them together;
//! nothing else should need this module directly.

pub mod db;
pub mod log_store;
pub mod network;
pub mod recovery;
pub mod snapshot;
pub mod state_machine;

use std::io::Cursor;

use openraft::{Config, SnapshotPolicy};

pub use db::{Database, DbError};
pub use log_store::LogStore;
pub use network::{HttpNetwork, PeerHealth, routes};
pub use state_machine::StateMachine;

use crate::state::{Command, Executed};

openraft::declare_raft_types!(
    /// The Raft types of the store: one entry carries one [`Command`]; executing it yields an
    /// [`Executed`].
    pub TypeConfig:
        D = Command,
        R = Executed,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A running Raft node of the store.
pub type Raft = openraft::Raft<TypeConfig>;

/// A log entry of the store.
pub type Entry = openraft::Entry<TypeConfig>;

/// Log id of the store's entries.
pub type LogId = openraft::LogId<u64>;

/// Membership as applied by the state machine.
pub type StoredMembership = openraft::StoredMembership<u64, openraft::BasicNode>;

/// openraft's storage error for this node id type.
pub type StorageError = openraft::StorageError<u64>;

/// Entries since the last snapshot after which a new snapshot is built.
pub const SNAPSHOT_EVERY: u64 = 10_000;

/// Entries kept in the log behind a snapshot, so a briefly lagging follower catches up from the
/// log instead of receiving a whole snapshot.
pub const LOG_TAIL_KEPT: u64 = 1_000;

/// The Raft timing and compaction policy of every manager.
pub fn raft_config() -> Result<Config, Box<openraft::ConfigError>> {
    Config {
        cluster_name: "swarm".into(),
        // Heartbeats every 100 ms with elections after 300-600 ms of silence: failover well under
        // a second on a LAN. openraft also uses the heartbeat as the append-entries timeout.
        heartbeat_interval: 100,
        election_timeout_min: 300,
        election_timeout_max: 600,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_EVERY),
        max_in_snapshot_log_to_keep: LOG_TAIL_KEPT,
        ..Config::default()
    }
    .validate()
    .map_err(Box::new)
}

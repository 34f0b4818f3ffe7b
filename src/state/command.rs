//! Commands: what one Raft entry asks the state machine to do, all or nothing.

use model::{Kind, ObjectMeta, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One Raft entry: a batch of operations executed in one SQLite transaction, or not at all.
/// Batching is the performance design (DESIGN.md §2): a stack apply, a scheduler plan or a
/// window of agent status updates is one command, never one entry per object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// The proposer's clock, used for `created_at`/`updated_at` (replicas must not read theirs).
    pub at: Timestamp,
    pub ops: Vec<Op>,
}

/// One change to one object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Creates an object; refused if one of the same kind, stack and name exists.
    Create {
        kind: Kind,
        metadata: ObjectMeta,
        spec: Value,
        #[serde(default)]
        status: Value,
    },
    /// Replaces metadata and spec; refused unless the object is at `expected_version`.
    Update {
        kind: Kind,
        id: String,
        expected_version: u64,
        metadata: ObjectMeta,
        spec: Value,
    },
    /// Replaces status (controllers, dispatcher); `expected_version` is optional because status
    /// writers own their field and usually write the latest observation.
    SetStatus {
        kind: Kind,
        id: String,
        expected_version: Option<u64>,
        status: Value,
    },
    /// Deletes an object; with `expected_version`, only if it is still at that version.
    Delete {
        kind: Kind,
        id: String,
        expected_version: Option<u64>,
    },
}

/// What a committed command did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Executed {
    /// Every op executed; ids of created/updated objects in op order (deleted ones too).
    Ok { index: u64, ids: Vec<String> },
    /// Nothing executed.
    Rejected(Rejection),
}

/// Why a command changed nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    Conflict(Conflict),
    #[error("{kind} `{name}` already exists")]
    AlreadyExists {
        kind: Kind,
        name: String,
        stack: Option<String>,
    },
    #[error("{kind} {id} not found")]
    NotFound { kind: Kind, id: String },
}

/// A stale compare-and-set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error(
    "{kind} {id} is at version {actual}, not {expected}: it changed since it was read; read it again and retry"
)]
pub struct Conflict {
    pub kind: Kind,
    pub id: String,
    pub expected: u64,
    pub actual: u64,
}

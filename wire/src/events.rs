//! The ordered change stream controllers and `GET /v1/events` follow.

use model::Kind;
use serde::{Deserialize, Serialize};

/// Identifies an object in events.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: Kind,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

/// One change, in commit order. Every entry's changes are followed by its `Commit`, so a
/// consumer can mark keys dirty and reconcile once per commit (debounced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Created { object: ObjectRef, version: u64 },
    Updated { object: ObjectRef, version: u64 },
    Deleted { object: ObjectRef, version: u64 },
    Commit { index: u64 },
}

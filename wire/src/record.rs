//! One stored object, kind-independent: what the index holds, SQLite persists and the API returns.

use model::{Kind, ObjectMeta, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A stored object. `spec` and `status` are the kind's typed spec/status as JSON, so the store
/// stays one table and one code path for every kind; typed views are made at the edges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub kind: Kind,
    pub id: String,
    /// Raft log index of the entry that last wrote this object (compare-and-set token).
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub metadata: ObjectMeta,
    pub spec: Value,
    #[serde(default)]
    pub status: Value,
}

impl Record {
    /// The typed spec.
    pub fn spec_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.spec.clone())
    }

    /// How events name this object.
    pub fn reference(&self) -> crate::events::ObjectRef {
        crate::events::ObjectRef {
            kind: self.kind,
            id: self.id.clone(),
            name: self.metadata.name.clone(),
            stack: self.metadata.stack.clone(),
        }
    }

    /// The typed status (`Default` when none has been written yet).
    pub fn status_as<T: serde::de::DeserializeOwned + Default>(
        &self,
    ) -> Result<T, serde_json::Error> {
        if self.status.is_null() {
            return Ok(T::default());
        }
        serde_json::from_value(self.status.clone())
    }
}

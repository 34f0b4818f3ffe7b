//! Hand-made API records for the client's unit tests.

use model::{Kind, ObjectMeta, Timestamp};
use serde_json::Value;
use wire::Record;

/// A record of `kind` named `name`, created (and last updated) at `created`, at version 1.
pub(crate) fn record(
    kind: Kind,
    id: &str,
    name: &str,
    created: i64,
    spec: Value,
    status: Value,
) -> Record {
    Record {
        kind,
        id: id.into(),
        version: 1,
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
        metadata: ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        },
        spec,
        status,
    }
}

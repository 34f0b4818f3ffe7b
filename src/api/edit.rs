//! Spec edits through the API (`service scale|update|rollback|restart`, `node update|promote|
//! demote`): read the record, let a pure function make the new metadata and spec, write it back
//! as one compare-and-set `Op::Update`. Objects of a stack owned by a watched file are refused
//! (409 naming the file), as applies are.

use model::{Kind, ObjectMeta};
use serde_json::{Value, json};
use wire::ObjectChange;

use super::objects::lookup;
use super::{ApiError, ApiState};
use crate::apply::{self, ChangeKind, Owner, StackChange, kind_word, leaf_changes};
use crate::store::{Command, Executed, Index, Op, Record, Rejection};

/// Attempts in all when the caller named no version and a status writer moved it meanwhile.
const ATTEMPTS: usize = 3;

/// The new metadata and spec an edit wants.
pub struct Edited {
    pub metadata: ObjectMeta,
    pub spec: Value,
}

/// Which object an edit targets, and at which version (`None`: the one read).
pub struct EditTarget<'a> {
    pub kind: Kind,
    pub key: &'a str,
    pub stack: Option<&'a str>,
    pub expected_version: Option<u64>,
}

/// A refusal that depends on the object's state (a global service cannot be scaled, the last
/// manager cannot be demoted): 409 with `details.reason` so scripts can tell them apart.
pub fn refused(reason: &str, message: impl Into<String>) -> ApiError {
    ApiError::Conflict {
        message: message.into(),
        details: json!({ "reason": reason }),
    }
}

/// Reads `target`, applies `edit` and writes the result with compare-and-set. With no expected
/// version, a conflict (a controller wrote status meanwhile) re-reads and re-edits; with one, a
/// stale version is the caller's 409.
pub async fn edit(
    state: &ApiState,
    target: EditTarget<'_>,
    edit: impl Fn(&Index, &Record) -> Result<Edited, ApiError>,
) -> Result<ObjectChange, ApiError> {
    let mut attempt = 1;
    loop {
        let Prepared { record, op, plan } =
            state.store.read(|index| prepare(index, &target, &edit))?;
        let Some(op) = op else {
            return Ok(ObjectChange {
                object: record,
                plan,
                index: None,
            });
        };
        let command = Command {
            at: state.store.clock().now(),
            ops: vec![op],
        };
        match apply::propose(&state.store, command).await? {
            Executed::Ok { index, .. } => {
                let object = state
                    .store
                    .read(|i| i.get(record.kind, &record.id).cloned())
                    .ok_or_else(|| {
                        ApiError::NotFound(format!(
                            "{} `{}` was deleted right after the edit",
                            kind_word(record.kind),
                            record.metadata.name
                        ))
                    })?;
                return Ok(ObjectChange {
                    object,
                    plan,
                    index: Some(index),
                });
            }
            Executed::Rejected(Rejection::Conflict(_))
                if target.expected_version.is_none() && attempt < ATTEMPTS =>
            {
                attempt += 1;
            }
            Executed::Rejected(rejection) => return Err(rejection.into()),
        }
    }
}

/// The record as read, what the edit changes, and the write (`None`: nothing changed).
struct Prepared {
    record: Record,
    op: Option<Op>,
    plan: StackChange,
}

fn prepare(
    index: &Index,
    target: &EditTarget<'_>,
    edit: &impl Fn(&Index, &Record) -> Result<Edited, ApiError>,
) -> Result<Prepared, ApiError> {
    let record = lookup(index, target.kind, target.key, target.stack)?;
    if let Some(expected) = target.expected_version
        && expected != record.version
    {
        return Err(Rejection::Conflict(crate::store::Conflict {
            kind: record.kind,
            id: record.id.clone(),
            expected,
            actual: record.version,
        })
        .into());
    }
    if let Some(stack) = &record.metadata.stack {
        apply::check_owner(index, stack, &Owner::Api)?;
    }
    let edited = edit(index, record)?;
    let mut changes = Vec::new();
    // Canonical on both sides, so a spec stored in an older or sparser form diffs by meaning.
    let before = apply::canonical(record.kind, &record.spec);
    leaf_changes("", Some(&before), Some(&edited.spec), &mut changes);
    leaf_changes(
        "metadata.labels",
        Some(&json!(record.metadata.labels)),
        Some(&json!(edited.metadata.labels)),
        &mut changes,
    );
    let mut plan = StackChange {
        action: ChangeKind::Unchanged,
        kind: record.kind,
        name: record.metadata.name.clone(),
        changes,
    };
    if plan.changes.is_empty() {
        return Ok(Prepared {
            record: record.clone(),
            op: None,
            plan,
        });
    }
    plan.action = ChangeKind::Update;
    let op = Op::Update {
        kind: record.kind,
        id: record.id.clone(),
        expected_version: record.version,
        metadata: edited.metadata,
        spec: edited.spec,
    };
    Ok(Prepared {
        record: record.clone(),
        op: Some(op),
        plan,
    })
}

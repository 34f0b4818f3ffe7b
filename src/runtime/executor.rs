//! Turns one pass's actions into one store command.
//!
//! Several actions may touch the same object in one pass (a task gets a new desired state and a
//! new status). Within one command the first write bumps the object's version to the entry's
//! index, so a second compare-and-set on the version read earlier would always fail and reject
//! the whole pass, forever. Actions are therefore merged per object: at most one spec write (it
//! carries the compare-and-set), then the status write (protected by the same atomic command),
//! or a lone delete. Actions that would change nothing are dropped, so a converged cluster
//! writes nothing and its own commits do not wake the runner into an endless loop.

use std::collections::BTreeMap;

use controllers::Action;
use model::{Kind, Timestamp};
use serde_json::Value;

use super::Snapshot;
use crate::store::{Command, Op};

/// Why a pass's actions could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot encode the {kind} {id} decided by a controller: {source}")]
    Encode {
        kind: Kind,
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

/// What one pass wants of one existing object.
#[derive(Default)]
struct Pending {
    /// Expected version for the compare-and-set (from the first action naming it).
    version: Option<u64>,
    spec: Option<Value>,
    status: Option<Value>,
    delete: bool,
}

/// The one command carrying `actions`, or `None` when they would change nothing.
pub fn command_for(
    actions: Vec<Action>,
    snapshot: &Snapshot,
    at: Timestamp,
) -> Result<Option<Command>, ExecError> {
    let mut creates = Vec::new();
    let mut pending: BTreeMap<(Kind, String), Pending> = BTreeMap::new();
    for action in actions {
        match action {
            Action::CreateTask {
                metadata,
                spec,
                status,
            } => creates.push(Op::Create {
                kind: Kind::Task,
                spec: encode(Kind::Task, &metadata.name, &spec)?,
                status: encode(Kind::Task, &metadata.name, &status)?,
                metadata,
            }),
            Action::SetDesiredState {
                task_id,
                version,
                desired,
            } => {
                let Some(task) = snapshot.view.tasks.get(&task_id) else {
                    continue;
                };
                let entry = slot(&mut pending, Kind::Task, &task_id, Some(version));
                let mut spec: model::TaskSpec = match &entry.spec {
                    Some(value) => serde_json::from_value(value.clone()).map_err(|source| {
                        ExecError::Encode {
                            kind: Kind::Task,
                            id: task_id.clone(),
                            source,
                        }
                    })?,
                    None => task.spec.clone(),
                };
                spec.desired_state = desired;
                entry.spec = Some(encode(Kind::Task, &task_id, &spec)?);
            }
            Action::SetTaskStatus {
                task_id,
                version,
                status,
            } => {
                slot(&mut pending, Kind::Task, &task_id, version).status =
                    Some(encode(Kind::Task, &task_id, &status)?);
            }
            Action::DeleteTask { task_id, version } => {
                slot(&mut pending, Kind::Task, &task_id, Some(version)).delete = true;
            }
            Action::SetServiceStatus {
                service_id,
                version,
                status,
            } => {
                slot(&mut pending, Kind::Service, &service_id, version).status =
                    Some(encode(Kind::Service, &service_id, &status)?);
            }
            Action::SetServiceSpec {
                service_id,
                version,
                spec,
            } => {
                slot(&mut pending, Kind::Service, &service_id, Some(version)).spec =
                    Some(encode(Kind::Service, &service_id, &spec)?);
            }
        }
    }
    let mut ops = creates;
    for ((kind, id), change) in pending {
        ops.extend(ops_for(kind, id, change, snapshot)?);
    }
    if ops.is_empty() {
        return Ok(None);
    }
    Ok(Some(Command { at, ops }))
}

fn slot<'a>(
    pending: &'a mut BTreeMap<(Kind, String), Pending>,
    kind: Kind,
    id: &str,
    version: Option<u64>,
) -> &'a mut Pending {
    let entry = pending.entry((kind, id.to_owned())).or_default();
    if entry.version.is_none() {
        entry.version = version;
    }
    entry
}

fn encode<T: serde::Serialize>(kind: Kind, id: &str, value: &T) -> Result<Value, ExecError> {
    serde_json::to_value(value).map_err(|source| ExecError::Encode {
        kind,
        id: id.to_owned(),
        source,
    })
}

/// The ops for one object, minus the writes that would leave it as it is.
fn ops_for(
    kind: Kind,
    id: String,
    change: Pending,
    snapshot: &Snapshot,
) -> Result<Vec<Op>, ExecError> {
    let (current_spec, current_status) = current(kind, &id, snapshot)?;
    if current_spec.is_none() {
        // Gone (or unreadable) since the controllers looked: the next pass decides again.
        return Ok(Vec::new());
    }
    if change.delete {
        return Ok(vec![Op::Delete {
            kind,
            id,
            expected_version: change.version,
        }]);
    }
    let mut ops = Vec::new();
    let spec_changes = change
        .spec
        .filter(|spec| current_spec.as_ref() != Some(spec));
    let mut status_version = change.version;
    if let Some(spec) = spec_changes {
        // An object that vanished since the snapshot is decided again next pass.
        let (Some(metadata), Some(expected_version)) =
            (snapshot.metadata.get(&(kind, id.clone())), change.version)
        else {
            return Ok(ops);
        };
        ops.push(Op::Update {
            kind,
            id: id.clone(),
            expected_version,
            metadata: metadata.clone(),
            spec,
        });
        // The update above already checked the version, and it bumps it.
        status_version = None;
    }
    if let Some(status) = change
        .status
        .filter(|status| current_status.as_ref() != Some(status))
    {
        ops.push(Op::SetStatus {
            kind,
            id,
            expected_version: status_version,
            status,
        });
    }
    Ok(ops)
}

/// The object's spec and status as the executor would encode them (to spot no-op writes).
fn current(
    kind: Kind,
    id: &str,
    snapshot: &Snapshot,
) -> Result<(Option<Value>, Option<Value>), ExecError> {
    let view = &snapshot.view;
    Ok(match kind {
        Kind::Task => match view.tasks.get(id) {
            Some(t) => (
                Some(encode(kind, id, &t.spec)?),
                Some(encode(kind, id, &t.status)?),
            ),
            None => (None, None),
        },
        Kind::Service => match view.services.get(id) {
            Some(s) => (
                Some(encode(kind, id, &s.spec)?),
                Some(encode(kind, id, &s.status)?),
            ),
            None => (None, None),
        },
        _ => (None, None),
    })
}

#[cfg(test)]
mod tests;

//! Turns one pass's actions into one store command.
//!
//! Several actions may touch the same object in one pass (a task gets a new desired state and a
//! new status). Within one command the first write bumps the object's version to the entry's
//! index, so a second compare-and-set on the version read earlier would always fail and reject
//! the whole pass, forever. Actions are therefore merged per object by [`controllers::merge`]:
//! at most one spec write (it carries the compare-and-set), then the status write (protected by
//! the same atomic command), or a lone delete. Actions that would change nothing are dropped, so a converged cluster
//! writes nothing and its own commits do not wake the runner into an endless loop.

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

/// How a spec write of the previous action turned out, for the status write that follows it on
/// the same object ([`controllers::merge`] puts it right after).
enum SpecWrite {
    /// Written: its compare-and-set covers the status too.
    Written,
    /// Would change nothing and was dropped: the status carries its version check instead.
    Unchanged(u64),
    /// The object vanished since the snapshot: the next pass decides again.
    Skipped,
}

/// The one command carrying `actions`, or `None` when they would change nothing.
pub fn command_for(
    actions: Vec<Action>,
    snapshot: &Snapshot,
    at: Timestamp,
) -> Result<Option<Command>, ExecError> {
    let mut merged = controllers::merge(actions);
    // Creates first, then objects by kind and id (stable: a spec write stays before its status).
    merged.sort_by_key(|action| {
        action
            .target()
            .map(|(kind, id)| (kind_of(kind), id.to_owned()))
    });
    let mut ops = Vec::new();
    let mut last: Option<(Kind, String, SpecWrite)> = None;
    for action in merged {
        match action {
            Action::CreateTask {
                metadata,
                spec,
                status,
            } => ops.push(Op::Create {
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
                let Some(task) = snapshot.view.tasks().get(&task_id) else {
                    continue;
                };
                let mut spec = task.spec.clone();
                spec.desired_state = desired;
                let spec = encode(Kind::Task, &task_id, &spec)?;
                let write = spec_write(Kind::Task, &task_id, version, spec, snapshot, &mut ops)?;
                last = Some((Kind::Task, task_id, write));
            }
            Action::SetServiceSpec {
                service_id,
                version,
                spec,
            } => {
                let spec = encode(Kind::Service, &service_id, &spec)?;
                let write = spec_write(
                    Kind::Service,
                    &service_id,
                    version,
                    spec,
                    snapshot,
                    &mut ops,
                )?;
                last = Some((Kind::Service, service_id, write));
            }
            Action::SetTaskStatus {
                task_id: id,
                version,
                status,
            } => {
                let status = encode(Kind::Task, &id, &status)?;
                let version = status_version(&last, Kind::Task, &id, version);
                status_write(Kind::Task, id, version, status, snapshot, &mut ops)?;
            }
            Action::SetServiceStatus {
                service_id: id,
                version,
                status,
            } => {
                let status = encode(Kind::Service, &id, &status)?;
                let version = status_version(&last, Kind::Service, &id, version);
                status_write(Kind::Service, id, version, status, snapshot, &mut ops)?;
            }
            Action::DeleteTask { task_id, version } => {
                if snapshot.view.tasks().contains_key(&task_id) {
                    ops.push(Op::Delete {
                        kind: Kind::Task,
                        id: task_id,
                        expected_version: Some(version),
                    });
                }
            }
        }
    }
    if ops.is_empty() {
        return Ok(None);
    }
    Ok(Some(Command { at, ops }))
}

fn kind_of(target: &str) -> Kind {
    if target == "service" {
        Kind::Service
    } else {
        Kind::Task
    }
}

/// Pushes the spec update unless it would change nothing or the object is gone.
fn spec_write(
    kind: Kind,
    id: &str,
    version: u64,
    spec: Value,
    snapshot: &Snapshot,
    ops: &mut Vec<Op>,
) -> Result<SpecWrite, ExecError> {
    let (current_spec, _) = current(kind, id, snapshot)?;
    let Some(current_spec) = current_spec else {
        return Ok(SpecWrite::Skipped);
    };
    if current_spec == spec {
        return Ok(SpecWrite::Unchanged(version));
    }
    let Some(metadata) = snapshot.metadata.get(&(kind, id.to_owned())) else {
        return Ok(SpecWrite::Skipped);
    };
    ops.push(Op::Update {
        kind,
        id: id.to_owned(),
        expected_version: version,
        metadata: metadata.clone(),
        spec,
    });
    Ok(SpecWrite::Written)
}

/// The version check of a status write, given the spec write just before it (if on the same
/// object); `None` inside the option: skip the status write.
fn status_version(
    last: &Option<(Kind, String, SpecWrite)>,
    kind: Kind,
    id: &str,
    version: Option<u64>,
) -> Option<Option<u64>> {
    match last {
        Some((k, i, write)) if *k == kind && i == id => match write {
            // The update above already checked the version, and it bumps it.
            SpecWrite::Written => Some(None),
            SpecWrite::Unchanged(v) => Some(Some(*v)),
            SpecWrite::Skipped => None,
        },
        _ => Some(version),
    }
}

/// Pushes the status write unless it is skipped, would change nothing, or the object is gone.
fn status_write(
    kind: Kind,
    id: String,
    version: Option<Option<u64>>,
    status: Value,
    snapshot: &Snapshot,
    ops: &mut Vec<Op>,
) -> Result<(), ExecError> {
    let Some(expected_version) = version else {
        return Ok(());
    };
    let (current_spec, current_status) = current(kind, &id, snapshot)?;
    if current_spec.is_none() || current_status.as_ref() == Some(&status) {
        return Ok(());
    }
    ops.push(Op::SetStatus {
        kind,
        id,
        expected_version,
        status,
    });
    Ok(())
}

fn encode<T: serde::Serialize>(kind: Kind, id: &str, value: &T) -> Result<Value, ExecError> {
    serde_json::to_value(value).map_err(|source| ExecError::Encode {
        kind,
        id: id.to_owned(),
        source,
    })
}

/// The object's spec and status as the executor would encode them (to spot no-op writes).
fn current(
    kind: Kind,
    id: &str,
    snapshot: &Snapshot,
) -> Result<(Option<Value>, Option<Value>), ExecError> {
    let view = &snapshot.view;
    Ok(match kind {
        Kind::Task => match view.tasks().get(id) {
            Some(t) => (
                Some(encode(kind, id, &t.spec)?),
                Some(encode(kind, id, &t.status)?),
            ),
            None => (None, None),
        },
        Kind::Service => match view.services().get(id) {
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

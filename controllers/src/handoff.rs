//! Starts replacements that were prepared ahead: a task wanting READY (placed, container
//! created, not started) is told to run once no task of its slot is still stopping — SwarmKit's
//! "delayed start" of a stop-first update — and once its `start_at` (a restart delay) is past.

use model::{TaskState, Timestamp};

use crate::tasks::{SlotKey, is_wanted};
use crate::{Action, ClusterView, TaskObj};

/// `SetDesiredState RUNNING` (COMPLETE for a job) for every READY-wanting task whose slot has
/// nothing left to stop and whose start time has come.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    view.tasks()
        .values()
        .filter(|t| prepared(t))
        .filter(|t| t.spec.start_at.is_none_or(|at| at <= now))
        .filter(|t| !slot_still_stopping(view, t))
        .map(|t| Action::SetDesiredState {
            task_id: t.id.clone(),
            version: t.version,
            desired: if t.spec.service_spec.mode().is_job() {
                TaskState::Complete
            } else {
                TaskState::Running
            },
        })
        .collect()
}

/// Wants READY and has not ended: placed and prepared (or on its way), waiting for the go-ahead.
pub fn prepared(task: &TaskObj) -> bool {
    task.spec.desired_state == TaskState::Ready && !task.status.state.is_terminal()
}

/// Whether another task of `task`'s slot was asked to stop and has not ended yet.
pub fn slot_still_stopping(view: &ClusterView, task: &TaskObj) -> bool {
    let slot = SlotKey::of(task);
    slot.is_some()
        && view.tasks_of(&task.spec.service_id).any(|other| {
            other.id != task.id
                && !is_wanted(other)
                && !other.status.state.is_terminal()
                && SlotKey::of(other) == slot
        })
}

//! Starts stop-first replacements: a task wanting READY (prepared, not started) is told to run
//! once no task of its slot is still stopping — SwarmKit's "delayed start" of an update.

use model::{TaskState, Timestamp};

use crate::tasks::{SlotKey, is_wanted};
use crate::{Action, ClusterView, TaskObj};

/// `SetDesiredState RUNNING` for every READY-wanting task whose slot has nothing left to stop.
pub fn reconcile(view: &ClusterView, _now: Timestamp) -> Vec<Action> {
    view.tasks
        .values()
        .filter(|t| t.spec.desired_state == TaskState::Ready && !t.status.state.is_terminal())
        .filter(|t| !slot_still_stopping(view, t))
        .map(|t| Action::SetDesiredState {
            task_id: t.id.clone(),
            version: t.version,
            desired: TaskState::Running,
        })
        .collect()
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

//! Behaviour tests of every controller and of whole passes, with builders and [`Sim`].

mod deadline;
mod depends;
mod drain;
mod merge;
mod pass;
mod reaper;
mod restart;
mod scheduler;
mod service;
mod update;

use model::{TaskState, TaskStatus, Timestamp};

use crate::Action;

/// The time every single-pass test runs at.
const NOW: Timestamp = Timestamp(1_000_000);

/// (name, slot, node binding, status) of every created task.
fn created(actions: &[Action]) -> Vec<(String, Option<u64>, Option<String>, TaskStatus)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateTask {
                metadata,
                spec,
                status,
            } => Some((
                metadata.name.clone(),
                spec.slot,
                spec.node_id.clone(),
                status.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// Ids of tasks asked to shut down, in order.
fn shut(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SetDesiredState {
                task_id,
                desired: TaskState::Shutdown,
                ..
            } => Some(task_id.clone()),
            _ => None,
        })
        .collect()
}

/// (task id, status) of every task status write.
fn statuses(actions: &[Action]) -> Vec<(String, TaskStatus)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SetTaskStatus {
                task_id, status, ..
            } => Some((task_id.clone(), status.clone())),
            _ => None,
        })
        .collect()
}

//! The task reaper: bounded history.
//!
//! Per slot (per node for global services) at most `task_history_limit` finished tasks are kept
//! — finished meaning terminal and no longer wanted — and the oldest beyond it are deleted. The
//! newest task of a slot is always kept: it records why the slot is as it is (a completed job,
//! exhausted restarts). Tasks of deleted services are asked to shut down, then deleted once
//! finished; ones that never reached a node are deleted at once.

use std::collections::HashSet;
use std::sync::Arc;

use model::Timestamp;

use crate::tasks::{by_creation, is_wanted, shut_down, slots_of};
use crate::{Action, ClusterView};

/// Docker's default `task_history_limit`.
pub const DEFAULT_TASK_HISTORY_LIMIT: usize = 5;

/// [`reconcile_with`] and the default history limit.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    reconcile_with(view, now, DEFAULT_TASK_HISTORY_LIMIT)
}

/// Deletes history beyond `limit` per slot and the tasks of deleted services.
pub fn reconcile_with(view: &ClusterView, _now: Timestamp, limit: usize) -> Vec<Action> {
    let mut out = Vec::new();
    for svc in view.services().values() {
        for tasks in slots_of(view, &svc.id).values() {
            let newest = tasks.last().map(|t| t.id.as_str());
            let finished: Vec<_> = tasks
                .iter()
                .filter(|t| t.status.state.is_terminal() && t.spec.desired_state.is_terminal())
                .collect();
            let excess = finished.len().saturating_sub(limit);
            out.extend(
                finished
                    .into_iter()
                    .filter(|t| Some(t.id.as_str()) != newest)
                    .take(excess)
                    .map(|t| delete(t)),
            );
        }
    }
    let services: HashSet<&str> = view.services().keys().map(String::as_str).collect();
    let mut orphans: Vec<_> = view
        .tasks()
        .values()
        .map(Arc::as_ref)
        .filter(|t| !services.contains(t.spec.service_id.as_str()))
        .collect();
    orphans.sort_by(by_creation);
    for task in orphans {
        let never_placed =
            task.status.node_id.is_none() && task.status.state <= model::TaskState::Pending;
        if task.status.state.is_terminal() || never_placed {
            out.push(delete(task));
        } else if is_wanted(task) {
            out.push(shut_down(task));
        }
    }
    out
}

fn delete(task: &crate::TaskObj) -> Action {
    Action::DeleteTask {
        task_id: task.id.clone(),
        version: task.version,
    }
}

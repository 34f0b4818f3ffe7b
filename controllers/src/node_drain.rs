//! Nodes that should not (or cannot) run their tasks: drained nodes have their tasks shut down
//! (the orchestrator then fills the emptied slots elsewhere); a node down longer than the grace
//! period, or gone from the store, has its unfinished tasks marked ORPHANED and shut down, so
//! their slots are filled too.

use model::{Availability, NodeState, TaskState, TaskStatus, Timestamp};

use crate::tasks::{is_live, is_wanted, shut_down, task_node};
use crate::{Action, ClusterView, NodeObj, TaskObj};

/// How long a node may be down before its tasks are given up on (ms).
pub const NODE_DOWN_GRACE_MS: i64 = 30_000;

/// [`reconcile_with`] and the default grace period.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    reconcile_with(view, now, NODE_DOWN_GRACE_MS)
}

/// Shuts down tasks on drained nodes and orphans tasks of nodes down for over `grace_ms`.
pub fn reconcile_with(view: &ClusterView, now: Timestamp, grace_ms: i64) -> Vec<Action> {
    let mut out = Vec::new();
    for task in view.tasks().values() {
        if task.status.state.is_terminal() {
            continue;
        }
        let Some(node_id) = task_node(task) else {
            continue;
        };
        let placed = task.status.node_id.is_some();
        match view.nodes().get(node_id) {
            None if placed => orphan(task, format!("node {node_id} was removed"), now, &mut out),
            // An unplaced global task bound to a removed node: nothing runs, just stop wanting it.
            None if is_wanted(task) => out.push(shut_down(task)),
            None => {}
            Some(node) => {
                if let Some(why) = dead_for(node, now, grace_ms).filter(|_| placed) {
                    orphan(task, why, now, &mut out);
                } else if node.spec.availability == Availability::Drain && is_live(task) {
                    out.push(shut_down(task));
                }
            }
        }
    }
    out
}

/// `Some(explanation)` when the node has been down or disconnected for longer than the grace.
fn dead_for(node: &NodeObj, now: Timestamp, grace_ms: i64) -> Option<String> {
    if !matches!(node.status.state, NodeState::Down | NodeState::Disconnected) {
        return None;
    }
    let Some(beat) = node.status.last_heartbeat else {
        return Some(format!(
            "node {} is {} and never sent a heartbeat",
            node.name,
            state(node)
        ));
    };
    let silent = now.0.saturating_sub(beat.0);
    (silent > grace_ms).then(|| {
        format!(
            "node {} is {}: no heartbeat for {}s",
            node.name,
            state(node),
            silent / 1000
        )
    })
}

fn state(node: &NodeObj) -> &'static str {
    match node.status.state {
        NodeState::Disconnected => "disconnected",
        _ => "down",
    }
}

/// ORPHANED (status, on the node's behalf) and desired SHUTDOWN (so it is never wanted again).
fn orphan(task: &TaskObj, why: String, now: Timestamp, out: &mut Vec<Action>) {
    if is_wanted(task) {
        out.push(shut_down(task));
    }
    out.push(Action::SetTaskStatus {
        task_id: task.id.clone(),
        version: Some(task.version),
        status: TaskStatus {
            state: TaskState::Orphaned,
            message: why,
            timestamp: now,
            ..task.status.clone()
        },
    });
}

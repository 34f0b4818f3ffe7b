//! How clients name tasks and nodes: `web.1`, `web.<hostname>`.

use model::{NodeStatus, TaskSpec, TaskStatus};

use crate::Record;

/// The node a task is on: the scheduler's assignment, or the node a global task is bound to.
pub fn node_of(spec: &TaskSpec, status: &TaskStatus) -> Option<String> {
    status.node_id.clone().or_else(|| spec.node_id.clone())
}

/// A node's hostname as the dispatcher reported it, else the name it joined with.
pub fn hostname(node: &Record) -> String {
    let status: NodeStatus = node.status_as().unwrap_or_default();
    if status.hostname.is_empty() {
        node.metadata.name.clone()
    } else {
        status.hostname
    }
}

/// `web.1` for a replica slot, `web.<node hostname>` for a global task (DESIGN §6).
pub fn task_name(service: &str, spec: &TaskSpec, node: Option<&str>) -> String {
    match (spec.slot, node.or(spec.node_id.as_deref())) {
        (Some(slot), _) => format!("{service}.{slot}"),
        (None, Some(node)) => format!("{service}.{node}"),
        (None, None) => service.to_owned(),
    }
}

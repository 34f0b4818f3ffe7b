//! Container names and labels: how the agent recognises its containers in the engine (also
//! after a restart, when its memory is empty).

use std::collections::HashMap;

use wire::TaskAssignment;

/// Label carrying the task id.
pub const LABEL_TASK_ID: &str = "swarm.task.id";
/// Label carrying the service id.
pub const LABEL_SERVICE_ID: &str = "swarm.service.id";
/// Label carrying the service name.
pub const LABEL_SERVICE_NAME: &str = "swarm.service.name";
/// Label carrying the stack name.
pub const LABEL_STACK: &str = "swarm.stack";
/// Label carrying the node id (what the agent lists and follows events by).
pub const LABEL_NODE_ID: &str = "swarm.node.id";
/// The label `docker stack` uses, so `docker ps --filter label=...` habits keep working.
pub const LABEL_STACK_NAMESPACE: &str = "com.docker.stack.namespace";
/// Marks networks and volumes swarm created (and may therefore remove).
pub const LABEL_OWNED: &str = "swarm.owned";

/// `<stack>_<service>`, or the bare service name outside a stack.
pub fn qualified_service_name(task: &TaskAssignment) -> String {
    match &task.stack {
        Some(stack) if !task.service_name.starts_with(&format!("{stack}_")) => {
            format!("{stack}_{}", task.service_name)
        }
        _ => task.service_name.clone(),
    }
}

/// `<stack>_<service>.<slot>.<task-id>`, or `.<node-id>.` in place of the slot for global
/// services — the names `docker service ps` users know.
pub fn container_name(task: &TaskAssignment, node_id: &str) -> String {
    let service = qualified_service_name(task);
    match task.slot {
        Some(slot) => format!("{service}.{slot}.{}", task.task_id),
        None => format!("{service}.{node_id}.{}", task.task_id),
    }
}

/// The labels on a task's container: the spec's own, then swarm's (which win).
pub fn container_labels(task: &TaskAssignment, node_id: &str) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = task
        .spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert(LABEL_TASK_ID.into(), task.task_id.clone());
    labels.insert(LABEL_SERVICE_ID.into(), task.service_id.clone());
    labels.insert(LABEL_SERVICE_NAME.into(), task.service_name.clone());
    labels.insert(LABEL_NODE_ID.into(), node_id.into());
    if let Some(stack) = &task.stack {
        labels.insert(LABEL_STACK.into(), stack.clone());
        labels.insert(LABEL_STACK_NAMESPACE.into(), stack.clone());
    }
    labels
}

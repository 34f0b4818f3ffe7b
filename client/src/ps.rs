//! Rows of `service ps`, `stack ps` and `node ps` (DESIGN §6: the JSON shape is the contract),
//! with Docker's history order: per service and slot (or node), the current task first, then
//! the earlier ones, newest first. Pure, so the web UI and tests get the same rows.

use std::cmp::Reverse;
use std::collections::HashMap;

use model::{Kind, TaskSpec, TaskState, TaskStatus, Timestamp};
use wire::tasks::{hostname, node_of, task_name};
use wire::{Record, TaskRow};

/// Rows for `tasks`, naming services from `services` and nodes from `nodes`.
pub fn task_rows(services: &[Record], tasks: &[Record], nodes: &[Record]) -> Vec<TaskRow> {
    let services: HashMap<&str, &Record> = services
        .iter()
        .filter(|r| r.kind == Kind::Service)
        .map(|r| (r.id.as_str(), r))
        .collect();
    let hosts: HashMap<&str, String> = nodes
        .iter()
        .filter(|r| r.kind == Kind::Node)
        .map(|r| (r.id.as_str(), hostname(r)))
        .collect();
    let mut rows: Vec<(GroupKey, TaskRow, Timestamp)> = tasks
        .iter()
        .filter(|r| r.kind == Kind::Task)
        .filter_map(|record| {
            let spec: TaskSpec = record.spec_as().ok()?;
            let status: TaskStatus = record.status_as().ok()?;
            let service = services.get(spec.service_id.as_str());
            let service_name =
                service.map_or_else(|| spec.service_id.clone(), |s| s.metadata.name.clone());
            let node_id = node_of(&spec, &status);
            let node = node_id
                .as_deref()
                .map(|id| hosts.get(id).cloned().unwrap_or_else(|| id.to_owned()));
            let bound_node = spec
                .node_id
                .as_deref()
                .map(|id| hosts.get(id).cloned().unwrap_or_else(|| id.to_owned()));
            let key = GroupKey {
                stack: service.and_then(|s| s.metadata.stack.clone()),
                service: service_name.clone(),
                slot: spec.slot,
                node: if spec.slot.is_some() {
                    None
                } else {
                    bound_node.clone()
                },
            };
            let since = if status.timestamp.0 > 0 {
                status.timestamp
            } else {
                record.updated_at
            };
            let row = TaskRow {
                id: record.id.clone(),
                name: task_name(&service_name, &spec, bound_node.as_deref()),
                service: service_name,
                slot: spec.slot,
                node,
                desired_state: spec.desired_state,
                state: status.state,
                error: explanation(&status),
                container_id: status.container_id.clone(),
                image: spec.service_spec.image.clone(),
                since,
                history: false,
            };
            Some((key, row, record.created_at))
        })
        .collect();
    // Current (desired to run) before done, then newest first.
    rows.sort_by(|(ka, a, ca), (kb, b, cb)| {
        ka.cmp(kb)
            .then(
                a.desired_state
                    .is_terminal()
                    .cmp(&b.desired_state.is_terminal()),
            )
            .then(Reverse(ca).cmp(&Reverse(cb)))
            .then(a.id.cmp(&b.id))
    });
    let mut previous: Option<GroupKey> = None;
    rows.into_iter()
        .map(|(key, mut row, _)| {
            row.history = previous.as_ref() == Some(&key);
            previous = Some(key);
            row
        })
        .collect()
}

/// The failure, or for a task not yet placed, the scheduler's reason.
fn explanation(status: &TaskStatus) -> Option<String> {
    if let Some(error) = status.error.as_ref().filter(|e| !e.is_empty()) {
        return Some(error.clone());
    }
    let waiting = status.state <= TaskState::Pending;
    (waiting && !status.message.is_empty()).then(|| status.message.clone())
}

/// Tasks of one slot (or one node, for global services) form a group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    stack: Option<String>,
    service: String,
    slot: Option<u64>,
    node: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::test_records::record;

    fn task(id: &str, slot: u64, created: i64, desired: &str, state: &str) -> Record {
        record(
            Kind::Task,
            id,
            id,
            created,
            json!({"service_id": "s1", "slot": slot, "node_id": "n1", "service_spec": {"image": "nginx"}, "spec_version": 1, "desired_state": desired}),
            json!({"state": state, "error": if state == "failed" { Some("exit 1") } else { None }}),
        )
    }

    #[test]
    fn slots_show_the_current_task_first_then_history_newest_first() {
        let services = [record(
            Kind::Service,
            "s1",
            "web",
            0,
            json!({}),
            json!(null),
        )];
        let nodes = [record(
            Kind::Node,
            "n1",
            "n1",
            0,
            json!({}),
            json!({"hostname": "box"}),
        )];
        let tasks = [
            task("t-old", 1, 10, "shutdown", "failed"),
            task("t-2", 2, 15, "running", "running"),
            task("t-new", 1, 30, "running", "running"),
            task("t-mid", 1, 20, "shutdown", "shutdown"),
        ];
        let rows = task_rows(&services, &tasks, &nodes);
        let order: Vec<(&str, bool)> = rows.iter().map(|r| (r.id.as_str(), r.history)).collect();
        assert_eq!(
            order,
            [
                ("t-new", false),
                ("t-mid", true),
                ("t-old", true),
                ("t-2", false)
            ]
        );
        assert_eq!(rows[0].name, "web.1");
        assert_eq!(rows[0].node.as_deref(), Some("box"));
        assert_eq!(rows[2].error.as_deref(), Some("exit 1"));
    }
}

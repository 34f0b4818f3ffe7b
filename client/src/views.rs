//! Rows of `service ls` and `stack ls` (DESIGN §6: these JSON shapes are the contract), made
//! from API records. Pure, so the web UI and tests get the same rows.

use std::collections::HashMap;

use model::service::{ServiceSpec, ServiceStatus};
use model::{
    Kind, NetworkSpec, NodeRole, NodeSpec, NodeState, NodeStatus, StackSpec, StackStatus, TaskSpec,
    TaskState, TaskStatus,
};
use serde::Serialize;
use serde_json::Value;

use wire::labels::{LABEL_CONTENT_HASH, LABEL_WATCHED_FILE};
use wire::{Claim, DataRow, NetworkRow, NodeRow, Record, Replicas, ServiceRow, StackRow};

/// Task records by the id of their service, in their order: a view of each service then looks
/// at its own tasks, not at every task (services x tasks, minutes at 100,000 tasks).
pub fn tasks_by_service(tasks: &[Record]) -> HashMap<&str, Vec<&Record>> {
    let mut by_service: HashMap<&str, Vec<&Record>> = HashMap::new();
    for task in tasks {
        if let Some(id) = task.spec.get("service_id").and_then(Value::as_str) {
            by_service.entry(id).or_default().push(task);
        }
    }
    by_service
}

/// `service ls` rows; `running` counts tasks whose observed state is RUNNING.
pub fn service_rows(services: &[Record], tasks: &[Record]) -> Vec<ServiceRow> {
    let by_service = tasks_by_service(tasks);
    services
        .iter()
        .filter(|r| r.kind == Kind::Service)
        .map(|service| {
            let spec: ServiceSpec = service.spec_as().unwrap_or_default();
            let own: Vec<(TaskSpec, TaskStatus)> = by_service
                .get(service.id.as_str())
                .into_iter()
                .flatten()
                .filter_map(|t| Some((t.spec_as::<TaskSpec>().ok()?, t.status_as().ok()?)))
                .filter(|(spec, _)| spec.service_id == service.id)
                .collect();
            let running = own
                .iter()
                .filter(|(spec, status)| {
                    // A task being shut down no longer counts, as in `docker service ls`.
                    status.state == TaskState::Running && !spec.desired_state.is_terminal()
                })
                .count() as u64;
            let desired = spec.replicas().unwrap_or_else(|| {
                own.iter()
                    .filter(|(spec, _)| spec.desired_state == TaskState::Running)
                    .count() as u64
            });
            ServiceRow {
                id: service.id.clone(),
                name: service.metadata.name.clone(),
                stack: service.metadata.stack.clone(),
                mode: spec.mode().as_str().to_owned(),
                image: spec.image.clone(),
                replicas: Replicas { desired, running },
                ports: spec
                    .ports
                    .iter()
                    .map(|p| match p.published {
                        Some(published) => {
                            format!("{published}:{}/{}", p.target, p.protocol.as_str())
                        }
                        None => format!("{}/{}", p.target, p.protocol.as_str()),
                    })
                    .collect(),
                update_state: update_state(&service.status),
            }
        })
        .collect()
}

/// `stack ls` rows.
pub fn stack_rows(stacks: &[Record], services: &[Record]) -> Vec<StackRow> {
    stacks
        .iter()
        .filter(|r| r.kind == Kind::Stack)
        .map(|stack| {
            let spec: StackSpec = stack.spec_as().unwrap_or_default();
            let status: StackStatus = stack.status_as().unwrap_or_default();
            let name = stack.metadata.name.clone();
            let state = match (&status.error, status.applied_at) {
                (Some(_), _) => "error",
                (None, Some(_)) => "applied",
                (None, None) => "pending",
            };
            StackRow {
                services: services
                    .iter()
                    .filter(|s| s.metadata.stack.as_deref() == Some(name.as_str()))
                    .count(),
                name,
                source: spec.source,
                applied_at: status.applied_at,
                status: state.to_owned(),
                error: status.error,
                watched_file: stack.metadata.labels.get(LABEL_WATCHED_FILE).cloned(),
                watcher: Claim::of(stack),
            }
        })
        .collect()
}

/// The rolling update's state (`status.update.state` of [`ServiceStatus`]) as a word.
fn update_state(status: &Value) -> Option<String> {
    let status: ServiceStatus = serde_json::from_value(status.clone()).ok()?;
    status.update.map(|u| u.state.as_str().to_owned())
}

/// `node ls` rows. The leader is the manager at `leader_addr`, or the only manager when the
/// cluster has a leader at all (Node objects do not record Raft ids yet).
pub fn node_rows(
    nodes: &[Record],
    leader: Option<&str>,
    leader_addr: Option<&str>,
) -> Vec<NodeRow> {
    let typed: Vec<(&Record, NodeSpec, NodeStatus)> = nodes
        .iter()
        .filter(|r| r.kind == Kind::Node)
        .map(|r| {
            (
                r,
                r.spec_as().unwrap_or_default(),
                r.status_as().unwrap_or_default(),
            )
        })
        .collect();
    let managers = typed
        .iter()
        .filter(|(_, spec, _)| spec.role == NodeRole::Manager)
        .count();
    typed
        .into_iter()
        .map(|(record, spec, status)| {
            let manager_status = (spec.role == NodeRole::Manager).then(|| {
                let at_leader = leader_addr.is_some() && status.addr.as_deref() == leader_addr;
                if at_leader || (managers == 1 && leader.is_some()) {
                    "leader"
                } else if status.state == NodeState::Ready {
                    "reachable"
                } else {
                    "unreachable"
                }
                .to_owned()
            });
            NodeRow {
                id: record.id.clone(),
                hostname: wire::tasks::hostname(record),
                role: word(&spec.role),
                status: word(&status.state),
                availability: word(&spec.availability),
                manager_status,
                labels: spec.labels,
            }
        })
        .collect()
}

/// A unit enum as its serialized word (`manager`, `drain`).
fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `secret ls` and `config ls` rows.
pub fn data_rows(records: &[Record]) -> Vec<DataRow> {
    records
        .iter()
        .map(|r| DataRow {
            id: r.id.clone(),
            name: r.metadata.name.clone(),
            stack: r.metadata.stack.clone(),
            hash: r.metadata.labels.get(LABEL_CONTENT_HASH).cloned(),
            created_at: Some(r.created_at),
            updated_at: Some(r.updated_at),
        })
        .collect()
}

/// `network ls` rows.
pub fn network_rows(records: &[Record]) -> Vec<NetworkRow> {
    records
        .iter()
        .map(|r| NetworkRow {
            id: r.id.clone(),
            name: r.metadata.name.clone(),
            stack: r.metadata.stack.clone(),
            driver: r.spec_as::<NetworkSpec>().unwrap_or_default().driver,
        })
        .collect()
}

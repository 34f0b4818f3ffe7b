//! Rows of `service ls` and `stack ls` (DESIGN §6: these JSON shapes are the contract), made
//! from API records. Pure, so the web UI and tests get the same rows.

use std::collections::{BTreeMap, HashMap};

use model::service::{ServiceSpec, ServiceStatus};
use model::{
    Kind, NodeRole, NodeSpec, NodeState, NodeStatus, StackSpec, StackStatus, TaskSpec, TaskState,
    TaskStatus, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::apply::{Claim, LABEL_WATCHED_FILE};
use crate::store::Record;

/// Desired and running task counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replicas {
    pub desired: u64,
    pub running: u64,
}

/// One row of `service ls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub stack: Option<String>,
    pub mode: String,
    pub image: Option<String>,
    pub replicas: Replicas,
    /// Published ports as `8080:80/tcp` (`80/tcp` when not published).
    pub ports: Vec<String>,
    /// The rolling update's state, once the update controller has written one.
    pub update_state: Option<String>,
}

/// One row of `stack ls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackRow {
    pub name: String,
    /// Number of services.
    pub services: usize,
    pub source: model::StackSource,
    /// When it was last applied, as RFC 3339 text (UTC).
    #[serde(with = "rfc3339")]
    pub applied_at: Option<Timestamp>,
    /// `applied`, `error` (the last apply was refused) or `pending` (never applied).
    pub status: String,
    pub error: Option<String>,
    /// The file a GitOps watcher applied it from; kept when that watcher stops.
    pub watched_file: Option<String>,
    /// The running watcher that owns it; `None`: the CLI may change or remove it.
    pub watcher: Option<Claim>,
}

/// An optional [`Timestamp`] as RFC 3339 text; epoch milliseconds are read back too.
mod rfc3339 {
    use model::Timestamp;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<Timestamp>, out: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => out.serialize_some(&at.to_rfc3339()),
            None => out.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Option<Timestamp>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Millis(i64),
            Text(String),
        }
        match Option::<Raw>::deserialize(input)? {
            None => Ok(None),
            Some(Raw::Millis(millis)) => Ok(Some(Timestamp(millis))),
            Some(Raw::Text(text)) => Timestamp::parse_rfc3339(&text)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("`{text}` is not an RFC 3339 time"))),
        }
    }
}

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

/// One row of `node ls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `ready`, `down`, `disconnected` or `unknown` (the dispatcher's view).
    pub status: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// Managers only: `leader`, `reachable` or `unreachable`.
    pub manager_status: Option<String>,
    pub labels: BTreeMap<String, String>,
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
                hostname: crate::api::tasks::hostname(record),
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

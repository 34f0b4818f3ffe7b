//! Rows of `service ls` and `stack ls` (DESIGN §6: these JSON shapes are the contract), made
//! from API records. Pure, so the web UI and tests get the same rows.

use model::service::ServiceSpec;
use model::{Kind, StackSpec, StackStatus, TaskSpec, TaskState, TaskStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    pub applied_at: Option<Timestamp>,
    /// `applied`, `error` (the last apply was refused) or `pending` (never applied).
    pub status: String,
    pub error: Option<String>,
}

/// `service ls` rows; `running` counts tasks whose observed state is RUNNING.
pub fn service_rows(services: &[Record], tasks: &[Record]) -> Vec<ServiceRow> {
    services
        .iter()
        .filter(|r| r.kind == Kind::Service)
        .map(|service| {
            let spec: ServiceSpec = service.spec_as().unwrap_or_default();
            let own: Vec<(TaskSpec, TaskStatus)> = tasks
                .iter()
                .filter_map(|t| Some((t.spec_as::<TaskSpec>().ok()?, t.status_as().ok()?)))
                .filter(|(spec, _)| spec.service_id == service.id)
                .collect();
            let running = own
                .iter()
                .filter(|(_, status)| status.state == TaskState::Running)
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
            }
        })
        .collect()
}

/// `status.update_state` as a word, whether written as a string or as `{state: ...}`.
fn update_state(status: &Value) -> Option<String> {
    match status.get("update_state")? {
        Value::String(state) => Some(state.clone()),
        Value::Object(map) => map.get("state").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

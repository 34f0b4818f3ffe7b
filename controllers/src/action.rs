//! What controllers decide; the executor turns one pass's actions into one Raft command.

use model::service::{ServiceSpec, ServiceStatus};
use model::{ObjectMeta, TaskSpec, TaskState, TaskStatus};
use serde::{Deserialize, Serialize};

/// One decided change. `version` fields are the CAS tokens read from the view: a stale action is
/// refused by the store and the next pass decides again.
// A pass's actions live briefly in one Vec; boxing the task spec would only change the contract.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// A new task (status NEW, or PENDING with an explanation).
    CreateTask {
        metadata: ObjectMeta,
        spec: TaskSpec,
        status: TaskStatus,
    },
    /// The orchestrator wants a task to go somewhere else (usually `shutdown`).
    SetDesiredState {
        task_id: String,
        version: u64,
        desired: TaskState,
    },
    /// Status written by a controller: the scheduler's assignment (ASSIGNED + node id), a
    /// pending explanation, ORPHANED for tasks of a dead node.
    SetTaskStatus {
        task_id: String,
        version: Option<u64>,
        status: TaskStatus,
    },
    /// The reaper removes a task beyond the history limit.
    DeleteTask { task_id: String, version: u64 },
    /// Update/rollback progress of a service.
    SetServiceStatus {
        service_id: String,
        version: Option<u64>,
        status: ServiceStatus,
    },
    /// Rollback: the service goes back to its previous spec.
    SetServiceSpec {
        service_id: String,
        version: u64,
        spec: Box<ServiceSpec>,
    },
}

//! What the dispatcher gives a node's agent, and what the agent reports back. The contract
//! between manager and agent: in-process channels on a single node today, the wire format
//! between hosts later (so everything here is serde), versioned by [`SESSION_VERSION`].

use std::sync::Arc;

use model::service::{FileRef, ServiceSpec};
use model::{NetworkSpec, TaskState, TaskStatus};
use serde::{Deserialize, Serialize};

/// Version of the session messages below; a change either side cannot read bumps it.
pub const SESSION_VERSION: u32 = 1;

/// Everything one node should run, complete each time (level-triggered: the agent converges to
/// the latest set; a task absent from it is to be stopped and removed).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Assignments {
    /// Raft index the set was computed at (for logs and tests).
    pub index: u64,
    /// Shared, not copied, by the manager's cache, the published set and the agent's workers
    /// (the same on the wire as plain assignments).
    pub tasks: Vec<Arc<TaskAssignment>>,
}

/// One task for this node, with exactly the networks, secrets and configs it needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskAssignment {
    pub task_id: String,
    /// `service.slot` or `service.node`, as `service ps` shows it.
    pub display_name: String,
    pub service_id: String,
    pub service_name: String,
    pub stack: Option<String>,
    pub slot: Option<u64>,
    /// The service spec snapshot the task runs (shared by the tasks of one service version; the
    /// same on the wire as a plain spec).
    pub spec: Arc<ServiceSpec>,
    pub spec_version: u64,
    pub desired_state: TaskState,
    /// The last status the manager recorded (the agent never moves a task backwards).
    pub status: TaskStatus,
    pub networks: Vec<NetworkAttachment>,
    pub secrets: Vec<FileData>,
    pub configs: Vec<FileData>,
}

/// A network a task joins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkAttachment {
    /// The key the service uses (`front`).
    pub key: String,
    /// The Docker network name (`<stack>_front`, or the `name:`/external name).
    pub docker_name: String,
    pub spec: NetworkSpec,
    /// Names other tasks reach this one by: the service name and `<stack>_<service>`, plus the
    /// service's aliases on this network.
    pub aliases: Vec<String>,
}

/// A secret or config as a file in the container.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileData {
    pub reference: FileRef,
    /// The object's name (default file name).
    pub name: String,
    /// sha256 of the content (part of the on-node file name, so new content is a new file).
    pub content_hash: String,
    /// The data. Never logged.
    pub content: String,
}

/// A status change the agent observed for one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    pub task_id: String,
    pub status: TaskStatus,
}

//! What the dispatcher gives a node's agent, and what the agent reports back. The contract
//! between manager and agent: in-process channels for a manager's own agent, HTTP between
//! hosts (routes under [`SESSION_PREFIX`]), versioned by [`SESSION_VERSION`].

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

// The session over the network (issue 10 §5). An agent opens a session with the Raft leader's
// dispatcher, then holds three calls open against it: the assignments stream (the full set
// first, then changes), report batches, and heartbeats. Routes live under
// [`SESSION_PREFIX`]; a body either side cannot read is answered with an [`crate::ErrorBody`].

/// Path prefix of the session routes (served on the node-to-node listener, never the API).
pub const SESSION_PREFIX: &str = "/v1/session";

/// `POST /v1/session/open`: who the node is and what it offers. The node's id is not in the
/// body: the manager takes it from the peer's certificate (CN).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenSession {
    /// [`SESSION_VERSION`] the agent speaks; another version is refused with a clear error.
    pub version: u32,
    /// What `node ls` shows (`--node-name`).
    pub node_name: String,
    /// Where other nodes reach this one (`--advertise-addr`), if it serves anything.
    pub advertise_addr: Option<String>,
    /// Platform, resources and engine labels, as the node's runtime describes them (its state,
    /// name, id and address are the manager's to set).
    pub description: model::NodeStatus,
}

/// The answer to [`OpenSession`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionOpened {
    /// Names this session in the calls that follow; a new open ends the previous session.
    pub session_id: String,
    /// The node's record id (what tasks' `node_id` holds).
    pub node_id: String,
    /// How often the agent must send a heartbeat; silent for 3 periods, the node is down.
    pub heartbeat_period_ms: u64,
    /// The managers the agent may move to when this one fails.
    pub managers: Managers,
}

/// The managers' node-to-node addresses (`host:port`), as the Raft membership lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Managers {
    /// The Raft leader's address, when one is known: the only manager that serves sessions.
    pub leader: Option<String>,
    /// Every manager's address, the leader's included.
    pub addrs: Vec<String>,
}

/// One line of `GET /v1/session/{id}/assignments` (newline-delimited JSON): the full set
/// first, then only what changed, each at the Raft index it was computed at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssignmentsMessage {
    /// Everything the node should run; replaces whatever the agent held.
    Full(Assignments),
    /// Tasks added or changed, and tasks no longer the node's (to be stopped and removed).
    Changes(AssignmentChanges),
}

/// An incremental change of a node's assignments.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AssignmentChanges {
    /// Raft index the change was computed at.
    pub index: u64,
    /// Tasks new to the node or changed, whole.
    pub upsert: Vec<Arc<TaskAssignment>>,
    /// Ids of tasks the node no longer runs.
    pub remove: Vec<String>,
}

impl Assignments {
    /// Applies a change: upserted tasks replace those with their id, removed ones go.
    pub fn apply(&mut self, changes: AssignmentChanges) {
        let gone: std::collections::HashSet<&str> = changes
            .remove
            .iter()
            .map(String::as_str)
            .chain(changes.upsert.iter().map(|t| t.task_id.as_str()))
            .collect();
        self.tasks.retain(|t| !gone.contains(t.task_id.as_str()));
        self.tasks.extend(changes.upsert);
        self.tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        self.index = changes.index;
    }
}

/// `POST /v1/session/{id}/reports`: task status changes, answered once they are written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskReports {
    pub reports: Vec<TaskReport>,
}

/// The answer to `POST /v1/session/{id}/heartbeat`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    /// The period to keep (the cluster's setting may have changed).
    pub heartbeat_period_ms: u64,
    /// The managers as they are now.
    pub managers: Managers,
}

/// Stable `code`s of session error bodies, so an agent can decide where to go next.
pub mod codes {
    /// This manager is not the leader; `details.leader` holds the leader's address if known.
    pub const NOT_LEADER: &str = "not_leader";
    /// The session id is unknown here (another session replaced it, or the manager restarted):
    /// open a new one.
    pub const UNKNOWN_SESSION: &str = "unknown_session";
    /// The request carried no authenticated node identity, or another node's session.
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// The agent speaks another [`super::SESSION_VERSION`].
    pub const VERSION: &str = "session_version";
    /// The node could not be registered (a name taken by another node, ...).
    pub const REFUSED: &str = "refused";
    /// The store could not write; retry.
    pub const UNAVAILABLE: &str = "unavailable";
}

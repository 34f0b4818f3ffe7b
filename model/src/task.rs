//! Task spec (written by controllers and the scheduler) and status (written by agents).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::Timestamp;
use crate::service::ServiceSpec;

/// Where a task is in its life. States only move forward (`Ord` follows the lifecycle).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Created by the orchestrator.
    #[default]
    New,
    /// Waiting for the scheduler.
    Pending,
    /// Assigned to a node.
    Assigned,
    /// Accepted by the node's agent.
    Accepted,
    /// The agent is pulling images, creating networks...
    Preparing,
    /// The container is created and waits for the go-ahead to start (a stop-first replacement
    /// prepares while the task it replaces stops).
    Ready,
    /// The container is starting.
    Starting,
    /// The container is running.
    Running,
    /// Exited with status 0.
    Complete,
    /// Stopped on request.
    Shutdown,
    /// Exited non-zero or could not start.
    Failed,
    /// The node refused the task.
    Rejected,
    /// Marked for deletion by the reaper.
    Remove,
    /// Its node went away.
    Orphaned,
}

impl TaskState {
    /// True once the task can never run again.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Complete
                | TaskState::Shutdown
                | TaskState::Failed
                | TaskState::Rejected
                | TaskState::Remove
                | TaskState::Orphaned
        )
    }

    /// The state as written in the API (`running`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::Pending => "pending",
            TaskState::Assigned => "assigned",
            TaskState::Accepted => "accepted",
            TaskState::Preparing => "preparing",
            TaskState::Ready => "ready",
            TaskState::Starting => "starting",
            TaskState::Running => "running",
            TaskState::Complete => "complete",
            TaskState::Shutdown => "shutdown",
            TaskState::Failed => "failed",
            TaskState::Rejected => "rejected",
            TaskState::Remove => "remove",
            TaskState::Orphaned => "orphaned",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a task should be: a snapshot of its service's spec, a slot or node, a desired state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct TaskSpec {
    /// The service this task belongs to.
    pub service_id: String,
    /// Replica slot (replicated modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u64>,
    /// Node the task is bound to (global modes) or was placed on (scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// The service spec this task runs; shared (not copied) by the tasks of one service version
    /// held in memory, see [`SharedSpecs`].
    pub service_spec: Arc<ServiceSpec>,
    /// Version of the service the spec snapshot was taken from.
    pub spec_version: u64,
    /// Where the orchestrator wants the task to go.
    #[serde(default)]
    pub desired_state: TaskState,
    /// Not started before this instant: a restart delay's end. Until then the task is placed
    /// and prepared, wanting READY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<Timestamp>,
}

/// One in-memory copy of each service spec tasks run: a service's replicas all carry the same
/// spec, and a copy per task would make the spec most of the manager's memory per task.
#[derive(Clone, Debug, Default)]
pub struct SharedSpecs {
    by_version: HashMap<(String, u64), Arc<ServiceSpec>>,
}

impl SharedSpecs {
    /// Makes `spec` share its service spec with an equal one seen for the same service and
    /// version (a spec that differs keeps its own copy: sharing never changes a task).
    pub fn share(&mut self, spec: &mut TaskSpec) {
        spec.service_spec = self.shared(&spec.service_id, spec.spec_version, &spec.service_spec);
    }

    /// The one copy of `service_spec`, the spec of `service_id` at `version`.
    pub fn shared(
        &mut self,
        service_id: &str,
        version: u64,
        service_spec: &Arc<ServiceSpec>,
    ) -> Arc<ServiceSpec> {
        let key = (service_id.to_owned(), version);
        match self.by_version.get(&key) {
            Some(shared) if shared == service_spec => Arc::clone(shared),
            Some(_) => Arc::clone(service_spec),
            None => {
                self.by_version.insert(key, Arc::clone(service_spec));
                Arc::clone(service_spec)
            }
        }
    }

    /// Forgets the specs no task holds any more.
    pub fn prune(&mut self) {
        self.by_version
            .retain(|_, spec| Arc::strong_count(spec) > 1);
    }

    /// Number of distinct specs held.
    pub fn len(&self) -> usize {
        self.by_version.len()
    }

    /// Whether no spec is held.
    pub fn is_empty(&self) -> bool {
        self.by_version.is_empty()
    }
}

/// What the agent observed of a task.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct TaskStatus {
    /// Current state.
    #[serde(default)]
    pub state: TaskState,
    /// Node assigned by the scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// The container running the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Exit code once exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Why the task failed or was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Human-readable progress (`pulling image`, `no suitable node ...`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// When the state last changed.
    #[serde(default)]
    pub timestamp: Timestamp,
    /// When the task was first reported RUNNING; kept by the states after it, so an update can
    /// tell a replacement that failed within its `monitor` window from one that ran for long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_order_by_lifecycle_and_know_when_they_end() {
        assert!(TaskState::New < TaskState::Pending);
        assert!(TaskState::Running < TaskState::Complete);
        assert!(TaskState::Remove < TaskState::Orphaned);
        assert!(!TaskState::Running.is_terminal());
        assert!(TaskState::Failed.is_terminal() && TaskState::Orphaned.is_terminal());
        assert_eq!(
            serde_json::to_value(TaskState::Running).expect("ser"),
            "running"
        );
        assert_eq!(TaskState::Preparing.to_string(), "preparing");
    }

    #[test]
    fn tasks_of_one_service_version_share_one_spec_and_a_different_spec_is_kept() {
        let task = |version: u64, image: &str| TaskSpec {
            service_id: "s".into(),
            spec_version: version,
            service_spec: Arc::new(ServiceSpec {
                image: Some(image.into()),
                ..ServiceSpec::default()
            }),
            ..TaskSpec::default()
        };
        let mut specs = SharedSpecs::default();
        let (mut a, mut b, mut c) = (task(1, "x"), task(1, "x"), task(1, "y"));
        specs.share(&mut a);
        specs.share(&mut b);
        specs.share(&mut c);
        assert!(Arc::ptr_eq(&a.service_spec, &b.service_spec));
        assert_eq!(c.service_spec.image.as_deref(), Some("y"), "never changed");
        drop((a, b, c));
        specs.prune();
        assert!(specs.is_empty(), "nothing holds the spec any more");
    }
}

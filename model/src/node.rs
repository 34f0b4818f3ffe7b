//! Node spec (written by the API) and status (written by the dispatcher).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::Timestamp;

/// Whether a node takes part in Raft and runs the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// Runs the API, Raft and controllers (and tasks unless drained).
    Manager,
    /// Only runs tasks.
    #[default]
    Worker,
}

/// Whether the scheduler may place tasks on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    /// New tasks may be placed.
    #[default]
    Active,
    /// No new tasks; existing ones keep running.
    Pause,
    /// No tasks; existing ones are moved elsewhere.
    Drain,
}

/// What an operator wants of a node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NodeSpec {
    /// Manager or worker.
    #[serde(default)]
    pub role: NodeRole,
    /// Active, pause or drain.
    #[serde(default)]
    pub availability: Availability,
    /// Operator labels, matched by `node.labels.*` constraints.
    #[serde(
        default,
        deserialize_with = "crate::service::lists::labels",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "crate::service::lists::ListOrDict")]
    pub labels: BTreeMap<String, String>,
}

/// Liveness of a node as seen by the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Not heard from yet.
    #[default]
    Unknown,
    /// Missed its heartbeats.
    Down,
    /// Heartbeating and ready for tasks.
    Ready,
    /// Its session ended; it may come back.
    Disconnected,
}

/// Operating system and CPU architecture of a node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Platform {
    /// `linux`, `windows`, ...
    #[serde(default)]
    pub os: String,
    /// `x86_64`, `aarch64`, ...
    #[serde(default)]
    pub arch: String,
}

/// What a node offers to tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct NodeResources {
    /// CPUs in billionths.
    #[serde(default)]
    pub nano_cpus: i64,
    /// Memory in bytes.
    #[serde(default)]
    pub memory_bytes: i64,
}

/// What the dispatcher observed of a node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct NodeStatus {
    /// Liveness.
    #[serde(default)]
    pub state: NodeState,
    /// Address the node is reachable at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// The node's name (`--node-name`, by default its hostname).
    #[serde(default)]
    pub hostname: String,
    /// The node's random id: the CN of its certificate (empty before the node reported).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_id: String,
    /// OS and architecture.
    #[serde(default)]
    pub platform: Platform,
    /// CPU and memory.
    #[serde(default)]
    pub resources: NodeResources,
    /// Labels of the Docker engine, matched by `engine.labels.*` constraints.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub engine_labels: BTreeMap<String, String>,
    /// Last heartbeat received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat: Option<Timestamp>,
    /// Human-readable explanation of the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

//! Request and response bodies of the HTTP API (`/v1`).

use std::collections::BTreeMap;

use model::Availability;
use model::{Manifest, StackSource};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Record, StackChange};

/// What `POST /v1/apply` reads as JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApplyBody {
    /// Stack name (`?stack=` wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// Manifests with secret/config content inline.
    pub manifests: Vec<Manifest>,
    /// Where the client loaded them from.
    #[serde(default)]
    pub source: StackSource,
}

/// Body of `POST /v1/secrets` and `POST /v1/configs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataBody {
    pub name: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Body of `POST /v1/services/{name}/scale`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScaleBody {
    pub replicas: u64,
    /// Refuse (409) unless the service is still at this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

/// Body of `POST /v1/services/{name}/update`; absent fields are left as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UpdateBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u64>,
    /// Environment variables to set (`--env-add K=V`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env_add: BTreeMap<String, String>,
    /// Environment variables to remove (`--env-rm K`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_rm: Vec<String>,
    /// Service labels (`deploy.labels`) to set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label_add: BTreeMap<String, String>,
    /// Service labels to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_rm: Vec<String>,
    /// Replace every task even when nothing else changes (as `docker service update --force`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

/// Body of `rollback` and `restart` (optional): only a compare-and-set version.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VersionBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

/// Body of `POST /v1/nodes/{name}/update`; absent fields are left as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NodeUpdateBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label_add: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_rm: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
}

/// What an edit returns: the object as stored afterwards and what changed, as a plan line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObjectChange {
    /// The object after the edit (unchanged when the edit changed nothing).
    pub object: Record,
    /// `~ service web: deploy.replicas 3 -> 5`, or `= service web (unchanged)`.
    pub plan: StackChange,
    /// Raft log index of the write; absent when nothing was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// What `GET /v1/cluster/join-tokens` (and a rotation) returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinTokens {
    /// The cluster's id (the O of every node certificate).
    pub cluster_id: String,
    /// The digest of the root CA certificate the tokens pin.
    pub ca_digest: String,
    /// The token that joins a node as a worker.
    pub worker: String,
    /// The token that joins a node as a manager.
    pub manager: String,
}

/// What `GET /v1/cluster` returns.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// This manager's Raft node id.
    pub node_id: Value,
    /// The leader's node id, when one is known.
    pub leader: Value,
    /// The leader's Raft address, when known (`node ls` marks the manager there as leader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_addr: Option<String>,
    /// Whether this manager is the leader.
    pub is_leader: bool,
    /// Raft ids of the managers that vote (a majority of them must be up to write).
    #[serde(default)]
    pub voters: Vec<u64>,
    /// Raft ids of managers still catching up before they vote.
    #[serde(default)]
    pub learners: Vec<u64>,
    /// Current Raft term.
    pub term: Value,
    /// Log index of the last entry applied to the store.
    pub last_applied: u64,
    /// Objects stored, by kind (`services`, `tasks`, ...).
    pub objects: Map<String, Value>,
    /// Seconds since this API started.
    pub uptime_seconds: u64,
}

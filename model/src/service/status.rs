//! What controllers record about a service: rolling update / rollback progress and the spec to
//! roll back to.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ServiceSpec;
use crate::meta::Timestamp;

/// Where a rolling update or rollback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    Updating,
    Paused,
    Completed,
    RollbackStarted,
    RollbackPaused,
    RollbackCompleted,
}

impl UpdateState {
    /// The state as shown in `service ls` (`updating`, `rollback_completed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            UpdateState::Updating => "updating",
            UpdateState::Paused => "paused",
            UpdateState::Completed => "completed",
            UpdateState::RollbackStarted => "rollback_started",
            UpdateState::RollbackPaused => "rollback_paused",
            UpdateState::RollbackCompleted => "rollback_completed",
        }
    }
}

/// Progress of the latest update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UpdateStatus {
    pub state: UpdateState,
    #[serde(default)]
    pub started_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// Why it paused or rolled back.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// A service's status (written by controllers only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ServiceStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateStatus>,
    /// The spec before the latest update, for `service rollback` and automatic rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_spec: Option<Box<ServiceSpec>>,
    /// Store version of the spec the tasks should converge to (tasks record it as
    /// `spec_version`).
    #[serde(default)]
    pub spec_version: u64,
    /// Fingerprint of the spec `spec_version` refers to: a status write bumps the store version
    /// too, so controllers tell "the spec changed" from "we wrote status" by this, not by version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_digest: Option<String>,
    /// Why the service runs fewer tasks than asked (e.g. restart attempts exhausted).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

//! Query parameters of the HTTP API (`/v1`).

use serde::{Deserialize, Serialize};

/// Query parameters of an apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyQuery {
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub prune: bool,
    pub stack: Option<String>,
    /// Apply only while the Stack object is at this version (0: not created yet); else 409.
    pub expected_version: Option<u64>,
}

/// `?stack=NAME` (and for tasks `?service=NAME_OR_ID`, `?node=NAME_OR_ID`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub stack: Option<String>,
    pub service: Option<String>,
    pub node: Option<String>,
}

/// `?force=true` of a node delete.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    pub force: bool,
}

/// Query of the logs endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogsQuery {
    pub stack: Option<String>,
    #[serde(default)]
    pub follow: bool,
    pub tail: Option<u64>,
}

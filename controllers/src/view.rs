//! The read-only, typed snapshot of the cluster a reconcile pass looks at.

use std::collections::BTreeMap;

use model::service::ServiceSpec;
use model::{NodeSpec, NodeStatus, TaskSpec, TaskStatus};
use serde::{Deserialize, Serialize};

/// A service as controllers see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceObj {
    pub id: String,
    /// Store version (Raft index of the last write): the CAS token and the spec version tasks
    /// record.
    pub version: u64,
    pub name: String,
    pub stack: Option<String>,
    pub spec: ServiceSpec,
    pub status: model::service::ServiceStatus,
}

/// A task as controllers see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskObj {
    pub id: String,
    pub version: u64,
    /// Unique store name (`<service>.<slot>.<seq>` or `<service>.<node>.<seq>`).
    pub name: String,
    pub spec: TaskSpec,
    pub status: TaskStatus,
}

/// A node as controllers see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeObj {
    pub id: String,
    pub version: u64,
    pub name: String,
    pub spec: NodeSpec,
    pub status: NodeStatus,
}

/// Everything a reconcile pass may read, keyed by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterView {
    pub services: BTreeMap<String, ServiceObj>,
    pub tasks: BTreeMap<String, TaskObj>,
    pub nodes: BTreeMap<String, NodeObj>,
}

impl ClusterView {
    /// Tasks of one service.
    pub fn tasks_of<'a>(&'a self, service_id: &'a str) -> impl Iterator<Item = &'a TaskObj> + 'a {
        self.tasks
            .values()
            .filter(move |t| t.spec.service_id == service_id)
    }
}

//! The read-only, typed snapshot of the cluster a reconcile pass looks at.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

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
#[derive(Debug, Default)]
pub struct ClusterView {
    pub services: BTreeMap<String, ServiceObj>,
    pub tasks: BTreeMap<String, TaskObj>,
    pub nodes: BTreeMap<String, NodeObj>,
    /// Task ids by service, built on first use: controllers look at every service's tasks, and
    /// scanning all tasks for each service would cost services x tasks per pass.
    by_service: OnceLock<ByService>,
}

#[derive(Debug)]
struct ByService {
    /// `tasks.len()` when built: a task inserted directly (not through [`ClusterView::absorb`])
    /// changes it, and the grouping is made again.
    count: usize,
    ids: HashMap<String, Vec<String>>,
}

impl ClusterView {
    /// A view of these objects.
    pub fn new(
        services: BTreeMap<String, ServiceObj>,
        tasks: BTreeMap<String, TaskObj>,
        nodes: BTreeMap<String, NodeObj>,
    ) -> ClusterView {
        ClusterView {
            services,
            tasks,
            nodes,
            by_service: OnceLock::new(),
        }
    }

    /// Tasks of one service, in id order.
    pub fn tasks_of<'a, 's>(
        &'a self,
        service_id: &'s str,
    ) -> impl Iterator<Item = &'a TaskObj> + use<'a, 's> {
        let grouped = match self.by_service.get() {
            Some(grouped) if grouped.count == self.tasks.len() => Some(grouped),
            Some(_) => None,
            None => Some(self.by_service.get_or_init(|| self.group())),
        };
        let (cached, scanned) = match grouped {
            Some(grouped) => (grouped.ids.get(service_id), None),
            None => (None, Some(self.tasks.values())),
        };
        let cached = cached
            .into_iter()
            .flatten()
            .filter_map(|id| self.tasks.get(id));
        cached
            .chain(scanned.into_iter().flatten())
            .filter(move |t| t.spec.service_id == service_id)
    }

    /// Forgets the grouping by service (the tasks changed).
    pub(crate) fn tasks_changed(&mut self) {
        self.by_service.take();
    }

    fn group(&self) -> ByService {
        let mut ids: HashMap<String, Vec<String>> = HashMap::new();
        for task in self.tasks.values() {
            ids.entry(task.spec.service_id.clone())
                .or_default()
                .push(task.id.clone());
        }
        ByService {
            count: self.tasks.len(),
            ids,
        }
    }
}

impl Clone for ClusterView {
    fn clone(&self) -> ClusterView {
        ClusterView::new(
            self.services.clone(),
            self.tasks.clone(),
            self.nodes.clone(),
        )
    }
}

impl PartialEq for ClusterView {
    fn eq(&self, other: &ClusterView) -> bool {
        (&self.services, &self.tasks, &self.nodes) == (&other.services, &other.tasks, &other.nodes)
    }
}

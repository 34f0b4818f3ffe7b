//! The read-only, typed snapshot of the cluster a reconcile pass looks at.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

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

/// Everything a reconcile pass may read, keyed by id. The maps are read through methods and
/// written through the methods below, which keep the grouping of tasks by service in step.
/// Tasks are shared (`Arc`): a pass works on a clone of the view, and copying every task of a
/// big cluster for each pass would cost more than the pass decides; a task is copied only when
/// the pass changes it.
#[derive(Clone, Debug, Default)]
pub struct ClusterView {
    services: BTreeMap<String, ServiceObj>,
    tasks: BTreeMap<String, Arc<TaskObj>>,
    nodes: BTreeMap<String, NodeObj>,
    /// Task ids by service, built on first use (controllers look at every service's tasks, and
    /// scanning all tasks for each service would cost services x tasks per pass), then kept up
    /// to date by every write of a task.
    by_service: OnceLock<HashMap<String, Vec<String>>>,
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
            tasks: tasks.into_iter().map(|(id, t)| (id, Arc::new(t))).collect(),
            nodes,
            by_service: OnceLock::new(),
        }
    }

    /// Every service, by id.
    pub fn services(&self) -> &BTreeMap<String, ServiceObj> {
        &self.services
    }

    /// Every task, by id.
    pub fn tasks(&self) -> &BTreeMap<String, Arc<TaskObj>> {
        &self.tasks
    }

    /// Every node, by id.
    pub fn nodes(&self) -> &BTreeMap<String, NodeObj> {
        &self.nodes
    }

    /// Tasks of one service, in id order.
    pub fn tasks_of<'a>(&'a self, service_id: &str) -> impl Iterator<Item = &'a TaskObj> + use<'a> {
        let grouped = self.by_service.get_or_init(|| self.group());
        grouped
            .get(service_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.tasks.get(id).map(Arc::as_ref))
    }

    /// Adds or replaces a service.
    pub fn insert_service(&mut self, service: ServiceObj) -> Option<ServiceObj> {
        self.services.insert(service.id.clone(), service)
    }

    /// Removes a service (its tasks stay).
    pub fn remove_service(&mut self, id: &str) -> Option<ServiceObj> {
        self.services.remove(id)
    }

    /// One service to change in place.
    pub fn service_mut(&mut self, id: &str) -> Option<&mut ServiceObj> {
        self.services.get_mut(id)
    }

    /// Adds or replaces a node.
    pub fn insert_node(&mut self, node: NodeObj) -> Option<NodeObj> {
        self.nodes.insert(node.id.clone(), node)
    }

    /// Removes a node.
    pub fn remove_node(&mut self, id: &str) -> Option<NodeObj> {
        self.nodes.remove(id)
    }

    /// One node to change in place.
    pub fn node_mut(&mut self, id: &str) -> Option<&mut NodeObj> {
        self.nodes.get_mut(id)
    }

    /// Adds or replaces a task (a `TaskObj` or one already shared).
    pub fn insert_task(&mut self, task: impl Into<Arc<TaskObj>>) -> Option<Arc<TaskObj>> {
        let task = task.into();
        let old = self.remove_task(&task.id);
        if let Some(grouped) = self.by_service.get_mut() {
            let ids = grouped.entry(task.spec.service_id.clone()).or_default();
            // Kept in id order, as the tasks map is.
            let at = ids.partition_point(|id| *id < task.id);
            ids.insert(at, task.id.clone());
        }
        self.tasks.insert(task.id.clone(), task);
        old
    }

    /// Removes a task.
    pub fn remove_task(&mut self, id: &str) -> Option<Arc<TaskObj>> {
        let task = self.tasks.remove(id)?;
        if let Some(grouped) = self.by_service.get_mut()
            && let Some(ids) = grouped.get_mut(&task.spec.service_id)
        {
            ids.retain(|other| other != id);
        }
        Some(task)
    }

    /// Changes one task in place with `change`; false when there is no such task.
    pub fn update_task(&mut self, id: &str, change: impl FnOnce(&mut TaskObj)) -> bool {
        let Some(task) = self.tasks.get_mut(id) else {
            return false;
        };
        let service_id = task.spec.service_id.clone();
        // Copies the task if another view still shares it.
        change(Arc::make_mut(task));
        if task.spec.service_id != service_id {
            // Moved to another service: file it there.
            if let Some(task) = self.remove_task_grouped_under(id, &service_id) {
                self.insert_task(task);
            }
        }
        true
    }

    /// Removes task `id`, filed under `service_id` in the grouping.
    fn remove_task_grouped_under(&mut self, id: &str, service_id: &str) -> Option<Arc<TaskObj>> {
        if let Some(grouped) = self.by_service.get_mut()
            && let Some(ids) = grouped.get_mut(service_id)
        {
            ids.retain(|other| other != id);
        }
        self.tasks.remove(id)
    }

    fn group(&self) -> HashMap<String, Vec<String>> {
        let mut ids: HashMap<String, Vec<String>> = HashMap::new();
        for task in self.tasks.values() {
            ids.entry(task.spec.service_id.clone())
                .or_default()
                .push(task.id.clone());
        }
        ids
    }
}

impl PartialEq for ClusterView {
    fn eq(&self, other: &ClusterView) -> bool {
        (&self.services, &self.tasks, &self.nodes) == (&other.services, &other.tasks, &other.nodes)
    }
}

//! Start ordering (`depends_on`): a task is placed only once every service it depends on has its
//! desired tasks started (`service_started`, the default), healthy (`service_healthy`) or
//! completed (`service_completed_successfully`). Until then it stays PENDING saying which
//! dependency it waits for, so no container of it exists before its dependencies are ready.
//!
//! Dependencies are services of the same stack, by name. As in Compose the gate is about
//! starting: running tasks are never stopped when a dependency fails later; only tasks still
//! waiting for a node (a first start, a replacement, a new replica) wait. A dependency cycle,
//! refused at validation, would simply wait forever with its reason shown.

use std::collections::HashMap;

use model::TaskState;
use model::service::{DependsCondition, ServiceSpec};

use crate::service::desired_slots;
use crate::tasks::{is_wanted, slots_of};
use crate::{ClusterView, ServiceObj, TaskObj};

/// Answers "what does this task wait for?" for one pass, judging each dependency once.
pub struct Dependencies<'a> {
    view: &'a ClusterView,
    by_name: HashMap<(Option<&'a str>, &'a str), &'a ServiceObj>,
    judged: HashMap<(String, DependsCondition), (usize, usize)>,
}

impl<'a> Dependencies<'a> {
    /// Dependencies as `view` stands.
    pub fn new(view: &'a ClusterView) -> Dependencies<'a> {
        let by_name = view
            .services()
            .values()
            .map(|s| ((s.stack.as_deref(), s.name.as_str()), s))
            .collect();
        Dependencies {
            view,
            by_name,
            judged: HashMap::new(),
        }
    }

    /// Why `task` may not be placed yet (its first unmet dependency, by name), or `None`.
    pub fn waiting_for(&mut self, task: &TaskObj) -> Option<String> {
        let spec: &ServiceSpec = &task.spec.service_spec;
        if spec.depends_on.is_empty() {
            return None;
        }
        let stack = self
            .view
            .services()
            .get(&task.spec.service_id)
            .and_then(|s| s.stack.as_deref());
        for (name, dep) in &spec.depends_on {
            let condition = dep.condition;
            let what = format!("waiting for dependency {name} ({})", keyword(condition));
            let Some(service) = self.by_name.get(&(stack, name.as_str())).copied() else {
                if !dep.required {
                    continue;
                }
                let scope = stack.map_or(String::new(), |s| format!(" in stack {s}"));
                return Some(format!("{what}: no service {name}{scope}"));
            };
            let (met, wanted) = *self
                .judged
                .entry((service.id.clone(), condition))
                .or_insert_with(|| progress(service, condition, self.view));
            if met < wanted {
                return Some(format!("{what}: {met}/{wanted} {}", adjective(condition)));
            }
        }
        None
    }
}

/// (slots that reached `condition`, slots the service wants).
fn progress(svc: &ServiceObj, condition: DependsCondition, view: &ClusterView) -> (usize, usize) {
    let job = svc.spec.mode().is_job();
    let slots = slots_of(view, &svc.id);
    let desired = desired_slots(svc, view);
    let met = desired
        .iter()
        .filter(|key| {
            let tasks = slots.get(key).map(Vec::as_slice).unwrap_or_default();
            match condition {
                DependsCondition::ServiceCompletedSuccessfully => tasks
                    .last()
                    .is_some_and(|t| t.status.state == TaskState::Complete),
                DependsCondition::ServiceStarted => tasks.iter().any(|t| {
                    is_wanted(t)
                        && (matches!(t.status.state, TaskState::Starting | TaskState::Running)
                            || (job && t.status.state == TaskState::Complete))
                }),
                // The agent reports RUNNING only once a healthcheck passed; a service without
                // one counts as healthy when running, as in Compose.
                DependsCondition::ServiceHealthy => tasks.iter().any(|t| {
                    is_wanted(t)
                        && (t.status.state == TaskState::Running
                            || (job && t.status.state == TaskState::Complete))
                }),
            }
        })
        .count();
    (met, desired.len())
}

/// The condition as a stack file spells it.
fn keyword(condition: DependsCondition) -> &'static str {
    match condition {
        DependsCondition::ServiceStarted => "service_started",
        DependsCondition::ServiceHealthy => "service_healthy",
        DependsCondition::ServiceCompletedSuccessfully => "service_completed_successfully",
    }
}

fn adjective(condition: DependsCondition) -> &'static str {
    match condition {
        DependsCondition::ServiceStarted => "started",
        DependsCondition::ServiceHealthy => "healthy",
        DependsCondition::ServiceCompletedSuccessfully => "completed",
    }
}

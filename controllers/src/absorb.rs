//! Absorbing actions into a view: how one pass lets each controller see what the previous ones
//! decided, and how tests simulate the store.

use crate::{Action, ClusterView, TaskObj};

impl ClusterView {
    /// Absorbs one action as the store would execute it. Written objects get `version` (`None` keeps the
    /// versions read, as in-pass planning needs: every action of a pass carries the store's
    /// version); a created task gets the id `created_id`. Actions on missing objects do nothing.
    pub fn absorb(&mut self, action: &Action, created_id: &str, version: Option<u64>) {
        let bump = |v: &mut u64| {
            if let Some(new) = version {
                *v = new;
            }
        };
        match action {
            Action::CreateTask {
                metadata,
                spec,
                status,
            } => {
                self.insert_task(TaskObj {
                    id: created_id.to_owned(),
                    version: version.unwrap_or(0),
                    name: metadata.name.clone(),
                    spec: spec.clone(),
                    status: status.clone(),
                });
            }
            Action::SetDesiredState {
                task_id, desired, ..
            } => {
                self.update_task(task_id, |task| {
                    task.spec.desired_state = *desired;
                    bump(&mut task.version);
                });
            }
            Action::SetTaskStatus {
                task_id, status, ..
            } => {
                self.update_task(task_id, |task| {
                    task.status = status.clone();
                    bump(&mut task.version);
                });
            }
            Action::DeleteTask { task_id, .. } => {
                self.remove_task(task_id);
            }
            Action::SetServiceStatus {
                service_id, status, ..
            } => {
                if let Some(svc) = self.service_mut(service_id) {
                    svc.status = status.clone();
                    bump(&mut svc.version);
                }
            }
            Action::SetServiceSpec {
                service_id, spec, ..
            } => {
                if let Some(svc) = self.service_mut(service_id) {
                    svc.spec = (**spec).clone();
                    bump(&mut svc.version);
                }
            }
        }
    }
}

impl Action {
    /// The existing object an action writes (`None` for a creation).
    pub fn target(&self) -> Option<(&'static str, &str)> {
        match self {
            Action::CreateTask { .. } => None,
            Action::SetDesiredState { task_id, .. }
            | Action::SetTaskStatus { task_id, .. }
            | Action::DeleteTask { task_id, .. } => Some(("task", task_id)),
            Action::SetServiceStatus { service_id, .. }
            | Action::SetServiceSpec { service_id, .. } => Some(("service", service_id)),
        }
    }

    /// The version the action expects its object at, if it compares-and-sets.
    pub fn expected_version(&self) -> Option<u64> {
        match self {
            Action::CreateTask { .. } => None,
            Action::SetDesiredState { version, .. }
            | Action::DeleteTask { version, .. }
            | Action::SetServiceSpec { version, .. } => Some(*version),
            Action::SetTaskStatus { version, .. } | Action::SetServiceStatus { version, .. } => {
                *version
            }
        }
    }
}

//! Per-object merging of a pass's actions, so that one store command never carries two
//! conflicting writes to one object.

use std::collections::HashMap;

use crate::Action;

/// Ids of tasks created in this pass, as the working view knows them.
pub(crate) const NEW_TASK: &str = "new:";

/// [`Merge`] of `actions`, in order.
pub fn merge(actions: impl IntoIterator<Item = Action>) -> Vec<Action> {
    let mut merge = Merge::default();
    for action in actions {
        merge.push(action);
    }
    merge.finish()
}

#[derive(Default)]
struct ObjectActions {
    create: Option<Action>,
    spec: Option<Action>,
    status: Option<Action>,
    delete: Option<Action>,
}

/// Actions merged per object: at most one spec write followed by at most one status write
/// (which then carries no version: the spec write's compare-and-set covers the atomic command),
/// or a lone delete; later actions on a task created in the same batch (named
/// `new:<task name>`) are folded into its `CreateTask`. Objects keep the order they were first
/// named in.
#[derive(Default)]
pub struct Merge {
    entries: Vec<ObjectActions>,
    by_object: HashMap<(&'static str, String), usize>,
}

impl Merge {
    /// Adds one action; later actions on an object win over earlier ones of the same sort.
    pub fn push(&mut self, action: Action) {
        let Some((kind, id)) = action.target().map(|(k, id)| (k, id.to_owned())) else {
            let Action::CreateTask { metadata, .. } = &action else {
                return;
            };
            let id = format!("{NEW_TASK}{}", metadata.name);
            self.by_object.insert(("task", id), self.entries.len());
            self.entries.push(ObjectActions {
                create: Some(action),
                ..ObjectActions::default()
            });
            return;
        };
        let next = self.entries.len();
        let index = *self.by_object.entry((kind, id)).or_insert(next);
        if index == next {
            self.entries.push(ObjectActions::default());
        }
        let entry = &mut self.entries[index];
        if let Some(Action::CreateTask { spec, status, .. }) = entry.create.as_mut() {
            match action {
                Action::SetDesiredState { desired, .. } => spec.desired_state = desired,
                Action::SetTaskStatus { status: s, .. } => *status = s,
                Action::DeleteTask { .. } => entry.create = None,
                _ => {}
            }
            return;
        }
        match action {
            Action::SetDesiredState { .. } | Action::SetServiceSpec { .. } => {
                entry.spec = Some(action)
            }
            Action::SetTaskStatus { .. } | Action::SetServiceStatus { .. } => {
                entry.status = Some(action)
            }
            Action::DeleteTask { .. } => entry.delete = Some(action),
            Action::CreateTask { .. } => {}
        }
    }

    /// The merged actions.
    pub fn finish(self) -> Vec<Action> {
        let mut out = Vec::new();
        for entry in self.entries {
            if let Some(create) = entry.create {
                out.push(create);
                continue;
            }
            if let Some(delete) = entry.delete {
                out.push(delete);
                continue;
            }
            let spec_written = entry.spec.is_some();
            out.extend(entry.spec);
            out.extend(entry.status.map(|mut status| {
                if spec_written {
                    unversioned(&mut status);
                }
                status
            }));
        }
        out
    }
}

fn unversioned(action: &mut Action) {
    match action {
        Action::SetTaskStatus { version, .. } | Action::SetServiceStatus { version, .. } => {
            *version = None;
        }
        _ => {}
    }
}

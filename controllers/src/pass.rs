//! One reconcile pass over the whole cluster: every controller in order, each seeing what the
//! previous ones decided, merged so that no object gets conflicting writes.

use model::Timestamp;

use crate::merge::{Merge, NEW_TASK};
use crate::{
    Action, ClusterView, deadline, handoff, node_drain, reaper, restart, scheduler, service, update,
};

/// Cluster-wide knobs of the controllers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Finished tasks kept per slot.
    pub task_history_limit: usize,
    /// How long a node may be down before its tasks are orphaned (ms).
    pub node_down_grace_ms: i64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            task_history_limit: reaper::DEFAULT_TASK_HISTORY_LIMIT,
            node_down_grace_ms: node_drain::NODE_DOWN_GRACE_MS,
        }
    }
}

/// What one pass decided, and when the next one is due if the store does not change first.
#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    /// The changes to write, as one command.
    pub actions: Vec<Action>,
    /// Pass again at this instant even without a commit (a restart delay ends, an update's
    /// delay or monitor window runs out, a down node's grace expires); `None`: only a commit
    /// can change the decision.
    pub requeue_at: Option<Timestamp>,
}

/// [`reconcile_all_with`] the default settings.
pub fn reconcile_all(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    reconcile_all_with(view, now, &Settings::default())
}

/// [`reconcile_pass`]'s actions.
pub fn reconcile_all_with(view: &ClusterView, now: Timestamp, settings: &Settings) -> Vec<Action> {
    reconcile_pass(view, now, settings).actions
}

/// Runs every controller: node drain/orphaning first (it frees slots), then restarts (slots
/// whose task ended), the orchestrator (empty and surplus slots), rolling updates, the handoff
/// (stop-first replacements start once their slot is free), the scheduler (so tasks created
/// this pass are placed this pass) and the reaper last.
///
/// The result has, per existing object, at most one spec write followed by at most one status
/// write (which then carries no version: the spec write's compare-and-set covers the atomic
/// command), or a lone delete; later decisions about a task created in the same pass are folded
/// into its `CreateTask` (so a new task may be created already ASSIGNED).
///
/// The requeue instant is judged on the cluster as this pass leaves it, so a restart held by
/// this very pass is due at its release time.
pub fn reconcile_pass(view: &ClusterView, now: Timestamp, settings: &Settings) -> Pass {
    let mut draft = Draft::new(view);
    draft.run(|v| node_drain::reconcile_with(v, now, settings.node_down_grace_ms));
    draft.run(|v| restart::reconcile(v, now));
    draft.run(|v| service::reconcile(v, now));
    draft.run(|v| update::reconcile(v, now));
    draft.run(|v| handoff::reconcile(v, now));
    draft.run(|v| scheduler::reconcile(v, now));
    draft.run(|v| reaper::reconcile_with(v, now, settings.task_history_limit));
    let requeue_at = deadline::next(&draft.work, now, settings.node_down_grace_ms);
    Pass {
        actions: draft.finish(),
        requeue_at,
    }
}

struct Draft {
    work: ClusterView,
    merge: Merge,
}

impl Draft {
    fn new(view: &ClusterView) -> Draft {
        Draft {
            work: view.clone(),
            merge: Merge::default(),
        }
    }

    fn run(&mut self, controller: impl FnOnce(&ClusterView) -> Vec<Action>) {
        for action in controller(&self.work) {
            self.push(action);
        }
    }

    /// Absorbs `action` into the working view (so later controllers see it) and merges it.
    fn push(&mut self, action: Action) {
        let id = match (&action, action.target()) {
            (_, Some((_, id))) => id.to_owned(),
            (Action::CreateTask { metadata, .. }, None) => format!("{NEW_TASK}{}", metadata.name),
            _ => return,
        };
        self.work.absorb(&action, &id, None);
        self.merge.push(action);
    }

    fn finish(self) -> Vec<Action> {
        self.merge.finish()
    }
}

//! Whether a stack has converged after an apply (`apply --wait`): pure, over the records a
//! client polls, so the rules are tested without a cluster. What the cluster will do next is
//! judged by the controllers' own functions ([`same_container_spec`], [`desired_slots`],
//! [`restart::decisions`], [`restart::delayed`]), never a copy, so `--wait` gives up only when
//! the cluster does.
//!
//! A service is done when each slot it wants (replicas 1..n, or each eligible node) has a task
//! running the spec it had right after the apply (task snapshots run the same containers), no
//! other task still runs (an older spec, or a slot scaled away), and no rolling update is in
//! progress; a job is done when each slot's task completed. It has failed when its update
//! paused or rolled back (or its spec changed under us), or when the restart policy leaves a
//! slot empty.

use std::collections::{BTreeSet, HashMap};

use controllers::restart::{self, Decision};
use controllers::service::desired_slots;
use controllers::tasks::{SlotKey, is_live, same_container_spec};
use controllers::{ClusterView, ServiceObj, TaskObj};
use model::service::{RestartCondition, ServiceSpec, UpdateState};
use model::{Kind, TaskSpec, TaskState, Timestamp};
use serde::Serialize;
use wire::{Record, TaskRow};

use super::ps::task_rows;
use super::views::tasks_by_service;

/// Where one service stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    Converging,
    Done,
    Failed(String),
}

/// One service's progress, as `apply --wait` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub service: String,
    pub desired: u64,
    /// Tasks running (completed, for jobs) the applied spec.
    pub done: u64,
    /// `running` or `completed`.
    pub counted: &'static str,
    /// The update controller's state, when one is recorded.
    pub update: Option<String>,
    /// Failing and pending tasks: `web.2: exit code 1`.
    pub problems: Vec<String>,
    pub verdict: Verdict,
}

impl Progress {
    /// `web  2/3 running  updating`, the name padded to `width`.
    pub fn line(&self, width: usize) -> String {
        let mut line = format!(
            "{:<width$}  {}/{} {}",
            self.service, self.done, self.desired, self.counted
        );
        if let Some(update) = &self.update {
            line.push_str("  ");
            line.push_str(update);
        }
        match &self.verdict {
            Verdict::Done => line.push_str("  done"),
            Verdict::Failed(reason) => line.push_str(&format!("  failed: {reason}")),
            Verdict::Converging => {}
        }
        line.trim_end().to_owned()
    }
}

/// Follows one stack's services across polls: remembers each service's spec as first seen
/// after the apply, to tell the applied spec from a rollback.
#[derive(Debug)]
pub struct Convergence {
    /// Update states that began before this are history, not this apply's outcome.
    since: Timestamp,
    applied: HashMap<String, ServiceSpec>,
}

impl Convergence {
    /// Starts following an apply made at `since` (the client's clock).
    pub fn new(since: Timestamp) -> Convergence {
        Convergence {
            since,
            applied: HashMap::new(),
        }
    }

    /// Progress of every service in `services`, by name, at `now` (restart windows count
    /// from it).
    pub fn observe(
        &mut self,
        services: &[Record],
        tasks: &[Record],
        nodes: &[Record],
        now: Timestamp,
    ) -> Vec<Progress> {
        let records: Vec<Record> = services.iter().chain(tasks).chain(nodes).cloned().collect();
        let snapshot = controllers::records::view_of(&records);
        let mut services: Vec<&Record> = services
            .iter()
            .filter(|r| r.kind == Kind::Service)
            .collect();
        services.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        // Each service judges its own tasks only.
        let by_service = tasks_by_service(tasks);
        services
            .into_iter()
            .map(|record| {
                let Some(svc) = snapshot.view.services().get(&record.id) else {
                    let why = snapshot
                        .unreadable
                        .iter()
                        .find(|(_, id, _)| *id == record.id)
                        .map_or("", |(_, _, err)| err.as_str());
                    return unreadable(record, why);
                };
                let applied = self
                    .applied
                    .entry(svc.id.clone())
                    .or_insert_with(|| svc.spec.clone())
                    .clone();
                let judged = Judged {
                    record,
                    svc,
                    view: &snapshot.view,
                    applied: &applied,
                };
                let own = by_service.get(record.id.as_str()).map(Vec::as_slice);
                judged.judge(own.unwrap_or_default(), nodes, self.since, now)
            })
            .collect()
    }
}

/// One service, the cluster around it, and the spec it had right after the apply.
struct Judged<'a> {
    record: &'a Record,
    svc: &'a ServiceObj,
    view: &'a ClusterView,
    applied: &'a ServiceSpec,
}

impl Judged<'_> {
    fn judge(
        &self,
        tasks: &[&Record],
        nodes: &[Record],
        since: Timestamp,
        now: Timestamp,
    ) -> Progress {
        let svc = self.svc;
        let mode = svc.spec.mode();
        let current = |t: &TaskObj| same_container_spec(&t.spec.service_spec, self.applied);
        let wanted: BTreeSet<SlotKey> = desired_slots(svc, self.view).into_iter().collect();
        let in_wanted = |t: &TaskObj| SlotKey::of(t).is_some_and(|k| wanted.contains(&k));
        let own: Vec<&TaskObj> = self.view.tasks_of(&svc.id).collect();
        let counted_state = if mode.is_job() {
            TaskState::Complete
        } else {
            TaskState::Running
        };
        // Slots, not tasks: a slot counts once however many of its tasks ran.
        let done_slots: BTreeSet<SlotKey> = own
            .iter()
            .filter(|t| current(t) && t.status.state == counted_state)
            .filter(|t| mode.is_job() || is_live(t))
            .filter_map(|t| SlotKey::of(t).filter(|k| wanted.contains(k)))
            .collect();
        // An older spec's task, or one in a slot scaled away (or on a node that no longer takes
        // the service), is not done until it stopped.
        let stray_running = own
            .iter()
            .any(|t| t.status.state == TaskState::Running && !(current(t) && in_wanted(t)));
        let update = svc.status.update.as_ref();
        let updating = update.is_some_and(|u| {
            matches!(
                u.state,
                UpdateState::Updating | UpdateState::RollbackStarted
            )
        });
        // Only the applied spec's tasks explain this apply's progress.
        let applied_tasks: Vec<Record> = tasks
            .iter()
            .filter(|t| {
                t.spec_as::<TaskSpec>().is_ok_and(|s| {
                    s.service_id == svc.id && same_container_spec(&s.service_spec, self.applied)
                })
            })
            .map(|t| (*t).clone())
            .collect();
        let rows = task_rows(std::slice::from_ref(self.record), &applied_tasks, nodes);
        let (given_up, notes) = self.restart_outlook(now);
        // A replacement prepared during the restart delay says what it waits for.
        let delayed = restart::delayed(svc, self.view, now);
        let why = |r: &TaskRow| -> Option<String> {
            let waits = delayed.iter().find(|(id, _)| *id == r.id);
            waits.map(|(_, m)| m.clone()).or_else(|| r.error.clone())
        };
        // A note on a held slot carries its task's error: that task's row need not repeat it.
        let mut problems: Vec<String> = rows
            .iter()
            .filter(|r| !r.history)
            .filter_map(|r| Some((r.name.as_str(), why(r)?)))
            .filter(|(_, error)| !notes.iter().any(|n| n.contains(error)))
            .map(|(name, error)| format!("{name}: {error}"))
            .collect();
        problems.extend(notes);

        let failure = update
            .filter(|u| u.started_at >= since)
            .and_then(|u| update_failure(u.state, &u.message))
            .or_else(|| {
                (svc.spec != *self.applied).then(|| {
                    "its spec changed after the apply (rolled back, or changed by someone else)"
                        .into()
                })
            })
            .or(given_up);
        let desired = wanted.len() as u64;
        let done = done_slots.len() as u64;
        let verdict = match failure {
            Some(reason) => Verdict::Failed(reason),
            None if done >= desired && !stray_running && !updating => Verdict::Done,
            None => Verdict::Converging,
        };
        Progress {
            service: self.record.metadata.name.clone(),
            desired,
            done,
            counted: if mode.is_job() {
                "completed"
            } else {
                "running"
            },
            update: update.map(|u| u.state.as_str().to_owned()),
            problems,
            verdict,
        }
    }

    /// What the restart policy does with the slots whose newest task ended, by the controllers'
    /// own decision: the first slot it leaves empty for good (the failure), and a note for each
    /// slot held back only until its attempts leave `window` (the controller then retries, so
    /// that is no failure).
    fn restart_outlook(&self, now: Timestamp) -> (Option<String>, Vec<String>) {
        let svc = self.svc;
        let policy = svc
            .spec
            .deploy
            .as_ref()
            .and_then(|d| d.restart_policy.clone())
            .unwrap_or_default();
        let window = policy.window.filter(|w| w.0 > 0);
        let exhausted = format!(
            "restart attempts exhausted (max_attempts {}{})",
            policy.max_attempts.unwrap_or_default(),
            window.map_or(String::new(), |w| format!(" within {w}"))
        );
        let mut failure = None;
        let mut notes = Vec::new();
        for (_, task, decision) in restart::decisions(svc, self.view, now) {
            let ended = restart::ended_task(svc, self.view, task);
            let gave_up = match decision {
                Decision::Restart { .. } => continue,
                Decision::Exhausted if window.is_some() => {
                    notes.push(format!(
                        "{exhausted} after task {ended}; retried once the oldest attempt is out of the window"
                    ));
                    continue;
                }
                Decision::Exhausted => format!("{exhausted} after task {ended}"),
                Decision::Leave => {
                    let condition = match policy.condition {
                        Some(RestartCondition::None) => "none",
                        Some(RestartCondition::OnFailure) => "on-failure",
                        Some(RestartCondition::Any) | None => "any",
                    };
                    format!(
                        "not restarted (restart_policy condition {condition}) after task {ended}"
                    )
                }
            };
            failure.get_or_insert(gave_up);
        }
        (failure, notes)
    }
}

/// Why a paused or rolled-back update fails the apply, said once: the update controller's
/// messages already begin `update paused ...` or `update rolled back ...`.
fn update_failure(state: UpdateState, message: &str) -> Option<String> {
    let said = |prefix: &str| {
        if message.starts_with(prefix) {
            message.to_owned()
        } else if message.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}: {message}")
        }
    };
    match state {
        UpdateState::Paused => Some(said("update paused")),
        UpdateState::RollbackPaused => Some(said("rollback paused")),
        UpdateState::RollbackStarted => Some(said("update rolled back")),
        // The controller replaced the reason with `rollback completed`.
        UpdateState::RollbackCompleted => Some("update rolled back".to_owned()),
        UpdateState::Updating | UpdateState::Completed => None,
    }
}

/// A service whose record this client cannot read (a newer manager's format, say).
fn unreadable(record: &Record, why: &str) -> Progress {
    Progress {
        service: record.metadata.name.clone(),
        desired: 0,
        done: 0,
        counted: "running",
        update: None,
        problems: Vec::new(),
        verdict: Verdict::Failed(format!("cannot read the service record: {why}")),
    }
}

#[cfg(test)]
#[path = "converge_tests.rs"]
mod tests;

//! Whether a stack has converged after an apply (`apply --wait`): pure, over the records a
//! client polls, so the rules are tested without a cluster.
//!
//! A service is done when its desired number of tasks run the spec it had right after the
//! apply (task snapshots run the same containers), no older task still runs, and no rolling update
//! is in progress; a job is done when that many tasks completed. It has failed when its update
//! paused or rolled back (or its spec changed under us), or when a slot's task failed and the
//! restart policy will not replace it.

use std::collections::HashMap;

use model::service::{RestartCondition, ServiceSpec, ServiceStatus, UpdateState};
use model::{
    Availability, Kind, NodeSpec, NodeState, NodeStatus, TaskSpec, TaskState, TaskStatus, Timestamp,
};
use serde::Serialize;

use super::ps::{TaskRow, task_rows};
use crate::store::Record;

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

    /// Progress of every service in `services`, by name.
    pub fn observe(
        &mut self,
        services: &[Record],
        tasks: &[Record],
        nodes: &[Record],
    ) -> Vec<Progress> {
        let eligible = nodes
            .iter()
            .filter(|n| {
                let status: NodeStatus = n.status_as().unwrap_or_default();
                let spec: NodeSpec = n.spec_as().unwrap_or_default();
                status.state == NodeState::Ready && spec.availability == Availability::Active
            })
            .count();
        let mut services: Vec<&Record> = services
            .iter()
            .filter(|r| r.kind == Kind::Service)
            .collect();
        services.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        services
            .into_iter()
            .map(|service| {
                let spec: ServiceSpec = service.spec_as().unwrap_or_default();
                let applied = self
                    .applied
                    .entry(service.id.clone())
                    .or_insert_with(|| spec.clone())
                    .clone();
                let own: Vec<Record> = tasks
                    .iter()
                    .filter(|t| {
                        t.spec_as::<TaskSpec>()
                            .is_ok_and(|s| s.service_id == service.id)
                    })
                    .cloned()
                    .collect();
                judge(service, &spec, &applied, &own, nodes, eligible, self.since)
            })
            .collect()
    }
}

fn judge(
    service: &Record,
    spec: &ServiceSpec,
    applied: &ServiceSpec,
    tasks: &[Record],
    nodes: &[Record],
    eligible_nodes: usize,
    since: Timestamp,
) -> Progress {
    let status: ServiceStatus = service.status_as().unwrap_or_default();
    let mode = spec.mode();
    let typed: Vec<(TaskSpec, TaskStatus)> = tasks
        .iter()
        .filter_map(|t| Some((t.spec_as().ok()?, t.status_as().ok()?)))
        .collect();
    let current = |t: &TaskSpec| same_runtime(&t.service_spec, applied);
    // Only the applied spec's tasks explain this apply's progress.
    let applied_tasks: Vec<Record> = tasks
        .iter()
        .filter(|t| t.spec_as::<TaskSpec>().is_ok_and(|s| current(&s)))
        .cloned()
        .collect();
    let rows = task_rows(std::slice::from_ref(service), &applied_tasks, nodes);
    let live = |t: &TaskSpec| !t.desired_state.is_terminal();
    let counted_state = if mode.is_job() {
        TaskState::Complete
    } else {
        TaskState::Running
    };
    let done = typed
        .iter()
        .filter(|(t, s)| current(t) && s.state == counted_state && (mode.is_job() || live(t)))
        .count() as u64;
    let desired = spec.replicas().unwrap_or_else(|| {
        typed
            .iter()
            .filter(|(t, s)| current(t) && (live(t) || s.state == TaskState::Complete))
            .count() as u64
    });
    let old_running = typed
        .iter()
        .any(|(t, s)| !current(t) && s.state == TaskState::Running);
    let update = status.update.as_ref();
    let updating = update.is_some_and(|u| {
        matches!(
            u.state,
            UpdateState::Updating | UpdateState::RollbackStarted
        )
    });
    let problems: Vec<String> = rows
        .iter()
        .filter(|r| !r.history)
        .filter_map(|r| Some(format!("{}: {}", r.name, r.error.as_ref()?)))
        .collect();

    let failure = update
        .filter(|u| u.started_at >= since)
        .and_then(|u| match u.state {
            UpdateState::Paused | UpdateState::RollbackPaused => {
                Some(format!("update paused: {}", u.message))
            }
            UpdateState::RollbackCompleted => Some(format!("update rolled back: {}", u.message)),
            _ => None,
        })
        .or_else(|| {
            (spec != applied).then(|| {
                "its spec changed after the apply (rolled back, or changed by someone else)".into()
            })
        })
        .or_else(|| given_up(spec, &rows));
    let waiting_for_global = mode.is_global() && desired == 0 && eligible_nodes > 0;
    let verdict = match failure {
        Some(reason) => Verdict::Failed(reason.trim_end_matches([':', ' ']).to_owned()),
        None if done >= desired && !old_running && !updating && !waiting_for_global => {
            Verdict::Done
        }
        None => Verdict::Converging,
    };
    Progress {
        service: service.metadata.name.clone(),
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

/// Whether two specs run the same containers. Mirrors the update controller's rule: a scale or
/// a policy edit replaces no task, so tasks keep a snapshot that differs only there.
fn same_runtime(a: &ServiceSpec, b: &ServiceSpec) -> bool {
    let runtime = |spec: &ServiceSpec| {
        let mut spec = spec.clone();
        if let Some(deploy) = spec.deploy.as_mut() {
            deploy.replicas = None;
            deploy.labels.clear();
            deploy.restart_policy = None;
            deploy.update_config = None;
            deploy.rollback_config = None;
        }
        spec
    };
    a == b || runtime(a) == runtime(b)
}

/// A slot whose newest task failed and that the restart policy will not refill (`rows` are
/// the tasks of the applied spec only).
fn given_up(spec: &ServiceSpec, rows: &[TaskRow]) -> Option<String> {
    let policy = spec.deploy.as_ref().and_then(|d| d.restart_policy.as_ref());
    let condition = policy.and_then(|p| p.condition);
    let max_attempts = policy.and_then(|p| p.max_attempts);
    let failed = |r: &TaskRow| matches!(r.state, TaskState::Failed | TaskState::Rejected);
    let starts: Vec<usize> = (0..rows.len()).filter(|&i| !rows[i].history).collect();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(rows.len());
        let slot = &rows[start..end];
        let head = &slot[0];
        if !failed(head) {
            continue;
        }
        let failures = slot.iter().filter(|r| failed(r)).count() as u64;
        let exhausted = max_attempts.is_some_and(|max| failures > max);
        if condition == Some(RestartCondition::None) || exhausted {
            let error = head.error.as_deref().unwrap_or("failed");
            return Some(format!(
                "{} failed and its restart policy does not replace it: {error}",
                head.name
            ));
        }
    }
    None
}

#[cfg(test)]
#[path = "converge_tests.rs"]
mod tests;

//! The restart policy: what happens to a slot whose newest task ended by itself.
//!
//! A task is never restarted in place. When the policy allows (condition `any`, or
//! `on-failure` after a failure; attempts within `window` not above `max_attempts`), the ended
//! task is acknowledged (desired SHUTDOWN) and, atomically in the same pass, a replacement is
//! created in its slot. With a delay the replacement is created held: PENDING with its
//! timestamp set to the release time (the scheduler leaves it alone until then) and a message
//! saying so. When the policy says no, the ended task stays as it is, so the slot keeps the
//! record of why it is empty, and an exhausted policy is explained on the service status.

use std::collections::BTreeSet;

use model::service::{RestartCondition, RestartPolicy, ServiceStatus};
use model::{Duration, TaskState, TaskStatus, Timestamp};

use crate::service::desired_slots;
use crate::tasks::{Fate, Namer, SlotKey, after, fate, millis, shut_down, slots_of};
use crate::{Action, ClusterView, ServiceObj, TaskObj};

/// Docker's default delay between restarts.
pub const DEFAULT_RESTART_DELAY: Duration = Duration::from_secs(5);

/// Replaces ended tasks per restart policy for every service.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    let mut namer = Namer::new(view, now);
    let mut out = Vec::new();
    for svc in view.services.values() {
        reconcile_service(svc, view, now, &mut namer, &mut out);
    }
    out
}

/// What the policy decides for one slot whose newest task ended on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The policy does not restart this ending (condition none, or success under on-failure).
    Leave,
    /// Too many attempts within the window.
    Exhausted,
    /// Start attempt `attempt`.
    Restart { attempt: u64 },
}

/// One service's share of [`reconcile`].
pub fn reconcile_service(
    svc: &ServiceObj,
    view: &ClusterView,
    now: Timestamp,
    namer: &mut Namer,
    out: &mut Vec<Action>,
) {
    let policy = policy_of(svc);
    let mut exhausted = Vec::new();
    for (key, latest, decision) in decisions(svc, view, now) {
        match decision {
            Decision::Leave => {}
            Decision::Exhausted => exhausted.push(key),
            Decision::Restart { attempt } => {
                out.push(shut_down(latest));
                let delay = policy.delay.unwrap_or(DEFAULT_RESTART_DELAY);
                let ended = ended_task(svc, view, latest);
                let status = held_status(&ended, attempt, &policy, delay, now);
                out.push(namer.task_with(svc, &key, status));
            }
        }
    }
    let message = exhausted_message(&exhausted, &policy);
    if message != svc.status.message {
        out.push(Action::SetServiceStatus {
            service_id: svc.id.clone(),
            version: Some(svc.version),
            status: ServiceStatus {
                message,
                ..svc.status.clone()
            },
        });
    }
}

/// The service's restart policy, Docker's defaults where unset.
fn policy_of(svc: &ServiceObj) -> RestartPolicy {
    svc.spec
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.clone())
        .unwrap_or_default()
}

/// The policy's decision for every slot of `svc` the service still wants whose newest task
/// ended on its own, with that task. Pure, so `apply --wait` judges a failing slot by the same
/// rule that restarts it.
pub fn decisions<'a>(
    svc: &ServiceObj,
    view: &'a ClusterView,
    now: Timestamp,
) -> Vec<(SlotKey, &'a TaskObj, Decision)> {
    let policy = policy_of(svc);
    // Only slots the service still wants: a scaled-away slot or a global task on a node that
    // no longer takes new tasks (paused, drained, down) is not restarted.
    let desired: BTreeSet<SlotKey> = desired_slots(svc, view).into_iter().collect();
    slots_of(view, &svc.id)
        .into_iter()
        .filter(|(key, _)| desired.contains(key))
        .filter_map(|(key, tasks)| {
            let Fate::Ended(latest) = fate(svc, &tasks) else {
                return None;
            };
            Some((key, latest, decide(&policy, &tasks, latest, now)))
        })
        .collect()
}

/// What `policy` decides for a slot (`slot` oldest first) whose newest task `latest` ended:
/// attempts are the slot's endings within `window`; `max_attempts` 0 or unset is unlimited.
fn decide(policy: &RestartPolicy, slot: &[&TaskObj], latest: &TaskObj, now: Timestamp) -> Decision {
    match policy.condition.unwrap_or(RestartCondition::Any) {
        RestartCondition::None => return Decision::Leave,
        RestartCondition::OnFailure if latest.status.state == TaskState::Complete => {
            return Decision::Leave;
        }
        _ => {}
    }
    let since = policy
        .window
        .filter(|w| w.0 > 0)
        .map_or(Timestamp(i64::MIN), |w| {
            Timestamp(now.0.saturating_sub(millis(w)))
        });
    let attempt = slot
        .iter()
        .filter(|t| {
            matches!(
                t.status.state,
                TaskState::Complete | TaskState::Failed | TaskState::Rejected
            ) && t.status.timestamp >= since
        })
        .count() as u64;
    // max_attempts 0 means unlimited, as in Docker.
    match policy.max_attempts.filter(|m| *m > 0) {
        Some(max) if attempt > max => Decision::Exhausted,
        _ => Decision::Restart { attempt },
    }
}

/// NEW when there is no delay; else PENDING until `now + delay`, saying why, with the ended
/// task's id and error (the replacement is what `ps` and `apply --wait` show for the slot).
fn held_status(
    ended: &str,
    attempt: u64,
    policy: &RestartPolicy,
    delay: Duration,
    now: Timestamp,
) -> TaskStatus {
    let of = policy
        .max_attempts
        .filter(|m| *m > 0)
        .map_or(String::new(), |m| format!(" of {m}"));
    let held = if delay.0 == 0 {
        String::new()
    } else {
        format!(" delayed {delay} by the restart policy,")
    };
    let message = format!("restart {attempt}{of}{held} after task {ended}");
    if delay.0 == 0 {
        return TaskStatus {
            message,
            timestamp: now,
            ..TaskStatus::default()
        };
    }
    TaskStatus {
        state: TaskState::Pending,
        message,
        timestamp: after(now, delay),
        ..TaskStatus::default()
    }
}

/// `web.2 (00000000002a0001) failed: exit code 3`: a task as `ps` names it (the store name
/// ends in a sequence nobody can look up), its id, how it ended and its error.
pub fn ended_task(svc: &ServiceObj, view: &ClusterView, task: &TaskObj) -> String {
    let slot = match SlotKey::of(task) {
        Some(SlotKey::Node(id)) => view
            .nodes
            .get(&id)
            .map_or(id, |node| node.status.hostname.clone()),
        Some(key) => key.to_string(),
        None => task.name.clone(),
    };
    let mut text = format!("{}.{slot} ({}) {}", svc.name, task.id, task.status.state);
    if let Some(error) = task.status.error.as_deref().filter(|e| !e.is_empty()) {
        text.push_str(": ");
        text.push_str(error);
    }
    text
}

/// `restart attempts exhausted for slot 2 (max_attempts 3 within 1m)`, or empty.
fn exhausted_message(slots: &[SlotKey], policy: &RestartPolicy) -> String {
    if slots.is_empty() {
        return String::new();
    }
    let names: Vec<String> = slots.iter().map(ToString::to_string).collect();
    let what = match slots.first() {
        Some(SlotKey::Node(_)) if slots.len() == 1 => "node",
        Some(SlotKey::Node(_)) => "nodes",
        _ if slots.len() == 1 => "slot",
        _ => "slots",
    };
    let window = policy
        .window
        .filter(|w| w.0 > 0)
        .map_or(String::new(), |w| format!(" within {w}"));
    format!(
        "restart attempts exhausted for {what} {} (max_attempts {}{window})",
        names.join(", "),
        policy.max_attempts.unwrap_or(0)
    )
}

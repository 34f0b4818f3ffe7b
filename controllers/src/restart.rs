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

/// What the policy decides for one slot.
#[derive(Debug, PartialEq)]
enum Decision {
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
    let policy = svc
        .spec
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.clone())
        .unwrap_or_default();
    // Only slots the service still wants: a scaled-away slot or a global task on a node that
    // no longer takes new tasks (paused, drained, down) is not restarted.
    let desired: BTreeSet<SlotKey> = desired_slots(svc, view).into_iter().collect();
    let mut exhausted = Vec::new();
    for (key, tasks) in slots_of(view, &svc.id) {
        if !desired.contains(&key) {
            continue;
        }
        let Fate::Ended(latest) = fate(svc, &tasks) else {
            continue;
        };
        match decide(&policy, &tasks, latest, now) {
            Decision::Leave => {}
            Decision::Exhausted => exhausted.push(key),
            Decision::Restart { attempt } => {
                out.push(shut_down(latest));
                let delay = policy.delay.unwrap_or(DEFAULT_RESTART_DELAY);
                let status = held_status(latest, attempt, &policy, delay, now);
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

/// NEW when there is no delay; else PENDING until `now + delay`, saying why.
fn held_status(
    ended: &TaskObj,
    attempt: u64,
    policy: &RestartPolicy,
    delay: Duration,
    now: Timestamp,
) -> TaskStatus {
    let of = policy
        .max_attempts
        .filter(|m| *m > 0)
        .map_or(String::new(), |m| format!(" of {m}"));
    let why = format!(
        "restart {attempt}{of} after task {} {}",
        ended.name, ended.status.state
    );
    if delay.0 == 0 {
        return TaskStatus {
            message: why,
            timestamp: now,
            ..TaskStatus::default()
        };
    }
    TaskStatus {
        state: TaskState::Pending,
        message: format!("{why}: delayed {delay} by the restart policy"),
        timestamp: after(now, delay),
        ..TaskStatus::default()
    }
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

//! The restart policy: what happens to a slot whose newest task ended by itself.
//!
//! A task is never restarted in place. When the policy allows (condition `any`, or
//! `on-failure` after a failure; attempts within `window` not above `max_attempts`), the ended
//! task is acknowledged (desired SHUTDOWN) and, atomically in the same pass, a replacement is
//! created in its slot. With a delay, as in SwarmKit, the replacement of a task that ran is
//! created wanting READY: placed and prepared (image, container) during the delay, and started
//! by [`crate::handoff`] at its `start_at`, so only the start is left once the delay is over. The
//! replacement of a task that never ran is held instead: PENDING with its timestamp set to the
//! release time (the scheduler leaves it alone until then). Either way its message says why.
//! The delay counts from when the task ended ([`release_at`]). When the policy says no, the
//! ended task stays as it is, so the slot keeps the record of why it is empty, and an exhausted
//! policy is explained on the service status.

use std::collections::BTreeSet;

use model::service::{RestartCondition, RestartPolicy, ServiceStatus};
use model::{Duration, TaskState, TaskStatus, Timestamp};

use crate::handoff::prepared;
use crate::service::desired_slots;
use crate::tasks::{Fate, Namer, SlotKey, after, ended, fate, millis, shut_down, slots_of};
use crate::{Action, ClusterView, ServiceObj, TaskObj};

/// Docker's default delay between restarts.
pub const DEFAULT_RESTART_DELAY: Duration = Duration::from_secs(5);

/// Replaces ended tasks per restart policy for every service.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    let mut namer = Namer::new(view, now);
    let mut out = Vec::new();
    for svc in view.services().values() {
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
                let message = restart_message(svc, view, latest, attempt, &policy, delay);
                out.push(replacement(svc, &key, latest, delay, message, now, namer));
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

/// For every replacement of `svc` prepared and waiting out the restart delay (READY until its
/// `start_at`), its id and why it waits: `restart 2 delayed 5s by the restart policy, after task
/// web.1 (…) failed: …`. Its own status message is the agent's by then, so `apply --wait` and
/// the like say why the slot is not running yet from this.
pub fn delayed(svc: &ServiceObj, view: &ClusterView, now: Timestamp) -> Vec<(String, String)> {
    let policy = policy_of(svc);
    let delay = policy.delay.unwrap_or(DEFAULT_RESTART_DELAY);
    let mut out = Vec::new();
    for tasks in slots_of(view, &svc.id).into_values() {
        let waiting = tasks
            .iter()
            .find(|t| prepared(t) && t.spec.start_at.is_some_and(|at| at > now));
        let Some(waiting) = waiting else { continue };
        let Some(pos) = tasks.iter().rposition(|t| ended(t)) else {
            continue;
        };
        let before = &tasks[..=pos];
        if let Decision::Restart { attempt } = decide(&policy, before, before[pos], now) {
            let message = restart_message(svc, view, before[pos], attempt, &policy, delay);
            out.push((waiting.id.clone(), message));
        }
    }
    out
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
        .filter(|t| ended(t) && t.status.timestamp >= since)
        .count() as u64;
    // max_attempts 0 means unlimited, as in Docker.
    match policy.max_attempts.filter(|m| *m > 0) {
        Some(max) if attempt > max => Decision::Exhausted,
        _ => Decision::Restart { attempt },
    }
}

/// How far back an end stamped by a node may move the start of the delay: a report reaches the
/// controllers within a status window and a commit, and a node whose clock lags the manager's
/// must not shorten the delay by more than this.
pub const END_STAMP_CREDIT: Duration = Duration::from_secs(1);

/// When the replacement of `ended` may start: `delay` after the task ended as its node stamped
/// it (the engine's exit, seen by the agent), not after this pass saw the report. Node and
/// manager both stamp with their wall clock, so the stamp is taken within `now -`
/// [`END_STAMP_CREDIT`] and `now`.
pub fn release_at(ended: &TaskObj, delay: Duration, now: Timestamp) -> Timestamp {
    let earliest = Timestamp(now.0.saturating_sub(millis(END_STAMP_CREDIT)));
    after(ended.status.timestamp.clamp(earliest, now), delay)
}

/// The replacement of `ended` in `key`: NEW once the delay is over (or there is none); before,
/// prepared wanting READY until `start_at` when `ended` ran, else held PENDING until then.
///
/// A task that never reached RUNNING (no `started_at`: its image is missing, its container
/// could not be created or started, it never turned healthy) is not prepared ahead: it may
/// fail again while preparing, and a replacement failing in preparation would be restarted at
/// the speed of a create, not once per delay. Held unplaced, it is only tried after the delay.
fn replacement(
    svc: &ServiceObj,
    key: &SlotKey,
    ended: &TaskObj,
    delay: Duration,
    message: String,
    now: Timestamp,
    namer: &mut Namer,
) -> Action {
    let release = release_at(ended, delay, now);
    let ran = ended.status.started_at.is_some();
    let status = |state, timestamp| TaskStatus {
        state,
        message: message.clone(),
        timestamp,
        ..TaskStatus::default()
    };
    if release <= now {
        return namer.task_with(svc, key, status(TaskState::New, now));
    }
    if !ran {
        return namer.task_with(svc, key, status(TaskState::Pending, release));
    }
    let mut task = namer.task_with(svc, key, status(TaskState::New, now));
    if let Action::CreateTask { spec, .. } = &mut task {
        spec.desired_state = TaskState::Ready;
        spec.start_at = Some(release);
    }
    task
}

/// `restart 2 of 3 delayed 5s by the restart policy, after task web.1 (…) failed: …`: the
/// attempt, the delay and the ended task with its error (the replacement is what `ps` and
/// `apply --wait` show for the slot).
fn restart_message(
    svc: &ServiceObj,
    view: &ClusterView,
    ended: &TaskObj,
    attempt: u64,
    policy: &RestartPolicy,
    delay: Duration,
) -> String {
    let of = policy
        .max_attempts
        .filter(|m| *m > 0)
        .map_or(String::new(), |m| format!(" of {m}"));
    let held = if delay.0 == 0 {
        String::new()
    } else {
        format!(" delayed {delay} by the restart policy,")
    };
    let ended = ended_task(svc, view, ended);
    format!("restart {attempt}{of}{held} after task {ended}")
}

/// `web.2 (00000000002a0001) failed: exit code 3`: a task as `ps` names it (the store name
/// ends in a sequence nobody can look up), its id, how it ended and its error.
pub fn ended_task(svc: &ServiceObj, view: &ClusterView, task: &TaskObj) -> String {
    let slot = match SlotKey::of(task) {
        Some(SlotKey::Node(id)) => view
            .nodes()
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

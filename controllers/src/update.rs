//! Rolling updates and rollbacks.
//!
//! A task is out of date when its spec snapshot runs different containers than the service's
//! spec ([`same_container_spec`]: scaling or editing policies replaces nothing). The first pass that
//! sees a new spec records it (`spec_version`, `spec_digest`), the spec being left
//! (`previous_spec`, from the old tasks' snapshot) and `updating` — or `rollback_started` when
//! the new spec is the recorded previous one (that is what `service rollback` writes).
//!
//! Then slots are updated like SwarmKit's pool of `parallelism` update workers (0 = all at
//! once): a slot occupies a worker from the moment its replacement is created until the new task
//! has been up for `delay`, and a freed worker takes the next slot at once — a sliding window,
//! so one slow slot does not hold back the others. Stop-first shuts the old task down and creates
//! its replacement wanting READY: placed and prepared (image, container) while the old one
//! stops, started by [`crate::handoff`] once it has, as SwarmKit does; start-first creates
//! the replacement and shuts the old task down once the new one is RUNNING (the agent reports
//! RUNNING only once a healthcheck passes, so the update is health-gated). Monitoring goes on in
//! the background, since a replacement that ends by itself at any point after the update
//! started counts as a failure. Above `max_failure_ratio` of the slots, `failure_action`
//! takes effect. After the last slot has been up for `monitor`, the update is `completed`
//! (`rollback_completed`).

use model::service::{
    FailureAction, ServiceStatus, UpdateConfig, UpdateOrder, UpdateState, UpdateStatus,
};
use model::{TaskState, Timestamp};

use crate::scheduler::filters;
use crate::service::desired_slots;
use crate::tasks::{
    Namer, RolloutConfig, SlotKey, after, by_creation, is_live, same_container_spec, seq,
    shut_down, slots_of, spec_digest, with_control_of,
};
use crate::{Action, ClusterView, ServiceObj, TaskObj};

/// Advances every service's rolling update or rollback.
pub fn reconcile(view: &ClusterView, now: Timestamp) -> Vec<Action> {
    let mut namer = Namer::new(view, now);
    let mut out = Vec::new();
    for svc in view.services().values() {
        reconcile_service(svc, view, now, &mut namer, &mut out);
    }
    out
}

/// One service's share of [`reconcile`].
pub fn reconcile_service(
    svc: &ServiceObj,
    view: &ClusterView,
    now: Timestamp,
    namer: &mut Namer,
    out: &mut Vec<Action>,
) {
    let mut status = svc.status.clone();
    let digest = spec_digest(&svc.spec);
    let rolling = !svc.spec.mode().is_job();
    if status.spec_digest.as_deref() != Some(digest.as_str()) {
        begin(svc, view, &mut status, digest, now, rolling);
    } else if status.spec_version == 0 {
        // Our own rollback wrote the spec and this status in one command: adopt its version.
        status.spec_version = svc.version;
    }
    let mut rolled_back = false;
    if rolling {
        rolled_back = progress(svc, view, &mut status, now, namer, out);
    }
    if status != svc.status {
        out.push(Action::SetServiceStatus {
            service_id: svc.id.clone(),
            // After a spec write in the same command, that write carries the compare-and-set.
            version: (!rolled_back).then_some(svc.version),
            status,
        });
    }
}

/// First sight of a spec: record it, and start an update if running tasks are out of date.
fn begin(
    svc: &ServiceObj,
    view: &ClusterView,
    status: &mut ServiceStatus,
    digest: String,
    now: Timestamp,
    rolling: bool,
) {
    status.spec_digest = Some(digest);
    status.spec_version = svc.version;
    if !rolling {
        return;
    }
    let newest_old = view
        .tasks_of(&svc.id)
        .filter(|t| is_live(t) && !same_container_spec(&t.spec.service_spec, &svc.spec))
        .max_by_key(|t| (t.spec.spec_version, seq(t)));
    let Some(old) = newest_old else {
        return; // a fresh service, a scale, or nothing running: nothing to roll
    };
    let rollback = status
        .previous_spec
        .as_deref()
        .is_some_and(|p| same_container_spec(p, &svc.spec));
    status.previous_spec = Some(Box::new(with_control_of(&old.spec.service_spec, &svc.spec)));
    status.update = Some(UpdateStatus {
        state: if rollback {
            UpdateState::RollbackStarted
        } else {
            UpdateState::Updating
        },
        started_at: now,
        completed_at: None,
        message: if rollback {
            "manually requested rollback"
        } else {
            "update in progress"
        }
        .to_owned(),
    });
}

/// One step of an update in progress. Returns true when it rolled the spec back.
fn progress(
    svc: &ServiceObj,
    view: &ClusterView,
    status: &mut ServiceStatus,
    now: Timestamp,
    namer: &mut Namer,
    out: &mut Vec<Action>,
) -> bool {
    let Some(update) = status.update.clone() else {
        return false;
    };
    let rollback = match update.state {
        UpdateState::Updating => false,
        UpdateState::RollbackStarted => true,
        _ => return false,
    };
    let deploy = svc.spec.deploy.as_ref();
    let config: Option<&UpdateConfig> = if rollback {
        deploy.and_then(|d| d.rollback_config.as_ref())
    } else {
        deploy.and_then(|d| d.update_config.as_ref())
    };
    let cfg = RolloutConfig::from(config);

    if let Some(culprit) = over_failure_ratio(svc, view, &cfg, update.started_at) {
        return fail(svc, status, &cfg, rollback, &culprit, now, out);
    }

    // Slots holding an update worker: replacement not up yet, or up for less than `delay`.
    let mut busy = 0usize;
    let mut in_flight = 0usize;
    let mut todo: Vec<(SlotKey, Vec<&TaskObj>)> = Vec::new();
    for (key, tasks) in slots_of(view, &svc.id) {
        if let SlotKey::Node(node) = &key {
            // Paused, drained or dead nodes get no new tasks, so they are not updated either.
            if !view
                .nodes()
                .get(node)
                .is_some_and(|n| filters::eligible(&svc.spec, n))
            {
                continue;
            }
        }
        let (new, old): (Vec<&TaskObj>, Vec<&TaskObj>) = tasks
            .into_iter()
            .filter(|t| is_live(t))
            .partition(|t| same_container_spec(&t.spec.service_spec, &svc.spec));
        let new_up = new.iter().any(|t| t.status.state == TaskState::Running);
        let cooling = new.iter().any(|t| {
            t.status.state == TaskState::Running
                && t.status.timestamp >= update.started_at
                && now < after(t.status.timestamp, cfg.delay)
        });
        match (new.is_empty(), old.is_empty()) {
            (_, true) if !new_up && !new.is_empty() => in_flight += 1,
            (_, true) => busy += usize::from(cooling),
            (true, false) => todo.push((key, old)),
            (false, false) if new_up => {
                busy += usize::from(cooling);
                out.extend(old.into_iter().map(shut_down));
            }
            (false, false) => in_flight += 1,
        }
    }
    busy += in_flight;

    let last_up = view
        .tasks_of(&svc.id)
        .filter(|t| t.status.state == TaskState::Running && t.status.timestamp >= update.started_at)
        .filter(|t| same_container_spec(&t.spec.service_spec, &svc.spec))
        .map(|t| t.status.timestamp)
        .max();
    if todo.is_empty() {
        if in_flight == 0 && last_up.is_none_or(|t| now >= after(t, cfg.monitor)) {
            status.update = Some(UpdateStatus {
                state: if rollback {
                    UpdateState::RollbackCompleted
                } else {
                    UpdateState::Completed
                },
                completed_at: Some(now),
                message: if rollback {
                    "rollback completed"
                } else {
                    "update completed"
                }
                .to_owned(),
                ..update
            });
        }
        return false;
    }
    let batch = match cfg.parallelism {
        0 => todo.len(),
        p => usize::try_from(p)
            .unwrap_or(usize::MAX)
            .saturating_sub(busy)
            .min(todo.len()),
    };
    for (key, old) in todo.into_iter().take(batch) {
        let mut replacement = namer.task(svc, &key, now);
        if cfg.order == UpdateOrder::StopFirst {
            out.extend(old.into_iter().map(shut_down));
            // Placed and prepared while the old task stops; `handoff` starts it after.
            if let Action::CreateTask { spec, .. } = &mut replacement {
                spec.desired_state = TaskState::Ready;
            }
        }
        out.push(replacement);
    }
    false
}

/// The first replacement that ended by itself since the update started, when the failures
/// exceed `max_failure_ratio` of the slots and the failure action is not `continue`.
fn over_failure_ratio(
    svc: &ServiceObj,
    view: &ClusterView,
    cfg: &RolloutConfig,
    started_at: Timestamp,
) -> Option<String> {
    if cfg.failure_action == FailureAction::Continue {
        return None;
    }
    let mut failed: Vec<&TaskObj> = view
        .tasks_of(&svc.id)
        .filter(|t| {
            matches!(
                t.status.state,
                TaskState::Complete | TaskState::Failed | TaskState::Rejected
            ) && t.status.timestamp >= started_at
                && same_container_spec(&t.spec.service_spec, &svc.spec)
                // As in SwarmKit: one that never ran counts, one that ran counts only when it
                // ended within `monitor` of starting.
                && t
                    .status
                    .started_at
                    .is_none_or(|up| t.status.timestamp <= after(up, cfg.monitor))
        })
        .collect();
    let slots = desired_slots(svc, view).len().max(1);
    if failed.is_empty() || (failed.len() as f64) / (slots as f64) <= cfg.max_failure_ratio {
        return None;
    }
    failed.sort_by(by_creation);
    failed
        .first()
        .map(|t| crate::restart::ended_task(svc, view, t))
}

/// Takes the failure action: pause, or roll back to `previous_spec`.
fn fail(
    svc: &ServiceObj,
    status: &mut ServiceStatus,
    cfg: &RolloutConfig,
    rollback: bool,
    culprit: &str,
    now: Timestamp,
    out: &mut Vec<Action>,
) -> bool {
    let what = if rollback { "rollback" } else { "update" };
    let previous = status.previous_spec.clone();
    if let (FailureAction::Rollback, false, Some(previous)) =
        (cfg.failure_action, rollback, previous)
    {
        out.push(Action::SetServiceSpec {
            service_id: svc.id.clone(),
            version: svc.version,
            spec: previous.clone(),
        });
        *status = ServiceStatus {
            update: Some(UpdateStatus {
                state: UpdateState::RollbackStarted,
                started_at: now,
                completed_at: None,
                message: format!(
                    "update rolled back due to failure or early termination of task {culprit}"
                ),
            }),
            previous_spec: Some(Box::new(svc.spec.clone())),
            spec_digest: Some(spec_digest(&previous)),
            // Unknown until the write commits; the next pass adopts the service's version.
            spec_version: 0,
            message: status.message.clone(),
        };
        return true;
    }
    if let Some(update) = status.update.as_mut() {
        update.state = if rollback {
            UpdateState::RollbackPaused
        } else {
            UpdateState::Paused
        };
        update.message =
            format!("{what} paused due to failure or early termination of task {culprit}");
    }
    false
}

//! The forward-only task state machine: given a task, what the agent last knew of it and what
//! the runtime shows now, decide the one next action and the status to report. Pure, so every
//! transition is unit-tested without an engine; the worker (`worker.rs`) executes the actions.

use std::time::Duration;

use model::meta::Timestamp;
use model::{TaskState, TaskStatus};
use wire::TaskAssignment;

use super::runtime::{ContainerState, HealthStatus, Observed};

/// Docker's default stop grace period, used when the spec gives none.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);

/// Error of a task whose container vanished under it.
pub const REMOVED_OUTSIDE: &str = "container removed outside swarm";

/// What the worker should do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepAction {
    /// Nothing until the task, its container or the clock changes.
    Wait,
    /// Make the image, volumes, files and networks ready and create the container.
    Prepare,
    /// Start the created container.
    Start,
    /// Stop the running container (signal, then kill after the grace period).
    Stop {
        /// The spec's stop signal; `None` keeps the container's own.
        signal: Option<String>,
        /// How long the process gets to exit before it is killed.
        grace: Duration,
    },
    /// Remove the container and release the task's files and networks.
    Remove,
    /// The container ended on its own: release the task's files, keep the container (logs).
    Release,
}

/// The status the agent should start from: the manager's record or the agent's own, whichever
/// is further along (the agent reports faster than the manager echoes).
pub fn current_status<'a>(
    task: &'a TaskAssignment,
    local: Option<&'a TaskStatus>,
) -> &'a TaskStatus {
    match local {
        Some(local) if local.state >= task.status.state => local,
        _ => &task.status,
    }
}

/// Decides the next action for `task`, whose status is `current`, given the container the
/// runtime shows (`None`: there is none). Returns a new status only when the state moves
/// forward (or the container id becomes known); never a state lower than `current`.
pub fn step(
    task: &TaskAssignment,
    current: &TaskStatus,
    observed: Option<&Observed>,
    now: Timestamp,
) -> (StepAction, Option<TaskStatus>) {
    // Jobs want COMPLETE: only desired states past it (SHUTDOWN, REMOVE...) mean "stop".
    let stopping = task.desired_state > TaskState::Complete;
    // Desired READY: prepare and create the container, but do not start it yet.
    let held = task.desired_state == TaskState::Ready;
    let stop = || StepAction::Stop {
        signal: task.spec.stop_signal.clone(),
        grace: stop_grace(task),
    };

    if current.state.is_terminal() {
        // The task is over; only its container may still need handling.
        let action = match observed {
            Some(o) if o.is_running() => stop(),
            Some(_) if stopping => StepAction::Remove,
            Some(_) => StepAction::Release,
            None => StepAction::Wait,
        };
        return (action, None);
    }

    if stopping {
        return match observed {
            Some(o) if o.is_running() => (stop(), None),
            Some(o) => (
                StepAction::Remove,
                Some(advance(current, TaskState::Shutdown, Some(o), now)),
            ),
            None => (
                StepAction::Release,
                Some(advance(current, TaskState::Shutdown, None, now)),
            ),
        };
    }

    match (current.state, observed) {
        (state, _) if state < TaskState::Accepted => (
            StepAction::Wait,
            Some(advance(current, TaskState::Accepted, observed, now)),
        ),
        (TaskState::Accepted, None) => (
            StepAction::Prepare,
            Some(advance(current, TaskState::Preparing, None, now)),
        ),
        (TaskState::Accepted, Some(o)) => (
            StepAction::Wait,
            Some(advance(current, TaskState::Preparing, Some(o), now)),
        ),
        (TaskState::Preparing, None) => (StepAction::Prepare, None),
        (_, Some(o)) if o.state == ContainerState::Exited => {
            (StepAction::Release, Some(exited(current, o, now)))
        }
        // Created, and the replaced task has not stopped yet: hold.
        (TaskState::Preparing, Some(o)) if o.state == ContainerState::Created && held => (
            StepAction::Wait,
            Some(advance(current, TaskState::Ready, Some(o), now)),
        ),
        (TaskState::Ready, Some(o)) if o.state == ContainerState::Created && held => {
            (StepAction::Wait, None)
        }
        (TaskState::Preparing | TaskState::Ready, Some(o))
            if o.state == ContainerState::Created =>
        {
            (
                StepAction::Start,
                Some(advance(current, TaskState::Starting, Some(o), now)),
            )
        }
        (TaskState::Preparing | TaskState::Ready, Some(o)) => (
            StepAction::Wait,
            Some(advance(current, TaskState::Starting, Some(o), now)),
        ),
        (_, None) => {
            let mut status = advance(current, TaskState::Failed, None, now);
            status.error = Some(REMOVED_OUTSIDE.into());
            (StepAction::Release, Some(status))
        }
        (_, Some(o)) if o.state == ContainerState::Created && !held => (StepAction::Start, None),
        (state, Some(o)) => match o.health {
            Some(HealthStatus::Unhealthy) => {
                let mut status = advance(current, TaskState::Failed, Some(o), now);
                status.error = Some(unhealthy_error(o));
                (stop(), Some(status))
            }
            Some(HealthStatus::Starting) => (StepAction::Wait, None),
            _ if state < TaskState::Running => (
                StepAction::Wait,
                Some(advance(current, TaskState::Running, Some(o), now)),
            ),
            _ => (StepAction::Wait, None),
        },
    }
}

/// The status of a task whose action failed (the image could not be had, the engine refused
/// the container...).
pub fn failed(current: &TaskStatus, error: String, now: Timestamp) -> TaskStatus {
    let mut status = advance(current, TaskState::Failed, None, now);
    status.error = Some(error);
    status
}

/// The spec's stop grace period, or Docker's default.
pub fn stop_grace(task: &TaskAssignment) -> Duration {
    task.spec
        .stop_grace_period
        .map_or(DEFAULT_STOP_GRACE, |d| Duration::from_nanos(d.0))
}

fn advance(
    current: &TaskStatus,
    state: TaskState,
    observed: Option<&Observed>,
    now: Timestamp,
) -> TaskStatus {
    TaskStatus {
        state,
        container_id: observed
            .map(|o| o.container_id.clone())
            .or_else(|| current.container_id.clone()),
        exit_code: observed.and_then(|o| o.exit_code),
        error: None,
        message: message(state).into(),
        timestamp: now,
        started_at: current
            .started_at
            .or((state == TaskState::Running).then_some(now)),
        ..current.clone()
    }
}

fn exited(current: &TaskStatus, o: &Observed, now: Timestamp) -> TaskStatus {
    let code = o.exit_code.unwrap_or(-1);
    if code == 0 && !o.oom_killed {
        return advance(current, TaskState::Complete, Some(o), now);
    }
    let mut status = advance(current, TaskState::Failed, Some(o), now);
    status.error = Some(if o.oom_killed {
        format!(
            "task: container killed by the kernel for exceeding its memory limit (exit code {code}); raise deploy.resources.limits.memory"
        )
    } else if let Some(err) = o.error.as_deref().filter(|e| !e.is_empty()) {
        format!("task: {err}")
    } else {
        format!("task: non-zero exit ({code})")
    });
    status
}

fn unhealthy_error(o: &Observed) -> String {
    match o
        .health_log
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        Some(log) => format!("task: container unhealthy; last health check said: {log}"),
        None => "task: container unhealthy".into(),
    }
}

fn message(state: TaskState) -> &'static str {
    match state {
        TaskState::Accepted => "accepted",
        TaskState::Preparing => "preparing",
        TaskState::Ready => "ready to start",
        TaskState::Starting => "starting",
        TaskState::Running => "started",
        TaskState::Complete => "finished",
        TaskState::Shutdown => "shutdown",
        TaskState::Failed => "failed",
        _ => "",
    }
}

#[cfg(test)]
#[path = "step_tests.rs"]
mod tests;

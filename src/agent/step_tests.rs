use model::meta::Timestamp;
use model::service::Healthcheck;
use model::units::Duration as SpecDuration;
use model::{TaskState, TaskStatus};

use super::*;
use crate::agent::runtime::{ContainerState, HealthStatus, Observed};

const NOW: Timestamp = Timestamp(1_000);

fn task() -> TaskAssignment {
    TaskAssignment::test("t1", "web", "busybox")
}

fn at(state: TaskState) -> TaskStatus {
    TaskStatus {
        state,
        ..TaskStatus::default()
    }
}

fn container(state: ContainerState) -> Observed {
    Observed {
        state,
        ..Observed::running("c1")
    }
}

fn exited(code: i64) -> Observed {
    Observed {
        exit_code: Some(code),
        ..container(ContainerState::Exited)
    }
}

fn state_of(result: &(StepAction, Option<TaskStatus>)) -> Option<TaskState> {
    result.1.as_ref().map(|s| s.state)
}

#[test]
fn walks_from_assigned_to_running_one_state_per_step() {
    let t = task();
    let mut status = t.status.clone();
    let mut observed: Option<Observed> = None;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let (action, next) = step(&t, &status, observed.as_ref(), NOW);
        if let Some(next) = next {
            seen.push(next.state);
            status = next;
        }
        // Play the runtime: each action has its obvious effect.
        match action {
            StepAction::Prepare => observed = Some(container(ContainerState::Created)),
            StepAction::Start => observed = Some(container(ContainerState::Running)),
            StepAction::Wait if status.state == TaskState::Running => break,
            _ => {}
        }
    }
    assert_eq!(
        seen,
        [
            TaskState::Accepted,
            TaskState::Preparing,
            TaskState::Starting,
            TaskState::Running
        ]
    );
    assert_eq!(status.container_id.as_deref(), Some("c1"));
    assert_eq!(status.timestamp, NOW);
}

#[test]
fn a_health_check_gates_running() {
    let mut t = task();
    t.spec_mut().healthcheck = Some(Healthcheck::default());
    let starting = Observed {
        health: Some(HealthStatus::Starting),
        ..container(ContainerState::Running)
    };
    let r = step(&t, &at(TaskState::Starting), Some(&starting), NOW);
    assert_eq!(r, (StepAction::Wait, None));
    let healthy = Observed {
        health: Some(HealthStatus::Healthy),
        ..starting
    };
    let r = step(&t, &at(TaskState::Starting), Some(&healthy), NOW);
    assert_eq!(state_of(&r), Some(TaskState::Running));
}

#[test]
fn unhealthy_fails_the_task_with_the_health_log_and_stops_it() {
    let mut t = task();
    t.spec_mut().stop_grace_period = Some(SpecDuration::from_secs(3));
    t.spec_mut().stop_signal = Some("SIGINT".into());
    let sick = Observed {
        health: Some(HealthStatus::Unhealthy),
        health_log: Some("wget: can't connect\n".into()),
        ..container(ContainerState::Running)
    };
    let (action, status) = step(&t, &at(TaskState::Running), Some(&sick), NOW);
    let status = status.expect("a status");
    assert_eq!(status.state, TaskState::Failed);
    let error = status.error.expect("an error");
    assert!(
        error.contains("unhealthy") && error.contains("wget: can't connect"),
        "{error}"
    );
    assert_eq!(
        action,
        StepAction::Stop {
            signal: Some("SIGINT".into()),
            grace: std::time::Duration::from_secs(3)
        }
    );
}

#[test]
fn exits_map_to_complete_or_failed_with_the_code() {
    let t = task();
    let r = step(&t, &at(TaskState::Running), Some(&exited(0)), NOW);
    assert_eq!(r.0, StepAction::Release);
    assert_eq!(state_of(&r), Some(TaskState::Complete));

    let (_, status) = step(&t, &at(TaskState::Running), Some(&exited(137)), NOW);
    let status = status.expect("a status");
    assert_eq!(status.state, TaskState::Failed);
    assert_eq!(status.exit_code, Some(137));
    assert_eq!(status.error.as_deref(), Some("task: non-zero exit (137)"));

    let oom = Observed {
        oom_killed: true,
        ..exited(137)
    };
    let (_, status) = step(&t, &at(TaskState::Running), Some(&oom), NOW);
    assert!(
        status
            .and_then(|s| s.error)
            .is_some_and(|e| e.contains("memory"))
    );
}

#[test]
fn a_vanished_container_fails_the_task() {
    let (action, status) = step(&task(), &at(TaskState::Running), None, NOW);
    assert_eq!(action, StepAction::Release);
    let status = status.expect("a status");
    assert_eq!(status.state, TaskState::Failed);
    assert_eq!(status.error.as_deref(), Some(REMOVED_OUTSIDE));
}

#[test]
fn desired_shutdown_stops_then_removes() {
    let t = task().desired(TaskState::Shutdown);
    let running = container(ContainerState::Running);
    let (action, status) = step(&t, &at(TaskState::Running), Some(&running), NOW);
    assert!(matches!(action, StepAction::Stop { grace, .. } if grace == DEFAULT_STOP_GRACE));
    assert_eq!(status, None);

    let r = step(&t, &at(TaskState::Running), Some(&exited(143)), NOW);
    assert_eq!(r.0, StepAction::Remove);
    assert_eq!(state_of(&r), Some(TaskState::Shutdown));

    // Once shut down and removed there is nothing left to do.
    assert_eq!(
        step(&t, &at(TaskState::Shutdown), None, NOW),
        (StepAction::Wait, None)
    );
}

#[test]
fn never_reports_a_lower_state_than_recorded() {
    let t = task();
    // The manager recorded Running; a created-but-not-started container must not pull it back.
    let r = step(
        &t,
        &at(TaskState::Running),
        Some(&container(ContainerState::Created)),
        NOW,
    );
    assert_eq!(r, (StepAction::Start, None));
    // A terminal task stays terminal whatever the container does.
    for observed in [
        None,
        Some(container(ContainerState::Created)),
        Some(exited(0)),
    ] {
        let (_, status) = step(&t, &at(TaskState::Failed), observed.as_ref(), NOW);
        assert_eq!(status, None);
    }
    // The agent's own newer status wins over the manager's older record.
    let local = at(TaskState::Starting);
    assert_eq!(current_status(&t, Some(&local)).state, TaskState::Starting);
    let mut behind = t.clone();
    behind.status = at(TaskState::Running);
    assert_eq!(
        current_status(&behind, Some(&local)).state,
        TaskState::Running
    );
}

#[test]
fn adoption_walks_forward_without_restarting() {
    // An agent that restarted before reporting finds the container already running.
    let t = task();
    let running = container(ContainerState::Running);
    let mut status = at(TaskState::Assigned);
    let mut actions = Vec::new();
    for _ in 0..5 {
        let (action, next) = step(&t, &status, Some(&running), NOW);
        actions.push(action);
        match next {
            Some(next) => status = next,
            None => break,
        }
    }
    assert_eq!(status.state, TaskState::Running);
    assert!(
        actions.iter().all(|a| *a == StepAction::Wait),
        "{actions:?}"
    );
}

#[test]
fn a_terminal_task_with_a_running_container_is_stopped() {
    let r = step(
        &task(),
        &at(TaskState::Failed),
        Some(&container(ContainerState::Running)),
        NOW,
    );
    assert!(matches!(r, (StepAction::Stop { .. }, None)));
}

#[test]
fn running_records_when_the_task_started_and_later_states_keep_it() {
    let t = task();
    let (_, running) = step(
        &t,
        &at(TaskState::Starting),
        Some(&container(ContainerState::Running)),
        NOW,
    );
    let running = running.expect("moves to running");
    assert_eq!(running.started_at, Some(NOW));
    let later = Timestamp(NOW.0 + 60_000);
    let (_, failed) = step(&t, &running, Some(&exited(1)), later);
    let failed = failed.expect("moves to failed");
    assert_eq!(failed.state, TaskState::Failed);
    assert_eq!(failed.timestamp, later);
    assert_eq!(
        failed.started_at,
        Some(NOW),
        "when it started, not when it ended"
    );
}

#[test]
fn a_task_wanting_ready_is_created_but_started_only_when_told() {
    let mut t = task();
    t.desired_state = TaskState::Ready;
    let created = container(ContainerState::Created);
    let (action, next) = step(&t, &at(TaskState::Preparing), Some(&created), NOW);
    assert_eq!(action, StepAction::Wait);
    let ready = next.expect("reports ready");
    assert_eq!(ready.state, TaskState::Ready);
    assert_eq!(
        step(&t, &ready, Some(&created), NOW),
        (StepAction::Wait, None)
    );

    t.desired_state = TaskState::Running;
    let (action, next) = step(&t, &ready, Some(&created), NOW);
    assert_eq!(action, StepAction::Start);
    assert_eq!(next.map(|s| s.state), Some(TaskState::Starting));
}

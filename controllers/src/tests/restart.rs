use model::service::{RestartCondition, RestartPolicy};
use model::{Duration, TaskSpec, TaskState, TaskStatus, Timestamp};

use super::{NOW, created, shut};
use crate::testing::Sim;
use crate::{Action, NodeObj, ServiceObj, TaskObj, reconcile_all, restart, service, view};

fn policy(condition: RestartCondition) -> RestartPolicy {
    RestartPolicy {
        condition: Some(condition),
        delay: Some(Duration(0)),
        ..RestartPolicy::default()
    }
}

#[test]
fn a_failed_task_is_replaced_by_a_new_task_in_its_slot_never_in_place() {
    let svc = ServiceObj::test("web")
        .replicas(2)
        .restart(policy(RestartCondition::Any));
    let mut failed = TaskObj::test(&svc, 2)
        .on("n1")
        .state(TaskState::Failed)
        .at(999_000);
    failed.status.error = Some("exit code 3".into());
    let view = view![svc.clone(), TaskObj::test(&svc, 1), failed];
    let actions = restart::reconcile(&view, NOW);
    assert_eq!(shut(&actions), ["web.2"], "the failed task is acknowledged");
    let made = created(&actions);
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].1, Some(2));
    assert_eq!(made[0].3.state, TaskState::New);
    assert_eq!(
        made[0].3.message, "restart 1 after task web.2 (web.2) failed: exit code 3",
        "the ended task's name as `ps` shows it, its id and its error"
    );
    // The orchestrator leaves slots with an ended task to the restart policy.
    assert!(created(&service::reconcile(&view, NOW)).is_empty());
}

#[test]
fn condition_none_leaves_the_slot_empty_and_on_failure_ignores_success() {
    let none = ServiceObj::test("a").restart(policy(RestartCondition::None));
    let on_failure = ServiceObj::test("b").restart(policy(RestartCondition::OnFailure));
    let view = view![
        none.clone(),
        on_failure.clone(),
        TaskObj::test(&none, 1).state(TaskState::Failed),
        TaskObj::test(&on_failure, 1).state(TaskState::Complete),
    ];
    assert!(
        reconcile_all(&view, NOW)
            .iter()
            .all(|a| !matches!(a, Action::CreateTask { .. }))
    );

    let view = view![
        on_failure.clone(),
        TaskObj::test(&on_failure, 1).state(TaskState::Failed)
    ];
    assert_eq!(created(&restart::reconcile(&view, NOW)).len(), 1);
    let view = view![
        on_failure.clone(),
        TaskObj::test(&on_failure, 1).state(TaskState::Rejected)
    ];
    assert_eq!(
        created(&restart::reconcile(&view, NOW)).len(),
        1,
        "rejected is a failure"
    );
}

#[test]
fn condition_any_restarts_a_task_that_exited_cleanly() {
    let svc = ServiceObj::test("web").restart(policy(RestartCondition::Any));
    let view = view![
        svc.clone(),
        TaskObj::test(&svc, 1).state(TaskState::Complete)
    ];
    assert_eq!(created(&restart::reconcile(&view, NOW)).len(), 1);
}

/// The spec and status of every task `actions` create.
fn created_specs(actions: &[Action]) -> Vec<(TaskSpec, TaskStatus)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateTask { spec, status, .. } => Some((spec.clone(), status.clone())),
            _ => None,
        })
        .collect()
}

fn delayed(secs: u64) -> ServiceObj {
    ServiceObj::test("web").restart(RestartPolicy {
        delay: Some(Duration::from_secs(secs)),
        ..RestartPolicy::default()
    })
}

/// A one-node cluster where `svc`'s first task ran and then failed; with that task's id.
fn ran_then_failed(svc: ServiceObj) -> (Sim, String) {
    let name = svc.name.clone();
    let mut sim = Sim::new(view![svc, NodeObj::test("n1")]);
    sim.converge();
    let first = sim.live(&name)[0].id.clone();
    sim.report(&first, TaskState::Failed);
    (sim, first)
}

#[test]
fn a_task_that_ran_is_replaced_by_one_prepared_during_the_delay_and_started_after_it() {
    let (mut sim, first) = ran_then_failed(delayed(10));
    let failed_at = sim.now;
    let made = created_specs(&restart::reconcile(&sim.view, sim.now));
    assert_eq!(made.len(), 1);
    let (spec, status) = &made[0];
    assert_eq!(
        spec.desired_state,
        TaskState::Ready,
        "prepared, not started"
    );
    assert_eq!(spec.start_at, Some(Timestamp(failed_at.0 + 10_000)));
    assert_eq!(
        status.message,
        format!("restart 1 delayed 10s by the restart policy, after task web.1 ({first}) failed")
    );
    sim.converge();
    let prepared = sim.live("web")[0].clone();
    assert_eq!(
        prepared.status.node_id.as_deref(),
        Some("n1"),
        "placed at once"
    );
    assert_eq!(prepared.status.state, TaskState::Ready, "container created");
    assert_eq!(
        restart::delayed(&sim.view.services()["web"], &sim.view, sim.now),
        [(prepared.id.clone(), status.message.clone())],
        "why it waits, though the agent's message replaced the restart's"
    );
    sim.advance(9_999);
    sim.converge();
    assert_eq!(sim.live("web")[0].status.state, TaskState::Ready);
    assert_eq!(sim.live("web")[0].spec.desired_state, TaskState::Ready);
    sim.advance(1);
    sim.converge();
    let started = sim.live("web")[0];
    assert_eq!(
        started.id, prepared.id,
        "the prepared task itself is started"
    );
    assert_eq!(
        (started.spec.desired_state, started.status.state),
        (TaskState::Running, TaskState::Running)
    );
}

#[test]
fn a_task_that_never_ran_is_replaced_only_after_the_delay() {
    // A missing image or a failed create: no `started_at`.
    let svc = delayed(10);
    let failed = TaskObj::test(&svc, 1)
        .on("n1")
        .state(TaskState::Failed)
        .at(NOW.0);
    let mut sim = Sim::new(view![svc, NodeObj::test("n1"), failed]);
    sim.converge();
    let held = sim.live("web")[0].clone();
    assert_eq!(held.spec.desired_state, TaskState::Running);
    assert_eq!(held.status.state, TaskState::Pending);
    assert_eq!(held.status.node_id, None, "not scheduled while held");
    assert_eq!(held.status.timestamp, Timestamp(NOW.0 + 10_000));
    assert_eq!(
        held.status.message,
        "restart 1 delayed 10s by the restart policy, after task web.1 (web.1) failed"
    );
    sim.advance(9_999);
    sim.converge();
    assert_eq!(sim.live("web")[0].status.state, TaskState::Pending);
    sim.advance(1);
    sim.converge();
    assert_eq!(sim.live("web")[0].status.state, TaskState::Running);
    assert_eq!(
        sim.live("web")[0].id,
        held.id,
        "the held task itself is released"
    );
}

#[test]
fn a_replacement_failing_while_prepared_is_not_retried_at_create_speed() {
    let (mut sim, _) = ran_then_failed(delayed(5));
    sim.converge();
    let prepared = sim.live("web")[0].id.clone();
    // Its container cannot be created: it fails at once, without having run.
    sim.report(&prepared, TaskState::Failed);
    sim.converge();
    assert_eq!(sim.tasks("web").len(), 3, "one replacement per failure");
    let held = sim.live("web")[0];
    assert_eq!(
        (held.status.state, held.status.node_id.as_deref()),
        (TaskState::Pending, None),
        "held unplaced, not prepared again"
    );
    assert_eq!(held.status.timestamp, Timestamp(sim.now.0 + 5_000));
}

#[test]
fn the_delay_counts_from_when_the_task_ended_as_its_node_stamped_it() {
    let svc = delayed(5);
    let release = |ended_at: i64, ran: bool| {
        let mut failed = TaskObj::test(&svc, 1)
            .on("n1")
            .state(TaskState::Failed)
            .at(ended_at);
        if ran {
            failed = failed.started(ended_at - 60_000);
        }
        let made = created_specs(&restart::reconcile(&view![svc.clone(), failed], NOW));
        let (spec, status) = &made[0];
        spec.start_at.unwrap_or(status.timestamp).0 - NOW.0
    };
    assert_eq!(release(NOW.0 - 300, true), 4_700, "reported 300 ms late");
    assert_eq!(release(NOW.0 - 300, false), 4_700, "held by the same rule");
    // Node clocks are not the manager's: a stamp ahead of it counts from now, and one far
    // behind moves the start back by at most a second.
    assert_eq!(release(NOW.0 + 2_000, true), 5_000);
    assert_eq!(release(NOW.0 - 60_000, true), 4_000);
    assert_eq!(release(NOW.0 - 60_000, false), 4_000);
}

#[test]
fn the_default_restart_delay_is_five_seconds() {
    let svc = ServiceObj::test("web");
    let view = view![
        svc.clone(),
        TaskObj::test(&svc, 1).state(TaskState::Failed).at(NOW.0)
    ];
    let made = created(&restart::reconcile(&view, NOW));
    assert_eq!(made[0].3.timestamp, Timestamp(NOW.0 + 5_000));
}

#[test]
fn a_failed_job_task_that_ran_is_prepared_and_then_run_to_completion() {
    let svc = ServiceObj::test("migrate").job(1).restart(RestartPolicy {
        delay: Some(Duration::from_secs(2)),
        ..RestartPolicy::default()
    });
    let (mut sim, _) = ran_then_failed(svc);
    sim.converge();
    assert_eq!(sim.live("migrate")[0].spec.desired_state, TaskState::Ready);
    sim.advance(2_000);
    sim.converge();
    assert_eq!(
        sim.live("migrate")[0].spec.desired_state,
        TaskState::Complete,
        "a job's task is wanted complete, not running"
    );
}

#[test]
fn max_attempts_exhausted_leaves_the_slot_empty_and_says_why() {
    let svc = ServiceObj::test("web").replicas(2).restart(RestartPolicy {
        max_attempts: Some(2),
        delay: Some(Duration(0)),
        ..RestartPolicy::default()
    });
    let mut sim = Sim::new(view![svc, NodeObj::test("n1")]);
    sim.converge();
    for attempt in 0..3 {
        let slot1 = sim
            .live("web")
            .into_iter()
            .find(|t| t.spec.slot == Some(1))
            .map(|t| t.id.clone());
        let Some(id) = slot1 else {
            panic!("slot 1 empty after {attempt} failures")
        };
        sim.report(&id, TaskState::Failed);
        sim.converge();
    }
    let slots: Vec<_> = sim.live("web").iter().map(|t| t.spec.slot).collect();
    assert_eq!(slots, [Some(2)], "slot 1 is given up after 1 + 2 attempts");
    assert_eq!(
        sim.tasks("web")
            .iter()
            .filter(|t| t.spec.slot == Some(1))
            .count(),
        3
    );
    assert_eq!(
        sim.view.services()["web"].status.message,
        "restart attempts exhausted for slot 1 (max_attempts 2)"
    );
    assert!(sim.pass().is_empty(), "fixed point");
}

#[test]
fn attempts_are_counted_within_the_window_only() {
    let svc = ServiceObj::test("web").restart(RestartPolicy {
        max_attempts: Some(1),
        window: Some(Duration::from_secs(60)),
        delay: Some(Duration(0)),
        ..RestartPolicy::default()
    });
    let old = TaskObj::test(&svc, 1)
        .seq(1)
        .state(TaskState::Failed)
        .desired(TaskState::Shutdown);
    let inside = old
        .clone()
        .seq(2)
        .state(TaskState::Failed)
        .desired(TaskState::Running);
    let recent = view![
        svc.clone(),
        old.clone().at(NOW.0 - 10_000),
        inside.clone().at(NOW.0 - 1_000)
    ];
    let actions = restart::reconcile(&recent, NOW);
    assert!(created(&actions).is_empty());
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::SetServiceStatus { status, .. }
        if status.message == "restart attempts exhausted for slot 1 (max_attempts 1 within 1m)"))
    );
    let aged = view![svc, old.at(NOW.0 - 120_000), inside.at(NOW.0 - 1_000)];
    assert_eq!(
        created(&restart::reconcile(&aged, NOW)).len(),
        1,
        "the older failure left the window"
    );
}

#[test]
fn scaled_away_slots_and_paused_global_nodes_are_not_restarted() {
    let svc = ServiceObj::test("web")
        .replicas(1)
        .restart(policy(RestartCondition::Any));
    let view = view![
        svc.clone(),
        TaskObj::test(&svc, 1),
        TaskObj::test(&svc, 2).state(TaskState::Failed)
    ];
    assert!(restart::reconcile(&view, NOW).is_empty());
    let global = ServiceObj::test("agent")
        .global()
        .restart(policy(RestartCondition::Any));
    let view = view![
        global.clone(),
        NodeObj::test("n1").pause(),
        TaskObj::global(&global, "n1").state(TaskState::Failed),
    ];
    assert!(restart::reconcile(&view, NOW).is_empty());
}

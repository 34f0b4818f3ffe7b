//! The controllers' deadlines: a runner that sleeps until `requeue_at` (never polling) decides
//! what a runner polling every millisecond would, at the same instants.

use model::service::{RestartCondition, RestartPolicy, UpdateConfig, UpdateState};
use model::{Duration, TaskState, Timestamp};

use super::NOW;
use crate::testing::Sim;
use crate::{Action, NodeObj, ServiceObj, Settings, TaskObj, reconcile_pass, view};

fn restart(delay_secs: u64) -> RestartPolicy {
    RestartPolicy {
        condition: Some(RestartCondition::Any),
        delay: Some(Duration::from_secs(delay_secs)),
        ..RestartPolicy::default()
    }
}

#[test]
fn a_converged_cluster_has_nothing_due() {
    let mut sim = Sim::new(view![
        ServiceObj::test("web").replicas(2),
        NodeObj::test("n1")
    ]);
    sim.converge();
    assert_eq!(sim.deadline(), None, "only a commit can change anything");
}

#[test]
fn a_delayed_restart_is_due_at_its_release_time_from_the_pass_that_held_it() {
    let svc = ServiceObj::test("web").restart(restart(5));
    let failed = TaskObj::test(&svc, 1)
        .on("n1")
        .state(TaskState::Failed)
        .at(NOW.0);
    let view = view![svc, NodeObj::test("n1"), failed];
    let pass = reconcile_pass(&view, NOW, &Settings::default());
    assert_eq!(
        pass.requeue_at,
        Some(Timestamp(NOW.0 + 5_000)),
        "the pass that creates the held task already knows when to come back"
    );

    let mut sim = Sim::new(view);
    sim.converge();
    assert!(sim.in_state("web", TaskState::Running).is_empty(), "held");
    assert!(sim.sleep_until_deadline());
    assert_eq!(sim.now, Timestamp(NOW.0 + 5_000));
    assert_eq!(sim.in_state("web", TaskState::Running).len(), 1);
    assert_eq!(sim.deadline(), None);
}

#[test]
fn a_rolling_update_driven_only_by_deadlines_completes_at_the_same_instants() {
    let config = UpdateConfig {
        parallelism: Some(1),
        delay: Some(Duration::from_secs(2)),
        monitor: Some(Duration::from_secs(3)),
        ..UpdateConfig::default()
    };
    let svc = ServiceObj::test("web").replicas(3).update_config(config);
    let start = |sim: &mut Sim| {
        sim.converge();
        sim.edit_service("web", |s| s.spec.image = Some("web:2".into()));
    };
    let mut polled = Sim::new(view![svc.clone(), NodeObj::test("n1")]);
    start(&mut polled);
    let mut slept = polled.clone();

    let mut wakes = Vec::new();
    while slept.sleep_until_deadline() {
        wakes.push(slept.now.0 - NOW.0);
        assert!(wakes.len() < 20, "deadlines never run out: {wakes:?}");
    }
    // Two more slots after 2 s each, then the 3 s monitor of the last one.
    assert_eq!(wakes, [2_000, 4_000, 7_000]);
    let completed = |sim: &Sim| {
        sim.view.services()["web"]
            .status
            .update
            .as_ref()
            .map(|u| (u.state, u.completed_at))
    };
    assert_eq!(
        completed(&slept),
        Some((UpdateState::Completed, Some(Timestamp(NOW.0 + 7_000))))
    );

    polled.converge();
    for _ in 0..7_000 {
        polled.advance(1);
        polled.converge();
    }
    assert_eq!(completed(&polled), completed(&slept));
    let names =
        |sim: &Sim| -> Vec<String> { sim.live("web").iter().map(|t| t.name.clone()).collect() };
    assert_eq!(
        names(&polled),
        names(&slept),
        "the same tasks, created at the same instants"
    );
}

#[test]
fn a_down_node_is_due_when_its_grace_period_runs_out() {
    let svc = ServiceObj::test("web");
    let mut sim = Sim::new(view![
        svc.clone(),
        NodeObj::test("n1").down(NOW.0 - 1_000),
        NodeObj::test("n2"),
        TaskObj::test(&svc, 1).on("n1")
    ]);
    let grace = sim.settings.node_down_grace_ms;
    assert_eq!(sim.deadline(), Some(Timestamp(NOW.0 - 1_000 + grace + 1)));
    assert!(sim.sleep_until_deadline());
    let live = sim.live("web");
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].status.node_id.as_deref(), Some("n2"), "replaced");
}

#[test]
fn an_exhausted_slot_is_due_when_its_oldest_attempt_leaves_the_window() {
    let policy = RestartPolicy {
        condition: Some(RestartCondition::Any),
        delay: Some(Duration(0)),
        max_attempts: Some(1),
        window: Some(Duration::from_secs(10)),
    };
    let svc = ServiceObj::test("web").restart(policy);
    let attempt = |seq, at| {
        TaskObj::test(&svc, 1)
            .seq(seq)
            .on("n1")
            .state(TaskState::Failed)
            .at(at)
    };
    let mut sim = Sim::new(view![
        svc.clone(),
        NodeObj::test("n1"),
        attempt(1, NOW.0 - 4_000),
        attempt(2, NOW.0 - 2_000)
    ]);
    sim.converge();
    assert!(sim.live("web").is_empty(), "exhausted");
    assert_eq!(sim.deadline(), Some(Timestamp(NOW.0 + 6_001)));
    assert!(sim.sleep_until_deadline());
    assert_eq!(
        sim.live("web").len(),
        1,
        "restarted once an attempt left the window"
    );
}

#[test]
fn the_kill_path_costs_one_pass_at_the_failure_and_one_at_the_release_or_start() {
    let failed = |svc: &ServiceObj| {
        TaskObj::test(svc, 1)
            .on("n1")
            .state(TaskState::Failed)
            .at(NOW.0)
    };
    // No delay: the pass that sees the failure creates the replacement already placed.
    let quick = ServiceObj::test("web").restart(restart(0));
    let view = view![quick.clone(), NodeObj::test("n1"), failed(&quick)];
    let pass = reconcile_pass(&view, NOW, &Settings::default());
    let placed = super::created(&pass.actions);
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].3.state, TaskState::Assigned);
    assert_eq!(pass.requeue_at, None);

    // A delay after a task that ran: the first pass creates the replacement placed and wanting
    // READY; once the agent prepared it, the one pass at the deadline starts it.
    let prepared = ServiceObj::test("web").restart(restart(5));
    let ran = failed(&prepared).started(NOW.0 - 60_000);
    let mut sim = Sim::new(view![prepared, NodeObj::test("n1"), ran]);
    let first = sim.pass();
    let made = super::created(&first);
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].3.state, TaskState::Assigned, "placed at once");
    assert_eq!(sim.deadline(), Some(Timestamp(NOW.0 + 5_000)));
    sim.agents();
    assert!(sim.pass().is_empty(), "nothing to do before the deadline");
    sim.now = sim.deadline().expect("due at the start time");
    let release = sim.pass();
    assert!(
        release.iter().any(|a| matches!(
            a,
            Action::SetDesiredState {
                desired: TaskState::Running,
                ..
            }
        )),
        "{release:#?}"
    );
    assert_eq!(sim.deadline(), None);

    // A delay after a task that never ran: held by the first pass, placed by the one pass at
    // the deadline.
    let held = ServiceObj::test("web").restart(restart(5));
    let mut sim = Sim::new(view![held.clone(), NodeObj::test("n1"), failed(&held)]);
    sim.pass();
    assert!(sim.pass().is_empty(), "nothing to do before the deadline");
    sim.now = sim.deadline().expect("due at the release");
    let release = sim.pass();
    assert!(
        super::statuses(&release)
            .iter()
            .any(|(_, s)| s.state == TaskState::Assigned),
        "{release:#?}"
    );
}

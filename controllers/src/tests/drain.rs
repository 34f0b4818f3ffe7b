use model::TaskState;

use super::{NOW, shut, statuses};
use crate::testing::Sim;
use crate::{Action, NodeObj, ServiceObj, TaskObj, node_drain, view};

#[test]
fn tasks_on_a_drained_node_are_shut_down_and_replaced_elsewhere() {
    let mut sim = Sim::new(view![
        ServiceObj::test("web").replicas(2),
        NodeObj::test("n1"),
        NodeObj::test("n2"),
    ]);
    sim.converge();
    sim.node("n1").spec.availability = model::Availability::Drain;
    sim.converge();
    let live = sim.live("web");
    assert_eq!(live.len(), 2);
    assert!(
        live.iter()
            .all(|t| t.status.node_id.as_deref() == Some("n2"))
    );
    assert!(live.iter().all(|t| t.status.state == TaskState::Running));
    let mut slots: Vec<_> = live.iter().map(|t| t.spec.slot).collect();
    slots.sort();
    assert_eq!(slots, [Some(1), Some(2)]);
}

#[test]
fn paused_nodes_keep_their_tasks() {
    let svc = ServiceObj::test("web");
    let view = view![
        svc.clone(),
        NodeObj::test("n1").pause(),
        TaskObj::test(&svc, 1).on("n1")
    ];
    assert!(node_drain::reconcile(&view, NOW).is_empty());
}

#[test]
fn a_node_down_past_the_grace_period_has_its_tasks_orphaned() {
    let svc = ServiceObj::test("web");
    let task = TaskObj::test(&svc, 1).on("n1");
    let recent = view![
        svc.clone(),
        NodeObj::test("n1").down(NOW.0 - 30_000),
        task.clone()
    ];
    assert!(
        node_drain::reconcile(&recent, NOW).is_empty(),
        "within the grace period"
    );

    let dead = view![
        svc.clone(),
        NodeObj::test("n1").down(NOW.0 - 45_000),
        task.clone()
    ];
    let actions = node_drain::reconcile(&dead, NOW);
    assert_eq!(shut(&actions), ["web.1"]);
    let orphaned = statuses(&actions);
    assert_eq!(orphaned[0].1.state, TaskState::Orphaned);
    assert_eq!(
        orphaned[0].1.message,
        "node n1 is down: no heartbeat for 45s"
    );

    let gone = view![svc, task];
    let actions = node_drain::reconcile(&gone, NOW);
    assert_eq!(statuses(&actions)[0].1.message, "node n1 was removed");
}

#[test]
fn orphaned_tasks_are_replaced_on_live_nodes() {
    let mut sim = Sim::new(view![
        ServiceObj::test("web").replicas(2),
        NodeObj::test("n1"),
        NodeObj::test("n2"),
    ]);
    sim.converge();
    let beat = sim.now.0;
    let node = sim.node("n1");
    node.status.state = model::NodeState::Down;
    node.status.last_heartbeat = Some(model::Timestamp(beat));
    sim.converge();
    assert_eq!(
        sim.tasks("web").len(),
        2,
        "no replacement within the grace period"
    );
    sim.advance(31_000);
    let actions = sim.pass();
    // The orphaned task's desired state and status change in one command: spec write first,
    // status unversioned after it.
    let orphan = actions.iter().position(|a| matches!(a, Action::SetTaskStatus { status, version: None, .. } if status.state == TaskState::Orphaned));
    let desired = actions
        .iter()
        .position(|a| matches!(a, Action::SetDesiredState { .. }));
    assert!(
        matches!((desired, orphan), (Some(d), Some(o)) if d < o),
        "{actions:#?}"
    );
    sim.converge();
    let live = sim.in_state("web", TaskState::Running);
    assert_eq!(live.len(), 2);
    assert!(
        live.iter()
            .all(|t| t.status.node_id.as_deref() == Some("n2"))
    );
}

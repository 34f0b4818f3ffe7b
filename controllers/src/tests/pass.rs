use std::collections::BTreeMap;

use model::service::{RestartPolicy, UpdateConfig};
use model::{Duration, TaskState};

use super::{NOW, created};
use crate::testing::{GIB, Sim};
use crate::{NodeObj, ServiceObj, reconcile_all, view};

#[test]
fn a_task_created_this_pass_is_placed_this_pass() {
    let view = view![
        ServiceObj::test("web").replicas(2),
        NodeObj::test("n1"),
        NodeObj::test("n2")
    ];
    let actions = reconcile_all(&view, NOW);
    assert_eq!(
        actions.len(),
        3,
        "two creates and the service's first status: {actions:#?}"
    );
    let nodes: Vec<_> = created(&actions)
        .into_iter()
        .map(|c| (c.3.state, c.3.node_id))
        .collect();
    assert_eq!(
        nodes,
        [
            (TaskState::Assigned, Some("n1".to_owned())),
            (TaskState::Assigned, Some("n2".to_owned()))
        ]
    );
    assert_eq!(reconcile_all(&view, NOW), actions, "deterministic");
}

#[test]
fn every_pass_commits_and_the_cluster_reaches_a_fixed_point() {
    let mut sim = Sim::new(view![
        ServiceObj::test("web").replicas(5).spread("node.labels.az"),
        ServiceObj::test("db")
            .constraint("node.labels.disk==ssd")
            .reserve(1.0, 6 * GIB)
            .replicas(2),
        ServiceObj::test("agent").global(),
        NodeObj::test("n1").label("az", "a").label("disk", "ssd"),
        NodeObj::test("n2").label("az", "b"),
        NodeObj::test("n3").label("az", "b").label("disk", "ssd"),
    ]);
    sim.converge();
    let per_node = |sim: &Sim, svc: &str| {
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for t in sim.in_state(svc, TaskState::Running) {
            *count
                .entry(t.status.node_id.clone().unwrap_or_default())
                .or_default() += 1;
        }
        count
    };
    assert_eq!(sim.in_state("web", TaskState::Running).len(), 5);
    let az_a = per_node(&sim, "web").get("n1").copied().unwrap_or(0);
    assert!(
        (2..=3).contains(&az_a),
        "spread over az a and b: {:?}",
        per_node(&sim, "web")
    );
    assert_eq!(
        per_node(&sim, "db").into_keys().collect::<Vec<_>>(),
        ["n1", "n3"]
    );
    assert_eq!(per_node(&sim, "agent").len(), 3);
    assert!(sim.pass().is_empty());
    assert!(!sim.agents());

    // Drain the node with a db task: the other ssd node has no room for a second one.
    sim.node("n3").spec.availability = model::Availability::Drain;
    sim.converge();
    assert_eq!(per_node(&sim, "db").into_keys().collect::<Vec<_>>(), ["n1"]);
    let pending: Vec<_> = sim
        .live("db")
        .into_iter()
        .filter(|t| t.status.state == TaskState::Pending)
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].status.message,
        "no suitable node (1 node: constraint node.labels.disk==ssd not met; 1 node: insufficient memory; 1 node drained)"
    );
    assert!(sim.pass().is_empty(), "the explanation is written once");
    assert_eq!(per_node(&sim, "agent").len(), 2);

    sim.node("n3").spec.availability = model::Availability::Active;
    sim.converge();
    assert_eq!(
        per_node(&sim, "db").into_keys().collect::<Vec<_>>(),
        ["n1", "n3"]
    );
    assert_eq!(per_node(&sim, "agent").len(), 3);
}

#[test]
fn crash_loops_keep_history_bounded() {
    let svc = ServiceObj::test("web").restart(RestartPolicy {
        delay: Some(Duration(0)),
        ..RestartPolicy::default()
    });
    let mut sim = Sim::new(view![svc, NodeObj::test("n1")]);
    sim.converge();
    for _ in 0..12 {
        let id = sim.live("web")[0].id.clone();
        sim.report(&id, TaskState::Failed);
        sim.converge();
    }
    assert_eq!(
        sim.tasks("web").len(),
        6,
        "5 finished tasks and the running one"
    );
    assert_eq!(sim.live("web").len(), 1);
}

#[test]
fn deleting_a_service_stops_and_removes_its_tasks() {
    let mut sim = Sim::new(view![
        ServiceObj::test("web").replicas(3),
        ServiceObj::test("db"),
        NodeObj::test("n1")
    ]);
    sim.converge();
    sim.view.remove_service("web");
    sim.converge();
    assert!(sim.tasks("web").is_empty());
    assert_eq!(sim.live("db").len(), 1);
}

#[test]
fn an_update_during_a_drain_converges_on_the_new_spec_everywhere() {
    let svc = ServiceObj::test("web")
        .replicas(4)
        .update_config(UpdateConfig {
            parallelism: Some(2),
            monitor: Some(Duration::from_secs(1)),
            ..UpdateConfig::default()
        });
    let mut sim = Sim::new(view![
        svc,
        NodeObj::test("n1"),
        NodeObj::test("n2"),
        NodeObj::test("n3")
    ]);
    sim.converge();
    sim.edit_service("web", |s| s.spec.image = Some("web:2".into()));
    sim.pass();
    sim.node("n2").spec.availability = model::Availability::Drain;
    sim.run_for(10);
    let live = sim.live("web");
    assert_eq!(live.len(), 4);
    assert!(
        live.iter()
            .all(|t| t.spec.service_spec.image.as_deref() == Some("web:2"))
    );
    assert!(
        live.iter()
            .all(|t| t.status.state == TaskState::Running
                && t.status.node_id.as_deref() != Some("n2"))
    );
    let update = sim.view.services()["web"]
        .status
        .update
        .clone()
        .map(|u| u.state);
    assert_eq!(update, Some(model::service::UpdateState::Completed));
    assert!(sim.pass().is_empty());
}

use model::TaskState;
use model::service::ServiceMode;

use super::{NOW, created, shut};
use crate::testing::Sim;
use crate::{NodeObj, ServiceObj, TaskObj, service, view};

#[test]
fn creates_one_new_task_per_missing_slot_with_a_spec_snapshot() {
    let svc = ServiceObj::test("web").replicas(3).stack("shop").version(7);
    let view = view![svc.clone(), TaskObj::test(&svc, 2)];
    let actions = service::reconcile(&view, NOW);
    let made = created(&actions);
    assert_eq!(made.len(), 2);
    assert_eq!(made[0].0, "web.1.1000000");
    assert_eq!(made[1].0, "web.3.1000001");
    assert_eq!((made[0].1, made[1].1), (Some(1), Some(3)));
    let crate::Action::CreateTask {
        metadata,
        spec,
        status,
    } = &actions[0]
    else {
        panic!("not a create: {actions:?}");
    };
    assert_eq!(metadata.stack.as_deref(), Some("shop"));
    assert_eq!(*spec.service_spec, svc.spec);
    assert_eq!(
        (spec.spec_version, spec.desired_state),
        (7, TaskState::Running)
    );
    assert_eq!((status.state, status.timestamp), (TaskState::New, NOW));
}

#[test]
fn scale_down_shuts_down_the_highest_slots_first() {
    let svc = ServiceObj::test("web").replicas(2);
    let tasks: Vec<TaskObj> = (1..=5).map(|s| TaskObj::test(&svc, s)).collect();
    let actions = service::reconcile(&view![svc, tasks], NOW);
    assert_eq!(shut(&actions), ["web.5", "web.4", "web.3"]);
    assert!(created(&actions).is_empty());
}

#[test]
fn scaling_converges_and_names_never_repeat() {
    let mut sim = Sim::new(view![
        ServiceObj::test("web").replicas(3),
        NodeObj::test("n1")
    ]);
    sim.converge();
    assert_eq!(sim.in_state("web", TaskState::Running).len(), 3);
    sim.edit_service("web", |s| {
        s.spec.deploy.get_or_insert_default().replicas = Some(1)
    });
    sim.converge();
    assert_eq!(sim.live("web").len(), 1);
    assert_eq!(sim.live("web")[0].spec.slot, Some(1));
    sim.edit_service("web", |s| {
        s.spec.deploy.get_or_insert_default().replicas = Some(4)
    });
    sim.converge();
    let names: std::collections::BTreeSet<_> =
        sim.tasks("web").iter().map(|t| t.name.clone()).collect();
    assert_eq!(names.len(), sim.tasks("web").len(), "names are unique");
    let slots: Vec<_> = sim.live("web").iter().map(|t| t.spec.slot).collect();
    assert_eq!(slots.len(), 4);
    assert!(sim.pass().is_empty(), "fixed point");
}

#[test]
fn global_runs_on_every_active_ready_node_and_paused_nodes_keep_theirs() {
    let svc = ServiceObj::test("agent").global();
    let view = view![
        svc.clone(),
        NodeObj::test("n1"),
        NodeObj::test("n2").drain(),
        NodeObj::test("n3").pause(),
        NodeObj::test("n4").down(0),
        TaskObj::global(&svc, "n3"),
    ];
    let actions = service::reconcile(&view, NOW);
    let made = created(&actions);
    assert_eq!(made.len(), 1, "{actions:?}");
    assert_eq!(made[0].0, "agent.n1.1000000");
    assert_eq!((made[0].1, made[0].2.as_deref()), (None, Some("n1")));
    assert!(shut(&actions).is_empty(), "the paused node keeps its task");
}

#[test]
fn global_honours_constraints_and_leaves_nodes_that_stop_matching() {
    let svc = ServiceObj::test("agent")
        .global()
        .constraint("node.labels.gpu==yes");
    let view = view![
        svc.clone(),
        NodeObj::test("n1").label("gpu", "yes"),
        NodeObj::test("n2"),
        TaskObj::global(&svc, "n2"),
    ];
    let actions = service::reconcile(&view, NOW);
    assert_eq!(created(&actions).len(), 1);
    assert_eq!(created(&actions)[0].2.as_deref(), Some("n1"));
    assert_eq!(shut(&actions), ["agent.n2"]);
}

#[test]
fn global_service_converges_across_nodes_joining_and_draining() {
    let mut sim = Sim::new(view![
        ServiceObj::test("agent").global(),
        NodeObj::test("n1"),
        NodeObj::test("n2"),
        NodeObj::test("n3").pause(),
    ]);
    sim.converge();
    let nodes = |sim: &Sim| -> Vec<String> {
        sim.in_state("agent", TaskState::Running)
            .iter()
            .filter_map(|t| t.status.node_id.clone())
            .collect()
    };
    assert_eq!(nodes(&sim), ["n1", "n2"]);
    sim.node("n3").spec.availability = model::Availability::Active;
    sim.node("n1").spec.availability = model::Availability::Drain;
    sim.converge();
    let mut now_on = nodes(&sim);
    now_on.sort();
    assert_eq!(now_on, ["n2", "n3"]);
}

#[test]
fn jobs_run_to_completion_and_completed_tasks_are_not_replaced() {
    let mut sim = Sim::new(view![
        ServiceObj::test("migrate").job(3),
        NodeObj::test("n1")
    ]);
    sim.converge();
    let running: Vec<String> = sim
        .in_state("migrate", TaskState::Running)
        .iter()
        .map(|t| t.id.clone())
        .collect();
    assert_eq!(running.len(), 3);
    assert!(
        sim.live("migrate")
            .iter()
            .all(|t| t.spec.desired_state == TaskState::Complete)
    );
    for id in &running {
        sim.report(id, TaskState::Complete);
    }
    sim.converge();
    assert!(sim.live("migrate").is_empty());
    assert_eq!(sim.tasks("migrate").len(), 3, "no reruns");
    assert!(sim.pass().is_empty());
}

#[test]
fn a_failed_job_task_is_retried_and_a_new_spec_reruns_the_job() {
    let svc = ServiceObj::test("migrate")
        .job(1)
        .restart(model::service::RestartPolicy {
            delay: Some(model::Duration(0)),
            ..Default::default()
        });
    let mut sim = Sim::new(view![svc, NodeObj::test("n1")]);
    sim.converge();
    let first = sim.live("migrate")[0].id.clone();
    sim.report(&first, TaskState::Failed);
    sim.converge();
    let second = sim.live("migrate")[0].id.clone();
    assert_ne!(first, second);
    sim.report(&second, TaskState::Complete);
    sim.converge();
    assert!(sim.live("migrate").is_empty());
    sim.edit_service("migrate", |s| s.spec.image = Some("migrate:2".into()));
    sim.converge();
    assert_eq!(sim.live("migrate").len(), 1, "a new spec is a new run");
}

#[test]
fn global_jobs_run_once_per_node() {
    let mut sim = Sim::new(view![
        ServiceObj::test("prune").mode(ServiceMode::GlobalJob),
        NodeObj::test("n1"),
        NodeObj::test("n2"),
    ]);
    sim.converge();
    let ids = sim.ids("prune");
    assert_eq!(ids.len(), 2);
    for id in ids {
        sim.report(&id, TaskState::Complete);
    }
    sim.converge();
    assert!(sim.live("prune").is_empty());
    assert_eq!(sim.tasks("prune").len(), 2);
}

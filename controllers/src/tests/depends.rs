//! `depends_on` as start ordering: tasks are placed only once their dependencies are ready.

use model::TaskState;
use model::service::{DependsCondition, RestartCondition, RestartPolicy};

use super::{NOW, shut, statuses};
use crate::testing::Sim;
use crate::{NodeObj, ServiceObj, TaskObj, reconcile_all, view};

fn placed(sim: &Sim, service: &str) -> usize {
    sim.live(service)
        .iter()
        .filter(|t| t.status.node_id.is_some())
        .count()
}

fn pending_reason(sim: &Sim, service: &str) -> Vec<String> {
    sim.live(service)
        .iter()
        .filter(|t| t.status.state == TaskState::Pending)
        .map(|t| t.status.message.clone())
        .collect()
}

#[test]
fn a_dependent_is_placed_only_once_its_dependency_is_healthy() {
    let db = ServiceObj::test("db").stack("shop");
    let api = ServiceObj::test("api")
        .stack("shop")
        .replicas(2)
        .depends_on("db", DependsCondition::ServiceHealthy);
    let mut sim = Sim::new(view![db, api, NodeObj::test("n1")]);
    sim.pass();
    assert_eq!(placed(&sim, "db"), 1);
    assert_eq!(
        placed(&sim, "api"),
        0,
        "no api container before db is healthy"
    );
    assert_eq!(
        pending_reason(&sim, "api"),
        ["waiting for dependency db (service_healthy): 0/1 healthy"; 2]
    );
    // Started, its healthcheck not passed yet: still waiting.
    let db_task = sim.live("db")[0].id.clone();
    sim.report(&db_task, TaskState::Starting);
    assert!(sim.pass().is_empty(), "the same reason is not rewritten");
    assert_eq!(placed(&sim, "api"), 0);

    sim.report(&db_task, TaskState::Running);
    sim.pass();
    assert_eq!(placed(&sim, "api"), 2);
    sim.converge();
    assert_eq!(sim.in_state("api", TaskState::Running).len(), 2);
}

#[test]
fn service_started_is_the_default_and_counts_every_desired_task() {
    let db = ServiceObj::test("db").stack("shop").replicas(2);
    let api = ServiceObj::test("api")
        .stack("shop")
        .depends_on("db", DependsCondition::default());
    let mut sim = Sim::new(view![db, api, NodeObj::test("n1")]);
    sim.pass();
    let db_tasks: Vec<String> = sim.ids("db");
    sim.report(&db_tasks[0], TaskState::Starting);
    sim.pass();
    assert_eq!(
        pending_reason(&sim, "api"),
        ["waiting for dependency db (service_started): 1/2 started"]
    );
    sim.report(&db_tasks[1], TaskState::Starting);
    sim.pass();
    assert_eq!(
        placed(&sim, "api"),
        1,
        "started is enough; healthy is not needed"
    );
}

#[test]
fn a_job_dependency_must_complete_first() {
    let migrate = ServiceObj::test("migrate").stack("shop").job(1);
    let api = ServiceObj::test("api")
        .stack("shop")
        .depends_on("migrate", DependsCondition::ServiceCompletedSuccessfully);
    let mut sim = Sim::new(view![migrate, api, NodeObj::test("n1")]);
    sim.pass();
    let job = sim.ids("migrate")[0].clone();
    sim.report(&job, TaskState::Running);
    sim.pass();
    assert_eq!(
        pending_reason(&sim, "api"),
        ["waiting for dependency migrate (service_completed_successfully): 0/1 completed"]
    );
    sim.report(&job, TaskState::Complete);
    sim.converge();
    assert_eq!(sim.in_state("api", TaskState::Running).len(), 1);
}

#[test]
fn dependencies_are_services_of_the_same_stack() {
    let other_db = ServiceObj::test("db").stack("other");
    let api = ServiceObj::test("api")
        .stack("shop")
        .depends_on("db", DependsCondition::default());
    let mut sim = Sim::new(view![other_db, api, NodeObj::test("n1")]);
    sim.converge();
    assert_eq!(sim.in_state("db", TaskState::Running).len(), 1);
    assert_eq!(
        pending_reason(&sim, "api"),
        ["waiting for dependency db (service_started): no service db in stack shop"]
    );
}

#[test]
fn an_optional_dependency_that_does_not_exist_is_ignored() {
    let mut api = ServiceObj::test("api")
        .stack("shop")
        .depends_on("cache", DependsCondition::default());
    if let Some(dep) = api.spec.depends_on.get_mut("cache") {
        dep.required = false;
    }
    let mut sim = Sim::new(view![api, NodeObj::test("n1")]);
    sim.converge();
    assert_eq!(sim.in_state("api", TaskState::Running).len(), 1);
}

#[test]
fn a_cycle_waits_with_its_reasons_and_settles() {
    let a = ServiceObj::test("a").depends_on("b", DependsCondition::default());
    let b = ServiceObj::test("b").depends_on("a", DependsCondition::default());
    let mut sim = Sim::new(view![a, b, NodeObj::test("n1")]);
    assert_eq!(
        sim.converge(),
        1,
        "one pass explains both, then nothing moves"
    );
    assert_eq!(
        pending_reason(&sim, "a"),
        ["waiting for dependency b (service_started): 0/1 started"]
    );
    assert_eq!(
        pending_reason(&sim, "b"),
        ["waiting for dependency a (service_started): 0/1 started"]
    );
    assert_eq!(sim.deadline(), None, "no busy wake-ups either");
}

#[test]
fn a_running_dependent_is_not_stopped_when_its_dependency_fails() {
    let no_restart = RestartPolicy {
        condition: Some(RestartCondition::None),
        ..RestartPolicy::default()
    };
    let db = ServiceObj::test("db").restart(no_restart);
    let api = ServiceObj::test("api").depends_on("db", DependsCondition::ServiceHealthy);
    let view = view![
        db.clone(),
        api.clone(),
        NodeObj::test("n1"),
        TaskObj::test(&db, 1).on("n1").state(TaskState::Failed),
        TaskObj::test(&api, 1).on("n1")
    ];
    let actions = reconcile_all(&view, NOW);
    assert!(shut(&actions).is_empty(), "{actions:#?}");
    assert!(statuses(&actions).is_empty(), "{actions:#?}");
}

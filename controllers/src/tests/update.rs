use model::service::{FailureAction, UpdateConfig, UpdateOrder, UpdateState};
use model::{Duration, TaskState};

use super::{created, shut};
use crate::testing::Sim;
use crate::{Action, NodeObj, ServiceObj, view};

/// Batches of `parallelism`, `secs` apart (delay), each watched for `secs` (monitor).
fn config(parallelism: u64, secs: u64) -> UpdateConfig {
    UpdateConfig {
        parallelism: Some(parallelism),
        monitor: Some(Duration::from_secs(secs)),
        delay: Some(Duration::from_secs(secs)),
        ..UpdateConfig::default()
    }
}

/// A converged service `web` with `replicas` tasks on two nodes.
fn running(svc: ServiceObj) -> Sim {
    let mut sim = Sim::new(view![svc, NodeObj::test("n1"), NodeObj::test("n2")]);
    sim.converge();
    sim
}

fn images(sim: &Sim) -> Vec<String> {
    sim.live("web")
        .iter()
        .map(|t| t.spec.service_spec.image.clone().unwrap_or_default())
        .collect()
}

fn state(sim: &Sim) -> UpdateState {
    match &sim.view.services()["web"].status.update {
        Some(update) => update.state,
        None => panic!("no update status"),
    }
}

/// (id, name) of the first live task running image `web:2`.
/// The id of the first task running web:2, and how messages name it (`web.1 (<id>)`).
fn first_updated(sim: &Sim) -> (String, String) {
    match sim
        .live("web")
        .into_iter()
        .find(|t| t.spec.service_spec.image.as_deref() == Some("web:2"))
    {
        Some(t) => (
            t.id.clone(),
            format!("web.{} ({})", t.spec.slot.unwrap_or_default(), t.id),
        ),
        None => panic!("no task runs web:2"),
    }
}

fn set_image(sim: &mut Sim, image: &str) {
    sim.edit_service("web", |s| s.spec.image = Some(image.into()));
}

#[test]
fn stop_first_updates_one_slot_at_a_time_gated_by_delay() {
    let mut sim = running(
        ServiceObj::test("web")
            .replicas(3)
            .update_config(config(1, 2)),
    );
    set_image(&mut sim, "web:2");
    let edit = sim.view.services()["web"].version;
    let first = sim.pass();
    assert_eq!(shut(&first).len(), 1, "{first:#?}");
    assert_eq!(created(&first).len(), 1);
    assert_eq!(
        created(&first)[0].3.state,
        TaskState::Assigned,
        "placed at once, to be prepared while the old task stops"
    );
    let replacement = sim
        .live("web")
        .into_iter()
        .find(|t| t.spec.desired_state == TaskState::Ready)
        .map(|t| t.id.clone());
    let Some(replacement) = replacement else {
        panic!("the replacement wants READY: {first:#?}")
    };
    sim.report(&replacement, TaskState::Ready);
    assert!(
        sim.pass().is_empty(),
        "not started while the old task stops"
    );
    for id in shut(&first) {
        sim.report(&id, TaskState::Shutdown);
    }
    let go = sim.pass();
    assert!(
        go.iter().any(|a| matches!(a, Action::SetDesiredState { task_id, desired: TaskState::Running, .. } if *task_id == replacement)),
        "started once the old task stopped: {go:#?}"
    );
    let status = &sim.view.services()["web"].status;
    assert_eq!(state(&sim), UpdateState::Updating);
    assert_eq!(
        status.update.as_ref().map(|u| u.message.as_str()),
        Some("update in progress")
    );
    assert_eq!(
        status
            .previous_spec
            .as_ref()
            .and_then(|p| p.image.as_deref()),
        Some("busybox")
    );
    assert_eq!(status.spec_version, edit);

    sim.converge();
    assert_eq!(
        images(&sim),
        ["busybox", "busybox", "web:2"],
        "one batch, then the delay"
    );
    sim.advance(1_999);
    sim.converge();
    assert_eq!(images(&sim).iter().filter(|i| *i == "web:2").count(), 1);
    sim.advance(1);
    sim.converge();
    assert_eq!(images(&sim).iter().filter(|i| *i == "web:2").count(), 2);
    sim.run_for(4);
    assert_eq!(images(&sim), ["web:2"; 3]);
    assert_eq!(state(&sim), UpdateState::Completed);
    assert!(sim.live("web").iter().all(|t| t.spec.spec_version == edit));
    assert!(sim.pass().is_empty());
}

#[test]
fn parallelism_zero_updates_every_slot_at_once() {
    let mut sim = running(
        ServiceObj::test("web")
            .replicas(4)
            .update_config(config(0, 0)),
    );
    set_image(&mut sim, "web:2");
    let actions = sim.pass();
    assert_eq!((shut(&actions).len(), created(&actions).len()), (4, 4));
    sim.converge();
    assert_eq!(images(&sim), ["web:2"; 4]);
    assert_eq!(state(&sim), UpdateState::Completed);
}

#[test]
fn start_first_starts_the_new_task_before_stopping_the_old_one() {
    let cfg = UpdateConfig {
        order: Some(UpdateOrder::StartFirst),
        ..config(1, 0)
    };
    let mut sim = running(ServiceObj::test("web").replicas(1).update_config(cfg));
    let old = sim.live("web")[0].id.clone();
    set_image(&mut sim, "web:2");
    let actions = sim.pass();
    assert!(shut(&actions).is_empty());
    assert_eq!(
        created(&actions)[0].3.state,
        TaskState::Assigned,
        "placed in the same pass"
    );
    assert_eq!(sim.live("web").len(), 2);
    sim.pass();
    assert!(
        sim.view.tasks()[&old].spec.desired_state == TaskState::Running,
        "new one not up yet"
    );
    sim.agents();
    let actions = sim.pass();
    assert_eq!(shut(&actions), [old]);
    sim.converge();
    assert_eq!(images(&sim), ["web:2"]);
    assert_eq!(state(&sim), UpdateState::Completed);
}

#[test]
fn a_failed_replacement_pauses_the_update() {
    let cfg = UpdateConfig {
        failure_action: Some(FailureAction::Pause),
        ..config(1, 10)
    };
    let mut sim = running(ServiceObj::test("web").replicas(3).update_config(cfg));
    set_image(&mut sim, "web:2");
    sim.converge();
    let (id, name) = first_updated(&sim);
    sim.advance(1_000);
    sim.report(&id, TaskState::Failed);
    sim.run_for(30);
    assert_eq!(state(&sim), UpdateState::Paused);
    let update = sim.view.services()["web"]
        .status
        .update
        .clone()
        .map(|u| u.message);
    assert_eq!(
        update.as_deref(),
        Some(
            format!("update paused due to failure or early termination of task {name} failed")
                .as_str()
        )
    );
    assert_eq!(
        images(&sim).iter().filter(|i| *i == "busybox").count(),
        2,
        "no further batches"
    );
}

#[test]
fn failures_within_max_failure_ratio_do_not_stop_the_update() {
    let cfg = UpdateConfig {
        max_failure_ratio: Some(0.5),
        ..config(1, 1)
    };
    let mut sim = running(ServiceObj::test("web").replicas(4).update_config(cfg));
    set_image(&mut sim, "web:2");
    sim.converge();
    let (id, _) = first_updated(&sim);
    sim.report(&id, TaskState::Failed);
    sim.run_for(20);
    assert_eq!(images(&sim), ["web:2"; 4]);
    assert_eq!(state(&sim), UpdateState::Completed);
}

#[test]
fn failure_action_rollback_restores_the_previous_spec_with_rollback_config() {
    let cfg = UpdateConfig {
        failure_action: Some(FailureAction::Rollback),
        ..config(1, 5)
    };
    let svc = ServiceObj::test("web")
        .replicas(3)
        .update_config(cfg)
        .rollback_config(config(0, 1));
    let mut sim = running(svc);
    set_image(&mut sim, "web:2");
    sim.converge();
    let (id, name) = first_updated(&sim);
    sim.report(&id, TaskState::Failed);
    let rollback_index = sim.index;
    let actions = sim.pass();
    let spec_write = actions.iter().find_map(|a| match a {
        Action::SetServiceSpec { spec, .. } => spec.image.clone(),
        _ => None,
    });
    assert_eq!(spec_write.as_deref(), Some("busybox"));
    assert_eq!(state(&sim), UpdateState::RollbackStarted);
    let status = sim.view.services()["web"].status.clone();
    assert_eq!(
        status.update.map(|u| u.message),
        Some(format!(
            "update rolled back due to failure or early termination of task {name} failed"
        ))
    );
    assert_eq!(
        status.previous_spec.and_then(|p| p.image),
        Some("web:2".into())
    );
    sim.run_for(5);
    assert_eq!(images(&sim), ["busybox"; 3]);
    assert_eq!(state(&sim), UpdateState::RollbackCompleted);
    assert_eq!(
        sim.view.services()["web"].status.spec_version,
        rollback_index,
        "the rollback write's index"
    );
    // Tasks that never left the old spec keep their version; the rolled-back slot records the
    // rollback write.
    let versions: Vec<u64> = sim
        .live("web")
        .iter()
        .map(|t| t.spec.spec_version)
        .collect();
    assert_eq!(versions, [1, 1, rollback_index]);
    assert!(sim.pass().is_empty());
}

#[test]
fn a_manual_rollback_is_the_previous_spec_written_back() {
    let svc = ServiceObj::test("web")
        .replicas(2)
        .update_config(config(1, 0))
        .rollback_config(config(0, 0));
    let mut sim = running(svc);
    set_image(&mut sim, "web:2");
    sim.run_for(3);
    assert_eq!(state(&sim), UpdateState::Completed);
    let previous = sim.view.services()["web"].status.previous_spec.clone();
    let Some(previous) = previous else {
        panic!("no previous spec")
    };
    sim.edit_service("web", |s| s.spec = *previous);
    let actions = sim.pass();
    assert_eq!(shut(&actions).len(), 2, "rollback_config: all at once");
    assert_eq!(state(&sim), UpdateState::RollbackStarted);
    assert_eq!(
        sim.view.services()["web"]
            .status
            .update
            .as_ref()
            .map(|u| u.message.as_str()),
        Some("manually requested rollback")
    );
    sim.converge();
    assert_eq!(images(&sim), ["busybox"; 2]);
    assert_eq!(state(&sim), UpdateState::RollbackCompleted);
}

#[test]
fn scaling_or_changing_policies_replaces_nothing() {
    let mut sim = running(ServiceObj::test("web").replicas(2));
    let before = sim.ids("web");
    sim.edit_service("web", |s| {
        let deploy = s.spec.deploy.get_or_insert_default();
        deploy.replicas = Some(3);
        deploy.update_config = Some(config(5, 5));
    });
    sim.converge();
    let after = sim.ids("web");
    assert_eq!(after.len(), 3);
    assert!(before.iter().all(|id| after.contains(id)));
    assert!(sim.view.services()["web"].status.update.is_none());
}

#[test]
fn global_services_update_node_by_node() {
    let svc = ServiceObj::test("web").global().update_config(config(1, 1));
    let mut sim = running(svc);
    set_image(&mut sim, "web:2");
    let actions = sim.pass();
    assert_eq!(created(&actions).len(), 1);
    assert_eq!(created(&actions)[0].2.as_deref(), Some("n1"));
    sim.run_for(4);
    assert_eq!(images(&sim), ["web:2"; 2]);
    assert_eq!(state(&sim), UpdateState::Completed);
}

#[test]
fn specs_differing_only_in_control_fields_or_an_empty_deploy_run_the_same_containers() {
    use crate::tasks::{same_container_spec, with_control_of};
    let bare = model::service::ServiceSpec {
        image: Some("busybox".into()),
        ..Default::default()
    };
    let scaled = ServiceObj::test("web")
        .replicas(5)
        .update_config(config(2, 0))
        .spec;
    assert!(same_container_spec(&bare, &scaled));
    assert!(same_container_spec(&with_control_of(&bare, &scaled), &bare));
    assert_eq!(with_control_of(&bare, &scaled).replicas(), Some(5));
    assert!(!same_container_spec(
        &bare,
        &ServiceObj::test("web").image("web:2").spec
    ));
}

#[test]
fn the_next_batch_waits_for_the_update_delay() {
    let cfg = UpdateConfig {
        delay: Some(Duration::from_secs(3)),
        ..config(1, 0)
    };
    let mut sim = running(ServiceObj::test("web").replicas(2).update_config(cfg));
    set_image(&mut sim, "web:2");
    sim.converge();
    sim.advance(2_999);
    sim.converge();
    assert_eq!(images(&sim), ["busybox", "web:2"]);
    sim.advance(1);
    sim.converge();
    assert_eq!(images(&sim), ["web:2", "web:2"]);
    assert_eq!(state(&sim), UpdateState::Completed);
}

#[test]
fn monitor_watches_for_failures_without_holding_back_batches() {
    let cfg = UpdateConfig {
        parallelism: Some(1),
        delay: Some(Duration(0)),
        monitor: Some(Duration::from_secs(30)),
        ..UpdateConfig::default()
    };
    let mut sim = running(ServiceObj::test("web").replicas(3).update_config(cfg));
    set_image(&mut sim, "web:2");
    sim.converge();
    assert_eq!(images(&sim), ["web:2"; 3], "no wait between batches");
    assert_eq!(state(&sim), UpdateState::Updating, "still monitoring");
    sim.run_for(31);
    assert_eq!(state(&sim), UpdateState::Completed);
}

#[test]
fn a_slot_that_comes_up_frees_its_worker_for_the_next_slot_at_once() {
    let mut sim = running(
        ServiceObj::test("web")
            .replicas(4)
            .update_config(config(2, 0)),
    );
    set_image(&mut sim, "web:2");
    let first = sim.pass();
    assert_eq!((shut(&first).len(), created(&first).len()), (2, 2));
    for id in shut(&first) {
        sim.report(&id, TaskState::Shutdown);
    }
    sim.pass(); // places both replacements
    let placed = sim.in_state("web", TaskState::Assigned);
    assert_eq!(placed.len(), 2, "{:#?}", sim.live("web"));
    let (fast, slow) = (placed[0].id.clone(), placed[1].id.clone());
    sim.report(&fast, TaskState::Running);

    let next = sim.pass();
    assert_eq!(
        (shut(&next).len(), created(&next).len()),
        (1, 1),
        "one worker is free while {slow} still starts: {next:#?}"
    );
    assert!(sim.pass().is_empty(), "the other worker is still busy");
    sim.report(&slow, TaskState::Running);
    let last = sim.pass();
    assert_eq!((shut(&last).len(), created(&last).len()), (1, 1));
    sim.converge();
    assert_eq!(images(&sim), ["web:2"; 4]);
}

#[test]
fn a_worker_stays_busy_for_the_delay_after_its_slot_came_up() {
    let cfg = UpdateConfig {
        delay: Some(Duration::from_secs(2)),
        ..config(2, 0)
    };
    let mut sim = running(ServiceObj::test("web").replicas(3).update_config(cfg));
    set_image(&mut sim, "web:2");
    sim.converge();
    assert_eq!(images(&sim).iter().filter(|i| *i == "web:2").count(), 2);
    sim.advance(1_999);
    sim.converge();
    assert_eq!(images(&sim).iter().filter(|i| *i == "web:2").count(), 2);
    sim.advance(1);
    sim.converge();
    assert_eq!(images(&sim), ["web:2"; 3]);
}

#[test]
fn a_replacement_that_fails_after_its_monitor_window_does_not_stop_the_update() {
    let cfg = UpdateConfig {
        failure_action: Some(FailureAction::Pause),
        parallelism: Some(1),
        delay: Some(Duration::from_secs(30)),
        monitor: Some(Duration::from_secs(2)),
        ..UpdateConfig::default()
    };
    let mut sim = running(ServiceObj::test("web").replicas(3).update_config(cfg));
    set_image(&mut sim, "web:2");
    sim.converge();
    let (id, _) = first_updated(&sim);
    sim.advance(10_000);
    sim.report(&id, TaskState::Failed);
    sim.run_for(1);
    assert_eq!(state(&sim), UpdateState::Updating, "not paused");
    // Restarted, then two more slots 30 s apart.
    sim.run_for(120);
    assert_eq!(
        state(&sim),
        UpdateState::Completed,
        "it ran for 10 s, past its 2 s monitor window: not the update's fault"
    );
    assert_eq!(images(&sim), ["web:2"; 3]);
}

#[test]
fn a_stop_first_replacement_takes_over_the_reservation_of_the_task_it_replaces() {
    let svc = ServiceObj::test("web")
        .replicas(1)
        .reserve(0.0, 100 << 20)
        .update_config(config(1, 0));
    let mut sim = Sim::new(view![svc, NodeObj::test("n1").memory(100 << 20)]);
    sim.converge();
    set_image(&mut sim, "web:2");
    let first = sim.pass();
    assert_eq!(
        created(&first)[0].3.node_id.as_deref(),
        Some("n1"),
        "placed on the full node: the old task's memory is handed over: {first:#?}"
    );
    sim.converge();
    assert_eq!(images(&sim), ["web:2"]);
    assert_eq!(state(&sim), UpdateState::Completed);
}

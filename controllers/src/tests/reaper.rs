use model::TaskState;

use super::{NOW, shut};
use crate::{Action, ServiceObj, TaskObj, reaper, view};

fn deleted(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteTask { task_id, .. } => Some(task_id.clone()),
            _ => None,
        })
        .collect()
}

fn finished(svc: &ServiceObj, slot: u64, seq: u64) -> TaskObj {
    TaskObj::test(svc, slot)
        .seq(seq)
        .state(TaskState::Failed)
        .desired(TaskState::Shutdown)
}

#[test]
fn keeps_task_history_limit_finished_tasks_per_slot_deleting_the_oldest() {
    let svc = ServiceObj::test("web");
    let history: Vec<TaskObj> = (1..=8).map(|n| finished(&svc, 1, n)).collect();
    let view = view![svc.clone(), history, TaskObj::test(&svc, 1).seq(9)];
    assert_eq!(
        deleted(&reaper::reconcile(&view, NOW)),
        ["web.1.1", "web.1.2", "web.1.3"]
    );
    assert_eq!(deleted(&reaper::reconcile_with(&view, NOW, 1)).len(), 7);
}

#[test]
fn never_deletes_wanted_tasks_or_the_newest_of_a_slot() {
    let svc = ServiceObj::test("web");
    // Ended by itself and not acknowledged: it explains the empty slot.
    let unacknowledged = TaskObj::test(&svc, 1).seq(3).state(TaskState::Failed);
    let view = view![
        svc.clone(),
        finished(&svc, 1, 1),
        finished(&svc, 1, 2),
        unacknowledged
    ];
    assert_eq!(
        deleted(&reaper::reconcile_with(&view, NOW, 0)),
        ["web.1.1", "web.1.2"]
    );
    let newest_finished = view![svc.clone(), finished(&svc, 2, 1), finished(&svc, 2, 2)];
    assert_eq!(
        deleted(&reaper::reconcile_with(&newest_finished, NOW, 0)),
        ["web.2.1"]
    );
}

#[test]
fn tasks_of_deleted_services_are_shut_down_then_deleted() {
    let gone = ServiceObj::test("gone");
    let view = view![
        TaskObj::test(&gone, 1).on("n1"),
        TaskObj::test(&gone, 2).on("n1").state(TaskState::Shutdown),
        TaskObj::test(&gone, 3).state(TaskState::Pending),
        TaskObj::test(&gone, 4)
            .on("n1")
            .desired(TaskState::Shutdown),
    ];
    let actions = reaper::reconcile(&view, NOW);
    assert_eq!(shut(&actions), ["gone.1"]);
    assert_eq!(deleted(&actions), ["gone.2", "gone.3"]);
}

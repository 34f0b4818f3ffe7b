use controllers::{Action, ClusterView, TaskObj};
use model::{Kind, ObjectMeta, TaskSpec, TaskState, TaskStatus, Timestamp};

use super::command_for;
use crate::reconcile::Snapshot;
use crate::store::Op;

fn snapshot_with_task(id: &str, version: u64) -> Snapshot {
    let mut view = ClusterView::default();
    view.insert_task(TaskObj {
        id: id.into(),
        version,
        name: "web.1.1".into(),
        spec: TaskSpec {
            service_id: "s".into(),
            slot: Some(1),
            desired_state: TaskState::Running,
            ..TaskSpec::default()
        },
        status: TaskStatus {
            state: TaskState::Running,
            ..TaskStatus::default()
        },
    });
    let mut snapshot = Snapshot {
        view,
        ..Snapshot::default()
    };
    snapshot.metadata.insert(
        (Kind::Task, id.into()),
        ObjectMeta {
            name: "web.1.1".into(),
            stack: Some("shop".into()),
            ..ObjectMeta::default()
        },
    );
    snapshot
}

#[test]
fn two_actions_on_one_task_are_one_checked_update_then_its_status() {
    let snapshot = snapshot_with_task("t1", 7);
    let actions = vec![
        Action::SetTaskStatus {
            task_id: "t1".into(),
            version: Some(7),
            status: TaskStatus {
                state: TaskState::Orphaned,
                ..TaskStatus::default()
            },
        },
        Action::SetDesiredState {
            task_id: "t1".into(),
            version: 7,
            desired: TaskState::Shutdown,
        },
        Action::CreateTask {
            metadata: ObjectMeta {
                name: "web.1.2".into(),
                ..ObjectMeta::default()
            },
            spec: TaskSpec::default(),
            status: TaskStatus::default(),
        },
    ];
    let command = command_for(actions, &snapshot, Timestamp(5))
        .expect("encodes")
        .expect("a command");
    assert_eq!(command.at, Timestamp(5));
    assert_eq!(command.ops.len(), 3);
    assert!(matches!(
        &command.ops[0],
        Op::Create {
            kind: Kind::Task,
            ..
        }
    ));
    let Op::Update {
        expected_version,
        metadata,
        spec,
        ..
    } = &command.ops[1]
    else {
        panic!("update first: {:?}", command.ops[1]);
    };
    assert_eq!(*expected_version, 7);
    assert_eq!(metadata.stack.as_deref(), Some("shop"), "metadata kept");
    assert_eq!(spec["desired_state"], "shutdown");
    let Op::SetStatus {
        expected_version,
        status,
        ..
    } = &command.ops[2]
    else {
        panic!("then the status");
    };
    assert_eq!(
        *expected_version, None,
        "the update in the same entry checked it"
    );
    assert_eq!(status["state"], "orphaned");
}

#[test]
fn actions_that_change_nothing_write_nothing() {
    let snapshot = snapshot_with_task("t1", 7);
    let actions = vec![
        Action::SetDesiredState {
            task_id: "t1".into(),
            version: 7,
            desired: TaskState::Running,
        },
        Action::SetTaskStatus {
            task_id: "gone".into(),
            version: None,
            status: TaskStatus::default(),
        },
    ];
    assert!(
        command_for(actions, &snapshot, Timestamp(5))
            .expect("encodes")
            .is_none()
    );
}

#[test]
fn a_delete_wins_over_other_changes_and_keeps_its_version_check() {
    let snapshot = snapshot_with_task("t1", 7);
    let actions = vec![
        Action::SetDesiredState {
            task_id: "t1".into(),
            version: 7,
            desired: TaskState::Shutdown,
        },
        Action::DeleteTask {
            task_id: "t1".into(),
            version: 7,
        },
    ];
    let command = command_for(actions, &snapshot, Timestamp(5))
        .expect("encodes")
        .expect("a command");
    assert_eq!(
        command.ops,
        vec![Op::Delete {
            kind: Kind::Task,
            id: "t1".into(),
            expected_version: Some(7),
        }]
    );
}

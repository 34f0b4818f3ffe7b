use model::{TaskState, TaskStatus};

use crate::{Action, merge};

fn orphaned(version: Option<u64>) -> Action {
    Action::SetTaskStatus {
        task_id: "t1".into(),
        version,
        status: TaskStatus {
            state: TaskState::Orphaned,
            ..TaskStatus::default()
        },
    }
}

fn shutdown() -> Action {
    Action::SetDesiredState {
        task_id: "t1".into(),
        version: 7,
        desired: TaskState::Shutdown,
    }
}

#[test]
fn a_spec_write_comes_first_and_its_status_loses_the_version_check() {
    assert_eq!(
        merge([orphaned(Some(7)), shutdown()]),
        [shutdown(), orphaned(None)]
    );
}

#[test]
fn a_lone_status_keeps_its_version_check() {
    assert_eq!(merge([orphaned(Some(7))]), [orphaned(Some(7))]);
}

#[test]
fn a_delete_wins_over_other_changes() {
    let delete = Action::DeleteTask {
        task_id: "t1".into(),
        version: 7,
    };
    assert_eq!(
        merge([shutdown(), orphaned(Some(7)), delete.clone()]),
        [delete]
    );
}

//! Folding agent reports into one store command per window (DESIGN §2: never one entry per
//! task).

use std::collections::BTreeMap;

use model::{Kind, Timestamp};
use tracing::{debug, warn};
use wire::TaskReport;

use crate::store::{Command, Executed, Index, Op, Store};

/// Reports received in one window, latest per task (state only moves forward).
#[derive(Debug, Default)]
pub struct ReportBatch {
    reports: BTreeMap<String, TaskReport>,
}

impl ReportBatch {
    /// Adds reports, keeping per task the most advanced one (the later one on a tie, which
    /// carries the newer details: container id, exit code, message).
    pub fn add(&mut self, reports: Vec<TaskReport>) {
        for report in reports {
            match self.reports.get(&report.task_id) {
                Some(kept) if kept.status.state > report.status.state => {}
                _ => {
                    self.reports.insert(report.task_id.clone(), report);
                }
            }
        }
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// Number of tasks with a report.
    pub fn len(&self) -> usize {
        self.reports.len()
    }

    /// The command writing every report that still moves its task forward, against the index
    /// as it is now; `None` when none does. Reports stay pending until [`ReportBatch::clear`], so
    /// a command refused for a stale version is folded again against the newer index.
    pub fn command(&self, index: &Index, at: Timestamp) -> Option<Command> {
        let ops: Vec<Op> = self
            .reports
            .values()
            .filter_map(|report| op(index, report))
            .collect();
        (!ops.is_empty()).then_some(Command { at, ops })
    }

    /// Forgets the reports (written, or not worth writing any more).
    pub fn clear(&mut self) {
        self.reports.clear();
    }
}

/// Writes the pending reports as one command; false when it must be tried again (the
/// reports stay pending, folded again against the newer index next time).
pub async fn write(store: &Store, pending: &mut ReportBatch) -> bool {
    if pending.is_empty() {
        return true;
    }
    let at = store.clock().now();
    let Some(command) = store.read(|index| pending.command(index, at)) else {
        pending.clear();
        return true;
    };
    let reports = pending.len();
    match store.propose(command).await {
        Ok(Executed::Ok { index, .. }) => {
            debug!(raft.index = index, reports, "task status written");
            pending.clear();
            true
        }
        Ok(Executed::Rejected(rejection)) => {
            debug!(%rejection, "task status raced another writer; folding again");
            false
        }
        Err(err) => {
            warn!(%err, reports, "cannot write task status; retrying");
            false
        }
    }
}

/// The status write for one report, or `None` when the task is gone, the report would move it
/// backwards, or it changes nothing.
fn op(index: &Index, report: &TaskReport) -> Option<Op> {
    let record = index.get(Kind::Task, &report.task_id)?;
    let recorded: model::TaskStatus = record.status_as().unwrap_or_default();
    if report.status.state < recorded.state {
        tracing::debug!(
            task.id = %report.task_id,
            reported = %report.status.state,
            recorded = %recorded.state,
            "dropping a report that would move the task backwards"
        );
        return None;
    }
    let mut status = report.status.clone();
    // The scheduler wrote the node; an agent's report never unassigns a task.
    if status.node_id.is_none() {
        status.node_id = recorded.node_id.clone();
    }
    // Nor forgets when it started (an agent restarted since may not know).
    if status.started_at.is_none() {
        status.started_at = recorded.started_at;
    }
    if status == recorded {
        return None;
    }
    let status = serde_json::to_value(&status).ok()?;
    // Compare-and-set: a controller may have written this status since (ORPHANED, say); the
    // refused command is then folded again and this report dropped if it went backwards.
    Some(Op::SetStatus {
        kind: Kind::Task,
        id: record.id.clone(),
        expected_version: Some(record.version),
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{ObjectMeta, TaskState, TaskStatus};

    fn index_with_task(state: TaskState) -> (Index, String) {
        let mut index = Index::default();
        let status = TaskStatus {
            state,
            node_id: Some("n1".into()),
            ..TaskStatus::default()
        };
        let command = Command {
            at: Timestamp(1),
            ops: vec![Op::Create {
                kind: Kind::Task,
                metadata: ObjectMeta {
                    name: "web.1.1".into(),
                    ..ObjectMeta::default()
                },
                spec: serde_json::json!({"service_id": "s", "service_spec": {}, "spec_version": 1}),
                status: serde_json::to_value(status).expect("status"),
            }],
        };
        let (executed, _, _) = index.execute(1, &command);
        let Executed::Ok { ids, .. } = executed else {
            panic!("created");
        };
        (index, ids[0].clone())
    }

    fn report(id: &str, state: TaskState) -> TaskReport {
        TaskReport {
            task_id: id.into(),
            status: TaskStatus {
                state,
                container_id: Some("c1".into()),
                ..TaskStatus::default()
            },
        }
    }

    #[test]
    fn a_window_of_reports_is_one_command_with_the_most_advanced_state() {
        let (index, id) = index_with_task(TaskState::Assigned);
        let mut pending = ReportBatch::default();
        pending.add(vec![report(&id, TaskState::Starting)]);
        pending.add(vec![
            report(&id, TaskState::Running),
            report(&id, TaskState::Preparing),
        ]);
        let command = pending.command(&index, Timestamp(2)).expect("a command");
        assert_eq!(command.ops.len(), 1);
        let Op::SetStatus {
            status,
            expected_version,
            ..
        } = &command.ops[0]
        else {
            panic!("set status");
        };
        assert_eq!(status["state"], "running");
        assert_eq!(status["node_id"], "n1", "the scheduler's node is kept");
        assert_eq!(*expected_version, Some(1));
    }

    #[test]
    fn reports_that_go_backwards_or_change_nothing_write_nothing() {
        let (index, id) = index_with_task(TaskState::Failed);
        let mut pending = ReportBatch::default();
        pending.add(vec![
            report(&id, TaskState::Running),
            report("gone", TaskState::Running),
        ]);
        assert!(pending.command(&index, Timestamp(2)).is_none());
    }
}

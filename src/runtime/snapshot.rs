//! A typed, read-only copy of what controllers look at, taken in one read of the index.

use std::collections::HashMap;

use controllers::{ClusterView, NodeObj, ServiceObj, TaskObj};
use model::{Kind, ObjectMeta};

use crate::store::{Index, Record};

/// The view controllers reconcile over, plus what the executor needs to write back whole
/// objects (`Op::Update` replaces metadata too, which the typed view does not carry).
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub view: ClusterView,
    /// Metadata of every service and task in the view, by kind and id.
    pub metadata: HashMap<(Kind, String), ObjectMeta>,
    /// Log index the snapshot was taken at.
    pub index: u64,
    /// Records whose spec or status could not be read as their kind (left out of the view).
    pub unreadable: Vec<(Kind, String, String)>,
}

impl Snapshot {
    /// Takes the snapshot from the index (tests, small clusters).
    pub fn take(index: &Index) -> Snapshot {
        Snapshot::from_records(index.applied(), Snapshot::records(index))
    }

    /// The records a snapshot is made of: only cloned, so the caller's read of the index (which
    /// `apply` waits for) stays short; [`Snapshot::from_records`] converts them afterwards.
    pub fn records(index: &Index) -> Vec<Record> {
        [Kind::Service, Kind::Task, Kind::Node]
            .into_iter()
            .flat_map(|kind| index.list(kind))
            .cloned()
            .collect()
    }

    /// The typed snapshot of `records` (services, tasks and nodes) read at log index `applied`.
    pub fn from_records(applied: u64, records: Vec<Record>) -> Snapshot {
        let mut snapshot = Snapshot {
            index: applied,
            ..Snapshot::default()
        };
        let mut view = ClusterView::default();
        for record in &records {
            let converted = match record.kind {
                Kind::Service => service(record).map(|obj| {
                    view.services.insert(obj.id.clone(), obj);
                }),
                Kind::Task => task(record).map(|obj| {
                    view.tasks.insert(obj.id.clone(), obj);
                }),
                Kind::Node => node(record).map(|obj| {
                    view.nodes.insert(obj.id.clone(), obj);
                }),
                _ => continue,
            };
            match converted {
                Ok(()) if record.kind != Kind::Node => snapshot.remember(record),
                Ok(()) => {}
                Err(err) => snapshot.skip(record, &err),
            }
        }
        snapshot.view = view;
        snapshot
    }

    fn remember(&mut self, record: &Record) {
        self.metadata
            .insert((record.kind, record.id.clone()), record.metadata.clone());
    }

    fn skip(&mut self, record: &Record, err: &serde_json::Error) {
        self.unreadable
            .push((record.kind, record.id.clone(), err.to_string()));
    }
}

fn service(record: &Record) -> Result<ServiceObj, serde_json::Error> {
    Ok(ServiceObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        stack: record.metadata.stack.clone(),
        spec: record.spec_as()?,
        status: record.status_as()?,
    })
}

fn task(record: &Record) -> Result<TaskObj, serde_json::Error> {
    Ok(TaskObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        spec: record.spec_as()?,
        status: record.status_as()?,
    })
}

fn node(record: &Record) -> Result<NodeObj, serde_json::Error> {
    Ok(NodeObj {
        id: record.id.clone(),
        version: record.version,
        name: record.metadata.name.clone(),
        spec: record.spec_as()?,
        status: record.status_as()?,
    })
}

#[cfg(test)]
mod tests {
    use model::{ObjectMeta, Timestamp};
    use serde_json::json;

    use super::*;
    use crate::store::{Command, Op};

    #[test]
    fn unreadable_records_are_left_out_and_named() {
        let mut index = Index::default();
        let create = |kind, name: &str, spec| Op::Create {
            kind,
            metadata: ObjectMeta {
                name: name.into(),
                ..ObjectMeta::default()
            },
            spec,
            status: serde_json::Value::Null,
        };
        let command = Command {
            at: Timestamp(1),
            ops: vec![
                create(Kind::Service, "web", json!({"image": "busybox"})),
                create(
                    Kind::Service,
                    "bad",
                    json!({"image": ["not", "a", "string"]}),
                ),
                create(Kind::Node, "n1", json!({})),
                create(Kind::Secret, "s", json!({"content": "x"})),
            ],
        };
        index.apply(3, &command);
        let snapshot = Snapshot::take(&index);
        assert_eq!(snapshot.index, 3);
        assert_eq!(snapshot.view.services.len(), 1);
        assert_eq!(snapshot.view.nodes.len(), 1);
        assert_eq!(snapshot.unreadable.len(), 1);
        assert_eq!(snapshot.unreadable[0].0, Kind::Service);
        assert_eq!(
            snapshot.metadata.len(),
            1,
            "metadata of services and tasks only"
        );
    }
}

//! A typed, read-only copy of what controllers look at, taken in one read of the index.

use std::collections::HashMap;

use controllers::ClusterView;
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
        let typed = controllers::records::view_of(&records);
        let in_view = |record: &Record| match record.kind {
            Kind::Service => typed.view.services.contains_key(&record.id),
            Kind::Task => typed.view.tasks.contains_key(&record.id),
            _ => false,
        };
        let metadata = records
            .iter()
            .filter(|r| in_view(r))
            .map(|r| ((r.kind, r.id.clone()), r.metadata.clone()))
            .collect();
        Snapshot {
            view: typed.view,
            metadata,
            index: applied,
            unreadable: typed.unreadable,
        }
    }
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

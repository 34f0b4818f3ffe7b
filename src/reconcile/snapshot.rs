//! A typed, read-only copy of what controllers look at, taken in one read of the index.

use std::collections::HashMap;
use std::sync::Arc;

use controllers::ClusterView;
use model::{Kind, ObjectMeta, SharedSpecs};

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
    /// The one copy of each service spec the view's tasks run, kept from one snapshot to the
    /// next so tasks decoded later share it too.
    pub(crate) specs: SharedSpecs,
}

impl Snapshot {
    /// Takes the snapshot from the index (tests, small clusters).
    pub fn take(index: &Index) -> Snapshot {
        Snapshot::from_records(index.last_executed(), Snapshot::records(index))
    }

    /// The records a snapshot is made of: only shared, so the caller's read of the index (which
    /// `apply` waits for) stays short; [`Snapshot::from_records`] converts them afterwards.
    pub fn records(index: &Index) -> Vec<Arc<Record>> {
        [Kind::Service, Kind::Task, Kind::Node]
            .into_iter()
            .flat_map(|kind| index.list_shared(kind))
            .cloned()
            .collect()
    }

    /// The typed snapshot of `records` (services, tasks and nodes) read at log index `last_executed`.
    pub fn from_records(last_executed: u64, records: Vec<Arc<Record>>) -> Snapshot {
        Snapshot::sharing(last_executed, records, SharedSpecs::default())
    }

    /// [`Snapshot::from_records`], the tasks' service specs shared through `specs`.
    fn sharing(last_executed: u64, records: Vec<Arc<Record>>, mut specs: SharedSpecs) -> Snapshot {
        let typed = controllers::records::view_sharing(records.iter().map(Arc::as_ref), &mut specs);
        let in_view = |record: &Record| match record.kind {
            Kind::Service => typed.view.services().contains_key(&record.id),
            Kind::Task => typed.view.tasks().contains_key(&record.id),
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
            index: last_executed,
            unreadable: typed.unreadable,
            specs,
        }
    }

    /// What changed in `index` since `previous` was taken: every service, task and node by
    /// kind, id and version, and (shared) only the records `previous` does not hold at that
    /// version. Cheap enough to run under the index's read lock: nothing is decoded or copied.
    pub fn changes(index: &Index, previous: &Snapshot) -> Changes {
        let mut changes = Changes {
            last_executed: index.last_executed(),
            ..Changes::default()
        };
        for kind in [Kind::Service, Kind::Task, Kind::Node] {
            for record in index.list_shared(kind) {
                if previous.version_of(kind, &record.id) == Some(record.version) {
                    changes.kept.push((kind, record.id.clone()));
                } else {
                    changes.records.push(Arc::clone(record));
                }
            }
        }
        changes
    }

    /// This snapshot brought up to `changes`: unchanged objects are moved over as they are,
    /// only changed records are decoded (decoding is most of a snapshot's cost).
    pub fn updated(mut self, changes: Changes) -> Snapshot {
        let specs = std::mem::take(&mut self.specs);
        let mut next = Snapshot::sharing(changes.last_executed, changes.records, specs);
        for (kind, id) in changes.kept {
            let key = (kind, id);
            let (from, to) = (&mut self.view, &mut next.view);
            match kind {
                Kind::Service => {
                    from.remove_service(&key.1).map(|o| to.insert_service(o));
                }
                Kind::Task => {
                    from.remove_task(&key.1).map(|o| to.insert_task(o));
                }
                Kind::Node => {
                    from.remove_node(&key.1).map(|o| to.insert_node(o));
                }
                _ => {}
            }
            if let Some(metadata) = self.metadata.remove(&key) {
                next.metadata.insert(key, metadata);
            }
        }
        drop(self);
        next.specs.prune();
        next
    }

    /// The version of an object in the view.
    fn version_of(&self, kind: Kind, id: &str) -> Option<u64> {
        match kind {
            Kind::Service => self.view.services().get(id).map(|o| o.version),
            Kind::Task => self.view.tasks().get(id).map(|o| o.version),
            Kind::Node => self.view.nodes().get(id).map(|o| o.version),
            _ => None,
        }
    }
}

/// What [`Snapshot::changes`] found.
#[derive(Debug, Default)]
pub struct Changes {
    last_executed: u64,
    /// Objects the previous snapshot holds at their current version.
    kept: Vec<(Kind, String)>,
    /// Records new or changed since.
    records: Vec<Arc<Record>>,
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
        index.execute(3, &command);
        let snapshot = Snapshot::take(&index);
        assert_eq!(snapshot.index, 3);
        assert_eq!(snapshot.view.services().len(), 1);
        assert_eq!(snapshot.view.nodes().len(), 1);
        assert_eq!(snapshot.unreadable.len(), 1);
        assert_eq!(snapshot.unreadable[0].0, Kind::Service);
        assert_eq!(
            snapshot.metadata.len(),
            1,
            "metadata of services and tasks only"
        );
    }

    #[test]
    fn an_updated_snapshot_equals_a_fresh_one_and_decodes_only_what_changed() {
        let mut index = Index::default();
        let meta = |name: &str| ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        };
        let create = |name: &str| Op::Create {
            kind: Kind::Task,
            metadata: meta(name),
            spec: json!({
                "service_id": "s",
                "slot": 1,
                "service_spec": {"image": "busybox"},
                "spec_version": 1,
                "desired_state": "running",
            }),
            status: serde_json::Value::Null,
        };
        let at = |ops| Command {
            at: Timestamp(1),
            ops,
        };
        index.execute(1, &at(vec![create("a"), create("b"), create("c")]));
        let first = Snapshot::take(&index);
        let ids: Vec<String> = first.view.tasks().keys().cloned().collect();
        index.execute(
            2,
            &at(vec![
                Op::SetStatus {
                    kind: Kind::Task,
                    id: ids[0].clone(),
                    expected_version: None,
                    status: json!({"state": "running"}),
                },
                Op::Delete {
                    kind: Kind::Task,
                    id: ids[1].clone(),
                    expected_version: None,
                },
                create("d"),
            ]),
        );
        let changes = Snapshot::changes(&index, &first);
        assert_eq!(changes.kept, vec![(Kind::Task, ids[2].clone())]);
        assert_eq!(changes.records.len(), 2, "the changed task and the new one");
        let updated = first.updated(changes);
        let fresh = Snapshot::take(&index);
        assert_eq!(updated.view, fresh.view);
        assert_eq!(updated.metadata, fresh.metadata);
        assert_eq!(updated.index, 2);
    }
}

//! The in-memory index: every object, by id and by name. It is the read path (SQLite is for
//! durability), and [`Index::execute`] is the one deterministic function every replica runs on each
//! committed entry.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use model::{Kind, Timestamp};

use super::command::{Command, Conflict, Executed, Op, Rejection};
use super::record::object_id;
use super::{Event, Record};

/// An object's name within its kind: (stack, name).
type NameKey = (Option<String>, String);

/// A change to persist, in order, in the same SQLite transaction as the entry. An upsert shares
/// the record the index holds: a 10,000-task entry is not copied again to be written.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Upsert(Arc<Record>),
    Remove { kind: Kind, id: String },
}

/// All objects, indexed by (kind, id) and by kind then (stack, name). Records are shared
/// (`Arc`) with the changes persisted, the undo log and readers that keep them past the read
/// lock (the reconcile snapshot), so none of those copies a record's JSON.
#[derive(Clone, Debug, Default)]
pub struct Index {
    objects: HashMap<(Kind, String), Arc<Record>>,
    /// Ids by kind, then by (stack, name): a kind is listed in order without scanning or
    /// sorting the others (tasks outnumber everything else by far).
    names: HashMap<Kind, BTreeMap<NameKey, String>>,
    /// Log index of the last entry that wrote an object of each kind (a stamp for caches).
    changed: HashMap<Kind, u64>,
    /// Log index of the last entry executed.
    last_executed: u64,
}

/// How to undo one executed op when a later op of the same command fails.
enum Undo {
    Restore(Arc<Record>),
    Remove(Kind, String),
}

impl Index {
    /// Rebuilds the index from persisted records (startup, snapshot install).
    pub fn from_records(records: impl IntoIterator<Item = Record>, last_executed: u64) -> Index {
        let mut index = Index {
            last_executed,
            ..Index::default()
        };
        for record in records {
            index.insert(Arc::new(record));
        }
        index
    }

    /// Log index of the last executed entry.
    pub fn last_executed(&self) -> u64 {
        self.last_executed
    }

    /// One object by id.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Record> {
        self.get_shared(kind, id).map(Arc::as_ref)
    }

    /// One object by id, as the index shares it: cloning it copies no JSON.
    pub fn get_shared(&self, kind: Kind, id: &str) -> Option<&Arc<Record>> {
        self.objects.get(&(kind, id.to_owned()))
    }

    /// One object by name within a stack (`None`: objects outside any stack).
    pub fn find(&self, kind: Kind, stack: Option<&str>, name: &str) -> Option<&Record> {
        let key = (stack.map(str::to_owned), name.to_owned());
        self.names
            .get(&kind)
            .and_then(|names| names.get(&key))
            .and_then(|id| self.get(kind, id))
    }

    /// Objects of a kind, ordered by stack then name.
    pub fn list(&self, kind: Kind) -> Vec<&Record> {
        self.list_shared(kind).map(Arc::as_ref).collect()
    }

    /// Objects of a kind, ordered by stack then name, as the index shares them.
    pub fn list_shared(&self, kind: Kind) -> impl Iterator<Item = &Arc<Record>> {
        self.names
            .get(&kind)
            .into_iter()
            .flat_map(|names| names.values())
            .filter_map(move |id| self.get_shared(kind, id))
    }

    /// Objects of every kind belonging to `stack`, by kind then name.
    pub fn in_stack(&self, stack: &str) -> Vec<&Record> {
        let from = (Some(stack.to_owned()), String::new());
        Kind::ALL
            .into_iter()
            .flat_map(|kind| {
                let names = self.names.get(&kind);
                names
                    .into_iter()
                    .flat_map(|names| names.range((Bound::Included(&from), Bound::Unbounded)))
                    .take_while(|((s, _), _)| s.as_deref() == Some(stack))
                    .filter_map(move |(_, id)| self.get(kind, id))
            })
            .collect()
    }

    /// Log index of the last entry that wrote an object of `kind` (0: none since startup).
    /// Anything derived from the objects of a kind stays valid while this does not move.
    pub fn changed(&self, kind: Kind) -> u64 {
        self.changed.get(&kind).copied().unwrap_or(0)
    }

    /// Every object (for snapshots), in a stable order.
    pub fn records(&self) -> Vec<&Record> {
        let mut all: BTreeMap<(Kind, &str), &Record> = BTreeMap::new();
        for ((kind, id), record) in &self.objects {
            all.insert((*kind, id.as_str()), record.as_ref());
        }
        all.into_values().collect()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the index holds no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Executes one committed command: every op or none. Returns the outcome, the changes to
    /// persist (empty when rejected) and the events to publish once they are durable.
    pub fn execute(
        &mut self,
        log_index: u64,
        command: &Command,
    ) -> (Executed, Vec<Change>, Vec<Event>) {
        self.last_executed = log_index;
        let mut undo = Vec::new();
        let mut changes = Vec::new();
        let mut events = Vec::new();
        let mut ids = Vec::new();
        for (position, op) in command.ops.iter().enumerate() {
            match self.execute_op(log_index, position, command.at, op, &mut undo) {
                Ok((id, change, event)) => {
                    ids.push(id);
                    changes.push(change);
                    events.push(event);
                }
                Err(rejection) => {
                    self.roll_back(undo);
                    return (Executed::Rejected(rejection), Vec::new(), Vec::new());
                }
            }
        }
        events.push(Event::Commit { index: log_index });
        (
            Executed::Ok {
                index: log_index,
                ids,
            },
            changes,
            events,
        )
    }

    /// Records that an entry carrying no command (blank, membership) was executed.
    pub fn mark_executed(&mut self, log_index: u64) {
        self.last_executed = log_index;
    }

    fn execute_op(
        &mut self,
        log_index: u64,
        position: usize,
        at: Timestamp,
        op: &Op,
        undo: &mut Vec<Undo>,
    ) -> Result<(String, Change, Event), Rejection> {
        match op {
            Op::Create {
                kind,
                metadata,
                spec,
                status,
            } => {
                if self.named(*kind, &metadata.stack, &metadata.name) {
                    return Err(Rejection::AlreadyExists {
                        kind: *kind,
                        name: metadata.name.clone(),
                        stack: metadata.stack.clone(),
                    });
                }
                let record = Arc::new(Record {
                    kind: *kind,
                    id: object_id(log_index, position),
                    version: log_index,
                    created_at: at,
                    updated_at: at,
                    metadata: metadata.clone(),
                    spec: spec.clone(),
                    status: status.clone(),
                });
                undo.push(Undo::Remove(*kind, record.id.clone()));
                let event = Event::Created {
                    object: record.reference(),
                    version: log_index,
                };
                self.insert(Arc::clone(&record));
                Ok((record.id.clone(), Change::Upsert(record), event))
            }
            Op::Update {
                kind,
                id,
                expected_version,
                metadata,
                spec,
            } => {
                let current = self.current(*kind, id, Some(*expected_version))?;
                let renamed = (
                    current.metadata.stack.clone(),
                    current.metadata.name.clone(),
                ) != (metadata.stack.clone(), metadata.name.clone());
                if renamed && self.named(*kind, &metadata.stack, &metadata.name) {
                    return Err(Rejection::AlreadyExists {
                        kind: *kind,
                        name: metadata.name.clone(),
                        stack: metadata.stack.clone(),
                    });
                }
                // Built from its parts: cloning the current record would copy its old spec.
                let record = Record {
                    kind: *kind,
                    id: current.id.clone(),
                    version: log_index,
                    created_at: current.created_at,
                    updated_at: at,
                    metadata: metadata.clone(),
                    spec: spec.clone(),
                    status: current.status.clone(),
                };
                undo.push(Undo::Restore(current));
                Ok(self.replace(record, log_index, at))
            }
            Op::SetStatus {
                kind,
                id,
                expected_version,
                status,
            } => {
                let current = self.current(*kind, id, *expected_version)?;
                let record = Record {
                    kind: *kind,
                    id: current.id.clone(),
                    version: log_index,
                    created_at: current.created_at,
                    updated_at: at,
                    metadata: current.metadata.clone(),
                    spec: current.spec.clone(),
                    status: status.clone(),
                };
                undo.push(Undo::Restore(current));
                Ok(self.replace(record, log_index, at))
            }
            Op::Delete {
                kind,
                id,
                expected_version,
            } => {
                let current = self.current(*kind, id, *expected_version)?;
                let event = Event::Deleted {
                    object: current.reference(),
                    version: log_index,
                };
                self.remove(*kind, id);
                undo.push(Undo::Restore(current));
                Ok((
                    id.clone(),
                    Change::Remove {
                        kind: *kind,
                        id: id.clone(),
                    },
                    event,
                ))
            }
        }
    }

    /// The object `id` (shared), if it is at `expected`.
    fn current(
        &self,
        kind: Kind,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Arc<Record>, Rejection> {
        let record = self
            .get_shared(kind, id)
            .ok_or_else(|| Rejection::NotFound {
                kind,
                id: id.to_owned(),
            })?;
        match expected {
            Some(expected) if expected != record.version => Err(Rejection::Conflict(Conflict {
                kind,
                id: id.to_owned(),
                expected,
                actual: record.version,
            })),
            _ => Ok(Arc::clone(record)),
        }
    }

    fn replace(
        &mut self,
        mut record: Record,
        log_index: u64,
        at: Timestamp,
    ) -> (String, Change, Event) {
        record.version = log_index;
        record.updated_at = at;
        self.remove(record.kind, &record.id);
        let event = Event::Updated {
            object: record.reference(),
            version: log_index,
        };
        let record = Arc::new(record);
        self.insert(Arc::clone(&record));
        (record.id.clone(), Change::Upsert(record), event)
    }

    /// Whether an object of `kind` is named `name` in `stack`.
    fn named(&self, kind: Kind, stack: &Option<String>, name: &str) -> bool {
        self.names
            .get(&kind)
            .is_some_and(|names| names.contains_key(&(stack.clone(), name.to_owned())))
    }

    fn insert(&mut self, record: Arc<Record>) {
        let name_key = (record.metadata.stack.clone(), record.metadata.name.clone());
        self.changed.insert(record.kind, self.last_executed);
        self.names
            .entry(record.kind)
            .or_default()
            .insert(name_key, record.id.clone());
        self.objects
            .insert((record.kind, record.id.clone()), record);
    }

    fn remove(&mut self, kind: Kind, id: &str) -> Option<Arc<Record>> {
        let record = self.objects.remove(&(kind, id.to_owned()))?;
        self.changed.insert(kind, self.last_executed);
        let name_key = (record.metadata.stack.clone(), record.metadata.name.clone());
        if let Some(names) = self.names.get_mut(&kind)
            && names.get(&name_key).is_some_and(|named| named == id)
        {
            names.remove(&name_key);
        }
        Some(record)
    }

    fn roll_back(&mut self, undo: Vec<Undo>) {
        for step in undo.into_iter().rev() {
            match step {
                Undo::Restore(record) => {
                    self.remove(record.kind, &record.id);
                    self.insert(record);
                }
                Undo::Remove(kind, id) => {
                    self.remove(kind, &id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ObjectMeta;
    use serde_json::json;

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: name.into(),
            labels: Default::default(),
            stack: Some("s".into()),
        }
    }

    fn create(name: &str) -> Op {
        Op::Create {
            kind: Kind::Service,
            metadata: meta(name),
            spec: json!({"image": "nginx"}),
            status: serde_json::Value::Null,
        }
    }

    fn command(ops: Vec<Op>) -> Command {
        Command {
            at: Timestamp(1000),
            ops,
        }
    }

    #[test]
    fn create_assigns_deterministic_ids_and_versions() {
        let mut index = Index::default();
        let (executed, changes, events) =
            index.execute(7, &command(vec![create("a"), create("b")]));
        let Executed::Ok { index: at, ids } = executed else {
            panic!("executed");
        };
        assert_eq!(at, 7);
        assert_eq!(ids, vec![object_id(7, 0), object_id(7, 1)]);
        assert_eq!(changes.len(), 2);
        assert_eq!(events.last(), Some(&Event::Commit { index: 7 }));
        let a = index.find(Kind::Service, Some("s"), "a").expect("a");
        assert_eq!(a.version, 7);
        assert_eq!(a.created_at, Timestamp(1000));
    }

    #[test]
    fn stale_update_is_a_conflict_and_changes_nothing() {
        let mut index = Index::default();
        index.execute(1, &command(vec![create("a")]));
        let id = object_id(1, 0);
        let update = |v| Op::Update {
            kind: Kind::Service,
            id: id.clone(),
            expected_version: v,
            metadata: meta("a"),
            spec: json!({"image": "nginx:2"}),
        };
        let (ok, _, _) = index.execute(2, &command(vec![update(1)]));
        assert!(matches!(ok, Executed::Ok { .. }));
        assert_eq!(index.get(Kind::Service, &id).map(|r| r.version), Some(2));
        let (stale, changes, events) = index.execute(3, &command(vec![create("b"), update(1)]));
        assert!(matches!(
            stale,
            Executed::Rejected(Rejection::Conflict(Conflict {
                expected: 1,
                actual: 2,
                ..
            }))
        ));
        assert!(changes.is_empty() && events.is_empty());
        assert!(
            index.find(Kind::Service, Some("s"), "b").is_none(),
            "the whole batch rolled back"
        );
        assert_eq!(
            index
                .get(Kind::Service, &id)
                .map(|r| r.spec["image"].clone()),
            Some(json!("nginx:2"))
        );
    }

    #[test]
    fn duplicate_names_are_refused_but_a_delete_frees_the_name_in_the_same_batch() {
        let mut index = Index::default();
        index.execute(1, &command(vec![create("a")]));
        let (dup, _, _) = index.execute(2, &command(vec![create("a")]));
        assert!(matches!(
            dup,
            Executed::Rejected(Rejection::AlreadyExists { .. })
        ));
        let delete = Op::Delete {
            kind: Kind::Service,
            id: object_id(1, 0),
            expected_version: Some(1),
        };
        let (replaced, _, events) = index.execute(3, &command(vec![delete, create("a")]));
        assert!(matches!(replaced, Executed::Ok { .. }));
        assert_eq!(index.len(), 1);
        assert!(matches!(events[0], Event::Deleted { .. }));
        assert!(matches!(events[1], Event::Created { .. }));
    }

    #[test]
    fn a_change_persists_the_record_the_index_holds_and_a_status_keeps_the_spec() {
        let mut index = Index::default();
        index.execute(1, &command(vec![create("a")]));
        let id = object_id(1, 0);
        let status = Op::SetStatus {
            kind: Kind::Service,
            id: id.clone(),
            expected_version: Some(1),
            status: json!({"state": "ok"}),
        };
        let (_, changes, _) = index.execute(2, &command(vec![status]));
        let Some(Change::Upsert(written)) = changes.first() else {
            panic!("an upsert");
        };
        let held = index.get_shared(Kind::Service, &id).expect("held");
        assert!(Arc::ptr_eq(written, held), "shared, not copied");
        assert_eq!(
            (held.version, held.created_at, held.updated_at),
            (2, Timestamp(1000), Timestamp(1000))
        );
        assert_eq!(held.spec, json!({"image": "nginx"}));
        assert_eq!(held.status, json!({"state": "ok"}));
    }

    #[test]
    fn failed_delete_restores_earlier_deletes() {
        let mut index = Index::default();
        index.execute(1, &command(vec![create("a")]));
        let delete_a = Op::Delete {
            kind: Kind::Service,
            id: object_id(1, 0),
            expected_version: None,
        };
        let delete_missing = Op::Delete {
            kind: Kind::Service,
            id: "nope".into(),
            expected_version: None,
        };
        let (out, _, _) = index.execute(2, &command(vec![delete_a, delete_missing]));
        assert!(matches!(
            out,
            Executed::Rejected(Rejection::NotFound { .. })
        ));
        assert!(index.find(Kind::Service, Some("s"), "a").is_some());
    }

    #[test]
    fn listings_are_ordered_per_kind_and_stack_and_changes_are_stamped() {
        let mut index = Index::default();
        let op = |kind, stack: Option<&str>, name: &str| Op::Create {
            kind,
            metadata: ObjectMeta {
                name: name.into(),
                labels: Default::default(),
                stack: stack.map(str::to_owned),
            },
            spec: json!({}),
            status: serde_json::Value::Null,
        };
        index.execute(
            1,
            &command(vec![
                op(Kind::Service, Some("b"), "x"),
                op(Kind::Service, Some("a"), "y"),
                op(Kind::Service, None, "z"),
                op(Kind::Network, Some("a"), "n"),
                op(Kind::Service, Some("a"), "c"),
                op(Kind::Network, Some("ab"), "m"),
            ]),
        );
        index.execute(2, &command(vec![op(Kind::Network, Some("a"), "o")]));
        let names = |records: Vec<&Record>| -> Vec<String> {
            records
                .iter()
                .map(|r| format!("{:?}/{}", r.metadata.stack, r.metadata.name))
                .collect()
        };
        assert_eq!(
            names(index.list(Kind::Service)),
            ["None/z", "Some(\"a\")/c", "Some(\"a\")/y", "Some(\"b\")/x"]
        );
        assert_eq!(
            names(index.in_stack("a")),
            [
                "Some(\"a\")/c",
                "Some(\"a\")/y",
                "Some(\"a\")/n",
                "Some(\"a\")/o"
            ],
            "services then networks, by name; stack `ab` is another stack"
        );
        assert!(index.list(Kind::Task).is_empty());
        assert_eq!(
            (index.changed(Kind::Service), index.changed(Kind::Network)),
            (1, 2)
        );
        assert_eq!(index.changed(Kind::Task), 0);
    }
}

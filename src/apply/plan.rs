//! The planner: desired manifests + current records -> plan items and one command.

use std::collections::{BTreeMap, BTreeSet};

use model::{Kind, MemberRef, ObjectMeta, StackSpec, StackStatus, Timestamp};
use serde_json::{Value, json};
use wire::{ChangeKind, FieldChange, StackChange, StackPlan, docker_name};

use super::check::{check_published_ports, check_references};
use super::desired::{DesiredObject, canonical, desired_objects, keep_restart_counter};
use super::diff::leaf_changes;
use super::refs::{content_hash, foreign_users};
use super::{
    ApplyError, ApplyRequest, Claim, LABEL_CONFIG_PREFIX, LABEL_CONTENT_HASH, LABEL_NAMESPACE,
    LABEL_SECRET_PREFIX, LABEL_WATCHED_FILE, LABEL_WATCHER, Owner, STACK_KINDS, kind_word,
};
use crate::store::{Command, Index, Op, Record};

/// A plan and the one command that carries it out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Planned {
    /// What the plan does, object by object, as the API returns it.
    pub plan: StackPlan,
    /// `None` when there is nothing to write. Never sent: it carries secret content.
    pub command: Option<Command>,
}

/// Reads of a planned change are reads of its plan (`items`, `lines()`).
impl std::ops::Deref for Planned {
    type Target = StackPlan;

    fn deref(&self) -> &StackPlan {
        &self.plan
    }
}

/// Plans `request` against `index` at time `now`; `request.dry_run` is the caller's business.
pub fn plan(index: &Index, request: &ApplyRequest, now: Timestamp) -> Result<Planned, ApplyError> {
    let stack = request.stack.as_str();
    model::names::check_stack_name(stack)
        .map_err(|e| ApplyError::Invalid(format!("stack name `{stack}`: {e}")))?;
    check_owner(index, stack, &request.owner)?;
    let mut desired = desired_objects(stack, &request.manifests)?;
    desired.sort_by_key(|o| (kind_rank(o.kind), o.metadata.name.clone()));
    check_references(index, stack, &desired)?;
    check_published_ports(index, stack, &desired, request.prune)?;

    let mut items = Vec::new();
    let mut writes = Vec::new();
    let mut members = BTreeSet::new();
    for object in &desired {
        let name = &object.metadata.name;
        if object.kind != Kind::Node {
            members.insert(MemberRef {
                kind: object.kind,
                name: name.clone(),
            });
        }
        let current = index.find(object.kind, object.metadata.stack.as_deref(), name);
        let (action, changes) = match current {
            None if object.kind == Kind::Node => {
                return Err(ApplyError::Invalid(format!(
                    "node `{name}` is not part of the cluster; nodes join with `swarmd join`"
                )));
            }
            None => {
                writes.push(Op::Create {
                    kind: object.kind,
                    metadata: object.metadata.clone(),
                    spec: object.spec.clone(),
                    status: Value::Null,
                });
                (ChangeKind::Create, Vec::new())
            }
            Some(record) => {
                let object = &keep_restart_counter(record, object);
                let changes = object_changes(record, object);
                if changes.is_empty() {
                    (ChangeKind::Unchanged, changes)
                } else {
                    writes.push(Op::Update {
                        kind: object.kind,
                        id: record.id.clone(),
                        expected_version: record.version,
                        metadata: object.metadata.clone(),
                        spec: object.spec.clone(),
                    });
                    (ChangeKind::Update, changes)
                }
            }
        };
        items.push(StackChange {
            action,
            kind: object.kind,
            name: name.clone(),
            changes,
        });
    }

    let declared: BTreeSet<(Kind, &str)> = desired
        .iter()
        .map(|o| (o.kind, o.metadata.name.as_str()))
        .collect();
    let mut undeclared: Vec<&Record> = index
        .in_stack(stack)
        .into_iter()
        .filter(|r| STACK_KINDS.contains(&r.kind))
        .filter(|r| !declared.contains(&(r.kind, r.metadata.name.as_str())))
        .collect();
    // Services go first so nothing is deleted while a service of the stack still uses it.
    undeclared.sort_by_key(|r| {
        (
            r.kind != Kind::Service,
            kind_rank(r.kind),
            r.metadata.name.clone(),
        )
    });
    let mut deletes = Vec::new();
    let mut notes = Vec::new();
    for record in undeclared {
        let word = kind_word(record.kind);
        let name = &record.metadata.name;
        if !request.prune {
            let shown = docker_name(Some(stack), name);
            notes.push(format!(
                "{word} {shown}: not in input (use --prune to remove)"
            ));
            members.insert(MemberRef {
                kind: record.kind,
                name: name.clone(),
            });
            continue;
        }
        refuse_if_used_elsewhere(index, record, stack)?;
        deletes.push(delete_op(record));
        items.push(StackChange {
            action: ChangeKind::Delete,
            kind: record.kind,
            name: name.clone(),
            changes: Vec::new(),
        });
    }

    let objects_changed = !writes.is_empty() || !deletes.is_empty();
    let spec = StackSpec {
        source: request.source.clone(),
        members: members.into_iter().collect(),
    };
    let (stack_item, stack_ops) =
        stack_ops(index, stack, &request.owner, &spec, objects_changed, now)?;
    items.push(stack_item);

    let ops: Vec<Op> = deletes.into_iter().chain(writes).chain(stack_ops).collect();
    Ok(Planned {
        plan: StackPlan {
            stack: stack.to_owned(),
            items,
            notes,
        },
        command: (!ops.is_empty()).then_some(Command { at: now, ops }),
    })
}

/// Refuses when a running watcher claims the stack, unless the requester is that watcher
/// applying the stack's own file. A stack nobody claims is open to the API and to any watcher.
pub fn check_owner(index: &Index, stack: &str, owner: &Owner) -> Result<(), ApplyError> {
    let Some(record) = stack_object(index, stack) else {
        return Ok(());
    };
    let Some(claim) = Claim::of(record) else {
        return Ok(());
    };
    let file = record
        .metadata
        .labels
        .get(LABEL_WATCHED_FILE)
        .cloned()
        .unwrap_or_else(|| claim.dir.clone());
    match owner {
        Owner::Watcher {
            file: mine,
            claim: holder,
        } if *holder == claim && *mine == file => Ok(()),
        _ => Err(ApplyError::Owned {
            stack: stack.to_owned(),
            file,
        }),
    }
}

/// The Stack object of `stack`, if any.
pub fn stack_object<'a>(index: &'a Index, stack: &str) -> Option<&'a Record> {
    index.find(Kind::Stack, Some(stack), stack)
}

/// Metadata of the Stack object: the namespace label, and the watched file and the watcher's
/// claim when a watcher writes it (an API write drops both: the stack is the API's now).
pub fn stack_metadata(stack: &str, owner: &Owner) -> ObjectMeta {
    let mut labels = BTreeMap::from([(LABEL_NAMESPACE.to_owned(), stack.to_owned())]);
    if let Owner::Watcher { file, claim } = owner {
        labels.insert(LABEL_WATCHED_FILE.to_owned(), file.clone());
        labels.insert(LABEL_WATCHER.to_owned(), claim.label());
    }
    ObjectMeta {
        name: stack.to_owned(),
        labels,
        stack: Some(stack.to_owned()),
    }
}

/// Refuses to delete a secret, config or network a service of another stack still uses.
pub fn refuse_if_used_elsewhere(
    index: &Index,
    record: &Record,
    stack: &str,
) -> Result<(), ApplyError> {
    if let Some(user) = foreign_users(index, record, stack).first() {
        return Err(ApplyError::InUse {
            kind: kind_word(record.kind),
            name: record.metadata.name.clone(),
            service: user.metadata.name.clone(),
            user_stack: user.metadata.stack.clone().unwrap_or_else(|| "-".into()),
        });
    }
    Ok(())
}

/// Deletes `record` only if it is still the version read.
pub fn delete_op(record: &Record) -> Op {
    Op::Delete {
        kind: record.kind,
        id: record.id.clone(),
        expected_version: Some(record.version),
    }
}

/// The Stack object's item and ops: created with `applied_at`, or updated when its spec changed,
/// and its status rewritten whenever anything was applied (or a recorded error is now cleared).
fn stack_ops(
    index: &Index,
    stack: &str,
    owner: &Owner,
    spec: &StackSpec,
    objects_changed: bool,
    now: Timestamp,
) -> Result<(StackChange, Vec<Op>), ApplyError> {
    let spec_value =
        serde_json::to_value(spec).map_err(|e| ApplyError::Invalid(format!("stack: {e}")))?;
    let status = json!(StackStatus {
        applied_at: Some(now),
        error: None
    });
    let metadata = stack_metadata(stack, owner);
    let mut item = StackChange {
        action: ChangeKind::Unchanged,
        kind: Kind::Stack,
        name: stack.to_owned(),
        changes: Vec::new(),
    };
    let Some(record) = stack_object(index, stack) else {
        item.action = ChangeKind::Create;
        let create = Op::Create {
            kind: Kind::Stack,
            metadata,
            spec: spec_value,
            status,
        };
        return Ok((item, vec![create]));
    };
    let mut ops = Vec::new();
    let mut changes = Vec::new();
    leaf_changes(
        "",
        Some(&canonical(Kind::Stack, &record.spec)),
        Some(&spec_value),
        &mut changes,
    );
    label_changes(&record.metadata, &metadata, &mut changes);
    if !changes.is_empty() {
        ops.push(Op::Update {
            kind: Kind::Stack,
            id: record.id.clone(),
            expected_version: record.version,
            metadata,
            spec: spec_value,
        });
    }
    let previous: StackStatus = record.status_as().unwrap_or_default();
    if let Some(error) = previous.error {
        changes.push(FieldChange {
            path: "status.error".into(),
            from: Some(Value::String(error)),
            to: None,
            redacted: false,
        });
    }
    if !changes.is_empty() || objects_changed {
        ops.push(Op::SetStatus {
            kind: Kind::Stack,
            id: record.id.clone(),
            // The update above (if any) moves the version within this same command.
            expected_version: None,
            status,
        });
    }
    if !changes.is_empty() {
        item.action = ChangeKind::Update;
        item.changes = changes;
    }
    Ok((item, ops))
}

/// Field changes from `record` to `desired`; secret and config content only as "content changed".
fn object_changes(record: &Record, desired: &DesiredObject) -> Vec<FieldChange> {
    let mut from = canonical(record.kind, &record.spec);
    let mut to = desired.spec.clone();
    let mut changes = Vec::new();
    if matches!(record.kind, Kind::Secret | Kind::Config) {
        let old = stored_hash(record);
        let new = desired.metadata.labels.get(LABEL_CONTENT_HASH).cloned();
        for spec in [&mut from, &mut to] {
            if let Some(map) = spec.as_object_mut() {
                map.remove("content");
            }
        }
        if old != new {
            changes.push(FieldChange::redacted("content"));
        }
    }
    leaf_changes("", Some(&from), Some(&to), &mut changes);
    label_changes(&record.metadata, &desired.metadata, &mut changes);
    changes
}

/// Label changes, as `metadata.labels.<key>`; the content-hash label is covered by "content".
fn label_changes(from: &ObjectMeta, to: &ObjectMeta, out: &mut Vec<FieldChange>) {
    let strip = |meta: &ObjectMeta| {
        let mut labels = meta.labels.clone();
        labels.remove(LABEL_CONTENT_HASH);
        serde_json::to_value(labels).unwrap_or(Value::Null)
    };
    let start = out.len();
    leaf_changes("metadata.labels", Some(&strip(from)), Some(&strip(to)), out);
    // A new hash on a service means "the secret it uses changed": say that, not two hashes.
    for change in &mut out[start..] {
        let Some(key) = change.path.strip_prefix("metadata.labels.") else {
            continue;
        };
        let key = key.trim_matches('"');
        let used = [
            ("secret", LABEL_SECRET_PREFIX),
            ("config", LABEL_CONFIG_PREFIX),
        ]
        .into_iter()
        .find_map(|(word, prefix)| {
            key.strip_prefix(prefix)
                .map(|name| format!("{word} {name}"))
        });
        if let Some(used) = used
            && change.from.is_some()
            && change.to.is_some()
        {
            *change = FieldChange::redacted(used);
        }
    }
}

/// The content hash a secret/config record was written with.
pub fn stored_hash(record: &Record) -> Option<String> {
    record
        .metadata
        .labels
        .get(LABEL_CONTENT_HASH)
        .cloned()
        .or_else(|| {
            record
                .spec
                .get("content")
                .and_then(Value::as_str)
                .map(content_hash)
        })
}

/// Plan and creation order of kinds: what services use exists before them.
pub fn kind_rank(kind: Kind) -> usize {
    match kind {
        Kind::Network => 0,
        Kind::Secret => 1,
        Kind::Config => 2,
        Kind::Service => 3,
        Kind::Node => 4,
        Kind::Stack => 5,
        Kind::Task => 6,
        Kind::Cluster => 7,
    }
}

//! Pure plans for the other stack writes: deleting a stack or one object, recording an error.

use model::{Kind, MemberRef, StackSource, StackSpec, StackStatus, Timestamp};
use serde_json::json;
use wire::{ChangeKind, StackChange, StackPlan};

use super::plan::{
    Planned, check_owner, delete_op, kind_rank, refuse_if_used_elsewhere, stack_metadata,
    stack_object,
};
use super::refs::users_of;
use super::{ApplyError, Owner, STACK_KINDS, kind_word};
use crate::store::{Command, Index, Op, Record};

/// Deletes every object of `stack` and the Stack object, in one command.
pub fn delete_stack_plan(
    index: &Index,
    stack: &str,
    owner: &Owner,
    now: Timestamp,
) -> Result<Planned, ApplyError> {
    check_owner(index, stack, owner)?;
    let mut records: Vec<&Record> = index
        .in_stack(stack)
        .into_iter()
        .filter(|r| STACK_KINDS.contains(&r.kind) || r.kind == Kind::Stack)
        .collect();
    if records.is_empty() {
        return Err(ApplyError::NotFound(format!("stack `{stack}` not found")));
    }
    // Services first, the Stack object last: nothing disappears while something uses it.
    records.sort_by_key(|r| {
        (
            r.kind != Kind::Service,
            kind_rank(r.kind),
            r.metadata.name.clone(),
        )
    });
    for record in &records {
        refuse_if_used_elsewhere(index, record, stack)?;
    }
    Ok(Planned {
        plan: StackPlan {
            stack: stack.to_owned(),
            items: records.iter().map(|r| deleted(r)).collect(),
            notes: Vec::new(),
        },
        command: Some(Command {
            at: now,
            ops: records.iter().map(|r| delete_op(r)).collect(),
        }),
    })
}

/// Deletes one object. A member of a stack is also dropped from the Stack's members (and the
/// Stack object goes with its last member). Refused while a service still uses it.
pub fn delete_object_plan(
    index: &Index,
    kind: Kind,
    id: &str,
    owner: &Owner,
    now: Timestamp,
) -> Result<Planned, ApplyError> {
    let record = index
        .get(kind, id)
        .ok_or_else(|| ApplyError::NotFound(format!("{} {id} not found", kind_word(kind))))?;
    let stack = record.metadata.stack.clone();
    match kind {
        Kind::Stack => return delete_stack_plan(index, &record.metadata.name, owner, now),
        Kind::Task => {
            return Err(ApplyError::Invalid(
                "tasks are removed by swarm; scale or remove their service instead".into(),
            ));
        }
        _ => {}
    }
    if let Some(stack) = &stack {
        check_owner(index, stack, owner)?;
    }
    if let Some(user) = users_of(index, record).first() {
        return Err(ApplyError::InUse {
            kind: kind_word(kind),
            name: record.metadata.name.clone(),
            service: user.metadata.name.clone(),
            user_stack: user.metadata.stack.clone().unwrap_or_else(|| "-".into()),
        });
    }
    let mut items = vec![deleted(record)];
    let mut ops = vec![delete_op(record)];
    if let Some(stack_record) = stack.as_deref().and_then(|s| stack_object(index, s)) {
        let mut spec: StackSpec = stack_record.spec_as().unwrap_or_default();
        let gone = MemberRef {
            kind,
            name: record.metadata.name.clone(),
        };
        spec.members.retain(|m| *m != gone);
        let others = index
            .in_stack(&stack_record.metadata.name)
            .into_iter()
            .filter(|r| STACK_KINDS.contains(&r.kind) && r.id != record.id)
            .count();
        if spec.members.is_empty() && others == 0 {
            items.push(deleted(stack_record));
            ops.push(delete_op(stack_record));
        } else {
            items.push(StackChange {
                action: ChangeKind::Update,
                kind: Kind::Stack,
                name: stack_record.metadata.name.clone(),
                changes: Vec::new(),
            });
            ops.push(Op::Update {
                kind: Kind::Stack,
                id: stack_record.id.clone(),
                expected_version: stack_record.version,
                metadata: stack_record.metadata.clone(),
                spec: json!(spec),
            });
        }
    }
    Ok(Planned {
        plan: StackPlan {
            stack: stack.unwrap_or_default(),
            items,
            notes: Vec::new(),
        },
        command: Some(Command { at: now, ops }),
    })
}

/// Records why the last apply of `stack` failed, creating the Stack object if it is new; the
/// stack's objects are left as they are; a watcher also claims the stack. `None` when that error
/// is already recorded (and the claim already held).
pub fn error_command(
    index: &Index,
    stack: &str,
    source: StackSource,
    owner: &Owner,
    error: String,
    now: Timestamp,
) -> Result<Option<Command>, ApplyError> {
    check_owner(index, stack, owner)?;
    let metadata = stack_metadata(stack, owner);
    let ops = match stack_object(index, stack) {
        Some(record) => {
            let mut status: StackStatus = record.status_as().unwrap_or_default();
            // A watcher that starts on a broken file still claims the file's stack.
            let claim =
                matches!(owner, Owner::Watcher { .. }) && record.metadata.labels != metadata.labels;
            if status.error.as_deref() == Some(error.as_str()) && !claim {
                return Ok(None);
            }
            let mut ops = Vec::new();
            if claim {
                ops.push(Op::Update {
                    kind: Kind::Stack,
                    id: record.id.clone(),
                    expected_version: record.version,
                    metadata,
                    spec: record.spec.clone(),
                });
            }
            status.error = Some(error);
            ops.push(Op::SetStatus {
                kind: Kind::Stack,
                id: record.id.clone(),
                // The update above (if any) moves the version within this same command.
                expected_version: (!claim).then_some(record.version),
                status: json!(status),
            });
            ops
        }
        None => vec![Op::Create {
            kind: Kind::Stack,
            metadata,
            spec: json!(StackSpec {
                source,
                members: Vec::new()
            }),
            status: json!(StackStatus {
                applied_at: None,
                error: Some(error)
            }),
        }],
    };
    Ok(Some(Command { at: now, ops }))
}

fn deleted(record: &Record) -> StackChange {
    StackChange {
        action: ChangeKind::Delete,
        kind: record.kind,
        name: record.metadata.name.clone(),
        changes: Vec::new(),
    }
}

//! Running plans against the store: read, plan, propose; re-plan when a version went stale.

use std::path::{Path, PathBuf};

use model::{Kind, StackSource, Timestamp};
use wire::ApplyOutcome;

use super::Claim;
use super::claim::release_command;
use super::ops::{delete_object_plan, delete_stack_plan, error_command};
use super::plan::{Planned, plan, stack_object};
use super::{ApplyError, ApplyRequest, LABEL_WATCHED_FILE, Owner};
use crate::store::{Command, Conflict, Executed, Index, Record, Rejection, Store, StoreError};

/// Plans are re-made this many times in all when a compare-and-set finds a newer version.
const ATTEMPTS: usize = 3;

/// Plans `request` against the current state and, unless `dry_run`, commits it as one command.
pub async fn apply(store: &Store, request: ApplyRequest) -> Result<ApplyOutcome, ApplyError> {
    apply_expecting(store, request, None).await
}

/// [`apply()`], but only while the Stack object is at `stack_version` (0: no stack yet): a client
/// that reviewed a plan gets a conflict, not a different plan, when someone applied in between.
pub async fn apply_expecting(
    store: &Store,
    request: ApplyRequest,
    stack_version: Option<u64>,
) -> Result<ApplyOutcome, ApplyError> {
    execute(store, request.dry_run, |index, now| {
        if let Some(expected) = stack_version {
            let current = stack_object(index, &request.stack);
            let actual = current.map_or(0, |r| r.version);
            if actual != expected {
                return Err(ApplyError::Rejected(Rejection::Conflict(Conflict {
                    kind: Kind::Stack,
                    id: current.map_or_else(|| request.stack.clone(), |r| r.id.clone()),
                    expected,
                    actual,
                })));
            }
        }
        plan(index, &request, now)
    })
    .await
}

/// Deletes a stack: every member and the Stack object, in one command.
pub async fn delete_stack(
    store: &Store,
    stack: &str,
    owner: &Owner,
) -> Result<ApplyOutcome, ApplyError> {
    execute(store, false, |index, now| {
        delete_stack_plan(index, stack, owner, now)
    })
    .await
}

/// Deletes one object by id (dropping it from its stack's members).
pub async fn delete_object(
    store: &Store,
    kind: Kind,
    id: &str,
    owner: &Owner,
) -> Result<ApplyOutcome, ApplyError> {
    execute(store, false, |index, now| {
        delete_object_plan(index, kind, id, owner, now)
    })
    .await
}

/// Records on the Stack object (created if missing) why `stack` could not be applied.
pub async fn record_stack_error(
    store: &Store,
    stack: &str,
    source: StackSource,
    owner: &Owner,
    error: String,
) -> Result<(), ApplyError> {
    for attempt in 1..=ATTEMPTS {
        let now = store.clock().now();
        let command = store
            .read(|index| error_command(index, stack, source.clone(), owner, error.clone(), now))?;
        let Some(command) = command else {
            return Ok(());
        };
        match propose(store, command).await? {
            Executed::Ok { .. } => return Ok(()),
            Executed::Rejected(Rejection::Conflict(_)) if attempt < ATTEMPTS => continue,
            Executed::Rejected(rejection) => return Err(ApplyError::Rejected(rejection)),
        }
    }
    Ok(())
}

/// Releases every claim `release` selects (see [`super::claim`]); returns how many stacks it
/// released.
pub async fn release_claims(
    store: &Store,
    release: impl Fn(&Claim) -> bool,
) -> Result<usize, ApplyError> {
    for attempt in 1..=ATTEMPTS {
        let Some(command) =
            store.read(|index| release_command(index, &release, store.clock().now()))
        else {
            return Ok(0);
        };
        let released = command.ops.len();
        match propose(store, command).await? {
            Executed::Ok { .. } => return Ok(released),
            Executed::Rejected(Rejection::Conflict(_)) if attempt < ATTEMPTS => continue,
            Executed::Rejected(rejection) => return Err(ApplyError::Rejected(rejection)),
        }
    }
    Ok(0)
}

/// Files under `dir` that a stack was applied from (label `swarm.watched-file`), claimed or not:
/// the GitOps watcher removes the stack of such a file once the file is gone.
pub fn watched_files(store: &Store, dir: &Path) -> Vec<PathBuf> {
    store.read(|index| {
        index
            .list(Kind::Stack)
            .into_iter()
            .filter_map(|r| r.metadata.labels.get(LABEL_WATCHED_FILE))
            .map(PathBuf::from)
            .filter(|file| file.starts_with(dir))
            .collect()
    })
}

/// The Stack object of `stack`.
pub fn stack_record(store: &Store, stack: &str) -> Option<Record> {
    store.read(|index| stack_object(index, stack).cloned())
}

async fn execute(
    store: &Store,
    dry_run: bool,
    make: impl Fn(&Index, Timestamp) -> Result<Planned, ApplyError>,
) -> Result<ApplyOutcome, ApplyError> {
    let mut attempt = 1;
    loop {
        let now = store.clock().now();
        let plan = store.read(|index| make(index, now))?;
        let command = match &plan.command {
            Some(command) if !dry_run => command.clone(),
            _ => {
                return Ok(ApplyOutcome {
                    plan: plan.plan,
                    dry_run,
                    index: None,
                });
            }
        };
        match propose(store, command).await? {
            Executed::Ok { index, .. } => {
                return Ok(ApplyOutcome {
                    plan: plan.plan,
                    dry_run,
                    index: Some(index),
                });
            }
            // Someone wrote in between: plan again against what is there now.
            Executed::Rejected(Rejection::Conflict(_)) if attempt < ATTEMPTS => attempt += 1,
            Executed::Rejected(rejection) => return Err(ApplyError::Rejected(rejection)),
        }
    }
}

/// Proposes one command, telling "no leader right now" (retry) from other store failures.
pub async fn propose(store: &Store, command: Command) -> Result<Executed, ApplyError> {
    store.propose(command).await.map_err(|err| match err {
        StoreError::NotLeader { .. }
        | StoreError::Timeout { .. }
        | StoreError::ShutDown
        | StoreError::NoQuorum { .. }
        | StoreError::Forward { .. } => ApplyError::Unavailable(err),
        other => ApplyError::Store(other),
    })
}

//! Apply: turn the desired manifests of one stack into one batched store command.
//!
//! The planner ([`plan()`]) is pure: it reads an [`Index`](crate::store::Index) and returns a
//! [`StackPlan`] — what would be created, updated, deleted or left alone, with field-level diffs — and
//! the single [`Command`](crate::store::Command) that does it (DESIGN §2: a whole apply is one
//! Raft entry). [`apply()`] runs it against the store, re-planning on a stale compare-and-set.
//!
//! Rules the planner enforces:
//! - Every object of a stack carries `metadata.stack = <stack>` and Docker's label
//!   `com.docker.stack.namespace = <stack>`; so does the Stack object itself, which records the
//!   source and members and whose status says when the stack was last applied (or why not).
//! - Identical input twice plans nothing and writes nothing.
//! - Secret/config content is stored inline with its sha256 in the label `swarm.content-hash`.
//!   Each service carries `swarm.secret.<name>` / `swarm.config.<name>` = that hash for every
//!   secret/config of its stack it uses, so new content updates the service's version and the
//!   update controller rolls its tasks — no rename dance as in `docker stack deploy`.
//! - `prune` deletes objects of the stack the input no longer declares, but never a
//!   secret/config/network a service of another stack still uses.
//!
//! **Ownership.** A stack applied by the GitOps watcher carries the labels
//! `swarm.watched-file = <path>` and, while a running watcher claims it, `swarm.watcher =
//! <node>:<dir>` on its Stack object (see [`claim`]). While it is claimed, applies, updates and
//! deletes through the API are refused (409) with a message naming the file, so the file stays
//! the one writer of the stack and the watcher never fights a human. Once no watcher claims it
//! (the watcher stopped), the CLI may change or remove it; an API apply makes it an API stack. A
//! watcher may adopt a stack nobody claims (the file now owns it), but one file never takes over
//! a stack another file or watcher claims.

mod check;
pub mod claim;
mod desired;
mod diff;
mod ops;
mod plan;
mod refs;
mod run;
#[cfg(test)]
mod tests;

use model::Kind;
use serde::{Deserialize, Serialize};

pub use claim::release_command;
pub use desired::canonical;
pub use diff::leaf_changes;
pub use ops::{delete_object_plan, delete_stack_plan, error_command};
pub use plan::{Planned, check_owner, plan, stored_hash};
pub use refs::{content_hash, lookup, users_of};
// The plan, labels and claims are part of the wire contract; the planner uses them by these names.
pub use run::{
    apply, apply_expecting, delete_object, delete_stack, propose, record_stack_error,
    release_claims, stack_record, watched_files,
};
pub use wire::labels::*;
pub use wire::{ApplyOutcome, ChangeKind, Claim, FieldChange, StackChange, StackPlan, kind_word};

/// Who asks for a change: decides whether a watched stack may be touched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Owner {
    /// The HTTP API (swarmctl, scripts).
    Api,
    /// The GitOps watcher holding `claim`, applying `file`.
    Watcher { file: String, claim: Claim },
}

/// One apply of a stack.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    /// Stack name.
    pub stack: String,
    /// Desired objects, as the loader yields them with `inline_files: true`.
    pub manifests: Vec<model::Manifest>,
    /// Where the manifests came from (recorded on the Stack object).
    pub source: model::StackSource,
    /// Plan only; write nothing.
    pub dry_run: bool,
    /// Delete objects of the stack the input no longer declares.
    pub prune: bool,
    /// Who applies.
    pub owner: Owner,
}

/// Why an apply, delete or status write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The input is not a valid stack (the message says which object and what to do).
    #[error("{0}")]
    Invalid(String),
    /// The stack is written by a watched file that a running watcher claims.
    #[error(
        "stack `{stack}` is managed by the watched file {file}; edit that file, or stop watching \
         its directory (`swarmd up` without `--watch`) to manage the stack from the CLI"
    )]
    Owned { stack: String, file: String },
    /// An object to delete is still used by a service.
    #[error(
        "{kind} `{name}` is used by service `{service}` of stack `{user_stack}`; remove it from that service first"
    )]
    InUse {
        kind: String,
        name: String,
        service: String,
        user_stack: String,
    },
    /// Nothing by that name.
    #[error("{0}")]
    NotFound(String),
    /// A service uses an object that neither the input nor the cluster has.
    #[error(
        "{kind} not found: {name} (service `{service}` uses it); {}",
        missing_hint(.kind, .name)
    )]
    MissingReference {
        kind: String,
        name: String,
        service: String,
    },
    /// An ingress port another service already publishes.
    #[error(
        "port {port} is already published by service {service}; pick another published port, or remove it from {service} first"
    )]
    PortInUse {
        port: u16,
        protocol: String,
        service: String,
    },
    /// The store refused the command (a conflict that persisted across retries, a name clash).
    #[error("{0}")]
    Rejected(crate::store::Rejection),
    /// No leader can take the command right now (election, partition); retry.
    #[error(transparent)]
    Unavailable(crate::store::StoreError),
    /// The store failed to take the command.
    #[error(transparent)]
    Store(crate::store::StoreError),
}

/// What to do about a missing object a service uses.
fn missing_hint(kind: &str, name: &str) -> String {
    match kind {
        "service" => format!("add service `{name}` to the stack, or remove it from `depends_on`"),
        "network" => format!(
            "apply the stack that declares it first (it is then `<stack>_{name}`), or declare it \
             in this stack without `external`"
        ),
        _ => format!(
            "create it first (swarmctl {kind} create {name} FILE), or declare it in the stack with its data"
        ),
    }
}

/// The kinds a stack is made of, in the order the plan lists and creates them.
pub const STACK_KINDS: [Kind; 4] = [Kind::Network, Kind::Secret, Kind::Config, Kind::Service];

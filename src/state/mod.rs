//! The replicated state: the typed commands every replica executes, the deterministic function
//! that executes them ([`Index::execute`]) on the in-memory index (the read path), and the events
//! each produces. It depends on neither replication nor the store handle: `crate::raft` persists
//! and replicates entries and executes them here; `crate::store` wires the two together.

pub mod command;
pub mod index;
pub mod record;

pub use command::{Command, Conflict, Executed, Op, Rejection};
pub use index::Index;
pub use wire::Record;
pub use wire::{Event, ObjectRef};

//! The store: typed commands, their deterministic application, the in-memory index (the read
//! path) and the ordered event stream. Durability and replication live in `crate::raft`, which
//! persists every entry in SQLite and calls [`Index::execute`] once per committed entry.

pub mod command;
pub mod handle;
pub mod index;
pub mod record;

pub use command::{Command, Conflict, Executed, Op, Rejection};
pub use handle::{Store, StoreConfig, StoreError};
pub use index::Index;
pub use wire::Record;
pub use wire::{Event, ObjectRef};

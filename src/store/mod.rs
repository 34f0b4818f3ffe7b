//! The store: the one handle through which the manager proposes commands and reads and
//! follows the replicated state. It owns the openraft node (`crate::raft`), which persists every
//! entry in SQLite and executes it on the [`Index`] of `crate::state`; the dependencies point
//! one way: store → raft → state.

pub mod handle;
pub mod recovery;

pub use crate::state::{
    Command, Conflict, Event, Executed, Index, ObjectRef, Op, Record, Rejection,
};
pub use crate::state::{command, index, record};
pub use handle::{LeaderLink, Store, StoreConfig, StoreError};

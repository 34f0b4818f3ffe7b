//! Pure decision logic for swarm's controllers (DESIGN.md §3).
//!
//! Every controller is a function over a read-only [`ClusterView`] and the current time,
//! returning [`Action`]s; no I/O, no async, no clock reads, so each policy is unit-tested with
//! builders in milliseconds. A thin executor in the `swarm` crate turns one tick's actions into
//! one Raft command.

pub mod action;
pub mod view;

pub use action::Action;
pub use view::{ClusterView, NodeObj, ServiceObj, TaskObj};

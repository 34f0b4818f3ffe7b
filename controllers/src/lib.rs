//! Pure decision logic for swarm's controllers (DESIGN.md §3).
//!
//! Every controller is a function over a read-only [`ClusterView`] and the current time,
//! returning [`Action`]s; no I/O, no async, no clock reads, so each policy is unit-tested with
//! builders in milliseconds. A thin executor in the `swarm` crate turns one tick's actions into
//! one Raft command. [`reconcile_all`] runs them all in order for one pass.
//!
//! Controllers are level-triggered and some decisions wait for time to pass (restart delays,
//! update delay/monitor, the node-down grace period): a pass also says when the next one is due
//! without a store change ([`Pass::requeue_at`], from [`deadline`]), so the runner wakes at that
//! instant rather than polling.

mod absorb;
pub mod action;
pub mod deadline;
pub mod handoff;
pub mod merge;
pub mod node_drain;
mod pass;
pub mod reaper;
pub mod records;
pub mod restart;
pub mod scheduler;
pub mod service;
pub mod tasks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod update;
pub mod view;

pub use action::Action;
pub use merge::merge;
pub use pass::{Pass, Settings, reconcile_all, reconcile_all_with, reconcile_pass};
pub use view::{ClusterView, NodeObj, ServiceObj, TaskObj};

#[cfg(test)]
mod tests;

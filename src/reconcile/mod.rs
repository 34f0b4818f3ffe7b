//! The controller runner: the thin, effectful side of the pure `controllers` crate.
//!
//! On the Raft leader it builds a typed [`ClusterView`](controllers::ClusterView) from the store
//! index, calls [`controllers::reconcile_all`] with the time read here (the edge), turns the
//! actions into ONE store command per pass (DESIGN §2) and proposes it. Passes run after commits
//! (debounced) and at the controllers' next deadline, for policies that depend on time alone
//! (restart delay, update delay and monitor windows, node-down grace): no polling tick.

pub mod executor;
pub mod runner;
pub mod schedule;
pub mod snapshot;

pub use executor::command_for;
pub use runner::{Runner, RunnerConfig};
pub use snapshot::Snapshot;

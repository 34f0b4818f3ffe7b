//! swarm: a declarative container orchestrator in the spirit of Docker Swarm mode.
//!
//! This crate holds everything that does I/O — manifest loading, the CLI, the HTTP API, the
//! Raft-replicated store, the daemon and its GitOps watcher (later the agent); decisions live in
//! `controllers`, types in `model`.

pub mod agent;
pub mod api;
pub mod apply;
pub mod cli;
pub mod clock;
pub mod daemon;
pub mod dispatcher;
pub mod manifest;
pub mod peer;
pub mod pki;
pub mod raft;
pub mod reconcile;
pub mod state;
pub mod store;
pub mod watch;

/// The typed HTTP client (its own crate: it links no server module).
pub use ::client;

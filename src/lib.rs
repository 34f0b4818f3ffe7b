//! swarm: a declarative container orchestrator in the spirit of Docker Swarm mode.
//!
//! This crate holds everything that does I/O (manifest loading, the CLI, later the API, store,
//! agent); decisions live in `controllers`, types in `model`.

pub mod cli;
pub mod manifest;
pub mod store;

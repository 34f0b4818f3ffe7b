//! The agent: runs a node's assigned tasks on its container runtime and reports their status.

pub mod assignment;

pub use assignment::{Assignments, FileData, NetworkAttachment, TaskAssignment, TaskReport};

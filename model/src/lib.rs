//! swarm object types: specs, statuses and manifests (serde + schemars), and their validation.
//!
//! A native Service `spec` uses exactly the keys of a Compose service, so a Compose service
//! block is a valid native spec. Types accept every Compose input form (short and long syntax)
//! and serialize to one canonical long form that deserializes again.

pub mod compose;
pub mod config;
pub mod constraint;
pub mod depends;
mod external;
pub mod manifest;
pub mod meta;
pub mod names;
pub mod network;
pub mod node;
mod rfc3339;
mod scalar;
pub mod schema;
pub mod secret;
pub mod service;
pub mod stack;
pub mod task;
pub mod units;
pub mod validate;
pub mod volume;

pub use compose::ComposeFile;
pub use config::ConfigSpec;
pub use constraint::{
    Constraint, ConstraintError, ConstraintKey, ConstraintOp, PlacementPreference,
};
pub use manifest::{Manifest, ManifestSpec};
pub use meta::{Kind, Object, ObjectMeta, Timestamp, UnknownKind};
pub use network::{Ipam, IpamPool, NetworkSpec};
pub use node::{Availability, NodeRole, NodeSpec, NodeState, NodeStatus};
pub use secret::SecretSpec;
pub use service::ServiceSpec;
pub use stack::{MemberRef, StackSource, StackSpec, StackStatus};
pub use task::{SharedSpecs, TaskSpec, TaskState, TaskStatus};
pub use units::{ByteSize, Cpus, Duration, FileMode};
pub use validate::{Issue, PathSeg};
pub use volume::VolumeSpec;

/// The `apiVersion` every native manifest carries.
pub const API_VERSION: &str = "swarm/v1";

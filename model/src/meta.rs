//! What every stored object has besides its spec and status: identity, version, names, kinds.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A point in time as Unix milliseconds; injected by callers, never read from a clock here.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// The user-facing identity of an object: its name, labels and owning stack.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ObjectMeta {
    /// The object's name, unique per kind.
    pub name: String,
    /// Free-form key/value labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The stack this object belongs to, if it was deployed as part of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

/// A stored object: `{id, version, created_at, updated_at, metadata, spec, status}`.
///
/// `version` is the Raft log index of the write that produced it; updates compare-and-set on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Object<S, T> {
    /// Cluster-unique object id.
    pub id: String,
    /// Raft log index of the last write to this object.
    pub version: u64,
    /// When the object was created.
    pub created_at: Timestamp,
    /// When the object was last written.
    pub updated_at: Timestamp,
    /// Name, labels and stack.
    pub metadata: ObjectMeta,
    /// Desired state, written by the API.
    pub spec: S,
    /// Observed state, written by controllers and agents.
    pub status: T,
}

/// The kinds of object swarm stores.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Kind {
    /// A long-running or job workload.
    Service,
    /// An overlay (or other driver) network.
    Network,
    /// Sensitive data mounted into containers.
    Secret,
    /// Non-sensitive data mounted into containers.
    Config,
    /// A machine running `swarmd`.
    Node,
    /// A group of objects deployed from one source.
    Stack,
    /// One scheduled instance of a service.
    Task,
    /// The cluster's own settings (root CA certificate, join-token secrets): one object,
    /// written by managers only. Not in [`Kind::ALL`]: no manifest, list or count shows it,
    /// and no published schema names it.
    #[schemars(skip)]
    Cluster,
}

impl Kind {
    /// Every kind users see (manifests, lists, counts), in declaration order; not the
    /// internal [`Kind::Cluster`].
    pub const ALL: [Kind; 7] = [
        Kind::Service,
        Kind::Network,
        Kind::Secret,
        Kind::Config,
        Kind::Node,
        Kind::Stack,
        Kind::Task,
    ];

    /// The kind's name as written in manifests (`Service`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Service => "Service",
            Kind::Network => "Network",
            Kind::Secret => "Secret",
            Kind::Config => "Config",
            Kind::Node => "Node",
            Kind::Stack => "Stack",
            Kind::Task => "Task",
            Kind::Cluster => "Cluster",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that names no kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind `{0}`: use Service, Network, Secret, Config, Node, Stack or Task")]
pub struct UnknownKind(pub String);

impl std::str::FromStr for Kind {
    type Err = UnknownKind;

    /// Parses a kind name case-insensitively (`service`, `Service`), as CLIs write it.
    fn from_str(s: &str) -> Result<Kind, UnknownKind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_serialize_in_pascal_case_like_display() {
        for kind in Kind::ALL {
            assert_eq!(
                serde_json::to_value(kind).expect("ser"),
                json!(kind.to_string())
            );
        }
        assert_eq!(
            serde_json::from_value::<Kind>(json!("Service")).expect("de"),
            Kind::Service
        );
    }

    #[test]
    fn object_meta_skips_empty_fields() {
        let meta = ObjectMeta {
            name: "web".into(),
            ..ObjectMeta::default()
        };
        assert_eq!(
            serde_json::to_value(&meta).expect("ser"),
            json!({"name": "web"})
        );
    }
}

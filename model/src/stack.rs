//! Stack spec (what was deployed, from where) and status.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Kind, Timestamp};

/// Where a stack was deployed from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct StackSource {
    /// The files it was loaded from, in merge order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Hash of the merged, interpolated content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// Git commit of the files, when they came from a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

/// A stack member: an object named by kind and name (its stack is the owner).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[schemars(deny_unknown_fields)]
pub struct MemberRef {
    /// The object's kind.
    pub kind: Kind,
    /// The object's name.
    pub name: String,
}

/// A group of objects deployed together.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct StackSpec {
    /// Where it came from.
    #[serde(default)]
    pub source: StackSource,
    /// The objects it owns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberRef>,
}

/// Outcome of the last apply of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct StackStatus {
    /// When it was last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Timestamp>,
    /// Why the last apply failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

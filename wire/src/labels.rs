//! Labels the manager sets on objects, which clients read back (`stack ls` shows the watcher).

use serde::{Deserialize, Serialize};

use crate::Record;

/// Docker's label naming the stack an object belongs to.
pub const LABEL_NAMESPACE: &str = "com.docker.stack.namespace";
/// sha256 (hex) of a secret's or config's content.
pub const LABEL_CONTENT_HASH: &str = "swarm.content-hash";
/// On a Stack object: the file the GitOps watcher applied it from (kept when the watcher stops).
pub const LABEL_WATCHED_FILE: &str = "swarm.watched-file";
/// On a Stack object: the [`Claim`] of the running watcher that owns it (its only writer).
pub const LABEL_WATCHER: &str = "swarm.watcher";
/// Prefix of the service label carrying the content hash of a secret it uses.
pub const LABEL_SECRET_PREFIX: &str = "swarm.secret.";
/// Prefix of the service label carrying the content hash of a config it uses.
pub const LABEL_CONFIG_PREFIX: &str = "swarm.config.";
/// Container label `service restart` / `update --force` bump so the spec (and its version)
/// changes and the update controller replaces every task; an apply keeps the stored value.
pub const LABEL_RESTART: &str = "swarm.restart";

/// A running watcher's hold on a stack: the node it runs on and the directory it watches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The Raft id of the node whose daemon runs the watcher.
    pub node: u64,
    /// The watched directory, absolute.
    pub dir: String,
}

impl Claim {
    /// The `swarm.watcher` label value: `<node>:<dir>`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.node, self.dir)
    }

    /// Reads a `swarm.watcher` label value; `None` when it is not one.
    pub fn parse(value: &str) -> Option<Claim> {
        let (node, dir) = value.split_once(':')?;
        Some(Claim {
            node: node.parse().ok()?,
            dir: dir.to_owned(),
        })
    }

    /// The claim on a Stack object, if a watcher holds it.
    pub fn of(stack: &Record) -> Option<Claim> {
        stack
            .metadata
            .labels
            .get(LABEL_WATCHER)
            .and_then(|v| Claim::parse(v))
    }
}

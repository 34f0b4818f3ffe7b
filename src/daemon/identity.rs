//! Who this node is: its random node id and Raft id (kept in the data directory across
//! restarts), the name `node ls` shows, its Node object, and the address file other tools read
//! to find the API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use model::{Kind, NodeRole, NodeSpec, ObjectMeta};
use serde::{Deserialize, Serialize};

use crate::store::{Command, Op, Store, StoreError};

/// The node's persistent identity (DATA_DIR/node.json).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Random, made once per data directory: the CN of the node's certificate, and what its
    /// containers are labelled with. Never derived from the hostname or a log index, so two
    /// nodes (or two clusters) on one machine never take each other's containers.
    pub node_id: String,
    /// This node's id in the Raft group: random (below 2^63), so managers that join later
    /// never collide with it.
    pub raft_id: u64,
    /// What `node ls` shows and `node update` takes: `--node-name`, by default the hostname.
    pub node_name: String,
}

/// node.json as releases before random ids wrote it: Raft id 1, keyed by the hostname.
#[derive(Deserialize)]
struct LegacyIdentity {
    node_id: u64,
    hostname: String,
    #[serde(default)]
    uid: String,
}

/// Either form of node.json; the current one is tried first (its node id is a string).
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredIdentity {
    Current(Identity),
    Legacy(LegacyIdentity),
}

impl Identity {
    /// The value the agent labels its containers with (`swarm.node.id`): unique per data dir.
    pub fn agent_id(&self) -> String {
        let short: String = self.node_id.chars().take(12).collect();
        format!("{}-{short}", self.node_name)
    }
}

/// Why the identity could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("data directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("another swarmd is using {path}; stop it first, or use another --data-dir")]
    Locked { path: String },
    #[error(
        "{path} is not a swarm node identity ({source}); move it away or use another --data-dir"
    )]
    Corrupt {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} already holds node `{name}`; start it with `swarmd run --data-dir {path}`, or use another --data-dir"
    )]
    Exists { path: String, name: String },
    #[error("cannot make a random id: {0}")]
    Random(#[source] crate::pki::PkiError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |source| IdentityError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn identity_path(data_dir: &Path) -> PathBuf {
    data_dir.join("node.json")
}

/// Reads the identity in `data_dir`, if there is one. A legacy node.json is migrated in
/// place: it keeps its Raft id (its Raft log names it) and its hostname as the node name,
/// and its random uid becomes the node id (so its containers' labels do not change).
pub fn load(data_dir: &Path) -> Result<Option<Identity>, IdentityError> {
    let path = identity_path(data_dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io(&path)(err)),
    };
    let stored: StoredIdentity =
        serde_json::from_slice(&bytes).map_err(|source| IdentityError::Corrupt {
            path: path.display().to_string(),
            source,
        })?;
    match stored {
        StoredIdentity::Current(identity) => Ok(Some(identity)),
        StoredIdentity::Legacy(legacy) => {
            let uid: String = legacy.uid.chars().filter(|c| *c != '-').collect();
            let identity = Identity {
                node_id: if uid.is_empty() { new_node_id()? } else { uid },
                raft_id: legacy.node_id,
                node_name: legacy.hostname,
            };
            save(&path, &identity)?;
            Ok(Some(identity))
        }
    }
}

/// Makes a new identity in `data_dir` (random ids; `node_name`, by default the hostname);
/// refuses a data dir that already has one.
pub fn create(data_dir: &Path, node_name: Option<&str>) -> Result<Identity, IdentityError> {
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    if let Some(existing) = load(data_dir)? {
        return Err(IdentityError::Exists {
            path: data_dir.display().to_string(),
            name: existing.node_name,
        });
    }
    let identity = Identity {
        node_id: new_node_id()?,
        raft_id: crate::pki::new_raft_id().map_err(IdentityError::Random)?,
        node_name: node_name.map_or_else(hostname, str::to_owned),
    };
    save(&identity_path(data_dir), &identity)?;
    Ok(identity)
}

/// Reads the identity in `data_dir`, creating the directory and a new identity if absent.
pub fn load_or_create(data_dir: &Path, node_name: Option<&str>) -> Result<Identity, IdentityError> {
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    match load(data_dir)? {
        Some(identity) => {
            if let Some(name) = node_name.filter(|name| *name != identity.node_name) {
                tracing::warn!(
                    requested = name,
                    kept = identity.node_name,
                    "--node-name applies when a node is created; keeping the stored name"
                );
            }
            Ok(identity)
        }
        None => create(data_dir, node_name),
    }
}

fn new_node_id() -> Result<String, IdentityError> {
    crate::pki::new_node_id().map_err(IdentityError::Random)
}

fn save(path: &Path, identity: &Identity) -> Result<(), IdentityError> {
    let text = serde_json::to_vec_pretty(&identity).map_err(|source| IdentityError::Corrupt {
        path: path.display().to_string(),
        source,
    })?;
    write_atomically(path, &text)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Writes `bytes` to `path` atomically (the data dir's small JSON files).
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    write_atomically(path, bytes)
}

/// Forgets a node that never came to be (a join that failed): its identity and whatever the
/// attempt wrote, so the same `swarmd join` can be run again.
pub(super) fn discard(data_dir: &Path) {
    let _ = std::fs::remove_file(identity_path(data_dir));
    let _ = std::fs::remove_file(data_dir.join("join.json"));
    let _ = std::fs::remove_dir_all(crate::pki::files::certificates_dir(data_dir));
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Holds an exclusive lock on DATA_DIR/lock for as long as the returned file lives.
pub fn lock(data_dir: &Path) -> Result<std::fs::File, IdentityError> {
    let path = data_dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(IdentityError::Locked {
            path: data_dir.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(err)) => Err(io(&path)(err)),
    }
}

/// Where `swarmd` writes the address its API listens on (so tests and tools can find a server
/// started on port 0).
pub fn api_addr_path(data_dir: &Path) -> PathBuf {
    data_dir.join("api.addr")
}

/// Records the bound API address.
pub fn write_api_addr(data_dir: &Path, addr: SocketAddr) -> Result<(), IdentityError> {
    write_atomically(
        &api_addr_path(data_dir),
        format!("http://{addr}\n").as_bytes(),
    )
}

/// Where `swarmd` writes the address other nodes dial it at (what `swarmd join` takes), once
/// the node runs.
pub fn listen_addr_path(data_dir: &Path) -> PathBuf {
    data_dir.join("listen.addr")
}

/// Records the advertised node-to-node address.
pub fn write_listen_addr(data_dir: &Path, addr: &str) -> Result<(), IdentityError> {
    write_atomically(&listen_addr_path(data_dir), format!("{addr}\n").as_bytes())
}

/// Removes the address file on clean shutdown.
pub fn remove_api_addr(data_dir: &Path) {
    let _ = std::fs::remove_file(api_addr_path(data_dir));
    let _ = std::fs::remove_file(listen_addr_path(data_dir));
}

/// Creates this node's Node object (a manager that is also a worker) the first time it starts.
pub async fn register_self(
    store: &Store,
    identity: &Identity,
    labels: &std::collections::BTreeMap<String, String>,
) -> Result<(), StoreError> {
    let exists = store.read(|index| index.find(Kind::Node, None, &identity.node_name).is_some());
    if exists {
        return Ok(());
    }
    let spec = NodeSpec {
        role: NodeRole::Manager,
        labels: labels.clone(),
        ..NodeSpec::default()
    };
    let command = Command {
        at: store.clock().now(),
        ops: vec![Op::Create {
            kind: Kind::Node,
            metadata: ObjectMeta {
                name: identity.node_name.clone(),
                labels: Default::default(),
                stack: None,
            },
            spec: serde_json::to_value(spec).unwrap_or_default(),
            status: serde_json::Value::Null,
        }],
    };
    store.propose(command).await.map(|_| ())
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;

//! Who this node is: its id (kept in the data directory across restarts), its Node object, and
//! the address file other tools read to find the API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use model::{Kind, NodeRole, NodeSpec, ObjectMeta};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::store::{Command, Op, Store, StoreError};

/// The node's persistent identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub node_id: u64,
    pub hostname: String,
    /// Random, made once per data directory. Store ids are derived from Raft indices, so two
    /// clusters on one Docker engine (tests, or a re-initialised node) would otherwise label
    /// their containers alike and each agent would adopt or remove the other's.
    #[serde(default)]
    pub uid: String,
}

impl Identity {
    /// The value the agent labels its containers with (`swarm.node.id`): unique per data dir.
    pub fn agent_id(&self) -> String {
        let short: String = self.uid.chars().filter(|c| *c != '-').take(12).collect();
        format!("{}-{short}", self.hostname)
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

/// Reads the identity in `data_dir`, creating the directory and a first-node identity if absent.
pub fn load_or_create(data_dir: &Path) -> Result<Identity, IdentityError> {
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let path = identity_path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let mut identity: Identity =
                serde_json::from_slice(&bytes).map_err(|source| IdentityError::Corrupt {
                    path: path.display().to_string(),
                    source,
                })?;
            if identity.uid.is_empty() {
                identity.uid = new_uid();
                save(&path, &identity)?;
            }
            Ok(identity)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let identity = Identity {
                node_id: 1,
                hostname: hostname(),
                uid: new_uid(),
            };
            save(&path, &identity)?;
            Ok(identity)
        }
        Err(err) => Err(io(&path)(err)),
    }
}

fn save(path: &Path, identity: &Identity) -> Result<(), IdentityError> {
    let text = serde_json::to_vec_pretty(&identity).map_err(|source| IdentityError::Corrupt {
        path: path.display().to_string(),
        source,
    })?;
    write_atomically(path, &text)
}

/// A random id from the kernel; time and pid if that is unavailable.
fn new_uid() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .map(|u| u.trim().to_owned())
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("{:x}-{:x}", Clock::system().now().0, std::process::id()))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
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

/// Removes the address file on clean shutdown.
pub fn remove_api_addr(data_dir: &Path) {
    let _ = std::fs::remove_file(api_addr_path(data_dir));
}

/// Creates this node's Node object (a manager that is also a worker) the first time it starts.
pub async fn register_self(
    store: &Store,
    identity: &Identity,
    _addr: SocketAddr,
) -> Result<(), StoreError> {
    let exists = store.read(|index| index.find(Kind::Node, None, &identity.hostname).is_some());
    if exists {
        return Ok(());
    }
    let spec = NodeSpec {
        role: NodeRole::Manager,
        ..NodeSpec::default()
    };
    let command = Command {
        at: store.clock().now(),
        ops: vec![Op::Create {
            kind: Kind::Node,
            metadata: ObjectMeta {
                name: identity.hostname.clone(),
                labels: Default::default(),
                stack: None,
            },
            spec: serde_json::to_value(spec).unwrap_or_default(),
            status: serde_json::Value::Null,
        }],
    };
    store.propose(command).await.map(|_| ())
}

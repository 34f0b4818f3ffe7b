//! The node daemon. A manager opens the store, serves the HTTP API (`--api-addr`) and the
//! node-to-node mutual-TLS listener (`--listen-addr`: Raft, forwarded writes, joins, agent
//! sessions), runs the controllers and its own agent, and follows a watched directory; a worker
//! runs only its agent, in a session with a manager. Both shut down cleanly on SIGTERM/SIGINT.

mod address;
pub mod cli;
pub mod identity;
mod joining;
mod logs;
mod manager;
mod remote_agent;
mod worker;
pub mod workers;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;

use crate::store::StoreError;
pub use workers::RuntimeKind;

/// How to run a node.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    pub data_dir: PathBuf,
    /// Where a manager serves the HTTP API; port 0 picks a free port (tests).
    pub api_addr: SocketAddr,
    /// Where a manager serves node-to-node traffic (Raft, forwarded writes, joins, sessions)
    /// over mutual TLS; port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// `host:port` other nodes dial this one at (default: the listen address, with this host's
    /// outgoing address when it listens on all interfaces).
    pub advertise_addr: Option<String>,
    /// A directory of stack files to apply and follow (GitOps).
    pub watch: Option<PathBuf>,
    /// The container runtime the local agent drives (`none`: control plane only).
    pub runtime: RuntimeKind,
    /// The name `node ls` shows, when this start creates the node (default: the hostname).
    pub node_name: Option<String>,
    /// Node labels set when this start creates the node (`--label k=v`).
    pub labels: BTreeMap<String, String>,
    /// How this start begins: resume, create a cluster, or join one.
    pub start: Start,
    /// `swarmd run --force-new-cluster`: make this manager the only voter of a new Raft group.
    pub force_new_cluster: bool,
    /// How often agents beat (a manager tells its agents; a node silent for 3 periods is down).
    pub heartbeat: std::time::Duration,
}

/// What a start does before the node runs.
#[derive(Clone, Debug, Default)]
pub enum Start {
    /// `swarmd run` / `up`: resume the node in the data dir; an empty data dir becomes a new
    /// single-manager cluster (the one-command quick start).
    #[default]
    Resume,
    /// `swarmd init`: create a new cluster, refusing a data dir that holds a node already.
    NewCluster,
    /// `swarmd join`: join the cluster whose manager listens at `manager`, as the token says.
    Join { token: String, manager: String },
}

/// Why the daemon stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot listen on {addr}: {source} (is another swarmd running? choose another {flag})")]
    Listen {
        addr: SocketAddr,
        flag: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Identity(#[from] identity::IdentityError),
    #[error("node certificates: {0}")]
    Pki(#[from] crate::pki::PkiError),
    #[error("cluster security settings: {0}")]
    Cluster(#[from] crate::pki::cluster::ClusterError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("joining the cluster: {0}")]
    Join(#[from] crate::peer::join::JoinError),
    #[error("node-to-node client: {0}")]
    PeerClient(#[source] reqwest::Error),
    #[error("watcher: {0}")]
    Watch(#[from] crate::watch::WatchError),
    #[error("HTTP server: {0}")]
    Serve(std::io::Error),
    #[error(
        "container runtime: {0}; start Docker, or run with `--runtime none` (control plane only)"
    )]
    Runtime(crate::agent::RuntimeError),
    #[error("agent session: {0}")]
    Session(#[source] crate::agent::session::SessionClientError),
    #[error("this node's Node object `{0}` is missing from the store after registering it")]
    NodeMissing(String),
    #[error(
        "this manager holds no CA key ({0}), so it cannot admit joining nodes; restore DATA_DIR/certificates"
    )]
    NoCaKey(String),
    #[error("{0}")]
    Recovery(#[from] crate::store::recovery::RecoveryError),
}

/// Runs the node until `shutdown` resolves: `swarmd up` is `init` (if new) then `run`.
pub async fn run(
    config: DaemonConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    // Where this process reads wall time; every component gets it from here.
    let clock = crate::clock::Clock::system();
    let node_name = config.node_name.as_deref();
    let identity = match config.start {
        Start::NewCluster | Start::Join { .. } => identity::create(&config.data_dir, node_name)?,
        Start::Resume => identity::load_or_create(&config.data_dir, node_name)?,
    };
    // Two daemons on one data directory would corrupt each other's Raft log: refuse the second.
    let _lock = identity::lock(&config.data_dir)?;
    let peer_listener = bind(config.listen_addr, "--listen-addr").await?;
    let listen_bound = peer_listener.local_addr().map_err(DaemonError::Serve)?;
    let advertise = address::advertise(config.advertise_addr.as_deref(), listen_bound);
    let material = match &config.start {
        Start::Join { token, manager } => {
            joining::join(&config, &identity, &advertise, token, manager).await?
        }
        Start::NewCluster | Start::Resume => security_material(&config.data_dir, &identity, clock)?,
    };
    let role = material.cert.identity().role;
    let node = Node {
        config,
        identity,
        material,
        peer_listener,
        advertise,
        clock,
    };
    match role {
        crate::pki::Role::Manager => manager::run(node, shutdown).await,
        crate::pki::Role::Worker => worker::run(node, shutdown).await,
    }
}

/// A node about to run as its certificate's role says.
struct Node {
    config: DaemonConfig,
    identity: identity::Identity,
    material: crate::pki::files::NodeMaterial,
    /// Bound early: a joiner must tell the manager where it will listen.
    peer_listener: TcpListener,
    /// What other nodes dial this one at.
    advertise: String,
    clock: crate::clock::Clock,
}

/// Binds `addr`, naming the flag that chose it when it is taken.
async fn bind(addr: SocketAddr, flag: &'static str) -> Result<TcpListener, DaemonError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| DaemonError::Listen { addr, flag, source })
}

/// This node's certificates: those in the data dir, or (first start of a data dir that has
/// none: `init`, `up`, or a data dir made before certificates existed) a new cluster's root CA
/// and a manager certificate for this node.
fn security_material(
    data_dir: &std::path::Path,
    identity: &identity::Identity,
    clock: crate::clock::Clock,
) -> Result<crate::pki::files::NodeMaterial, DaemonError> {
    if let Some(material) = crate::pki::files::load_node(data_dir)? {
        return Ok(material);
    }
    let (_, material) = crate::pki::files::init_cluster(data_dir, &identity.node_id, clock.now())?;
    Ok(material)
}

/// Resolves on SIGTERM or SIGINT.
pub async fn signals() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(test)]
pub(crate) mod tests;

//! The node daemon: opens the store, serves the API and Raft RPC on one HTTP listener, follows a
//! watched directory, and shuts down cleanly on SIGTERM/SIGINT.

pub mod cli;
pub mod identity;
mod logs;
pub mod workers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::store::{Store, StoreConfig, StoreError};
pub use workers::RuntimeKind;

/// How to run a node.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    pub data_dir: PathBuf,
    /// Where the API (and Raft RPC) listens; port 0 picks a free port (tests).
    pub api_addr: SocketAddr,
    /// A directory of stack files to apply and follow (GitOps).
    pub watch: Option<PathBuf>,
    /// The container runtime the local agent drives (`none`: control plane only).
    pub runtime: RuntimeKind,
    /// The name `node ls` shows, when this start creates the node (default: the hostname).
    pub node_name: Option<String>,
    /// `swarmd init`: create a new cluster, refusing a data dir that holds a node already.
    pub new_cluster: bool,
    /// `swarmd run --force-new-cluster`: make this manager the only voter of a new Raft group.
    pub force_new_cluster: bool,
}

/// Why the daemon stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(
        "cannot listen on {addr}: {source} (is another swarmd running? choose another --api-addr)"
    )]
    Listen {
        addr: SocketAddr,
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
    #[error("watcher: {0}")]
    Watch(#[from] crate::watch::WatchError),
    #[error("HTTP server: {0}")]
    Serve(std::io::Error),
    #[error(
        "container runtime: {0}; start Docker, or run with `--runtime none` (control plane only)"
    )]
    Runtime(crate::agent::RuntimeError),
    #[error("this node's Node object `{0}` is missing from the store after registering it")]
    NodeMissing(String),
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
    let identity = if config.new_cluster {
        identity::create(&config.data_dir, node_name)?
    } else {
        identity::load_or_create(&config.data_dir, node_name)?
    };
    // Two daemons on one data directory would corrupt each other's Raft log: refuse the second.
    let _lock = identity::lock(&config.data_dir)?;
    let material = security_material(&config.data_dir, &identity, clock)?;
    let listener =
        TcpListener::bind(config.api_addr)
            .await
            .map_err(|source| DaemonError::Listen {
                addr: config.api_addr,
                source,
            })?;
    let bound = listener.local_addr().map_err(DaemonError::Serve)?;
    // `--force-new-cluster`, or the first start after `swarmd restore`: before the Raft node
    // starts, make this manager the only voter of a new group holding all its objects.
    crate::store::recovery::prepare_start(
        &config.data_dir,
        identity.raft_id,
        &bound.to_string(),
        config.force_new_cluster,
        clock,
    )
    .await?;
    let store = Store::open(StoreConfig {
        data_dir: config.data_dir.clone(),
        node_id: identity.raft_id,
        advertise_addr: bound.to_string(),
        clock,
    })
    .await?;

    let mut api = crate::api::ApiState::new(store.clone());
    if config.runtime == RuntimeKind::Docker {
        let runtime = crate::agent::DockerRuntime::connect()
            .await
            .map_err(DaemonError::Runtime)?;
        api = api.with_logs(logs::docker_logs(runtime));
    }
    let app = crate::api::router(api).merge(store.raft_routes());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });

    store.initialize_single().await?;
    store.wait_leader(Duration::from_secs(30)).await?;
    identity::register_self(&store, &identity, bound).await?;
    crate::pki::cluster::ensure(&store, &material).await?;
    let node_id = store
        .read(|index| {
            index
                .find(model::Kind::Node, None, &identity.node_name)
                .map(|node| node.id.clone())
        })
        .ok_or_else(|| DaemonError::NodeMissing(identity.node_name.clone()))?;
    // Before the API says "ready": a stack a crashed watcher left claimed is the CLI's again.
    crate::watch::release_stale_claims(&store, identity.raft_id, config.watch.as_deref()).await;
    let workers = workers::start(&store, &identity, node_id, bound, config.runtime).await?;
    identity::write_api_addr(&config.data_dir, bound)?;
    eprintln!(
        "swarmd: node {} ({}) ready; API on http://{bound}",
        identity.node_name, identity.node_id
    );

    let watcher = config.watch.clone().map(|dir| {
        let store = store.clone();
        let mut watch_stop = stop_rx.clone();
        let node = identity.raft_id;
        tokio::spawn(async move {
            crate::watch::run(store, dir, node, async move {
                let _ = watch_stop.wait_for(|stop| *stop).await;
            })
            .await
        })
    });

    shutdown.await;
    eprintln!("swarmd: shutting down");
    workers.stop().await;
    let _ = stop_tx.send(true);
    if let Some(watcher) = watcher
        && let Ok(Err(err)) = watcher.await
    {
        tracing::warn!(%err, "watcher stopped with an error");
    }
    match server.await {
        Ok(Err(err)) => tracing::warn!(%err, "HTTP server stopped with an error"),
        Err(err) => tracing::warn!(%err, "HTTP server task failed"),
        Ok(Ok(())) => {}
    }
    store.shutdown().await?;
    identity::remove_api_addr(&config.data_dir);
    Ok(())
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

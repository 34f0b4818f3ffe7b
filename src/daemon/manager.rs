//! A manager: the store and its Raft node, the HTTP API, the node-to-node listener, the
//! controllers and the local agent.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use super::identity;
use super::remote_agent::{self, SessionTarget};
use super::{DaemonError, Node, RuntimeKind, bind, joining, logs, workers};
use crate::dispatcher::session::SessionService;
use crate::dispatcher::{DispatcherConfig, Heartbeats};
use crate::peer::forward::Link;
use crate::peer::join::JoinDesk;
use crate::peer::{PeerClient, require};
use crate::pki::Role;
use crate::pki::tls::{self, RefusedNodes};
use crate::store::{Store, StoreConfig};

/// How long a start waits for a Raft leader (its own election, or the group's).
const LEADER_WAIT: Duration = Duration::from_secs(30);

pub(super) async fn run(
    node: Node,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let Node {
        config,
        identity,
        material,
        peer_listener,
        advertise,
        clock,
    } = node;
    let data_dir = &config.data_dir;
    let refused = Arc::new(RefusedNodes::default());
    let server_tls = tls::server_config(material.tls(refused.clone()))?;
    let peers = PeerClient::new(tls::client_config(material.tls(refused.clone()))?)
        .map_err(DaemonError::PeerClient)?;
    let ca = crate::pki::files::load_ca(data_dir)?
        .ok_or_else(|| DaemonError::NoCaKey(data_dir.display().to_string()))?;
    let api_listener = bind(config.api_addr, "--api-addr").await?;
    let bound = api_listener.local_addr().map_err(DaemonError::Serve)?;
    // `--force-new-cluster`, or the first start after `swarmd restore`: before the Raft node
    // starts, make this manager the only voter of a new group holding all its objects.
    crate::store::recovery::prepare_start(
        data_dir,
        identity.raft_id,
        &advertise,
        config.force_new_cluster,
        clock,
    )
    .await?;
    let store = Store::open(StoreConfig {
        data_dir: data_dir.clone(),
        node_id: identity.raft_id,
        advertise_addr: advertise.clone(),
        clock,
        peer_http: Some(peers.http().clone()),
    })
    .await?;
    let peers_http = peers.http().clone();
    let link = Link::new(peers);
    store.set_leader_link(Arc::new(link.clone()));

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(crate::pki::cluster::follow_removed_nodes(
        store.clone(),
        refused,
        stop_rx.clone(),
    ));
    let heartbeats = Heartbeats::default();
    let dispatcher = DispatcherConfig {
        heartbeat: config.heartbeat,
        ..DispatcherConfig::default()
    };
    let sessions = SessionService::new(store.clone(), heartbeats.clone(), dispatcher.clone());
    let peer_app = node_to_node_routes(&store, ca, sessions);
    let peer_server = tokio::spawn(crate::peer::serve(
        peer_listener,
        server_tls,
        peer_app,
        stop_rx.clone(),
    ));

    let mut api = crate::api::ApiState::new(store.clone());
    if config.runtime == RuntimeKind::Docker {
        let runtime = crate::agent::DockerRuntime::connect()
            .await
            .map_err(DaemonError::Runtime)?;
        api = api.with_logs(logs::docker_logs(runtime));
    }
    let app = crate::api::router(api);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(api_listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });

    enter_raft_group(&store, &link, data_dir, identity.raft_id, &advertise).await?;
    store.wait_leader(LEADER_WAIT).await?;
    identity::register_self(&store, &identity, &config.labels).await?;
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
    let _ = node_id;
    let liveness = tokio::spawn(crate::dispatcher::liveness::run(
        store.clone(),
        heartbeats,
        dispatcher.heartbeat,
        stopped(stop_rx.clone()),
    ));
    let runner = workers::start_runner(&store, dispatcher.heartbeat);
    // This node's agent, like every node's, in a session with the leader (itself first to try).
    let mut managers = vec![advertise.clone()];
    managers.extend(
        store
            .manager_addrs()
            .into_iter()
            .filter(|a| *a != advertise),
    );
    let agent = remote_agent::start(
        config.runtime,
        SessionTarget {
            identity: &identity,
            advertise: &advertise,
            http: peers_http,
            managers,
            clock,
        },
    )
    .await?;
    identity::write_listen_addr(data_dir, &advertise)?;
    identity::write_api_addr(data_dir, bound)?;
    eprintln!(
        "swarmd: node {} ({}) ready; API on http://{bound}; node-to-node on {advertise}",
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
    if let Some(agent) = agent {
        agent.stop().await;
    }
    runner.stop().await;
    let _ = stop_tx.send(true);
    if let Err(err) = liveness.await {
        tracing::warn!(%err, "liveness task failed");
    }
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
    if let Err(err) = peer_server.await {
        tracing::warn!(%err, "node-to-node server task failed");
    }
    store.shutdown().await?;
    identity::remove_api_addr(data_dir);
    Ok(())
}

/// What the node-to-node listener serves: Raft and forwarded writes to managers only, the
/// join to anyone (the token is the credential).
fn node_to_node_routes(store: &Store, ca: crate::pki::RootCa, sessions: SessionService) -> Router {
    let managers_only = store
        .raft_routes()
        .merge(crate::peer::forward::routes(store.clone()))
        .layer(axum::middleware::from_fn(require(Some(Role::Manager))));
    let desk = JoinDesk {
        store: store.clone(),
        ca: Arc::new(ca),
    };
    // Any node of the cluster (its certificate) holds an agent session.
    let nodes = crate::dispatcher::session::routes(sessions)
        .layer(axum::middleware::from_fn(require(None)));
    managers_only
        .merge(nodes)
        .merge(crate::peer::join::routes(desk))
}

/// A future resolving once `stop` turns true.
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Makes sure this manager is in a Raft group: the founder of a cluster initialises a group of
/// one; a manager that joined asks the cluster to take it in (once: its join record remembers).
async fn enter_raft_group(
    store: &Store,
    link: &Link,
    data_dir: &std::path::Path,
    raft_id: u64,
    advertise: &str,
) -> Result<(), DaemonError> {
    match joining::load(data_dir)? {
        None => store.initialize_single().await?,
        Some(joined) if !joined.in_raft_group => {
            let mut managers = vec![joined.manager.clone()];
            managers.extend(joined.managers.iter().cloned());
            let mut last = None;
            for manager in managers {
                match link
                    .add_manager_at(manager, raft_id, advertise.to_owned())
                    .await
                {
                    Ok(()) => {
                        last = None;
                        break;
                    }
                    Err(err) => last = Some(err),
                }
            }
            if let Some(err) = last {
                return Err(err.into());
            }
            joining::save(
                data_dir,
                &joining::Joined {
                    in_raft_group: true,
                    ..joined
                },
            )?;
        }
        Some(_) => {}
    }
    Ok(())
}

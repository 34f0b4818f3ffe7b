//! A worker: no store, no API; its agent runs the tasks the leader assigns over a session.

use std::sync::Arc;

use super::remote_agent::{self, SessionTarget};
use super::{DaemonError, Node, identity, joining};
use crate::peer::PeerClient;
use crate::pki::tls::{self, RefusedNodes};

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
    // A worker serves nothing yet; the listener was bound so a join could name its address.
    drop(peer_listener);
    let joined = joining::load(&config.data_dir)?.unwrap_or_default();
    let mut managers = joined.managers.clone();
    if !joined.manager.is_empty() && !managers.contains(&joined.manager) {
        managers.insert(0, joined.manager.clone());
    }
    let peers = PeerClient::new(tls::client_config(
        material.tls(Arc::new(RefusedNodes::default())),
    )?)
    .map_err(DaemonError::PeerClient)?;
    let agent = remote_agent::start(
        config.runtime,
        SessionTarget {
            identity: &identity,
            advertise: &advertise,
            http: peers.http().clone(),
            managers: managers.clone(),
            clock,
        },
    )
    .await?;
    identity::write_listen_addr(&config.data_dir, &advertise)?;
    eprintln!(
        "swarmd: worker {} ({}) ready; managers: {}",
        identity.node_name,
        identity.node_id,
        managers.join(", ")
    );
    shutdown.await;
    eprintln!("swarmd: shutting down");
    if let Some(agent) = agent {
        agent.stop().await;
    }
    identity::remove_api_addr(&config.data_dir);
    Ok(())
}

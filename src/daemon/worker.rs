//! A worker: no store, no API; its agent runs the tasks a manager assigns over a session.

use super::{DaemonError, Node, identity, joining};

pub(super) async fn run(
    node: Node,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let joined = joining::load(&node.config.data_dir)?.unwrap_or_default();
    eprintln!(
        "swarmd: worker {} ({}) ready; managers: {}",
        node.identity.node_name,
        node.identity.node_id,
        joined.managers.join(", ")
    );
    identity::write_listen_addr(&node.config.data_dir, &node.advertise)?;
    // The agent's session with the managers is wired in with the session protocol.
    shutdown.await;
    eprintln!("swarmd: shutting down");
    identity::remove_api_addr(&node.config.data_dir);
    Ok(())
}

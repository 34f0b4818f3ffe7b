//! Who may call what on the node-to-node listener (issue 10 §3): a worker's certificate cannot
//! call manager-only routes, a caller without a certificate gets nothing but the join, and a
//! removed node's certificate is refused at the handshake by every manager.

#[path = "daemon_support/mod.rs"]
mod daemon_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use daemon_support::{Daemon, eventually, text};
use swarm::peer::PeerClient;
use swarm::pki::tls::{self, RefusedNodes};
use swarm::pki::{JoinToken, files};

fn token(daemon: &Daemon, dir: &Path, role: &str) -> String {
    let out = daemon.ctl(dir, &["cluster", "join-token", role, "-q"]);
    assert!(out.status.success(), "join-token: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// A client presenting the certificate kept in `data_dir`.
fn client_of(data_dir: &Path) -> PeerClient {
    let material = files::load_node(data_dir)
        .expect("reads")
        .expect("certificates");
    let config = tls::client_config(material.tls(Arc::new(RefusedNodes::default()))).expect("tls");
    PeerClient::new(config).expect("client")
}

/// POSTs an empty command to the manager-only write route; the HTTP status, or the error.
async fn propose(client: &PeerClient, manager: &str) -> Result<u16, String> {
    client
        .http()
        .post(PeerClient::url(manager, "/v1/peer/propose"))
        .json(&serde_json::json!({"at": 0, "ops": []}))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| swarm::peer::error_chain(&e))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_and_strangers_are_kept_off_manager_routes_and_removed_nodes_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m1 = Daemon::start(
        "init",
        &tmp.path().join("m1"),
        &["--runtime", "none", "--node-name", "m1"],
    );
    let manager = m1.listen_addr();
    let worker_token = token(&m1, tmp.path(), "worker");
    let worker_dir = tmp.path().join("w1");
    let worker = Daemon::start_worker(
        &worker_dir,
        &[
            "--runtime",
            "none",
            "--node-name",
            "w1",
            "--token",
            &worker_token,
            &manager,
        ],
    );
    let nodes = m1.json(tmp.path(), &["node", "ls"]);
    let w1 = nodes
        .as_array()
        .expect("rows")
        .iter()
        .find(|n| n["hostname"] == "w1")
        .unwrap_or_else(|| panic!("w1 listed: {nodes}"));
    assert_eq!(w1["role"], "worker");

    // The manager's own certificate may propose; a worker's may not.
    assert_eq!(propose(&client_of(&m1.data_dir), &manager).await, Ok(200));
    assert_eq!(propose(&client_of(&worker_dir), &manager).await, Ok(403));

    // Without a certificate (a joiner's client, CA pinned) only the join is open.
    let pinned: JoinToken = worker_token.parse().expect("token");
    let (config, _) = tls::join_client_config(&pinned).expect("tls");
    let stranger = PeerClient::new(config).expect("client");
    assert_eq!(propose(&stranger, &manager).await, Ok(401));

    // Removed: its certificate no longer gets through the handshake.
    let worker_data = worker.data_dir.clone();
    worker.kill9();
    let out = m1.ctl(tmp.path(), &["node", "rm", "w1"]);
    assert!(out.status.success(), "node rm: {}", text(&out.stderr));
    let refused = client_of(&worker_data);
    eventually(Duration::from_secs(10), "the removed node refused", || {
        let result = futures_block(propose(&refused, &manager));
        result.is_err().then_some(())
    });
}

/// Runs a future to completion from a synchronous poll closure.
fn futures_block<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

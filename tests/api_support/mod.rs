//! A real single-manager store in a temporary directory with the API served on 127.0.0.1:0.

#![allow(dead_code)]

use std::time::Duration;

use swarm::api::{ApiState, router};
use swarm::client::Client;
use swarm::store::{Store, StoreConfig};
use tokio::net::TcpListener;

/// Generous: CI machines are slow, and a passing test never waits this long.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct Server {
    pub store: Store,
    pub client: Client,
    pub url: String,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Opens a store, makes it a one-manager cluster and serves the API (and Raft RPC).
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let store = Store::open(StoreConfig {
            data_dir: dir.path().to_path_buf(),
            node_id: 1,
            advertise_addr: addr.to_string(),
        })
        .await
        .expect("open store");
        let app = router(ApiState::new(store.clone())).merge(store.raft_routes());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        store.initialize_single().await.expect("initialize");
        store.wait_leader(DEADLINE).await.expect("leader");
        let url = format!("http://{addr}");
        Server {
            client: Client::new(&url).expect("client"),
            store,
            url,
            _dir: dir,
            server,
        }
    }

    /// Every record, as JSON: to compare the store before and after a request.
    pub fn records(&self) -> String {
        self.store
            .read(|index| serde_json::to_string(&index.records()).expect("records json"))
    }

    pub async fn stop(self) {
        self.store.shutdown().await.expect("shutdown");
        self.server.abort();
    }
}

/// A compose stack: two services, a secret used by `web`, a config.
pub const SHOP: &str = r#"
services:
  web:
    image: nginx:1.26
    ports: ["8080:80"]
    secrets: [db]
    configs: [site]
  api:
    image: nginx:1.26
    deploy: {replicas: 2}
secrets:
  db:
    content: hunter2
configs:
  site:
    content: "server {}"
"#;

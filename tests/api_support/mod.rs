//! A real single-manager store in a temporary directory with the API served on 127.0.0.1:0.

#![allow(dead_code)]

pub mod paused;
pub mod seed;

use std::path::Path;
use std::time::Duration;

use model::{Kind, ObjectMeta};
use serde_json::Value;
use swarm::api::{ApiState, router};
use swarm::client::Client;
use swarm::clock::Clock;
use swarm::store::{Command, Executed, Op, Store, StoreConfig};
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
        Server::start_with(ApiState::new).await
    }

    /// [`Server::start`] with the API state made by `state` (e.g. with a log source).
    pub async fn start_with(state: impl FnOnce(Store) -> ApiState) -> Server {
        Server::start_full(state, Clock::system()).await
    }

    /// [`Server::start`] with the store on `clock` (`Clock::tokio` for tests on paused time).
    pub async fn start_on(clock: Clock) -> Server {
        Server::start_full(ApiState::new, clock).await
    }

    async fn start_full(state: impl FnOnce(Store) -> ApiState, clock: Clock) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let store = Store::open(StoreConfig {
            data_dir: dir.path().to_path_buf(),
            node_id: 1,
            advertise_addr: addr.to_string(),
            clock,
            peer_http: None,
        })
        .await
        .expect("open store");
        let app = router(state(store.clone())).merge(store.raft_routes());
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

    /// Creates a record directly, as controllers and the dispatcher do (tasks and nodes have no
    /// create endpoint); returns its id.
    pub async fn create(
        &self,
        kind: Kind,
        name: &str,
        stack: Option<&str>,
        spec: Value,
        status: Value,
    ) -> String {
        let metadata = ObjectMeta {
            name: name.into(),
            labels: Default::default(),
            stack: stack.map(str::to_owned),
        };
        let op = Op::Create {
            kind,
            metadata,
            spec,
            status,
        };
        match self.propose(op).await {
            Executed::Ok { ids, .. } => ids[0].clone(),
            Executed::Rejected(r) => panic!("create {kind} {name}: {r}"),
        }
    }

    /// Replaces the status of a record, as a controller would.
    pub async fn set_status(&self, kind: Kind, id: &str, status: Value) {
        let op = Op::SetStatus {
            kind,
            id: id.into(),
            expected_version: None,
            status,
        };
        if let Executed::Rejected(r) = self.propose(op).await {
            panic!("set status of {kind} {id}: {r}");
        }
    }

    /// One record by kind and id.
    pub fn get(&self, kind: Kind, id: &str) -> swarm::store::Record {
        self.store
            .read(|index| index.get(kind, id).cloned())
            .unwrap_or_else(|| panic!("{kind} {id} not found"))
    }

    async fn propose(&self, op: Op) -> Executed {
        let command = Command {
            at: self.store.clock().now(),
            ops: vec![op],
        };
        self.store.propose(command).await.expect("propose")
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

/// What a swarmctl run printed and returned.
pub struct CliRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the real swarmctl binary against `host` in `dir`, feeding `stdin`.
pub async fn swarmctl(host: &str, dir: &Path, args: &[&str], stdin: Option<&str>) -> CliRun {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(["--host", host])
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn swarmctl");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().await.expect("swarmctl output");
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// stdout of `run` as JSON.
/// The field names of a JSON object (a listing row), in order: the shapes are contract.
pub fn keys(row: &Value) -> Vec<&str> {
    row.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

pub fn json(run: &CliRun) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

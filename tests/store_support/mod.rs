//! Helpers shared by the store tests: commands, nodes on temporary directories, and waiting on
//! the event stream with a deadline.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use model::{Kind, ObjectMeta, Timestamp};
use serde_json::json;
use swarm::store::{Command, Event, Executed, Op, Record, Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

/// Generous: CI machines are slow, and a passing test never waits this long.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: name.into(),
        labels: Default::default(),
        stack: Some("web".into()),
    }
}

pub fn create(name: &str) -> Op {
    Op::Create {
        kind: Kind::Service,
        metadata: meta(name),
        spec: json!({"image": "nginx:1"}),
        status: serde_json::Value::Null,
    }
}

pub fn update(name: &str, id: &str, expected_version: u64, image: &str) -> Op {
    Op::Update {
        kind: Kind::Service,
        id: id.into(),
        expected_version,
        metadata: meta(name),
        spec: json!({ "image": image }),
    }
}

pub fn command(ops: Vec<Op>) -> Command {
    Command {
        at: Timestamp(1_700_000_000_000),
        ops,
    }
}

/// The ids and index of a command that must have executed.
pub fn ok(executed: Executed) -> (u64, Vec<String>) {
    match executed {
        Executed::Ok { index, ids } => (index, ids),
        Executed::Rejected(rejection) => panic!("rejected: {rejection}"),
    }
}

/// Every record the store holds, in a stable order.
pub fn snapshot_of(store: &Store) -> Vec<Record> {
    store.read(|index| index.records().into_iter().cloned().collect())
}

/// Opens a store whose peers reach it at `addr`.
pub async fn open(dir: &Path, node_id: u64, addr: &str) -> Store {
    Store::open(StoreConfig {
        data_dir: dir.to_path_buf(),
        node_id,
        advertise_addr: addr.to_owned(),
        clock: swarm::clock::Clock::system(),
        peer_http: None,
    })
    .await
    .expect("open store")
}

/// Opens and initializes a one-manager store and waits until it leads.
pub async fn single(dir: &Path) -> Store {
    let store = open(dir, 1, "127.0.0.1:1").await;
    store.initialize_single().await.expect("initialize");
    store.wait_leader(DEADLINE).await.expect("leader");
    store
}

/// A manager with its Raft routes served on 127.0.0.1:0.
pub struct Node {
    pub store: Store,
    pub addr: String,
    server: tokio::task::JoinHandle<()>,
}

impl Node {
    /// Binds a listener first so the store can advertise the real port.
    pub async fn start(dir: &Path, node_id: u64) -> Node {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let store = open(dir, node_id, &addr).await;
        let routes = store.raft_routes();
        let server = tokio::spawn(async move {
            axum::serve(listener, routes).await.expect("serve");
        });
        Node {
            store,
            addr,
            server,
        }
    }

    /// Stops the store and its HTTP server.
    pub async fn stop(self) {
        self.store.shutdown().await.expect("shutdown");
        self.server.abort();
    }
}

/// Polls `condition` until it holds, failing after the deadline.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Receives events until `Commit { index }` (inclusive), failing after the deadline.
pub async fn events_until(events: &mut broadcast::Receiver<Event>, index: u64) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(DEADLINE, events.recv())
            .await
            .expect("event before the deadline")
            .expect("event stream open");
        let done = matches!(event, Event::Commit { index: at } if at >= index);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// Proposes at whichever node leads, following leader changes until the deadline: under a
/// loaded machine an election can move the leadership while a large entry replicates.
pub async fn propose_at_leader(nodes: &[Node], command: Command) -> Executed {
    let deadline = Instant::now() + DEADLINE;
    loop {
        for node in nodes.iter().filter(|n| n.store.is_leader()) {
            match node.store.propose(command.clone()).await {
                Ok(executed) => return executed,
                Err(swarm::store::StoreError::NotLeader { .. }) => {}
                Err(e) => panic!("propose: {e}"),
            }
        }
        assert!(Instant::now() < deadline, "no leader accepted the write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

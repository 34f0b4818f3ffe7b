//! The manager's loop in one process on the sim runtime: controllers, dispatcher and agent
//! converge a service, follow a scale-down, and stop cleanly.

use std::time::Duration;

use model::{Kind, ObjectMeta, TaskState, TaskStatus};
use serde_json::json;

use super::identity::{self, Identity};
use super::workers::{self, RuntimeKind};
use crate::store::{Command, Executed, Op, Store, StoreConfig};

/// A one-node store in `dir`, leader elected.
pub(crate) async fn store(dir: &std::path::Path) -> Store {
    let store = Store::open(StoreConfig {
        data_dir: dir.to_path_buf(),
        node_id: 1,
        advertise_addr: "127.0.0.1:1".into(),
        clock: crate::clock::Clock::system(),
        peer_http: None,
    })
    .await
    .expect("store opens");
    store.initialize_single().await.expect("initialized");
    store
        .wait_leader(Duration::from_secs(10))
        .await
        .expect("leader");
    store
}

/// States of the service's tasks that are meant to run.
fn wanted_states(store: &Store) -> Vec<TaskState> {
    store.read(|index| {
        index
            .list(Kind::Task)
            .into_iter()
            .filter(|t| t.spec["desired_state"] == "running")
            .filter_map(|t| t.status_as::<TaskStatus>().ok())
            .map(|s| s.state)
            .collect()
    })
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_converges_on_the_sim_runtime_and_follows_a_scale_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    let me = Identity {
        node_id: "0123456789abcdef".into(),
        raft_id: 1,
        node_name: "node-a".into(),
    };
    identity::register_self(&store, &me, &Default::default())
        .await
        .expect("node");
    let node_id = store
        .read(|i| i.find(Kind::Node, None, "node-a").map(|n| n.id.clone()))
        .expect("node record");
    let running = workers::start(&store, &me, node_id, "127.0.0.1:1", RuntimeKind::Sim)
        .await
        .expect("workers start");

    let meta = ObjectMeta {
        name: "web".into(),
        stack: Some("shop".into()),
        ..ObjectMeta::default()
    };
    let spec = |replicas: u64| json!({"image": "busybox", "deploy": {"replicas": replicas}});
    let created = store
        .propose(Command {
            at: store.clock().now(),
            ops: vec![Op::Create {
                kind: Kind::Service,
                metadata: meta.clone(),
                spec: spec(3),
                status: serde_json::Value::Null,
            }],
        })
        .await
        .expect("proposed");
    let Executed::Ok { index, ids } = created else {
        panic!("service created: {created:?}");
    };
    until("3 running tasks", || {
        let states = wanted_states(&store);
        states.len() == 3 && states.iter().all(|s| *s == TaskState::Running)
    })
    .await;
    let node_ready = store.read(|i| {
        i.find(Kind::Node, None, "node-a")
            .and_then(|n| n.status_as::<model::NodeStatus>().ok())
            .is_some_and(|s| s.state == model::NodeState::Ready && s.hostname == "node-a")
    });
    assert!(
        node_ready,
        "the dispatcher's heartbeat marks the node ready"
    );

    let version = store.read(|i| i.get(Kind::Service, &ids[0]).map(|r| r.version));
    assert!(version >= Some(index));
    store
        .propose(Command {
            at: store.clock().now(),
            ops: vec![Op::Update {
                kind: Kind::Service,
                id: ids[0].clone(),
                expected_version: version.expect("version"),
                metadata: meta,
                spec: spec(1),
            }],
        })
        .await
        .expect("scaled");
    until("1 running task, the others shut down", || {
        let states = wanted_states(&store);
        states == vec![TaskState::Running]
    })
    .await;

    running.stop().await;
    store.shutdown().await.expect("clean shutdown");
}

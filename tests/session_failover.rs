//! Sessions follow the Raft leader: a follower refuses a session and names the leader; an
//! agent whose manager dies finds the new leader among the managers it learned, and its tasks
//! run on throughout (its assignments are never emptied by the failover).

mod session_support;

use model::{NodeState, NodeStatus};
use serde_json::Value;
use session_support::*;
use swarm::dispatcher::session;
use swarm::peer::Caller;
use swarm::pki::{PeerIdentity, Role};
use wire::{OpenSession, SESSION_VERSION, SessionOpened};

/// Three managers, manager 1 leading.
async fn three(dirs: &[tempfile::TempDir; 3], cut: &Cut) -> Vec<Manager> {
    let mut managers = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        managers.push(Manager::start(dir.path(), i as u64 + 1, cut).await);
    }
    let leader = &managers[0].store;
    leader.initialize_single().await.expect("initialize");
    leader.wait_leader(DEADLINE).await.expect("leader");
    for manager in &managers[1..] {
        leader
            .add_voter(manager.store.node_id(), manager.addr.clone())
            .await
            .expect("add voter");
    }
    managers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_refuses_a_session_and_names_the_leader() {
    let dirs = [(); 3].map(|_| tempfile::tempdir().expect("tempdir"));
    let cut = Cut::default();
    let managers = three(&dirs, &cut).await;
    let open = OpenSession {
        version: SESSION_VERSION,
        node_name: "w1".into(),
        advertise_addr: None,
        description: NodeStatus::default(),
    };
    let response = reqwest::Client::new()
        .post(format!("{}/v1/session/open", managers[1].url))
        .header("x-test-node-id", "id-w1")
        .json(&open)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 503);
    let body: Value = response.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "not_leader");
    assert_eq!(
        body["error"]["details"]["leader"],
        managers[0].addr.as_str()
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&managers[0].addr), "{message}");

    // Without an identity (not through the mTLS listener) nothing is served.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/session/open", managers[0].url))
        .json(&open)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 403);

    // Through the node-to-node listener the identity comes as its `Caller` extension.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let caller = Caller(Some(PeerIdentity {
        node_id: "id-w1".into(),
        role: Role::Worker,
        cluster_id: "test-cluster".into(),
    }));
    let app = session::routes(managers[0].sessions.clone()).layer(axum::Extension(caller));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let opened: SessionOpened = reqwest::Client::new()
        .post(format!("http://{addr}/v1/session/open"))
        .json(&open)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("opened");
    assert_eq!(managers[0].node("w1").expect("w1").0.id, opened.node_id);
    assert_eq!(opened.managers.addrs.len(), 3);
    server.abort();
    for manager in managers {
        manager.kill().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_moves_to_the_new_leader_when_its_manager_dies() {
    let dirs = [(); 3].map(|_| tempfile::tempdir().expect("tempdir"));
    let cut = Cut::default();
    let mut managers = three(&dirs, &cut).await;
    // The agent knows only manager 2 (a follower): it is sent to the leader, and learns all.
    let w1 = RemoteAgent::start("w1", vec![managers[1].url.clone()]);
    eventually("w1 holds a session with the leader", || {
        managers[0].sessions.len() == 1
    })
    .await;
    managers[0].apply("shop", &stack(2)).await;
    eventually("two tasks running on w1", || {
        managers[0].running_on("w1").len() == 2
    })
    .await;
    let mut running = managers[0].running_on("w1");
    running.sort();

    // Watch the agent's set through the failover: it must never lose a task.
    let mut watched = w1.assignments.clone();
    let expected = running.clone();
    let watcher = tokio::spawn(async move {
        while watched.changed().await.is_ok() {
            let count = watched.borrow_and_update().tasks.len();
            assert!(
                count >= expected.len(),
                "the assignments shrank to {count} tasks"
            );
        }
    });

    managers.remove(0).kill().await;
    eventually("a survivor leads", || {
        managers.iter().any(|m| m.store.is_leader())
    })
    .await;
    let leader = managers
        .iter()
        .position(|m| m.store.is_leader())
        .expect("a leader");
    eventually("w1 holds a session with the new leader", || {
        managers[leader].sessions.len() == 1
    })
    .await;
    assert_eq!(managers[leader].node_state("w1"), Some(NodeState::Ready));

    // Assignments now flow from the new leader: a third replica reaches w1.
    managers[leader].apply("shop", &stack(3)).await;
    eventually("three tasks running on w1", || {
        managers[leader].running_on("w1").len() == 3
    })
    .await;
    let mut containers = w1.containers();
    containers.sort();
    assert_eq!(containers.len(), 3);
    for task in &running {
        assert!(
            containers.contains(task),
            "{task} kept running through the failover"
        );
    }
    // The new leader gave w1 a full grace from its election: it never went down, while w1
    // went on beating for longer than that grace.
    let w1_id = managers[leader].node("w1").expect("w1").0.id;
    let since = tokio::time::Instant::now();
    eventually("w1 beating past the grace", || {
        managers[leader]
            .sessions
            .heartbeats()
            .last(&w1_id)
            .is_some_and(|at| at >= since + HEARTBEAT * 4)
    })
    .await;
    assert_eq!(managers[leader].node_state("w1"), Some(NodeState::Ready));

    watcher.abort();
    w1.stop().await;
    for manager in managers {
        manager.kill().await;
    }
}

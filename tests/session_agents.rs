//! Remote agents over the session protocol (plain HTTP on loopback, the identity layer stood
//! in for): tasks reach a worker and come back running; a silent worker goes down within its
//! grace and its tasks are replaced elsewhere; when it comes back, the replaced tasks leave it;
//! an agent that loses every manager keeps its tasks. Real time, with 250 ms heartbeats.

mod session_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use model::{NodeRole, NodeSpec, NodeState, TaskState};
use session_support::*;
// The clock the manager's heartbeat registry stamps beats with.
use tokio::time::Instant as HeartbeatClock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_agent_runs_its_tasks_and_reports_them_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = Cut::default();
    let manager = Manager::single(dir.path(), &cut).await;
    let w1 = RemoteAgent::start("w1", vec![manager.url.clone()]);
    eventually("w1 is ready", || {
        manager.node_state("w1") == Some(NodeState::Ready)
    })
    .await;
    let (record, status) = manager.node("w1").expect("w1 registered");
    assert_eq!(
        status.node_id, "id-w1",
        "keyed by the certificate's node id"
    );
    let spec: NodeSpec = record.spec_as().expect("spec");
    assert_eq!(spec.role, NodeRole::Worker, "the certificate's role");

    manager.apply("shop", &stack(2)).await;
    eventually("two tasks running on w1", || {
        manager.running_on("w1").len() == 2
    })
    .await;
    let mut running = manager.running_on("w1");
    let mut containers = w1.containers();
    running.sort();
    containers.sort();
    assert_eq!(containers, running);

    // Heartbeats stay in memory: over several periods the node record is not written.
    let (before, _) = manager.node("w1").expect("w1");
    let (id, version) = (before.id.clone(), before.version);
    let since = HeartbeatClock::now();
    eventually("four more heartbeat periods of beats", || {
        manager
            .sessions
            .heartbeats()
            .last(&id)
            .is_some_and(|at| at >= since + HEARTBEAT * 4)
    })
    .await;
    let (record, status) = manager.node("w1").expect("w1");
    assert_eq!(status.state, NodeState::Ready);
    assert_eq!(record.version, version, "no Raft write per heartbeat");
    assert!(manager.sessions.heartbeats().last(&record.id).is_some());

    w1.stop().await;
    manager.kill().await;
}

/// Slot → running task ids, over the whole cluster.
fn running_per_slot(manager: &Manager) -> HashMap<u64, Vec<String>> {
    let mut slots: HashMap<u64, Vec<String>> = HashMap::new();
    for (record, status) in manager.tasks() {
        if status.state == TaskState::Running {
            let slot = record.spec["slot"].as_u64().expect("a replica slot");
            slots.entry(slot).or_default().push(record.id);
        }
    }
    slots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_worker_goes_down_its_tasks_move_and_it_drops_them_when_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = Cut::default();
    let manager = Manager::single(dir.path(), &cut).await;
    let w1 = RemoteAgent::start("w1", vec![manager.url.clone()]);
    let w2 = RemoteAgent::start("w2", vec![manager.url.clone()]);
    eventually("both workers ready", || {
        manager.node_state("w1") == Some(NodeState::Ready)
            && manager.node_state("w2") == Some(NodeState::Ready)
    })
    .await;
    manager.apply("shop", &stack(4)).await;
    eventually("four tasks running on both workers", || {
        !manager.running_on("w1").is_empty()
            && manager.running_on("w1").len() + manager.running_on("w2").len() == 4
    })
    .await;
    let moved = manager.running_on("w1");

    // w1 is cut off from the managers: it is down within its grace (3 periods), its tasks are
    // orphaned and their slots filled on w2.
    cut.cut("id-w1");
    let cut_at = Instant::now();
    eventually("w1 is down", || {
        manager.node_state("w1") == Some(NodeState::Down)
    })
    .await;
    let silent = cut_at.elapsed();
    assert!(
        silent < HEARTBEAT * 3 + Duration::from_secs(2),
        "down after {silent:?}"
    );
    let (_, status) = manager.node("w1").expect("w1");
    let message = status.message.unwrap_or_default();
    assert!(
        message.starts_with("heartbeat missed: no session for"),
        "{message}"
    );
    eventually("w1's tasks replaced on w2", || {
        manager.running_on("w2").len() == 4
    })
    .await;
    for (record, status) in manager.tasks() {
        if moved.contains(&record.id) {
            assert_eq!(status.state, TaskState::Orphaned, "{}", record.id);
        }
    }
    // Cut off, w1 keeps running what it was last told.
    for task in &moved {
        assert!(w1.containers().contains(task), "{task} still runs on w1");
    }

    // Healed: w1 is ready again, and the tasks the cluster replaced leave it.
    cut.heal("id-w1");
    eventually("w1 is ready again", || {
        manager.node_state("w1") == Some(NodeState::Ready)
    })
    .await;
    eventually("w1 removed the replaced tasks' containers", || {
        let containers = w1.containers();
        let assigned = w1.assigned();
        moved
            .iter()
            .all(|task| !containers.contains(task) && !assigned.contains(task))
    })
    .await;
    let slots = running_per_slot(&manager);
    assert_eq!(slots.len(), 4, "{slots:?}");
    assert!(slots.values().all(|tasks| tasks.len() == 1), "{slots:?}");

    w1.stop().await;
    w2.stop().await;
    manager.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_loses_every_manager_keeps_its_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = Cut::default();
    let manager = Manager::single(dir.path(), &cut).await;
    let w1 = RemoteAgent::start("w1", vec![manager.url.clone()]);
    eventually("w1 is ready", || {
        manager.node_state("w1") == Some(NodeState::Ready)
    })
    .await;
    manager.apply("shop", &stack(2)).await;
    eventually("two tasks running on w1", || {
        manager.running_on("w1").len() == 2
    })
    .await;
    let mut running = manager.running_on("w1");
    running.sort();

    manager.kill().await;
    // Several failed reconnections later, nothing on the node changed.
    tokio::time::sleep(HEARTBEAT * 6).await;
    let mut assigned = w1.assigned();
    assigned.sort();
    assert_eq!(assigned, running, "the last assignments are kept");
    let mut containers = w1.containers();
    containers.sort();
    assert_eq!(containers, running, "the tasks keep running");
    w1.stop().await;
}

//! Node liveness and in-memory heartbeats on a real store: a ready node silent for three
//! heartbeat periods goes down with one write, a beating one stays ready (real time, short
//! periods); the local dispatcher with a heartbeat registry marks its node ready once and then
//! beats in memory (frozen time).

#[path = "api_support/mod.rs"]
mod api_support;

use std::time::Duration;

use api_support::{Server, paused};
use model::{Kind, NodeState, NodeStatus, Timestamp};
use swarm::clock::Clock;
use swarm::dispatcher::{Dispatcher, DispatcherConfig, Heartbeats, liveness};
use tokio::sync::{mpsc, oneshot, watch};

const ORIGIN: Timestamp = Timestamp(1_700_000_000_000);
const PERIOD: Duration = Duration::from_secs(5);

fn status(server: &Server, node: &str) -> NodeStatus {
    server
        .get(Kind::Node, node)
        .status_as()
        .expect("node status")
}

/// Real time: short periods (the store's commits do not run on frozen time everywhere).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_goes_down_after_its_grace_and_a_beating_one_stays_ready() {
    let period = Duration::from_millis(200);
    let grace = period * liveness::GRACE_PERIODS;
    let server = Server::start_on(Clock::system()).await;
    let quiet = api_support::seed::node(&server, "quiet").await;
    let beating = api_support::seed::node(&server, "beating").await;
    let heartbeats = Heartbeats::default();
    let (stop, stopped) = watch::channel(false);
    let until = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let running = tokio::spawn(liveness::run(
        server.store.clone(),
        heartbeats.clone(),
        period,
        until(stopped.clone()),
    ));
    let beats = tokio::spawn({
        let heartbeats = heartbeats.clone();
        let beating = beating.clone();
        async move {
            let mut every = tokio::time::interval(period / 4);
            loop {
                every.tick().await;
                heartbeats.beat(&beating);
            }
        }
    });
    let started = std::time::Instant::now();

    let deadline = started + api_support::DEADLINE;
    while status(&server, &quiet).state != NodeState::Down {
        assert!(
            std::time::Instant::now() < deadline,
            "the quiet node never went down"
        );
        tokio::time::sleep(period / 10).await;
    }
    let silent = started.elapsed();
    assert!(
        silent > grace,
        "down after {silent:?}, before its grace ({grace:?})"
    );
    let down = status(&server, &quiet);
    let message = down.message.unwrap_or_default();
    assert!(
        message.starts_with("heartbeat missed: no session for"),
        "{message}"
    );
    // The controllers count their own grace from the last heartbeat: at least the grace ago.
    let record = server.get(Kind::Node, &quiet);
    let last = down.last_heartbeat.expect("last heartbeat");
    let grace_ms = i64::try_from(grace.as_millis()).expect("ms");
    assert!(
        record.updated_at.0 - last.0 >= grace_ms,
        "{last:?} vs {:?}",
        record.updated_at
    );
    assert_eq!(status(&server, &beating).state, NodeState::Ready);

    beats.abort();
    let _ = stop.send(true);
    running.await.expect("liveness stops");
    server.stop().await;
}

#[tokio::test]
async fn the_local_dispatcher_marks_its_node_ready_once_then_beats_in_memory() {
    let server = Server::start_on(Clock::tokio(ORIGIN)).await;
    let node = api_support::seed::node(&server, "box").await;
    server
        .set_status(Kind::Node, &node, serde_json::json!({"state": "unknown"}))
        .await;
    let _frozen = paused::freeze();
    let heartbeats = Heartbeats::default();
    let described = NodeStatus {
        hostname: "box".into(),
        ..NodeStatus::default()
    };
    let dispatcher = Dispatcher::new(
        server.store.clone(),
        node.clone(),
        Some(described),
        DispatcherConfig {
            heartbeat: PERIOD,
            ..DispatcherConfig::default()
        },
    )
    .with_heartbeats(heartbeats.clone());
    let (publish, _assignments) = watch::channel(dispatcher.assignments());
    let (_reports, reports) = mpsc::channel(16);
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(dispatcher.run(publish, reports, async {
        let _ = stopped.await;
    }));

    paused::advance_past(Duration::ZERO).await;
    paused::until_commit(&server.store, "the node ready", || {
        (status(&server, &node).state == NodeState::Ready).then_some(())
    })
    .await;
    let version = server.get(Kind::Node, &node).version;
    let first = heartbeats.last(&node).expect("a beat in memory");
    for _ in 0..3 {
        paused::advance_past(PERIOD).await;
    }
    // Let the dispatcher run its due beats (they write nothing, so no commit to wait for).
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(
        heartbeats.last(&node).expect("beats") > first,
        "beats go on in memory"
    );
    assert_eq!(
        server.get(Kind::Node, &node).version,
        version,
        "no Raft write per heartbeat"
    );

    let _ = stop.send(());
    running.await.expect("dispatcher stops");
    server.stop().await;
}

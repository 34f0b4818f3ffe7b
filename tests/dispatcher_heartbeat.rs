//! The dispatcher's heartbeat on a real store, on frozen time: the node's status is written at
//! start and every heartbeat period after, stamped with the store's clock, in no real time.

#[path = "api_support/mod.rs"]
mod api_support;

use std::time::Duration;

use api_support::{Server, paused};
use model::{Kind, NodeState, NodeStatus, Timestamp};
use swarm::clock::Clock;
use swarm::dispatcher::{Dispatcher, DispatcherConfig};
use tokio::sync::{mpsc, oneshot, watch};

/// The node's last heartbeat once it is at least `after`.
async fn heartbeat(server: &Server, node: &str, after: Timestamp) -> Timestamp {
    paused::until_commit(&server.store, "a heartbeat", || {
        let status = server
            .get(Kind::Node, node)
            .status_as::<NodeStatus>()
            .ok()?;
        assert_eq!(status.state, NodeState::Ready);
        status.last_heartbeat.filter(|at| *at >= after)
    })
    .await
}

#[tokio::test]
async fn the_node_status_is_refreshed_every_heartbeat_period() {
    let clock = Clock::tokio(Timestamp(1_700_000_000_000));
    let server = Server::start_on(clock).await;
    let node = api_support::seed::node(&server, "box").await;
    let _frozen = paused::freeze();
    let config = DispatcherConfig::default();
    let period = config.heartbeat;
    let described = NodeStatus {
        hostname: "box".into(),
        ..NodeStatus::default()
    };
    let dispatcher = Dispatcher::new(server.store.clone(), node.clone(), Some(described), config);
    let (publish, _assignments) = watch::channel(dispatcher.assignments());
    let (_reports, reports) = mpsc::channel(16);
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(dispatcher.run(publish, reports, async {
        let _ = stopped.await;
    }));

    // The first heartbeat is due at once.
    let start = clock.now();
    paused::advance_past(Duration::ZERO).await;
    let first = heartbeat(&server, &node, start).await;
    assert!(first.0 - start.0 <= 1, "{first:?} at start {start:?}");

    // Nothing more before the period has passed (no timer is due)...
    paused::advance_past(period - Duration::from_millis(10)).await;
    assert_eq!(heartbeat(&server, &node, first).await, first);
    // ...and the next one at the period.
    paused::advance_past(Duration::from_millis(10)).await;
    let second = heartbeat(&server, &node, Timestamp(first.0 + 1)).await;
    let gap = second.0 - first.0;
    let ms = |d: Duration| i64::try_from(d.as_millis()).expect("ms");
    assert!(
        (ms(period)..=ms(period) + 2).contains(&gap),
        "{gap} ms between heartbeats, every {period:?} expected"
    );

    let _ = stop.send(());
    running.await.expect("dispatcher stops");
    server.stop().await;
}

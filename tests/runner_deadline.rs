//! The controller runner on a real store: a restart held by its delay is released at the
//! deadline the controllers report, not at the next poll.

#[path = "api_support/mod.rs"]
mod api_support;

use std::time::Duration;

use api_support::{DEADLINE, Server};
use model::{Kind, TaskState, TaskStatus};
use serde_json::json;
use swarm::runtime::{Runner, RunnerConfig};
use tokio::sync::oneshot;

/// The slot-1 task of the service that is not `except`, once the controllers wrote `state`.
async fn wait_task(
    server: &Server,
    except: Option<&str>,
    state: TaskState,
) -> (String, TaskStatus) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let found = server.store.read(|index| {
            index
                .records()
                .into_iter()
                .filter(|r| r.kind == Kind::Task && Some(r.id.as_str()) != except)
                .find_map(|r| {
                    let status: TaskStatus = serde_json::from_value(r.status.clone()).ok()?;
                    (status.state == state).then(|| (r.id.clone(), status))
                })
        });
        if let Some(found) = found {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "no {state:?} task");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_restart_is_placed_at_its_release_time() {
    let server = Server::start().await;
    api_support::seed::node(&server, "box").await;
    server
        .create(
            Kind::Service,
            "app",
            Some("st"),
            json!({"image": "busybox", "deploy": {"restart_policy": {"delay": "1500ms"}}}),
            json!(null),
        )
        .await;
    // Polling only every 30 s: a release on time can only come from the reported deadline.
    let config = RunnerConfig {
        resync: Duration::from_secs(30),
        ..RunnerConfig::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let runner = tokio::spawn(Runner::new(server.store.clone(), config).run(async {
        let _ = stopped.await;
    }));

    let (first, status) = wait_task(&server, None, TaskState::Assigned).await;
    let failed = TaskStatus {
        state: TaskState::Failed,
        exit_code: Some(137),
        timestamp: server.store.clock().now(),
        ..status
    };
    server
        .set_status(
            Kind::Task,
            &first,
            serde_json::to_value(&failed).expect("json"),
        )
        .await;
    let (held, status) = wait_task(&server, Some(&first), TaskState::Pending).await;
    let release = status.timestamp;
    assert!(
        release.0 >= failed.timestamp.0 + 1_500,
        "held for the delay: {status:?}"
    );
    let (placed, _) = wait_task(&server, Some(&first), TaskState::Assigned).await;
    let at = server.store.clock().now();
    assert_eq!(placed, held);
    let late = at.0 - release.0;
    assert!(
        (0..300).contains(&late),
        "placed {late} ms after its release time {release:?} (at {at:?})"
    );
    let _ = stop.send(());
    runner.await.expect("runner stops");
    server.stop().await;
}

//! The controller runner on a real store: a restart held by its delay is released at the
//! deadline the controllers report, not at the next poll. On frozen time: the delay costs no
//! real time, and the pass that releases the task runs at exactly its release time.

#[path = "api_support/mod.rs"]
mod api_support;

use std::time::Duration;

use api_support::{Server, paused};
use model::{Kind, TaskState, TaskStatus, Timestamp};
use serde_json::json;
use swarm::clock::Clock;
use swarm::runtime::{Runner, RunnerConfig};
use tokio::sync::oneshot;

/// The slot-1 task of the service that is not `except`, once the controllers wrote `state`.
async fn wait_task(
    server: &Server,
    except: Option<&str>,
    state: TaskState,
) -> (String, TaskStatus) {
    paused::until_commit(&server.store, &format!("a {state:?} task"), || {
        server.store.read(|index| {
            index
                .records()
                .into_iter()
                .filter(|r| r.kind == Kind::Task && Some(r.id.as_str()) != except)
                .find_map(|r| {
                    let status: TaskStatus = serde_json::from_value(r.status.clone()).ok()?;
                    (status.state == state).then(|| (r.id.clone(), status))
                })
        })
    })
    .await
}

#[tokio::test]
async fn a_held_restart_is_placed_at_its_release_time() {
    let clock = Clock::tokio(Timestamp(1_700_000_000_000));
    let server = Server::start_on(clock).await;
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
    let _frozen = paused::freeze();
    // Polling only every 30 s: a release on time can only come from the reported deadline.
    let config = RunnerConfig {
        resync: Duration::from_secs(30),
        ..RunnerConfig::default()
    };
    let debounce = config.debounce;
    let (stop, stopped) = oneshot::channel::<()>();
    let runner = tokio::spawn(Runner::new(server.store.clone(), config).run(async {
        let _ = stopped.await;
    }));

    // The first pass is due at once.
    paused::advance_past(Duration::ZERO).await;
    let (first, status) = wait_task(&server, None, TaskState::Assigned).await;
    let failed = TaskStatus {
        state: TaskState::Failed,
        exit_code: Some(137),
        timestamp: clock.now(),
        ..status
    };
    server
        .set_status(
            Kind::Task,
            &first,
            serde_json::to_value(&failed).expect("json"),
        )
        .await;
    // The runner passes one debounce after it sees the commit.
    paused::advance_past(debounce).await;
    let (held, status) = wait_task(&server, Some(&first), TaskState::Pending).await;
    let release = status.timestamp;
    assert!(
        release.0 >= failed.timestamp.0 + 1_500,
        "held for the delay: {status:?}"
    );

    // Just short of the release time: the pass the runner's own commit asked for runs then and
    // finds the task still held...
    let left = u64::try_from(release.0 - clock.now().0).expect("release ahead");
    paused::advance_past(Duration::from_millis(left - 2)).await;
    // ...so only the deadline the controllers reported can wake the runner at the release time
    // (its resync is 30 s away).
    paused::advance_past(Duration::from_millis(1)).await;
    let (placed, status) = wait_task(&server, Some(&first), TaskState::Assigned).await;
    assert_eq!(placed, held);
    let late = status.timestamp.0 - release.0;
    assert!(
        (0..=1).contains(&late),
        "placed {late} ms after its release time {release:?}"
    );
    let _ = stop.send(());
    runner.await.expect("runner stops");
    server.stop().await;
}

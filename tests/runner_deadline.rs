//! The controller runner on a real store: a restart held (or prepared) through its delay is
//! released (started) at the deadline the controllers report, not at the next poll.

#[path = "api_support/mod.rs"]
mod api_support;

use std::time::Duration;

use api_support::{DEADLINE, Server};
use model::{Kind, TaskSpec, TaskState, TaskStatus, Timestamp};
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

/// The spec of task `id`.
fn task_spec(server: &Server, id: &str) -> TaskSpec {
    let spec = server.store.read(|index| {
        let record = index.records().into_iter().find(|r| r.id == id);
        record.map(|r| r.spec.clone())
    });
    serde_json::from_value(spec.expect("the task")).expect("a task spec")
}

/// A server with one node, a service whose restart delay is 1.5 s and a runner that polls only
/// every 30 s (a restart on time can only come from the reported deadline); its first task
/// failed now, after running if `ran`. The server, the failed task's id and status, and the
/// runner's stop signal and handle.
async fn first_task_failed(
    ran: bool,
) -> (
    Server,
    String,
    TaskStatus,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
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
    let config = RunnerConfig {
        resync: Duration::from_secs(30),
        ..RunnerConfig::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let runner = tokio::spawn(Runner::new(server.store.clone(), config).run(async {
        let _ = stopped.await;
    }));

    let (first, status) = wait_task(&server, None, TaskState::Assigned).await;
    let now = swarm::apply::now();
    let failed = TaskStatus {
        state: TaskState::Failed,
        exit_code: Some(137),
        timestamp: now,
        started_at: ran.then_some(Timestamp(now.0 - 10_000)),
        ..status
    };
    server
        .set_status(
            Kind::Task,
            &first,
            serde_json::to_value(&failed).expect("json"),
        )
        .await;
    (server, first, failed, stop, runner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_restart_is_placed_at_its_release_time() {
    // A task that never ran: its replacement is held unplaced until the delay is over.
    let (server, first, failed, stop, runner) = first_task_failed(false).await;
    let (held, status) = wait_task(&server, Some(&first), TaskState::Pending).await;
    let release = status.timestamp;
    assert!(
        release.0 >= failed.timestamp.0 + 1_500,
        "held for the delay: {status:?}"
    );
    let (placed, _) = wait_task(&server, Some(&first), TaskState::Assigned).await;
    let at = swarm::apply::now();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepared_restart_is_started_at_its_start_time() {
    // A task that ran: its replacement is placed at once, wanting READY until `start_at`.
    let (server, first, failed, stop, runner) = first_task_failed(true).await;
    let (prepared, _) = wait_task(&server, Some(&first), TaskState::Assigned).await;
    let seen = swarm::apply::now();
    let spec = task_spec(&server, &prepared);
    assert_eq!(spec.desired_state, TaskState::Ready);
    let start_at = spec.start_at.expect("a start time");
    assert!(
        (failed.timestamp.0 + 1_500..=seen.0 + 1_500).contains(&start_at.0),
        "the delay from the failure: {start_at:?} after a failure at {:?}",
        failed.timestamp
    );
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while task_spec(&server, &prepared).desired_state != TaskState::Running {
        assert!(tokio::time::Instant::now() < deadline, "never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at = swarm::apply::now();
    let late = at.0 - start_at.0;
    assert!(
        (0..300).contains(&late),
        "started {late} ms after its start time {start_at:?} (at {at:?})"
    );
    let _ = stop.send(());
    runner.await.expect("runner stops");
    server.stop().await;
}

//! The controller runner on a real store: a restart held (or prepared) through its delay is
//! released (started) at the deadline the controllers report, not at the next poll. On frozen
//! time: the delay costs no real time, and the pass that acts runs at exactly its deadline.

#[path = "api_support/mod.rs"]
mod api_support;

use std::time::Duration;

use api_support::{Server, paused};
use model::{Kind, TaskSpec, TaskState, TaskStatus, Timestamp};
use serde_json::json;
use swarm::clock::Clock;
use swarm::reconcile::{Runner, RunnerConfig};
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

/// The spec of task `id`.
fn task_spec(server: &Server, id: &str) -> TaskSpec {
    let spec = server.store.read(|index| {
        let record = index.records().into_iter().find(|r| r.id == id);
        record.map(|r| r.spec.clone())
    });
    serde_json::from_value(spec.expect("the task")).expect("a task spec")
}

/// A server on frozen time with one node, a service whose restart delay is 1.5 s and a runner
/// that polls only every 30 s (a pass on time can only come from the reported deadline).
struct Failed {
    server: Server,
    clock: Clock,
    first: String,
    failed: TaskStatus,
    stop: oneshot::Sender<()>,
    runner: tokio::task::JoinHandle<()>,
    _frozen: paused::Frozen,
}

impl Failed {
    /// The service's first task failed now, after running if `ran`; the runner has seen it.
    async fn start(ran: bool) -> Failed {
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
        let frozen = paused::freeze();
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
        let now = clock.now();
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
        // The runner passes one debounce after it sees the commit.
        paused::advance_past(debounce).await;
        Failed {
            server,
            clock,
            first,
            failed,
            stop,
            runner,
            _frozen: frozen,
        }
    }

    /// Moves time to just short of `at` (the pass the runner's own commit asked for runs then
    /// and finds nothing to do yet), then to `at`: only the deadline the controllers reported
    /// can wake the runner there, its resync being 30 s away.
    async fn advance_to(&self, at: Timestamp) {
        let left = u64::try_from(at.0 - self.clock.now().0).expect("deadline ahead");
        paused::advance_past(Duration::from_millis(left - 2)).await;
        paused::advance_past(Duration::from_millis(1)).await;
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.runner.await.expect("runner stops");
        self.server.stop().await;
    }
}

#[tokio::test]
async fn a_held_restart_is_placed_at_its_release_time() {
    // A task that never ran: its replacement is held unplaced until the delay is over.
    let t = Failed::start(false).await;
    let (held, status) = wait_task(&t.server, Some(&t.first), TaskState::Pending).await;
    let release = status.timestamp;
    assert!(
        release.0 >= t.failed.timestamp.0 + 1_500,
        "held for the delay: {status:?}"
    );
    t.advance_to(release).await;
    let (placed, status) = wait_task(&t.server, Some(&t.first), TaskState::Assigned).await;
    assert_eq!(placed, held);
    let late = status.timestamp.0 - release.0;
    assert!(
        (0..=1).contains(&late),
        "placed {late} ms after its release time {release:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_prepared_restart_is_started_at_its_start_time() {
    // A task that ran: its replacement is placed at once, wanting READY until `start_at`.
    let t = Failed::start(true).await;
    let (prepared, _) = wait_task(&t.server, Some(&t.first), TaskState::Assigned).await;
    let spec = task_spec(&t.server, &prepared);
    assert_eq!(spec.desired_state, TaskState::Ready);
    let start_at = spec.start_at.expect("a start time");
    assert_eq!(
        start_at.0,
        t.failed.timestamp.0 + 1_500,
        "the delay counts from the failure"
    );
    t.advance_to(start_at).await;
    paused::until_commit(&t.server.store, "the prepared task started", || {
        (task_spec(&t.server, &prepared).desired_state == TaskState::Running).then_some(())
    })
    .await;
    let late = t.clock.now().0 - start_at.0;
    assert!(
        (0..=1).contains(&late),
        "started {late} ms after its start time {start_at:?}"
    );
    t.stop().await;
}

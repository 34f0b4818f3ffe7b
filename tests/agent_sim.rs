//! The agent's supervisor on the in-memory runtime: the same convergence as against Docker,
//! in milliseconds (the Docker behaviour itself is tested in agent_docker.rs). Nothing here
//! leaves the process, so the tests run on paused time: polls and deadlines cost no real time.

use std::time::Duration;

use model::{TaskState, TaskStatus, Timestamp};
use swarm::agent::runtime::HealthStatus;
use swarm::agent::{Agent, ContainerRuntime, SimRuntime};
use swarm::clock::Clock;
use tokio::sync::{mpsc, oneshot, watch};
use wire::{Assignments, TaskAssignment, TaskReport};

struct AgentRun {
    tx: watch::Sender<Assignments>,
    rx: mpsc::Receiver<Vec<TaskReport>>,
    seen: Vec<TaskReport>,
    stop: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<()>,
}

/// An agent on `sim` whose clock reads `origin` now and moves with tokio's (paused) clock.
fn start(sim: &SimRuntime, tasks: Vec<TaskAssignment>, origin: Timestamp) -> AgentRun {
    let agent = Agent::new(sim.clone(), "n1".into())
        .with_ingress(None)
        .with_poll_period(Duration::from_millis(50))
        .with_clock(Clock::tokio(origin));
    let tasks = tasks.into_iter().map(std::sync::Arc::new).collect();
    let (tx, assignments) = watch::channel(Assignments { index: 1, tasks });
    let (report_tx, rx) = mpsc::channel(16);
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(agent.run(assignments, report_tx, async {
        let _ = stopped.await;
    }));
    AgentRun {
        tx,
        rx,
        seen: Vec::new(),
        stop,
        handle,
    }
}

impl AgentRun {
    async fn wait(&mut self, task: &str, want: impl Fn(&TaskStatus) -> bool) -> TaskStatus {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(r) = self
                .seen
                .iter()
                .find(|r| r.task_id == task && want(&r.status))
            {
                return r.status.clone();
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(batch)) => self.seen.extend(batch),
                _ => panic!("no matching report for {task}: {:#?}", self.seen),
            }
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.handle.await.expect("agent stops cleanly");
    }
}

const ORIGIN: Timestamp = Timestamp(1_700_000_000_000);

#[tokio::test(start_paused = true)]
async fn converges_reports_and_cleans_up_on_the_simulator() {
    let sim = SimRuntime::new().with_images(["img"]);
    let a = TaskAssignment::test("a", "web", "img");
    let b = TaskAssignment::test("b", "web", "img").slot(2);
    let missing = TaskAssignment::test("m", "other", "nope");
    let mut run = start(&sim, vec![a.clone(), b.clone(), missing.clone()], ORIGIN);
    run.wait("a", |s| s.state == TaskState::Running).await;
    run.wait("b", |s| s.state == TaskState::Running).await;
    let failed = run.wait("m", |s| s.state == TaskState::Failed).await;
    assert!(
        failed
            .error
            .unwrap_or_default()
            .contains("is not on this node")
    );

    sim.exit("a", 2);
    let failed = run.wait("a", |s| s.state == TaskState::Failed).await;
    assert_eq!(failed.exit_code, Some(2));
    sim.set_health("b", HealthStatus::Unhealthy);
    run.wait("b", |s| s.state == TaskState::Failed).await;

    // Unassigned tasks lose their containers.
    run.tx.send_modify(|x| x.tasks.clear());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !sim.containers().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            sim.containers()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_agent_adopts_and_sweeps() {
    let sim = SimRuntime::new();
    let keep = TaskAssignment::test("keep", "web", "img");
    let drop = TaskAssignment::test("drop", "web", "img").slot(2);
    let mut run = start(&sim, vec![keep.clone(), drop.clone()], ORIGIN);
    let first = run.wait("keep", |s| s.state == TaskState::Running).await;
    run.wait("drop", |s| s.state == TaskState::Running).await;
    run.stop().await;

    let mut recorded = keep.clone();
    recorded.status = first.clone();
    let run = start(&sim, vec![recorded], ORIGIN);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.container_of("drop").is_some() {
        assert!(tokio::time::Instant::now() < deadline, "orphan not swept");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kept = sim.container_of("keep").expect("kept container");
    assert_eq!(Some(kept.id), first.container_id, "adopted, not recreated");
    run.tx.send_modify(|x| x.index += 1);
    run.stop().await;
    let node = swarm::agent::describe_node(&sim).await.expect("describe");
    assert_eq!(node.resources.nano_cpus, 4_000_000_000);
    assert!(
        sim.list("n1")
            .await
            .expect("list")
            .iter()
            .all(|c| c.task_id == "keep")
    );
}

#[tokio::test(start_paused = true)]
async fn reports_are_stamped_with_the_agents_clock() {
    let sim = SimRuntime::new().with_images(["img"]);
    let task = TaskAssignment::test("a", "web", "img");
    let mut run = start(&sim, vec![task], ORIGIN);
    let running = run.wait("a", |s| s.state == TaskState::Running).await;
    let started = running.timestamp.0 - ORIGIN.0;
    assert!(
        (0..1_000).contains(&started),
        "running {started} ms after the agent started, on its clock"
    );
    assert_eq!(running.started_at, Some(running.timestamp));

    // An hour passes (in no real time), then the container dies.
    tokio::time::advance(Duration::from_secs(3_600)).await;
    sim.exit("a", 2);
    let failed = run.wait("a", |s| s.state == TaskState::Failed).await;
    let lived = failed.timestamp.0 - running.timestamp.0;
    assert!(
        (3_600_000..3_601_000).contains(&lived),
        "failed {lived} ms after it started running"
    );
    run.stop().await;
}

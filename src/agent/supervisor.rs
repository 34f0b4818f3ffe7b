//! The agent's main loop: one worker per assigned task, Docker events routed to the workers,
//! containers of unassigned tasks removed, status changes reported in batches.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tracing::Instrument;
use wire::{Assignments, TaskAssignment, TaskReport};

use super::error::RuntimeError;
use super::ingress::{self, Backends};
use super::runtime::{ContainerRuntime, RuntimeEvent};
use super::worker::{self, Shared};
use crate::clock::Clock;

/// How often the agent compares the engine's containers with its assignments.
const SWEEP_PERIOD: Duration = Duration::from_secs(10);
/// Pause before following the engine's events again after the stream broke.
const EVENTS_RETRY: Duration = Duration::from_secs(1);

/// Runs one node's tasks.
pub struct Agent<R: ContainerRuntime> {
    runtime: Arc<R>,
    node_id: String,
    ingress: Option<IpAddr>,
    poll: Duration,
    clock: Clock,
}

struct WorkerHandle {
    assignment: watch::Sender<Option<Arc<TaskAssignment>>>,
    wake: Arc<Notify>,
}

impl<R: ContainerRuntime> Agent<R> {
    /// An agent for node `node_id` on `runtime`, serving the routing mesh on `0.0.0.0`.
    pub fn new(runtime: R, node_id: String) -> Self {
        Agent {
            runtime: Arc::new(runtime),
            node_id,
            ingress: Some(IpAddr::from([0, 0, 0, 0])),
            poll: Duration::from_secs(2),
            clock: Clock::system(),
        }
    }

    /// Serves the routing mesh on `ip`, or not at all (`None`: several agents in one process).
    pub fn with_ingress(mut self, ip: Option<IpAddr>) -> Self {
        self.ingress = ip;
        self
    }

    /// Stamps the task reports with `clock` (the system's by default).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How often a task's container is re-inspected when no event arrives.
    pub fn with_poll_period(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Runs until shutdown: converges to the latest assignments, reports status changes in batches.
    pub async fn run(
        self,
        mut assignments: watch::Receiver<Assignments>,
        reports: mpsc::Sender<Vec<TaskReport>>,
        shutdown: impl Future<Output = ()> + Send,
    ) {
        let span = tracing::info_span!("agent", node.id = %self.node_id);
        let (report_tx, report_rx) = mpsc::unbounded_channel();
        let batcher = tokio::spawn(batch_reports(report_rx, reports).instrument(span.clone()));
        let (backends, backends_rx) = watch::channel(Backends::new());
        let mesh = self
            .ingress
            .map(|ip| tokio::spawn(ingress::serve(backends_rx, ip).instrument(span.clone())));
        let shared = Arc::new(Shared {
            runtime: self.runtime.clone(),
            node_id: self.node_id.clone(),
            reports: report_tx,
            backends,
            poll: self.poll,
            clock: self.clock,
        });
        let mut state = State {
            shared,
            workers: HashMap::new(),
            joins: JoinSet::new(),
            removing: Arc::default(),
        };
        async {
            tracing::info!("agent started");
            let mut events = state.shared.runtime.events(&self.node_id);
            let mut events_retry: Option<tokio::time::Instant> = None;
            let mut sweep = tokio::time::interval(SWEEP_PERIOD);
            let mut manager_gone = false;
            tokio::pin!(shutdown);
            state.sync(&assignments.borrow_and_update());
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    changed = assignments.changed(), if !manager_gone => match changed {
                        Ok(()) => state.sync(&assignments.borrow_and_update()),
                        // Keep running what runs; a new session brings a new agent.
                        Err(_) => manager_gone = true,
                    },
                    event = events.next() => match event {
                        Some(Ok(event)) => state.route(&event),
                        other => {
                            if let Some(Err(e)) = other {
                                tracing::warn!(error = %e, "docker events failed; following them again shortly");
                            }
                            events = stream::pending().boxed();
                            events_retry = Some(tokio::time::Instant::now() + EVENTS_RETRY);
                        }
                    },
                    () = retry(events_retry) => {
                        events = state.shared.runtime.events(&self.node_id);
                        events_retry = None;
                        // Events were missed meanwhile: everyone looks again.
                        state.workers.values().for_each(|w| w.wake.notify_one());
                    },
                    Some(_) = state.joins.join_next() => {
                        state.workers.retain(|_, w| !w.assignment.is_closed());
                        state.sync(&assignments.borrow());
                    },
                    _ = sweep.tick() => {
                        state.sync(&assignments.borrow());
                        state.sweep().await;
                    },
                }
            }
            tracing::info!("agent stopping; containers keep running and are adopted on restart");
        }
        .instrument(span)
        .await;
        // Workers stop mid-action; the next agent resumes from what the engine shows.
        state.joins.shutdown().await;
        let State { shared, .. } = state;
        drop(shared);
        let _ = batcher.await;
        if let Some(mesh) = mesh {
            mesh.abort();
        }
    }
}

struct State<R: ContainerRuntime> {
    shared: Arc<Shared<R>>,
    workers: HashMap<String, WorkerHandle>,
    joins: JoinSet<String>,
    /// Containers of unassigned tasks being removed (so a sweep does not start twice).
    removing: Arc<Mutex<HashSet<String>>>,
}

impl<R: ContainerRuntime> State<R> {
    /// Starts workers for new tasks, hands changed tasks to theirs, tells the others to go.
    fn sync(&mut self, assignments: &Assignments) {
        let assigned: HashSet<&str> = assignments
            .tasks
            .iter()
            .map(|t| t.task_id.as_str())
            .collect();
        for (task_id, w) in &self.workers {
            if !assigned.contains(task_id.as_str()) {
                w.assignment.send_if_modified(|a| a.take().is_some());
            }
        }
        for task in &assignments.tasks {
            if let Some(w) = self.workers.get(&task.task_id) {
                w.assignment.send_if_modified(|a| {
                    let changed = a.as_ref() != Some(task);
                    if changed {
                        *a = Some(task.clone());
                    }
                    changed
                });
                continue;
            }
            let (tx, rx) = watch::channel(Some(task.clone()));
            let wake = Arc::new(Notify::new());
            let span = tracing::info_span!(
                "task",
                task.id = %task.task_id,
                service.id = %task.service_id,
                node.id = %self.shared.node_id,
            );
            self.joins.spawn(
                worker::run(self.shared.clone(), rx, wake.clone(), task.task_id.clone())
                    .instrument(span),
            );
            self.workers.insert(
                task.task_id.clone(),
                WorkerHandle {
                    assignment: tx,
                    wake,
                },
            );
        }
    }

    /// Wakes the worker of the event's task; a container no worker owns is swept.
    fn route(&mut self, event: &RuntimeEvent) {
        match self.workers.get(&event.task_id) {
            Some(w) => w.wake.notify_one(),
            None => {
                tracing::debug!(task.id = %event.task_id, kind = ?event.kind, "event for an unassigned task")
            }
        }
    }

    /// Removes the containers of tasks this node does not run (any more).
    async fn sweep(&mut self) {
        let containers = match self.shared.runtime.list(&self.shared.node_id).await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list containers");
                return;
            }
        };
        for c in containers {
            if self.workers.contains_key(&c.task_id) {
                continue;
            }
            let fresh = self
                .removing
                .lock()
                .map(|mut r| r.insert(c.id.clone()))
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            // Only the runtime: holding the reports channel would delay the agent's shutdown.
            let runtime = self.shared.runtime.clone();
            let removing = self.removing.clone();
            let span =
                tracing::info_span!("task", task.id = %c.task_id, node.id = %self.shared.node_id);
            tokio::spawn(
                async move {
                    tracing::info!(container = %c.id, "removing the container of an unassigned task");
                    if let Err(e) = remove_orphan(&*runtime, &c.id, &c.task_id, c.running).await {
                        tracing::warn!(error = %e, "removing the container failed; retried at the next sweep");
                    }
                    if let Ok(mut r) = removing.lock() {
                        r.remove(&c.id);
                    }
                }
                .instrument(span),
            );
        }
    }
}

async fn remove_orphan<R: ContainerRuntime>(
    runtime: &R,
    id: &str,
    task_id: &str,
    running: bool,
) -> Result<(), RuntimeError> {
    if running {
        // Its spec is unknown now: the engine applies the stop signal and timeout it was created with.
        runtime.stop(id, None, None).await?;
    }
    runtime.remove(id).await?;
    runtime.release(task_id).await
}

async fn retry(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Forwards reports as soon as they come, every transition in the order it happened (the
/// manager keeps the history `service ps` shows); what piles up while a send waits goes out as
/// one batch. The dispatcher folds bursts into one command, so a report never waits here.
async fn batch_reports(
    mut rx: mpsc::UnboundedReceiver<TaskReport>,
    out: mpsc::Sender<Vec<TaskReport>>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(report) = rx.try_recv() {
            batch.push(report);
        }
        if out.send(batch).await.is_err() {
            tracing::debug!("nobody takes status reports any more");
        }
    }
}

//! The dispatcher: the manager's side of the manager/agent contract, per node.
//!
//! For each node it serves (only the local one today) it publishes the node's
//! [`Assignments`] on a `watch` channel after every commit, folds the
//! agent's [`TaskReport`]s into one command per window, and writes the
//! node's status (ready, description, last heartbeat) at start and on every heartbeat.

pub mod assignments;
pub mod status;

use std::time::Duration;

use model::{Kind, NodeState, NodeStatus};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, debug, info_span, warn};
use wire::{Assignments, TaskReport};

use crate::store::{Command, Event, Executed, Op, Store};

/// Timing of one node's dispatcher.
#[derive(Clone, Debug)]
pub struct DispatcherConfig {
    /// Reports received within this window after the first one are written as one command.
    pub window: Duration,
    /// How often the node's status is refreshed (its heartbeat).
    pub heartbeat: Duration,
    /// Wait after a commit before recomputing assignments, so a burst costs one computation.
    /// Never less than the last computation took: a big node spends at most half its time
    /// publishing.
    pub debounce: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> DispatcherConfig {
        DispatcherConfig {
            window: Duration::from_millis(20),
            heartbeat: Duration::from_secs(5),
            debounce: Duration::from_millis(10),
        }
    }
}

/// One node's dispatcher.
pub struct Dispatcher {
    store: Store,
    /// The Node record id tasks are assigned to.
    node_id: String,
    /// What the node looks like (from its runtime); `None`: no agent, so no heartbeat either,
    /// and the scheduler does not count on the node.
    node: Option<NodeStatus>,
    config: DispatcherConfig,
}

impl Dispatcher {
    /// A dispatcher for the node `node_id`, described by `node` when an agent runs on it.
    pub fn new(
        store: Store,
        node_id: String,
        node: Option<NodeStatus>,
        config: DispatcherConfig,
    ) -> Dispatcher {
        Dispatcher {
            store,
            node_id,
            node,
            config,
        }
    }

    /// The current assignments of the node (to seed the channel before the agent starts).
    pub fn assignments(&self) -> Assignments {
        self.store
            .read(|index| assignments::compute(index, &self.node_id))
    }

    /// Runs until `shutdown`; then writes the reports still pending and returns.
    pub async fn run(
        self,
        publish: watch::Sender<Assignments>,
        mut reports: mpsc::Receiver<Vec<TaskReport>>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let span = info_span!("dispatcher", node.id = %self.node_id);
        async move {
            let mut events = self.store.subscribe();
            tokio::pin!(shutdown);
            let mut pending = status::ReportBatch::default();
            let mut reports_open = true;
            let mut publish_due = Some(Instant::now());
            let mut window_end: Option<Instant> = None;
            let mut heartbeat_due = self.node.as_ref().map(|_| Instant::now());
            let mut cache = assignments::Cache::default();
            let mut gap = self.config.debounce;
            loop {
                let wake = [publish_due, window_end, heartbeat_due]
                    .into_iter()
                    .flatten()
                    .min();
                let sleep = async {
                    match wake {
                        Some(at) => sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = &mut shutdown => break,
                    event = events.recv() => match event {
                        Ok(Event::Commit { .. }) | Err(RecvError::Lagged(_)) => {
                            publish_due.get_or_insert_with(|| Instant::now() + gap);
                        }
                        Ok(_) => {}
                        Err(RecvError::Closed) => break,
                    },
                    batch = reports.recv(), if reports_open => match batch {
                        Some(batch) => {
                            pending.add(batch);
                            window_end.get_or_insert_with(|| Instant::now() + self.config.window);
                        }
                        // The agent stopped; nothing more will come.
                        None => reports_open = false,
                    },
                    () = sleep => {
                        let now = Instant::now();
                        if publish_due.is_some_and(|due| due <= now) {
                            publish_due = None;
                            self.publish(&publish, &mut cache);
                            gap = self.config.debounce.max(now.elapsed());
                        }
                        if window_end.is_some_and(|end| end <= now) {
                            window_end = (!self.write_reports(&mut pending).await)
                                .then(|| Instant::now() + self.config.window);
                        }
                        if heartbeat_due.is_some_and(|due| due <= now) {
                            self.heartbeat().await;
                            heartbeat_due = Some(Instant::now() + self.config.heartbeat);
                        }
                    }
                }
            }
            // Drain what the agent said before it stopped, so a restart starts from it.
            while let Ok(batch) = reports.try_recv() {
                pending.add(batch);
            }
            for _ in 0..3 {
                if self.write_reports(&mut pending).await {
                    break;
                }
            }
        }
        .instrument(span)
        .await;
    }

    fn publish(&self, publish: &watch::Sender<Assignments>, cache: &mut assignments::Cache) {
        let (applied, changed) = self
            .store
            .read(|index| (index.last_executed(), cache.update(index, &self.node_id)));
        if !changed {
            publish.send_if_modified(|current| {
                current.index = applied;
                false
            });
            return;
        }
        let next = cache.assignments(applied);
        // The agent is woken only when its task set changed, not on every commit.
        publish.send_if_modified(|current| {
            let changed = current.tasks != next.tasks;
            *current = next;
            changed
        });
    }

    /// Writes the pending reports as one command; false when it must be tried again.
    async fn write_reports(&self, pending: &mut status::ReportBatch) -> bool {
        if pending.is_empty() {
            return true;
        }
        let at = self.store.clock().now();
        let Some(command) = self.store.read(|index| pending.command(index, at)) else {
            pending.clear();
            return true;
        };
        let reports = pending.len();
        match self.store.propose(command).await {
            Ok(Executed::Ok { index, .. }) => {
                debug!(raft.index = index, reports, "task status written");
                pending.clear();
                true
            }
            Ok(Executed::Rejected(rejection)) => {
                debug!(%rejection, "task status raced another writer; folding again");
                false
            }
            Err(err) => {
                warn!(%err, reports, "cannot write task status; retrying");
                false
            }
        }
    }

    async fn heartbeat(&self) {
        let Some(description) = &self.node else {
            return;
        };
        let now = self.store.clock().now();
        let status = NodeStatus {
            state: NodeState::Ready,
            last_heartbeat: Some(now),
            message: None,
            ..description.clone()
        };
        let Ok(status) = serde_json::to_value(status) else {
            return;
        };
        let command = Command {
            at: now,
            ops: vec![Op::SetStatus {
                kind: Kind::Node,
                id: self.node_id.clone(),
                expected_version: None,
                status,
            }],
        };
        match self.store.propose(command).await {
            Ok(Executed::Ok { .. }) => {}
            Ok(Executed::Rejected(rejection)) => warn!(%rejection, "heartbeat refused"),
            Err(err) => warn!(%err, "cannot write the heartbeat; retrying"),
        }
    }
}

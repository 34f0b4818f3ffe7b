//! The dispatcher: the manager's side of the manager/agent contract, per node.
//!
//! Two ways in share the same parts: the local [`Dispatcher`] hands a manager's own agent its
//! [`Assignments`] on a `watch` channel and takes its [`TaskReport`]s from an `mpsc` channel;
//! [`session`] serves agents on other hosts over HTTP. Both follow the store with
//! [`feed::AssignmentFeed`], fold reports into one command per window
//! ([`status::ReportBatch`]), mark the node ready with one write ([`register`]) and keep
//! heartbeats in memory ([`Heartbeats`]); [`liveness`] marks silent nodes down on the leader.

pub mod assignments;
pub mod feed;
mod heartbeats;
pub mod liveness;
pub mod register;
pub mod session;
pub mod status;

use std::time::Duration;

use model::NodeStatus;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, info_span, warn};
use wire::{Assignments, TaskReport};

pub use heartbeats::Heartbeats;

use crate::store::Store;

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
    /// Where heartbeats go: `None` writes the node's status through Raft every period (a
    /// single node with no liveness loop); `Some` keeps them in memory for [`liveness`].
    heartbeats: Option<Heartbeats>,
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
            heartbeats: None,
        }
    }

    /// Keeps the node's heartbeats in `heartbeats` (the manager's registry, which
    /// [`liveness::run`] reads) instead of writing one Raft entry per beat; the node is marked
    /// ready once, at start.
    pub fn with_heartbeats(mut self, heartbeats: Heartbeats) -> Dispatcher {
        self.heartbeats = Some(heartbeats);
        self
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
            let mut feed = feed::AssignmentFeed::new(
                self.store.clone(),
                self.node_id.clone(),
                self.config.debounce,
            );
            publish_full(&publish, feed.full());
            tokio::pin!(shutdown);
            let mut pending = status::ReportBatch::default();
            let mut reports_open = true;
            let mut window_end: Option<Instant> = None;
            let mut heartbeat_due = self.node.as_ref().map(|_| Instant::now());
            let mut ready_written = false;
            loop {
                let wake = [window_end, heartbeat_due].into_iter().flatten().min();
                let sleep = async {
                    match wake {
                        Some(at) => sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = &mut shutdown => break,
                    changes = feed.next_changes() => match changes {
                        Some(changes) if feed::is_empty(&changes) => {
                            publish.send_if_modified(|current| {
                                current.index = changes.index;
                                false
                            });
                        }
                        Some(_) => publish_full(&publish, feed.full()),
                        None => break,
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
                        if window_end.is_some_and(|end| end <= now) {
                            window_end = (!status::write(&self.store, &mut pending).await)
                                .then(|| Instant::now() + self.config.window);
                        }
                        if heartbeat_due.is_some_and(|due| due <= now) {
                            ready_written = self.heartbeat(ready_written).await;
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
                if status::write(&self.store, &mut pending).await {
                    break;
                }
            }
        }
        .instrument(span)
        .await;
    }

    /// One beat; returns whether the node's ready status is written.
    async fn heartbeat(&self, ready_written: bool) -> bool {
        let Some(description) = &self.node else {
            return ready_written;
        };
        if let Some(heartbeats) = &self.heartbeats {
            heartbeats.beat(&self.node_id);
            if ready_written {
                return true;
            }
        }
        match register::mark_ready(&self.store, &self.node_id, description).await {
            Ok(()) => true,
            Err(err) => {
                warn!(%err, "cannot write the node's status; retrying at the next heartbeat");
                false
            }
        }
    }
}

/// Publishes a new set; the agent is woken only when its task set changed, not on every commit.
fn publish_full(publish: &watch::Sender<Assignments>, next: Assignments) {
    publish.send_if_modified(|current| {
        let changed = current.tasks != next.tasks;
        *current = next;
        changed
    });
}

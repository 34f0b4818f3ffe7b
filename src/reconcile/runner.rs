//! The runner loop: when to run a reconcile pass, and what to do with its outcome.

use std::collections::BTreeSet;
use std::time::Duration;

use controllers::Settings;
use model::Kind;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, debug, info_span, warn};

use super::executor::ExecError;
use super::schedule::{Ended, Schedule};
use super::{Snapshot, command_for};
use crate::store::{Command, Event, Executed, Store};

/// How often the runner reconciles.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Wait after the first commit of a burst before a pass, so a burst costs one pass. Never
    /// less than the last pass took: a big cluster spends at most half its time deciding.
    pub debounce: Duration,
    /// Pass again this long after a pass that could not be written, or while not the leader.
    pub retry: Duration,
    /// Pass at least this often even with nothing due: a safety net, since passes are driven by
    /// commits and by the controllers' own deadlines.
    pub resync: Duration,
    /// The controllers' knobs (task history, how long a down node keeps its tasks).
    pub settings: Settings,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            debounce: Duration::from_millis(10),
            retry: Duration::from_secs(1),
            resync: Duration::from_secs(30),
            settings: Settings::default(),
        }
    }
}

/// Runs the controllers on the leader until shut down.
pub struct Runner {
    store: Store,
    config: RunnerConfig,
    /// Unreadable records already warned about (so later passes do not repeat the warning).
    warned: BTreeSet<(Kind, String)>,
    /// The last pass's snapshot: the next one decodes only what changed since.
    last: Snapshot,
}

/// What one pass did.
#[derive(Debug, PartialEq, Eq)]
pub enum PassOutcome {
    /// Nothing to change.
    Idle,
    /// Not the leader: followers only serve reads.
    NotLeader,
    /// The command was committed at this index.
    Committed(u64),
    /// The store refused the command (a stale version): decide again.
    Rejected,
    /// Nothing could be written (no leader, storage error, a controller panicked or decided
    /// something unwritable): retry shortly.
    Failed,
}

/// One pass's outcome and when the controllers want the next one without a commit.
#[derive(Debug, PartialEq, Eq)]
pub struct PassReport {
    pub outcome: PassOutcome,
    /// How long after the pass read its clock the next pass is due (a restart delay ending...).
    pub requeue_after: Option<Duration>,
}

impl Runner {
    /// A runner over `store`.
    pub fn new(store: Store, config: RunnerConfig) -> Runner {
        Runner {
            store,
            config,
            warned: BTreeSet::new(),
            last: Snapshot::default(),
        }
    }

    /// Loops until `shutdown` resolves: a pass after each burst of commits and at the
    /// controllers' next deadline (see [`Schedule`]).
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let mut events = self.store.subscribe();
        tokio::pin!(shutdown);
        let mut schedule = Schedule::new(self.config.clone(), Instant::now());
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                event = events.recv() => match event {
                    Ok(Event::Commit { .. }) | Err(RecvError::Lagged(_)) => {
                        schedule.committed(Instant::now());
                    }
                    Ok(_) => {}
                    Err(RecvError::Closed) => return,
                },
                () = sleep_until(schedule.wake()) => {
                    let started = Instant::now();
                    let report = self.pass().await;
                    let ended = match report.outcome {
                        PassOutcome::Idle | PassOutcome::Committed(_) => Ended::Done,
                        PassOutcome::Rejected => Ended::Rejected,
                        PassOutcome::NotLeader | PassOutcome::Failed => Ended::Retry,
                    };
                    schedule.passed(started, Instant::now(), ended, report.requeue_after);
                }
            }
        }
    }

    /// One reconcile pass: snapshot, decide, write one command.
    pub async fn pass(&mut self) -> PassReport {
        // Followers only serve reads; two deciders would fight over every task.
        if !self.store.is_leader() {
            return PassReport {
                outcome: PassOutcome::NotLeader,
                requeue_after: None,
            };
        }
        let previous = std::mem::take(&mut self.last);
        let changes = self.store.read(|index| Snapshot::changes(index, &previous));
        let snapshot = previous.updated(changes);
        self.warn_unreadable(&snapshot);
        let now = self.store.clock().now();
        let span = info_span!(
            "reconcile",
            raft.index = snapshot.index,
            ops = tracing::field::Empty
        );
        // Controllers are pure but may be CPU-heavy on big clusters: keep them off the async
        // workers.
        let settings = self.config.settings;
        let decided = tokio::task::spawn_blocking(move || {
            let pass = controllers::reconcile_pass(&snapshot.view, now, &settings);
            let requeue_after = pass.requeue_at.map(|at| {
                Duration::from_millis(u64::try_from(at.0.saturating_sub(now.0)).unwrap_or(0))
            });
            let command = command_for(pass.actions, &snapshot, now);
            (command, requeue_after, snapshot)
        })
        .await;
        let (command, requeue_after) = match decided {
            Ok((command, requeue_after, snapshot)) => {
                self.last = snapshot;
                (command, requeue_after)
            }
            Err(err) => {
                warn!(%err, "a controller panicked; retrying shortly");
                return PassReport {
                    outcome: PassOutcome::Failed,
                    requeue_after: None,
                };
            }
        };
        let outcome = self.write(command).instrument(span).await;
        PassReport {
            outcome,
            requeue_after,
        }
    }

    /// Proposes the pass's command, if it has one.
    async fn write(&self, command: Result<Option<Command>, ExecError>) -> PassOutcome {
        let command = match command {
            Ok(Some(command)) => command,
            Ok(None) => return PassOutcome::Idle,
            Err(err) => {
                warn!(%err, "controllers decided something that cannot be written");
                return PassOutcome::Failed;
            }
        };
        tracing::Span::current().record("ops", command.ops.len());
        match self.store.propose(command).await {
            Ok(Executed::Ok { index, .. }) => {
                debug!(raft.index = index, "controllers' changes committed");
                PassOutcome::Committed(index)
            }
            Ok(Executed::Rejected(rejection)) => {
                debug!(%rejection, "stale decision refused; deciding again");
                PassOutcome::Rejected
            }
            Err(err) => {
                warn!(%err, "cannot write the controllers' changes; retrying shortly");
                PassOutcome::Failed
            }
        }
    }

    fn warn_unreadable(&mut self, snapshot: &Snapshot) {
        for (kind, id, err) in &snapshot.unreadable {
            if self.warned.insert((*kind, id.clone())) {
                warn!(kind = %kind, object.id = %id, %err, "object left out of reconciliation");
            }
        }
    }
}

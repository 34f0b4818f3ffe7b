//! The runner loop: when to run a reconcile pass, and what to do with its outcome.

use std::collections::BTreeSet;
use std::time::Duration;

use model::Kind;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, debug, info_span, warn};

use super::{Snapshot, command_for};
use crate::store::{Applied, Event, Store};

/// How often the runner reconciles.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Wait after the first commit of a burst before a pass, so a burst costs one pass. Never
    /// less than the last pass took: a big cluster spends at most half its time deciding.
    pub debounce: Duration,
    /// Pass at least this often, for policies that depend on time alone.
    pub tick: Duration,
}

impl Default for RunnerConfig {
    fn default() -> RunnerConfig {
        RunnerConfig {
            debounce: Duration::from_millis(10),
            tick: Duration::from_secs(1),
        }
    }
}

/// Runs the controllers on the leader until shut down.
pub struct Runner {
    store: Store,
    config: RunnerConfig,
    /// Unreadable records already warned about (so the tick does not repeat the warning).
    warned: BTreeSet<(Kind, String)>,
}

/// What one pass did.
#[derive(Debug, PartialEq, Eq)]
pub enum PassOutcome {
    /// Nothing to change (or not the leader).
    Idle,
    /// The command was committed at this index.
    Committed(u64),
    /// The store refused the command (a stale version): decide again.
    Rejected,
    /// The store could not take it (no leader, storage error): retry on the next tick.
    Failed,
}

impl Runner {
    /// A runner over `store`.
    pub fn new(store: Store, config: RunnerConfig) -> Runner {
        Runner {
            store,
            config,
            warned: BTreeSet::new(),
        }
    }

    /// Loops until `shutdown` resolves: a pass after each burst of commits and every tick.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let mut events = self.store.subscribe();
        tokio::pin!(shutdown);
        // Start with a pass: the store may hold work from before a restart.
        let mut due = Some(Instant::now());
        let mut next_tick = Instant::now() + self.config.tick;
        let mut gap = self.config.debounce;
        loop {
            let wake = due.map_or(next_tick, |due| due.min(next_tick));
            tokio::select! {
                () = &mut shutdown => return,
                event = events.recv() => match event {
                    Ok(Event::Commit { .. }) | Err(RecvError::Lagged(_)) => {
                        // Not sliding: a steady stream of commits still gets regular passes.
                        due.get_or_insert_with(|| Instant::now() + gap);
                    }
                    Ok(_) => {}
                    Err(RecvError::Closed) => return,
                },
                () = sleep_until(wake) => {
                    due = None;
                    let started = Instant::now();
                    let outcome = self.pass().await;
                    gap = self.config.debounce.max(started.elapsed());
                    next_tick = Instant::now() + self.config.tick;
                    if outcome == PassOutcome::Rejected {
                        due = Some(Instant::now() + gap);
                    }
                }
            }
        }
    }

    /// One reconcile pass: snapshot, decide, write one command.
    pub async fn pass(&mut self) -> PassOutcome {
        // Followers only serve reads; two deciders would fight over every task.
        if !self.store.is_leader() {
            return PassOutcome::Idle;
        }
        let (applied, records) = self
            .store
            .read(|index| (index.applied(), Snapshot::records(index)));
        let snapshot = Snapshot::from_records(applied, records);
        self.warn_unreadable(&snapshot);
        let now = crate::apply::now();
        let span = info_span!(
            "reconcile",
            raft.index = snapshot.index,
            ops = tracing::field::Empty
        );
        async {
            // Controllers are pure but may be CPU-heavy on big clusters: keep them off the
            // async workers.
            let decided = tokio::task::spawn_blocking(move || {
                let actions = controllers::reconcile_all(&snapshot.view, now);
                command_for(actions, &snapshot, now)
            })
            .await;
            let command = match decided {
                Ok(Ok(Some(command))) => command,
                Ok(Ok(None)) => return PassOutcome::Idle,
                Ok(Err(err)) => {
                    warn!(%err, "controllers decided something that cannot be written");
                    return PassOutcome::Idle;
                }
                Err(err) => {
                    warn!(%err, "a controller panicked; retrying on the next tick");
                    return PassOutcome::Idle;
                }
            };
            tracing::Span::current().record("ops", command.ops.len());
            match self.store.propose(command).await {
                Ok(Applied::Ok { index, .. }) => {
                    debug!(raft.index = index, "controllers' changes committed");
                    PassOutcome::Committed(index)
                }
                Ok(Applied::Rejected(rejection)) => {
                    debug!(%rejection, "stale decision refused; deciding again");
                    PassOutcome::Rejected
                }
                Err(err) => {
                    warn!(%err, "cannot write the controllers' changes; retrying on the next tick");
                    PassOutcome::Failed
                }
            }
        }
        .instrument(span)
        .await
    }

    fn warn_unreadable(&mut self, snapshot: &Snapshot) {
        for (kind, id, err) in &snapshot.unreadable {
            if self.warned.insert((*kind, id.clone())) {
                warn!(kind = %kind, object.id = %id, %err, "object left out of reconciliation");
            }
        }
    }
}

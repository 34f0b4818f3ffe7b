//! One node's assignments following the store: recomputed after commits, a burst of commits
//! costing one computation. Both the local dispatcher and a network session read it.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, sleep_until};
use wire::{AssignmentChanges, Assignments};

use super::assignments::Cache;
use crate::store::{Event, Store};

/// A node's assignments as the store changes.
pub struct AssignmentFeed {
    store: Store,
    node_id: String,
    events: broadcast::Receiver<Event>,
    cache: Cache,
    applied: u64,
    debounce: Duration,
    /// Wait after a commit before computing: never less than the last computation took, so
    /// a big node spends at most half its time on its assignments.
    gap: Duration,
    due: Option<Instant>,
}

impl AssignmentFeed {
    /// Follows node `node_id` (a Node record id) from now on; `debounce`: wait after a commit.
    pub fn new(store: Store, node_id: String, debounce: Duration) -> AssignmentFeed {
        // Subscribed before the first computation, so no commit falls between the two.
        let events = store.subscribe();
        let mut feed = AssignmentFeed {
            store,
            node_id,
            events,
            cache: Cache::default(),
            applied: 0,
            debounce,
            gap: debounce,
            due: None,
        };
        feed.compute();
        feed.cache.take_changes(feed.applied);
        feed
    }

    /// The node's whole set as last computed.
    pub fn full(&self) -> Assignments {
        self.cache.assignments(self.applied)
    }

    /// Waits for commits, then returns what they changed (possibly nothing but the index);
    /// `None` once the store has closed. Cancel-safe: a wait cut short resumes where it was.
    pub async fn next_changes(&mut self) -> Option<AssignmentChanges> {
        loop {
            match self.due {
                None => match self.events.recv().await {
                    Ok(Event::Commit { .. }) | Err(RecvError::Lagged(_)) => {
                        self.due = Some(Instant::now() + self.gap);
                    }
                    Ok(_) => {}
                    Err(RecvError::Closed) => return None,
                },
                Some(at) => {
                    sleep_until(at).await;
                    self.due = None;
                    let started = Instant::now();
                    self.compute();
                    self.gap = self.debounce.max(started.elapsed());
                    return Some(self.cache.take_changes(self.applied));
                }
            }
        }
    }

    fn compute(&mut self) {
        let (applied, _) = self.store.read(|index| {
            (
                index.last_executed(),
                self.cache.update(index, &self.node_id),
            )
        });
        self.applied = applied;
    }
}

/// Whether a change holds anything for the agent (not just a newer index).
pub fn is_empty(changes: &AssignmentChanges) -> bool {
    changes.upsert.is_empty() && changes.remove.is_empty()
}

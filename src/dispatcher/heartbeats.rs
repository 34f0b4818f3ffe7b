//! When each node's agent was last heard from: kept in the manager's memory, never written
//! through Raft per beat (issue 10 §5). The liveness loop reads it on the leader.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

/// Last heartbeat per Node record id; cheap to clone, shared by the sessions, the local
/// dispatcher and the liveness loop of one manager.
#[derive(Clone, Debug, Default)]
pub struct Heartbeats {
    last: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Heartbeats {
    /// Records that node `node_id` was heard from now.
    pub fn beat(&self, node_id: &str) {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match last.get_mut(node_id) {
            Some(at) => *at = now,
            None => {
                last.insert(node_id.to_owned(), now);
            }
        }
    }

    /// When node `node_id` was last heard from by this manager.
    pub fn last(&self, node_id: &str) -> Option<Instant> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.get(node_id).copied()
    }

    /// How many nodes were heard from.
    pub fn len(&self) -> usize {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no node was heard from.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

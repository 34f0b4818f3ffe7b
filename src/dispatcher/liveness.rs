//! Node liveness (issue 10 §5): on the Raft leader, a ready node whose agent has been silent
//! for longer than the grace (3 heartbeat periods) becomes `down`, with one Raft write. The
//! controllers then orphan its tasks and fill their slots elsewhere (`node_drain`). Heartbeats
//! come from the manager's memory ([`Heartbeats`]); a manager that has just become leader has
//! heard from nobody yet, so every node gets a full grace from that moment.

use std::future::Future;
use std::time::Duration;

use model::{Kind, NodeState, NodeStatus, Timestamp};
use tokio::time::Instant;
use tracing::{info, warn};

use super::Heartbeats;
use crate::store::{Command, Executed, Op, Store};

/// Missed periods after which a node is down.
pub const GRACE_PERIODS: u32 = 3;

/// Runs on every manager until `shutdown`; acts only while this manager leads. `period` is the
/// heartbeat period agents were told.
pub async fn run(
    store: Store,
    heartbeats: Heartbeats,
    period: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // Checked twice a period: a node is down at most half a period after its grace ran out.
    let mut tick = tokio::time::interval(period / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut leader_since: Option<Instant> = None;
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        if !store.is_leader() {
            leader_since = None;
            continue;
        }
        let since = *leader_since.get_or_insert_with(Instant::now);
        for (id, version, status, silent) in
            silent_nodes(&store, &heartbeats, since, period * GRACE_PERIODS)
        {
            mark_down(&store, &id, version, status, silent).await;
        }
    }
}

/// Ready nodes silent for longer than `grace` (counted from `since` at the earliest): id,
/// record version, status, and how long they have been silent.
fn silent_nodes(
    store: &Store,
    heartbeats: &Heartbeats,
    since: Instant,
    grace: Duration,
) -> Vec<(String, u64, NodeStatus, Duration)> {
    let now = Instant::now();
    store.read(|index| {
        index
            .list(Kind::Node)
            .into_iter()
            .filter_map(|record| {
                let status: NodeStatus = record.status_as().ok()?;
                if status.state != NodeState::Ready {
                    return None;
                }
                let last = heartbeats
                    .last(&record.id)
                    .map_or(since, |at| at.max(since));
                let silent = now.saturating_duration_since(last);
                (silent > grace).then(|| (record.id.clone(), record.version, status, silent))
            })
            .collect()
    })
}

/// One write: the node is down, its last heartbeat when this leader last heard from it (the
/// controllers count their own grace before orphaning its tasks from there).
async fn mark_down(store: &Store, id: &str, version: u64, status: NodeStatus, silent: Duration) {
    let now = store.clock().now();
    let silent_ms = i64::try_from(silent.as_millis()).unwrap_or(i64::MAX);
    let status = NodeStatus {
        state: NodeState::Down,
        last_heartbeat: Some(Timestamp(now.0.saturating_sub(silent_ms))),
        message: Some(format!(
            "heartbeat missed: no session for {}s",
            silent.as_secs()
        )),
        ..status
    };
    let Ok(status) = serde_json::to_value(status) else {
        return;
    };
    // Compare-and-set: a session opened meanwhile (ready again) wins.
    let op = Op::SetStatus {
        kind: Kind::Node,
        id: id.to_owned(),
        expected_version: Some(version),
        status,
    };
    match store
        .propose(Command {
            at: now,
            ops: vec![op],
        })
        .await
    {
        Ok(Executed::Ok { index, .. }) => {
            info!(node.id = %id, raft.index = index, silent_s = silent.as_secs(), "node down: heartbeat missed");
        }
        Ok(Executed::Rejected(rejection)) => {
            info!(node.id = %id, %rejection, "node changed while being marked down; checking again");
        }
        Err(err) => warn!(node.id = %id, %err, "cannot mark the node down; retrying"),
    }
}

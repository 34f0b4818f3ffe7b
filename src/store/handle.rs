//! The store handle: the one way in (`propose`) and out (`read`, `subscribe`) of the replicated
//! store. It owns the manager's SQLite database and its openraft node.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::future::BoxFuture;
use openraft::error::{ChangeMembershipError, ClientWriteError, Fatal, InitializeError, RaftError};
use openraft::metrics::WaitError;
use openraft::{BasicNode, ChangeMembers, ServerState};
use serde_json::json;
use tokio::sync::broadcast;
use tracing::instrument;

use super::{Command, Event, Executed, Index};
use crate::clock::Clock;
use crate::raft::{self, Database, HttpNetwork, LogStore, Raft, StateMachine};

/// Events buffered per subscriber before a slow one is told it lagged.
const EVENT_CAPACITY: usize = 16 * 1024;

/// Where and as whom a manager runs its store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Directory holding `swarm.db` (created if missing).
    pub data_dir: PathBuf,
    /// This manager's Raft node id, stable across restarts.
    pub node_id: u64,
    /// `host:port` of this node's HTTP server, where peers send Raft RPCs.
    pub advertise_addr: String,
    /// The manager's clock: what its components stamp commands with.
    pub clock: Clock,
    /// The client Raft RPCs to peers go through: `Some` (the node-to-node mTLS client) dials
    /// `https://`; `None` dials plain `http://` (single-process tests).
    pub peer_http: Option<reqwest::Client>,
}

/// How a follower hands the leader what only the leader can do: a write, a membership change.
/// The node-to-node link implements it ([`crate::peer::forward`]); without one, a follower
/// answers [`StoreError::NotLeader`].
pub trait LeaderLink: Send + Sync + 'static {
    /// Proposes `command` at the leader listening at `leader` (its Raft address).
    fn propose(
        &self,
        leader: String,
        command: Command,
    ) -> BoxFuture<'static, Result<Executed, StoreError>>;
    /// Asks the leader to add manager `raft_id` (listening at `addr`) as a voter.
    fn add_manager(
        &self,
        leader: String,
        raft_id: u64,
        addr: String,
    ) -> BoxFuture<'static, Result<(), StoreError>>;
}

/// Why a store operation failed; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}", not_leader_message(*.leader_id, .leader_addr.as_deref()))]
    NotLeader {
        leader_id: Option<u64>,
        leader_addr: Option<String>,
    },
    /// The data directory or its database could not be created, opened or restored.
    #[error("store storage failed: {context}: {source}; {STORAGE_ADVICE}")]
    Storage {
        /// What was being done (`opening <path>`).
        context: String,
        /// The I/O or database error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The Raft node's storage failed (it has stopped).
    #[error("store storage failed: {0}; {STORAGE_ADVICE}")]
    RaftStorage(#[source] Box<openraft::StorageError<u64>>),
    /// The Raft node refused or could not do an operation (setup, initialize, membership).
    #[error("raft: {0}")]
    Raft(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The Raft node's task could not be joined when stopping it.
    #[error("raft: stopping the Raft node: {0}")]
    Stopping(#[source] tokio::task::JoinError),
    /// The Raft node panicked (it has stopped).
    #[error("raft: the Raft node panicked; restart the manager")]
    Panicked,
    #[error(
        "timed out after {waited:?} waiting for {what}; check that a majority of managers are running and can reach each other"
    )]
    Timeout { waited: Duration, what: String },
    #[error("the store is shut down; restart the manager")]
    ShutDown,
    /// A majority of managers cannot be reached: nothing can be written until they are back.
    #[error(
        "no quorum: {detail}; writes are refused until a majority of managers can reach each other (start the stopped managers, or `swarmd run --force-new-cluster` on a survivor)"
    )]
    NoQuorum { detail: String },
    /// The leader could not be reached over the node-to-node link.
    #[error("forwarding to the leader at {leader}: {message}")]
    Forward { leader: String, message: String },
}

/// What to do about a storage failure.
const STORAGE_ADVICE: &str =
    "check that the data directory is writable and the disk is not full, then restart the manager";

impl StoreError {
    /// A storage failure while doing `context`.
    fn storage(
        context: String,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> StoreError {
        StoreError::Storage {
            context,
            source: source.into(),
        }
    }
}

fn not_leader_message(leader_id: Option<u64>, leader_addr: Option<&str>) -> String {
    match (leader_id, leader_addr) {
        (Some(id), Some(addr)) => {
            format!(
                "this manager is not the leader; send the request to the leader, node {id} at {addr}"
            )
        }
        (Some(id), None) => {
            format!(
                "this manager is not the leader; the leader is node {id}, whose address is unknown"
            )
        }
        _ => "no leader is elected yet; retry in a moment".to_owned(),
    }
}

/// A handle to the replicated store; cheap to clone, shared by every component of a manager.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    raft: Raft,
    /// The manager's data directory (the store's database, and the certificates beside it).
    data_dir: PathBuf,
    index: Arc<RwLock<Index>>,
    events: broadcast::Sender<Event>,
    node_id: u64,
    advertise_addr: String,
    db: Database,
    clock: Clock,
    link: std::sync::OnceLock<Arc<dyn LeaderLink>>,
    peers: Arc<crate::raft::PeerHealth>,
}

/// How long adding a manager waits for other membership changes (other joins) to finish.
const MEMBERSHIP_WAIT: Duration = Duration::from_secs(30);

/// How long a write waits for a leader to be elected before answering "no quorum".
const LEADER_WAIT: Duration = Duration::from_secs(2);

/// A leader whose last acknowledgement from a majority is older than this, while connections
/// to a majority are refused, has lost its quorum (heartbeats go out every 100 ms).
const QUORUM_ACK_STALE_MS: u64 = 1_500;

/// A leader unacknowledged by a majority for this long has lost its quorum whatever the
/// reason (a partition: packets vanish, nothing is refused). Under 5 s, so a write without
/// quorum is answered within 5 s.
const QUORUM_ACK_LOST_MS: u64 = 4_000;

/// The same, for a write already in the log: a big entry on a loaded machine delays the
/// acknowledgements of its own replication, so give it longer before calling the quorum lost.
const QUORUM_ACK_LOST_IN_FLIGHT_MS: u64 = 8_000;

/// How long a forwarded write waits to be executed here after the leader committed it
/// (read-your-writes).
const CATCH_UP_WAIT: Duration = Duration::from_secs(10);

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("node_id", &self.inner.node_id)
            .field("advertise_addr", &self.inner.advertise_addr)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) `<data_dir>/swarm.db`, restores the index and starts the Raft node.
    #[instrument(skip_all, fields(node.id = config.node_id))]
    pub async fn open(config: StoreConfig) -> Result<Store, StoreError> {
        tokio::fs::create_dir_all(&config.data_dir)
            .await
            .map_err(|e| {
                StoreError::storage(format!("creating {}", config.data_dir.display()), e)
            })?;
        let path = config.data_dir.join(raft::db::DATABASE_FILE);
        let db = Database::open(&path)
            .await
            .map_err(|e| StoreError::storage(format!("opening {}", path.display()), e))?;
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let state_machine = StateMachine::open(&db, events.clone(), config.clock)
            .await
            .map_err(|e| StoreError::storage(format!("restoring {}", path.display()), e))?;
        let index = state_machine.index();
        let network = match config.peer_http {
            Some(client) => HttpNetwork::tls(client),
            None => HttpNetwork::new().map_err(|e| StoreError::Raft(e.into()))?,
        };
        let peers = network.health();
        let raft_config = raft::raft_config().map_err(|e| StoreError::Raft(e))?;
        let raft = Raft::new(
            config.node_id,
            Arc::new(raft_config),
            network,
            LogStore::new(&db),
            state_machine,
        )
        .await
        .map_err(fatal)?;
        Ok(Store {
            inner: Arc::new(Inner {
                raft,
                data_dir: config.data_dir,
                index,
                events,
                node_id: config.node_id,
                advertise_addr: config.advertise_addr,
                db,
                clock: config.clock,
                link: std::sync::OnceLock::new(),
                peers,
            }),
        })
    }

    /// The manager's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.data_dir
    }

    /// The manager's clock (see [`crate::clock`]).
    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    /// Makes this node a one-manager cluster, unless it already belongs to one.
    #[instrument(skip_all, fields(node.id = self.inner.node_id))]
    pub async fn initialize_single(&self) -> Result<(), StoreError> {
        let raft = &self.inner.raft;
        if raft.is_initialized().await.map_err(fatal)? {
            return Ok(());
        }
        let members = BTreeMap::from([(
            self.inner.node_id,
            BasicNode::new(&self.inner.advertise_addr),
        )]);
        match raft.initialize(members).await {
            // NotAllowed: initialized meanwhile (a concurrent call, or a leader reached us).
            Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => Ok(()),
            Err(RaftError::APIError(e)) => Err(StoreError::Raft(e.into())),
            Err(RaftError::Fatal(f)) => Err(fatal(f)),
        }
    }

    /// Connects this manager to the leader over the node-to-node link: from now on a follower
    /// forwards writes instead of refusing them. Set once; later calls do nothing.
    pub fn set_leader_link(&self, link: Arc<dyn LeaderLink>) {
        let _ = self.inner.link.set(link);
    }

    /// Replicates `command` as one Raft entry; returns once it is committed and executed here.
    /// A follower with a leader link forwards it to the leader and returns once it has executed
    /// it too (a manager reads its own acknowledged writes); without a link it fails with
    /// [`StoreError::NotLeader`] naming the leader.
    #[instrument(skip_all, fields(ops = command.ops.len(), raft.index))]
    pub async fn propose(&self, command: Command) -> Result<Executed, StoreError> {
        if let Some(link) = self.inner.link.get()
            && let Some(leader) = self.leader_elsewhere().await?
        {
            let executed = link.propose(leader, command).await?;
            if let Executed::Ok { index, .. } = &executed {
                tracing::Span::current().record("raft.index", index);
                self.wait_executed(*index, CATCH_UP_WAIT).await?;
            }
            return Ok(executed);
        }
        self.propose_here(command).await
    }

    /// Proposes `command` on this node's Raft (the leader's side of a forwarded write); fails
    /// with [`StoreError::NotLeader`] on a follower and [`StoreError::NoQuorum`] on a leader
    /// that lost its majority.
    pub async fn propose_here(&self, command: Command) -> Result<Executed, StoreError> {
        self.check_quorum(QUORUM_ACK_LOST_MS)?;
        let write = self.inner.raft.client_write(command);
        tokio::pin!(write);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let response = loop {
            tokio::select! {
                response = &mut write => break response.map_err(write_error)?,
                _ = tick.tick() => self.check_quorum(QUORUM_ACK_LOST_IN_FLIGHT_MS)?,
            }
        };
        tracing::Span::current().record("raft.index", response.log_id.index);
        Ok(response.data)
    }

    /// Why reads here may be stale, if they may: no leader is known, or this node leads without
    /// a majority behind it.
    pub fn quorum_problem(&self) -> Option<String> {
        let leader = self.inner.raft.metrics().borrow().current_leader;
        match leader {
            None => Some("no leader is elected".to_owned()),
            Some(_) => self
                .check_quorum(QUORUM_ACK_LOST_MS)
                .err()
                .map(|err| match err {
                    StoreError::NoQuorum { detail } => detail,
                    other => other.to_string(),
                }),
        }
    }

    /// Fails when this node leads a group of several managers, no majority acknowledged it
    /// lately, and the RPCs to enough of them fail: a write would wait forever. (A big entry
    /// slow to replicate delays acknowledgements too, but its RPCs do not fail.)
    fn check_quorum(&self, lost_after_ms: u64) -> Result<(), StoreError> {
        let metrics = self.inner.raft.metrics();
        let m = metrics.borrow();
        if m.state != ServerState::Leader {
            return Ok(());
        }
        let voters: Vec<u64> = m.membership_config.membership().voter_ids().collect();
        let stale = m
            .millis_since_quorum_ack
            .filter(|ms| *ms > QUORUM_ACK_STALE_MS);
        let Some(ms) = stale else {
            return Ok(());
        };
        let answering = voters
            .iter()
            .filter(|id| **id == m.id || !self.inner.peers.failing(**id))
            .count();
        if voters.len() > 1 && (answering * 2 <= voters.len() || ms > lost_after_ms) {
            return Err(StoreError::NoQuorum {
                detail: format!(
                    "this manager leads {} managers, {answering} of them answer, and no majority acknowledged it for {ms} ms",
                    voters.len()
                ),
            });
        }
        Ok(())
    }

    /// The leader's Raft address when the leader is another manager; `None` when this node
    /// leads. Waits up to [`LEADER_WAIT`] for an election.
    async fn leader_elsewhere(&self) -> Result<Option<String>, StoreError> {
        let me = self.inner.node_id;
        let metrics = self
            .inner
            .raft
            .wait(Some(LEADER_WAIT))
            .metrics(|m| m.current_leader.is_some(), "a Raft leader")
            .await
            .map_err(|err| match err {
                WaitError::Timeout(waited, _) => StoreError::NoQuorum {
                    detail: format!("no leader was elected within {waited:?}"),
                },
                WaitError::ShuttingDown => StoreError::ShutDown,
            })?;
        match metrics.current_leader {
            Some(leader) if leader != me => {
                let addr = metrics
                    .membership_config
                    .membership()
                    .get_node(&leader)
                    .map(|node| node.addr.clone());
                addr.map(Some).ok_or(StoreError::NotLeader {
                    leader_id: Some(leader),
                    leader_addr: None,
                })
            }
            _ => Ok(None),
        }
    }

    /// Adds manager `raft_id` (its node-to-node address `addr`) to the Raft group as a voter,
    /// at the leader wherever it is.
    pub async fn add_manager(&self, raft_id: u64, addr: String) -> Result<(), StoreError> {
        if let Some(link) = self.inner.link.get()
            && let Some(leader) = self.leader_elsewhere().await?
        {
            return link.add_manager(leader, raft_id, addr).await;
        }
        self.add_voter(raft_id, addr).await
    }

    /// Runs `f` over the in-memory index (the read path). Keep `f` short: `apply` waits for it.
    pub fn read<R>(&self, f: impl FnOnce(&Index) -> R) -> R {
        // A poisoned lock means a panic mid-apply; the Raft node has stopped by then, and the
        // index is still the best view there is, so reads keep working.
        let index = self
            .inner
            .index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&index)
    }

    /// Every change from now on, in commit order, each entry's changes followed by its Commit.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Waits until a leader is known and, when that is this node, it has applied its own log
    /// (so reads here reflect everything committed before it became leader).
    pub async fn wait_leader(&self, timeout: Duration) -> Result<(), StoreError> {
        let me = self.inner.node_id;
        self.inner
            .raft
            .wait(Some(timeout))
            .metrics(
                |m| match m.current_leader {
                    Some(leader) if leader == me => {
                        m.last_applied.map(|id| id.index) >= m.last_log_index
                    }
                    Some(_) => true,
                    None => false,
                },
                "a Raft leader",
            )
            .await
            .map(|_| ())
            .map_err(wait_error)
    }

    /// Waits until this node has executed the entry at `index` (e.g. the `Executed::Ok` index of a
    /// write made through the leader), so reads here see that write.
    pub async fn wait_executed(&self, index: u64, timeout: Duration) -> Result<(), StoreError> {
        self.inner
            .raft
            .wait(Some(timeout))
            .applied_index_at_least(Some(index), format!("entry {index} to be executed"))
            .await
            .map(|_| ())
            .map_err(wait_error)
    }

    /// Whether this node is the Raft leader right now.
    pub fn is_leader(&self) -> bool {
        let metrics = self.inner.raft.metrics();
        let m = metrics.borrow();
        m.state == ServerState::Leader && m.current_leader == Some(self.inner.node_id)
    }

    /// This node's Raft id.
    pub fn node_id(&self) -> u64 {
        self.inner.node_id
    }

    /// The managers' advertised addresses (the Raft membership, learners too) and the
    /// leader's, if one is known: where agents may hold their sessions.
    pub fn managers(&self) -> wire::Managers {
        let metrics = self.inner.raft.metrics();
        let m = metrics.borrow();
        let membership = m.membership_config.membership();
        let addr = |id: u64| membership.get_node(&id).map(|node| node.addr.clone());
        wire::Managers {
            leader: m.current_leader.and_then(addr),
            addrs: membership
                .nodes()
                .map(|(_, node)| node.addr.clone())
                .collect(),
        }
    }

    /// Raft state for `cluster info` and `/metrics`: term, leader, indexes and membership.
    pub fn metrics(&self) -> serde_json::Value {
        let metrics = self.inner.raft.metrics();
        let m = metrics.borrow();
        let membership = m.membership_config.membership();
        let nodes: BTreeMap<String, &str> = membership
            .nodes()
            .map(|(id, node)| (id.to_string(), node.addr.as_str()))
            .collect();
        json!({
            "node_id": m.id,
            "state": format!("{:?}", m.state),
            "term": m.current_term,
            "leader": m.current_leader,
            "last_log_index": m.last_log_index,
            "last_applied": m.last_applied.map(|id| id.index),
            "snapshot": m.snapshot.map(|id| id.index),
            "purged": m.purged.map(|id| id.index),
            "membership": {
                "voters": membership.voter_ids().collect::<Vec<_>>(),
                "learners": membership.learner_ids().collect::<Vec<_>>(),
                "nodes": nodes,
            },
        })
    }

    /// The node-to-node addresses of the managers in the Raft group (voters and learners).
    pub fn manager_addrs(&self) -> Vec<String> {
        let metrics = self.inner.raft.metrics();
        let m = metrics.borrow();
        m.membership_config
            .membership()
            .nodes()
            .map(|(_, node)| node.addr.clone())
            .collect()
    }

    /// The Raft RPC routes (`/raft/...`) to mount on this node's HTTP server.
    pub fn raft_routes(&self) -> axum::Router {
        raft::routes(self.inner.raft.clone())
    }

    /// Adds a manager as a voter: first as a learner that catches up, then promoted. Leader only.
    #[instrument(skip(self), fields(node.id = node_id))]
    pub async fn add_voter(&self, node_id: u64, addr: String) -> Result<(), StoreError> {
        let raft = &self.inner.raft;
        // Managers joining at the same time: one membership change at a time, the others wait
        // their turn instead of failing the join.
        let deadline = tokio::time::Instant::now() + MEMBERSHIP_WAIT;
        loop {
            let result = async {
                raft.add_learner(node_id, BasicNode::new(addr.clone()), true)
                    .await?;
                raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([node_id])), false)
                    .await
            }
            .await;
            match result {
                Ok(_) => return Ok(()),
                Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                    ChangeMembershipError::InProgress(_),
                ))) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => return Err(write_error(err)),
            }
        }
    }

    /// Snapshots the state now and purges the log up to it (normally automatic every
    /// `raft::SNAPSHOT_EVERY` entries; this is for backups, tests and operators).
    #[instrument(skip(self), fields(node.id = self.inner.node_id))]
    pub async fn compact(&self, timeout: Duration) -> Result<u64, StoreError> {
        let raft = &self.inner.raft;
        let applied = raft
            .metrics()
            .borrow()
            .last_applied
            .map_or(0, |id| id.index);
        raft.trigger().snapshot().await.map_err(fatal)?;
        let metrics = raft
            .wait(Some(timeout))
            .metrics(
                |m| m.snapshot.is_some_and(|id| id.index >= applied),
                "a snapshot",
            )
            .await
            .map_err(wait_error)?;
        let upto = metrics.snapshot.map_or(applied, |id| id.index);
        raft.trigger().purge_log(upto).await.map_err(fatal)?;
        raft.wait(Some(timeout))
            .metrics(
                |m| m.purged.is_some_and(|id| id.index >= upto),
                "the log purge",
            )
            .await
            .map_err(wait_error)?;
        Ok(upto)
    }

    /// Stops the Raft node and closes the database; other clones of this handle stop working.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        self.inner
            .raft
            .shutdown()
            .await
            .map_err(StoreError::Stopping)?;
        self.inner.db.close().await;
        Ok(())
    }
}

fn fatal(error: Fatal<u64>) -> StoreError {
    match error {
        Fatal::StorageError(e) => StoreError::RaftStorage(Box::new(e)),
        Fatal::Stopped => StoreError::ShutDown,
        Fatal::Panicked => StoreError::Panicked,
    }
}

fn write_error(error: RaftError<u64, ClientWriteError<u64, BasicNode>>) -> StoreError {
    match error {
        RaftError::APIError(ClientWriteError::ForwardToLeader(forward)) => StoreError::NotLeader {
            leader_id: forward.leader_id,
            leader_addr: forward.leader_node.map(|node| node.addr),
        },
        RaftError::APIError(ClientWriteError::ChangeMembershipError(e)) => {
            StoreError::Raft(e.into())
        }
        RaftError::Fatal(f) => fatal(f),
    }
}

fn wait_error(error: WaitError) -> StoreError {
    match error {
        WaitError::Timeout(waited, what) => StoreError::Timeout { waited, what },
        WaitError::ShuttingDown => StoreError::ShutDown,
    }
}

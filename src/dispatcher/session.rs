//! Agent sessions over the network (issue 10 §5), served by the Raft leader only, as SwarmKit's
//! dispatcher is: an agent opens a session (its node is registered and marked ready with one
//! write), follows its assignments as a stream of changes, posts report batches and sends
//! heartbeats, which stay in this manager's memory. A follower answers `not_leader` with the
//! leader's address, so the agent moves there.
//!
//! [`routes`] is plain axum: the node-to-node listener mounts it and records the caller's
//! certificate identity in each request (its [`crate::peer::Caller`] extension).

mod error;
mod reports;
mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use model::NodeRole;
use tokio::sync::{mpsc, watch};
use wire::{HeartbeatAck, OpenSession, SESSION_VERSION, SessionOpened, TaskReports};

pub use error::SessionError;

use super::{DispatcherConfig, Heartbeats, register};
use crate::pki::{PeerIdentity, Role};
use crate::store::Store;

/// The manager's session endpoint: cheap to clone (the router holds one per request).
#[derive(Clone)]
pub struct SessionService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    heartbeats: Heartbeats,
    config: DispatcherConfig,
    sessions: Mutex<Sessions>,
    reports: mpsc::Sender<reports::Job>,
}

/// The open sessions, at most one per node.
#[derive(Default)]
struct Sessions {
    by_id: HashMap<String, Session>,
    /// Node record id → its session id.
    by_node: HashMap<String, String>,
}

/// One open session.
#[derive(Clone)]
struct Session {
    /// The Node record id.
    node_id: String,
    /// The node id its certificate states (CN): only that peer may use the session.
    peer: String,
    /// Turns true when the session ends (replaced by a newer one, or expired): its
    /// assignments stream closes.
    ended: watch::Sender<bool>,
}

impl SessionService {
    /// Sessions on `store`, their heartbeats kept in `heartbeats` (share it with
    /// [`super::liveness::run`]); `config.heartbeat` is the period agents are told. Spawns the
    /// report writer, so call it inside the runtime.
    pub fn new(store: Store, heartbeats: Heartbeats, config: DispatcherConfig) -> SessionService {
        let (jobs, queue) = mpsc::channel(reports::QUEUE);
        tokio::spawn(reports::run(store.clone(), queue, config.window));
        SessionService {
            inner: Arc::new(Inner {
                store,
                heartbeats,
                config,
                sessions: Mutex::default(),
                reports: jobs,
            }),
        }
    }

    /// The heartbeat registry these sessions feed.
    pub fn heartbeats(&self) -> &Heartbeats {
        &self.inner.heartbeats
    }

    /// How many sessions are open.
    pub fn len(&self) -> usize {
        self.sessions().by_id.len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn require_leader(&self) -> Result<(), SessionError> {
        if self.inner.store.is_leader() {
            return Ok(());
        }
        Err(SessionError::NotLeader {
            leader: self.inner.store.managers().leader,
        })
    }

    /// The session `id` if `peer` owns it.
    fn session(&self, id: &str, peer: &PeerIdentity) -> Result<Session, SessionError> {
        let session = self
            .sessions()
            .by_id
            .get(id)
            .cloned()
            .ok_or_else(|| SessionError::UnknownSession(id.to_owned()))?;
        if session.peer != peer.node_id {
            return Err(SessionError::NotYours {
                session: id.to_owned(),
            });
        }
        Ok(session)
    }

    /// Opens a session for `peer` (ending its previous one): registers the node and marks it
    /// ready with one Raft write.
    pub async fn open(
        &self,
        peer: &PeerIdentity,
        open: OpenSession,
    ) -> Result<SessionOpened, SessionError> {
        if open.version != SESSION_VERSION {
            return Err(SessionError::Version(open.version));
        }
        self.require_leader()?;
        let role = match peer.role {
            Role::Manager => NodeRole::Manager,
            Role::Worker => NodeRole::Worker,
        };
        let store = &self.inner.store;
        let node_id = register::open_session(store, &peer.node_id, role, &open).await?;
        let session_id = crate::pki::random_base36().map_err(|_| SessionError::Random)?;
        let (ended, _) = watch::channel(false);
        let session = Session {
            node_id: node_id.clone(),
            peer: peer.node_id.clone(),
            ended,
        };
        {
            let mut sessions = self.sessions();
            if let Some(old) = sessions.by_node.insert(node_id.clone(), session_id.clone())
                && let Some(old) = sessions.by_id.remove(&old)
            {
                old.ended.send_replace(true);
            }
            sessions.by_id.insert(session_id.clone(), session);
        }
        self.inner.heartbeats.beat(&node_id);
        tracing::info!(node.id = %node_id, node.name = %open.node_name, "session opened");
        Ok(SessionOpened {
            session_id,
            node_id,
            heartbeat_period_ms: period_ms(&self.inner.config),
            managers: store.managers(),
        })
    }

    /// A heartbeat of session `id`.
    pub fn heartbeat(&self, peer: &PeerIdentity, id: &str) -> Result<HeartbeatAck, SessionError> {
        self.require_leader()?;
        let session = self.session(id, peer)?;
        self.inner.heartbeats.beat(&session.node_id);
        Ok(HeartbeatAck {
            heartbeat_period_ms: period_ms(&self.inner.config),
            managers: self.inner.store.managers(),
        })
    }

    /// Writes a batch of reports of session `id` (folded with other sessions' into one command
    /// per window); returns once they are written.
    pub async fn report(
        &self,
        peer: &PeerIdentity,
        id: &str,
        batch: TaskReports,
    ) -> Result<(), SessionError> {
        self.require_leader()?;
        let session = self.session(id, peer)?;
        self.inner.heartbeats.beat(&session.node_id);
        reports::submit(&self.inner.reports, batch.reports).await
    }

    /// Ends session `id` if it is still open (its stream saw the node fall silent).
    fn end(&self, id: &str) {
        let mut sessions = self.sessions();
        if let Some(session) = sessions.by_id.remove(id) {
            if sessions.by_node.get(&session.node_id).map(String::as_str) == Some(id) {
                sessions.by_node.remove(&session.node_id);
            }
            session.ended.send_replace(true);
        }
    }
}

fn period_ms(config: &DispatcherConfig) -> u64 {
    u64::try_from(config.heartbeat.as_millis()).unwrap_or(u64::MAX)
}

/// The session routes (`/v1/session/...`), for the node-to-node listener. Every request must
/// carry the caller's certificate identity (the listener's `Caller` extension, or an
/// `Extension<PeerIdentity>`); workers and managers alike may hold a session.
pub fn routes(service: SessionService) -> Router {
    Router::new()
        .route("/v1/session/open", post(open))
        .route("/v1/session/{id}/assignments", get(assignments))
        .route("/v1/session/{id}/reports", post(report))
        .route("/v1/session/{id}/heartbeat", post(heartbeat))
        .with_state(service)
}

/// The caller's certificate identity, as the node-to-node listener records it
/// ([`crate::peer::server::Caller`]) or as a test layer puts it (`Extension<PeerIdentity>`).
struct Peer(Option<PeerIdentity>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Peer, Self::Rejection> {
        let direct = parts.extensions.get::<PeerIdentity>().cloned();
        let caller = || {
            parts
                .extensions
                .get::<crate::peer::server::Caller>()
                .and_then(|caller| caller.0.clone())
        };
        Ok(Peer(direct.or_else(caller)))
    }
}

fn identity(peer: Peer) -> Result<PeerIdentity, SessionError> {
    peer.0.ok_or(SessionError::Unauthenticated)
}

async fn open(
    State(service): State<SessionService>,
    peer: Peer,
    Json(body): Json<OpenSession>,
) -> Result<Json<SessionOpened>, SessionError> {
    let peer = identity(peer)?;
    service.open(&peer, body).await.map(Json)
}

async fn heartbeat(
    State(service): State<SessionService>,
    peer: Peer,
    Path(id): Path<String>,
) -> Result<Json<HeartbeatAck>, SessionError> {
    let peer = identity(peer)?;
    service.heartbeat(&peer, &id).map(Json)
}

async fn report(
    State(service): State<SessionService>,
    peer: Peer,
    Path(id): Path<String>,
    Json(batch): Json<TaskReports>,
) -> Result<StatusCode, SessionError> {
    let peer = identity(peer)?;
    service.report(&peer, &id, batch).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn assignments(
    State(service): State<SessionService>,
    peer: Peer,
    Path(id): Path<String>,
) -> Result<axum::response::Response, SessionError> {
    let peer = identity(peer)?;
    service.require_leader()?;
    let session = service.session(&id, &peer)?;
    Ok(stream::respond(service, id, session))
}

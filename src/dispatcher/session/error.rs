//! Why a session call failed, as the error body the agent reads (`code` decides where it goes
//! next: the leader named in `details.leader`, a new session, or a retry).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wire::session::codes;
use wire::{ErrorBody, ErrorInfo, SESSION_VERSION};

use crate::dispatcher::register::RegisterError;

/// A refused session call.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{}", not_leader(.leader.as_deref()))]
    NotLeader { leader: Option<String> },
    #[error(
        "session {0} is not known to this manager (replaced, expired, or the manager restarted); open a new session"
    )]
    UnknownSession(String),
    #[error(
        "no authenticated node identity: sessions are served on the node-to-node listener, to peers with a node certificate"
    )]
    Unauthenticated,
    #[error("session {session} belongs to another node; open a session of your own")]
    NotYours { session: String },
    #[error(
        "this manager speaks session version {SESSION_VERSION}, the agent {0}; run the same swarm release on every node"
    )]
    Version(u32),
    #[error("{0}")]
    Register(#[from] RegisterError),
    #[error("the task reports could not be written; send them again")]
    ReportsNotWritten,
    #[error("cannot make a session id: the system's random generator failed; retry")]
    Random,
}

fn not_leader(leader: Option<&str>) -> String {
    match leader {
        Some(addr) => format!("this manager is not the leader; open the session with the leader at {addr}"),
        None => "this manager is not the leader and no leader is known yet; try another manager in a moment".into(),
    }
}

impl SessionError {
    fn code_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            SessionError::NotLeader { .. } => (codes::NOT_LEADER, StatusCode::SERVICE_UNAVAILABLE),
            SessionError::UnknownSession(_) => (codes::UNKNOWN_SESSION, StatusCode::NOT_FOUND),
            SessionError::Unauthenticated | SessionError::NotYours { .. } => {
                (codes::UNAUTHENTICATED, StatusCode::FORBIDDEN)
            }
            SessionError::Version(_) => (codes::VERSION, StatusCode::BAD_REQUEST),
            SessionError::Register(RegisterError::NameTaken { .. }) => {
                (codes::REFUSED, StatusCode::CONFLICT)
            }
            SessionError::Register(_) | SessionError::ReportsNotWritten | SessionError::Random => {
                (codes::UNAVAILABLE, StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        let details = match &self {
            SessionError::NotLeader { leader } => json!({ "leader": leader }),
            _ => Value::Null,
        };
        let body = ErrorBody {
            error: ErrorInfo {
                code: code.to_owned(),
                message: self.to_string(),
                details,
            },
        };
        (status, Json(body)).into_response()
    }
}

//! `GET /healthz` and `GET /v1/cluster`: is this manager up, who leads, how much is stored.
//!
//! - `GET /v1/cluster/join-tokens`: both join tokens ([`JoinTokens`]);
//! - `POST /v1/cluster/join-tokens/{worker|manager}/rotate`: a new secret for that role (one
//!   Raft write; the old token admits no new node), answering both tokens;
//! - `GET /v1/cluster/backup`: every object, secrets in clear, and the root CA key
//!   ([`ClusterBackup`]), for `swarmctl cluster backup` and `swarmd restore`.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::Kind;
use serde_json::{Map, Value, json};
use wire::{ClusterBackup, ClusterInfo, JoinTokens};

use super::{ApiError, ApiState};
use crate::pki::Role;
use crate::pki::cluster::{self as security, ClusterError};
use crate::store::recovery::RecoveryError;

/// Health and cluster routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/cluster", get(cluster))
        .route("/v1/cluster/join-tokens", get(join_tokens))
        .route("/v1/cluster/join-tokens/{role}/rotate", post(rotate))
        .route("/v1/cluster/backup", get(backup))
}

/// The whole state as this manager holds it. Served by managers only (workers serve no API);
/// the answer holds every secret and the CA key.
async fn backup(State(state): State<ApiState>) -> Result<Json<ClusterBackup>, ApiError> {
    Ok(Json(crate::store::recovery::backup(&state.store)?))
}

impl From<RecoveryError> for ApiError {
    fn from(err: RecoveryError) -> ApiError {
        match err {
            RecoveryError::NoCaKey(_) => ApiError::Unavailable(err.to_string()),
            _ => ApiError::Internal(err.to_string()),
        }
    }
}

async fn join_tokens(State(state): State<ApiState>) -> Result<Json<JoinTokens>, ApiError> {
    Ok(Json(security::join_tokens(&state.store)?))
}

async fn rotate(
    State(state): State<ApiState>,
    Path(role): Path<String>,
) -> Result<Json<JoinTokens>, ApiError> {
    let role: Role = role
        .parse()
        .map_err(|err: crate::pki::PkiError| ApiError::BadRequest(err.to_string()))?;
    Ok(Json(security::rotate(&state.store, role).await?))
}

impl From<ClusterError> for ApiError {
    fn from(err: ClusterError) -> ApiError {
        match err {
            ClusterError::Missing => ApiError::Unavailable(err.to_string()),
            ClusterError::Apply(err) => err.into(),
            ClusterError::Rejected(rejection) => rejection.into(),
            ClusterError::Decode(_) | ClusterError::Pki(_) => ApiError::Internal(err.to_string()),
        }
    }
}

/// 200 once the cluster has a leader (this manager can serve writes, directly or not); 503
/// before, so a readiness probe waits for an election.
async fn healthz(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let leader = state
        .store
        .metrics()
        .get("leader")
        .cloned()
        .unwrap_or(Value::Null);
    if leader.is_null() {
        return Err(ApiError::Unavailable(
            "no leader is elected yet; retry in a moment".into(),
        ));
    }
    Ok(Json(json!({
        "status": "ok",
        "leader": leader,
        "is_leader": state.store.is_leader(),
        "uptime_seconds": state.started.elapsed().as_secs(),
    })))
}

async fn cluster(State(state): State<ApiState>) -> Json<ClusterInfo> {
    let metrics = state.store.metrics();
    let (last_applied, objects) = state.store.read(|index| {
        let mut objects = Map::new();
        for kind in Kind::ALL {
            let plural = format!("{}s", crate::apply::kind_word(kind));
            objects.insert(plural, json!(index.list(kind).len()));
        }
        (index.last_executed(), objects)
    });
    // openraft's metrics, read defensively: their shape is the Raft layer's business.
    let pick = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| metrics.get(*k).filter(|v| !v.is_null()).cloned())
            .unwrap_or(Value::Null)
    };
    let leader = pick(&["leader", "current_leader"]);
    let leader_addr = metrics["membership"]["nodes"]
        .get(leader.to_string())
        .and_then(Value::as_str)
        .map(str::to_owned);
    let ids = |key: &str| -> Vec<u64> {
        metrics["membership"][key]
            .as_array()
            .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    Json(ClusterInfo {
        voters: ids("voters"),
        learners: ids("learners"),
        node_id: pick(&["node_id", "id"]),
        leader,
        leader_addr,
        is_leader: state.store.is_leader(),
        term: pick(&["term", "current_term"]),
        last_applied,
        objects,
        uptime_seconds: state.started.elapsed().as_secs(),
    })
}

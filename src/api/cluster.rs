//! `GET /healthz` and `GET /v1/cluster`: is this manager up, who leads, how much is stored.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use model::Kind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ApiError, ApiState};

/// What `GET /v1/cluster` returns.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// This manager's Raft node id.
    pub node_id: Value,
    /// The leader's node id, when one is known.
    pub leader: Value,
    /// The leader's Raft address, when known (`node ls` marks the manager there as leader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_addr: Option<String>,
    /// Whether this manager is the leader.
    pub is_leader: bool,
    /// Current Raft term.
    pub term: Value,
    /// Log index of the last entry applied to the store.
    pub last_applied: u64,
    /// Objects stored, by kind (`services`, `tasks`, ...).
    pub objects: Map<String, Value>,
    /// Seconds since this API started.
    pub uptime_seconds: u64,
}

/// Health and cluster routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/cluster", get(cluster))
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
        (index.applied(), objects)
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
    Json(ClusterInfo {
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

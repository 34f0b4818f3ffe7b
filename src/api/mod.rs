//! The HTTP API (axum): one file per resource kind, one error mapping (`error.rs`).
//!
//! Reads come from the store's in-memory index; every write is one proposed command, built only
//! after the whole request has been validated, so a refused request changes nothing. Secret
//! content never leaves the store through this API: responses carry `content_hash` instead.

pub mod apply;
pub mod cluster;
pub mod configs;
pub mod edit;
pub mod error;
pub mod events;
pub mod input;
pub mod logs;
pub mod networks;
pub mod nodes;
pub mod objects;
pub mod secrets;
pub mod service_spec;
pub mod services;
pub mod stacks;
pub mod tasks;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use error::ApiError;
pub use logs::{LogError, LogLines, LogOptions, LogSource, LogTarget};

use crate::store::Store;

/// Largest request body accepted (413 beyond).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    /// When this API started (uptime in health and cluster info).
    pub started: Instant,
    /// Where `service logs` reads container logs; `None` (503) on a manager without an agent.
    pub logs: Option<Arc<dyn LogSource>>,
}

impl ApiState {
    /// State over `store`, starting the uptime clock now.
    pub fn new(store: Store) -> ApiState {
        ApiState {
            store,
            started: Instant::now(),
            logs: None,
        }
    }

    /// The same state, reading service logs from `source` (the local agent).
    pub fn with_logs(mut self, source: Arc<dyn LogSource>) -> ApiState {
        self.logs = Some(source);
        self
    }
}

/// Every API route, ready to serve (or to merge with the Raft RPC routes).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .merge(cluster::routes())
        .merge(apply::routes())
        .merge(services::routes())
        .merge(networks::routes())
        .merge(secrets::routes())
        .merge(configs::routes())
        .merge(nodes::routes())
        .merge(tasks::routes())
        .merge(stacks::routes())
        .merge(events::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            mark_stale_reads,
        ))
        .with_state(state)
}

/// Marks a read served while this manager has no quorum ([`wire::STALE_HEADER`]): the answer
/// is its own store's, which may be behind the cluster's.
async fn mark_stale_reads(
    axum::extract::State(state): axum::extract::State<ApiState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let read = request.method() == axum::http::Method::GET;
    let mut response = next.run(request).await;
    if read
        && let Some(problem) = state.store.quorum_problem()
        && let Ok(value) = axum::http::HeaderValue::from_str(&problem)
    {
        response.headers_mut().insert(wire::STALE_HEADER, value);
    }
    response
}

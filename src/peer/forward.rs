//! What a follower hands the leader over the node-to-node link: writes (`POST
//! /v1/peer/propose`, a store [`Command`]) and new managers (`POST /v1/peer/members`). Both
//! routes are for managers only; the leader answers an [`Executed`] or a [`PeerFailure`].

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::future::BoxFuture;
use wire::{AddManager, PeerFailure};

use super::PeerClient;
use crate::store::{Command, Executed, LeaderLink, Store, StoreError};

/// Largest forwarded write: a stack apply of many thousands of tasks is one command.
const MAX_COMMAND_BYTES: usize = 256 * 1024 * 1024;

/// How long a forwarded write may take end to end (commit on a loaded leader included).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(60);

/// A new manager's learner catch-up and promotion.
const MEMBERS_TIMEOUT: Duration = Duration::from_secs(60);

/// The follower's side: sends to the leader through the node-to-node client.
#[derive(Clone, Debug)]
pub struct Link {
    client: PeerClient,
}

impl Link {
    pub fn new(client: PeerClient) -> Link {
        Link { client }
    }

    /// Asks the manager at `manager` (any manager: it forwards to its leader) to add this
    /// node to the Raft group; a joining manager calls it once its listener is up.
    pub async fn add_manager_at(
        &self,
        manager: String,
        raft_id: u64,
        addr: String,
    ) -> Result<(), StoreError> {
        let body = AddManager { raft_id, addr };
        let response = self
            .client
            .http()
            .post(PeerClient::url(&manager, "/v1/peer/members"))
            .json(&body)
            .timeout(MEMBERS_TIMEOUT)
            .send()
            .await
            .map_err(|e| unreachable(&manager, &e))?;
        answer::<serde_json::Value>(&manager, response)
            .await
            .map(|_| ())
    }
}

impl LeaderLink for Link {
    fn propose(
        &self,
        leader: String,
        command: Command,
    ) -> BoxFuture<'static, Result<Executed, StoreError>> {
        let http = self.client.http().clone();
        Box::pin(async move {
            let response = http
                .post(PeerClient::url(&leader, "/v1/peer/propose"))
                .json(&command)
                .timeout(FORWARD_TIMEOUT)
                .send()
                .await
                .map_err(|e| unreachable(&leader, &e))?;
            answer(&leader, response).await
        })
    }

    fn add_manager(
        &self,
        leader: String,
        raft_id: u64,
        addr: String,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        let link = self.clone();
        Box::pin(async move { link.add_manager_at(leader, raft_id, addr).await })
    }
}

fn unreachable(leader: &str, error: &reqwest::Error) -> StoreError {
    StoreError::Forward {
        leader: leader.to_owned(),
        message: super::error_chain(error),
    }
}

/// Decodes a `/v1/peer/...` answer: the value on 2xx, the far end's failure otherwise.
async fn answer<T: serde::de::DeserializeOwned>(
    leader: &str,
    response: reqwest::Response,
) -> Result<T, StoreError> {
    if response.status().is_success() {
        return response.json().await.map_err(|e| unreachable(leader, &e));
    }
    let status = response.status();
    let failure: PeerFailure = response.json().await.unwrap_or_else(|_| PeerFailure {
        kind: "failed".to_owned(),
        message: format!("HTTP {status}"),
    });
    Err(match failure.kind.as_str() {
        "no_quorum" => StoreError::NoQuorum {
            detail: failure.message,
        },
        "not_leader" => StoreError::NotLeader {
            leader_id: None,
            leader_addr: None,
        },
        _ => StoreError::Forward {
            leader: leader.to_owned(),
            message: failure.message,
        },
    })
}

/// The leader's side: `/v1/peer/propose` and `/v1/peer/members` (mount behind
/// [`super::require`] for managers).
pub fn routes(store: Store) -> Router {
    Router::new()
        .route("/v1/peer/propose", post(propose))
        .route("/v1/peer/members", post(members))
        .layer(DefaultBodyLimit::max(MAX_COMMAND_BYTES))
        .with_state(store)
}

async fn propose(State(store): State<Store>, Json(command): Json<Command>) -> Response {
    // Here, not `propose`: a write that reached a manager that lost the lead is refused, not
    // forwarded round again.
    match store.propose_here(command).await {
        Ok(executed) => Json(executed).into_response(),
        Err(err) => failure(&err),
    }
}

async fn members(State(store): State<Store>, Json(body): Json<AddManager>) -> Response {
    match store.add_manager(body.raft_id, body.addr).await {
        Ok(()) => Json(serde_json::json!({})).into_response(),
        Err(err) => failure(&err),
    }
}

/// A store error as a [`PeerFailure`] answer.
pub fn failure(err: &StoreError) -> Response {
    let (status, kind) = match err {
        StoreError::NoQuorum { .. } => (StatusCode::SERVICE_UNAVAILABLE, "no_quorum"),
        StoreError::NotLeader { .. } => (StatusCode::SERVICE_UNAVAILABLE, "not_leader"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "failed"),
    };
    let body = PeerFailure {
        kind: kind.to_owned(),
        message: err.to_string(),
    };
    (status, Json(body)).into_response()
}

//! Raft RPC between managers over HTTP: the client side (openraft's network traits, with
//! reqwest) and the server side (axum routes `POST /raft/append|vote|snapshot`). Bodies are JSON;
//! a route answers `200` with openraft's `Result<Response, RaftError>` so remote Raft errors
//! travel back typed, and anything else is a transport failure.

use std::collections::HashMap;
use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use openraft::BasicNode;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::instrument;

use super::{Raft, TypeConfig};

/// Largest Raft RPC body accepted: a batch of entries can carry several 10,000-object commands.
const MAX_RPC_BYTES: usize = 256 * 1024 * 1024;

/// How long to wait for a TCP connection to a peer before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The least time given to an RPC that carries entries or a snapshot. openraft's deadline is the
/// heartbeat period, fine for a heartbeat but not for a 10,000-object entry on a loaded machine:
/// abandoning it at 100 ms only to build and send it again never converges.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether each peer could be connected to on its last RPC: the leader's quorum check tells
/// "followers are down" (connections refused) from "a big entry is slow to replicate".
#[derive(Debug, Default)]
pub struct PeerHealth {
    peers: Mutex<HashMap<u64, bool>>,
}

impl PeerHealth {
    fn record(&self, peer: u64, answered: bool) {
        if let Ok(mut peers) = self.peers.lock() {
            peers.insert(peer, answered);
        }
    }

    /// Whether `peer`'s last RPC failed (never tried: not failing).
    pub fn failing(&self, peer: u64) -> bool {
        self.peers
            .lock()
            .map(|peers| peers.get(&peer) == Some(&false))
            .unwrap_or(false)
    }
}

/// Creates connections to peers; one shared HTTP client (and its connection pool) for all.
#[derive(Clone, Debug)]
pub struct HttpNetwork {
    client: reqwest::Client,
    scheme: &'static str,
    health: Arc<PeerHealth>,
}

impl HttpNetwork {
    /// A network over plain HTTP with a fresh client (managers in one test process).
    pub fn new() -> Result<HttpNetwork, reqwest::Error> {
        crate::pki::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // Manager-to-manager traffic is direct; an HTTP_PROXY meant for pulls must not
            // capture it.
            .no_proxy()
            .build()?;
        Ok(HttpNetwork {
            client,
            scheme: "http",
            health: Arc::default(),
        })
    }

    /// A network over HTTPS through `client`, the node-to-node mutual-TLS client.
    pub fn tls(client: reqwest::Client) -> HttpNetwork {
        HttpNetwork {
            client,
            scheme: "https",
            health: Arc::default(),
        }
    }

    /// Which peers fail their RPCs, as this network sees it.
    pub fn health(&self) -> Arc<PeerHealth> {
        self.health.clone()
    }
}

impl RaftNetworkFactory<TypeConfig> for HttpNetwork {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Peer {
        Peer {
            client: self.client.clone(),
            scheme: self.scheme,
            health: self.health.clone(),
            target,
            node: node.clone(),
        }
    }
}

/// A connection to one peer manager.
pub struct Peer {
    client: reqwest::Client,
    scheme: &'static str,
    health: Arc<PeerHealth>,
    target: u64,
    node: BasicNode,
}

/// A peer answered with something other than a Raft result.
#[derive(Debug, thiserror::Error)]
#[error("peer answered HTTP {status} to {path}: {body}")]
struct UnexpectedStatus {
    path: &'static str,
    status: reqwest::StatusCode,
    body: String,
}

type RpcError<E> = RPCError<u64, BasicNode, RaftError<u64, E>>;

impl Peer {
    async fn call<Req, Resp, E>(
        &self,
        path: &'static str,
        request: &Req,
        timeout: Duration,
    ) -> Result<Resp, RpcError<E>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: DeserializeOwned + Error,
    {
        let result = self.send(path, request, timeout).await;
        // Only a refused or failed connect says "down": a slow answer (a follower busy with a
        // big entry) is not, and openraft's own deadline cancels this future before a timeout
        // could be seen here anyway.
        let down = matches!(result, Err(RPCError::Unreachable(_)));
        self.health.record(self.target, !down);
        result
    }

    async fn send<Req, Resp, E>(
        &self,
        path: &'static str,
        request: &Req,
        timeout: Duration,
    ) -> Result<Resp, RpcError<E>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: DeserializeOwned + Error,
    {
        let url = format!("{}://{}/raft/{path}", self.scheme, self.node.addr);
        let response = self
            .client
            .post(url)
            .json(request)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                // A refused or timed-out connect means the peer is down: openraft then backs off
                // instead of retrying at full speed and flooding the log.
                if e.is_connect() {
                    RPCError::Unreachable(Unreachable::new(&e))
                } else {
                    RPCError::Network(NetworkError::new(&e))
                }
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let error = UnexpectedStatus { path, status, body };
            return Err(RPCError::Network(NetworkError::new(&error)));
        }
        let result: Result<Resp, RaftError<u64, E>> = response
            .json()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| {
            RPCError::RemoteError(RemoteError::new_with_node(
                self.target,
                self.node.clone(),
                e,
            ))
        })
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    #[instrument(level = "trace", skip_all, fields(peer = self.target))]
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RpcError<openraft::error::Infallible>> {
        let timeout = if rpc.entries.is_empty() {
            option.hard_ttl()
        } else {
            option.hard_ttl().max(TRANSFER_TIMEOUT)
        };
        self.call("append", &rpc, timeout).await
    }

    #[instrument(level = "debug", skip_all, fields(peer = self.target))]
    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<u64>, RpcError<InstallSnapshotError>> {
        self.call("snapshot", &rpc, option.hard_ttl().max(TRANSFER_TIMEOUT))
            .await
    }

    #[instrument(level = "debug", skip_all, fields(peer = self.target))]
    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RpcError<openraft::error::Infallible>> {
        self.call("vote", &rpc, option.hard_ttl()).await
    }
}

/// The Raft RPC routes a manager serves to its peers (mount at the root of its HTTP server).
pub fn routes(raft: Raft) -> Router {
    Router::new()
        .route("/raft/append", post(append))
        .route("/raft/vote", post(vote))
        .route("/raft/snapshot", post(snapshot))
        .layer(DefaultBodyLimit::max(MAX_RPC_BYTES))
        .with_state(raft)
}

async fn append(
    State(raft): State<Raft>,
    Json(request): Json<AppendEntriesRequest<TypeConfig>>,
) -> Json<Result<AppendEntriesResponse<u64>, RaftError<u64>>> {
    Json(raft.append_entries(request).await)
}

async fn vote(
    State(raft): State<Raft>,
    Json(request): Json<VoteRequest<u64>>,
) -> Json<Result<VoteResponse<u64>, RaftError<u64>>> {
    Json(raft.vote(request).await)
}

async fn snapshot(
    State(raft): State<Raft>,
    Json(request): Json<InstallSnapshotRequest<TypeConfig>>,
) -> Json<Result<InstallSnapshotResponse<u64>, RaftError<u64, InstallSnapshotError>>> {
    Json(raft.install_snapshot(request).await)
}

//! `swarmd join`, both sides.
//!
//! The joiner ([`request`]) dials a manager with no certificate of its own; its TLS verifier
//! accepts the manager only if the chain holds a CA whose digest the token pins, so the token's
//! secret and the CSR go to the right cluster or nowhere. The manager ([`routes`]) checks the
//! secret (constant time), signs the CSR with CN = the joiner's node id and OU = the role the
//! token grants, records the Node object through Raft, and answers the certificate — with the
//! CA key for a manager, so any manager can admit the next node.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use model::{Kind, NodeRole, NodeSpec, NodeStatus, ObjectMeta};
use wire::{JoinAnswer, JoinRequest, PeerFailure};

use super::PeerClient;
use crate::pki::cluster as security;
use crate::pki::{JoinToken, NodeCertificate, NodeKey, PkiError, Role, RootCa, TokenError, tls};
use crate::store::{Command, Executed, Op, Store};

/// A join that takes longer than this (handshake, a Raft write) failed.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a join failed, on the joiner's side.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("{0}")]
    Pki(#[from] PkiError),
    #[error("cannot reach the manager at {manager}: {message}")]
    Unreachable { manager: String, message: String },
    #[error("the manager at {manager} refused to let this node join: {message}")]
    Refused { manager: String, message: String },
    #[error("the manager at {manager} answered something unexpected: {message}")]
    Answer { manager: String, message: String },
}

/// What a joiner gets: its role, its signed certificate and the cluster's CA (and the CA key
/// for a manager), plus where the managers are.
#[derive(Debug)]
pub struct Admission {
    pub role: Role,
    pub cert: NodeCertificate,
    pub answer: JoinAnswer,
}

/// Asks the manager at `manager` (`host:port` of its node-to-node listener) to admit this node:
/// `request` carries everything but the token's text and the CSR, which come from `token` and
/// `key`.
pub async fn request(
    manager: &str,
    token: &str,
    key: &NodeKey,
    mut request: JoinRequest,
) -> Result<Admission, JoinError> {
    let parsed: JoinToken = token.parse()?;
    let (config, pinned) = tls::join_client_config(&parsed)?;
    let client = PeerClient::new(config).map_err(|e| JoinError::Unreachable {
        manager: manager.to_owned(),
        message: super::error_chain(&e),
    })?;
    request.token = token.trim().to_owned();
    request.csr_pem = key.csr_pem()?;
    let sent = client
        .http()
        .post(PeerClient::url(manager, "/v1/peer/join"))
        .json(&request)
        .timeout(JOIN_TIMEOUT)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        // The handshake failed because the CA is not the pinned one: say that, not "TLS error".
        Err(_) if pinned.refusal().is_some() => {
            return Err(pinned.refusal().map(JoinError::Token).unwrap_or_else(|| {
                JoinError::Unreachable {
                    manager: manager.to_owned(),
                    message: "handshake refused".to_owned(),
                }
            }));
        }
        Err(err) => {
            return Err(JoinError::Unreachable {
                manager: manager.to_owned(),
                message: super::error_chain(&err),
            });
        }
    };
    let unexpected = |message: String| JoinError::Answer {
        manager: manager.to_owned(),
        message,
    };
    if !response.status().is_success() {
        let status = response.status();
        let message = match response.json::<PeerFailure>().await {
            Ok(failure) => failure.message,
            Err(_) => format!("HTTP {status}"),
        };
        return Err(JoinError::Refused {
            manager: manager.to_owned(),
            message,
        });
    }
    let answer: JoinAnswer = response
        .json()
        .await
        .map_err(|e| unexpected(super::error_chain(&e)))?;
    // The answer's CA must be the pinned one, and the certificate ours.
    let ca = crate::pki::files::parse_ca_pem(&answer.ca_cert_pem)?;
    parsed.pin(&ca)?;
    let cert = NodeCertificate::from_pem(&answer.cert_pem)?;
    if cert.identity().node_id != request.node_id {
        return Err(unexpected(format!(
            "a certificate for node {} instead of {}",
            cert.identity().node_id,
            request.node_id
        )));
    }
    let role = cert.identity().role;
    Ok(Admission { role, cert, answer })
}

/// What the join route needs: the store (to check tokens and record the node) and the CA.
#[derive(Clone)]
pub struct JoinDesk {
    pub store: Store,
    pub ca: Arc<RootCa>,
}

/// `POST /v1/peer/join`, open to callers without a certificate.
pub fn routes(desk: JoinDesk) -> Router {
    Router::new()
        .route("/v1/peer/join", post(join))
        .with_state(desk)
}

async fn join(State(desk): State<JoinDesk>, Json(request): Json<JoinRequest>) -> Response {
    match admit(&desk, request).await {
        Ok(answer) => Json(answer).into_response(),
        Err((status, message)) => {
            tracing::info!(%message, "join refused");
            let kind = if status == StatusCode::SERVICE_UNAVAILABLE {
                "failed"
            } else {
                "refused"
            };
            let body = PeerFailure {
                kind: kind.to_owned(),
                message,
            };
            (status, Json(body)).into_response()
        }
    }
}

type Refusal = (StatusCode, String);

async fn admit(desk: &JoinDesk, request: JoinRequest) -> Result<JoinAnswer, Refusal> {
    let unavailable = |message: String| (StatusCode::SERVICE_UNAVAILABLE, message);
    let (cluster, _) = security::read(&desk.store)
        .map_err(|e| unavailable(e.to_string()))?
        .ok_or_else(|| unavailable(security::ClusterError::Missing.to_string()))?;
    let role = cluster
        .admit(&request.token)
        .map_err(|e| (StatusCode::UNAUTHORIZED, e.to_string()))?;
    model::names::check_node_name(&request.node_name)
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let taken = desk.store.read(|index| {
        index.list(Kind::Node).iter().any(|node| {
            node.metadata.name == request.node_name
                || node
                    .status
                    .get("node_id")
                    .is_some_and(|id| id == request.node_id.as_str())
        })
    });
    if taken {
        return Err((
            StatusCode::CONFLICT,
            format!(
                "a node named `{}` (or with node id {}) is already in the cluster; join with another --node-name, or `swarmctl node rm` the old one first",
                request.node_name, request.node_id
            ),
        ));
    }
    let now = desk.store.clock().now();
    let cert = desk
        .ca
        .issue(&request.csr_pem, &request.node_id, role, now)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("cannot sign the CSR: {e}")))?;
    record_node(&desk.store, &request, role)
        .await
        .map_err(|e| unavailable(format!("cannot record the node: {e}")))?;
    let managers = desk.store.manager_addrs();
    tracing::info!(node = %request.node_name, node.id = %request.node_id, %role, "node joined");
    Ok(JoinAnswer {
        role: role.to_string(),
        cluster_id: cluster.cluster_id.clone(),
        cert_pem: cert.pem().to_owned(),
        ca_cert_pem: desk.ca.cert_pem().to_owned(),
        ca_key_pem: (role == Role::Manager).then(|| desk.ca.key_pem()),
        managers,
    })
}

/// Creates the joiner's Node object (one Raft write, through the leader wherever it is).
async fn record_node(
    store: &Store,
    request: &JoinRequest,
    role: Role,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let spec = NodeSpec {
        role: match role {
            Role::Manager => NodeRole::Manager,
            Role::Worker => NodeRole::Worker,
        },
        labels: request.labels.clone(),
        ..NodeSpec::default()
    };
    let status = NodeStatus {
        hostname: request.node_name.clone(),
        node_id: request.node_id.clone(),
        addr: Some(request.advertise_addr.clone()),
        ..NodeStatus::default()
    };
    let command = Command {
        at: store.clock().now(),
        ops: vec![Op::Create {
            kind: Kind::Node,
            metadata: ObjectMeta {
                name: request.node_name.clone(),
                ..ObjectMeta::default()
            },
            spec: serde_json::to_value(spec)?,
            status: serde_json::to_value(status)?,
        }],
    };
    match store.propose(command).await? {
        Executed::Ok { .. } => Ok(()),
        Executed::Rejected(rejection) => Err(rejection.into()),
    }
}

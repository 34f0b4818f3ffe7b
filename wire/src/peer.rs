//! Node-to-node messages beside Raft and the agent session (`/v1/peer/...` on the mutual-TLS
//! listener): joining the cluster, and what a follower hands the leader.

use serde::{Deserialize, Serialize};

/// `POST /v1/peer/join`: a node asks to join, proving its invitation with a join token. Sent
/// only after the joiner pinned the manager's CA by the token's digest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinRequest {
    /// `SWMTKN-1-...`: its secret says the role.
    pub token: String,
    /// A CSR (PEM) for the joiner's own key.
    pub csr_pem: String,
    /// The joiner's random node id (its certificate's CN).
    pub node_id: String,
    /// The joiner's random Raft id (used if it joins as a manager).
    pub raft_id: u64,
    /// What `node ls` will show.
    pub node_name: String,
    /// `host:port` other nodes dial the joiner at (managers: Raft and sessions).
    pub advertise_addr: String,
    /// Node labels (`--label k=v`).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The answer to a [`JoinRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinAnswer {
    /// `manager` or `worker`, as the token said.
    pub role: String,
    pub cluster_id: String,
    /// The joiner's signed certificate (PEM).
    pub cert_pem: String,
    /// The root CA certificate (PEM), the one the token pins.
    pub ca_cert_pem: String,
    /// The root CA's key (PEM), for a manager only: any manager may sign the next joiner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_key_pem: Option<String>,
    /// The managers' node-to-node addresses, for the agent's session and for failover.
    pub managers: Vec<String>,
}

/// `POST /v1/peer/members`: add a manager that joined to the Raft group (learner, then voter).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AddManager {
    pub raft_id: u64,
    /// Its node-to-node address.
    pub addr: String,
}

/// Why a forwarded call failed at the far end (any non-2xx answer on `/v1/peer/...`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerFailure {
    /// `no_quorum`, `not_leader`, `refused` (token, name) or `failed`.
    pub kind: String,
    pub message: String,
}

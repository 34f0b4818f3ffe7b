//! The cluster's security settings as one replicated object (kind `Cluster`, name
//! `default`, as SwarmKit's cluster object): the root CA certificate and the join-token
//! secrets. Written through Raft, so every manager admits the same tokens and a rotation on
//! one manager holds on all.

use model::{Kind, ObjectMeta};
use serde::{Deserialize, Serialize};
use wire::JoinTokens;

use super::{JoinSecrets, PkiError, Role, files::NodeMaterial};
use crate::apply::{self, ApplyError};
use crate::store::{Command, Executed, Op, Rejection, Store};

/// The one cluster object's name.
pub const CLUSTER_OBJECT: &str = "default";

/// The spec of the cluster object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterSecurity {
    pub cluster_id: String,
    /// The root CA certificate, PEM (what a joiner is shown and pins).
    pub ca_cert_pem: String,
    /// Its digest, as join tokens carry it.
    pub ca_digest: String,
    /// The current join-token secret of each role.
    pub join_secrets: JoinSecrets,
    /// Node ids of removed nodes: their certificates are refused at the handshake, though the
    /// CA signed them and they have not expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_nodes: Vec<String>,
}

impl ClusterSecurity {
    /// `role`'s current join token.
    pub fn token(&self, role: Role) -> String {
        self.join_secrets.token(role, &self.ca_digest).to_string()
    }

    /// Both tokens, as the API answers them.
    pub fn tokens(&self) -> JoinTokens {
        JoinTokens {
            cluster_id: self.cluster_id.clone(),
            ca_digest: self.ca_digest.clone(),
            worker: self.token(Role::Worker),
            manager: self.token(Role::Manager),
        }
    }

    /// The role a joiner's token admits it as (see [`JoinSecrets::admit`]).
    pub fn admit(&self, token: &str) -> Result<Role, super::token::TokenError> {
        self.join_secrets.admit(token, &self.ca_digest)
    }
}

/// Why the cluster object could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("the cluster has no security settings yet; wait until its first manager is ready")]
    Missing,
    #[error("the cluster object is unreadable: {0}")]
    Decode(#[source] serde_json::Error),
    #[error("{0}")]
    Pki(#[from] PkiError),
    #[error("{0}")]
    Apply(#[from] ApplyError),
    #[error("{0}")]
    Rejected(#[from] Rejection),
}

/// The cluster object's spec and version, if it exists.
pub fn read(store: &Store) -> Result<Option<(ClusterSecurity, u64)>, ClusterError> {
    store.read(|index| {
        index
            .find(Kind::Cluster, None, CLUSTER_OBJECT)
            .map(|record| {
                let spec = record.spec_as().map_err(ClusterError::Decode)?;
                Ok((spec, record.version))
            })
            .transpose()
    })
}

/// Creates the cluster object from the first manager's material, with fresh join secrets,
/// unless it exists (a restart, or a data dir made before it existed).
pub async fn ensure(store: &Store, node: &NodeMaterial) -> Result<(), ClusterError> {
    if read(store)?.is_some() {
        return Ok(());
    }
    let spec = ClusterSecurity {
        cluster_id: node.cert.identity().cluster_id.clone(),
        ca_cert_pem: node.ca_cert_pem.clone(),
        ca_digest: super::ca_digest(&node.ca_cert),
        join_secrets: JoinSecrets::generate()?,
        removed_nodes: Vec::new(),
    };
    let command = Command {
        at: store.clock().now(),
        ops: vec![Op::Create {
            kind: Kind::Cluster,
            metadata: ObjectMeta {
                name: CLUSTER_OBJECT.to_owned(),
                ..ObjectMeta::default()
            },
            spec: serde_json::to_value(&spec).map_err(ClusterError::Decode)?,
            status: serde_json::Value::Null,
        }],
    };
    match apply::propose(store, command).await? {
        // Created, or created meanwhile by another call: either way it is there.
        Executed::Ok { .. } | Executed::Rejected(Rejection::AlreadyExists { .. }) => Ok(()),
        Executed::Rejected(rejection) => Err(rejection.into()),
    }
}

/// Both current join tokens.
pub fn join_tokens(store: &Store) -> Result<JoinTokens, ClusterError> {
    let (security, _) = read(store)?.ok_or(ClusterError::Missing)?;
    Ok(security.tokens())
}

/// Gives `role` a new secret (one Raft write, compare-and-set on the object's version): the
/// old token admits no one from now on; nodes that joined with it stay. Returns both tokens.
pub async fn rotate(store: &Store, role: Role) -> Result<JoinTokens, ClusterError> {
    let (mut security, version) = read(store)?.ok_or(ClusterError::Missing)?;
    security.join_secrets.rotate(role)?;
    let command = Command {
        at: store.clock().now(),
        ops: vec![Op::Update {
            kind: Kind::Cluster,
            id: cluster_id_of(store)?,
            expected_version: version,
            metadata: ObjectMeta {
                name: CLUSTER_OBJECT.to_owned(),
                ..ObjectMeta::default()
            },
            spec: serde_json::to_value(&security).map_err(ClusterError::Decode)?,
        }],
    };
    match apply::propose(store, command).await? {
        Executed::Ok { .. } => Ok(security.tokens()),
        Executed::Rejected(rejection) => Err(rejection.into()),
    }
}

/// The op that adds `node_id` to the removed nodes (to go in the same command as the Node's
/// deletion), or `None` when there is no cluster object or it lists the node already.
pub fn refuse_op(index: &crate::store::Index, node_id: &str) -> Option<Op> {
    let record = index.find(Kind::Cluster, None, CLUSTER_OBJECT)?;
    let mut security: ClusterSecurity = record.spec_as().ok()?;
    if node_id.is_empty() || security.removed_nodes.iter().any(|id| id == node_id) {
        return None;
    }
    security.removed_nodes.push(node_id.to_owned());
    Some(Op::Update {
        kind: Kind::Cluster,
        id: record.id.clone(),
        expected_version: record.version,
        metadata: record.metadata.clone(),
        spec: serde_json::to_value(&security).ok()?,
    })
}

/// Keeps `refused` equal to the cluster object's removed nodes until `stop` turns true (every
/// manager runs it, so a removed node is refused by all of them).
pub async fn follow_removed_nodes(
    store: Store,
    refused: std::sync::Arc<super::tls::RefusedNodes>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut events = store.subscribe();
    loop {
        if let Ok(Some((security, _))) = read(&store) {
            refused.replace(security.removed_nodes);
        }
        loop {
            let event = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                event = events.recv() => event,
            };
            match event {
                Ok(crate::store::Event::Commit { .. })
                | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// The store id of the cluster object.
fn cluster_id_of(store: &Store) -> Result<String, ClusterError> {
    store
        .read(|index| {
            index
                .find(Kind::Cluster, None, CLUSTER_OBJECT)
                .map(|r| r.id.clone())
        })
        .ok_or(ClusterError::Missing)
}

//! `swarmd join`: ask a manager for a certificate, keep it, and remember that this node joined
//! (DATA_DIR/join.json): a joined manager must never make itself a cluster of its own, and a
//! worker needs the managers' addresses on every start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wire::JoinRequest;

use super::identity::{self, Identity};
use super::{DaemonConfig, DaemonError};
use crate::pki::NodeKey;
use crate::pki::files::{self, NodeMaterial};

/// What DATA_DIR/join.json keeps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Joined {
    /// The manager `swarmd join` was pointed at.
    pub manager: String,
    /// The managers' node-to-node addresses as last learnt.
    pub managers: Vec<String>,
    /// A manager: whether the Raft group has taken it in yet (retried on restart until so).
    #[serde(default)]
    pub in_raft_group: bool,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("join.json")
}

/// The join record, if this node joined a cluster (rather than creating one).
pub(super) fn load(data_dir: &Path) -> Result<Option<Joined>, DaemonError> {
    let path = path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|source| {
            DaemonError::Identity(identity::IdentityError::Corrupt {
                path: path.display().to_string(),
                source,
            })
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DaemonError::Identity(identity::IdentityError::Io {
            path: path.display().to_string(),
            source,
        })),
    }
}

/// Writes the join record atomically.
pub(super) fn save(data_dir: &Path, joined: &Joined) -> Result<(), DaemonError> {
    let path = path(data_dir);
    let corrupt = |source| {
        DaemonError::Identity(identity::IdentityError::Corrupt {
            path: path.display().to_string(),
            source,
        })
    };
    let text = serde_json::to_vec_pretty(joined).map_err(corrupt)?;
    identity::write_file(&path, &text).map_err(DaemonError::Identity)
}

/// Joins through the manager at `manager`; on success the data dir holds this node's
/// certificate (and a manager's CA key) and the join record. On failure the new identity is
/// removed again, so the same command can be retried.
pub(super) async fn join(
    config: &DaemonConfig,
    identity: &Identity,
    advertise: &str,
    token: &str,
    manager: &str,
) -> Result<NodeMaterial, DaemonError> {
    let result = admit(config, identity, advertise, token, manager).await;
    if result.is_err() {
        identity::discard(&config.data_dir);
    }
    result
}

async fn admit(
    config: &DaemonConfig,
    identity: &Identity,
    advertise: &str,
    token: &str,
    manager: &str,
) -> Result<NodeMaterial, DaemonError> {
    let key = NodeKey::generate()?;
    let request = JoinRequest {
        token: String::new(),
        csr_pem: String::new(),
        node_id: identity.node_id.clone(),
        raft_id: identity.raft_id,
        node_name: identity.node_name.clone(),
        advertise_addr: advertise.to_owned(),
        labels: config.labels.clone(),
    };
    let admission = crate::peer::join::request(manager, token, &key, request).await?;
    let data_dir = &config.data_dir;
    files::save_node(
        data_dir,
        &admission.answer.ca_cert_pem,
        &admission.cert,
        &key,
    )?;
    if let Some(ca_key) = &admission.answer.ca_key_pem {
        files::save_ca_key(data_dir, ca_key)?;
    }
    save(
        data_dir,
        &Joined {
            manager: manager.to_owned(),
            managers: admission.answer.managers.clone(),
            in_raft_group: false,
        },
    )?;
    eprintln!(
        "swarmd: joined cluster {} as a {} (node {}, {})",
        admission.answer.cluster_id, admission.role, identity.node_name, identity.node_id
    );
    files::load_node(data_dir)?.ok_or_else(|| {
        DaemonError::Pki(crate::pki::PkiError::MissingField(
            "node certificate after saving it",
        ))
    })
}

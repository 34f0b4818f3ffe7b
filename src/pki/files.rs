//! Where a node keeps its PKI material: DATA_DIR/certificates/, private keys mode 0600.
//!
//! - `swarm-root-ca.crt`: the cluster CA certificate (every node);
//! - `swarm-root-ca.key`: the CA signing key (the manager that created the cluster);
//! - `swarm-node.crt`, `swarm-node.key`: this node's certificate and key.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use model::Timestamp;
use rustls::pki_types::CertificateDer;

use super::node::parse_pem_cert;
use super::{NodeCertificate, NodeKey, PkiError, Role, RootCa, new_cluster_id};

/// File names inside DATA_DIR/certificates.
const CA_CERT: &str = "swarm-root-ca.crt";
const CA_KEY: &str = "swarm-root-ca.key";
const NODE_CERT: &str = "swarm-node.crt";
const NODE_KEY: &str = "swarm-node.key";

/// The directory holding a data dir's PKI material.
pub fn certificates_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("certificates")
}

/// What a node needs for mutual TLS: the CA it trusts, its certificate and its key.
#[derive(Debug)]
pub struct NodeMaterial {
    pub ca_cert: CertificateDer<'static>,
    pub ca_cert_pem: String,
    pub cert: NodeCertificate,
    pub key: NodeKey,
}

impl NodeMaterial {
    /// The [`super::tls::NodeTls`] view of this material, refusing as `refusals` says.
    pub fn tls(
        &self,
        refusals: std::sync::Arc<dyn super::tls::Refusals>,
    ) -> super::tls::NodeTls<'_> {
        super::tls::NodeTls {
            ca_cert: &self.ca_cert,
            cert: &self.cert,
            key: &self.key,
            refusals,
        }
    }
}

/// Creates a new cluster's material for its first manager `node_id`: a cluster id, a root CA,
/// and a manager certificate for this node, all written to `data_dir`.
pub fn init_cluster(
    data_dir: &Path,
    node_id: &str,
    now: Timestamp,
) -> Result<(RootCa, NodeMaterial), PkiError> {
    let ca = RootCa::create(&new_cluster_id()?, now)?;
    let key = NodeKey::generate()?;
    let cert = ca.issue(&key.csr_pem()?, node_id, Role::Manager, now)?;
    let dir = certificates_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_file(&dir.join(CA_KEY), ca.key_pem().as_bytes(), 0o600)?;
    save_node(data_dir, ca.cert_pem(), &cert, &key)?;
    let node = NodeMaterial {
        ca_cert: ca.cert_der().clone(),
        ca_cert_pem: ca.cert_pem().to_owned(),
        cert,
        key,
    };
    Ok((ca, node))
}

/// Writes a node's CA certificate, certificate and key (a joiner calls this once the CA
/// signed its CSR).
pub fn save_node(
    data_dir: &Path,
    ca_cert_pem: &str,
    cert: &NodeCertificate,
    key: &NodeKey,
) -> Result<(), PkiError> {
    let dir = certificates_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_file(&dir.join(NODE_KEY), key.to_pem().as_bytes(), 0o600)?;
    write_file(&dir.join(NODE_CERT), cert.pem().as_bytes(), 0o644)?;
    write_file(&dir.join(CA_CERT), ca_cert_pem.as_bytes(), 0o644)
}

/// This node's material, or `None` if the data dir has none yet.
pub fn load_node(data_dir: &Path) -> Result<Option<NodeMaterial>, PkiError> {
    let dir = certificates_dir(data_dir);
    let Some(ca_cert_pem) = read_optional(&dir.join(CA_CERT))? else {
        return Ok(None);
    };
    let cert = NodeCertificate::from_pem(&read(&dir.join(NODE_CERT))?)?;
    let key = NodeKey::from_pem(&read(&dir.join(NODE_KEY))?)?;
    Ok(Some(NodeMaterial {
        ca_cert: parse_pem_cert(&ca_cert_pem)?,
        ca_cert_pem,
        cert,
        key,
    }))
}

/// Keeps the CA's signing key (a manager that joined gets it, so it can admit nodes too).
pub fn save_ca_key(data_dir: &Path, key_pem: &str) -> Result<(), PkiError> {
    let dir = certificates_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_file(&dir.join(CA_KEY), key_pem.as_bytes(), 0o600)
}

/// The root CA with its signing key, if this node holds it.
pub fn load_ca(data_dir: &Path) -> Result<Option<RootCa>, PkiError> {
    let dir = certificates_dir(data_dir);
    let Some(key_pem) = read_optional(&dir.join(CA_KEY))? else {
        return Ok(None);
    };
    RootCa::from_pem(&read(&dir.join(CA_CERT))?, &key_pem).map(Some)
}

/// Writes `bytes` to `path` atomically, created with `mode` (never wider, whatever the umask
/// allowed: the temporary file is made with it before any byte is written).
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PkiError> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(io(path))
}

fn read_optional(path: &Path) -> Result<Option<String>, PkiError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(io(path)(err)),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.display().to_string(),
        source,
    }
}

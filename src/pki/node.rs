//! A node's own key, its CA-signed certificate, and what a peer's certificate says.

use rcgen::{CertificateParams, DistinguishedName, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::x509::AttributeTypeAndValue;

use super::{PkiError, Role};

/// A node's private key: made on the node, never sent anywhere.
pub struct NodeKey {
    key: KeyPair,
}

impl std::fmt::Debug for NodeKey {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeKey(..)")
    }
}

impl NodeKey {
    /// A fresh key (ECDSA P-256).
    pub fn generate() -> Result<NodeKey, PkiError> {
        Ok(NodeKey {
            key: KeyPair::generate()?,
        })
    }

    /// The key kept in a data directory, PEM.
    pub fn from_pem(pem: &str) -> Result<NodeKey, PkiError> {
        Ok(NodeKey {
            key: KeyPair::from_pem(pem)?,
        })
    }

    /// The key, PEM (to store with mode 0600).
    pub fn to_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A certificate signing request for this key. It asks for no names: the CA decides the
    /// node id, role and cluster (as SwarmKit's does).
    pub fn csr_pem(&self) -> Result<String, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        Ok(params.serialize_request(&self.key)?.pem()?)
    }

    /// The key in rustls's form.
    pub(crate) fn rustls_key(&self) -> Result<PrivateKeyDer<'static>, PkiError> {
        PrivateKeyDer::try_from(self.key.serialize_der()).map_err(|reason| PkiError::Pem {
            what: "private key",
            reason: reason.to_owned(),
        })
    }
}

/// A node certificate signed by the cluster CA, and the identity it states.
#[derive(Clone, Debug)]
pub struct NodeCertificate {
    pem: String,
    der: CertificateDer<'static>,
    identity: PeerIdentity,
}

impl NodeCertificate {
    /// Reads a certificate (PEM) and the identity in it.
    pub fn from_pem(pem: &str) -> Result<NodeCertificate, PkiError> {
        let der = parse_pem_cert(pem)?;
        let identity = PeerIdentity::from_der(&der)?;
        Ok(NodeCertificate {
            pem: pem.to_owned(),
            der,
            identity,
        })
    }

    /// The certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// Node id, role and cluster id, as the certificate states them.
    pub fn identity(&self) -> &PeerIdentity {
        &self.identity
    }
}

/// Who a certificate says its holder is: CN, OU and O.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeerIdentity {
    pub node_id: String,
    pub role: Role,
    pub cluster_id: String,
}

impl PeerIdentity {
    /// Reads CN = node id, OU = role, O = cluster id from a certificate (DER). Does not check
    /// its signature: the TLS verifier did, or the caller trusts where it came from.
    pub fn from_der(der: &CertificateDer<'_>) -> Result<PeerIdentity, PkiError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Parse(e.to_string()))?;
        let subject = cert.subject();
        let node_id = first_attribute(subject.iter_common_name(), "common name (CN)")?;
        let ou = first_attribute(
            subject.iter_organizational_unit(),
            "organizational unit (OU)",
        )?;
        let role = Role::from_ou(&ou).ok_or(PkiError::UnknownRole(ou))?;
        let cluster_id = first_attribute(subject.iter_organization(), "organization (O)")?;
        Ok(PeerIdentity {
            node_id,
            role,
            cluster_id,
        })
    }
}

/// The first value of a subject attribute, as text.
pub(crate) fn first_attribute<'a>(
    mut values: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>,
    what: &'static str,
) -> Result<String, PkiError> {
    values
        .next()
        .and_then(|value| value.as_str().ok())
        .map(str::to_owned)
        .ok_or(PkiError::MissingField(what))
}

/// The first certificate in a PEM text.
pub(crate) fn parse_pem_cert(pem: &str) -> Result<CertificateDer<'static>, PkiError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| PkiError::Pem {
        what: "certificate",
        reason: e.to_string(),
    })
}

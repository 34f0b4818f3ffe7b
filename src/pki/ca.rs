//! The cluster's root CA: made by `swarmd init`, it signs every node's certificate.

use model::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::CertificateDer;

use super::ids::random_bytes;
use super::node::{NodeCertificate, parse_pem_cert};
use super::token::ca_digest;
use super::{PkiError, Role};

/// How long the root CA is valid (SwarmKit: 20 years).
const CA_VALIDITY_MS: i64 = 20 * 365 * 24 * 3600 * 1000;
/// How long a node certificate is valid (SwarmKit's default: 90 days; renewal is later work).
const NODE_VALIDITY_MS: i64 = 90 * 24 * 3600 * 1000;
/// Certificates start this much before "now", so a peer whose clock is slightly behind
/// accepts a certificate issued a moment ago.
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// The root CA: its certificate and signing key, and the cluster it belongs to.
pub struct RootCa {
    cluster_id: String,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key: KeyPair,
}

impl std::fmt::Debug for RootCa {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCa")
            .field("cluster_id", &self.cluster_id)
            .field("digest", &self.digest())
            .finish_non_exhaustive()
    }
}

impl RootCa {
    /// A new self-signed root CA for `cluster_id`, valid from `now`.
    pub fn create(cluster_id: &str, now: Timestamp) -> Result<RootCa, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "swarm-ca");
        params
            .distinguished_name
            .push(DnType::OrganizationName, cluster_id);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(serial()?);
        (params.not_before, params.not_after) = validity(now, CA_VALIDITY_MS)?;
        let cert = params.self_signed(&key)?;
        Ok(RootCa {
            cluster_id: cluster_id.to_owned(),
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key,
        })
    }

    /// The CA kept in a data directory: its certificate and key, PEM.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<RootCa, PkiError> {
        let cert_der = parse_pem_cert(cert_pem)?;
        let key = KeyPair::from_pem(key_pem)?;
        let cluster_id = ca_cluster_id(&cert_der)?;
        Ok(RootCa {
            cluster_id,
            cert_pem: cert_pem.to_owned(),
            cert_der,
            key,
        })
    }

    /// The cluster this CA signs for.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The CA certificate, PEM (what joiners fetch and pin).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The signing key, PEM (to store with mode 0600).
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The digest join tokens pin (see [`ca_digest`]).
    pub fn digest(&self) -> String {
        ca_digest(&self.cert_der)
    }

    /// Signs a node's CSR: whatever names the CSR asks for, the certificate says CN = `node_id`,
    /// OU = `role`, O = this cluster, with the role and node id as DNS names (a client dials a
    /// manager as `swarm-manager`). The CSR's signature is checked (proof the joiner holds the
    /// key).
    pub fn issue(
        &self,
        csr_pem: &str,
        node_id: &str,
        role: Role,
        now: Timestamp,
    ) -> Result<NodeCertificate, PkiError> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        let mut params = CertificateParams::new(vec![role.ou().to_owned(), node_id.to_owned()])?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, node_id);
        params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, role.ou());
        params
            .distinguished_name
            .push(DnType::OrganizationName, self.cluster_id.as_str());
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial()?);
        (params.not_before, params.not_after) = validity(now, NODE_VALIDITY_MS)?;
        let issuer = Issuer::from_ca_cert_der(&self.cert_der, &self.key)?;
        let cert = params.signed_by(&csr.public_key, &issuer)?;
        NodeCertificate::from_pem(&cert.pem())
    }
}

/// The cluster id a CA certificate names in its O.
fn ca_cluster_id(der: &CertificateDer<'_>) -> Result<String, PkiError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Parse(e.to_string()))?;
    super::node::first_attribute(cert.subject().iter_organization(), "organization (O)")
}

/// 16 random bytes, high bit clear: a positive serial that never repeats in practice.
fn serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = random_bytes::<16>()?;
    bytes[0] &= 0x7f;
    Ok(SerialNumber::from_slice(&bytes))
}

type Validity = (time::OffsetDateTime, time::OffsetDateTime);

/// From a little before `now` to `lifetime_ms` after it.
fn validity(now: Timestamp, lifetime_ms: i64) -> Result<Validity, PkiError> {
    let at = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .map_err(|e| PkiError::Parse(format!("time {ms} ms: {e}")))
    };
    Ok((
        at(now.0.saturating_sub(CLOCK_SKEW_MS))?,
        at(now.0.saturating_add(lifetime_ms))?,
    ))
}

//! rustls configs for node-to-node mutual TLS: both sides trust only the cluster's root CA,
//! present their node certificate, and refuse certificates of another cluster or of a node on
//! the refusal list (removed nodes). After the handshake, [`peer_identity`] says who the peer
//! is (node id, role, cluster id), so a handler can refuse a worker on a manager-only call.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, CommonState, DigitallySignedStruct, DistinguishedName,
    RootCertStore, ServerConfig, SignatureScheme,
};

use super::token::TokenError;
use super::{JoinToken, NodeCertificate, NodeKey, PeerIdentity, PkiError, Role};

/// Decides whether a peer whose certificate the CA signed is still welcome.
pub trait Refusals: Send + Sync + fmt::Debug {
    /// `true`: refuse this peer (its node was removed from the cluster).
    fn is_refused(&self, peer: &PeerIdentity) -> bool;
}

/// Node ids refused at the handshake; shared, so the owner (the store watcher, later) updates
/// it while configs built from it are in use.
#[derive(Debug, Default)]
pub struct RefusedNodes {
    node_ids: RwLock<HashSet<String>>,
}

impl RefusedNodes {
    /// Refuses `node_id` from now on (connections already open are the caller's to close).
    pub fn refuse(&self, node_id: &str) {
        if let Ok(mut ids) = self.node_ids.write() {
            ids.insert(node_id.to_owned());
        }
    }
}

impl RefusedNodes {
    /// Refuses exactly `node_ids` from now on.
    pub fn replace(&self, node_ids: impl IntoIterator<Item = String>) {
        if let Ok(mut ids) = self.node_ids.write() {
            *ids = node_ids.into_iter().collect();
        }
    }
}

impl Refusals for RefusedNodes {
    fn is_refused(&self, peer: &PeerIdentity) -> bool {
        // A poisoned lock refuses everyone: failing closed is the safe side.
        self.node_ids
            .read()
            .map(|ids| ids.contains(&peer.node_id))
            .unwrap_or(true)
    }
}

/// What a node needs to speak mutual TLS: the cluster's CA, its certificate and key, and who
/// to refuse.
pub struct NodeTls<'a> {
    pub ca_cert: &'a CertificateDer<'static>,
    pub cert: &'a NodeCertificate,
    pub key: &'a NodeKey,
    pub refusals: Arc<dyn Refusals>,
}

/// The name a client dials a manager by: manager certificates carry it as a DNS name, worker
/// certificates do not, so a client config refuses a worker posing as a manager.
pub fn manager_server_name() -> Result<ServerName<'static>, PkiError> {
    ServerName::try_from(Role::Manager.ou()).map_err(|e| PkiError::Parse(e.to_string()))
}

fn provider() -> Arc<CryptoProvider> {
    super::install_crypto_provider();
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_cert: &CertificateDer<'static>) -> Result<Arc<RootCertStore>, PkiError> {
    let mut roots = RootCertStore::empty();
    roots.add(ca_cert.clone())?;
    Ok(Arc::new(roots))
}

/// A server config (TLS 1.3) that checks any client certificate against the cluster CA, this
/// node's cluster and the refusal list. A client without a certificate is let through (a
/// joiner has none yet): [`peer_identity`] then fails, and every route but the join refuses it.
/// The server presents its certificate with the CA's, so a joiner can pin the CA by digest.
pub fn server_config(node: NodeTls<'_>) -> Result<Arc<ServerConfig>, PkiError> {
    let provider = provider();
    let inner = WebPkiClientVerifier::builder_with_provider(roots(node.ca_cert)?, provider.clone())
        .allow_unauthenticated()
        .build()?;
    let verifier = ClusterClientVerifier {
        inner,
        check: PeerCheck::new(node.cert, node.refusals),
    };
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![node.cert.der().clone(), node.ca_cert.clone()],
            node.key.rustls_key()?,
        )?;
    Ok(Arc::new(config))
}

/// A client config (TLS 1.3) that trusts only the cluster CA, accepts only manager
/// certificates (whatever address was dialled: nodes dial managers by IP), refuses servers of
/// another cluster or on the refusal list, and presents this node's certificate.
pub fn client_config(node: NodeTls<'_>) -> Result<Arc<ClientConfig>, PkiError> {
    let provider = provider();
    let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
        roots(node.ca_cert)?,
        provider.clone(),
    )
    .build()?;
    let verifier = ClusterServerVerifier {
        inner,
        check: PeerCheck::new(node.cert, node.refusals),
        manager_name: manager_server_name()?,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(vec![node.cert.der().clone()], node.key.rustls_key()?)?;
    Ok(Arc::new(config))
}

/// Who the peer of a finished handshake is (its verified certificate's CN, OU and O).
pub fn peer_identity(connection: &CommonState) -> Result<PeerIdentity, PkiError> {
    let certs = connection
        .peer_certificates()
        .ok_or(PkiError::MissingField("peer certificate"))?;
    let leaf = certs
        .first()
        .ok_or(PkiError::MissingField("peer certificate"))?;
    PeerIdentity::from_der(leaf)
}

/// The checks both sides add to the CA's signature: same cluster, not refused.
#[derive(Debug)]
struct PeerCheck {
    cluster_id: String,
    refusals: Arc<dyn Refusals>,
}

impl PeerCheck {
    fn new(own: &NodeCertificate, refusals: Arc<dyn Refusals>) -> PeerCheck {
        PeerCheck {
            cluster_id: own.identity().cluster_id.clone(),
            refusals,
        }
    }

    fn check(&self, end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let peer = PeerIdentity::from_der(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        if peer.cluster_id != self.cluster_id {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ));
        }
        if self.refusals.is_refused(&peer) {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
        }
        Ok(())
    }
}

/// The handshake-signature checks of a verifier, left to its `inner` WebPKI verifier (only
/// the certificate checks are ours).
macro_rules! delegate_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.inner.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.inner.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.inner.supported_verify_schemes()
        }
    };
}

#[derive(Debug)]
struct ClusterClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    check: PeerCheck,
}

impl ClientCertVerifier for ClusterClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    /// As the inner verifier says: optional, so a joiner without a certificate gets through
    /// the handshake (and only to the join route).
    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        self.check.check(end_entity)?;
        Ok(verified)
    }

    delegate_signatures!();
}

#[derive(Debug)]
struct ClusterServerVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    check: PeerCheck,
    manager_name: ServerName<'static>,
}

impl ServerCertVerifier for ClusterServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Nodes dial managers by address; what matters is that the peer holds a manager
        // certificate of this cluster, whose DNS name is the manager role's.
        let _ = server_name;
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            &self.manager_name,
            ocsp_response,
            now,
        )?;
        self.check.check(end_entity)?;
        Ok(verified)
    }

    delegate_signatures!();
}

/// What a joiner learnt from the manager's handshake: the CA it pinned by the token's digest,
/// or why the presented chain was refused (for an error message better than TLS's).
#[derive(Debug, Default)]
pub struct PinnedCa {
    outcome: Mutex<Option<Result<CertificateDer<'static>, TokenError>>>,
}

impl PinnedCa {
    /// The pinned CA certificate, once a handshake accepted it.
    pub fn certificate(&self) -> Option<CertificateDer<'static>> {
        self.lock().clone().and_then(Result::ok)
    }

    /// Why the last handshake's chain was refused, if it was.
    pub fn refusal(&self) -> Option<TokenError> {
        self.lock().clone().and_then(Result::err)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<Result<CertificateDer<'static>, TokenError>>> {
        self.outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A client config for a joiner, who has no certificate and does not know the CA yet: the
/// manager must present, beside its manager certificate, a CA whose digest is the one `token`
/// pins, and its certificate must chain to that CA. This holds before the joiner sends
/// anything (the token's secret, its CSR).
pub fn join_client_config(
    token: &JoinToken,
) -> Result<(Arc<ClientConfig>, Arc<PinnedCa>), PkiError> {
    let provider = provider();
    let pinned = Arc::new(PinnedCa::default());
    let verifier = PinningVerifier {
        token: token.clone(),
        provider: provider.clone(),
        manager_name: manager_server_name()?,
        pinned: pinned.clone(),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok((Arc::new(config), pinned))
}

#[derive(Debug)]
struct PinningVerifier {
    token: JoinToken,
    provider: Arc<CryptoProvider>,
    manager_name: ServerName<'static>,
    pinned: Arc<PinnedCa>,
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut refusal = None;
        let ca = intermediates
            .iter()
            .find_map(|der| match self.token.pin(der) {
                Ok(()) => Some(der.clone().into_owned()),
                Err(err) => {
                    refusal = Some(err);
                    None
                }
            });
        let Some(ca) = ca else {
            *self.pinned.lock() = Some(Err(refusal.unwrap_or(TokenError::NoCaPresented)));
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ));
        };
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone())?;
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            self.provider.clone(),
        )
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
        let verified =
            inner.verify_server_cert(end_entity, &[], &self.manager_name, ocsp_response, now)?;
        *self.pinned.lock() = Some(Ok(ca));
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

//! The HTTPS client a node dials managers with: it presents this node's certificate and accepts
//! only manager certificates of this cluster (see [`crate::pki::tls::client_config`]).

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;

/// How long to wait for a TCP connection to a manager before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// An mTLS HTTP client for node-to-node calls; cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct PeerClient {
    http: reqwest::Client,
}

impl PeerClient {
    /// A client speaking TLS as `tls` says.
    pub fn new(tls: Arc<ClientConfig>) -> Result<PeerClient, reqwest::Error> {
        crate::pki::install_crypto_provider();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(CONNECT_TIMEOUT)
            // Node-to-node traffic is direct; an HTTP_PROXY meant for pulls must not capture it.
            .no_proxy()
            .build()?;
        Ok(PeerClient { http })
    }

    /// The underlying HTTP client (Raft's network and the agent's session use it).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The URL of `path` on the node listening at `addr` (`host:port`).
    pub fn url(addr: &str, path: &str) -> String {
        format!("https://{addr}{path}")
    }
}

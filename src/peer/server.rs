//! The node-to-node listener: TLS 1.3 with the cluster CA (see [`crate::pki::tls`]), HTTP/1.1
//! inside. A client certificate is optional at the handshake (a joiner has none yet); what the
//! caller may do is decided per route from the [`Caller`] extension.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::pki::{PeerIdentity, Role};

/// A TLS handshake taking longer than this is dropped (a stuck or hostile client).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is calling: the identity in the client's verified certificate, if it presented one.
#[derive(Clone, Debug)]
pub struct Caller(pub Option<PeerIdentity>);

/// Serves `app` on `listener` over TLS until `stop` turns true; open connections are dropped
/// then (node-to-node clients retry elsewhere).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        match accepted {
            Ok((tcp, remote)) => {
                connections.spawn(connection(acceptor.clone(), tcp, remote, app.clone()));
            }
            // Out of file descriptors and the like: keep serving the connections there are.
            Err(err) => {
                tracing::warn!(%err, "node-to-node listener cannot accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    connections.abort_all();
}

async fn connection(acceptor: TlsAcceptor, tcp: TcpStream, remote: SocketAddr, app: Router) {
    let _ = tcp.set_nodelay(true);
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => {
            tracing::debug!(%remote, %err, "node-to-node TLS handshake refused");
            return;
        }
        Err(_) => {
            tracing::debug!(%remote, "node-to-node TLS handshake timed out");
            return;
        }
    };
    let caller = crate::pki::tls::peer_identity(stream.get_ref().1).ok();
    let service = TowerToHyperService::new(app.layer(Extension(Caller(caller))));
    let served = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(err) = served {
        tracing::debug!(%remote, %err, "node-to-node connection ended");
    }
}

/// Middleware refusing callers without a certificate or, when `role` is `Some`, without that
/// role: `router.layer(axum::middleware::from_fn(require(Some(Role::Manager))))`.
pub fn require(
    role: Option<Role>,
) -> impl Fn(Request, Next) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>> + Clone {
    move |request: Request, next: Next| {
        Box::pin(async move {
            let caller = request
                .extensions()
                .get::<Caller>()
                .and_then(|caller| caller.0.clone());
            match (caller, role) {
                (None, _) => refuse(
                    StatusCode::UNAUTHORIZED,
                    "this call needs a node certificate of this cluster; join the cluster first"
                        .to_owned(),
                ),
                (Some(peer), Some(role)) if peer.role != role => refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "node {} is a {}; this call is for {role}s only",
                        peer.node_id, peer.role
                    ),
                ),
                _ => next.run(request).await,
            }
        })
    }
}

fn refuse(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "message": message }))).into_response()
}

//! Mutual TLS between two nodes' configs over real TCP on 127.0.0.1: the peer's role, node id
//! and cluster come out of the handshake; another cluster's certificates, refused nodes, and
//! a worker posing as a manager are turned away.

use std::sync::Arc;

use model::Timestamp;
use swarm::pki::tls::{self, NodeTls, Refusals, RefusedNodes};
use swarm::pki::{
    NodeCertificate, NodeKey, PeerIdentity, Role, RootCa, new_cluster_id, new_node_id,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Now, for certificate validity (rustls checks it against the real clock).
fn now() -> Timestamp {
    swarm::clock::Clock::system().now()
}

/// A node of a cluster: its CA certificate, key and certificate.
struct Node {
    ca: rustls::pki_types::CertificateDer<'static>,
    key: NodeKey,
    cert: NodeCertificate,
}

impl Node {
    fn of(ca: &RootCa, role: Role) -> Node {
        let key = NodeKey::generate().expect("key");
        let id = new_node_id().expect("id");
        let cert = ca
            .issue(&key.csr_pem().expect("csr"), &id, role, now())
            .expect("signed");
        Node {
            ca: ca.cert_der().clone(),
            key,
            cert,
        }
    }

    fn tls(&self, refusals: Arc<dyn Refusals>) -> NodeTls<'_> {
        NodeTls {
            ca_cert: &self.ca,
            cert: &self.cert,
            key: &self.key,
            refusals,
        }
    }
}

fn cluster() -> RootCa {
    RootCa::create(&new_cluster_id().expect("id"), now()).expect("CA")
}

fn nobody() -> Arc<dyn Refusals> {
    Arc::new(RefusedNodes::default())
}

/// Runs one handshake and one message between `server` and `client` (dialling
/// `swarm-manager`): what the server learnt of its peer, and what the client did.
async fn handshake(
    server: &Node,
    server_refusals: Arc<dyn Refusals>,
    client: &Node,
) -> (Result<PeerIdentity, String>, Result<PeerIdentity, String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor =
        TlsAcceptor::from(tls::server_config(server.tls(server_refusals)).expect("server config"));
    let connector =
        TlsConnector::from(tls::client_config(client.tls(nobody())).expect("client config"));
    let serve = async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut stream = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        let peer = tls::peer_identity(stream.get_ref().1).map_err(|e| e.to_string())?;
        let mut ping = [0u8; 4];
        stream
            .read_exact(&mut ping)
            .await
            .map_err(|e| e.to_string())?;
        stream.write_all(b"pong").await.map_err(|e| e.to_string())?;
        stream.flush().await.map_err(|e| e.to_string())?;
        Ok(peer)
    };
    let dial = async move {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let name = tls::manager_server_name().map_err(|e| e.to_string())?;
        let mut stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let peer = tls::peer_identity(stream.get_ref().1).map_err(|e| e.to_string())?;
        stream.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut pong = [0u8; 4];
        // In TLS 1.3 the client finishes first; a server that refuses its certificate shows
        // here, as an alert or a closed stream.
        stream
            .read_exact(&mut pong)
            .await
            .map_err(|e| e.to_string())?;
        Ok(peer)
    };
    tokio::join!(serve, dial)
}

#[tokio::test]
async fn a_worker_and_a_manager_of_one_cluster_learn_each_others_identity() {
    let ca = cluster();
    let manager = Node::of(&ca, Role::Manager);
    let worker = Node::of(&ca, Role::Worker);
    let (server_saw, client_saw) = handshake(&manager, nobody(), &worker).await;
    let server_saw = server_saw.expect("server accepted the worker");
    let client_saw = client_saw.expect("worker reached the manager");
    assert_eq!(&server_saw, worker.cert.identity());
    assert_eq!(
        server_saw.role,
        Role::Worker,
        "a worker is told apart from a manager"
    );
    assert_eq!(client_saw.role, Role::Manager);
    assert_eq!(client_saw.cluster_id, ca.cluster_id());
}

#[tokio::test]
async fn a_certificate_from_another_clusters_ca_is_refused() {
    let ours = cluster();
    let theirs = cluster();
    let manager = Node::of(&ours, Role::Manager);
    let stranger = Node::of(&theirs, Role::Manager);
    let (server_saw, client_saw) = handshake(&manager, nobody(), &stranger).await;
    assert!(
        server_saw.is_err(),
        "server accepted a stranger: {server_saw:?}"
    );
    // The stranger does not trust our CA either.
    assert!(
        client_saw.is_err(),
        "stranger trusted our manager: {client_saw:?}"
    );
}

#[tokio::test]
async fn a_refused_nodes_certificate_is_turned_away() {
    let ca = cluster();
    let manager = Node::of(&ca, Role::Manager);
    let removed = Node::of(&ca, Role::Worker);
    let refusals = Arc::new(RefusedNodes::default());
    refusals.refuse(&removed.cert.identity().node_id);
    let (server_saw, client_saw) = handshake(&manager, refusals.clone(), &removed).await;
    let err = server_saw.expect_err("the removed node was accepted");
    assert!(err.to_lowercase().contains("revoked"), "{err}");
    assert!(client_saw.is_err(), "{client_saw:?}");
    // Another node of the cluster still gets in.
    let other = Node::of(&ca, Role::Worker);
    let (server_saw, _) = handshake(&manager, refusals, &other).await;
    assert!(server_saw.is_ok(), "{server_saw:?}");
}

#[tokio::test]
async fn a_worker_cannot_pose_as_a_manager() {
    let ca = cluster();
    let worker = Node::of(&ca, Role::Worker);
    let manager = Node::of(&ca, Role::Manager);
    // The client dials `swarm-manager`; a worker's certificate does not carry that name.
    let (server_saw, client_saw) = handshake(&worker, nobody(), &manager).await;
    assert!(client_saw.is_err(), "client trusted a worker as a manager");
    assert!(server_saw.is_err());
}

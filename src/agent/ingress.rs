//! The routing mesh on one node: for every published ingress port, a TCP (and UDP) proxy on
//! `0.0.0.0:<published>` that spreads connections round-robin over the service's running tasks.
//! Workers publish their backends in a watch channel; listeners follow it. A connection already
//! proxied outlives its backend's removal (it finishes); only new ones go elsewhere.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use model::service::Protocol;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

/// How long a new connection waits for a backend when there is none (a rolling update
/// between the old task leaving and the new one becoming ready).
const WAIT_FOR_BACKEND: Duration = Duration::from_secs(5);
/// How long connecting to one backend may take before the next is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A UDP client silent this long loses its session.
const UDP_IDLE: Duration = Duration::from_secs(30);
/// Retry period for ports that could not be bound.
const REBIND_PERIOD: Duration = Duration::from_secs(2);

/// One task's part in one published port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Backend {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The port published on the node.
    pub published: u16,
    /// The task's container address and target port while it serves; `None` while it starts
    /// or stops (the port stays open for it, connections go to the others).
    pub addr: Option<SocketAddr>,
}

/// Every live task's backends, by task id.
pub type Backends = BTreeMap<String, Vec<Backend>>;

type Key = (Protocol, u16);

struct Listener {
    targets: watch::Sender<Vec<SocketAddr>>,
    accept: JoinHandle<()>,
}

/// Serves the routing mesh on `ip` until the backends' sender is dropped.
pub async fn serve(mut backends: watch::Receiver<Backends>, ip: IpAddr) {
    let mut listeners: HashMap<Key, Listener> = HashMap::new();
    loop {
        let wanted = routes(&backends.borrow_and_update());
        listeners.retain(|key, l| {
            let keep = wanted.contains_key(key);
            if !keep {
                tracing::info!(port = key.1, protocol = %key.0, "closing ingress port");
                // Only the accept loop stops: proxied connections run in their own tasks.
                l.accept.abort();
            }
            keep
        });
        let mut unbound = false;
        for (key, targets) in wanted {
            if let Some(l) = listeners.get(&key) {
                l.targets.send_if_modified(|t| replace(t, &targets));
                continue;
            }
            match listen(key, ip, targets).await {
                Ok(l) => {
                    tracing::info!(port = key.1, protocol = %key.0, "opened ingress port");
                    listeners.insert(key, l);
                }
                Err(e) => {
                    tracing::warn!(port = key.1, protocol = %key.0, error = %e, "cannot open ingress port");
                    unbound = true;
                }
            }
        }
        let rebind = async {
            if unbound {
                tokio::time::sleep(REBIND_PERIOD).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            changed = backends.changed() => if changed.is_err() { break },
            () = rebind => {}
        }
    }
    for l in listeners.into_values() {
        l.accept.abort();
    }
}

/// Serving addresses grouped by published port, sorted so round-robin order is stable; a port
/// stays while any live task publishes it, even with no address serving right now.
fn routes(backends: &Backends) -> BTreeMap<Key, Vec<SocketAddr>> {
    let mut routes: BTreeMap<Key, Vec<SocketAddr>> = BTreeMap::new();
    for b in backends.values().flatten() {
        if b.protocol != Protocol::Sctp {
            let targets = routes.entry((b.protocol, b.published)).or_default();
            targets.extend(b.addr);
        }
    }
    for targets in routes.values_mut() {
        targets.sort();
        targets.dedup();
    }
    routes
}

fn replace(current: &mut Vec<SocketAddr>, new: &[SocketAddr]) -> bool {
    if current.as_slice() == new {
        return false;
    }
    *current = new.to_vec();
    true
}

async fn listen(key: Key, ip: IpAddr, targets: Vec<SocketAddr>) -> std::io::Result<Listener> {
    let (tx, rx) = watch::channel(targets);
    let addr = SocketAddr::new(ip, key.1);
    let accept = match key.0 {
        Protocol::Udp => {
            let socket = Arc::new(UdpSocket::bind(addr).await?);
            tokio::spawn(udp_loop(socket, rx))
        }
        _ => {
            let listener = TcpListener::bind(addr).await?;
            tokio::spawn(tcp_loop(listener, rx))
        }
    };
    Ok(Listener {
        targets: tx,
        accept,
    })
}

async fn tcp_loop(listener: TcpListener, targets: watch::Receiver<Vec<SocketAddr>>) {
    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let (client, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "ingress accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let targets = targets.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let Some(mut upstream) = connect(targets, &next).await else {
                tracing::debug!(%peer, "no backend for ingress connection");
                return;
            };
            let mut client = client;
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        });
    }
}

/// Connects to the next backend in turn, trying the others if it does not answer, waiting a
/// little when there is none at all.
async fn connect(
    mut targets: watch::Receiver<Vec<SocketAddr>>,
    next: &AtomicUsize,
) -> Option<TcpStream> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_BACKEND;
    loop {
        let current = targets.borrow_and_update().clone();
        for _ in 0..current.len() {
            let addr = current[next.fetch_add(1, Ordering::Relaxed) % current.len()];
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => return Some(stream),
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "ingress backend refused"),
                Err(_) => tracing::debug!(%addr, "ingress backend timed out"),
            }
        }
        match tokio::time::timeout_at(deadline, targets.changed()).await {
            Ok(Ok(())) => {}
            _ => return None,
        }
    }
}

async fn udp_loop(socket: Arc<UdpSocket>, targets: watch::Receiver<Vec<SocketAddr>>) {
    let sessions: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
    let mut next = 0usize;
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, client) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                tracing::debug!(error = %e, "ingress udp receive failed");
                continue;
            }
        };
        let existing = sessions.lock().await.get(&client).cloned();
        let upstream = match existing {
            Some(upstream) => upstream,
            None => {
                let current = targets.borrow().clone();
                if current.is_empty() {
                    continue;
                }
                let backend = current[next % current.len()];
                next = next.wrapping_add(1);
                match udp_session(socket.clone(), client, backend, sessions.clone()).await {
                    Ok(upstream) => upstream,
                    Err(e) => {
                        tracing::debug!(%backend, error = %e, "ingress udp session failed");
                        continue;
                    }
                }
            }
        };
        let _ = upstream.send(&buf[..n]).await;
    }
}

/// A socket connected to `backend` for one client, relaying replies until idle.
async fn udp_session(
    listener: Arc<UdpSocket>,
    client: SocketAddr,
    backend: SocketAddr,
    sessions: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>>,
) -> std::io::Result<Arc<UdpSocket>> {
    let any: SocketAddr = if backend.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let upstream = Arc::new(UdpSocket::bind(any).await?);
    upstream.connect(backend).await?;
    sessions.lock().await.insert(client, upstream.clone());
    let relay = upstream.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        while let Ok(Ok(n)) = tokio::time::timeout(UDP_IDLE, relay.recv(&mut buf)).await {
            if listener.send_to(&buf[..n], client).await.is_err() {
                break;
            }
        }
        sessions.lock().await.remove(&client);
    });
    Ok(upstream)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A backend that answers every connection with its name.
    async fn named_backend(name: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(name.as_bytes()).await;
            }
        });
        addr
    }

    async fn free_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr").port()
    }

    async fn ask(port: u16) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
                let mut out = String::new();
                if s.read_to_string(&mut out).await.is_ok() && !out.is_empty() {
                    return out;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "port {port} never answered"
            );
            tokio::task::yield_now().await;
        }
    }

    fn backend(port: u16, addr: SocketAddr) -> Vec<Backend> {
        vec![Backend {
            protocol: Protocol::Tcp,
            published: port,
            addr: Some(addr),
        }]
    }

    #[tokio::test]
    async fn balances_round_robin_and_follows_backends() {
        let (a, b) = (named_backend("a").await, named_backend("b").await);
        let port = free_port().await;
        let (tx, rx) = watch::channel(Backends::from([
            ("t1".to_string(), backend(port, a)),
            ("t2".to_string(), backend(port, b)),
        ]));
        let server = tokio::spawn(serve(rx, [127, 0, 0, 1].into()));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..4 {
            seen.insert(ask(port).await);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["a", "b"]);

        tx.send_modify(|b| {
            b.remove("t1");
        });
        for _ in 0..4 {
            // The removal may take a moment to reach the listener; "b" must win soon after.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while ask(port).await != "b" {
                assert!(tokio::time::Instant::now() < deadline, "t1 still served");
            }
        }
        // A task that publishes the port but does not serve yet keeps it open.
        tx.send_modify(|b| {
            b.insert(
                "t3".into(),
                vec![Backend {
                    protocol: Protocol::Tcp,
                    published: port,
                    addr: None,
                }],
            );
            b.remove("t2");
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "the port closed");
        }
        tx.send_modify(|b| b.clear());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the port stays open with no task"
            );
            tokio::task::yield_now().await;
        }
        drop(tx);
        server
            .await
            .expect("server ends when the agent drops the backends");
    }

    /// A UDP backend that answers every datagram with its name.
    async fn udp_named_backend(name: &'static str) -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((_, from)) = socket.recv_from(&mut buf).await {
                let _ = socket.send_to(name.as_bytes(), from).await;
            }
        });
        addr
    }

    async fn free_udp_port() -> u16 {
        let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        s.local_addr().expect("addr").port()
    }

    /// Sends from `client` to the published port until a reply comes (the listener may not be
    /// up yet, and UDP drops what nobody listens for).
    async fn ask_udp(client: &UdpSocket, port: u16) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 512];
        loop {
            client
                .send_to(b"who?", ("127.0.0.1", port))
                .await
                .expect("send");
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(100), client.recv(&mut buf)).await
            {
                return String::from_utf8_lossy(&buf[..n]).into_owned();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "udp port {port} never answered"
            );
        }
    }

    fn udp_backend(port: u16, addr: SocketAddr) -> Vec<Backend> {
        vec![Backend {
            protocol: Protocol::Udp,
            published: port,
            addr: Some(addr),
        }]
    }

    #[tokio::test]
    async fn udp_balances_clients_and_keeps_each_client_on_its_task() {
        let (a, b) = (udp_named_backend("a").await, udp_named_backend("b").await);
        let port = free_udp_port().await;
        let (tx, rx) = watch::channel(Backends::from([
            ("t1".to_string(), udp_backend(port, a)),
            ("t2".to_string(), udp_backend(port, b)),
        ]));
        let server = tokio::spawn(serve(rx, [127, 0, 0, 1].into()));

        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..4 {
            let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
            let first = ask_udp(&client, port).await;
            for _ in 0..3 {
                assert_eq!(
                    ask_udp(&client, port).await,
                    first,
                    "a client stays on its task"
                );
            }
            seen.insert(first);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["a", "b"]);

        tx.send_modify(|b| {
            b.remove("t1");
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            // New clients only: an existing session keeps its backend until it idles out. New
            // sessions alternate between the backends, so two "b" in a row mean t1 is gone.
            let mut answers = Vec::new();
            for _ in 0..2 {
                let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
                answers.push(ask_udp(&client, port).await);
            }
            if answers == ["b", "b"] {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "t1 still served");
        }
        drop(tx);
        server
            .await
            .expect("server ends when the agent drops the backends");
    }
}

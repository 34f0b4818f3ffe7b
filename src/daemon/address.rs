//! The address other nodes dial this one at (`--advertise-addr`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// `flag` if given (`HOST` alone takes the bound port); otherwise the bound address, with this
/// host's outgoing address when bound to all interfaces (as `docker swarm init` picks one).
pub(super) fn advertise(flag: Option<&str>, bound: SocketAddr) -> String {
    if let Some(addr) = flag {
        return if addr.parse::<SocketAddr>().is_ok() || has_port(addr) {
            addr.to_owned()
        } else {
            format!("{addr}:{}", bound.port())
        };
    }
    let ip = if bound.ip().is_unspecified() {
        outgoing_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        bound.ip()
    };
    SocketAddr::new(ip, bound.port()).to_string()
}

/// `host:port` with a numeric port (not an IPv6 address alone).
fn has_port(addr: &str) -> bool {
    addr.rsplit_once(':')
        .is_some_and(|(host, port)| !host.contains(':') && port.parse::<u16>().is_ok())
}

/// The source address of this host's default route: connecting a UDP socket only looks the
/// route up, nothing is sent.
fn outgoing_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    // TEST-NET-1: never routed anywhere real, but it selects the default route's interface.
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_address_wins_and_a_bare_host_takes_the_bound_port() {
        let bound: SocketAddr = "0.0.0.0:4243".parse().unwrap();
        assert_eq!(advertise(Some("10.0.0.5:5000"), bound), "10.0.0.5:5000");
        assert_eq!(advertise(Some("10.0.0.5"), bound), "10.0.0.5:4243");
        assert_eq!(advertise(Some("node-a.lan"), bound), "node-a.lan:4243");
    }

    #[test]
    fn a_specific_bind_address_is_advertised_as_is() {
        let bound: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(advertise(None, bound), "127.0.0.1:40001");
    }

    #[test]
    fn all_interfaces_advertise_a_concrete_address() {
        let bound: SocketAddr = "0.0.0.0:4243".parse().unwrap();
        let addr: SocketAddr = advertise(None, bound).parse().unwrap();
        assert!(!addr.ip().is_unspecified());
        assert_eq!(addr.port(), 4243);
    }
}

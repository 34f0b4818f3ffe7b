//! The testbed's wiring: a host bridge, a namespace per node joined to it by a veth, the host
//! FORWARD rule that lets bridged frames through, and the `raw`-table rules that cut nodes off.

use std::net::Ipv4Addr;
use std::process::Command;

use crate::cmd::{ip_batch, iptables, run};
use crate::error::Result;
use crate::layout::Layout;

/// The host's FORWARD rule for the bridge, without the leading `-I`/`-D`: the host engine sets
/// the FORWARD policy to DROP and bridged frames pass through it (br_netfilter).
fn forward_rule(bridge: &str) -> [&str; 7] {
    ["FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"]
}

/// Creates the bridge with the host's address on it and lets frames cross it.
pub(crate) fn create_bridge(layout: Layout) -> Result<()> {
    let bridge = layout.bridge();
    ip_batch(
        None,
        &[
            format!("link add {bridge} type bridge"),
            format!("addr add {}/24 dev {bridge}", layout.host_addr()),
            format!("link set {bridge} up"),
        ],
    )?;
    let mut insert = vec!["-I"];
    insert.extend(forward_rule(&bridge));
    iptables(None, &insert).map(drop)
}

/// Creates node `index`'s namespace `netns`: a veth to the bridge, `eth0` with its address,
/// loopback, and a default route via the host.
pub(crate) fn create_node(layout: Layout, index: usize, netns: &str) -> Result<Ipv4Addr> {
    let (host_end, node_end) = (layout.host_veth(index), layout.peer_veth(index));
    let addr = layout.node_addr(index);
    run(Command::new("ip").args(["netns", "add", netns]))?;
    ip_batch(
        None,
        &[
            format!("link add {host_end} type veth peer name {node_end}"),
            format!("link set {node_end} netns {netns}"),
            format!("link set {host_end} master {} up", layout.bridge()),
        ],
    )?;
    ip_batch(
        Some(netns),
        &[
            format!("link set {node_end} name eth0"),
            format!("addr add {addr}/24 dev eth0"),
            "link set eth0 up".to_owned(),
            "link set lo up".to_owned(),
            format!("route add default via {}", layout.host_addr()),
        ],
    )?;
    Ok(addr)
}

/// A cut: inside `netns`, drop what arrives on `eth0` from `peer` and what leaves `eth0`
/// for it. In the `raw` table, because filter INPUT rules miss traffic to published ports
/// (Docker DNATs it through FORWARD); limited to `eth0` so the node still reaches its own
/// address over loopback.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cut {
    pub(crate) netns: String,
    /// An address or subnet in CIDR form.
    pub(crate) peer: String,
}

impl Cut {
    fn apply(&self, op: &str) -> Result<()> {
        for (chain, iface, addr) in [("PREROUTING", "-i", "-s"), ("OUTPUT", "-o", "-d")] {
            iptables(
                Some(&self.netns),
                &[
                    "-t", "raw", op, chain, iface, "eth0", addr, &self.peer, "-j", "DROP",
                ],
            )?;
        }
        Ok(())
    }

    /// Inserts the rules.
    pub(crate) fn add(&self) -> Result<()> {
        self.apply("-I")
    }

    /// Deletes the rules.
    pub(crate) fn remove(&self) -> Result<()> {
        self.apply("-D")
    }
}

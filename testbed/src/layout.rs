//! Where a testbed's pieces live and what they are called: everything derives from its slot,
//! so parallel testbeds never collide and a crashed run's leftovers can be found by name.

use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Prefix of every namespace, link and directory a testbed creates (and of nothing else).
pub(crate) const PREFIX: &str = "swtb";

/// How many testbeds can run at once (one /24 each in 10.213.0.0/16).
pub(crate) const SLOTS: u8 = 64;

/// The most nodes one testbed holds (their engines get 172.31.(1..=MAX_NODES).1/24).
pub(crate) const MAX_NODES: usize = 32;

/// Directory holding every testbed's files: on the root filesystem, which the engines'
/// fuse-overlayfs storage is known to work on.
pub(crate) const ROOT: &str = "/var/lib/swarm-testbed";

/// The names and addresses of the testbed in slot `slot`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) slot: u8,
}

impl Layout {
    /// The lock file a running testbed holds for its slot.
    pub(crate) fn lock_path(slot: u8) -> PathBuf {
        PathBuf::from(ROOT).join(format!("slot-{slot}.lock"))
    }

    /// The testbed's directory (engines' data, sockets, process logs).
    pub(crate) fn dir(self) -> PathBuf {
        PathBuf::from(ROOT).join(format!("{PREFIX}{}", self.slot))
    }

    /// The host bridge joining the nodes.
    pub(crate) fn bridge(self) -> String {
        format!("{PREFIX}{}br", self.slot)
    }

    /// The host end of node `index`'s veth.
    pub(crate) fn host_veth(self, index: usize) -> String {
        format!("{PREFIX}{}v{index}", self.slot)
    }

    /// The node end of node `index`'s veth before it is renamed `eth0` in the namespace.
    pub(crate) fn peer_veth(self, index: usize) -> String {
        format!("{PREFIX}{}p{index}", self.slot)
    }

    /// The network namespace of node `node`.
    pub(crate) fn netns(self, node: &str) -> String {
        format!("{PREFIX}{}-{node}", self.slot)
    }

    /// The bridge's subnet, `10.213.SLOT.0/24`.
    pub(crate) fn subnet(self) -> String {
        format!("10.213.{}.0/24", self.slot)
    }

    /// The host's address on the bridge (the nodes' default gateway).
    pub(crate) fn host_addr(self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.slot, 1)
    }

    /// Node `index`'s `eth0` address.
    pub(crate) fn node_addr(self, index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.slot, 10 + index as u8)
    }

    /// Node `index`'s engine bridge (`--bip`): distinct per node so container subnets never
    /// overlap between nodes (overlay tests route between them).
    pub(crate) fn bip(self, index: usize) -> String {
        format!("172.31.{}.1/24", index + 1)
    }
}

/// The slot a testbed name (`swtb12br`, `swtb3-a`, `swtb7`) belongs to, if it is one.
pub(crate) fn slot_of(name: &str) -> Option<u8> {
    let rest = name.strip_prefix(PREFIX)?;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    rest[..digits].parse().ok().filter(|slot| *slot < SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_of_reads_the_digits_after_the_prefix() {
        assert_eq!(slot_of("swtb12br"), Some(12));
        assert_eq!(slot_of("swtb1-node10"), Some(1));
        assert_eq!(slot_of("swtb3"), Some(3));
        assert_eq!(slot_of("swtbbr"), None);
        assert_eq!(slot_of("docker0"), None);
        assert_eq!(slot_of("swtb99br"), None, "beyond the slot range: not ours");
    }

    #[test]
    fn names_fit_the_kernel_interface_name_limit() {
        let layout = Layout { slot: SLOTS - 1 };
        for name in [
            layout.bridge(),
            layout.host_veth(MAX_NODES - 1),
            layout.peer_veth(MAX_NODES - 1),
        ] {
            assert!(name.len() <= 15, "{name} is longer than IFNAMSIZ-1");
            assert_eq!(slot_of(&name), Some(SLOTS - 1));
        }
    }
}

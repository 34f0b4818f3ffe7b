//! Finding and removing what a testbed left behind: the pieces of a crashed earlier run (found
//! by the harness's name prefix in slots nobody holds) and, at teardown, a testbed's own.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::cmd::{self, iptables, run};
use crate::engine;
use crate::error::{Error, Result};
use crate::layout::{Layout, ROOT, slot_of};

/// Everything on the machine that carries the harness's prefix, read once.
#[derive(Debug, Default)]
pub(crate) struct Inventory {
    netns: Vec<String>,
    links: Vec<String>,
    /// `iptables -S FORWARD` lines naming a testbed bridge.
    forward_rules: Vec<String>,
    dirs: Vec<String>,
}

impl Inventory {
    /// Reads the namespaces, links, FORWARD rules and directories of every testbed.
    pub(crate) fn take() -> Result<Inventory> {
        let netns = run(Command::new("ip").args(["netns", "list"]))?;
        let links = run(Command::new("ip").args(["-o", "link", "show"]))?;
        let rules = iptables(None, &["-S", "FORWARD"])?;
        let dirs = match std::fs::read_dir(ROOT) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| slot_of(name).is_some())
                .collect(),
            Err(_) => Vec::new(),
        };
        Ok(Inventory {
            // "NAME (id: 3)" or "NAME".
            netns: lines(&netns.stdout)
                .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
                .filter(|n| slot_of(n).is_some())
                .collect(),
            // "12: NAME@if11: <...>".
            links: lines(&links.stdout)
                .filter_map(|l| l.split(": ").nth(1))
                .map(|n| n.split('@').next().unwrap_or(n).to_owned())
                .filter(|n| slot_of(n).is_some())
                .collect(),
            forward_rules: lines(&rules.stdout)
                .filter(|l| {
                    l.starts_with("-A ") && l.split_whitespace().any(|t| slot_of(t).is_some())
                })
                .map(str::to_owned)
                .collect(),
            dirs,
        })
    }

    /// The slots that have anything left.
    pub(crate) fn slots(&self) -> BTreeSet<u8> {
        self.netns
            .iter()
            .chain(&self.links)
            .chain(&self.dirs)
            .filter_map(|n| slot_of(n))
            .chain(self.forward_rules.iter().flat_map(|r| rule_slots(r)))
            .collect()
    }
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = &str> {
    std::str::from_utf8(bytes).unwrap_or("").lines()
}

fn rule_slots(rule: &str) -> impl Iterator<Item = u8> + '_ {
    rule.split_whitespace().filter_map(slot_of)
}

/// Removes everything `inventory` lists for `slot`: the processes in its namespaces (engines
/// first, so their containers stop), the namespaces, links, FORWARD rules, mounts and files.
/// The caller holds the slot's lock, so nothing here belongs to a live testbed.
pub(crate) fn clean_slot(slot: u8, inventory: &Inventory) -> Result<()> {
    let layout = Layout { slot };
    let dir = layout.dir();
    for netns in inventory.netns.iter().filter(|n| slot_of(n) == Some(slot)) {
        if let Some(node) = netns.split_once('-').map(|(_, node)| node) {
            engine::remove_containers(&engine::socket_path(&dir, node));
        }
        cmd::stop_netns_processes(netns, Duration::from_secs(10))?;
        run(Command::new("ip").args(["netns", "del", netns]))?;
    }
    for link in inventory.links.iter().filter(|l| slot_of(l) == Some(slot)) {
        // A veth goes with its peer's namespace: it may be gone already.
        let _ = cmd::output(Command::new("ip").args(["link", "del", link]));
    }
    for rule in &inventory.forward_rules {
        if rule_slots(rule).any(|s| s == slot) {
            let mut args: Vec<&str> = rule.split_whitespace().collect();
            args[0] = "-D";
            iptables(None, &args)?;
        }
    }
    remove_dir(&dir)
}

/// Unmounts whatever the engines left mounted under `dir`, then deletes it.
pub(crate) fn remove_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mounts = std::fs::read_to_string("/proc/self/mounts")
        .map_err(Error::io("read", "/proc/self/mounts"))?;
    let prefix = format!("{}/", dir.display());
    let mut inside: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| m.starts_with(&prefix))
        .collect();
    // Deepest first, so no mount hides another.
    inside.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for mount in inside {
        run(Command::new("umount").args(["-l", mount]))?;
    }
    std::fs::remove_dir_all(dir).map_err(Error::io("remove", dir))
}

//! The testbed: nodes, their engines and the operations tests perform on them.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::cmd::{self, netns_path};
use crate::engine;
use crate::error::{Error, Result};
use crate::layout::MAX_NODES;
use crate::leftovers::{Inventory, clean_slot};
use crate::network::{self, Cut};
use crate::process::{NodeProcess, wrap};
use crate::slot::{self, Slot};

/// Several real hosts on one machine; torn down on drop (also when a test panics).
#[derive(Debug)]
pub struct Testbed {
    name: String,
    slot: Slot,
    nodes: Vec<Node>,
    cuts: Mutex<BTreeSet<Cut>>,
    started_in: Duration,
    torn_down: bool,
}

/// One node: a network namespace with `eth0` on the testbed bridge and its own dockerd.
#[derive(Debug)]
pub struct Node {
    name: String,
    netns: String,
    veth: String,
    addr: Ipv4Addr,
    bip: String,
    dir: PathBuf,
    engine: Option<Child>,
}

impl Node {
    /// The node's name, as given to [`Testbed::start`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its `eth0` address on the testbed bridge: what other nodes dial.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// Its network namespace's name (`ip netns list`).
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// The host end of its veth (on the testbed bridge).
    pub fn veth(&self) -> &str {
        &self.veth
    }

    /// The file naming its network namespace, for `nsenter --net=`.
    pub fn netns_path(&self) -> String {
        netns_path(&self.netns)
    }

    /// Its engine's address, the value of `DOCKER_HOST` on this node.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Its engine's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// Its engine's default bridge (`--bip`).
    pub fn bip(&self) -> &str {
        &self.bip
    }

    /// Its engine's log.
    pub fn engine_log(&self) -> PathBuf {
        self.dir.join("dockerd.log")
    }
}

/// Node names become namespace and directory names: keep them short and plain.
fn check_names(nodes: &[&str]) -> Result<()> {
    if nodes.is_empty() || nodes.len() > MAX_NODES {
        return Err(Error::Invalid(format!(
            "a testbed has 1 to {MAX_NODES} nodes, not {}",
            nodes.len()
        )));
    }
    let plain = |n: &&str| {
        (1..=20).contains(&n.len())
            && n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if let Some(bad) = nodes.iter().find(|n| !plain(n)) {
        return Err(Error::Invalid(format!(
            "node name {bad:?}: use 1-20 of a-z, 0-9 and '-', starting with a letter"
        )));
    }
    if nodes.iter().collect::<BTreeSet<_>>().len() != nodes.len() {
        return Err(Error::Invalid(format!("node names repeat: {nodes:?}")));
    }
    Ok(())
}

/// Fails unless this process is root and the tools a testbed runs are installed.
fn preflight() -> Result<()> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(Error::io("read", "/proc/self/status"))?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid != Some("0") {
        return Err(Error::Unsupported(
            "it needs root (network namespaces, veths, iptables, dockerd); run the tests as root"
                .into(),
        ));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let missing: Vec<&str> = ["ip", "iptables", "nsenter", "dockerd", "docker", "umount"]
        .into_iter()
        .filter(|tool| {
            !path
                .split(':')
                .any(|dir| Path::new(dir).join(tool).is_file())
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "{missing:?} not on PATH: install iproute2, iptables, util-linux and docker.io \
             (.ci/run does)"
        )))
    }
}

impl Testbed {
    /// Builds a testbed called `name` (a label for logs) with one node per entry of `nodes`
    /// and waits until every node's engine answers. Cleans leftovers of crashed runs first.
    pub fn start(name: &str, nodes: &[&str]) -> Result<Testbed> {
        let began = Instant::now();
        check_names(nodes)?;
        preflight()?;
        let slot = slot::claim()?;
        let layout = slot.layout;
        // From here on, dropping `testbed` removes whatever was built so far.
        let mut testbed = Testbed {
            name: name.to_owned(),
            slot,
            nodes: Vec::new(),
            cuts: Mutex::new(BTreeSet::new()),
            started_in: Duration::ZERO,
            torn_down: false,
        };
        let dir = layout.dir();
        std::fs::create_dir_all(dir.join("logs")).map_err(Error::io("create", &dir))?;
        std::fs::write(dir.join("NAME"), name).map_err(Error::io("write", dir.join("NAME")))?;
        network::create_bridge(layout)?;
        for (index, node) in nodes.iter().enumerate() {
            let netns = layout.netns(node);
            let node_dir = dir.join(node);
            std::fs::create_dir_all(&node_dir).map_err(Error::io("create", &node_dir))?;
            let addr = network::create_node(layout, index, &netns)?;
            let bip = layout.bip(index);
            let engine = engine::spawn(&netns, &node_dir, &bip)?;
            testbed.nodes.push(Node {
                name: (*node).to_owned(),
                netns,
                veth: layout.host_veth(index),
                addr,
                bip,
                dir: node_dir,
                engine: Some(engine),
            });
        }
        for node in &mut testbed.nodes {
            if let Some(engine) = node.engine.as_mut() {
                engine::wait_until_answers(&node.name, engine, &node.dir)?;
            }
        }
        testbed.started_in = began.elapsed();
        Ok(testbed)
    }

    /// The name given to [`Testbed::start`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long [`Testbed::start`] took.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The directory holding the engines' files and the processes' logs.
    pub fn dir(&self) -> PathBuf {
        self.slot.layout.dir()
    }

    /// The host bridge joining the nodes.
    pub fn bridge(&self) -> String {
        self.slot.layout.bridge()
    }

    /// The bridge's subnet in CIDR form (every node's `eth0` is in it).
    pub fn subnet(&self) -> String {
        self.slot.layout.subnet()
    }

    /// The host's address on the bridge: how nodes reach processes on the host.
    pub fn host_addr(&self) -> Ipv4Addr {
        self.slot.layout.host_addr()
    }

    /// Every node, in the order given to [`Testbed::start`].
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Result<&Node> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| Error::Invalid(format!("no node {name:?} in testbed {}", self.name)))
    }

    /// Copies `image` from the machine's engine into every node's engine (there is no
    /// registry): `docker save` once, `docker load` on all nodes in parallel.
    pub fn load_image(&self, image: &str) -> Result<()> {
        let file = self
            .dir()
            .join(format!("image-{}.tar", image.replace(['/', ':'], "_")));
        cmd::run(
            Command::new("docker")
                .args(["save", "-o"])
                .arg(&file)
                .arg(image),
        )?;
        let loaded: Vec<Result<Output>> = std::thread::scope(|scope| {
            let loads: Vec<_> = self
                .nodes
                .iter()
                .map(|node| {
                    let file = &file;
                    scope.spawn(move || {
                        cmd::run(
                            Command::new("docker")
                                .args(["-H", &node.docker_host(), "load", "-q", "-i"])
                                .arg(file),
                        )
                    })
                })
                .collect();
            loads
                .into_iter()
                .map(|l| l.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let _ = std::fs::remove_file(&file);
        loaded.into_iter().try_for_each(|r| r.map(drop))
    }

    /// Starts `command` on node `node` (in its namespace, `DOCKER_HOST` set to its engine
    /// unless `command` sets it), output appended to `logs/NODE-LABEL.log` in [`Self::dir`].
    pub fn spawn(&self, node: &str, label: &str, command: &Command) -> Result<NodeProcess> {
        let node = self.node(node)?;
        let log = self
            .dir()
            .join("logs")
            .join(format!("{}-{label}.log", node.name));
        NodeProcess::spawn(
            &node.name,
            wrap(command, &node.netns, &node.docker_host()),
            log,
        )
    }

    /// Runs `command` on node `node` to completion and returns its output, whatever its exit
    /// status (checking it is the caller's business: a refused connection can be the point).
    pub fn exec(&self, node: &str, command: &Command) -> Result<Output> {
        let node = self.node(node)?;
        cmd::output(&mut wrap(command, &node.netns, &node.docker_host()))
    }

    /// Runs the docker CLI against node `node`'s engine; returns its output whatever its status.
    pub fn docker(&self, node: &str, args: &[&str]) -> Result<Output> {
        let host = self.node(node)?.docker_host();
        cmd::output(Command::new("docker").args(["-H", &host]).args(args))
    }

    /// Cuts node `node` off from every other node and from the host.
    pub fn partition(&self, node: &str) -> Result<()> {
        let cut = Cut {
            netns: self.node(node)?.netns.clone(),
            peer: self.subnet(),
        };
        self.add_cut(cut)
    }

    /// Undoes [`Self::partition`] of `node`.
    pub fn heal(&self, node: &str) -> Result<()> {
        let cut = Cut {
            netns: self.node(node)?.netns.clone(),
            peer: self.subnet(),
        };
        self.remove_cut(&cut)
    }

    /// Cuts the link between nodes `a` and `b` (both ways); each still reaches the others.
    pub fn partition_between(&self, a: &str, b: &str) -> Result<()> {
        let cut = Cut {
            netns: self.node(a)?.netns.clone(),
            peer: format!("{}/32", self.node(b)?.addr),
        };
        self.add_cut(cut)
    }

    /// Undoes [`Self::partition_between`] of `a` and `b`.
    pub fn heal_between(&self, a: &str, b: &str) -> Result<()> {
        let cut = Cut {
            netns: self.node(a)?.netns.clone(),
            peer: format!("{}/32", self.node(b)?.addr),
        };
        self.remove_cut(&cut)
    }

    /// Undoes every partition.
    pub fn heal_all(&self) -> Result<()> {
        let cuts: Vec<Cut> = self.cuts().iter().cloned().collect();
        cuts.iter().try_for_each(|cut| self.remove_cut(cut))
    }

    fn cuts(&self) -> std::sync::MutexGuard<'_, BTreeSet<Cut>> {
        self.cuts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add_cut(&self, cut: Cut) -> Result<()> {
        let mut cuts = self.cuts();
        if !cuts.contains(&cut) {
            cut.add()?;
            cuts.insert(cut);
        }
        Ok(())
    }

    fn remove_cut(&self, cut: &Cut) -> Result<()> {
        let mut cuts = self.cuts();
        if cuts.contains(cut) {
            cut.remove()?;
            cuts.remove(cut);
        }
        Ok(())
    }

    /// Tears the testbed down now and reports how long it took: stops the engines (their
    /// containers first), kills every process left in the namespaces, deletes the namespaces,
    /// veths, bridge and FORWARD rule, unmounts and deletes the directory.
    pub fn teardown(mut self) -> Result<Duration> {
        self.teardown_inner()
    }

    fn teardown_inner(&mut self) -> Result<Duration> {
        let began = Instant::now();
        if self.torn_down {
            return Ok(Duration::ZERO);
        }
        self.torn_down = true;
        let stopped: Vec<Result<()>> = std::thread::scope(|scope| {
            let stops: Vec<_> = self
                .nodes
                .iter_mut()
                .filter_map(|node| {
                    let engine = node.engine.as_mut()?;
                    let (name, dir) = (&node.name, &node.dir);
                    Some(scope.spawn(move || engine::stop(name, engine, dir)))
                })
                .collect();
            stops
                .into_iter()
                .map(|s| s.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        // Whatever the engines did, remove everything of this slot, then report.
        let inventory = Inventory::take()?;
        clean_slot(self.slot.layout.slot, &inventory)?;
        stopped.into_iter().try_for_each(|s| s)?;
        Ok(began.elapsed())
    }

    /// Prints the end of every engine and process log: what a failing test needs to see.
    fn print_logs(&self) {
        let logs = std::fs::read_dir(self.dir().join("logs"))
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_else(|_| Vec::new());
        for path in self.nodes.iter().map(Node::engine_log).chain(logs) {
            eprintln!(
                "--- testbed {}: {} (last 30 lines)\n{}",
                self.name,
                path.display(),
                engine::tail(&path, 30)
            );
        }
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_logs();
        }
        if let Err(e) = self.teardown_inner() {
            eprintln!("testbed {}: teardown failed: {e}", self.name);
        }
    }
}

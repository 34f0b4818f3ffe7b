//! Several real hosts on one machine, for tests: each node is a network namespace with its own
//! `dockerd`, joined to the others by a veth on a test bridge.
//!
//! ```no_run
//! use std::process::Command;
//! use std::time::Duration;
//! use testbed::{Testbed, eventually};
//!
//! # fn main() -> testbed::Result<()> {
//! // Root only. Cleans leftovers of crashed runs, then builds the bridge, one namespace per
//! // node (eth0 + default route via the host) and one dockerd per node; returns once every
//! // engine answers (about half a second each, started in parallel).
//! let tb = Testbed::start("failover", &["m1", "m2", "w1"])?;
//! tb.load_image("swarm-test/busybox:latest")?;        // docker save | docker -H node load
//!
//! // A process "on node m1": under `nsenter --net=`, DOCKER_HOST = m1's engine, output in
//! // tb.dir()/logs/m1-swarmd.log; killed (SIGKILL, whole process group) when dropped.
//! let m1_addr = tb.node("m1")?.addr();                 // m1's eth0, what other nodes dial
//! let mut swarmd = tb.spawn("m1", "swarmd", Command::new("swarmd").args(["init"]))?;
//! swarmd.wait_for_output("listening", Duration::from_secs(10))?;
//!
//! // Short commands and the docker CLI against a node's engine.
//! let ping = tb.exec("w1", Command::new("busybox").args(["ping", "-c1", "-W1", &m1_addr.to_string()]))?;
//! let ps = tb.docker("w1", &["ps", "-q"])?;
//!
//! // Faults: raw-table rules inside the namespace (they also stop traffic to published ports).
//! tb.partition("m1")?;              // m1 loses every other node and the host
//! tb.heal("m1")?;
//! tb.partition_between("m1", "m2")?; // only the m1 <-> m2 link
//! tb.heal_all()?;
//! swarmd.kill()?;                    // kill -9
//!
//! // Waiting is polling with a deadline, never a fixed sleep.
//! eventually(Duration::from_secs(5), "w1 sees m1", || {
//!     tb.exec("w1", &Command::new("true")).ok().filter(|o| o.status.success())
//! })?;
//!
//! // Dropping tears down (also on panic, after printing the end of every log); teardown()
//! // does it now and says how long it took.
//! let took = tb.teardown()?;
//! # Ok(()) }
//! ```
//!
//! Every call blocks (it runs `ip`, `iptables`, `docker`): from an async test, call it in
//! `tokio::task::spawn_blocking` where blocking the runtime's thread would matter.
//!
//! Parallel testbeds (nextest runs tests as processes) each hold a slot `0..64` by a lock
//! file under `/var/lib/swarm-testbed`; slot `S` owns bridge `swtbSbr`, subnet
//! `10.213.S.0/24` (host `.1`, node `i` at `.10+i`), namespaces `swtbS-NODE`, veths
//! `swtbSv<i>` and directory `/var/lib/swarm-testbed/swtbS`. Node `i`'s engine uses
//! `--bip 172.31.<i+1>.1/24`. Anything named `swtb*` in a slot nobody holds is a crashed
//! run's and is removed when the next testbed starts.
//!
//! Engines: each gets the machine's `/etc/docker/daemon.json` minus the settings given per
//! node (dockerd refuses a flag that repeats a file setting), so `storage-driver:
//! fuse-overlayfs` is kept; its data root is fresh, so no container of an earlier run
//! survives. A partition drops, in the node's `raw` table, what arrives on `eth0` from the
//! peer and what leaves `eth0` for it, so the node still reaches its own address; replies to
//! containers' outgoing connections are dropped too, so TCP from containers is cut as well.

mod cmd;
mod engine;
mod error;
mod layout;
mod leftovers;
mod network;
mod poll;
mod process;
mod slot;
mod testbed;

pub use error::{Error, Result};
pub use poll::eventually;
pub use process::NodeProcess;
pub use testbed::{Node, Testbed};

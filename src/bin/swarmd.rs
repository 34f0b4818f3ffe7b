//! swarmd: the swarm node daemon (manager and/or worker).
//!
//! The control plane (Raft store, API, controllers, agent) lands with the following issues; until
//! then the daemon refuses to start rather than pretend to run a cluster.

fn main() {
    eprintln!(
        "swarmd: the control plane is not built yet; use `swarmctl validate` and `swarmctl render` \
         to check stack files offline"
    );
    std::process::exit(2);
}

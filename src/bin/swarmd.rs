//! swarmd: the swarm node daemon (manager and/or worker).

fn main() {
    std::process::exit(swarm::daemon::cli::main());
}

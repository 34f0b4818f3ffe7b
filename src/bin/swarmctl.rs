//! swarmctl: the swarm command-line client.

use clap::Parser;

fn main() {
    let cli = swarm::cli::Cli::parse();
    match swarm::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    }
}

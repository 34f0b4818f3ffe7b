//! swarmctl: the swarm command-line client.

use clap::Parser;

// One thread is plenty for a CLI that waits on one HTTP request at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = swarm::cli::Cli::parse();
    match swarm::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(swarm::cli::exit_status(&err));
        }
    }
}

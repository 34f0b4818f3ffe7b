//! swarmctl: the swarm command-line client.

use clap::Parser;

// One thread is plenty for a CLI that waits on one HTTP request at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = swarm::cli::Swarmctl::parse();
    match swarm::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            let status = swarm::cli::exit_status(&err);
            // anyhow prints the error with its chain of causes, as before the CLI had its own type.
            eprintln!("error: {:#}", anyhow::Error::from(err));
            std::process::exit(status);
        }
    }
}

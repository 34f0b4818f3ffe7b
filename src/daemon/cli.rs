//! `swarmd` arguments and entry point (the binary only calls [`main`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{DaemonConfig, RuntimeKind, init, run, signals};

/// swarmd — the swarm node daemon (manager and worker).
#[derive(Debug, Parser)]
#[command(name = "swarmd", version, about)]
pub struct Swarmd {
    #[command(subcommand)]
    pub command: SwarmdCommand,
}

/// Node lifecycle commands.
#[derive(Debug, Subcommand)]
pub enum SwarmdCommand {
    /// Start (or resume) a single-node cluster, manager and worker, on the local Docker engine.
    Up(UpArgs),
    /// Create a new cluster's first manager in DATA_DIR (does not start it).
    Init(DataDir),
    /// Run a node that was initialised before.
    Run(RunArgs),
}

/// `--data-dir`.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// Where the node keeps its identity, Raft log and store.
    #[arg(long, default_value = "swarm-data")]
    pub data_dir: PathBuf,
}

/// `swarmd run` arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// API and Raft RPC listen address (port 0: pick a free port; see DATA_DIR/api.addr).
    #[arg(long, default_value = "127.0.0.1:4242")]
    pub api_addr: SocketAddr,
    /// Container runtime of this node's agent: `docker`, `sim` (in-process stand-in, no
    /// containers) or `none` (control plane only: the node takes no tasks).
    #[arg(long, value_enum, default_value_t = RuntimeKind::Docker)]
    pub runtime: RuntimeKind,
}

/// `swarmd up` arguments.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Apply and follow the stack files in this directory (GitOps).
    #[arg(long)]
    pub watch: Option<PathBuf>,
}

/// Parses arguments, sets up logging, runs the command; returns the exit code.
pub fn main() -> i32 {
    let cli = Swarmd::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,openraft=warn,sqlx=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("swarmd: cannot start the runtime: {err}");
            return 2;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            SwarmdCommand::Init(data) => init(&data.data_dir).await.map(|identity| {
                eprintln!(
                    "swarmd: initialised node {} in {}; start it with `swarmd run --data-dir {}`",
                    identity.node_id,
                    data.data_dir.display(),
                    data.data_dir.display()
                );
            }),
            SwarmdCommand::Run(args) => run(config(args, None), signals()).await,
            SwarmdCommand::Up(args) => {
                let watch = args.watch;
                run(config(args.run, watch), signals()).await
            }
        }
    });
    match result {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("swarmd: {err}");
            1
        }
    }
}

fn config(args: RunArgs, watch: Option<PathBuf>) -> DaemonConfig {
    DaemonConfig {
        data_dir: args.data.data_dir,
        api_addr: args.api_addr,
        watch,
        runtime: args.runtime,
    }
}

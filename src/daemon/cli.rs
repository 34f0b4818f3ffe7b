//! `swarmd` arguments and entry point (the binary only calls [`main`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{DaemonConfig, DaemonError, RuntimeKind, identity, run, signals};
use crate::store::recovery;

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
    /// Create a new cluster (ids, root CA, certificates, join tokens) in DATA_DIR and run as
    /// its first manager.
    Init(InitArgs),
    /// Run a node that was initialised before.
    Run(ResumeArgs),
    /// Write a new data directory from a `swarmctl cluster backup` file: the cluster's objects
    /// and root CA, as a new single-manager cluster this node runs; then exit. Start it with
    /// `swarmd run --data-dir DIR`. Workers rejoin with the certificates they hold.
    Restore(RestoreArgs),
}

/// `swarmd run` arguments.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Make this manager the only manager of a new cluster holding all its objects, when the
    /// others are lost for good (no quorum). Workers keep their certificates; do not start the
    /// other old managers again with their data directories.
    #[arg(long)]
    pub force_new_cluster: bool,
}

/// `swarmd restore` arguments.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file `swarmctl cluster backup` wrote.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A new, empty directory for the restored node (refused if it holds a node).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The name `node ls` shows for the restored node (default: the hostname).
    #[arg(long)]
    pub node_name: Option<String>,
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

/// `--node-name`.
#[derive(Debug, clap::Args)]
pub struct NodeName {
    /// The name `node ls` shows (default: the hostname); set when the node is created.
    #[arg(long)]
    pub node_name: Option<String>,
}

/// `swarmd init` arguments.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub name: NodeName,
}

/// `swarmd up` arguments.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub name: NodeName,
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
            SwarmdCommand::Init(args) => {
                let mut config = config(args.run, None, args.name.node_name);
                config.new_cluster = true;
                run(config, signals()).await
            }
            SwarmdCommand::Run(args) => {
                let mut config = config(args.run, None, None);
                config.force_new_cluster = args.force_new_cluster;
                run(config, signals()).await
            }
            SwarmdCommand::Restore(args) => restore(args).await,
            SwarmdCommand::Up(args) => {
                let watch = args.watch;
                run(config(args.run, watch, args.name.node_name), signals()).await
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

fn config(args: RunArgs, watch: Option<PathBuf>, node_name: Option<String>) -> DaemonConfig {
    DaemonConfig {
        data_dir: args.data.data_dir,
        api_addr: args.api_addr,
        watch,
        runtime: args.runtime,
        node_name,
        new_cluster: false,
        force_new_cluster: false,
    }
}

/// `swarmd restore`: checks the file and the data dir before writing anything.
async fn restore(args: RestoreArgs) -> Result<(), DaemonError> {
    let backup = recovery::read_backup(&args.file)?;
    recovery::ensure_unused(&args.data_dir)?;
    let identity = identity::create(&args.data_dir, args.node_name.as_deref())?;
    let _lock = identity::lock(&args.data_dir)?;
    let now = crate::clock::Clock::system().now();
    let restored = recovery::restore(
        &backup,
        &args.data_dir,
        &identity.node_id,
        identity.raft_id,
        now,
    )
    .await?;
    eprintln!(
        "swarmd: restored {} objects of cluster {} (Raft index {}) into {} as manager {}; start it with `swarmd run --data-dir {}`",
        restored.objects,
        restored.cluster_id,
        restored.raft_index,
        args.data_dir.display(),
        identity.node_name,
        args.data_dir.display()
    );
    Ok(())
}

//! `swarmd` arguments and entry point (the binary only calls [`main`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{DaemonConfig, DaemonError, RuntimeKind, Start, identity, run, signals};
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
    /// Join the cluster of the manager at MANAGER_ADDR (its --listen-addr) as a worker or a
    /// manager, as the token says, and run.
    Join(JoinArgs),
    /// Run a node that was initialised or joined before.
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
    /// Where a manager serves the HTTP API (port 0: pick a free port; see DATA_DIR/api.addr).
    #[arg(long, default_value = "127.0.0.1:4242")]
    pub api_addr: SocketAddr,
    /// Where a manager serves node-to-node traffic (Raft, forwarded writes, joins, agent
    /// sessions), mutual TLS only.
    #[arg(long, default_value = "0.0.0.0:4243")]
    pub listen_addr: SocketAddr,
    /// The HOST:PORT (or HOST) other nodes dial this node at (default: the listen address,
    /// with this host's outgoing address when listening on all interfaces).
    #[arg(long)]
    pub advertise_addr: Option<String>,
    /// Container runtime of this node's agent: `docker`, `sim` (in-process stand-in, no
    /// containers) or `none` (control plane only: the node takes no tasks).
    #[arg(long, value_enum, default_value_t = RuntimeKind::Docker)]
    pub runtime: RuntimeKind,
    /// A manager's agent heartbeat period in milliseconds: a node silent for three periods is
    /// marked down and its tasks are replaced elsewhere.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..))]
    pub heartbeat_ms: u64,
}

/// What a new node is called and labelled with.
#[derive(Debug, clap::Args)]
pub struct NodeName {
    /// The name `node ls` shows (default: the hostname); set when the node is created.
    #[arg(long)]
    pub node_name: Option<String>,
    /// A node label `KEY=VALUE` (repeatable), matched by `node.labels.KEY` constraints; set
    /// when the node is created.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    let (key, value) = text.split_once('=').unwrap_or((text, ""));
    if key.is_empty() {
        return Err(format!("`{text}`: a label needs a key, as KEY=VALUE"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// `swarmd join` arguments.
#[derive(Debug, clap::Args)]
pub struct JoinArgs {
    /// The join token from `swarmctl cluster join-token worker|manager` (or set SWARM_JOIN_TOKEN,
    /// which keeps it out of the process list).
    #[arg(long, env = "SWARM_JOIN_TOKEN", hide_env_values = true)]
    pub token: String,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub name: NodeName,
    /// A manager's node-to-node address (its --advertise-addr), HOST:PORT.
    #[arg(value_name = "MANAGER_ADDR")]
    pub manager: String,
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
                let mut config = config(args.run, None, Some(args.name));
                config.start = Start::NewCluster;
                run(config, signals()).await
            }
            SwarmdCommand::Join(args) => {
                let mut config = config(args.run, None, Some(args.name));
                config.start = Start::Join {
                    token: args.token,
                    manager: args.manager,
                };
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
                run(config(args.run, watch, Some(args.name)), signals()).await
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

fn config(args: RunArgs, watch: Option<PathBuf>, name: Option<NodeName>) -> DaemonConfig {
    let (node_name, labels) = name.map_or((None, Vec::new()), |n| (n.node_name, n.labels));
    DaemonConfig {
        data_dir: args.data.data_dir,
        api_addr: args.api_addr,
        listen_addr: args.listen_addr,
        advertise_addr: args.advertise_addr,
        watch,
        runtime: args.runtime,
        node_name,
        labels: labels.into_iter().collect(),
        start: Start::Resume,
        force_new_cluster: false,
        heartbeat: std::time::Duration::from_millis(args.heartbeat_ms),
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

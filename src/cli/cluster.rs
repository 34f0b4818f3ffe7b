//! `swarmctl cluster info`, `swarmctl cluster join-token`, `swarmctl cluster backup` and
//! `swarmctl events`.

use super::error::Result;
use crate::client::Client;

use super::{Output, output};

#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// Node id, leader, term, last applied index and object counts.
    Info,
    /// Print (or rotate) the token that joins a node as a worker or a manager.
    JoinToken(JoinTokenArgs),
    /// Write the whole cluster state to FILE: every object, SECRETS IN CLEAR, and the root CA
    /// key. The file is created with mode 0600; keep it like a private key. Restore it with
    /// `swarmd restore FILE --data-dir DIR`.
    Backup(BackupArgs),
}

/// `swarmctl cluster backup FILE`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the backup (replaced atomically; mode 0600).
    pub file: std::path::PathBuf,
}

/// `swarmctl cluster join-token worker|manager [-q] [--rotate]`.
#[derive(Debug, clap::Args)]
pub struct JoinTokenArgs {
    /// Which token: the one that joins workers, or managers.
    #[arg(value_parser = ["worker", "manager"])]
    pub role: String,
    /// Print only the token.
    #[arg(short, long)]
    pub quiet: bool,
    /// Replace the token's secret first: the old token admits no new node (nodes that joined
    /// with it stay).
    #[arg(long)]
    pub rotate: bool,
}

/// What `-o json|yaml` prints for a join token.
#[derive(serde::Serialize)]
struct RoleToken<'a> {
    role: &'a str,
    token: &'a str,
    rotated: bool,
}

pub async fn run(client: &Client, command: ClusterCommand, output: Output) -> Result<i32> {
    match command {
        ClusterCommand::Info => {
            let info = client.cluster().await?;
            output::print(output, &info, || {
                outln!("node:          {}", info.node_id);
                outln!(
                    "leader:        {}{}",
                    info.leader,
                    if info.is_leader {
                        " (this manager)"
                    } else {
                        ""
                    }
                );
                outln!("term:          {}", info.term);
                outln!("last applied:  {}", info.last_applied);
                let counts: Vec<String> = info
                    .objects
                    .iter()
                    .map(|(kind, n)| format!("{kind} {n}"))
                    .collect();
                outln!("objects:       {}", counts.join(", "));
            })?;
        }
        ClusterCommand::JoinToken(args) => join_token(client, args, output).await?,
        ClusterCommand::Backup(args) => super::backup::run(client, &args.file, output).await?,
    }
    Ok(0)
}

async fn join_token(client: &Client, args: JoinTokenArgs, output: Output) -> Result<()> {
    let tokens = if args.rotate {
        client.rotate_join_token(&args.role).await?
    } else {
        client.join_tokens().await?
    };
    let token = if args.role == "manager" {
        &tokens.manager
    } else {
        &tokens.worker
    };
    if args.quiet {
        outln!("{token}");
        return Ok(());
    }
    let printed = RoleToken {
        role: &args.role,
        token,
        rotated: args.rotate,
    };
    output::print(output, &printed, || {
        if args.rotate {
            outln!("Successfully rotated {} join token.\n", args.role);
        }
        // Joining over the network (`swarmd join`) is not built yet: print the token and say
        // so, rather than a command that would fail.
        outln!(
            "{} join token for this cluster (`swarmd join` arrives with multi-node support):\n\n    {token}\n",
            args.role
        );
    })
}

/// Follows the event stream until the manager closes it, one line per event.
pub async fn events(client: &Client, output: Output) -> Result<i32> {
    let mut events = client.events().await?;
    while let Some(event) = events.next().await {
        let event = event?;
        match output {
            Output::Json => outln!("{event}"),
            Output::Yaml => out!("---\n{}", serde_saphyr::to_string(&event)?),
            Output::Table => outln!("{}", describe(&event)),
        }
    }
    Ok(0)
}

/// `updated service shop/web v42`, `commit 42`, `lagged 17`.
fn describe(event: &serde_json::Value) -> String {
    let kind = event["type"].as_str().unwrap_or("event");
    match kind {
        "commit" => format!("commit {}", event["index"]),
        "lagged" => format!("lagged: {} events missed", event["missed"]),
        _ => {
            let object = &event["object"];
            let name = object["name"].as_str().unwrap_or("?");
            let name = match object["stack"].as_str() {
                Some(stack) => format!("{stack}/{name}"),
                None => name.to_owned(),
            };
            let what = object["kind"].as_str().unwrap_or("?").to_lowercase();
            format!("{kind} {what} {name} v{}", event["version"])
        }
    }
}

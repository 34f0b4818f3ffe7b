//! `swarmctl node ls | inspect | ps | update | promote | demote | rm`

use model::Kind;
use wire::NodeUpdateBody;

use super::error::Result;
use crate::client::ps::task_rows;
use crate::client::views::node_rows;
use crate::client::{Client, TaskFilter};

use super::{Output, args, output, ps};

#[derive(Debug, clap::Subcommand)]
pub enum NodeCommand {
    /// List nodes.
    Ls,
    /// Show one node (hostname or id).
    Inspect { name: String },
    /// List the tasks on a node.
    Ps {
        name: String,
        /// Do not shorten errors and image digests.
        #[arg(long)]
        no_trunc: bool,
    },
    /// Change a node's availability or labels.
    Update {
        name: String,
        /// `active` (takes tasks), `pause` (keeps its tasks, takes no new ones) or `drain`
        /// (its tasks move elsewhere).
        #[arg(long, value_parser = ["active", "pause", "drain"])]
        availability: Option<String>,
        /// Set a label `k=v` (repeatable); matched by `node.labels.k` constraints.
        #[arg(long, value_name = "k=v")]
        label_add: Vec<String>,
        /// Remove a label (repeatable).
        #[arg(long, value_name = "k")]
        label_rm: Vec<String>,
    },
    /// Make nodes managers.
    Promote {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Make managers workers (never the last manager).
    Demote {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove nodes from the cluster (a manager must be demoted first).
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
        /// Remove a node even while it is ready.
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(client: &Client, command: NodeCommand, output: Output) -> Result<i32> {
    match command {
        NodeCommand::Ls => {
            let nodes = client.list(Kind::Node, None).await?;
            let cluster = client.cluster().await?;
            let leader = cluster.leader.to_string();
            let leader = (!cluster.leader.is_null()).then_some(leader.as_str());
            let rows = node_rows(&nodes, leader, cluster.leader_addr.as_deref());
            output::print(output, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.clone(),
                            r.hostname.clone(),
                            output::capitalized(&r.status),
                            output::capitalized(&r.availability),
                            r.manager_status
                                .as_deref()
                                .map(output::capitalized)
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(
                    &["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS"],
                    &cells,
                );
            })?;
        }
        NodeCommand::Inspect { name } => {
            output::inspect(output, &client.get(Kind::Node, &name, None).await?)?;
        }
        NodeCommand::Ps { name, no_trunc } => {
            let node = client.get(Kind::Node, &name, None).await?;
            let filter = TaskFilter {
                node: Some(&node.id),
                ..TaskFilter::default()
            };
            let tasks = client.tasks(filter).await?;
            let services = client.list(Kind::Service, None).await?;
            let nodes = client.list(Kind::Node, None).await?;
            ps::print(output, &task_rows(&services, &tasks, &nodes), no_trunc)?;
        }
        NodeCommand::Update {
            name,
            availability,
            label_add,
            label_rm,
        } => {
            let availability = availability
                .map(|a| serde_json::from_value(serde_json::Value::String(a)))
                .transpose()?;
            let body = NodeUpdateBody {
                availability,
                label_add: args::pairs("--label-add", &label_add, false)?,
                label_rm,
                expected_version: None,
            };
            let change = client.update_node(&name, &body).await?;
            output::print(output, &change, || outln!("{}", change.plan.line()))?;
        }
        NodeCommand::Promote { names } => return set_role(client, &names, true, output).await,
        NodeCommand::Demote { names } => return set_role(client, &names, false, output).await,
        NodeCommand::Rm { names, force } => {
            return output::remove_each(&names, output, |name| async move {
                client.remove_node(&name, force).await
            })
            .await;
        }
    }
    Ok(0)
}

/// Promotes or demotes each node; a refused one does not stop the others (exit status 1).
async fn set_role(client: &Client, names: &[String], manager: bool, output: Output) -> Result<i32> {
    let mut code = 0;
    let mut changes = Vec::new();
    for name in names {
        match client.set_role(name, manager).await {
            Ok(change) => changes.push(change),
            Err(err) => {
                eprintln!("error: {name}: {err}");
                code = super::EXIT_FAILED;
            }
        }
    }
    output::print(output, &changes, || {
        for change in &changes {
            outln!("{}", change.plan.line());
        }
    })?;
    Ok(code)
}

//! `swarmctl service ls | inspect | ps | scale | update | rollback | restart | logs | rm`

use model::Kind;
use wire::{ObjectChange, ServiceRow, UpdateBody, docker_name};

use super::error::{CliError, Result};
use crate::client::ps::task_rows;
use crate::client::views::service_rows;
use crate::client::{Client, TaskFilter};

use super::{Output, args, output, ps};

#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// List services.
    Ls {
        /// Only the services of this stack.
        #[arg(long)]
        stack: Option<String>,
    },
    /// Show one service (name, `stack_name`, or id).
    Inspect {
        name: String,
        /// The stack, when the name is used in several.
        #[arg(long)]
        stack: Option<String>,
    },
    /// List a service's tasks, each slot's history under its current task.
    Ps {
        name: String,
        /// The stack, when the service name is used in several (or write `stack_name`).
        #[arg(long)]
        stack: Option<String>,
        /// Do not shorten errors and image digests.
        #[arg(long)]
        no_trunc: bool,
    },
    /// Set the replica count of services: `service scale web=5 api=2`.
    Scale {
        #[arg(required = true, value_name = "SERVICE=REPLICAS")]
        pairs: Vec<String>,
        /// The stack, when the service name is used in several (or write `stack_name`).
        #[arg(long)]
        stack: Option<String>,
    },
    /// Change a service; its tasks are replaced as its update_config says.
    Update(UpdateArgs),
    /// Go back to the spec before the last update.
    Rollback {
        name: String,
        /// The stack, when the service name is used in several (or write `stack_name`).
        #[arg(long)]
        stack: Option<String>,
    },
    /// Replace every task (rolling, as update_config says), the spec otherwise unchanged.
    Restart {
        name: String,
        /// The stack, when the service name is used in several (or write `stack_name`).
        #[arg(long)]
        stack: Option<String>,
    },
    /// Print the logs of a service's tasks, each line prefixed with the task (`web.1 | ...`).
    Logs {
        name: String,
        /// The stack, when the service name is used in several (or write `stack_name`).
        #[arg(long)]
        stack: Option<String>,
        /// Keep printing new lines.
        #[arg(short, long)]
        follow: bool,
        /// Only the last N lines of each task.
        #[arg(long, value_name = "N")]
        tail: Option<u64>,
    },
    /// Remove services.
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
        /// The stack, when the service name is used in several (or write `stack_name`).
        #[arg(long)]
        stack: Option<String>,
    },
}

/// `service update` flags.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    pub name: String,
    /// The stack, when the service name is used in several (or write `stack_name`).
    #[arg(long)]
    pub stack: Option<String>,
    /// New image.
    #[arg(long)]
    pub image: Option<String>,
    /// New replica count (replicated services).
    #[arg(long)]
    pub replicas: Option<u64>,
    /// Set an environment variable `K=V` (repeatable).
    #[arg(long, value_name = "K=V")]
    pub env_add: Vec<String>,
    /// Remove an environment variable (repeatable).
    #[arg(long, value_name = "K")]
    pub env_rm: Vec<String>,
    /// Set a service label `k=v` (repeatable).
    #[arg(long, value_name = "k=v")]
    pub label_add: Vec<String>,
    /// Remove a service label (repeatable).
    #[arg(long, value_name = "k")]
    pub label_rm: Vec<String>,
    /// Replace every task even when nothing else changes.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(client: &Client, command: ServiceCommand, output: Output) -> Result<i32> {
    match command {
        ServiceCommand::Ls { stack } => {
            let services = client.list(Kind::Service, stack.as_deref()).await?;
            let tasks = client.list(Kind::Task, stack.as_deref()).await?;
            let rows = service_rows(&services, &tasks);
            output::print(output, &rows, || print_rows(&rows))?;
        }
        ServiceCommand::Inspect { name, stack } => {
            let record = client.get(Kind::Service, &name, stack.as_deref()).await?;
            output::inspect(output, &record)?;
        }
        ServiceCommand::Ps {
            name,
            stack,
            no_trunc,
        } => {
            let service = client.get(Kind::Service, &name, stack.as_deref()).await?;
            let filter = TaskFilter {
                service: Some(&service.id),
                ..TaskFilter::default()
            };
            let tasks = client.tasks(filter).await?;
            let nodes = client.list(Kind::Node, None).await?;
            let rows = task_rows(std::slice::from_ref(&service), &tasks, &nodes);
            ps::print(output, &rows, no_trunc)?;
        }
        ServiceCommand::Scale { pairs, stack } => {
            return scale(client, &pairs, stack, output).await;
        }
        ServiceCommand::Update(update) => {
            let body = UpdateBody {
                image: update.image,
                replicas: update.replicas,
                env_add: args::pairs("--env-add", &update.env_add, true)?,
                env_rm: update.env_rm,
                label_add: args::pairs("--label-add", &update.label_add, false)?,
                label_rm: update.label_rm,
                force: update.force,
                expected_version: None,
            };
            let change = client
                .update_service(&update.name, update.stack.as_deref(), &body)
                .await?;
            print_change(output, &change)?;
        }
        ServiceCommand::Rollback { name, stack } => {
            print_change(output, &client.rollback(&name, stack.as_deref()).await?)?;
        }
        ServiceCommand::Restart { name, stack } => {
            let change = client.restart(&name, stack.as_deref()).await?;
            output::print(output, &change, || {
                outln!(
                    "{}: restarting every task, as its update_config paces it",
                    change.object.metadata.name
                );
            })?;
        }
        ServiceCommand::Logs {
            name,
            stack,
            follow,
            tail,
        } => {
            let mut logs = client.logs(&name, stack.as_deref(), follow, tail).await?;
            while let Some(chunk) = logs.next().await {
                out!("{}", chunk?);
                output::flush();
            }
        }
        ServiceCommand::Rm { names, stack } => {
            let stack = stack.as_deref();
            return output::remove_each(&names, output, |name| async move {
                client.delete(Kind::Service, &name, stack).await
            })
            .await;
        }
    }
    Ok(0)
}

/// `scale web=5 api=2`: every pair is checked before any is sent; a refused one does not stop
/// the others, and makes the exit status 1.
async fn scale(
    client: &Client,
    pairs: &[String],
    stack: Option<String>,
    output: Output,
) -> Result<i32> {
    let mut wanted = Vec::new();
    for pair in pairs {
        let parsed = pair
            .split_once('=')
            .and_then(|(name, n)| Some((name, n.parse::<u64>().ok()?)))
            .filter(|(name, _)| !name.is_empty());
        let Some((name, replicas)) = parsed else {
            return Err(CliError::Usage(format!(
                "`{pair}` is not SERVICE=REPLICAS (e.g. web=3)"
            )));
        };
        wanted.push((name.to_owned(), replicas));
    }
    let mut code = 0;
    let mut changes = Vec::new();
    for (name, replicas) in wanted {
        match client.scale(&name, stack.as_deref(), replicas).await {
            Ok(change) => {
                if output == Output::Table {
                    outln!("{name} scaled to {replicas}");
                }
                changes.push(change);
            }
            Err(err) => {
                eprintln!("error: {name}: {err}");
                code = super::EXIT_FAILED;
            }
        }
    }
    if output != Output::Table {
        output::print(output, &changes, || {})?;
    }
    Ok(code)
}

/// The plan line of an edit (`~ service shop_web: image a -> b`), or the change as JSON/YAML.
fn print_change(output: Output, change: &ObjectChange) -> Result<()> {
    let stack = change.object.metadata.stack.as_deref().unwrap_or_default();
    output::print(output, change, || outln!("{}", change.plan.line_in(stack)))
}

/// The `service ls` table.
pub fn print_rows(rows: &[ServiceRow]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                docker_name(r.stack.as_deref(), &r.name),
                r.mode.clone(),
                format!("{}/{}", r.replicas.running, r.replicas.desired),
                output::or_dash(r.image.as_deref()),
                output::or_dash(Some(&r.ports.join(","))),
                output::or_dash(r.update_state.as_deref()),
            ]
        })
        .collect();
    output::table(
        &["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS", "UPDATE"],
        &cells,
    );
}

//! `swarmctl stack ls | services NAME | ps NAME | rm NAME`

use model::Kind;
use wire::StackRow;

use super::error::Result;
use crate::client::ps::task_rows;
use crate::client::views::{service_rows, stack_rows};
use crate::client::{Client, TaskFilter};

use super::{Output, output, ps, service};

/// The SOURCE cell: a watched stack's file and whether a watcher still follows it (else the
/// CLI may change the stack), or the files it was applied from; paths under the working
/// directory shortened.
fn source(row: &StackRow) -> String {
    let cwd = std::env::current_dir().ok();
    let short = |path: &str| {
        cwd.as_deref()
            .and_then(|cwd| std::path::Path::new(path).strip_prefix(cwd).ok())
            .map_or_else(|| path.to_owned(), |p| p.display().to_string())
    };
    match &row.watched_file {
        Some(file) if row.watcher.is_some() => format!("{} (watched)", short(file)),
        Some(file) => format!("{} (not watched)", short(file)),
        None if row.source.files.is_empty() => "-".into(),
        None => row
            .source
            .files
            .iter()
            .map(|f| short(f))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum StackCommand {
    /// List stacks.
    Ls,
    /// List the services of a stack.
    Services { name: String },
    /// List the tasks of a stack, each slot's history under its current task.
    Ps {
        name: String,
        /// Do not shorten errors and image digests.
        #[arg(long)]
        no_trunc: bool,
    },
    /// Remove a stack: every service, network, secret and config it created, at once.
    Rm { name: String },
}

pub async fn run(client: &Client, command: StackCommand, output: Output) -> Result<i32> {
    match command {
        StackCommand::Ls => {
            let stacks = client.list(Kind::Stack, None).await?;
            let services = client.list(Kind::Service, None).await?;
            let rows = stack_rows(&stacks, &services);
            output::print(output, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.name.clone(),
                            r.services.to_string(),
                            r.status.clone(),
                            r.applied_at.map_or_else(|| "-".into(), output::since),
                            source(r),
                            output::or_dash(r.error.as_deref().and_then(|e| e.lines().next())),
                        ]
                    })
                    .collect();
                output::table(
                    &["NAME", "SERVICES", "STATUS", "APPLIED", "SOURCE", "ERROR"],
                    &cells,
                );
            })?;
        }
        StackCommand::Services { name } => {
            client.get(Kind::Stack, &name, None).await?;
            let services = client.list(Kind::Service, Some(&name)).await?;
            let tasks = client.list(Kind::Task, Some(&name)).await?;
            let rows = service_rows(&services, &tasks);
            output::print(output, &rows, || service::print_rows(&rows))?;
        }
        StackCommand::Ps { name, no_trunc } => {
            client.get(Kind::Stack, &name, None).await?;
            let services = client.list(Kind::Service, Some(&name)).await?;
            let filter = TaskFilter {
                stack: Some(&name),
                ..TaskFilter::default()
            };
            let tasks = client.tasks(filter).await?;
            let nodes = client.list(Kind::Node, None).await?;
            ps::print(output, &task_rows(&services, &tasks, &nodes), no_trunc)?;
        }
        StackCommand::Rm { name } => {
            let outcome = client.delete(Kind::Stack, &name, None).await?;
            output::print(output, &outcome, || {
                for line in outcome.plan.lines(false) {
                    outln!("{line}");
                }
            })?;
        }
    }
    Ok(0)
}

//! `swarmctl service ls | inspect NAME`

use model::Kind;

use crate::client::Client;
use crate::client::views::{ServiceRow, service_rows};

use super::{Output, output};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
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
}

pub async fn run(client: &Client, command: Command, output: Output) -> anyhow::Result<i32> {
    match command {
        Command::Ls { stack } => {
            let services = client.list(Kind::Service, stack.as_deref()).await?;
            let tasks = client.list(Kind::Task, stack.as_deref()).await?;
            let rows = service_rows(&services, &tasks);
            output::print(output, &rows, || print_rows(&rows))?;
        }
        Command::Inspect { name, stack } => {
            let record = client.get(Kind::Service, &name, stack.as_deref()).await?;
            output::inspect(output, &record)?;
        }
    }
    Ok(0)
}

/// The `service ls` table.
pub fn print_rows(rows: &[ServiceRow]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                match &r.stack {
                    Some(stack) => format!("{stack}_{}", r.name),
                    None => r.name.clone(),
                },
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

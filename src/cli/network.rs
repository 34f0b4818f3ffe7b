//! `swarmctl network ls | inspect NAME`

use model::Kind;
use wire::docker_name;

use super::error::Result;
use crate::client::Client;
use crate::client::views::network_rows;

use super::{Output, output};

#[derive(Debug, clap::Subcommand)]
pub enum NetworkCommand {
    /// List networks.
    Ls {
        /// Only the networks of this stack.
        #[arg(long)]
        stack: Option<String>,
    },
    /// Show one network.
    Inspect {
        name: String,
        /// The stack, when the name is used in several.
        #[arg(long)]
        stack: Option<String>,
    },
}

pub async fn run(client: &Client, command: NetworkCommand, output: Output) -> Result<i32> {
    match command {
        NetworkCommand::Ls { stack } => {
            let rows = network_rows(&client.list(Kind::Network, stack.as_deref()).await?);
            output::print(output, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.clone(),
                            docker_name(r.stack.as_deref(), &r.name),
                            output::or_dash(r.stack.as_deref()),
                            output::or_dash(r.driver.as_deref()),
                        ]
                    })
                    .collect();
                output::table(&["ID", "NAME", "STACK", "DRIVER"], &cells);
            })?;
        }
        NetworkCommand::Inspect { name, stack } => {
            output::inspect(
                output,
                &client.get(Kind::Network, &name, stack.as_deref()).await?,
            )?;
        }
    }
    Ok(0)
}

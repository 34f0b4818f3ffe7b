//! `swarmctl network ls | inspect NAME`

use model::{Kind, NetworkSpec};

use crate::client::Client;

use super::{Output, output};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
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

pub async fn run(client: &Client, command: Command, output: Output) -> anyhow::Result<i32> {
    match command {
        Command::Ls { stack } => {
            let records = client.list(Kind::Network, stack.as_deref()).await?;
            output::print(output, &records, || {
                let rows: Vec<Vec<String>> = records
                    .iter()
                    .map(|r| {
                        let spec: NetworkSpec = r.spec_as().unwrap_or_default();
                        vec![
                            r.id.clone(),
                            r.metadata.name.clone(),
                            output::or_dash(r.metadata.stack.as_deref()),
                            output::or_dash(spec.driver.as_deref()),
                        ]
                    })
                    .collect();
                output::table(&["ID", "NAME", "STACK", "DRIVER"], &rows);
            })?;
        }
        Command::Inspect { name, stack } => {
            output::inspect(
                output,
                &client.get(Kind::Network, &name, stack.as_deref()).await?,
            )?;
        }
    }
    Ok(0)
}

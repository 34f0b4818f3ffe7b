//! `swarmctl secret|config create NAME FILE|- | ls | inspect NAME | rm NAME`

use std::collections::BTreeMap;
use std::io::Read;

use model::Kind;
use wire::{DataBody, docker_name, kind_word};

use super::error::{CliError, Result};
use crate::client::Client;
use crate::client::views::data_rows;

use super::{Output, output};

#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Create one from a file, or from stdin with `-`.
    Create {
        name: String,
        file: String,
        /// Label `key=value` (repeatable).
        #[arg(short, long = "label")]
        labels: Vec<String>,
    },
    /// List them (data is never shown).
    Ls {
        /// Only the objects of this stack.
        #[arg(long)]
        stack: Option<String>,
    },
    /// Show one (a secret's data is never shown, only its hash).
    Inspect {
        name: String,
        /// The stack, when the name is used in several.
        #[arg(long)]
        stack: Option<String>,
    },
    /// Remove one; refused while a service uses it.
    Rm {
        name: String,
        /// The stack, when the name is used in several.
        #[arg(long)]
        stack: Option<String>,
    },
}

pub async fn run(client: &Client, kind: Kind, command: DataCommand, output: Output) -> Result<i32> {
    match command {
        DataCommand::Create { name, file, labels } => {
            let content = read_content(&file)?;
            let labels = labels
                .iter()
                .map(|l| {
                    l.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .ok_or_else(|| CliError::Usage(format!("label `{l}` is not key=value")))
                })
                .collect::<Result<BTreeMap<_, _>>>()?;
            let record = client
                .create_data(
                    kind,
                    &DataBody {
                        name,
                        content,
                        labels,
                    },
                )
                .await?;
            output::print(output, &record, || outln!("{}", record.id))?;
        }
        DataCommand::Ls { stack } => {
            let rows = data_rows(&client.list(kind, stack.as_deref()).await?);
            output::print(output, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        let hash = r.hash.as_deref().map(|h| &h[..h.len().min(12)]);
                        vec![
                            r.id.clone(),
                            docker_name(r.stack.as_deref(), &r.name),
                            output::or_dash(r.stack.as_deref()),
                            output::or_dash(hash),
                            output::ago(r.created_at),
                            output::ago(r.updated_at),
                        ]
                    })
                    .collect();
                output::table(
                    &["ID", "NAME", "STACK", "HASH", "CREATED", "UPDATED"],
                    &cells,
                );
            })?;
        }
        DataCommand::Inspect { name, stack } => {
            output::inspect(output, &client.get(kind, &name, stack.as_deref()).await?)?;
        }
        DataCommand::Rm { name, stack } => {
            client.delete(kind, &name, stack.as_deref()).await?;
            if output == Output::Table {
                outln!("- {} {name}", kind_word(kind));
            }
        }
    }
    Ok(0)
}

fn read_content(file: &str) -> Result<String> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file)
            .map_err(|e| CliError::Usage(format!("cannot read {file}: {e}")))?;
    }
    Ok(text)
}

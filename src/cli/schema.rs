//! `swarmctl schema [KIND] [--write DIR]`

use std::path::PathBuf;

use super::error::{CliError, Result};

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// `compose` (default) or a native kind: service, network, secret, config, node, stack.
    pub kind: Option<String>,
    /// Write every schema as DIR/<name>.json instead of printing one (how schemas/ is made).
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

pub fn run(args: SchemaArgs) -> Result<i32> {
    let all = model::schema::all();
    if let Some(dir) = args.write {
        std::fs::create_dir_all(&dir)?;
        for (name, schema) in &all {
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, render(schema)?)?;
            outln!("wrote {}", path.display());
        }
        return Ok(0);
    }
    let wanted = args.kind.unwrap_or_else(|| "compose".into()).to_lowercase();
    match all.iter().find(|(name, _)| *name == wanted) {
        Some((_, schema)) => {
            out!("{}", render(schema)?);
            Ok(0)
        }
        None => {
            let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
            Err(CliError::Usage(format!(
                "no schema for `{wanted}`; choose one of: {}",
                names.join(", ")
            )))
        }
    }
}

/// The exact text committed under schemas/ (pretty JSON, trailing newline).
pub fn render(schema: &serde_json::Value) -> Result<String> {
    Ok(format!("{}\n", serde_json::to_string_pretty(schema)?))
}

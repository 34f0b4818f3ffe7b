//! `swarmctl render -f PATH... [--stack NAME]`

use super::error::Result;
use crate::manifest::{self, LoadOptions};

use super::{EXIT_FAILED, Inputs, Output};

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Stack name; defaults to the compose `name:`, else the file's name (`web.yml`: `web`;
    /// `compose.yaml`, `docker-compose.yml`, `stack.yml` take their directory's name).
    #[arg(long)]
    pub stack: Option<String>,
}

pub fn run(args: RenderArgs, output: Output) -> Result<i32> {
    let groups = manifest::expand(&args.inputs.files, args.inputs.recursive)?;
    let options = LoadOptions {
        stack: args.stack,
        allow_outside_files: args.inputs.allow_outside_files,
        inline_files: false,
        env: super::process_env(),
    };
    let mut manifests = Vec::new();
    let mut valid = true;
    for group in &groups {
        let loaded = super::load_and_report(group, &options);
        valid &= loaded.is_valid();
        manifests.extend(loaded.manifests);
    }
    if !valid {
        return Ok(EXIT_FAILED);
    }
    match output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(&manifests)?),
        Output::Yaml | Output::Table => {
            for (index, manifest) in manifests.iter().enumerate() {
                if index > 0 {
                    outln!("---");
                }
                out!("{}", serde_saphyr::to_string(manifest)?);
            }
        }
    }
    Ok(0)
}

//! `swarmctl validate -f PATH...`

use super::error::{CliError, Result};
use crate::manifest::{self, FileReport, LoadOptions};

use super::{EXIT_FAILED, Inputs, Output};

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Stack name used for name checks (defaults as for render).
    #[arg(long)]
    pub stack: Option<String>,
}

pub fn run(args: ValidateArgs, output: Output) -> Result<i32> {
    let reports = check(&args.inputs, args.stack)?;
    match output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(&reports)?),
        Output::Yaml => out!("{}", serde_saphyr::to_string(&reports)?),
        Output::Table => print_text(&reports),
    }
    let valid = reports.iter().all(|r| r.valid);
    Ok(if valid { 0 } else { EXIT_FAILED })
}

/// Loads every group of inputs and returns one report per file.
pub fn check(inputs: &Inputs, stack: Option<String>) -> Result<Vec<FileReport>> {
    let groups = manifest::expand(&inputs.files, inputs.recursive)?;
    if groups.is_empty() {
        return Err(CliError::Usage(format!(
            "no *.yml or *.yaml files found in {}",
            inputs.files.join(", ")
        )));
    }
    let options = LoadOptions {
        stack,
        allow_outside_files: inputs.allow_outside_files,
        inline_files: false,
        env: super::process_env(),
    };
    Ok(groups
        .iter()
        .flat_map(|group| manifest::load(group, &options).reports)
        .collect())
}

fn print_text(reports: &[FileReport]) {
    for report in reports {
        super::print_findings(report);
        let status = if report.valid { "valid" } else { "invalid" };
        let mut counts = Vec::new();
        if !report.errors.is_empty() {
            counts.push(plural(report.errors.len(), "error"));
        }
        if !report.warnings.is_empty() {
            counts.push(plural(report.warnings.len(), "warning"));
        }
        if counts.is_empty() {
            outln!("{}: {status}", report.file);
        } else {
            outln!("{}: {status} ({})", report.file, counts.join(", "));
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

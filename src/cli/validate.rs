//! `swarmctl validate -f PATH...`

use crate::manifest::{self, FileReport, LoadOptions};

use super::{EXIT_INVALID, Inputs, Output};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Stack name used for name checks (defaults as for render).
    #[arg(long)]
    pub stack: Option<String>,
}

pub fn run(args: Args, output: Output) -> anyhow::Result<i32> {
    let reports = check(&args.inputs, args.stack)?;
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&reports)?),
        Output::Yaml => print!("{}", serde_saphyr::to_string(&reports)?),
        Output::Table => print_text(&reports),
    }
    let valid = reports.iter().all(|r| r.valid);
    Ok(if valid { 0 } else { EXIT_INVALID })
}

/// Loads every group of inputs and returns one report per file.
pub fn check(inputs: &Inputs, stack: Option<String>) -> anyhow::Result<Vec<FileReport>> {
    let groups = manifest::expand(&inputs.files, inputs.recursive)?;
    if groups.is_empty() {
        anyhow::bail!(
            "no *.yml or *.yaml files found in {}",
            inputs.files.join(", ")
        );
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
        for warning in &report.warnings {
            eprintln!("{}", prefixed(&warning.to_string(), "warning: "));
        }
        for error in &report.errors {
            eprintln!("{error}");
        }
        let status = if report.valid { "valid" } else { "invalid" };
        let mut counts = Vec::new();
        if !report.errors.is_empty() {
            counts.push(plural(report.errors.len(), "error"));
        }
        if !report.warnings.is_empty() {
            counts.push(plural(report.warnings.len(), "warning"));
        }
        if counts.is_empty() {
            println!("{}: {status}", report.file);
        } else {
            println!("{}: {status} ({})", report.file, counts.join(", "));
        }
    }
}

/// Puts `tag` after the `file:line:column: path: ` prefix of a diagnostic line.
fn prefixed(line: &str, tag: &str) -> String {
    let mut parts = line.splitn(4, ": ");
    let location = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    match rest.as_slice() {
        [path, message @ ..] if !message.is_empty() => {
            format!("{location}: {path}: {tag}{}", message.join(": "))
        }
        [message] => format!("{location}: {tag}{message}"),
        _ => format!("{tag}{line}"),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

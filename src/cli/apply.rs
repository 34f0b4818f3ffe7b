//! `swarmctl apply | diff | delete -f PATH...`: load client-side (reading `file:` data here,
//! where the files are), then let the manager plan and write.

use model::{Kind, Manifest, StackSource};
use wire::{ApplyBody, ApplyOutcome, ChangeKind, kind_word};

use super::error::{CliError, Result};
use crate::client::{ApplyParams, Client, ClientError};
use crate::clock::Clock;
use crate::manifest::{self, LoadOptions};

use super::{EXIT_FAILED, Inputs, Output, output};

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Stack name; defaults to the compose `name:`, else the file's name (`web.yml`: `web`;
    /// `compose.yaml`, `docker-compose.yml`, `stack.yml` take their directory's name).
    #[arg(long)]
    pub stack: Option<String>,
    /// Delete objects of the stack the input no longer declares.
    #[arg(long)]
    pub prune: bool,
    /// Print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also list objects that stay unchanged.
    #[arg(short, long)]
    pub verbose: bool,
    /// After applying, follow the rollout until every service runs the new spec (exit 0), or a
    /// task or update fails beyond recovery, or the timeout passes (exit 1).
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits (`90s`, `5m`).
    #[arg(long, value_name = "DUR", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, model::units::UnitError> {
    model::Duration::parse(text).map(model::Duration::as_std)
}

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Stack name; defaults as for apply.
    #[arg(long)]
    pub stack: Option<String>,
}

/// One stack's worth of loaded input.
struct Group {
    stack: String,
    manifests: Vec<Manifest>,
    source: StackSource,
}

/// `apply` (`diff` is `apply --dry-run` with exit status 1 when something would change).
pub async fn run(client: &Client, args: ApplyArgs, output: Output, diff: bool) -> Result<i32> {
    let Some(groups) = load(&args.inputs, args.stack.clone(), true)? else {
        return Ok(EXIT_FAILED);
    };
    let mut changed = false;
    let mut outcomes = Vec::new();
    let since = Clock::system().now();
    let mut stacks = Vec::new();
    for group in groups {
        stacks.push(group.stack.clone());
        let params = ApplyParams {
            stack: Some(group.stack.clone()),
            dry_run: args.dry_run || diff,
            prune: args.prune,
            expected_version: None,
        };
        let body = ApplyBody {
            stack: Some(group.stack),
            manifests: group.manifests,
            source: group.source,
        };
        let outcome = client.apply(&body, &params).await?;
        changed |= outcome.plan.has_changes();
        outcomes.push(outcome);
    }
    let single = outcomes.len() == 1;
    let table = || {
        for outcome in &outcomes {
            print_plan(outcome, args.verbose, !single);
        }
    };
    match outcomes.as_slice() {
        [one] => output::print(output, one, table)?,
        all => output::print(output, &all, table)?,
    }
    if args.wait && !diff && !args.dry_run {
        return super::wait::run(client, &stacks, since, args.timeout, output).await;
    }
    Ok(if diff && changed { EXIT_FAILED } else { 0 })
}

/// `delete -f`: deletes every object the input declares (services first); missing ones are
/// reported, not an error.
pub async fn delete(client: &Client, args: DeleteArgs, output: Output) -> Result<i32> {
    let Some(groups) = load(&args.inputs, args.stack, false)? else {
        return Ok(EXIT_FAILED);
    };
    let mut deleted = Vec::new();
    for group in groups {
        let mut manifests = group.manifests;
        manifests.retain(|m| crate::apply::STACK_KINDS.contains(&m.kind));
        manifests.sort_by_key(|m| m.kind != Kind::Service);
        for m in manifests {
            let name = &m.metadata.name;
            match client.delete(m.kind, name, Some(&group.stack)).await {
                Ok(outcome) => deleted.push(outcome),
                Err(ClientError::Api { status: 404, .. }) => {
                    eprintln!(
                        "{} {name}: not found in stack {}",
                        kind_word(m.kind),
                        group.stack
                    )
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
    output::print(output, &deleted, || {
        for outcome in &deleted {
            for item in outcome
                .plan
                .items
                .iter()
                .filter(|i| i.action == ChangeKind::Delete)
            {
                outln!("{}", item.line_in(&outcome.plan.stack));
            }
        }
    })?;
    Ok(0)
}

fn print_plan(outcome: &ApplyOutcome, verbose: bool, titled: bool) {
    if titled {
        outln!("stack {}:", outcome.plan.stack);
    }
    for line in outcome.plan.lines(verbose) {
        outln!("{line}");
    }
    if outcome.dry_run && outcome.plan.has_changes() {
        outln!("(dry run: nothing was changed)");
    }
}

/// Loads every group of inputs; `None` (with the problems printed) when any is invalid.
fn load(inputs: &Inputs, stack: Option<String>, inline: bool) -> Result<Option<Vec<Group>>> {
    let groups = manifest::expand(&inputs.files, inputs.recursive)?;
    if groups.is_empty() {
        return Err(CliError::Usage(format!(
            "no *.yml or *.yaml files found in {}",
            inputs.files.join(", ")
        )));
    }
    if groups.len() > 1 && stack.is_some() {
        return Err(CliError::Usage(format!(
            "--stack names one stack, but the inputs form {} stacks (each file of a directory is one); \
             apply them separately or drop --stack",
            groups.len()
        )));
    }
    let options = LoadOptions {
        stack: stack.clone(),
        allow_outside_files: inputs.allow_outside_files,
        inline_files: inline,
        env: super::process_env(),
    };
    let mut loaded_groups = Vec::new();
    let mut valid = true;
    for group in &groups {
        let loaded = super::load_and_report(group, &options);
        if !loaded.is_valid() {
            valid = false;
            continue;
        }
        let name = stack.clone().or(loaded.stack).or_else(|| {
            loaded
                .manifests
                .iter()
                .find_map(|m| m.metadata.stack.clone())
        });
        let Some(name) = name else {
            return Err(CliError::Usage(
                "the input names no stack; name it with --stack NAME".to_owned(),
            ));
        };
        let files = group
            .iter()
            .map(|arg| match arg {
                manifest::PathArg::Stdin => "-".to_owned(),
                manifest::PathArg::File(path) => std::fs::canonicalize(path)
                    .unwrap_or_else(|_| path.clone())
                    .display()
                    .to_string(),
            })
            .collect();
        let hash = crate::apply::content_hash(&serde_json::to_string(&loaded.manifests)?);
        loaded_groups.push(Group {
            stack: name,
            manifests: loaded.manifests,
            source: StackSource {
                files,
                content_hash: Some(hash),
                git_commit: None,
            },
        });
    }
    Ok(valid.then_some(loaded_groups))
}

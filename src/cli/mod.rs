//! `swarmctl`: argument parsing and the commands, one file per command group. Offline commands
//! (`validate`, `schema`, `render`) need no daemon; the others talk to a manager's API.
//!
//! Everything for stdout goes through [`out!`]/[`outln!`] (`print!` is denied here): a reader
//! that went away (`swarmctl ... | head`) ends the command quietly with status 0, where
//! `print!` would panic.
#![deny(clippy::print_stdout)]

/// `print!` to stdout; a closed stdout ends the command quietly (see [`output::write`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!($($arg)*))
    };
}

/// `println!` to stdout; a closed stdout ends the command quietly (see [`output::write`]).
macro_rules! outln {
    () => {
        $crate::cli::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod apply;
mod args;
mod backup;
mod cluster;
mod data;
mod error;
mod network;
mod node;
mod output;
mod ps;
mod render;
pub mod schema;
mod service;
mod stack;
mod validate;
mod wait;

use clap::{Parser, Subcommand, ValueEnum};

pub use error::CliError;
use error::Result;

/// Exit status when the command ran and the answer is no: the manager refused or failed the
/// request, the input is invalid, `apply --wait` did not converge, `diff` found changes, or
/// some of several items (`scale a=1 b=2`, `rm a b`) were refused.
pub const EXIT_FAILED: i32 = 1;

/// Exit status when the command could not run: a usage error (as clap exits), no manager
/// answering, a file that cannot be read.
pub const EXIT_USAGE: i32 = 2;

/// The exit status for an error that ended a command: [`EXIT_FAILED`] when the manager answered
/// with a refusal or failure, else [`EXIT_USAGE`].
pub fn exit_status(err: &CliError) -> i32 {
    err.exit_status()
}

/// swarmctl — drive a swarm cluster, and check stack files offline.
#[derive(Debug, Parser)]
#[command(name = "swarmctl", version, about)]
pub struct Swarmctl {
    /// Manager API address.
    #[arg(
        long,
        global = true,
        env = "SWARM_HOST",
        default_value = "http://127.0.0.1:4242"
    )]
    pub host: String,
    /// Output format.
    #[arg(short = 'o', long = "output", global = true, value_enum)]
    pub output: Option<Output>,
    #[command(subcommand)]
    pub command: SwarmctlCommand,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
    Yaml,
}

/// Where manifests come from, shared by every command that reads them.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Stack file, native manifest, directory of them (*.yml, *.yaml), or `-` for stdin.
    /// Files given together merge into one stack, in order; each file of a directory is a stack.
    #[arg(short = 'f', long = "file", required = true)]
    pub files: Vec<String>,
    /// Also read subdirectories of directories.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Allow `file:`/`env_file:` references outside the stack file's directory.
    #[arg(long)]
    pub allow_outside_files: bool,
}

#[derive(Debug, Subcommand)]
pub enum SwarmctlCommand {
    /// Check stack files and manifests against the schemas and swarm's rules (offline).
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of a compose stack file or of a native kind.
    Schema(schema::SchemaArgs),
    /// Print the normalised native manifests a stack file stands for (offline).
    Render(render::RenderArgs),
    /// Create or update a stack from stack files; prints the plan.
    Apply(apply::ApplyArgs),
    /// Print what `apply` would change; exit status 1 when something would.
    Diff(apply::ApplyArgs),
    /// Delete the objects the files declare.
    Delete(apply::DeleteArgs),
    /// Manage stacks.
    #[command(subcommand)]
    Stack(stack::StackCommand),
    /// Manage services.
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Manage secrets (data is never shown).
    #[command(subcommand)]
    Secret(data::DataCommand),
    /// Manage configs.
    #[command(subcommand)]
    Config(data::DataCommand),
    /// Inspect networks.
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage nodes.
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// The cluster as this manager sees it.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Follow the cluster's change events, one line each.
    Events,
}

/// Runs the parsed command and returns the process exit code.
pub async fn run(cli: Swarmctl) -> Result<i32> {
    let output = cli.output.unwrap_or(Output::Table);
    let command = match cli.command {
        SwarmctlCommand::Validate(args) => return validate::run(args, output),
        SwarmctlCommand::Schema(args) => return schema::run(args),
        SwarmctlCommand::Render(args) => {
            return render::run(args, cli.output.unwrap_or(Output::Yaml));
        }
        online => online,
    };
    let client = crate::client::Client::new(&cli.host)?;
    let code = online(&client, command, output).await?;
    if client.served_stale() {
        eprintln!(
            "warning: {} has no quorum: it showed its own store, which may be behind the cluster's",
            cli.host
        );
    }
    Ok(code)
}

/// The commands that talk to a manager.
async fn online(
    client: &crate::client::Client,
    command: SwarmctlCommand,
    output: Output,
) -> Result<i32> {
    match command {
        SwarmctlCommand::Apply(args) => apply::run(client, args, output, false).await,
        SwarmctlCommand::Diff(args) => apply::run(client, args, output, true).await,
        SwarmctlCommand::Delete(args) => apply::delete(client, args, output).await,
        SwarmctlCommand::Stack(command) => stack::run(client, command, output).await,
        SwarmctlCommand::Service(command) => service::run(client, command, output).await,
        SwarmctlCommand::Secret(command) => {
            data::run(client, model::Kind::Secret, command, output).await
        }
        SwarmctlCommand::Config(command) => {
            data::run(client, model::Kind::Config, command, output).await
        }
        SwarmctlCommand::Network(command) => network::run(client, command, output).await,
        SwarmctlCommand::Node(command) => node::run(client, command, output).await,
        SwarmctlCommand::Cluster(command) => cluster::run(client, command, output).await,
        SwarmctlCommand::Events => cluster::events(client, output).await,
        SwarmctlCommand::Validate(_) | SwarmctlCommand::Schema(_) | SwarmctlCommand::Render(_) => {
            Err(CliError::Usage(
                "validate, schema and render run offline".to_owned(),
            ))
        }
    }
}

/// Loads one group of inputs and prints its warnings and errors to stderr, as they are found.
pub fn load_and_report(
    group: &[crate::manifest::PathArg],
    options: &crate::manifest::LoadOptions,
) -> crate::manifest::Loaded {
    let loaded = crate::manifest::load(group, options);
    loaded.reports.iter().for_each(print_findings);
    loaded
}

/// Prints a file's warnings and errors to stderr, one line each, the same for every command.
pub fn print_findings(report: &crate::manifest::FileReport) {
    for warning in &report.warnings {
        eprintln!("{}", warning_line(warning));
    }
    for error in &report.errors {
        eprintln!("{error}");
    }
}

/// `file:line:col: warning: path: message`, where compilers put the tag, so editors and `grep
/// warning:` find it.
pub fn warning_line(warning: &crate::manifest::Diagnostic) -> String {
    let path = if warning.path.is_empty() {
        String::new()
    } else {
        format!("{}: ", warning.path)
    };
    format!(
        "{}:{}:{}: warning: {path}{}",
        warning.file, warning.line, warning.column, warning.message
    )
}

/// The process environment, for interpolation.
pub fn process_env() -> std::collections::HashMap<String, String> {
    std::env::vars().collect()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every `--flag` of every command, by command path, that `--help` would list bare.
    fn bare_flags(command: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if arg.get_long().is_some() && arg.get_help().is_none() && !builtin {
                out.push(format!("{path} --{}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            bare_flags(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_flag_has_help_text() {
        let mut bare = Vec::new();
        bare_flags(&super::Swarmctl::command(), "swarmctl", &mut bare);
        assert!(bare.is_empty(), "flags without help: {bare:?}");
    }
}

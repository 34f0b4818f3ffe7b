//! `swarmctl`: argument parsing and the commands. Offline commands (`validate`, `schema`,
//! `render`) need no daemon.

mod render;
pub mod schema;
mod validate;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code for "the input is invalid" (as opposed to 2: could not run at all).
pub const EXIT_INVALID: i32 = 1;

/// swarmctl — drive a swarm cluster, and check stack files offline.
#[derive(Debug, Parser)]
#[command(name = "swarmctl", version, about)]
pub struct Cli {
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
    pub command: Command,
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
pub enum Command {
    /// Check stack files and manifests against the schemas and swarm's rules (offline).
    Validate(validate::Args),
    /// Print the JSON Schema of a compose stack file or of a native kind.
    Schema(schema::Args),
    /// Print the normalised native manifests a stack file stands for (offline).
    Render(render::Args),
}

/// Runs the parsed command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Validate(args) => validate::run(args, cli.output.unwrap_or(Output::Table)),
        Command::Schema(args) => schema::run(args),
        Command::Render(args) => render::run(args, cli.output.unwrap_or(Output::Yaml)),
    }
}

/// The process environment, for interpolation.
pub fn process_env() -> std::collections::HashMap<String, String> {
    std::env::vars().collect()
}

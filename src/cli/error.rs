//! Why a `swarmctl` command ended with an error, and the exit status that says so.

use crate::client::ClientError;

/// Why a command ended with an error; each message is what the user reads after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The manager refused or failed the request, or could not be reached.
    #[error(transparent)]
    Client(Box<ClientError>),
    /// The arguments or the input cannot be used as given; the message says what to write.
    #[error("{0}")]
    Usage(String),
    /// An input named on the command line could not be read.
    #[error(transparent)]
    Read(#[from] crate::manifest::source::ReadError),
    /// Reading or writing a file or a stream failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Encoding or decoding JSON failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Encoding YAML failed.
    #[error(transparent)]
    Yaml(#[from] serde_saphyr::ser::Error),
}

impl From<ClientError> for CliError {
    fn from(err: ClientError) -> CliError {
        CliError::Client(Box::new(err))
    }
}

impl CliError {
    /// The exit status for this error: [`super::EXIT_FAILED`] when the manager answered with a
    /// refusal or failure, else [`super::EXIT_USAGE`].
    pub fn exit_status(&self) -> i32 {
        match self {
            CliError::Client(e) if e.status().is_some() => super::EXIT_FAILED,
            _ => super::EXIT_USAGE,
        }
    }
}

/// The result of a command.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

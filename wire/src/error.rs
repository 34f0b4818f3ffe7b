//! The body of every error response: `{"error": {code, message, details}}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where in the input a problem is, as the loader reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// Dotted field path (`services.web.ports[0]`); empty for the whole document.
    pub path: String,
    pub message: String,
}

/// The JSON body of every error response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

/// What went wrong: a stable `code`, a message for people, structured `details`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: Value,
}

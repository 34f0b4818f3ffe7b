//! The one mapping from failures to HTTP responses: `{"error": {code, message, details}}`.

use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wire::{Detail, ErrorBody, ErrorInfo};

use crate::apply::ApplyError;
use crate::manifest::Diagnostic;
use crate::store::Rejection;

impl From<&Diagnostic> for Detail {
    fn from(d: &Diagnostic) -> Detail {
        Detail {
            file: d.file.clone(),
            line: d.line,
            column: d.column,
            path: d.path.clone(),
            message: d.message.clone(),
        }
    }
}

/// Why a request failed. Every variant is raised before anything is proposed, or reports a
/// command the store refused as a whole, so a failed request never leaves a partial write.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The manifests do not validate; `details` name file, line, column and field.
    #[error("{message}")]
    Invalid {
        message: String,
        details: Vec<Detail>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A stale version, a name taken, an object in use, a stack owned by a watched file.
    #[error("{message}")]
    Conflict { message: String, details: Value },
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// No leader, or the store is not ready yet: retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A conflict without structured details.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            message: message.into(),
            details: json!({}),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_manifest"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let details = match &self {
            ApiError::Invalid { details, .. } => json!(details),
            ApiError::Conflict { details, .. } => details.clone(),
            ApiError::TooLarge { limit } => json!({ "limit": limit }),
            _ => json!({}),
        };
        if status.is_server_error() {
            tracing::warn!(%status, error = %self, "request failed");
        }
        let body = ErrorBody {
            error: ErrorInfo {
                code: code.to_owned(),
                message: self.to_string(),
                details,
            },
        };
        (status, Json(body)).into_response()
    }
}

impl From<ApplyError> for ApiError {
    fn from(err: ApplyError) -> ApiError {
        match err {
            ApplyError::Invalid(message) => ApiError::Invalid {
                message,
                details: Vec::new(),
            },
            ApplyError::Owned {
                ref stack,
                ref file,
            } => ApiError::Conflict {
                details: json!({ "stack": stack, "watched_file": file }),
                message: err.to_string(),
            },
            ApplyError::InUse {
                ref kind,
                ref name,
                ref service,
                ref user_stack,
            } => ApiError::Conflict {
                details: json!({ "kind": kind, "name": name, "service": service, "stack": user_stack }),
                message: err.to_string(),
            },
            ApplyError::NotFound(message) => ApiError::NotFound(message),
            ApplyError::MissingReference {
                ref kind,
                ref name,
                ref service,
            } => ApiError::Conflict {
                details: json!({ "kind": kind, "name": name, "service": service }),
                message: err.to_string(),
            },
            ApplyError::PortInUse {
                port,
                ref protocol,
                ref service,
            } => ApiError::Conflict {
                details: json!({ "port": port, "protocol": protocol, "service": service }),
                message: err.to_string(),
            },
            ApplyError::Rejected(rejection) => rejection.into(),
            ApplyError::Unavailable(err) => ApiError::Unavailable(err.to_string()),
            ApplyError::Store(err) => ApiError::Internal(err.to_string()),
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> ApiError {
        match &rejection {
            Rejection::NotFound { .. } => ApiError::NotFound(rejection.to_string()),
            Rejection::Conflict(conflict) => ApiError::Conflict {
                details: json!(conflict),
                message: rejection.to_string(),
            },
            Rejection::AlreadyExists { .. } => ApiError::conflict(rejection.to_string()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: super::BODY_LIMIT,
            }
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::BadRequest(rejection.body_text())
    }
}

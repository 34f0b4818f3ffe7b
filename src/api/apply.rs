//! `POST /v1/apply?stack=&dry_run=&prune=`: a JSON body as swarmctl sends it, or YAML.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use wire::ApplyQuery;

use super::input::{self, Input};
use super::{ApiError, ApiState};
use crate::apply::{self, ApplyOutcome, ApplyRequest, Owner};

/// `POST /v1/apply`.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/v1/apply", post(apply_handler))
}

async fn apply_handler(
    State(state): State<ApiState>,
    query: Result<Query<ApplyQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApplyOutcome>, ApiError> {
    let Query(query) = query?;
    let body = body?;
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let input = if json {
        input::from_json(&body)?
    } else {
        input::from_yaml(&body, query.stack.clone())?
    };
    let Input {
        stack,
        manifests,
        source,
        warnings,
    } = input;
    let stack = query
        .stack
        .or(stack)
        .or_else(|| manifests.iter().find_map(|m| m.metadata.stack.clone()))
        .ok_or_else(|| {
            ApiError::BadRequest(
                "the input names no stack; name it with ?stack=NAME (swarmctl: --stack NAME)"
                    .into(),
            )
        })?;
    let request = ApplyRequest {
        stack,
        manifests,
        source,
        dry_run: query.dry_run,
        prune: query.prune,
        owner: Owner::Api,
    };
    let mut outcome = apply::apply_expecting(&state.store, request, query.expected_version).await?;
    outcome.plan.notes.extend(warnings);
    Ok(Json(outcome))
}

//! `/v1/services`: list, inspect, delete, and the edits of a running service. Creation and
//! whole-spec changes go through `POST /v1/apply`.
//!
//! Every edit is `POST /v1/services/{name}[?stack=]/<verb>` with a JSON body, answers
//! [`ObjectChange`] `{object, plan, index}`, and is one compare-and-set `Op::Update`: a body's
//! `expected_version` that is stale gets 409; services of a stack owned by a watched file get
//! 409 naming the file; a refusal caused by the service's state gets 409 with `details.reason`.
//! - `scale` `{replicas, expected_version?}` — refused for global services (`global_service`).
//! - `update` `{image?, replicas?, env_add{}, env_rm[], label_add{}, label_rm[], force?,
//!   expected_version?}` — labels are the service's (`deploy.labels`); `force` replaces every
//!   task even when nothing else changed.
//! - `rollback` `{expected_version?}` — spec <- `status.previous_spec` (`no_previous_spec`).
//! - `restart` `{expected_version?}` — bumps the container label `swarm.restart`, so the update
//!   controller replaces every task at the pace of `update_config`.
//! - `GET /v1/services/{name}/logs?follow=&tail=` — see [`super::logs`].

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::Kind;
use model::service::{ServiceSpec, ServiceStatus};
use serde::de::DeserializeOwned;
use serde_json::json;
use wire::{Filter, ObjectChange, ScaleBody, UpdateBody, VersionBody};

use super::edit::{self, EditTarget, Edited};
use super::objects;
use super::service_spec;
use super::{ApiError, ApiState, logs};
use crate::store::Record;

/// Service routes.
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Service, "services")
        .route("/v1/services/{name}/scale", post(scale))
        .route("/v1/services/{name}/update", post(update))
        .route("/v1/services/{name}/rollback", post(rollback))
        .route("/v1/services/{name}/restart", post(restart))
        .route("/v1/services/{name}/logs", get(logs::service_logs))
}

async fn scale(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    query: Result<Query<Filter>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ObjectChange>, ApiError> {
    let Query(filter) = query?;
    let body: ScaleBody = parse(body?, "{\"replicas\": N}")?;
    let target = target(&name, &filter, body.expected_version);
    edit_spec(&state, target, |record, spec, _| {
        service_spec::scale(&record.metadata.name, spec, body.replicas)
    })
    .await
}

async fn update(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    query: Result<Query<Filter>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ObjectChange>, ApiError> {
    let Query(filter) = query?;
    let body: UpdateBody = parse_optional(body?, "{\"image\": ..., \"replicas\": ..., ...}")?;
    let target = target(&name, &filter, body.expected_version);
    edit_spec(&state, target, |record, spec, _| {
        service_spec::update(&record.metadata.name, spec, &body)
    })
    .await
}

async fn rollback(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    query: Result<Query<Filter>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ObjectChange>, ApiError> {
    let Query(filter) = query?;
    let body: VersionBody = parse_optional(body?, "{\"expected_version\": N} or nothing")?;
    let target = target(&name, &filter, body.expected_version);
    edit_spec(&state, target, |record, spec, status| {
        *spec = service_spec::rollback(&record.metadata.name, spec, status)?;
        Ok(())
    })
    .await
}

async fn restart(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    query: Result<Query<Filter>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ObjectChange>, ApiError> {
    let Query(filter) = query?;
    let body: VersionBody = parse_optional(body?, "{\"expected_version\": N} or nothing")?;
    let target = target(&name, &filter, body.expected_version);
    edit_spec(&state, target, |_, spec, _| {
        service_spec::bump_restart(spec);
        Ok(())
    })
    .await
}

fn target<'a>(name: &'a str, filter: &'a Filter, expected_version: Option<u64>) -> EditTarget<'a> {
    EditTarget {
        kind: Kind::Service,
        key: name,
        stack: filter.stack.as_deref(),
        expected_version,
    }
}

/// Edits the typed spec of a service and writes it back, validated.
async fn edit_spec(
    state: &ApiState,
    target: EditTarget<'_>,
    change: impl Fn(&Record, &mut ServiceSpec, &ServiceStatus) -> Result<(), ApiError>,
) -> Result<Json<ObjectChange>, ApiError> {
    let outcome = edit::edit(state, target, |_, record| {
        let name = &record.metadata.name;
        let mut spec: ServiceSpec = record.spec_as().map_err(|e| {
            ApiError::Internal(format!("service `{name}` has an unreadable spec: {e}"))
        })?;
        let status: ServiceStatus = record.status_as().unwrap_or_default();
        change(record, &mut spec, &status)?;
        service_spec::validate(name, &spec)?;
        Ok(Edited {
            metadata: record.metadata.clone(),
            spec: json!(spec),
        })
    })
    .await?;
    Ok(Json(outcome))
}

/// Parses a JSON body.
pub fn parse<T: DeserializeOwned>(body: Bytes, expected: &str) -> Result<T, ApiError> {
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("expected a JSON body {expected}: {e}")))
}

/// Parses an optional JSON body: an empty one is the type's default.
pub fn parse_optional<T: DeserializeOwned + Default>(
    body: Bytes,
    expected: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse(body, expected)
}

//! What every kind's routes share: list, get by name or id, delete, and the response view that
//! never carries secret data.

use std::collections::HashSet;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use model::Kind;
use serde::Serialize;
use serde_json::{Value, json};
use wire::Filter;

use super::{ApiError, ApiState};
use crate::apply::{self, Owner, kind_word};
use crate::store::{Index, Record};

/// `GET /v1/<plural>`, `GET|DELETE /v1/<plural>/{name_or_id}` for `kind`.
pub fn routes(kind: Kind, plural: &str) -> Router<ApiState> {
    read_routes(kind, plural).route(
        &format!("/v1/{plural}/{{name}}"),
        axum::routing::delete(
            move |state: State<ApiState>,
                  name: Path<String>,
                  query: Result<Query<Filter>, QueryRejection>| async move {
                delete(state, kind, name, query).await
            },
        ),
    )
}

/// `GET /v1/<plural>` and `GET /v1/<plural>/{name_or_id}` only, for kinds with their own delete.
pub fn read_routes(kind: Kind, plural: &str) -> Router<ApiState> {
    Router::new()
        .route(
            &format!("/v1/{plural}"),
            get(
                move |state: State<ApiState>, query: Result<Query<Filter>, QueryRejection>| async move {
                    list(state, kind, query).await
                },
            ),
        )
        .route(
            &format!("/v1/{plural}/{{name}}"),
            get(
                move |state: State<ApiState>,
                      name: Path<String>,
                      query: Result<Query<Filter>, QueryRejection>| async move {
                    one(state, kind, name, query).await
                },
            ),
        )
}

async fn list(
    State(state): State<ApiState>,
    kind: Kind,
    query: Result<Query<Filter>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(filter) = query?;
    let body = state.store.read(|index| {
        // Tasks belong to a stack through their service.
        let services: Option<HashSet<&str>> = match (kind, &filter.service, &filter.stack) {
            (Kind::Task, Some(service), stack) => {
                let service = lookup(index, Kind::Service, service, stack.as_deref())?;
                Some(HashSet::from([service.id.as_str()]))
            }
            (Kind::Task, None, Some(stack)) => Some(
                index
                    .in_stack(stack)
                    .into_iter()
                    .filter(|r| r.kind == Kind::Service)
                    .map(|r| r.id.as_str())
                    .collect(),
            ),
            _ => None,
        };
        let node = match (kind, &filter.node) {
            (Kind::Task, Some(node)) => Some(lookup(index, Kind::Node, node, None)?.id.as_str()),
            _ => None,
        };
        let keep = |r: &Record| {
            let listed = match &services {
                Some(ids) => r
                    .spec
                    .get("service_id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| ids.contains(id)),
                None => filter.stack.is_none() || r.metadata.stack == filter.stack,
            };
            listed && node.is_none_or(|node| task_on(r, node))
        };
        let listed: Vec<Listed> = index
            .list(kind)
            .into_iter()
            .filter(|r| keep(r))
            .map(Listed::of)
            .collect();
        serde_json::to_vec(&listed)
            .map_err(|e| ApiError::Internal(format!("encoding the list: {e}")))
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A listed object as the API shows it, written straight from the store: a list of tasks is
/// megabytes, so records are not first copied into [`Value`]s as [`view`] does.
#[derive(Serialize)]
#[serde(untagged)]
enum Listed<'a> {
    Stored(&'a Record),
    /// A secret, whose content is never shown.
    Viewed(Value),
}

impl Listed<'_> {
    fn of(record: &Record) -> Listed<'_> {
        if record.kind == Kind::Secret {
            Listed::Viewed(view(record))
        } else {
            Listed::Stored(record)
        }
    }
}

async fn one(
    State(state): State<ApiState>,
    kind: Kind,
    Path(name): Path<String>,
    query: Result<Query<Filter>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = query?;
    state
        .store
        .read(|index| lookup(index, kind, &name, filter.stack.as_deref()).map(|r| Json(view(r))))
}

async fn delete(
    State(state): State<ApiState>,
    kind: Kind,
    Path(name): Path<String>,
    query: Result<Query<Filter>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(filter) = query?;
    let id = state
        .store
        .read(|index| lookup(index, kind, &name, filter.stack.as_deref()).map(|r| r.id.clone()))?;
    let outcome = apply::delete_object(&state.store, kind, &id, &Owner::Api).await?;
    Ok(Json(outcome))
}

/// Whether task `record` is on node `node` (assigned there, or bound to it when global).
fn task_on(record: &Record, node: &str) -> bool {
    [&record.status, &record.spec]
        .iter()
        .find_map(|v| v.get("node_id").and_then(Value::as_str))
        == Some(node)
}

/// Finds an object by id, by name (within `stack` when given), or by Docker's `<stack>_<name>`.
/// A name used in several stacks is ambiguous without `stack`.
pub fn lookup<'a>(
    index: &'a Index,
    kind: Kind,
    key: &str,
    stack: Option<&str>,
) -> Result<&'a Record, ApiError> {
    let word = kind_word(kind);
    if kind == Kind::Stack {
        return index
            .find(Kind::Stack, Some(key), key)
            .ok_or_else(|| ApiError::NotFound(format!("stack `{key}` not found")));
    }
    if let Some(record) = index.get(kind, key) {
        return Ok(record);
    }
    if let Some(stack) = stack {
        return index.find(kind, Some(stack), key).ok_or_else(|| {
            ApiError::NotFound(format!("{word} `{key}` not found in stack `{stack}`"))
        });
    }
    let named: Vec<&Record> = index
        .list(kind)
        .into_iter()
        .filter(|r| r.metadata.name == key)
        .collect();
    match named.as_slice() {
        [one] => return Ok(one),
        [] => {}
        many => {
            let stacks: Vec<String> = many
                .iter()
                .map(|r| r.metadata.stack.clone().unwrap_or_else(|| "(none)".into()))
                .collect();
            return Err(ApiError::BadRequest(format!(
                "{word} `{key}` exists in stacks {}; name one with ?stack=NAME (or --stack)",
                stacks.join(", ")
            )));
        }
    }
    key.match_indices('_')
        .find_map(|(at, _)| index.find(kind, Some(&key[..at]), &key[at + 1..]))
        .ok_or_else(|| ApiError::NotFound(format!("{word} `{key}` not found")))
}

/// A record as the API returns it: secret content replaced by its hash.
pub fn view(record: &Record) -> Value {
    let mut value = json!(record);
    if record.kind == Kind::Secret
        && let Some(spec) = value.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.remove("content");
        let hash = apply::stored_hash(record);
        if let Some(hash) = hash {
            spec.insert("content_hash".into(), Value::String(hash));
        }
    }
    value
}

//! `/v1/nodes`: list, inspect, and the operator's edits of a node's spec. Status (ready/down,
//! hostname, resources) is the dispatcher's and never written here.
//!
//! - `POST /v1/nodes/{name}/update` `{availability?, label_add{}, label_rm[], expected_version?}`
//! - `POST /v1/nodes/{name}/promote`, `POST /v1/nodes/{name}/demote` `{expected_version?}` — the
//!   role in the spec; the last manager cannot be demoted (409, `details.reason: last_manager`).
//! - `DELETE /v1/nodes/{name}?force=` — refused for managers (`manager`: demote first) and, unless
//!   `force`, for a node that is still ready (`node_ready`).
//!
//! Edits answer [`ObjectChange`] like the service edits; a stale `expected_version` gets 409.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{delete, post};
use axum::{Json, Router};
use model::{Kind, NodeRole, NodeSpec, NodeState, NodeStatus};
use serde_json::json;
use wire::{NodeUpdateBody, ObjectChange, RemoveQuery, VersionBody};

use super::edit::{self, EditTarget, Edited, refused};
use super::objects::{self, lookup};
use super::services::parse_optional;
use super::{ApiError, ApiState};
use crate::apply::{self, ApplyOutcome, ChangeKind, StackChange, StackPlan};
use crate::store::{Command, Executed, Index, Op, Record};

/// Node routes.
pub fn routes() -> Router<ApiState> {
    objects::read_routes(Kind::Node, "nodes")
        .route("/v1/nodes/{name}", delete(remove))
        .route("/v1/nodes/{name}/update", post(update))
        .route(
            "/v1/nodes/{name}/promote",
            post(|s, n, b| role(s, n, b, NodeRole::Manager)),
        )
        .route(
            "/v1/nodes/{name}/demote",
            post(|s, n, b| role(s, n, b, NodeRole::Worker)),
        )
}

async fn update(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ObjectChange>, ApiError> {
    let body: NodeUpdateBody = parse_optional(
        body?,
        "{\"availability\": \"active|pause|drain\", \"label_add\": {}, \"label_rm\": []}",
    )?;
    let target = target(&name, body.expected_version);
    edit_spec(&state, target, |_, _, spec| {
        if let Some(availability) = body.availability {
            spec.availability = availability;
        }
        for key in &body.label_rm {
            spec.labels.remove(key);
        }
        for (key, value) in &body.label_add {
            if key.is_empty() || key.contains('=') {
                return Err(ApiError::BadRequest(format!(
                    "--label-add: `{key}` is not a valid label name (write key=value)"
                )));
            }
            spec.labels.insert(key.clone(), value.clone());
        }
        Ok(())
    })
    .await
}

async fn role(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
    role: NodeRole,
) -> Result<Json<ObjectChange>, ApiError> {
    let body: VersionBody = parse_optional(body?, "{\"expected_version\": N} or nothing")?;
    let target = target(&name, body.expected_version);
    edit_spec(&state, target, |index, record, spec| {
        if role == NodeRole::Worker && spec.role == NodeRole::Manager && managers(index) <= 1 {
            return Err(refused(
                "last_manager",
                format!(
                    "the last manager cannot be demoted: node `{}` is the only manager; promote \
                     another node first",
                    record.metadata.name
                ),
            ));
        }
        spec.role = role;
        Ok(())
    })
    .await
}

async fn remove(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    query: Result<Query<RemoveQuery>, QueryRejection>,
) -> Result<Json<ApplyOutcome>, ApiError> {
    let Query(query) = query?;
    let (record, command) = state.store.read(|index| {
        let record = lookup(index, Kind::Node, &name, None)?;
        let spec: NodeSpec = record.spec_as().unwrap_or_default();
        let status: NodeStatus = record.status_as().unwrap_or_default();
        let node = &record.metadata.name;
        if spec.role == NodeRole::Manager {
            return Err(refused(
                "manager",
                format!(
                    "node `{node}` is a manager; demote it first (swarmctl node demote {node})"
                ),
            ));
        }
        if status.state == NodeState::Ready && !query.force {
            return Err(refused(
                "node_ready",
                format!(
                    "node `{node}` is ready (its agent is connected); drain and stop it first, or \
                     remove it anyway with --force"
                ),
            ));
        }
        let mut ops = vec![Op::Delete {
            kind: Kind::Node,
            id: record.id.clone(),
            expected_version: Some(record.version),
        }];
        // Its certificate stays valid until it expires: refuse it from now on, on every
        // manager, in the same write.
        ops.extend(crate::pki::cluster::refuse_op(index, &status.node_id));
        let command = Command {
            at: state.store.clock().now(),
            ops,
        };
        Ok((record.clone(), command))
    })?;
    match apply::propose(&state.store, command.clone()).await? {
        Executed::Ok { index, .. } => Ok(Json(ApplyOutcome {
            plan: StackPlan {
                stack: String::new(),
                items: vec![StackChange {
                    action: ChangeKind::Delete,
                    kind: Kind::Node,
                    name: record.metadata.name,
                    changes: Vec::new(),
                }],
                notes: Vec::new(),
            },
            dry_run: false,
            index: Some(index),
        })),
        Executed::Rejected(rejection) => Err(rejection.into()),
    }
}

fn target(name: &str, expected_version: Option<u64>) -> EditTarget<'_> {
    EditTarget {
        kind: Kind::Node,
        key: name,
        stack: None,
        expected_version,
    }
}

/// Edits the typed spec of a node and writes it back.
async fn edit_spec(
    state: &ApiState,
    target: EditTarget<'_>,
    change: impl Fn(&Index, &Record, &mut NodeSpec) -> Result<(), ApiError>,
) -> Result<Json<ObjectChange>, ApiError> {
    let outcome = edit::edit(state, target, |index, record| {
        let mut spec: NodeSpec = record.spec_as().map_err(|e| {
            ApiError::Internal(format!(
                "node `{}` has an unreadable spec: {e}",
                record.metadata.name
            ))
        })?;
        change(index, record, &mut spec)?;
        Ok(Edited {
            metadata: record.metadata.clone(),
            spec: json!(spec),
        })
    })
    .await?;
    Ok(Json(outcome))
}

/// Nodes whose spec makes them managers.
fn managers(index: &Index) -> usize {
    index
        .list(Kind::Node)
        .into_iter()
        .filter(|r| {
            r.spec_as::<NodeSpec>()
                .is_ok_and(|s| s.role == NodeRole::Manager)
        })
        .count()
}

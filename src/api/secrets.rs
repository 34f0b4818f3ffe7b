//! `/v1/secrets`: create (`{name, content, labels}`), list, inspect, delete. Secret content is
//! never returned: responses carry `content_hash` in its place.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use model::{ConfigSpec, Kind, ObjectMeta, SecretSpec, names};
use serde_json::Value;
use wire::DataBody;

use super::{ApiError, ApiState, objects};
use crate::apply::{self, LABEL_CONTENT_HASH};
use crate::manifest::objects::{CONFIG_LIMIT, SECRET_LIMIT};
use crate::store::{Command, Executed, Op};

/// Secret routes.
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Secret, "secrets").route(
        "/v1/secrets",
        post(
            |state: State<ApiState>, body: Result<Bytes, BytesRejection>| async move {
                create(state, Kind::Secret, body).await
            },
        ),
    )
}

/// Creates a secret or config outside any stack.
pub async fn create(
    State(state): State<ApiState>,
    kind: Kind,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body?;
    let body: DataBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "expected a JSON body {{\"name\", \"content\", \"labels\"}}: {e}"
        ))
    })?;
    let word = apply::kind_word(kind);
    let (checked, limit) = match kind {
        Kind::Secret => (names::check_secret_name(&body.name), SECRET_LIMIT),
        _ => (names::check_config_name(&body.name), CONFIG_LIMIT),
    };
    checked.map_err(|e| ApiError::BadRequest(format!("{word} name `{}`: {e}", body.name)))?;
    if body.content.len() as u64 > limit {
        return Err(ApiError::BadRequest(format!(
            "{word} `{}` is {} bytes, over Docker's limit of {limit} bytes",
            body.name,
            body.content.len()
        )));
    }
    let mut labels = body.labels;
    labels.insert(
        LABEL_CONTENT_HASH.into(),
        apply::content_hash(&body.content),
    );
    let spec = match kind {
        Kind::Secret => serde_json::to_value(SecretSpec {
            content: Some(body.content),
            ..SecretSpec::default()
        }),
        _ => serde_json::to_value(ConfigSpec {
            content: Some(body.content),
            ..ConfigSpec::default()
        }),
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let command = Command {
        at: state.store.clock().now(),
        ops: vec![Op::Create {
            kind,
            metadata: ObjectMeta {
                name: body.name,
                labels,
                stack: None,
            },
            spec,
            status: Value::Null,
        }],
    };
    match apply::propose(&state.store, command).await? {
        Executed::Ok { ids, .. } => {
            let id = ids.first().cloned().unwrap_or_default();
            let view = state
                .store
                .read(|index| index.get(kind, &id).map(objects::view))
                .ok_or_else(|| ApiError::Internal(format!("{word} {id} vanished after create")))?;
            Ok((StatusCode::CREATED, Json(view)))
        }
        Executed::Rejected(rejection) => Err(rejection.into()),
    }
}

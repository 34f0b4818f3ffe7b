//! `/v1/configs`: create (`{name, content, labels}`), list, inspect, delete.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::routing::post;
use model::Kind;

use super::{ApiState, objects, secrets};

/// Config routes.
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Config, "configs").route(
        "/v1/configs",
        post(
            |state: State<ApiState>, body: Result<Bytes, BytesRejection>| async move {
                secrets::create(state, Kind::Config, body).await
            },
        ),
    )
}

//! `/v1/networks`: list, inspect, delete (create through `POST /v1/apply`).

use axum::Router;
use model::Kind;

use super::{ApiState, objects};

/// Network routes.
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Network, "networks")
}

//! `/v1/services`: list, inspect, delete (create and update go through `POST /v1/apply`).

use axum::Router;
use model::Kind;

use super::{ApiState, objects};

/// Service routes.
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Service, "services")
}

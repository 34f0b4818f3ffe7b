//! `/v1/nodes`: list, inspect, remove.

use axum::Router;
use model::Kind;

use super::{ApiState, objects};

/// Node routes.
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Node, "nodes")
}

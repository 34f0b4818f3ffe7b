//! `/v1/stacks`: list, inspect, and delete a whole stack in one command.

use axum::Router;
use model::Kind;

use super::{ApiState, objects};

/// Stack routes; `DELETE /v1/stacks/{name}` removes every member and the Stack object at once.
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Stack, "stacks")
}

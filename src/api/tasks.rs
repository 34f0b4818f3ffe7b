//! `/v1/tasks` (`?service=NAME_OR_ID`, `?stack=NAME`, `?node=NAME_OR_ID`): read-only; tasks
//! belong to the controllers. How `ps` and `logs` name a task is in `wire::tasks`.

use axum::Router;
use model::Kind;

use super::{ApiState, objects};

/// Task routes (a DELETE is refused with a hint to scale or remove the service).
pub fn routes() -> Router<ApiState> {
    objects::routes(Kind::Task, "tasks")
}

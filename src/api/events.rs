//! `GET /v1/events`: the store's event stream as server-sent events, one JSON object per event.

use std::convert::Infallible;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::ApiState;

/// Event routes.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/v1/events", get(events))
}

/// Subscribes before the response starts, so every change committed after the client sees the
/// response headers is delivered. A reader too slow for the buffer gets a `lagged` event
/// saying how many it missed (then it should re-list).
async fn events(
    State(state): State<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = state.store.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let (kind, data) = match receiver.recv().await {
            Ok(event) => {
                let data = serde_json::to_value(&event).unwrap_or_default();
                let kind = data["type"].as_str().unwrap_or("event").to_owned();
                (kind, data)
            }
            Err(RecvError::Lagged(missed)) => (
                "lagged".to_owned(),
                json!({"type": "lagged", "missed": missed}),
            ),
            Err(RecvError::Closed) => return None,
        };
        let event = SseEvent::default().event(kind).data(data.to_string());
        Some((Ok(event), receiver))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

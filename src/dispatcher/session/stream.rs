//! `GET /v1/session/{id}/assignments`: newline-delimited JSON, the node's full set first, then
//! each change after the commits that made it. The stream ends when the session does (replaced,
//! or its node silent past the grace), or when this manager stops leading, so the agent moves
//! to the new leader.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::mpsc;
use wire::AssignmentsMessage;

use super::{Session, SessionService};
use crate::dispatcher::feed::{self, AssignmentFeed};

/// Lines buffered for a slow reader before the stream waits for it.
const BUFFER: usize = 16;

/// Starts following the session's node and answers with the stream.
pub(super) fn respond(service: SessionService, id: String, session: Session) -> Response {
    let (lines, rx) = mpsc::channel::<Bytes>(BUFFER);
    tokio::spawn(follow(service, id, session, lines));
    let body = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (Ok::<_, Infallible>(line), rx))
    });
    (
        [(CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(body),
    )
        .into_response()
}

async fn follow(service: SessionService, id: String, session: Session, lines: mpsc::Sender<Bytes>) {
    let inner = &service.inner;
    let span = tracing::info_span!("session", node.id = %session.node_id);
    let mut feed = AssignmentFeed::new(
        inner.store.clone(),
        session.node_id.clone(),
        inner.config.debounce,
    );
    if send(&lines, &AssignmentsMessage::Full(feed.full()))
        .await
        .is_err()
    {
        return;
    }
    let mut ended = session.ended.subscribe();
    if *ended.borrow_and_update() {
        return;
    }
    let grace = inner.config.heartbeat * 3;
    let mut check = tokio::time::interval(inner.config.heartbeat);
    loop {
        tokio::select! {
            // It only ever turns true.
            _ = ended.changed() => break,
            () = lines.closed() => break,
            changes = feed.next_changes() => match changes {
                None => break,
                Some(changes) if feed::is_empty(&changes) => {}
                Some(changes) => {
                    if send(&lines, &AssignmentsMessage::Changes(changes)).await.is_err() {
                        break;
                    }
                }
            },
            _ = check.tick() => {
                if !inner.store.is_leader() {
                    span.in_scope(|| tracing::info!("no longer the leader; ending the session"));
                    break;
                }
                let silent = inner
                    .heartbeats
                    .last(&session.node_id)
                    .is_none_or(|at| at.elapsed() > grace);
                if silent {
                    span.in_scope(|| tracing::info!("no heartbeat within the grace; ending the session"));
                    service.end(&id);
                    break;
                }
            }
        }
    }
}

/// Sends one message as a line; Err when the reader is gone.
async fn send(lines: &mpsc::Sender<Bytes>, message: &AssignmentsMessage) -> Result<(), ()> {
    let Ok(mut line) = serde_json::to_vec(message) else {
        tracing::warn!("cannot encode assignments; ending the stream");
        return Err(());
    };
    line.push(b'\n');
    lines.send(Bytes::from(line)).await.map_err(|_| ())
}

//! `GET /v1/services/{name}/logs?stack=&follow=&tail=`: the log lines of a service's task
//! containers as streaming `text/plain`, each prefixed with the task name (`web.1 | ...`).
//!
//! The API does not talk to Docker itself: the daemon plugs a [`LogSource`] into
//! [`ApiState::with_logs`](super::ApiState::with_logs) (the local agent's `logs`). Without one
//! the endpoint answers 503, so a manager with no agent says so instead of printing nothing.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, BoxStream, StreamExt};
use model::{Kind, TaskSpec, TaskStatus};
use tokio::sync::{broadcast, mpsc};
use wire::LogsQuery;
use wire::tasks::{hostname, node_of, task_name};

use super::objects::lookup;
use super::{ApiError, ApiState};
use crate::store::{Event, Store};

/// Log lines of one container, without their trailing newline; an `Err` item is shown in the
/// output (`web.2 | (logs unavailable: ...)`) and the other tasks' lines go on.
pub type LogLines = BoxStream<'static, Result<String, LogError>>;

/// Where the logs of one task are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    pub task_id: String,
    /// `web.1`: the prefix of its lines.
    pub task_name: String,
    pub service_id: String,
    /// The node running it (a source on another node's agent cannot read it).
    pub node_id: Option<String>,
    pub container_id: Option<String>,
}

/// How much to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep streaming new lines until the container ends or the client goes away.
    pub follow: bool,
    /// Only the last N lines of each container (all when `None`).
    pub tail: Option<u64>,
}

/// Why one task's logs could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The container runs on another node; cross-node logs are not wired yet.
    #[error("the container runs on node {node}, which this manager cannot read logs from")]
    OtherNode { node: String },
    /// The runtime has no such container (removed, or never started).
    #[error("no container {container} on this node")]
    NoContainer { container: String },
    /// The runtime failed.
    #[error("{0}")]
    Runtime(String),
}

/// Reads container logs; the daemon implements it over the local agent. A closure
/// `Fn(LogTarget, LogOptions) -> LogLines` is one.
pub trait LogSource: Send + Sync {
    /// The log lines of `target`'s container.
    fn logs(&self, target: LogTarget, options: LogOptions) -> LogLines;
}

impl<F> LogSource for F
where
    F: Fn(LogTarget, LogOptions) -> LogLines + Send + Sync,
{
    fn logs(&self, target: LogTarget, options: LogOptions) -> LogLines {
        self(target, options)
    }
}

/// `GET /v1/services/{name}/logs`.
pub async fn service_logs(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    query: Result<Query<LogsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let Some(source) = state.logs.clone() else {
        return Err(ApiError::Unavailable(
            "no agent on this manager: logs are read from the Docker engine of a node running \
             the tasks; ask a manager that also runs an agent (`swarmd up`)"
                .into(),
        ));
    };
    // Subscribed before the read, so no task started in between is missed when following.
    let events = state.store.subscribe();
    let (service_id, targets) = state.store.read(|index| {
        let service = lookup(index, Kind::Service, &name, query.stack.as_deref())?;
        Ok::<_, ApiError>((service.id.clone(), targets(index, service)))
    })?;
    let options = LogOptions {
        follow: query.follow,
        tail: query.tail,
    };
    let lines = if options.follow {
        followed(
            state.store.clone(),
            events,
            source,
            service_id,
            targets,
            options,
        )
    } else {
        merged(&source, targets, options)
    };
    let body = Body::from_stream(lines.map(Ok::<_, Infallible>));
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// Every task of `service` that has (or had) a container, by slot and then age.
fn targets(index: &crate::store::Index, service: &crate::store::Record) -> Vec<LogTarget> {
    let mut tasks: Vec<(TaskSpec, TaskStatus, &crate::store::Record)> = index
        .list(Kind::Task)
        .into_iter()
        .filter_map(|r| {
            Some((
                r.spec_as::<TaskSpec>().ok()?,
                r.status_as::<TaskStatus>().ok()?,
                r,
            ))
        })
        .filter(|(spec, status, _)| spec.service_id == service.id && status.container_id.is_some())
        .collect();
    tasks.sort_by_key(|(spec, _, r)| (spec.slot, r.created_at, r.id.clone()));
    tasks
        .into_iter()
        .map(|(spec, status, record)| {
            let node_id = node_of(&spec, &status);
            let node = node_id
                .as_deref()
                .and_then(|id| index.get(Kind::Node, id))
                .map(hostname);
            LogTarget {
                task_id: record.id.clone(),
                task_name: task_name(&service.metadata.name, &spec, node.as_deref()),
                service_id: service.id.clone(),
                node_id,
                container_id: status.container_id,
            }
        })
        .collect()
}

/// One stream of prefixed lines, task by task so each task's lines stay together.
fn merged(
    source: &Arc<dyn LogSource>,
    targets: Vec<LogTarget>,
    options: LogOptions,
) -> BoxStream<'static, Bytes> {
    let streams: Vec<BoxStream<'static, Bytes>> = targets
        .into_iter()
        .map(|target| prefixed(source, target, options))
        .collect();
    stream::iter(streams).flatten().boxed()
}

/// `docker service logs -f`: every task's lines interleaved as they come, and the tasks that
/// get a container later (replacements, scale-ups, rolling updates) joined as they start, from
/// their first line. Ends when the service is removed or the client goes away.
fn followed(
    store: Store,
    mut events: broadcast::Receiver<Event>,
    source: Arc<dyn LogSource>,
    service_id: String,
    initial: Vec<LogTarget>,
    options: LogOptions,
) -> BoxStream<'static, Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let mut seen: HashSet<String> = initial.iter().map(|t| t.task_id.clone()).collect();
        let mut all =
            stream::select_all(initial.into_iter().map(|t| prefixed(&source, t, options)));
        loop {
            tokio::select! {
                Some(line) = all.next(), if !all.is_empty() => {
                    if tx.send(line).await.is_err() {
                        return; // the client went away
                    }
                }
                event = events.recv() => {
                    match event {
                        Ok(Event::Commit { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                    let fresh = store.read(|index| {
                        let service = index.get(Kind::Service, &service_id)?;
                        Some(targets(index, service))
                    });
                    let Some(fresh) = fresh else {
                        return; // the service is gone
                    };
                    // New tasks from their first line: `tail` was about history.
                    let from_start = LogOptions { tail: None, ..options };
                    for target in fresh {
                        if seen.insert(target.task_id.clone()) {
                            all.push(prefixed(&source, target, from_start));
                        }
                    }
                }
                () = tx.closed() => return,
            }
        }
    });
    stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (line, rx))
    })
    .boxed()
}

/// The lines of one task, each prefixed with the task's name.
fn prefixed(
    source: &Arc<dyn LogSource>,
    target: LogTarget,
    options: LogOptions,
) -> BoxStream<'static, Bytes> {
    let prefix = target.task_name.clone();
    source
        .logs(target, options)
        .map(move |line| {
            let text = match line {
                Ok(line) => line,
                Err(err) => format!("(logs unavailable: {err})"),
            };
            Bytes::from(format!(
                "{prefix} | {}\n",
                text.trim_end_matches(['\r', '\n'])
            ))
        })
        .boxed()
}

//! `GET /v1/services/{name}/logs?stack=&follow=&tail=`: the log lines of a service's task
//! containers as streaming `text/plain`, each prefixed with the task name (`web.1 | ...`).
//!
//! The API does not talk to Docker itself: the daemon plugs a [`LogSource`] into
//! [`ApiState::with_logs`](super::ApiState::with_logs) (the local agent's `logs`). Without one
//! the endpoint answers 503, so a manager with no agent says so instead of printing nothing.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, BoxStream, StreamExt};
use model::{Kind, TaskSpec, TaskStatus};
use serde::Deserialize;

use super::objects::lookup;
use super::tasks::{hostname, node_of, task_name};
use super::{ApiError, ApiState};

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

/// Query of the logs endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct LogsQuery {
    pub stack: Option<String>,
    #[serde(default)]
    pub follow: bool,
    pub tail: Option<u64>,
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
    let targets = state.store.read(|index| {
        let service = lookup(index, Kind::Service, &name, query.stack.as_deref())?;
        Ok::<_, ApiError>(targets(index, service))
    })?;
    let options = LogOptions {
        follow: query.follow,
        tail: query.tail,
    };
    let body = Body::from_stream(merged(&source, targets, options).map(Ok::<_, Infallible>));
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

/// One stream of prefixed lines: interleaved as they come when following, else task by task so
/// each task's lines stay together.
fn merged(
    source: &Arc<dyn LogSource>,
    targets: Vec<LogTarget>,
    options: LogOptions,
) -> BoxStream<'static, Bytes> {
    let streams: Vec<BoxStream<'static, Bytes>> = targets
        .into_iter()
        .map(|target| {
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
        })
        .collect();
    if options.follow {
        stream::select_all(streams).boxed()
    } else {
        stream::iter(streams).flatten().boxed()
    }
}

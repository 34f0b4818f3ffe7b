//! Plugs the local Docker engine into the API's `service logs` endpoint.

use std::sync::Arc;

use futures_util::StreamExt;

use crate::agent::{ContainerRuntime, DockerRuntime};
use crate::api::{LogError, LogLines, LogOptions, LogSource, LogTarget};

/// Reads task logs from this node's engine. One node today: every task runs here; a task
/// without a container (never started, or removed) says so.
pub fn docker_logs(runtime: DockerRuntime) -> Arc<dyn LogSource> {
    let runtime = Arc::new(runtime);
    Arc::new(move |target: LogTarget, options: LogOptions| -> LogLines {
        let Some(container) = target.container_id.clone() else {
            let error = LogError::NoContainer {
                container: format!("(task {} has none yet)", target.task_name),
            };
            return futures_util::stream::once(async move { Err(error) }).boxed();
        };
        let tail = options.tail.and_then(|t| usize::try_from(t).ok());
        runtime
            .logs(&container, options.follow, tail)
            // Containers of ended tasks are removed by the agent: their history has no logs
            // left, which is not an error worth a line per task.
            .take_while(|line| {
                let gone = matches!(line, Err(e) if e.is_not_found());
                futures_util::future::ready(!gone)
            })
            .map(|line| {
                line.map(|l| l.line)
                    .map_err(|e| LogError::Runtime(e.to_string()))
            })
            .boxed()
    })
}

//! Reading running services over a real store, tasks seeded as controllers would write them:
//! ps rows and their history order, and logs through a plugged-in source.

mod api_support;

use std::sync::Arc;

use api_support::Server;
use api_support::seed::{shop, task};
use futures_util::StreamExt;
use model::Kind;
use serde_json::json;
use swarm::api::{ApiState, LogLines, LogOptions, LogTarget};
use swarm::client::TaskFilter;
use swarm::client::ps::task_rows;

#[tokio::test]
async fn ps_rows_have_the_contract_shape_and_slot_history() {
    let server = Server::start().await;
    let (web, node) = shop(&server).await;
    let old = task(
        &server,
        &web,
        1,
        1,
        &node,
        "shutdown",
        json!({"state": "failed", "error": "exit code 1", "container_id": "c1"}),
    )
    .await;
    let current = task(
        &server,
        &web,
        1,
        2,
        &node,
        "running",
        json!({"state": "running", "container_id": "c2"}),
    )
    .await;
    let pending = task(
        &server,
        &web,
        2,
        1,
        &node,
        "running",
        json!({"state": "pending", "message": "no suitable node (1 node drained)"}),
    )
    .await;

    let service = server
        .client
        .get(Kind::Service, "web", Some("shop"))
        .await
        .expect("web");
    let filter = TaskFilter {
        service: Some(&web),
        ..TaskFilter::default()
    };
    let tasks = server.client.tasks(filter).await.expect("tasks");
    let nodes = server.client.list(Kind::Node, None).await.expect("nodes");
    let rows = task_rows(&[service], &tasks, &nodes);
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [current.as_str(), old.as_str(), pending.as_str()]);
    assert_eq!(
        rows.iter().map(|r| r.history).collect::<Vec<_>>(),
        [false, true, false]
    );
    let json = serde_json::to_value(&rows).expect("json");
    let keys = api_support::keys(&json[0]);
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "service",
            "slot",
            "node",
            "desired_state",
            "state",
            "error",
            "container_id",
            "image"
        ]
    );
    assert_eq!(json[0]["name"], "web.1");
    assert_eq!(json[0]["node"], "box");
    assert_eq!(json[0]["image"], "nginx:1.26");
    assert_eq!(json[1]["error"], "exit code 1");
    assert_eq!(json[2]["error"], "no suitable node (1 node drained)");

    // The same tasks through the node and the stack.
    let by_node = server
        .client
        .tasks(TaskFilter {
            node: Some("box"),
            ..TaskFilter::default()
        })
        .await
        .expect("node tasks");
    assert_eq!(by_node.len(), 3);
    let by_stack = server
        .client
        .tasks(TaskFilter {
            stack: Some("shop"),
            ..TaskFilter::default()
        })
        .await
        .expect("stack tasks");
    assert_eq!(by_stack.len(), 3);
    server.stop().await;
}

/// A log source whose containers say which they are and what tail they were asked for (the
/// trailing newline is the API's to trim); following keeps the stream open, like
/// `docker logs -f`.
fn echo_source(target: LogTarget, options: LogOptions) -> LogLines {
    let lines = vec![
        Ok(format!(
            "hello from {}",
            target.container_id.unwrap_or_default()
        )),
        Ok(format!("tail={:?}\n", options.tail)),
    ];
    let rest = if options.follow {
        futures_util::stream::pending().boxed()
    } else {
        futures_util::stream::empty().boxed()
    };
    futures_util::stream::iter(lines).chain(rest).boxed()
}

#[tokio::test]
async fn logs_need_a_source_and_prefix_each_line_with_the_task() {
    let server = Server::start().await;
    shop(&server).await;
    let err = server
        .client
        .logs("web", Some("shop"), false, None)
        .await
        .err()
        .expect("503");
    assert_eq!(err.status(), Some(503));
    assert!(
        err.to_string().contains("no agent on this manager"),
        "{err}"
    );
    server.stop().await;

    let server =
        Server::start_with(|store| ApiState::new(store).with_logs(Arc::new(echo_source))).await;
    let (web, node) = shop(&server).await;
    task(
        &server,
        &web,
        2,
        1,
        &node,
        "running",
        json!({"state": "running", "container_id": "c2"}),
    )
    .await;
    task(
        &server,
        &web,
        1,
        1,
        &node,
        "running",
        json!({"state": "running", "container_id": "c1"}),
    )
    .await;
    task(
        &server,
        &web,
        3,
        1,
        &node,
        "running",
        json!({"state": "pending"}),
    )
    .await;
    let mut logs = server
        .client
        .logs("web", Some("shop"), false, Some(5))
        .await
        .expect("logs");
    let mut text = String::new();
    while let Some(chunk) = logs.next().await {
        text.push_str(&chunk.expect("chunk"));
    }
    assert_eq!(
        text,
        "web.1 | hello from c1\nweb.1 | tail=Some(5)\nweb.2 | hello from c2\nweb.2 | tail=Some(5)\n"
    );
    server.stop().await;
}

#[tokio::test]
async fn following_logs_picks_up_tasks_that_start_later() {
    let server =
        Server::start_with(|store| ApiState::new(store).with_logs(Arc::new(echo_source))).await;
    let (web, node) = shop(&server).await;
    let running = json!({"state": "running", "container_id": "c1"});
    task(&server, &web, 1, 1, &node, "running", running).await;
    let mut logs = server
        .client
        .logs("web", Some("shop"), true, Some(3))
        .await
        .expect("logs");
    let mut text = String::new();
    let mut read_until = async |want: &str| {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !text.contains(want) {
            let chunk = tokio::time::timeout_at(deadline, logs.next())
                .await
                .unwrap_or_else(|_| panic!("no {want:?} within 10 s; got {text:?}"))
                .expect("the stream stays open")
                .expect("chunk");
            text.push_str(&chunk);
        }
        text.clone()
    };
    let seen = read_until("web.1 | tail=Some(3)\n").await;
    assert!(seen.contains("web.1 | hello from c1\n"), "{seen}");

    // A replacement starts after the request: its lines join the stream, from the first one.
    let replaced = json!({"state": "running", "container_id": "c2"});
    task(&server, &web, 2, 1, &node, "running", replaced).await;
    let seen = read_until("web.2 | tail=None\n").await;
    assert!(seen.contains("web.2 | hello from c2\n"), "{seen}");
    assert_eq!(
        seen.matches("hello from c1").count(),
        1,
        "c1 is followed once"
    );
    server.stop().await;
}

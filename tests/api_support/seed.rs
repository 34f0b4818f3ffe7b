//! Records as the controllers, dispatcher and agent write them, for tests that have none of
//! those running: the SHOP stack with node `box`, tasks, raw requests.

use model::Kind;
use serde_json::{Value, json};
use swarm::client::ApplyParams;

use super::{SHOP, Server};

/// Apply parameters for `stack`.
pub fn params(stack: &str) -> ApplyParams {
    ApplyParams {
        stack: Some(stack.into()),
        ..ApplyParams::default()
    }
}

/// Registers a ready manager node `name` (as its dispatcher would); returns its id.
pub async fn node(server: &Server, name: &str) -> String {
    server
        .create(
            Kind::Node,
            name,
            None,
            json!({"role": "manager"}),
            json!({"state": "ready", "hostname": name}),
        )
        .await
}

/// Applies SHOP, registers node `box` and returns `(web id, node id)`.
pub async fn shop(server: &Server) -> (String, String) {
    server
        .client
        .apply_yaml(SHOP.into(), &params("shop"))
        .await
        .expect("apply");
    let node = node(server, "box").await;
    let web = server
        .client
        .get(Kind::Service, "web", Some("shop"))
        .await
        .expect("web");
    (web.id, node)
}

/// A task of `service` in `slot` as the controllers and agent would have written it.
pub async fn task(
    server: &Server,
    service: &str,
    slot: u64,
    seq: u64,
    node: &str,
    desired: &str,
    status: Value,
) -> String {
    let record = server.get(Kind::Service, service);
    let spec = json!({
        "service_id": service,
        "slot": slot,
        "service_spec": record.spec,
        "spec_version": record.version,
        "desired_state": desired,
    });
    let mut status = status;
    status["node_id"] = json!(node);
    let name = format!("{}.{slot}.{seq}", record.metadata.name);
    server
        .create(Kind::Task, &name, Some("shop"), spec, status)
        .await
}

/// POST with a raw JSON body; the status and the decoded body.
pub async fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    let response = swarm::client::Client::plain_http()
        .post(format!("{}{path}", server.url))
        .json(&body)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

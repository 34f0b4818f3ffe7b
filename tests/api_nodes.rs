//! Node endpoints over a real store, nodes seeded as the daemon and dispatcher write them:
//! `node ls` rows, update, promote/demote (never the last manager), rm, and compare-and-set.

mod api_support;

use api_support::Server;
use model::Kind;
use serde_json::{Value, json};
use swarm::client::ClientError;
use swarm::client::views::node_rows;
use wire::NodeUpdateBody;

/// A manager `lead` and a ready worker `w1`; returns their ids.
async fn nodes(server: &Server) -> (String, String) {
    let lead = server
        .create(
            Kind::Node,
            "lead",
            None,
            json!({"role": "manager"}),
            json!({"state": "ready", "hostname": "lead", "addr": "10.0.0.1:4242"}),
        )
        .await;
    let worker = server
        .create(
            Kind::Node,
            "w1",
            None,
            json!({"role": "worker", "labels": {"disk": "ssd"}}),
            json!({"state": "ready", "hostname": "w1"}),
        )
        .await;
    (lead, worker)
}

fn reason(err: &ClientError) -> Option<&str> {
    match err {
        ClientError::Api { details, .. } => details["reason"].as_str(),
        _ => None,
    }
}

#[tokio::test]
async fn node_rows_have_the_contract_shape() {
    let server = Server::start().await;
    let (lead, _) = nodes(&server).await;
    let records = server.client.list(Kind::Node, None).await.expect("nodes");
    let cluster = server.client.cluster().await.expect("cluster");
    let leader = cluster.leader.to_string();
    let rows = node_rows(&records, Some(&leader), cluster.leader_addr.as_deref());
    let json = serde_json::to_value(&rows).expect("json");
    let keys = api_support::keys(&json[0]);
    assert_eq!(
        keys,
        [
            "id",
            "hostname",
            "role",
            "status",
            "availability",
            "manager_status",
            "labels"
        ]
    );
    assert_eq!(
        json,
        json!([
            {"id": lead, "hostname": "lead", "role": "manager", "status": "ready",
             "availability": "active", "manager_status": "leader", "labels": {}},
            {"id": rows[1].id, "hostname": "w1", "role": "worker", "status": "ready",
             "availability": "active", "manager_status": null, "labels": {"disk": "ssd"}},
        ])
    );
    server.stop().await;
}

#[tokio::test]
async fn update_promote_and_demote_change_the_spec_only() {
    let server = Server::start().await;
    let (lead, worker) = nodes(&server).await;
    let body = NodeUpdateBody {
        availability: Some(model::Availability::Drain),
        label_add: [("zone".to_owned(), "a".to_owned())].into(),
        label_rm: vec!["disk".into()],
        ..NodeUpdateBody::default()
    };
    let before = server.get(Kind::Node, &worker);
    let changed = server
        .client
        .update_node("w1", &body)
        .await
        .expect("update");
    assert!(changed.object.version > before.version);
    assert_eq!(
        changed.object.spec,
        json!({"role": "worker", "availability": "drain", "labels": {"zone": "a"}})
    );
    assert_eq!(
        changed.object.status, before.status,
        "status is the dispatcher's"
    );

    let err = server
        .client
        .set_role("lead", false)
        .await
        .expect_err("last manager");
    assert_eq!(err.status(), Some(409));
    assert_eq!(reason(&err), Some("last_manager"));
    assert!(
        err.to_string()
            .starts_with("the last manager cannot be demoted"),
        "{err}"
    );

    let promoted = server
        .client
        .set_role(&worker, true)
        .await
        .expect("promote");
    assert_eq!(promoted.object.spec["role"], "manager");
    let demoted = server.client.set_role("lead", false).await.expect("demote");
    assert_eq!(demoted.object.spec["role"], "worker");
    assert_eq!(demoted.object.id, lead);
    let err = server
        .client
        .set_role("w1", false)
        .await
        .expect_err("now the last");
    assert_eq!(reason(&err), Some("last_manager"));

    // A compare-and-set on a stale version is a conflict.
    let response = swarm::client::Client::plain_http()
        .post(format!("{}/v1/nodes/w1/update", server.url))
        .json(&json!({"availability": "active", "expected_version": before.version}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 409);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "conflict");
    server.stop().await;
}

#[tokio::test]
async fn rm_refuses_managers_and_ready_nodes_unless_forced() {
    let server = Server::start().await;
    let (_, worker) = nodes(&server).await;
    let err = server
        .client
        .remove_node("lead", true)
        .await
        .expect_err("manager");
    assert_eq!(reason(&err), Some("manager"));
    let err = server
        .client
        .remove_node("w1", false)
        .await
        .expect_err("ready");
    assert_eq!(reason(&err), Some("node_ready"));
    assert!(err.to_string().contains("--force"), "{err}");
    let removed = server.client.remove_node("w1", true).await.expect("forced");
    assert_eq!(removed.plan.lines(false), ["- node w1"]);
    assert!(server.store.read(|i| i.get(Kind::Node, &worker).is_none()));
    let err = server
        .client
        .remove_node("w1", true)
        .await
        .expect_err("gone");
    assert_eq!(err.status(), Some(404));
    server.stop().await;
}

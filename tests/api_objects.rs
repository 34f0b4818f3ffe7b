//! Object endpoints over a real store: secrets never returned, deletes, ownership, JSON apply,
//! events, cluster info, and the client's message when no manager answers.

mod api_support;

use std::collections::BTreeMap;

use api_support::{DEADLINE, SHOP, Server};
use model::{Kind, StackSource};
use swarm::apply::{self, ApplyRequest, Claim, Owner};
use swarm::client::{ApplyParams, Client, ClientError};
use swarm::manifest::{self, LoadOptions};
use wire::{ApplyBody, DataBody};

fn params(stack: &str) -> ApplyParams {
    ApplyParams {
        stack: Some(stack.into()),
        ..ApplyParams::default()
    }
}

/// Raw GET, to see exactly what the server sends.
async fn raw(server: &Server, path: &str) -> String {
    reqwest::get(format!("{}{path}", server.url))
        .await
        .expect("get")
        .text()
        .await
        .expect("body")
}

#[tokio::test]
async fn secret_data_is_never_returned() {
    let server = Server::start().await;
    let created = server
        .client
        .create_data(
            Kind::Secret,
            &DataBody {
                name: "token".into(),
                content: "s3cr3t-token".into(),
                labels: BTreeMap::from([("team".into(), "core".into())]),
            },
        )
        .await
        .expect("create");
    assert_eq!(
        created.spec["content_hash"],
        apply::content_hash("s3cr3t-token")
    );
    let outcome = server
        .client
        .apply_yaml(SHOP.into(), &params("shop"))
        .await
        .expect("apply");
    let mut seen = serde_json::to_string(&outcome).expect("json");
    for path in [
        "/v1/secrets",
        "/v1/secrets/token",
        "/v1/secrets/db?stack=shop",
        "/v1/secrets/shop_db",
        "/v1/stacks",
        "/v1/services",
    ] {
        seen.push_str(&raw(&server, path).await);
    }
    assert!(seen.contains("content_hash"), "{seen}");
    assert!(
        !seen.contains("s3cr3t-token") && !seen.contains("hunter2"),
        "{seen}"
    );
    let duplicate = DataBody {
        name: "token".into(),
        content: "other".into(),
        labels: BTreeMap::new(),
    };
    let before = server.records();
    let err = server
        .client
        .create_data(Kind::Secret, &duplicate)
        .await
        .expect_err("exists");
    assert_eq!(err.status(), Some(409), "{err}");
    assert_eq!(server.records(), before);
    server.stop().await;
}

#[tokio::test]
async fn deletes_refuse_what_is_in_use_and_remove_whole_stacks() {
    let server = Server::start().await;
    let client = &server.client;
    client
        .apply_yaml(SHOP.into(), &params("shop"))
        .await
        .expect("apply");
    let before = server.records();
    let err = client
        .delete(Kind::Secret, "db", Some("shop"))
        .await
        .expect_err("in use");
    let ClientError::Api {
        status,
        message,
        details,
        ..
    } = &err
    else {
        panic!("expected an API error, got {err}");
    };
    assert_eq!(*status, 409);
    assert!(
        message.contains("used by service `web` of stack `shop`"),
        "{message}"
    );
    assert_eq!(details["service"], "web");
    assert_eq!(server.records(), before);

    let removed = client
        .delete(Kind::Service, "api", Some("shop"))
        .await
        .expect("delete api");
    assert_eq!(removed.plan.lines(false)[0], "- service shop_api");
    let gone = client
        .delete(Kind::Stack, "shop", None)
        .await
        .expect("delete stack");
    assert!(gone.plan.lines(false).contains(&"- stack shop".to_owned()));
    let left = server.store.read(|index| index.in_stack("shop").len());
    assert_eq!(left, 0);
    let err = client
        .delete(Kind::Stack, "shop", None)
        .await
        .expect_err("gone");
    assert_eq!(err.status(), Some(404));
    server.stop().await;
}

#[tokio::test]
async fn a_watched_stack_refuses_api_writes_naming_its_file() {
    let server = Server::start().await;
    let file = "/srv/stacks/shop.yml";
    let loaded = manifest::load_text(
        file,
        SHOP,
        std::path::Path::new("/srv/stacks"),
        &LoadOptions {
            stack: Some("shop".into()),
            inline_files: true,
            ..LoadOptions::default()
        },
    );
    assert!(loaded.is_valid(), "{:?}", loaded.reports);
    apply::apply(
        &server.store,
        ApplyRequest {
            stack: "shop".into(),
            manifests: loaded.manifests,
            source: StackSource::default(),
            dry_run: false,
            prune: true,
            owner: Owner::Watcher {
                file: file.into(),
                claim: Claim {
                    node: 1,
                    dir: "/srv/stacks".into(),
                },
            },
        },
    )
    .await
    .expect("watcher apply");
    let before = server.records();
    let expected = "stack `shop` is managed by the watched file /srv/stacks/shop.yml; edit that file, or stop \
         watching its directory (`swarmd up` without `--watch`) to manage the stack from the CLI";
    let applied = server
        .client
        .apply_yaml(SHOP.into(), &params("shop"))
        .await
        .expect_err("owned");
    let deleted = server
        .client
        .delete(Kind::Service, "web", Some("shop"))
        .await
        .expect_err("owned");
    let removed = server
        .client
        .delete(Kind::Stack, "shop", None)
        .await
        .expect_err("owned");
    for err in [applied, deleted, removed] {
        assert_eq!(err.status(), Some(409));
        assert_eq!(err.to_string(), expected);
    }
    assert_eq!(server.records(), before);
    server.stop().await;
}

#[tokio::test]
async fn json_apply_as_swarmctl_sends_it_and_events_follow() {
    let server = Server::start().await;
    let mut events = server.client.events().await.expect("subscribe");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("site.conf"), "server {}").expect("write");
    let text = SHOP.replace("content: \"server {}\"", "file: ./site.conf");
    let loaded = manifest::load_text(
        "shop.yml",
        &text,
        dir.path(),
        &LoadOptions {
            stack: Some("shop".into()),
            inline_files: true,
            ..LoadOptions::default()
        },
    );
    assert!(loaded.is_valid(), "{:?}", loaded.reports);
    let body = ApplyBody {
        stack: Some("shop".into()),
        manifests: loaded.manifests,
        source: StackSource {
            files: vec!["shop.yml".into()],
            ..StackSource::default()
        },
    };
    let outcome = server
        .client
        .apply(&body, &ApplyParams::default())
        .await
        .expect("apply");
    let index = outcome.index.expect("written");
    let mut kinds = Vec::new();
    loop {
        let event = tokio::time::timeout(DEADLINE, events.next())
            .await
            .expect("event in time")
            .expect("stream open")
            .expect("event");
        if event["type"] == "commit" {
            assert_eq!(event["index"], index);
            break;
        }
        kinds.push(event["object"]["kind"].as_str().expect("kind").to_owned());
    }
    assert_eq!(
        kinds,
        vec!["Network", "Secret", "Config", "Service", "Service", "Stack"]
    );
    let site = server
        .client
        .get(Kind::Config, "site", Some("shop"))
        .await
        .expect("config");
    assert_eq!(
        site.spec["content"], "server {}",
        "config data is not secret"
    );

    let health = server.client.health().await.expect("health");
    assert_eq!(health["status"], "ok");
    let info = server.client.cluster().await.expect("cluster");
    assert!(info.is_leader);
    assert_eq!(info.objects["services"], 2);
    assert!(info.last_applied >= index);
    server.stop().await;
}

#[tokio::test]
async fn no_manager_is_a_helpful_message() {
    // Bind then drop: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let err = Client::new(&host)
        .expect("client")
        .health()
        .await
        .expect_err("nobody");
    assert_eq!(
        err.to_string(),
        format!(
            "no swarm manager answers at {host} (start one with `swarmd up`, or set --host / SWARM_HOST)"
        )
    );
}

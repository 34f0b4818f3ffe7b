//! `POST /v1/apply` over a real store: plan, write once, no-op re-apply, prune, dry run, and
//! refusals that leave the store untouched.

mod api_support;

use api_support::{SHOP, Server};
use model::Kind;
use swarm::apply::ChangeKind;
use swarm::client::{ApplyParams, ClientError};

fn params(stack: &str) -> ApplyParams {
    ApplyParams {
        stack: Some(stack.into()),
        ..ApplyParams::default()
    }
}

#[tokio::test]
async fn apply_list_reapply_prune() {
    let server = Server::start().await;
    let client = &server.client;
    let first = client
        .apply_yaml(SHOP.into(), &params("shop"))
        .await
        .expect("apply");
    assert_eq!(
        first.plan.lines(false),
        vec![
            "+ network shop_default",
            "+ secret shop_db",
            "+ config shop_site",
            "+ service shop_api",
            "+ service shop_web",
            "+ stack shop"
        ]
    );
    assert!(first.index.is_some());
    let services = client
        .list(Kind::Service, Some("shop"))
        .await
        .expect("list");
    let names: Vec<&str> = services.iter().map(|s| s.metadata.name.as_str()).collect();
    assert_eq!(names, vec!["api", "web"]);
    assert_eq!(
        services[0].metadata.labels["com.docker.stack.namespace"],
        "shop"
    );

    let before = server.records();
    let again = client
        .apply_yaml(SHOP.into(), &params("shop"))
        .await
        .expect("re-apply");
    assert_eq!(again.plan.lines(false), vec!["no changes"]);
    assert_eq!(again.index, None);
    assert_eq!(server.records(), before, "a no-op apply writes nothing");

    let smaller = SHOP.replace(
        "  api:\n    image: nginx:1.26\n    deploy: {replicas: 2}\n",
        "",
    );
    let kept = client
        .apply_yaml(smaller.clone(), &params("shop"))
        .await
        .expect("apply");
    assert_eq!(
        kept.plan.notes,
        vec!["service shop_api: not in input (use --prune to remove)"]
    );
    assert!(client.get(Kind::Service, "api", Some("shop")).await.is_ok());
    let pruned = client
        .apply_yaml(
            smaller,
            &ApplyParams {
                prune: true,
                ..params("shop")
            },
        )
        .await
        .expect("prune");
    let lines = pruned.plan.lines(false);
    assert_eq!(lines[0], "- service shop_api");
    assert!(lines[1].starts_with("~ stack shop: members"), "{lines:?}");
    let err = client
        .get(Kind::Service, "api", Some("shop"))
        .await
        .expect_err("gone");
    assert_eq!(err.status(), Some(404));
    server.stop().await;
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let server = Server::start().await;
    let before = server.records();
    let plan = server
        .client
        .apply_yaml(
            SHOP.into(),
            &ApplyParams {
                dry_run: true,
                ..params("shop")
            },
        )
        .await
        .expect("dry run");
    assert!(plan.dry_run && plan.index.is_none());
    assert_eq!(plan.plan.changed(), 6);
    assert_eq!(server.records(), before);
    server.stop().await;
}

#[tokio::test]
async fn a_bad_manifest_is_400_with_its_line_and_changes_nothing() {
    let server = Server::start().await;
    let before = server.records();
    let bad = "services:\n  web:\n    image: nginx\n    deploy:\n      replicas: lots\n";
    let err = server
        .client
        .apply_yaml(bad.into(), &params("shop"))
        .await
        .expect_err("invalid");
    let ClientError::Api {
        status,
        code,
        details,
        ..
    } = &err
    else {
        panic!("expected an API error, got {err}");
    };
    assert_eq!((*status, code.as_str()), (400, "invalid_manifest"));
    let first = &details[0];
    assert_eq!(first["line"], 5, "{details}");
    assert_eq!(first["path"], "services.web.deploy.replicas", "{details}");
    assert_eq!(server.records(), before);

    let by_file = "services:\n  web:\n    image: nginx\n    secrets: [db]\nsecrets:\n  db:\n    file: /etc/passwd\n";
    let err = server
        .client
        .apply_yaml(by_file.into(), &params("shop"))
        .await
        .expect_err("refused");
    let ClientError::Api {
        status,
        details,
        message,
        ..
    } = &err
    else {
        panic!("expected an API error, got {err}");
    };
    assert_eq!(*status, 400);
    assert_eq!(details[0]["line"], 7, "{details}");
    assert!(message.contains("send the content inline"), "{message}");
    assert_eq!(server.records(), before);
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_413_and_changes_nothing() {
    let server = Server::start().await;
    let before = server.records();
    let huge = format!("# {}\n{SHOP}", "x".repeat(9 * 1024 * 1024));
    let err = server
        .client
        .apply_yaml(huge, &params("shop"))
        .await
        .expect_err("too large");
    assert_eq!(err.status(), Some(413), "{err}");
    assert_eq!(server.records(), before);
    server.stop().await;
}

#[tokio::test]
async fn a_stale_apply_is_409_and_changes_nothing() {
    let server = Server::start().await;
    let client = &server.client;
    client
        .apply_yaml(SHOP.into(), &params("shop"))
        .await
        .expect("apply");
    let reviewed = client
        .get(Kind::Stack, "shop", None)
        .await
        .expect("stack")
        .version;
    let newer = SHOP.replace("nginx:1.26\n    ports", "nginx:1.27\n    ports");
    let expecting = |version| ApplyParams {
        expected_version: Some(version),
        ..params("shop")
    };
    // Someone else applies in between.
    let other = SHOP.replace("replicas: 2", "replicas: 3");
    client
        .apply_yaml(other, &params("shop"))
        .await
        .expect("other apply");
    let before = server.records();
    let err = client
        .apply_yaml(newer.clone(), &expecting(reviewed))
        .await
        .expect_err("stale");
    let ClientError::Api {
        status,
        details,
        message,
        ..
    } = &err
    else {
        panic!("expected an API error, got {err}");
    };
    assert_eq!(*status, 409);
    assert_eq!(details["expected"], reviewed, "{details}");
    assert!(message.contains("changed since it was read"), "{message}");
    assert_eq!(server.records(), before);
    let current = client
        .get(Kind::Stack, "shop", None)
        .await
        .expect("stack")
        .version;
    let outcome = client
        .apply_yaml(newer, &expecting(current))
        .await
        .expect("fresh");
    let web = outcome
        .plan
        .items
        .iter()
        .find(|i| i.name == "web")
        .expect("web item");
    assert_eq!(web.action, ChangeKind::Update);
    assert_eq!(web.line(), "~ service web: image nginx:1.26 -> nginx:1.27");
    server.stop().await;
}

/// The API error of a refused apply: (status, code, message, details).
async fn refusal(
    server: &Server,
    yaml: &str,
    stack: &str,
) -> (u16, String, String, serde_json::Value) {
    let err = server
        .client
        .apply_yaml(yaml.into(), &params(stack))
        .await
        .expect_err("refused");
    let ClientError::Api {
        status,
        code,
        message,
        details,
    } = err
    else {
        panic!("expected an API error, got {err}");
    };
    (status, code, message, details)
}

#[tokio::test]
async fn a_port_another_stack_publishes_is_409_naming_its_owner_and_changes_nothing() {
    let server = Server::start().await;
    let web = "services:\n  web:\n    image: nginx\n    ports: [\"9090:80\"]\n";
    server
        .client
        .apply_yaml(web.into(), &params("porta"))
        .await
        .expect("first stack");
    let before = server.records();
    let (status, code, message, details) = refusal(&server, web, "portb").await;
    assert_eq!((status, code.as_str()), (409, "conflict"));
    assert!(
        message.starts_with("port 9090 is already published by service porta_web"),
        "{message}"
    );
    assert_eq!(details["service"], "porta_web");
    assert_eq!(server.records(), before, "nothing written");
    server.stop().await;
}

#[tokio::test]
async fn a_missing_external_secret_is_refused_by_name_and_changes_nothing() {
    let server = Server::start().await;
    let before = server.records();
    let yaml = "services:\n  web:\n    image: nginx\n    secrets: [db_password]\nsecrets:\n  db_password:\n    external: true\n";
    let (status, _, message, details) = refusal(&server, yaml, "shop").await;
    assert_eq!(status, 409);
    assert!(
        message.starts_with("secret not found: db_password"),
        "{message}"
    );
    assert_eq!(details["kind"], "secret");
    assert_eq!(server.records(), before, "nothing written");
    server.stop().await;
}

#[tokio::test]
async fn a_json_body_is_checked_like_a_yaml_file_and_refuses_a_port_conflict() {
    let server = Server::start().await;
    let before = server.records();
    let yaml = "services:\n  api:\n    image: httpd\n    ports: [\"8080:80\"]\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n";
    let (status, code, _, from_yaml) = refusal(&server, yaml, "clash").await;
    assert_eq!((status, code.as_str()), (400, "invalid_manifest"));

    let service = |name: &str| -> model::Manifest {
        serde_json::from_value(serde_json::json!({
            "apiVersion": model::API_VERSION,
            "kind": "Service",
            "metadata": {"name": name, "stack": "clash"},
            "spec": {"image": "nginx", "ports": [{"target": 80, "published": 8080}]},
        }))
        .expect("manifest")
    };
    let body = wire::ApplyBody {
        stack: Some("clash".into()),
        manifests: vec![service("api"), service("web")],
        source: Default::default(),
    };
    let err = server
        .client
        .apply(&body, &params("clash"))
        .await
        .expect_err("refused");
    let ClientError::Api {
        status,
        code,
        details: from_json,
        ..
    } = &err
    else {
        panic!("expected an API error, got {err}");
    };
    assert_eq!((*status, code.as_str()), (400, "invalid_manifest"));
    assert_eq!(
        from_json[0]["path"], "manifests[1].spec.ports[0]",
        "{from_json}"
    );
    assert_eq!(from_yaml[0]["path"], "services.web.ports[0]", "{from_yaml}");
    assert_eq!(
        from_json[0]["message"], from_yaml[0]["message"],
        "the same check, the same message"
    );
    assert!(
        from_json[0]["message"].as_str().is_some_and(
            |m| m.starts_with("published port 8080/tcp is already used by service `api`")
        ),
        "{from_json}"
    );
    assert_eq!(server.records(), before, "nothing written");
    server.stop().await;
}

//! Editing running services over a real store: scale, update, rollback and restart write new
//! versions; stale versions, global services and watched stacks are refused with 409.

mod api_support;

use api_support::seed::{params, post, shop};
use api_support::{SHOP, Server};
use model::{Kind, StackSource};
use serde_json::json;
use swarm::apply::{self, ApplyRequest, Claim, LABEL_RESTART, Owner};
use swarm::client::ClientError;
use swarm::manifest::{self, LoadOptions};
use wire::UpdateBody;

#[tokio::test]
async fn scale_update_and_restart_write_new_versions() {
    let server = Server::start().await;
    shop(&server).await;
    let before = server
        .client
        .get(Kind::Service, "api", Some("shop"))
        .await
        .expect("api");

    let scaled = server
        .client
        .scale("api", Some("shop"), 5)
        .await
        .expect("scale");
    assert!(scaled.object.version > before.version);
    assert_eq!(scaled.object.spec["deploy"]["replicas"], 5);
    assert_eq!(scaled.plan.line(), "~ service api: deploy.replicas 2 -> 5");

    let body = UpdateBody {
        image: Some("nginx:1.27".into()),
        env_add: [("MODE".to_owned(), "fast".to_owned())].into(),
        label_add: [("team".to_owned(), "core".to_owned())].into(),
        ..UpdateBody::default()
    };
    let updated = server
        .client
        .update_service("api", Some("shop"), &body)
        .await
        .expect("update");
    assert!(updated.object.version > scaled.object.version);
    assert_eq!(updated.object.spec["image"], "nginx:1.27");
    assert_eq!(updated.object.spec["environment"]["MODE"], "fast");
    assert_eq!(updated.object.spec["deploy"]["labels"]["team"], "core");

    let again = server
        .client
        .update_service("api", Some("shop"), &body)
        .await
        .expect("same");
    assert_eq!(
        (again.index, again.object.version),
        (None, updated.object.version)
    );

    let restarted = server
        .client
        .restart("api", Some("shop"))
        .await
        .expect("restart");
    assert_eq!(restarted.object.spec["labels"][LABEL_RESTART], "1");
    let restarted = server
        .client
        .restart("shop_api", None)
        .await
        .expect("restart");
    assert_eq!(restarted.object.spec["labels"][LABEL_RESTART], "2");
    assert!(restarted.object.version > updated.object.version);

    // An apply of a file that never mentions the counter keeps it: no second restart.
    let reapplied = SHOP.replace("    image: nginx:1.26\n    deploy: {replicas: 2}", "    image: nginx:1.27\n    environment: {MODE: fast}\n    deploy: {replicas: 5, labels: {team: core}}");
    let outcome = server
        .client
        .apply_yaml(reapplied, &params("shop"))
        .await
        .expect("reapply");
    let services: Vec<_> = outcome
        .plan
        .items
        .iter()
        .filter(|i| i.kind == Kind::Service)
        .collect();
    assert!(
        services
            .iter()
            .all(|i| i.action == apply::ChangeKind::Unchanged),
        "{:?}",
        outcome.plan.lines(true)
    );
    server.stop().await;
}

#[tokio::test]
async fn stale_versions_global_services_and_rollbacks_are_refused() {
    let server = Server::start().await;
    shop(&server).await;
    let web = server
        .client
        .get(Kind::Service, "web", Some("shop"))
        .await
        .expect("web");

    let before = server.records();
    let stale = json!({"replicas": 3, "expected_version": web.version - 1});
    let (status, body) = post(&server, "/v1/services/web/scale?stack=shop", stale).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("changed since it was read")
    );
    let (status, _) = post(
        &server,
        "/v1/services/shop_web/restart",
        json!({"expected_version": 1}),
    )
    .await;
    assert_eq!(status, 409);
    let err = server
        .client
        .rollback("web", Some("shop"))
        .await
        .expect_err("nothing to roll back");
    assert_eq!(err.status(), Some(409));
    assert!(err.to_string().contains("no previous spec"), "{err}");
    assert_eq!(server.records(), before, "refusals write nothing");

    // With the previous spec the update controller records, rollback restores it.
    let mut previous = web.spec.clone();
    previous["image"] = json!("nginx:1.25");
    server
        .set_status(
            Kind::Service,
            &web.id,
            json!({"previous_spec": previous, "spec_version": web.version}),
        )
        .await;
    let current = server.get(Kind::Service, &web.id);
    let (status, body) = post(
        &server,
        "/v1/services/web/rollback?stack=shop",
        json!({"expected_version": current.version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"]["spec"]["image"], "nginx:1.25");
    assert_eq!(body["plan"]["changes"][0]["path"], "image");

    // Global services have no replica count.
    let global = "services:\n  agent:\n    image: busybox\n    deploy: {mode: global}\n";
    server
        .client
        .apply_yaml(global.into(), &params("mon"))
        .await
        .expect("apply");
    let err = server
        .client
        .scale("agent", Some("mon"), 3)
        .await
        .expect_err("global");
    match &err {
        ClientError::Api {
            status,
            details,
            message,
            ..
        } => {
            assert_eq!(
                (*status, details["reason"].as_str()),
                (409, Some("global_service"))
            );
            assert!(message.contains("one task per eligible node"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let body = UpdateBody {
        replicas: Some(2),
        ..UpdateBody::default()
    };
    let err = server
        .client
        .update_service("agent", Some("mon"), &body)
        .await
        .expect_err("global");
    assert_eq!(err.status(), Some(409));
    server.stop().await;
}

#[tokio::test]
async fn services_of_a_watched_stack_refuse_edits_naming_the_file() {
    let server = Server::start().await;
    let file = "/srv/stacks/shop.yml";
    let options = LoadOptions {
        stack: Some("shop".into()),
        inline_files: true,
        ..LoadOptions::default()
    };
    let loaded = manifest::load_text(file, SHOP, std::path::Path::new("/srv/stacks"), &options);
    let request = ApplyRequest {
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
    };
    apply::apply(&server.store, request)
        .await
        .expect("watcher apply");
    let before = server.records();
    let expected = "stack `shop` is managed by the watched file /srv/stacks/shop.yml; edit that file, or stop \
         watching its directory (`swarmd up` without `--watch`) to manage the stack from the CLI";
    let errors = [
        server
            .client
            .scale("web", Some("shop"), 3)
            .await
            .expect_err("scale"),
        server
            .client
            .restart("web", Some("shop"))
            .await
            .expect_err("restart"),
        server
            .client
            .rollback("web", Some("shop"))
            .await
            .expect_err("rollback"),
        server
            .client
            .update_service(
                "web",
                Some("shop"),
                &UpdateBody {
                    image: Some("x:1".into()),
                    ..UpdateBody::default()
                },
            )
            .await
            .expect_err("update"),
    ];
    for err in errors {
        assert_eq!(
            (err.status(), err.to_string()),
            (Some(409), expected.to_owned())
        );
    }
    assert_eq!(server.records(), before);
    server.stop().await;
}

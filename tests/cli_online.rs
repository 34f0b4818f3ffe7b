//! swarmctl's online commands against an in-process manager (real store, API on 127.0.0.1:0).

#[path = "api_support/mod.rs"]
mod api_support;

use api_support::{SHOP, Server, json, swarmctl};

#[tokio::test]
async fn apply_diff_and_listings() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let stack_dir = dir.path().join("shop");
    std::fs::create_dir(&stack_dir).expect("mkdir");
    let file = SHOP.replace("content: hunter2", "file: ./db.txt");
    // Named after the file, as a watched `shop.yml` would be.
    std::fs::write(stack_dir.join("shop.yml"), &file).expect("write");
    std::fs::write(stack_dir.join("db.txt"), "hunter2").expect("write");
    let host = server.url.as_str();
    let at = stack_dir.as_path();

    let diff = swarmctl(host, at, &["diff", "-f", "shop.yml"], None).await;
    assert_eq!(diff.code, 1, "{}{}", diff.stdout, diff.stderr);
    assert!(diff.stdout.contains("+ service web"), "{}", diff.stdout);
    assert_eq!(server.store.read(|i| i.len()), 0, "diff writes nothing");

    let apply = swarmctl(host, at, &["apply", "-f", "shop.yml"], None).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert_eq!(
        apply.stdout,
        "+ network default\n+ secret db\n+ config site\n+ service api\n+ service web\n+ stack shop\n"
    );
    let again = swarmctl(host, at, &["apply", "-f", "shop.yml"], None).await;
    assert_eq!(again.stdout, "no changes\n");
    let diff = swarmctl(host, at, &["diff", "-f", "shop.yml"], None).await;
    assert_eq!((diff.code, diff.stdout.as_str()), (0, "no changes\n"));

    let services = json(&swarmctl(host, at, &["-o", "json", "service", "ls"], None).await);
    let web = &services[1];
    let keys = api_support::keys(web);
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "stack",
            "mode",
            "image",
            "replicas",
            "ports",
            "update_state"
        ]
    );
    assert_eq!(
        web["replicas"],
        serde_json::json!({"desired": 1, "running": 0})
    );
    assert_eq!(web["ports"], serde_json::json!(["8080:80/tcp"]));
    assert_eq!(services[0]["replicas"]["desired"], 2);

    let stacks = json(&swarmctl(host, at, &["-o", "json", "stack", "ls"], None).await);
    let shop = &stacks[0];
    let keys = api_support::keys(shop);
    assert_eq!(
        keys,
        [
            "name",
            "services",
            "source",
            "applied_at",
            "status",
            "error",
            "watched_file",
            "watcher"
        ]
    );
    let applied_at = shop["applied_at"].as_str().unwrap_or_default();
    assert!(
        model::Timestamp::parse_rfc3339(applied_at).is_some() && applied_at.ends_with('Z'),
        "applied_at is RFC 3339: {shop}"
    );
    assert_eq!(
        (shop["name"].as_str(), shop["services"].as_u64()),
        (Some("shop"), Some(2))
    );
    assert_eq!(shop["status"], "applied");

    let table = swarmctl(host, at, &["service", "ls"], None).await;
    assert!(table.stdout.starts_with("ID"), "{}", table.stdout);
    assert!(table.stdout.contains("shop_web"), "{}", table.stdout);

    let created = swarmctl(
        host,
        at,
        &["secret", "create", "token", "-"],
        Some("s3cr3t"),
    )
    .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    for args in [
        &["-o", "json", "secret", "ls"][..],
        &["secret", "inspect", "token"][..],
        &["secret", "inspect", "db", "--stack", "shop"][..],
    ] {
        let run = swarmctl(host, at, args, None).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            !run.stdout.contains("s3cr3t") && !run.stdout.contains("hunter2"),
            "{}",
            run.stdout
        );
    }

    let rm = swarmctl(host, at, &["stack", "rm", "shop"], None).await;
    assert_eq!(rm.code, 0, "{}", rm.stderr);
    assert!(rm.stdout.contains("- service web"), "{}", rm.stdout);
    server.stop().await;
}

#[tokio::test]
async fn refusals_carry_the_servers_message() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let host = server.url.as_str();
    let at = dir.path();
    let apply = swarmctl(
        host,
        at,
        &["apply", "--stack", "shop", "-f", "-"],
        Some(SHOP),
    )
    .await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let rm = swarmctl(host, at, &["secret", "rm", "db", "--stack", "shop"], None).await;
    assert_eq!(rm.code, 1, "refused by the manager");
    assert_eq!(
        rm.stderr,
        "error: secret `db` is used by service `web` of stack `shop`; remove it from that service first\n"
    );
    server.stop().await;

    let nobody = swarmctl("http://127.0.0.1:9", at, &["stack", "ls"], None).await;
    assert_eq!(nobody.code, 2, "could not run: nobody answers");
    assert!(
        nobody
            .stderr
            .contains("no swarm manager answers at http://127.0.0.1:9"),
        "{}",
        nobody.stderr
    );
}

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
    assert!(
        diff.stdout.contains("+ service shop_web"),
        "{}",
        diff.stdout
    );
    assert_eq!(server.store.read(|i| i.len()), 0, "diff writes nothing");

    let apply = swarmctl(host, at, &["apply", "-f", "shop.yml"], None).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert_eq!(
        apply.stdout,
        "+ network shop_default\n+ secret shop_db\n+ config shop_site\n+ service shop_api\n+ service shop_web\n+ stack shop\n"
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
    assert!(rm.stdout.contains("- service shop_web"), "{}", rm.stdout);
    server.stop().await;
}

#[tokio::test]
async fn refusals_carry_the_servers_message() {
    let (server, dir) = shop_applied().await;
    let host = server.url.as_str();
    let at = dir.path();
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

#[tokio::test]
async fn secret_config_and_network_listings_print_flat_rows_and_docker_names() {
    let (server, dir) = shop_applied().await;
    let host = server.url.as_str();
    let at = dir.path();
    let created = swarmctl(host, at, &["secret", "create", "token", "-"], Some("x")).await;
    assert_eq!(created.code, 0, "{}", created.stderr);

    for (kind, shown) in [("secret", "shop_db"), ("config", "shop_site")] {
        let rows = json(&swarmctl(host, at, &["-o", "json", kind, "ls"], None).await);
        let row = rows
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["stack"] == "shop"))
            .unwrap_or_else(|| panic!("a {kind} of shop: {rows}"));
        assert_eq!(
            api_support::keys(row),
            ["id", "name", "stack", "hash", "created_at", "updated_at"],
            "{kind} ls"
        );
        assert_eq!(row["hash"].as_str().map(str::len), Some(64), "{row}");
        let created_at = row["created_at"].as_str().unwrap_or_default();
        assert!(
            model::Timestamp::parse_rfc3339(created_at).is_some(),
            "{row}"
        );
        let table = swarmctl(host, at, &[kind, "ls"], None).await;
        let names: Vec<&str> = table
            .stdout
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        assert!(names.contains(&shown), "{kind} ls: {}", table.stdout);
    }
    let secrets = swarmctl(host, at, &["secret", "ls"], None).await;
    assert!(
        secrets
            .stdout
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("token")),
        "a secret outside any stack keeps its bare name: {}",
        secrets.stdout
    );

    let rows = json(&swarmctl(host, at, &["-o", "json", "network", "ls"], None).await);
    assert_eq!(
        api_support::keys(&rows[0]),
        ["id", "name", "stack", "driver"]
    );
    assert_eq!(
        (rows[0]["name"].as_str(), rows[0]["stack"].as_str()),
        (Some("default"), Some("shop"))
    );
    let table = swarmctl(host, at, &["network", "ls"], None).await;
    let row = table.stdout.lines().nth(1).unwrap_or_default();
    assert_eq!(
        row.split_whitespace().nth(1),
        Some("shop_default"),
        "{}",
        table.stdout
    );

    let inspect = json(
        &swarmctl(
            host,
            at,
            &["-o", "json", "secret", "inspect", "token"],
            None,
        )
        .await,
    );
    assert_eq!(
        inspect["metadata"]["name"], "token",
        "inspect prints the whole object"
    );
    server.stop().await;
}

/// A manager with the stack `shop` applied, and a directory to run swarmctl in.
async fn shop_applied() -> (Server, tempfile::TempDir) {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let apply = swarmctl(
        server.url.as_str(),
        dir.path(),
        &["apply", "--stack", "shop", "-f", "-"],
        Some(SHOP),
    )
    .await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    (server, dir)
}

//! Ownership follows the running watcher: a claim refuses the API, a released stack is the
//! CLI's, and a watcher that starts again takes its file's stack back.

use std::collections::BTreeMap;

use super::*;

const FILE: &str = "/srv/stacks/shop.yml";

fn claim(node: u64, dir: &str) -> Claim {
    Claim {
        node,
        dir: dir.into(),
    }
}

fn watched(claim: Claim) -> ApplyRequest {
    let mut request = request("shop", shop());
    request.owner = Owner::Watcher {
        file: FILE.into(),
        claim,
    };
    request.prune = true;
    request
}

fn labels(cluster: &FakeRaft) -> BTreeMap<String, String> {
    cluster
        .record(Kind::Stack, "shop", "shop")
        .metadata
        .labels
        .clone()
}

fn release(cluster: &mut FakeRaft, which: impl Fn(&Claim) -> bool) -> usize {
    match release_command(&cluster.index, which, Timestamp(50)) {
        Some(command) => {
            cluster.commit(&command);
            command.ops.len()
        }
        None => 0,
    }
}

/// The shop stack applied by a watcher of /srv/stacks on node 1, which then stopped.
fn watched_then_released() -> (FakeRaft, Claim) {
    let mut cluster = FakeRaft::new();
    let mine = claim(1, "/srv/stacks");
    cluster.apply(&watched(mine.clone()));
    assert_eq!(release(&mut cluster, |c| *c == mine), 1);
    (cluster, mine)
}

fn scaled(replicas: u64) -> Vec<Manifest> {
    let mut manifests = shop();
    manifests[1] = svc(
        "web",
        ServiceSpec {
            deploy: Some(Deploy {
                replicas: Some(replicas),
                ..Deploy::default()
            }),
            ..service("web", "nginx:1.26")
        },
    );
    manifests
}

#[test]
fn a_released_stack_can_be_changed_and_removed_from_the_cli() {
    let mut cluster = FakeRaft::new();
    let mine = claim(1, "/srv/stacks");
    cluster.apply(&watched(mine.clone()));
    assert_eq!(labels(&cluster)[LABEL_WATCHER], "1:/srv/stacks");
    assert!(matches!(
        delete_stack_plan(&cluster.index, "shop", &Owner::Api, Timestamp(9)),
        Err(ApplyError::Owned { .. })
    ));

    assert_eq!(release(&mut cluster, |c| *c == mine), 1);
    let after = labels(&cluster);
    assert!(!after.contains_key(LABEL_WATCHER), "{after:?}");
    assert_eq!(after[LABEL_WATCHED_FILE], FILE, "where it came from stays");
    assert_eq!(release(&mut cluster, |c| *c == mine), 0, "nothing left");

    check_owner(&cluster.index, "shop", &Owner::Api).expect("edits allowed");
    let id = cluster.record(Kind::Service, "shop", "web").id.clone();
    delete_object_plan(
        &cluster.index,
        Kind::Service,
        &id,
        &Owner::Api,
        Timestamp(9),
    )
    .expect("service rm allowed");
    let removal = delete_stack_plan(&cluster.index, "shop", &Owner::Api, Timestamp(9))
        .expect("stack rm allowed");
    assert_eq!(removal.items.len(), 5, "{:?}", removal.lines(false));
}

#[test]
fn an_api_apply_makes_a_released_stack_the_apis() {
    let (mut cluster, _) = watched_then_released();
    let plan = cluster.apply(&request("shop", scaled(5)));
    assert!(plan.has_changes());
    let after = labels(&cluster);
    assert!(!after.contains_key(LABEL_WATCHED_FILE), "{after:?}");
    assert!(!after.contains_key(LABEL_WATCHER), "{after:?}");
}

#[test]
fn a_watcher_starting_again_takes_its_stack_back_and_the_file_wins() {
    let (mut cluster, mine) = watched_then_released();
    // Scaled from the CLI (as `service scale` writes it) while nobody watched.
    let web = cluster.record(Kind::Service, "shop", "web").clone();
    let mut spec: ServiceSpec = web.spec_as().expect("spec");
    spec.deploy = Some(Deploy {
        replicas: Some(5),
        ..Deploy::default()
    });
    cluster.commit(&Command {
        at: Timestamp(60),
        ops: vec![crate::store::Op::Update {
            kind: Kind::Service,
            id: web.id.clone(),
            expected_version: web.version,
            metadata: web.metadata.clone(),
            spec: serde_json::to_value(&spec).expect("json"),
        }],
    });

    let plan = cluster.apply(&watched(mine.clone()));
    let lines = plan.lines(false);
    assert!(
        lines.iter().any(|l| l.starts_with("~ service shop_web")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains(LABEL_WATCHER)),
        "the claim is written again: {lines:?}"
    );
    let web: ServiceSpec = cluster
        .record(Kind::Service, "shop", "web")
        .spec_as()
        .expect("spec");
    assert_eq!(web.replicas(), Some(1), "the file's replicas again");
    assert!(matches!(
        check_owner(&cluster.index, "shop", &Owner::Api),
        Err(ApplyError::Owned { .. })
    ));
}

#[test]
fn a_start_up_releases_only_its_own_nodes_other_claims() {
    let mut cluster = FakeRaft::new();
    let mut other = watched(claim(1, "/srv/old"));
    other.stack = "old".into();
    cluster.apply(&other);
    cluster.apply(&watched(claim(1, "/srv/stacks")));
    let mut foreign = watched(claim(2, "/srv/old"));
    foreign.stack = "theirs".into();
    cluster.apply(&foreign);

    // Node 1 starts watching /srv/stacks again: only its claim on /srv/old goes.
    let keep = "/srv/stacks".to_owned();
    assert_eq!(release(&mut cluster, |c| c.node == 1 && c.dir != keep), 1);
    let claimed = |stack: &str| {
        cluster
            .record(Kind::Stack, stack, stack)
            .metadata
            .labels
            .get(LABEL_WATCHER)
            .cloned()
    };
    assert_eq!(claimed("old"), None);
    assert_eq!(claimed("shop").as_deref(), Some("1:/srv/stacks"));
    assert_eq!(claimed("theirs").as_deref(), Some("2:/srv/old"));
}

#[test]
fn another_watcher_adopts_an_unclaimed_stack_but_not_a_claimed_one() {
    let mut cluster = FakeRaft::new();
    let mine = claim(1, "/srv/stacks");
    cluster.apply(&watched(mine.clone()));
    let mut elsewhere = watched(claim(1, "/srv/other"));
    elsewhere.owner = Owner::Watcher {
        file: "/srv/other/shop.yml".into(),
        claim: claim(1, "/srv/other"),
    };
    assert!(matches!(
        cluster.plan(&elsewhere),
        Err(ApplyError::Owned { .. })
    ));
    release(&mut cluster, |c| *c == mine);
    cluster.apply(&elsewhere);
    let after = labels(&cluster);
    assert_eq!(after[LABEL_WATCHER], "1:/srv/other");
    assert_eq!(after[LABEL_WATCHED_FILE], "/srv/other/shop.yml");
}

#[test]
fn a_watcher_starting_on_a_broken_file_claims_its_stack() {
    let (mut cluster, mine) = watched_then_released();
    let owner = Owner::Watcher {
        file: FILE.into(),
        claim: mine.clone(),
    };
    let command = error_command(
        &cluster.index,
        "shop",
        StackSource::default(),
        &owner,
        "shop.yml:3:5: bad".into(),
        Timestamp(70),
    )
    .expect("allowed")
    .expect("a write");
    cluster.commit(&command);
    assert_eq!(labels(&cluster)[LABEL_WATCHER], "1:/srv/stacks");
    let status: StackStatus = cluster
        .record(Kind::Stack, "shop", "shop")
        .status_as()
        .expect("status");
    assert_eq!(status.error.as_deref(), Some("shop.yml:3:5: bad"));
    let again = error_command(
        &cluster.index,
        "shop",
        StackSource::default(),
        &owner,
        "shop.yml:3:5: bad".into(),
        Timestamp(71),
    );
    assert!(again.expect("allowed").is_none(), "nothing new to write");
}

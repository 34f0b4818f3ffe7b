//! Planner tests: builders and an in-memory index, no store, no I/O.

use model::service::{Deploy, FileRef, ServiceSpec};
use model::{
    ConfigSpec, Kind, Manifest, ManifestSpec, SecretSpec, StackSource, StackSpec, StackStatus,
    Timestamp,
};

use super::*;
use crate::store::{Command, Executed, Index};

mod refusals;

fn service(name: &str, image: &str) -> ServiceSpec {
    let _ = name;
    ServiceSpec {
        image: Some(image.into()),
        ..ServiceSpec::default()
    }
}

fn svc(name: &str, spec: ServiceSpec) -> Manifest {
    Manifest::new(name, ManifestSpec::Service(spec))
}

fn secret(name: &str, content: &str) -> Manifest {
    Manifest::new(
        name,
        ManifestSpec::Secret(SecretSpec {
            content: Some(content.into()),
            ..SecretSpec::default()
        }),
    )
}

fn config(name: &str, content: &str) -> Manifest {
    Manifest::new(
        name,
        ManifestSpec::Config(ConfigSpec {
            content: Some(content.into()),
            ..ConfigSpec::default()
        }),
    )
}

fn request(stack: &str, manifests: Vec<Manifest>) -> ApplyRequest {
    ApplyRequest {
        stack: stack.into(),
        manifests,
        source: StackSource {
            files: vec![format!("{stack}.yml")],
            ..StackSource::default()
        },
        dry_run: false,
        prune: false,
        owner: Owner::Api,
    }
}

/// A tiny stand-in for Raft: executes commands on an index at increasing log indices.
struct FakeRaft {
    index: Index,
    log: u64,
}

impl FakeRaft {
    fn new() -> FakeRaft {
        FakeRaft {
            index: Index::default(),
            log: 0,
        }
    }

    fn plan(&self, request: &ApplyRequest) -> Result<Planned, ApplyError> {
        plan(&self.index, request, Timestamp(self.log as i64 * 1000))
    }

    fn commit(&mut self, command: &Command) {
        self.log += 1;
        let (executed, _, _) = self.index.execute(self.log, command);
        assert!(matches!(executed, Executed::Ok { .. }), "{executed:?}");
    }

    fn apply(&mut self, request: &ApplyRequest) -> Planned {
        let plan = self.plan(request).expect("plan");
        if let Some(command) = &plan.command {
            self.commit(command);
        }
        plan
    }

    fn record(&self, kind: Kind, stack: &str, name: &str) -> &crate::store::Record {
        self.index
            .find(kind, Some(stack), name)
            .unwrap_or_else(|| panic!("{kind} {stack}/{name} missing"))
    }
}

fn shop() -> Vec<Manifest> {
    let mut api = service("api", "nginx:1.26");
    api.secrets = vec![FileRef::new("db")];
    api.configs = vec![FileRef::new("site")];
    vec![
        svc("api", api),
        svc("web", service("web", "nginx:1.26")),
        secret("db", "hunter2"),
        config("site", "server {}"),
    ]
}

#[test]
fn first_apply_creates_everything_in_one_command_and_labels_it() {
    let mut cluster = FakeRaft::new();
    let plan = cluster.apply(&request("shop", shop()));
    assert_eq!(
        plan.lines(false),
        vec![
            "+ secret shop_db",
            "+ config shop_site",
            "+ service shop_api",
            "+ service shop_web",
            "+ stack shop"
        ]
    );
    assert_eq!(cluster.log, 1, "one command");
    let api = cluster.record(Kind::Service, "shop", "api");
    assert_eq!(api.metadata.labels[LABEL_NAMESPACE], "shop");
    assert_eq!(
        api.metadata.labels["swarm.secret.db"],
        content_hash("hunter2")
    );
    let db = cluster.record(Kind::Secret, "shop", "db");
    assert_eq!(
        db.metadata.labels[LABEL_CONTENT_HASH],
        content_hash("hunter2")
    );
    let stack = cluster.record(Kind::Stack, "shop", "shop");
    let spec: StackSpec = stack.spec_as().expect("stack spec");
    assert_eq!(spec.members.len(), 4);
    assert_eq!(spec.source.files, vec!["shop.yml"]);
    let status: StackStatus = stack.status_as().expect("status");
    assert_eq!(status.applied_at, Some(Timestamp(0)));
}

#[test]
fn identical_input_twice_changes_nothing() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    let again = cluster.plan(&request("shop", shop())).expect("plan");
    assert!(again.command.is_none());
    assert!(
        again
            .items
            .iter()
            .all(|i| i.action == ChangeKind::Unchanged)
    );
    assert_eq!(again.lines(false), vec!["no changes"]);
    assert!(again.lines(true)[0].ends_with("(unchanged)"));
}

#[test]
fn updates_compare_and_set_and_show_leaf_fields() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    let version = cluster.record(Kind::Service, "shop", "web").version;
    let mut manifests = shop();
    let mut web = service("web", "nginx:1.27");
    web.deploy = Some(Deploy {
        replicas: Some(4),
        ..Deploy::default()
    });
    manifests[1] = svc("web", web);
    let plan = cluster.plan(&request("shop", manifests)).expect("plan");
    let web_line = plan.lines(false)[0].clone();
    assert!(
        web_line.starts_with("~ service shop_web: image nginx:1.26 -> nginx:1.27, deploy"),
        "{web_line}"
    );
    assert!(web_line.contains("replicas (unset) -> 4"), "{web_line}");
    let ops = &plan.command.as_ref().expect("command").ops;
    assert!(ops.iter().any(|op| matches!(op,
        crate::store::Op::Update { kind: Kind::Service, expected_version, .. } if *expected_version == version)));
}

#[test]
fn undeclared_objects_are_kept_without_prune_and_deleted_with_it() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    let mut manifests = shop();
    manifests.retain(|m| m.metadata.name != "web");
    let kept = cluster
        .plan(&request("shop", manifests.clone()))
        .expect("plan");
    assert!(kept.command.is_none(), "nothing to write");
    assert_eq!(
        kept.notes,
        vec!["service shop_web: not in input (use --prune to remove)"]
    );
    let mut prune = request("shop", manifests);
    prune.prune = true;
    let plan = cluster.apply(&prune);
    assert_eq!(plan.lines(false)[0], "- service shop_web");
    assert!(
        cluster
            .index
            .find(Kind::Service, Some("shop"), "web")
            .is_none()
    );
    let stack: StackSpec = cluster
        .record(Kind::Stack, "shop", "shop")
        .spec_as()
        .expect("spec");
    assert_eq!(stack.members.len(), 3);
}

#[test]
fn prune_refuses_to_delete_what_another_stack_uses() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    // Stack `blog` uses shop's secret as an external one, by Docker's full name.
    let mut blog = service("blog", "ghost");
    blog.secrets = vec![FileRef::new("shop_db")];
    cluster.apply(&request("blog", vec![svc("blog", blog)]));
    let mut prune = request("shop", vec![svc("web", service("web", "nginx:1.26"))]);
    prune.prune = true;
    let err = cluster.plan(&prune).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "secret `db` is used by service `blog` of stack `blog`; remove it from that service first"
    );
}

#[test]
fn new_secret_content_updates_the_secret_and_bumps_its_services() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    let web_version = cluster.record(Kind::Service, "shop", "web").version;
    let mut manifests = shop();
    manifests[2] = secret("db", "correct horse battery staple");
    let plan = cluster.apply(&request("shop", manifests));
    assert_eq!(
        plan.lines(false),
        vec![
            "~ secret shop_db: content changed",
            "~ service shop_api: secret db changed"
        ]
    );
    let text = serde_json::to_string(&plan.plan).expect("plan json");
    assert!(
        !text.contains("horse") && !text.contains("hunter2"),
        "{text}"
    );
    let api = cluster.record(Kind::Service, "shop", "api");
    assert_eq!(
        api.metadata.labels["swarm.secret.db"],
        content_hash("correct horse battery staple")
    );
    assert_eq!(
        cluster.record(Kind::Service, "shop", "web").version,
        web_version,
        "services that do not use it are untouched"
    );
}

#[test]
fn a_watched_stack_refuses_the_api_and_other_files() {
    let mut cluster = FakeRaft::new();
    let file = "/srv/stacks/shop.yml".to_owned();
    let mut watched = request("shop", shop());
    watched.owner = Owner::Watcher {
        file: file.clone(),
        claim: Claim {
            node: 1,
            dir: "/srv/stacks".into(),
        },
    };
    cluster.apply(&watched);
    let err = cluster
        .plan(&request("shop", shop()))
        .expect_err("api refused");
    assert_eq!(
        err.to_string(),
        "stack `shop` is managed by the watched file /srv/stacks/shop.yml; edit that file, or stop \
         watching its directory (`swarmd up` without `--watch`) to manage the stack from the CLI"
    );
    let mut other = watched.clone();
    other.owner = Owner::Watcher {
        file: "/elsewhere/shop.yml".into(),
        claim: Claim {
            node: 1,
            dir: "/elsewhere".into(),
        },
    };
    assert!(matches!(
        cluster.plan(&other),
        Err(ApplyError::Owned { .. })
    ));
    assert!(cluster.plan(&watched).expect("owner").command.is_none());
    let id = cluster.record(Kind::Service, "shop", "web").id.clone();
    let delete = delete_object_plan(
        &cluster.index,
        Kind::Service,
        &id,
        &Owner::Api,
        Timestamp(9),
    );
    assert!(matches!(delete, Err(ApplyError::Owned { .. })));
    assert!(matches!(
        delete_stack_plan(&cluster.index, "shop", &Owner::Api, Timestamp(9)),
        Err(ApplyError::Owned { .. })
    ));
}

#[test]
fn a_recorded_error_is_cleared_by_the_next_good_apply() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    let source = StackSource::default();
    let command = error_command(
        &cluster.index,
        "shop",
        source.clone(),
        &Owner::Api,
        "bad".into(),
        Timestamp(5),
    )
    .expect("allowed")
    .expect("a write");
    cluster.commit(&command);
    let again = error_command(
        &cluster.index,
        "shop",
        source,
        &Owner::Api,
        "bad".into(),
        Timestamp(6),
    );
    assert!(
        again.expect("allowed").is_none(),
        "same error is not rewritten"
    );
    let plan = cluster.apply(&request("shop", shop()));
    assert_eq!(
        plan.lines(false),
        vec!["~ stack shop: status.error bad -> (unset)"]
    );
    let status: StackStatus = cluster
        .record(Kind::Stack, "shop", "shop")
        .status_as()
        .expect("status");
    assert_eq!(status.error, None);
}

#[test]
fn deleting_a_stack_removes_every_member_and_itself_in_one_command() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    let plan = delete_stack_plan(&cluster.index, "shop", &Owner::Api, Timestamp(9)).expect("plan");
    assert_eq!(plan.lines(false)[0], "- service shop_api");
    assert_eq!(
        plan.lines(false).last().map(String::as_str),
        Some("- stack shop")
    );
    cluster.commit(plan.command.as_ref().expect("command"));
    assert!(cluster.index.is_empty());
}

#[test]
fn deleting_a_used_secret_is_refused_and_a_member_leaves_its_stack() {
    let mut cluster = FakeRaft::new();
    cluster.apply(&request("shop", shop()));
    let db = cluster.record(Kind::Secret, "shop", "db").id.clone();
    let err = delete_object_plan(&cluster.index, Kind::Secret, &db, &Owner::Api, Timestamp(9))
        .expect_err("in use");
    assert!(
        err.to_string()
            .contains("used by service `api` of stack `shop`"),
        "{err}"
    );
    let web = cluster.record(Kind::Service, "shop", "web").id.clone();
    let plan = delete_object_plan(
        &cluster.index,
        Kind::Service,
        &web,
        &Owner::Api,
        Timestamp(9),
    )
    .expect("plan");
    cluster.commit(plan.command.as_ref().expect("command"));
    let stack: StackSpec = cluster
        .record(Kind::Stack, "shop", "shop")
        .spec_as()
        .expect("spec");
    assert!(!stack.members.iter().any(|m| m.name == "web"));
}

#[test]
fn data_by_reference_and_foreign_stacks_are_refused() {
    let cluster = FakeRaft::new();
    let by_file = Manifest::new(
        "db",
        ManifestSpec::Secret(SecretSpec {
            file: Some("./db.txt".into()),
            ..SecretSpec::default()
        }),
    );
    let err = cluster
        .plan(&request("shop", vec![by_file]))
        .expect_err("file");
    assert!(err.to_string().contains("send the content inline"), "{err}");
    let mut foreign = svc("web", service("web", "nginx"));
    foreign.metadata.stack = Some("blog".into());
    let err = cluster
        .plan(&request("shop", vec![foreign]))
        .expect_err("stack");
    assert!(err.to_string().contains("belongs to stack `blog`"), "{err}");
}

mod ownership;

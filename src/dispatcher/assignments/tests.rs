use model::{Kind, ObjectMeta, TaskState, Timestamp};
use serde_json::{Value, json};

use wire::{AssignmentChanges, Assignments};

use super::{Cache, compute};
use crate::store::{Command, Executed, Index, Op};

fn create(kind: Kind, name: &str, labels: &[(&str, &str)], spec: Value, status: Value) -> Op {
    Op::Create {
        kind,
        metadata: ObjectMeta {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            stack: Some("shop".into()),
        },
        spec,
        status,
    }
}

fn apply(index: &mut Index, at: u64, ops: Vec<Op>) -> Vec<String> {
    let (executed, _, _) = index.execute(
        at,
        &Command {
            at: Timestamp(1),
            ops,
        },
    );
    match executed {
        Executed::Ok { ids, .. } => ids,
        Executed::Rejected(r) => panic!("rejected: {r}"),
    }
}

fn task(service_id: &str, slot: u64, node: &str, state: TaskState, seq: u64) -> Op {
    create(
        Kind::Task,
        &format!("web.{slot}.{seq}"),
        &[],
        json!({
            "service_id": service_id,
            "slot": slot,
            "service_spec": {
                "image": "busybox",
                "networks": {"front": {"aliases": ["www"]}, "outside": null},
                "secrets": ["token"],
                "configs": [{"source": "site", "target": "/etc/site.conf", "mode": "0440"}],
            },
            "spec_version": 3,
            "desired_state": "running",
        }),
        json!({"state": state, "node_id": node}),
    )
}

#[test]
fn a_node_gets_its_live_tasks_with_exactly_what_they_need() {
    let mut index = Index::default();
    let ids = apply(
        &mut index,
        1,
        vec![
            create(
                Kind::Network,
                "front",
                &[],
                json!({"driver": "bridge"}),
                Value::Null,
            ),
            create(Kind::Network, "unused", &[], json!({}), Value::Null),
            create(
                Kind::Secret,
                "token",
                &[("swarm.content-hash", "h1")],
                json!({"content": "s3cr3t"}),
                Value::Null,
            ),
            create(
                Kind::Secret,
                "other",
                &[],
                json!({"content": "x"}),
                Value::Null,
            ),
            create(
                Kind::Config,
                "site",
                &[],
                json!({"content": "listen 80;"}),
                Value::Null,
            ),
            create(
                Kind::Service,
                "web",
                &[],
                json!({"image": "busybox"}),
                Value::Null,
            ),
        ],
    );
    let service = &ids[5];
    let tasks = apply(
        &mut index,
        2,
        vec![
            task(service, 1, "n1", TaskState::Running, 1),
            task(service, 2, "n1", TaskState::Failed, 1),
            task(service, 3, "n2", TaskState::Running, 1),
        ],
    );
    let got = compute(&index, "n1");
    assert_eq!(got.index, 2);
    assert_eq!(
        got.tasks.len(),
        1,
        "terminal and other nodes' tasks are left out"
    );
    let one = &got.tasks[0];
    assert_eq!(one.task_id, tasks[0]);
    assert_eq!(one.display_name, "web.1");
    assert_eq!(one.stack.as_deref(), Some("shop"));
    let nets: Vec<(&str, &str)> = one
        .networks
        .iter()
        .map(|n| (n.key.as_str(), n.docker_name.as_str()))
        .collect();
    assert_eq!(nets, vec![("front", "shop_front"), ("outside", "outside")]);
    assert_eq!(one.networks[0].aliases, vec!["web", "shop_web", "www"]);
    assert!(one.networks[1].spec.external, "not in the store: external");
    assert_eq!(one.secrets.len(), 1);
    assert_eq!(one.secrets[0].content, "s3cr3t");
    assert_eq!(one.secrets[0].content_hash, "h1");
    assert_eq!(one.configs[0].name, "site");
    assert_eq!(
        one.configs[0].content_hash,
        crate::apply::content_hash("listen 80;"),
        "hash computed when the label is missing"
    );
}

#[test]
fn cached_assignments_follow_task_and_secret_changes() {
    let mut index = Index::default();
    let plain = |kind, name, spec| create(kind, name, &[], spec, Value::Null);
    let ids = apply(
        &mut index,
        1,
        vec![
            plain(Kind::Secret, "token", json!({"content": "one"})),
            plain(Kind::Service, "web", json!({"image": "busybox"})),
        ],
    );
    let (secret, service) = (&ids[0], &ids[1]);
    let tasks = apply(
        &mut index,
        2,
        vec![
            task(service, 1, "n1", TaskState::Running, 1),
            task(service, 2, "n1", TaskState::Running, 1),
        ],
    );
    let mut cache = Cache::default();
    let mut cached = |index: &Index| {
        let changed = cache.update(index, "n1");
        (changed, cache.assignments(index.last_executed()))
    };
    assert_eq!(cached(&index), (true, compute(&index, "n1")));
    assert!(!cached(&index).0, "nothing changed");
    // A task moves to another node; one arrives; the secret's content changes.
    let status = |node: &str| Op::SetStatus {
        kind: Kind::Task,
        id: tasks[1].clone(),
        expected_version: None,
        status: json!({"state": "running", "node_id": node}),
    };
    apply(
        &mut index,
        3,
        vec![status("n2"), task(service, 3, "n1", TaskState::Running, 2)],
    );
    let (changed, got) = cached(&index);
    assert!(changed);
    assert_eq!(got, compute(&index, "n1"));
    assert_eq!(got.tasks.len(), 2);
    apply(
        &mut index,
        4,
        vec![Op::Update {
            kind: Kind::Secret,
            id: secret.clone(),
            expected_version: 1,
            metadata: ObjectMeta {
                name: "token".into(),
                labels: Default::default(),
                stack: Some("shop".into()),
            },
            spec: json!({"content": "two"}),
        }],
    );
    let (changed, got) = cached(&index);
    assert!(changed);
    assert_eq!(got, compute(&index, "n1"));
    assert!(got.tasks.iter().all(|t| t.secrets[0].content == "two"));
}

#[test]
fn changes_name_exactly_the_tasks_that_came_changed_or_went() {
    let mut index = Index::default();
    let ids = apply(
        &mut index,
        1,
        vec![create(
            Kind::Service,
            "web",
            &[],
            json!({"image": "busybox"}),
            Value::Null,
        )],
    );
    let service = &ids[0];
    let tasks = apply(
        &mut index,
        2,
        vec![
            task(service, 1, "n1", TaskState::Running, 1),
            task(service, 2, "n1", TaskState::Running, 1),
            task(service, 3, "n2", TaskState::Running, 1),
        ],
    );
    let mut cache = Cache::default();
    cache.update(&index, "n1");
    let first = cache.take_changes(2);
    assert_eq!(first.upsert.len(), 2, "{first:?}");
    assert!(first.remove.is_empty());
    // Nothing moved: nothing to send, even when an unrelated kind changed.
    apply(
        &mut index,
        3,
        vec![create(
            Kind::Config,
            "unused",
            &[],
            json!({"content": "x"}),
            Value::Null,
        )],
    );
    assert!(!cache.update(&index, "n1"));
    assert_eq!(
        cache.take_changes(3),
        AssignmentChanges {
            index: 3,
            ..Default::default()
        }
    );
    // Slot 2 is orphaned (terminal: the node must drop it), slot 3 moves here.
    let status = |id: &str, state: &str, node: &str| Op::SetStatus {
        kind: Kind::Task,
        id: id.to_owned(),
        expected_version: None,
        status: json!({"state": state, "node_id": node}),
    };
    apply(
        &mut index,
        4,
        vec![
            status(&tasks[1], "orphaned", "n1"),
            status(&tasks[2], "running", "n1"),
        ],
    );
    assert!(cache.update(&index, "n1"));
    let changes = cache.take_changes(4);
    assert_eq!(changes.remove, vec![tasks[1].clone()]);
    let upserted: Vec<&str> = changes.upsert.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(upserted, vec![tasks[2].as_str()]);
    let mut replayed = Assignments::default();
    replayed.apply(first);
    replayed.apply(changes);
    assert_eq!(replayed.tasks, compute(&index, "n1").tasks);
}

//! Convergence rules over hand-made records.

use model::{ObjectMeta, Timestamp};
use serde_json::{Value, json};

use super::*;

fn record(kind: Kind, id: &str, created: i64, spec: Value, status: Value) -> Record {
    Record {
        kind,
        id: id.into(),
        version: 1,
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
        metadata: ObjectMeta {
            name: id.into(),
            ..ObjectMeta::default()
        },
        spec,
        status,
    }
}

fn service(spec: Value, status: Value) -> Record {
    record(Kind::Service, "web", 0, spec, status)
}

fn task(id: &str, slot: u64, created: i64, image: &str, desired: &str, status: Value) -> Record {
    let spec = json!({
        "service_id": "web",
        "slot": slot,
        "service_spec": {"image": image, "deploy": {"replicas": 2}},
        "spec_version": 1,
        "desired_state": desired,
    });
    record(Kind::Task, id, created, spec, status)
}

fn verdicts(c: &mut Convergence, svc: &Record, tasks: &[Record]) -> (Verdict, u64, u64) {
    let p = c.observe(std::slice::from_ref(svc), tasks, &[]).remove(0);
    (p.verdict, p.done, p.desired)
}

#[test]
fn done_once_every_slot_runs_the_applied_spec_and_no_old_task_runs() {
    // Scaled from 2 to 3: the tasks' snapshots say 2 replicas and still count as current.
    let svc = service(
        json!({"image": "b", "deploy": {"replicas": 3}}),
        Value::Null,
    );
    let mut c = Convergence::new(Timestamp(0));
    let running =
        |id, slot, image| task(id, slot, 1, image, "running", json!({"state": "running"}));
    let mut tasks = vec![running("t1", 1, "b"), running("t2", 2, "a")];
    assert_eq!(verdicts(&mut c, &svc, &tasks), (Verdict::Converging, 1, 3));
    tasks[1] = running("t2", 2, "b");
    tasks.push(running("t3", 3, "b"));
    assert_eq!(verdicts(&mut c, &svc, &tasks), (Verdict::Done, 3, 3));
    let updating = service(
        json!({"image": "b", "deploy": {"replicas": 3}}),
        json!({"update": {"state": "updating", "started_at": 5}}),
    );
    assert_eq!(verdicts(&mut c, &updating, &tasks).0, Verdict::Converging);
}

#[test]
fn a_paused_update_or_a_rolled_back_spec_fails() {
    let spec = json!({"image": "b", "deploy": {"replicas": 1}});
    let paused = service(
        spec.clone(),
        json!({"update": {"state": "paused", "started_at": 10, "message": "2 of 2 tasks failed"}}),
    );
    let mut c = Convergence::new(Timestamp(5));
    let (verdict, ..) = verdicts(&mut c, &paused, &[]);
    assert_eq!(
        verdict,
        Verdict::Failed("update paused: 2 of 2 tasks failed".into())
    );
    // A pause from before this apply is history.
    let mut later = Convergence::new(Timestamp(50));
    assert_eq!(verdicts(&mut later, &paused, &[]).0, Verdict::Converging);
    let rolled = service(json!({"image": "a"}), Value::Null);
    let (verdict, ..) = verdicts(&mut later, &rolled, &[]);
    assert!(matches!(verdict, Verdict::Failed(r) if r.contains("spec changed")));
}

#[test]
fn a_failed_slot_the_restart_policy_gives_up_on_fails_and_problems_are_listed() {
    let svc = service(
        json!({"image": "a", "deploy": {"replicas": 2, "restart_policy": {"condition": "on-failure", "max_attempts": 1}}}),
        Value::Null,
    );
    let applied = |t: Record| {
        let mut t = t;
        t.spec["service_spec"] = svc.spec.clone();
        t
    };
    let failed = json!({"state": "failed", "error": "exit code 3"});
    let mut tasks = vec![
        applied(task("t1", 1, 1, "a", "shutdown", failed.clone())),
        applied(task(
            "t2",
            2,
            1,
            "a",
            "running",
            json!({"state": "pending", "message": "no suitable node"}),
        )),
    ];
    let mut c = Convergence::new(Timestamp(0));
    let progress = c.observe(std::slice::from_ref(&svc), &tasks, &[]).remove(0);
    assert_eq!(progress.verdict, Verdict::Converging);
    assert_eq!(
        progress.problems,
        ["web.1: exit code 3", "web.2: no suitable node"]
    );
    tasks.push(applied(task("t3", 1, 2, "a", "shutdown", failed)));
    let (verdict, ..) = verdicts(&mut c, &svc, &tasks);
    assert_eq!(
        verdict,
        Verdict::Failed(
            "web.1 failed and its restart policy does not replace it: exit code 3".into()
        )
    );
}

#[test]
fn global_services_wait_for_tasks_while_nodes_can_take_them() {
    let svc = service(
        json!({"image": "a", "deploy": {"mode": "global"}}),
        Value::Null,
    );
    let node = record(Kind::Node, "n1", 0, json!({}), json!({"state": "ready"}));
    let mut c = Convergence::new(Timestamp(0));
    let p = c.observe(std::slice::from_ref(&svc), &[], std::slice::from_ref(&node));
    assert_eq!(p[0].verdict, Verdict::Converging);
    let p = c.observe(std::slice::from_ref(&svc), &[], &[]);
    assert_eq!(p[0].verdict, Verdict::Done);
    assert_eq!(p[0].line(5), "web    0/0 running  done");
}

//! Convergence rules over hand-made records.

use model::Timestamp;
use serde_json::{Value, json};

use super::*;

/// The client's clock in these tests.
const NOW: Timestamp = Timestamp(1_000_000);

/// A record named after its id.
fn record(kind: Kind, id: &str, created: i64, spec: Value, status: Value) -> Record {
    crate::test_records::record(kind, id, id, created, spec, status)
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
    let p = c
        .observe(std::slice::from_ref(svc), tasks, &[], NOW)
        .remove(0);
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
    // The controller's own message is not prefixed again.
    let worded = service(
        spec.clone(),
        json!({"update": {"state": "paused", "started_at": 10, "message": "update paused due to failure of task web.1 (t1) failed: exit code 1"}}),
    );
    let (verdict, ..) = verdicts(&mut c, &worded, &[]);
    assert_eq!(
        verdict,
        Verdict::Failed(
            "update paused due to failure of task web.1 (t1) failed: exit code 1".into()
        )
    );
    // A pause from before this apply is history.
    let mut later = Convergence::new(Timestamp(50));
    assert_eq!(verdicts(&mut later, &paused, &[]).0, Verdict::Converging);
    let rolled = service(json!({"image": "a"}), Value::Null);
    let (verdict, ..) = verdicts(&mut later, &rolled, &[]);
    assert!(matches!(verdict, Verdict::Failed(r) if r.contains("spec changed")));
}

/// A task of `svc` (its snapshot is the service's spec) in `slot`.
fn task_of(svc: &Record, id: &str, slot: u64, desired: &str, status: Value) -> Record {
    let mut t = task(id, slot, 1, "a", desired, status);
    t.spec["service_spec"] = svc.spec.clone();
    t
}

/// A task of `svc` that failed at `at` with `exit code 3`.
fn failed_at(svc: &Record, id: &str, slot: u64, desired: &str, at: i64) -> Record {
    let status = json!({"state": "failed", "error": "exit code 3", "timestamp": at});
    task_of(svc, id, slot, desired, status)
}

fn with_policy(policy: Value) -> Record {
    service(
        json!({"image": "a", "deploy": {"replicas": 1, "restart_policy": policy}}),
        Value::Null,
    )
}

#[test]
fn a_failed_slot_the_restart_policy_gives_up_on_fails_with_the_task_and_its_error() {
    let svc = service(
        json!({"image": "a", "deploy": {"replicas": 2, "restart_policy": {"condition": "on-failure", "max_attempts": 1}}}),
        Value::Null,
    );
    let pending = json!({"state": "pending", "message": "no suitable node"});
    let mut tasks = vec![
        failed_at(&svc, "t1", 1, "running", 1),
        task_of(&svc, "t2", 2, "running", pending),
    ];
    let mut c = Convergence::new(Timestamp(0));
    let progress = c
        .observe(std::slice::from_ref(&svc), &tasks, &[], NOW)
        .remove(0);
    assert_eq!(progress.verdict, Verdict::Converging, "one restart is left");
    assert_eq!(
        progress.problems,
        ["web.1: exit code 3", "web.2: no suitable node"]
    );
    // The controller acknowledged t1 and its replacement t3 failed too: 2 attempts > 1.
    tasks[0] = failed_at(&svc, "t1", 1, "shutdown", 1);
    tasks.push(failed_at(&svc, "t3", 1, "running", 2));
    let (verdict, ..) = verdicts(&mut c, &svc, &tasks);
    assert_eq!(
        verdict,
        Verdict::Failed(
            "restart attempts exhausted (max_attempts 1) after task web.1 (t3) failed: exit code 3"
                .into()
        )
    );
    let none = with_policy(json!({"condition": "none"}));
    let mut c = Convergence::new(Timestamp(0));
    let (verdict, ..) = verdicts(&mut c, &none, &[failed_at(&none, "t1", 1, "running", 1)]);
    assert_eq!(
        verdict,
        Verdict::Failed(
            "not restarted (restart_policy condition none) after task web.1 (t1) failed: exit code 3"
                .into()
        )
    );
}

#[test]
fn max_attempts_zero_is_unlimited_as_in_the_controllers_and_docker() {
    let svc = with_policy(json!({"max_attempts": 0}));
    let mut tasks: Vec<Record> = (1..=5)
        .map(|n| failed_at(&svc, &format!("t{n}"), 1, "shutdown", n))
        .collect();
    tasks.push(failed_at(&svc, "t6", 1, "running", 6));
    let mut c = Convergence::new(Timestamp(0));
    let (verdict, done, desired) = verdicts(&mut c, &svc, &tasks);
    assert_eq!((verdict, done, desired), (Verdict::Converging, 0, 1));
}

#[test]
fn attempts_outside_the_restart_window_do_not_count_and_the_window_is_waited_out() {
    let svc = with_policy(json!({"max_attempts": 1, "window": "10s"}));
    let mut c = Convergence::new(Timestamp(0));
    // One failure long before the window, one inside it: one attempt within 10s, restarted.
    let old = failed_at(&svc, "t1", 1, "shutdown", NOW.0 - 60_000);
    let recent = failed_at(&svc, "t2", 1, "running", NOW.0 - 1_000);
    let p = c
        .observe(std::slice::from_ref(&svc), &[old, recent.clone()], &[], NOW)
        .remove(0);
    assert_eq!(p.verdict, Verdict::Converging);
    assert_eq!(p.problems, ["web.1: exit code 3"]);
    // Both inside the window: exhausted for now, but the controller retries once the older
    // leaves the window, so --wait goes on waiting and says so.
    let old = failed_at(&svc, "t1", 1, "shutdown", NOW.0 - 5_000);
    let p = c
        .observe(std::slice::from_ref(&svc), &[old, recent], &[], NOW)
        .remove(0);
    assert_eq!(p.verdict, Verdict::Converging);
    assert_eq!(
        p.problems,
        [
            "restart attempts exhausted (max_attempts 1 within 10s) after task web.1 (t2) failed: exit code 3; retried once the oldest attempt is out of the window"
        ]
    );
    // Without a window, exhausted is final.
    let svc = with_policy(json!({"max_attempts": 1}));
    let mut c = Convergence::new(Timestamp(0));
    let old = failed_at(&svc, "t1", 1, "shutdown", 1);
    let recent = failed_at(&svc, "t2", 1, "running", 2);
    let (verdict, ..) = verdicts(&mut c, &svc, &[old, recent]);
    assert!(
        matches!(&verdict, Verdict::Failed(r) if r.starts_with("restart attempts exhausted (max_attempts 1) after task web.1 (t2)")),
        "{verdict:?}"
    );
}

#[test]
fn a_replacement_prepared_during_the_restart_delay_says_what_it_waits_for() {
    let svc = with_policy(json!({"delay": "5s"}));
    let failed = failed_at(&svc, "t1", 1, "shutdown", NOW.0 - 1_000);
    let status = json!({"state": "ready", "message": "ready to start"});
    let mut prepared = task_of(&svc, "t2", 1, "ready", status);
    prepared.spec["start_at"] = json!(NOW.0 + 4_000);
    let mut c = Convergence::new(Timestamp(0));
    let p = c
        .observe(std::slice::from_ref(&svc), &[failed, prepared], &[], NOW)
        .remove(0);
    assert_eq!(p.verdict, Verdict::Converging);
    assert_eq!(
        p.problems,
        [
            "web.1: restart 1 delayed 5s by the restart policy, after task web.1 (t1) failed: exit code 3"
        ]
    );
}

#[test]
fn an_empty_deploy_runs_the_same_containers_as_none() {
    let svc = service(json!({"image": "a", "deploy": {}}), Value::Null);
    let mut t = task("t1", 1, 1, "a", "running", json!({"state": "running"}));
    t.spec["service_spec"] = json!({"image": "a"});
    let mut c = Convergence::new(Timestamp(0));
    assert_eq!(verdicts(&mut c, &svc, &[t]), (Verdict::Done, 1, 1));
}

#[test]
fn a_scale_down_is_done_once_the_extra_tasks_stopped() {
    let svc = service(
        json!({"image": "a", "deploy": {"replicas": 3}}),
        Value::Null,
    );
    let running = json!({"state": "running"});
    let mut tasks: Vec<Record> = (1..=5)
        .map(|n| task_of(&svc, &format!("t{n}"), n, "running", running.clone()))
        .collect();
    let mut c = Convergence::new(Timestamp(0));
    let p = c
        .observe(std::slice::from_ref(&svc), &tasks, &[], NOW)
        .remove(0);
    assert_eq!(p.verdict, Verdict::Converging, "slots 4 and 5 still run");
    assert_eq!(p.line(3), "web  3/3 running");
    for (n, t) in tasks.iter_mut().enumerate().skip(3) {
        *t = task_of(
            &svc,
            &format!("t{}", n + 1),
            n as u64 + 1,
            "shutdown",
            json!({"state": "shutdown"}),
        );
    }
    let p = c
        .observe(std::slice::from_ref(&svc), &tasks, &[], NOW)
        .remove(0);
    assert_eq!(p.line(3), "web  3/3 running  done");
}

#[test]
fn global_services_wait_for_tasks_while_nodes_can_take_them() {
    let svc = service(
        json!({"image": "a", "deploy": {"mode": "global"}}),
        Value::Null,
    );
    let node = record(Kind::Node, "n1", 0, json!({}), json!({"state": "ready"}));
    let mut c = Convergence::new(Timestamp(0));
    let p = c.observe(
        std::slice::from_ref(&svc),
        &[],
        std::slice::from_ref(&node),
        NOW,
    );
    assert_eq!(p[0].verdict, Verdict::Converging);
    assert_eq!(
        (p[0].done, p[0].desired),
        (0, 1),
        "one task per eligible node"
    );
    let p = c.observe(std::slice::from_ref(&svc), &[], &[], NOW);
    assert_eq!(p[0].verdict, Verdict::Done);
    assert_eq!(p[0].line(5), "web    0/0 running  done");
}

#[test]
fn a_global_task_is_named_by_its_nodes_hostname() {
    let svc = service(
        json!({"image": "a", "deploy": {"mode": "global", "restart_policy": {"condition": "none"}}}),
        Value::Null,
    );
    let node = record(
        Kind::Node,
        "n1",
        0,
        json!({}),
        json!({"state": "ready", "hostname": "box"}),
    );
    let mut t = failed_at(&svc, "t1", 1, "running", 1);
    t.spec["slot"] = Value::Null;
    t.spec["node_id"] = json!("n1");
    let mut c = Convergence::new(Timestamp(0));
    let p = c.observe(&[svc], &[t], &[node], NOW).remove(0);
    assert_eq!(
        p.verdict,
        Verdict::Failed(
            "not restarted (restart_policy condition none) after task web.box (t1) failed: exit code 3"
                .into()
        )
    );
}

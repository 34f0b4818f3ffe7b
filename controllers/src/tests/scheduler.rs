use model::{TaskState, Timestamp};

use super::{NOW, statuses};
use crate::testing::GIB;
use crate::{ClusterView, NodeObj, ServiceObj, TaskObj, scheduler, view};

/// A NEW task of `svc` in `slot`, not placed.
fn new(svc: &ServiceObj, slot: u64) -> TaskObj {
    TaskObj::test(svc, slot).state(TaskState::New)
}

/// The node each task was assigned to, or its pending message.
fn outcome(view: &ClusterView) -> Vec<(String, String)> {
    statuses(&scheduler::reconcile(view, NOW))
        .into_iter()
        .map(|(id, s)| match s.state {
            TaskState::Assigned => (id, s.node_id.unwrap_or_default()),
            _ => (id, s.message),
        })
        .collect()
}

fn only(view: &ClusterView) -> String {
    let out = outcome(view);
    assert_eq!(out.len(), 1, "{out:?}");
    out[0].1.clone()
}

#[test]
fn explains_pending_tasks_with_grouped_counted_reasons() {
    let svc = ServiceObj::test("db")
        .constraint("node.labels.disk==ssd")
        .reserve(0.0, 4 * GIB);
    let view = view![
        svc.clone(),
        NodeObj::test("n1"),
        NodeObj::test("n2").label("disk", "ssd").memory(2 * GIB),
        NodeObj::test("n3").label("disk", "ssd").drain(),
        new(&svc, 1),
    ];
    assert_eq!(
        only(&view),
        "no suitable node (1 node: constraint node.labels.disk==ssd not met; 1 node: insufficient memory; 1 node drained)"
    );
}

#[test]
fn explanations_count_nodes_and_order_by_frequency() {
    let svc = ServiceObj::test("db").constraint("node.role==manager");
    let view = view![
        svc.clone(),
        NodeObj::test("n1"),
        NodeObj::test("n2"),
        NodeObj::test("n3").pause(),
        NodeObj::test("n4").down(0),
        new(&svc, 1),
    ];
    assert_eq!(
        only(&view),
        "no suitable node (2 nodes: constraint node.role==manager not met; 1 node paused; 1 node down)"
    );
    let empty = view![svc.clone(), new(&svc, 1)];
    assert_eq!(only(&empty), "no suitable node (no nodes in the cluster)");
}

#[test]
fn every_constraint_key_filters_nodes() {
    let node = NodeObj::test("n1")
        .manager()
        .label("zone", "a")
        .engine_label("storage", "fast")
        .platform("linux", "aarch64");
    let cases = [
        ("node.id==n1", true),
        ("node.id!=n1", false),
        ("node.hostname==n1", true),
        ("node.role==manager", true),
        ("node.role==worker", false),
        ("node.platform.os==linux", true),
        ("node.platform.os==windows", false),
        ("node.platform.arch==arm64", true),
        ("node.labels.zone==a", true),
        ("node.labels.zone!=a", false),
        ("node.labels.missing!=x", true),
        ("node.labels.missing==x", false),
        ("engine.labels.storage==fast", true),
        ("engine.labels.storage==slow", false),
    ];
    for (constraint, fits) in cases {
        let svc = ServiceObj::test("s").constraint(constraint);
        let placed = only(&view![svc.clone(), node.clone(), new(&svc, 1)]);
        assert_eq!(placed == "n1", fits, "{constraint}: {placed}");
        if !fits {
            assert_eq!(
                placed,
                format!("no suitable node (1 node: constraint {constraint} not met)")
            );
        }
    }
}

#[test]
fn resources_are_accounted_within_one_pass_and_against_running_tasks() {
    let svc = ServiceObj::test("web").reserve(1.0, GIB);
    let other = ServiceObj::test("cache").reserve(0.0, GIB);
    let view = view![
        svc.clone(),
        other.clone(),
        NodeObj::test("n1").memory(3 * GIB).cpus(8.0),
        TaskObj::test(&other, 1).on("n1"),
        new(&svc, 1),
        new(&svc, 2),
        new(&svc, 3),
    ];
    let out = outcome(&view);
    assert_eq!(out[0], ("web.1".into(), "n1".into()));
    assert_eq!(out[1], ("web.2".into(), "n1".into()));
    assert_eq!(
        out[2],
        (
            "web.3".into(),
            "no suitable node (1 node: insufficient memory)".into()
        )
    );

    let cpu = ServiceObj::test("cpu").reserve(3.0, 0);
    let view = view![
        cpu.clone(),
        NodeObj::test("n1").cpus(4.0),
        new(&cpu, 1),
        new(&cpu, 2)
    ];
    assert_eq!(
        outcome(&view)[1].1,
        "no suitable node (1 node: insufficient cpu)"
    );
}

#[test]
fn host_mode_ports_conflict_and_ingress_ports_do_not() {
    let svc = ServiceObj::test("lb").host_port(80);
    let view = view![
        svc.clone(),
        NodeObj::test("n1"),
        TaskObj::test(&svc, 1).on("n1"),
        new(&svc, 2)
    ];
    assert_eq!(
        only(&view),
        "no suitable node (1 node: host port 80/tcp in use)"
    );
    let ingress = ServiceObj::test("web");
    let mut ingress = ingress;
    ingress.spec.ports.push(model::service::PortConfig {
        published: Some(80),
        ..model::service::PortConfig::target(80)
    });
    let view = view![
        ingress.clone(),
        NodeObj::test("n1"),
        TaskObj::test(&ingress, 1).on("n1"),
        new(&ingress, 2)
    ];
    assert_eq!(only(&view), "n1");
}

#[test]
fn max_replicas_per_node_counts_tasks_placed_earlier_in_the_pass() {
    let svc = ServiceObj::test("web").max_per_node(1);
    let view = view![
        svc.clone(),
        NodeObj::test("n1"),
        NodeObj::test("n2"),
        new(&svc, 1),
        new(&svc, 2),
        new(&svc, 3)
    ];
    let out = outcome(&view);
    assert_eq!(out[0].1, "n1");
    assert_eq!(out[1].1, "n2");
    assert_eq!(
        out[2].1,
        "no suitable node (2 nodes: max_replicas_per_node 1 reached)"
    );
}

#[test]
fn spreads_over_label_values_then_fewest_tasks_then_node_id() {
    let svc = ServiceObj::test("web").spread("node.labels.az");
    let view = view![
        svc.clone(),
        NodeObj::test("a1").label("az", "a"),
        NodeObj::test("a2").label("az", "a"),
        NodeObj::test("a3").label("az", "a"),
        NodeObj::test("b1").label("az", "b"),
        (1..=4).map(|s| new(&svc, s)).collect::<Vec<_>>(),
    ];
    let nodes: Vec<String> = outcome(&view).into_iter().map(|(_, n)| n).collect();
    assert_eq!(nodes, ["a1", "b1", "a2", "b1"]);
}

#[test]
fn nested_spread_preferences_apply_in_order() {
    let svc = ServiceObj::test("web")
        .spread("node.labels.dc")
        .spread("node.labels.rack");
    let view = view![
        svc.clone(),
        NodeObj::test("n1").label("dc", "east").label("rack", "1"),
        NodeObj::test("n2").label("dc", "east").label("rack", "1"),
        NodeObj::test("n3").label("dc", "east").label("rack", "2"),
        NodeObj::test("n4").label("dc", "west").label("rack", "1"),
        (1..=4).map(|s| new(&svc, s)).collect::<Vec<_>>(),
    ];
    let nodes: Vec<String> = outcome(&view).into_iter().map(|(_, n)| n).collect();
    assert_eq!(nodes, ["n1", "n4", "n3", "n4"]);
}

#[test]
fn without_preferences_fewest_tasks_of_the_service_then_overall_win() {
    let svc = ServiceObj::test("web");
    let busy = ServiceObj::test("busy");
    let view = view![
        svc.clone(),
        busy.clone(),
        NodeObj::test("n1"),
        NodeObj::test("n2"),
        NodeObj::test("n3"),
        TaskObj::test(&svc, 1).on("n1"),
        TaskObj::test(&busy, 1).on("n2"),
        new(&svc, 2),
    ];
    assert_eq!(only(&view), "n3");
}

#[test]
fn pending_explanations_are_written_only_when_they_change() {
    let svc = ServiceObj::test("db").constraint("node.labels.disk==ssd");
    let message = "no suitable node (1 node: constraint node.labels.disk==ssd not met)";
    let same = new(&svc, 1).state(TaskState::Pending).message(message);
    assert!(scheduler::reconcile(&view![svc.clone(), NodeObj::test("n1"), same], NOW).is_empty());
    let stale = new(&svc, 1)
        .state(TaskState::Pending)
        .message("no suitable node (no nodes in the cluster)");
    assert_eq!(only(&view![svc, NodeObj::test("n1"), stale]), message);
}

#[test]
fn global_tasks_only_fit_their_own_node() {
    let svc = ServiceObj::test("agent").global().reserve(0.0, 16 * GIB);
    let mut task = TaskObj::global(&svc, "n2").state(TaskState::New);
    task.status.node_id = None;
    let view = view![
        svc.clone(),
        NodeObj::test("n1").memory(32 * GIB),
        NodeObj::test("n2"),
        task.clone()
    ];
    assert_eq!(
        only(&view),
        "no suitable node (1 node: insufficient memory)"
    );
    let view = view![
        svc,
        NodeObj::test("n1"),
        NodeObj::test("n2").memory(32 * GIB),
        task
    ];
    assert_eq!(only(&view), "n2");
}

#[test]
fn held_tasks_wait_and_unwanted_unplaced_tasks_are_shut_down() {
    let svc = ServiceObj::test("web");
    let held = new(&svc, 1).state(TaskState::Pending).at(NOW.0 + 1);
    assert!(scheduler::reconcile(&view![svc.clone(), NodeObj::test("n1"), held], NOW).is_empty());
    let unwanted = new(&svc, 1).desired(TaskState::Shutdown);
    let out = statuses(&scheduler::reconcile(
        &view![svc, NodeObj::test("n1"), unwanted],
        NOW,
    ));
    assert_eq!(out[0].1.state, TaskState::Shutdown);
    assert_eq!(out[0].1.timestamp, Timestamp(NOW.0));
}

#[test]
fn a_replacement_waits_for_its_slot_to_stop_unless_start_first() {
    let svc = ServiceObj::test("web");
    let stopping = TaskObj::test(&svc, 1)
        .seq(1)
        .on("n1")
        .desired(TaskState::Shutdown);
    let replacement = new(&svc, 1).seq(2);
    let view = view![
        svc.clone(),
        NodeObj::test("n1"),
        stopping.clone(),
        replacement.clone()
    ];
    assert_eq!(only(&view), "waiting for task web.1.1 to stop");
    let start_first = svc.update_config(model::service::UpdateConfig {
        order: Some(model::service::UpdateOrder::StartFirst),
        ..Default::default()
    });
    let mut replacement = replacement;
    replacement.spec.service_spec = std::sync::Arc::new(start_first.spec.clone());
    assert_eq!(
        only(&view![
            start_first,
            NodeObj::test("n1"),
            stopping,
            replacement
        ]),
        "n1"
    );
}

#[test]
fn every_rejection_reason_has_its_wording() {
    use crate::scheduler::filters::{Reason, explain};
    let reasons = [
        Reason::Resources {
            cpu: true,
            memory: true,
        },
        Reason::Resources {
            cpu: true,
            memory: true,
        },
        Reason::InvalidConstraint("invalid constraint: x".into()),
        Reason::NotReady("disconnected"),
        Reason::NotReady("not ready"),
    ];
    assert_eq!(
        explain(&reasons),
        "no suitable node (2 nodes: insufficient cpu and memory; 1 node: invalid constraint: x; \
         1 node disconnected; 1 node not ready)"
    );
    let svc = ServiceObj::test("s").constraint("node.labels.x=y");
    let message = only(&view![svc.clone(), NodeObj::test("n1"), new(&svc, 1)]);
    assert!(
        message.starts_with(
            "no suitable node (1 node: invalid constraint: constraint `node.labels.x=y` has no `==`"
        ),
        "{message}"
    );
    let mut unknown = NodeObj::test("n1");
    unknown.status.state = model::NodeState::Unknown;
    assert_eq!(
        only(&view![svc.clone(), unknown, new(&svc, 1)]),
        "no suitable node (1 node not ready)"
    );
}

//! Ranking: among the nodes that can take a task, which one should.

use std::collections::{BTreeMap, HashMap};

use model::ConstraintKey;

use super::filters::{Usage, attribute};
use crate::NodeObj;

/// Picks the node for one task of `service_id`: spread preferences first (nested, in order:
/// the value group holding the fewest tasks of the service wins), then the fewest tasks of the
/// service, then the fewest tasks overall, then the smallest node id so plans are reproducible.
///
/// Spread counts tasks on every node with the value, not only feasible ones, so a full node
/// still weighs on its group.
pub fn choose<'a>(
    feasible: &[&'a NodeObj],
    all_nodes: &[&'a NodeObj],
    usage: &HashMap<String, Usage>,
    service_id: &str,
    spread: &[ConstraintKey],
) -> Option<&'a NodeObj> {
    let of_service = |node: &NodeObj| {
        usage
            .get(&node.id)
            .and_then(|u| u.per_service.get(service_id).copied())
            .unwrap_or(0)
    };
    let total = |node: &NodeObj| usage.get(&node.id).map_or(0, |u| u.total);

    let mut candidates: Vec<&NodeObj> = feasible.to_vec();
    let mut population: Vec<&NodeObj> = all_nodes.to_vec();
    for key in spread {
        let mut load: BTreeMap<Option<&str>, u64> = BTreeMap::new();
        for node in &population {
            *load.entry(attribute(node, key)).or_default() += of_service(node);
        }
        let best = candidates
            .iter()
            .map(|n| attribute(n, key))
            .min_by_key(|value| (load.get(value).copied().unwrap_or(0), *value));
        let best = best?;
        candidates.retain(|n| attribute(n, key) == best);
        population.retain(|n| attribute(n, key) == best);
    }
    candidates
        .into_iter()
        .min_by(|a, b| (of_service(a), total(a), &a.id).cmp(&(of_service(b), total(b), &b.id)))
}

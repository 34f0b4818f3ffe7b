//! `depends_on` between the services of one stack: the cycles that would keep them all waiting.

use std::collections::{BTreeMap, HashSet};

/// The dependency cycles among `graph` (service -> the services it depends on) found by a
/// depth-first walk: at least one in every group of services that wait on each other, each
/// once, rotated to start at its smallest service. Names outside `graph` are ignored.
pub fn cycles<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    let mut found = Vec::new();
    let mut done = HashSet::new();
    for start in graph.keys() {
        walk(graph, start, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

/// `a -> b -> a`: a cycle as messages write it.
pub fn describe(cycle: &[&str]) -> String {
    let mut names = cycle.to_vec();
    names.extend(cycle.first());
    names.join(" -> ")
}

fn walk<'a>(
    graph: &BTreeMap<&'a str, Vec<&'a str>>,
    node: &'a str,
    path: &mut Vec<&'a str>,
    done: &mut HashSet<&'a str>,
    found: &mut Vec<Vec<&'a str>>,
) {
    if let Some(at) = path.iter().position(|n| *n == node) {
        let mut cycle = path[at..].to_vec();
        let smallest = cycle
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| **n)
            .map_or(0, |(i, _)| i);
        cycle.rotate_left(smallest);
        if !found.contains(&cycle) {
            found.push(cycle);
        }
        return;
    }
    if done.contains(node) {
        return;
    }
    let Some(deps) = graph.get(node) else {
        return;
    };
    path.push(node);
    for dep in deps {
        walk(graph, dep, path, done, found);
    }
    path.pop();
    done.insert(node);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(edges: &[(&'a str, &[&'a str])]) -> BTreeMap<&'a str, Vec<&'a str>> {
        edges.iter().map(|(s, d)| (*s, d.to_vec())).collect()
    }

    #[test]
    fn finds_each_cycle_once_from_its_smallest_service() {
        let g = graph(&[
            ("web", &["api"]),
            ("api", &["db", "cache"]),
            ("db", &["web"]),
            ("cache", &[]),
            ("solo", &["solo"]),
            ("x", &["missing"]),
        ]);
        let found = cycles(&g);
        assert_eq!(found, vec![vec!["api", "db", "web"], vec!["solo"]]);
        assert_eq!(describe(&found[0]), "api -> db -> web -> api");
        assert_eq!(describe(&found[1]), "solo -> solo");
    }

    #[test]
    fn a_diamond_is_no_cycle() {
        let g = graph(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"]), ("d", &[])]);
        assert!(cycles(&g).is_empty());
    }
}

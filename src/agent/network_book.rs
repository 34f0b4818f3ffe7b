//! What the Docker runtime remembers about its networks, so the engine is asked only when the
//! answer may have changed: which networks it may remove once unused, which it knows exist, and
//! which of its own containers use each one. During a rolling update every removed container
//! would otherwise list the engine's networks and their containers, and every created one list
//! the networks again — engine calls that queue behind the starts and stops the update waits for.

use std::collections::{HashMap, HashSet};

/// The runtime's network bookkeeping (pure; the caller holds it behind a mutex).
#[derive(Debug, Default)]
pub struct NetworkBook {
    /// Networks this agent's containers used: the only ones it may remove once unused (other
    /// agents on the same engine have networks of their own in the making).
    candidates: HashSet<String>,
    /// Networks seen to exist (or created) since they were last removed or found missing.
    known: HashSet<String>,
    /// Per network, the tasks whose container this runtime created on it and not yet released.
    users: HashMap<String, HashSet<String>>,
}

impl NetworkBook {
    /// `names` may be removed by this agent once unused.
    pub fn note(&mut self, names: impl IntoIterator<Item = String>) {
        self.candidates.extend(names);
    }

    /// Whether `name` is known to exist (so ensuring it needs no engine call).
    pub fn is_known(&self, name: &str) -> bool {
        self.known.contains(name)
    }

    /// `name` exists on the engine.
    pub fn mark_known(&mut self, name: &str) {
        self.known.insert(name.to_owned());
    }

    /// `name` was removed or found missing: ask the engine next time.
    pub fn forget(&mut self, name: &str) {
        self.known.remove(name);
    }

    /// `name` was removed by this agent.
    pub fn removed(&mut self, name: &str) {
        self.forget(name);
        self.candidates.remove(name);
        self.users.remove(name);
    }

    /// Task `task_id` has a container on `networks`.
    pub fn use_by(&mut self, task_id: &str, networks: impl IntoIterator<Item = String>) {
        for name in networks {
            self.candidates.insert(name.clone());
            self.users
                .entry(name)
                .or_default()
                .insert(task_id.to_owned());
        }
    }

    /// Task `task_id` released its container.
    pub fn release(&mut self, task_id: &str) {
        self.users.retain(|_, tasks| {
            tasks.remove(task_id);
            !tasks.is_empty()
        });
    }

    /// Candidates none of this runtime's own containers uses: the engine must say whether
    /// anything else (a stopped container, an adopted one, another agent's) still does.
    pub fn maybe_unused(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .candidates
            .iter()
            .filter(|name| !self.users.contains_key(*name))
            .cloned()
            .collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::NetworkBook;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_network_is_a_removal_candidate_only_once_its_last_user_released_it() {
        let mut book = NetworkBook::default();
        book.use_by("t1", names(&["web_front", "web_back"]));
        book.use_by("t2", names(&["web_front"]));
        assert!(book.maybe_unused().is_empty(), "both networks in use");
        book.release("t1");
        assert_eq!(book.maybe_unused(), ["web_back"]);
        book.release("t2");
        assert_eq!(book.maybe_unused(), ["web_back", "web_front"]);
        book.removed("web_back");
        assert_eq!(book.maybe_unused(), ["web_front"]);
    }

    #[test]
    fn networks_noted_from_adopted_containers_are_checked_with_the_engine() {
        let mut book = NetworkBook::default();
        book.note(names(&["old_default"]));
        book.release("never-created-here");
        assert_eq!(book.maybe_unused(), ["old_default"]);
    }

    #[test]
    fn a_forgotten_or_removed_network_is_asked_for_again() {
        let mut book = NetworkBook::default();
        book.mark_known("web_default");
        assert!(book.is_known("web_default"));
        book.forget("web_default");
        assert!(!book.is_known("web_default"));
        book.mark_known("web_default");
        book.removed("web_default");
        assert!(!book.is_known("web_default"));
    }
}

//! What one node should run, computed from the store: its tasks and exactly the networks,
//! secrets and configs those tasks need (DESIGN §4: nothing else reaches a node).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use model::service::FileRef;
use model::{ConfigSpec, Kind, NetworkSpec, SecretSpec, SharedSpecs, TaskSpec, TaskStatus};
use wire::{AssignmentChanges, Assignments, FileData, NetworkAttachment, TaskAssignment};

use crate::apply::{LABEL_CONTENT_HASH, content_hash, lookup};
use crate::store::{Index, Record};

/// The assignments of node `node_id` (a Node record id) at the index's last applied entry.
///
/// A task belongs here while its recorded status names the node and it is not
/// terminal-and-acknowledged: once the manager has recorded a terminal state the agent's report
/// has landed, so the task leaves the set and the agent removes its container.
pub fn compute(index: &Index, node_id: &str) -> Assignments {
    let mut cache = Cache::default();
    cache.update(index, node_id);
    cache.assignments(index.last_executed())
}

/// A node's assignments kept from one commit to the next, so a commit costs what it changed: a
/// task's entry is recomputed only when its record's version moved, or when a service, network,
/// secret or config (what an assignment also reads) changed. It also remembers which tasks
/// changed since [`Cache::take_changes`] last ran (what a session sends as an increment).
#[derive(Debug, Default)]
pub struct Cache {
    /// [`Index::changed`] of the kinds an assignment reads besides its task.
    stamp: [u64; 4],
    /// [`Index::changed`] of tasks when last updated (`None`: never updated).
    tasks_stamp: Option<u64>,
    /// Per task id: the record version it was computed at, and the assignment (`None`: the
    /// task is not this node's).
    tasks: HashMap<String, (u64, Option<Arc<TaskAssignment>>)>,
    /// One copy of each service spec the assignments carry (the agent's workers share it too).
    specs: SharedSpecs,
    /// Tasks whose assignment changed (appeared, changed or went) since the last take.
    dirty: BTreeSet<String>,
}

/// The kinds besides tasks that [`assignment`] reads.
const READ_KINDS: [Kind; 4] = [Kind::Service, Kind::Network, Kind::Secret, Kind::Config];

impl Cache {
    /// Brings the cache up to `index`; false when the node's assignments stayed as they were.
    pub fn update(&mut self, index: &Index, node_id: &str) -> bool {
        let stamp = READ_KINDS.map(|kind| index.changed(kind));
        // Another kind moved: every entry is recomputed, but only real differences count.
        let recompute_all = stamp != self.stamp;
        let tasks_stamp = Some(index.changed(Kind::Task));
        // A commit that touched none of what assignments read (a node's status, a stack's
        // bookkeeping) costs nothing, however many tasks and sessions there are.
        if !recompute_all && tasks_stamp == self.tasks_stamp {
            return false;
        }
        self.tasks_stamp = tasks_stamp;
        self.stamp = stamp;
        let mut changed = false;
        let mut previous = std::mem::take(&mut self.tasks);
        for record in index.list(Kind::Task) {
            let entry = match previous.remove(&record.id) {
                Some(entry) if entry.0 == record.version && !recompute_all => entry,
                old => {
                    let new = assignment(index, record, node_id, &mut self.specs).map(Arc::new);
                    if old.and_then(|(_, before)| before) != new {
                        changed = true;
                        self.dirty.insert(record.id.clone());
                    }
                    (record.version, new)
                }
            };
            self.tasks.insert(record.id.clone(), entry);
        }
        for (id, (_, gone)) in previous {
            if gone.is_some() {
                changed = true;
                self.dirty.insert(id);
            }
        }
        self.specs.prune();
        changed
    }

    /// The assignments as last updated, at raft index `applied`.
    pub fn assignments(&self, applied: u64) -> Assignments {
        let mut tasks: Vec<Arc<TaskAssignment>> =
            self.tasks.values().filter_map(|(_, a)| a.clone()).collect();
        tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        Assignments {
            index: applied,
            tasks,
        }
    }

    /// What changed since the last take (or since the cache was made), at raft index `applied`.
    pub fn take_changes(&mut self, applied: u64) -> AssignmentChanges {
        let mut changes = AssignmentChanges {
            index: applied,
            ..AssignmentChanges::default()
        };
        for id in std::mem::take(&mut self.dirty) {
            match self.tasks.get(&id).and_then(|(_, a)| a.clone()) {
                Some(task) => changes.upsert.push(task),
                None => changes.remove.push(id),
            }
        }
        changes
    }
}

fn assignment(
    index: &Index,
    record: &Record,
    node_id: &str,
    specs: &mut SharedSpecs,
) -> Option<TaskAssignment> {
    let status: TaskStatus = record.status_as().ok()?;
    if status.node_id.as_deref() != Some(node_id) || status.state.is_terminal() {
        return None;
    }
    let mut spec: TaskSpec = record.spec_as().ok()?;
    specs.share(&mut spec);
    let service = index.get(Kind::Service, &spec.service_id);
    let service_name = service.map_or_else(
        || service_name_from_task(&record.metadata.name),
        |s| s.metadata.name.clone(),
    );
    let stack = record.metadata.stack.clone();
    let display_name = match (spec.slot, &spec.node_id) {
        (Some(slot), _) => format!("{service_name}.{slot}"),
        (None, Some(node)) => format!("{service_name}.{node}"),
        (None, None) => record.metadata.name.clone(),
    };
    let service_spec = &spec.service_spec;
    let networks = service_spec
        .networks
        .iter()
        .map(|(key, attachment)| {
            let (docker_name, net_spec) = network(index, stack.as_deref(), key);
            let mut aliases = vec![service_name.clone()];
            if let Some(stack) = &stack {
                aliases.push(format!("{stack}_{service_name}"));
            }
            aliases.extend(attachment.aliases.iter().cloned());
            NetworkAttachment {
                key: key.clone(),
                docker_name,
                spec: net_spec,
                aliases,
            }
        })
        .collect();
    let secrets = files(index, stack.as_deref(), Kind::Secret, &service_spec.secrets);
    let configs = files(index, stack.as_deref(), Kind::Config, &service_spec.configs);
    Some(TaskAssignment {
        task_id: record.id.clone(),
        display_name,
        service_id: spec.service_id.clone(),
        service_name,
        stack,
        slot: spec.slot,
        spec: spec.service_spec.clone(),
        spec_version: spec.spec_version,
        desired_state: spec.desired_state,
        status,
        networks,
        secrets,
        configs,
    })
}

/// Task names are `<service>.<slot|node>.<seq>`; used only if the service record is gone.
fn service_name_from_task(task_name: &str) -> String {
    task_name.split('.').next().unwrap_or(task_name).to_owned()
}

/// The Docker network name and spec for a service's network `key`.
fn network(index: &Index, stack: Option<&str>, key: &str) -> (String, NetworkSpec) {
    let Some(record) = lookup(index, Kind::Network, stack, key) else {
        // Not in the store: declared `external` (the stack neither creates nor removes it).
        let spec = NetworkSpec {
            external: true,
            ..NetworkSpec::default()
        };
        return (key.to_owned(), spec);
    };
    let spec: NetworkSpec = record.spec_as().unwrap_or_default();
    let docker_name = match (&spec.name, &record.metadata.stack) {
        (Some(name), _) => name.clone(),
        (None, Some(stack)) => format!("{stack}_{}", record.metadata.name),
        (None, None) => record.metadata.name.clone(),
    };
    (docker_name, spec)
}

/// The secrets or configs `refs` names, with their content. Apply refuses references to unknown
/// objects, so one the store cannot resolve is being deleted; it is left out.
fn files(index: &Index, stack: Option<&str>, kind: Kind, refs: &[FileRef]) -> Vec<FileData> {
    refs.iter()
        .filter_map(|reference| {
            let record = lookup(index, kind, stack, &reference.source)?;
            let content = match kind {
                Kind::Secret => record.spec_as::<SecretSpec>().ok()?.content,
                _ => record.spec_as::<ConfigSpec>().ok()?.content,
            }?;
            let hash = record
                .metadata
                .labels
                .get(LABEL_CONTENT_HASH)
                .cloned()
                .unwrap_or_else(|| content_hash(&content));
            Some(FileData {
                reference: reference.clone(),
                name: record.metadata.name.clone(),
                content_hash: hash,
                content,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;

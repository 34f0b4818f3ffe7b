//! Claims: which running GitOps watcher holds a stack.
//!
//! A watched stack's Stack object carries two labels. `swarm.watched-file` names the file it was
//! last applied from and stays as a record of where the stack came from. `swarm.watcher` is the
//! claim: the node and directory of the watcher that owns the stack right now. Only a claim makes
//! the stack refuse the API; without one, the stack shows as "not watched" and the CLI may change
//! or remove it.
//!
//! A claim must not outlive its watcher, or the stack is stranded (nobody may change it). So it
//! is released (1) by the watcher on a clean shutdown, and (2) when a daemon starts, for every
//! claim of its own node that its watcher (if any) does not hold, which covers a watcher whose
//! daemon was killed and restarted without `--watch` or on another directory. A watcher that
//! starts again on the directory re-applies its files and so claims their stacks again: the file
//! wins, as in Flux or Argo CD.
//!
//! Single manager assumption: only a node's own daemon releases that node's claims. With several
//! managers, a claim of a node that is gone for good would stay until that node is removed; the
//! claim already names its node so that case can be released by whoever removes the node.

use model::{Kind, ObjectMeta, Timestamp};
use wire::Claim;

use super::LABEL_WATCHER;
use crate::store::{Command, Index, Op};

/// Drops the claim from every Stack object whose claim `release` selects, in one command;
/// `None` when there is none. The watched-file label stays: the stack still says where it
/// came from, and a watcher of that directory that starts again takes it back.
pub fn release_command(
    index: &Index,
    release: impl Fn(&Claim) -> bool,
    now: Timestamp,
) -> Option<Command> {
    let ops: Vec<Op> = index
        .list(Kind::Stack)
        .into_iter()
        .filter(|r| Claim::of(r).is_some_and(|c| release(&c)))
        .map(|record| {
            let mut labels = record.metadata.labels.clone();
            labels.remove(LABEL_WATCHER);
            Op::Update {
                kind: Kind::Stack,
                id: record.id.clone(),
                expected_version: record.version,
                metadata: ObjectMeta {
                    labels,
                    ..record.metadata.clone()
                },
                spec: record.spec.clone(),
            }
        })
        .collect();
    (!ops.is_empty()).then_some(Command { at: now, ops })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_round_trips_through_its_label() {
        let claim = Claim {
            node: 7,
            dir: "/srv/stacks:v2".into(),
        };
        assert_eq!(claim.label(), "7:/srv/stacks:v2");
        assert_eq!(Claim::parse(&claim.label()), Some(claim));
        assert_eq!(Claim::parse("/srv/stacks"), None);
        assert_eq!(Claim::parse("x:/srv"), None);
    }
}

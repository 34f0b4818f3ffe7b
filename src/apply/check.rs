//! Refusals before anything is written, as `docker stack deploy` refuses: a service that uses a
//! secret, config, network or service (`depends_on`) that neither the input nor the cluster has,
//! and an ingress port another service already publishes.

use std::collections::{BTreeMap, BTreeSet};

use model::Kind;
use model::service::{PortConfig, PortMode, ServiceSpec};

use super::desired::DesiredObject;
use super::refs::{lookup, used_names};
use super::{ApplyError, kind_word};
use crate::store::{Index, Record};

/// Networks every Docker engine has; a service may name them without declaring them, as
/// docker/cli skips them when it checks external networks.
const PREDEFINED_NETWORKS: [&str; 4] = ["default", "host", "bridge", "none"];

/// Refuses when a service of the input uses an object that does not exist: one the input
/// declares (`external` ones are not among `desired`) or one the cluster holds, found by the
/// rules the dispatcher uses to hand it to a node.
pub fn check_references(
    index: &Index,
    stack: &str,
    desired: &[DesiredObject],
) -> Result<(), ApplyError> {
    let declared: BTreeSet<(Kind, &str)> = desired
        .iter()
        .map(|o| (o.kind, o.metadata.name.as_str()))
        .collect();
    for (service, spec) in services(desired) {
        for kind in [Kind::Secret, Kind::Config, Kind::Network] {
            for used in used_names(&spec, kind) {
                let predefined = kind == Kind::Network && PREDEFINED_NETWORKS.contains(&&*used);
                if predefined
                    || declared.contains(&(kind, used.as_str()))
                    || lookup(index, kind, Some(stack), &used).is_some()
                {
                    continue;
                }
                return Err(missing(kind, &used, service));
            }
        }
        for (dependency, options) in &spec.depends_on {
            if options.required
                && !declared.contains(&(Kind::Service, dependency.as_str()))
                && index.find(Kind::Service, Some(stack), dependency).is_none()
            {
                return Err(missing(Kind::Service, dependency, service));
            }
        }
    }
    check_cycles(index, stack, desired)
}

/// The input together with the services the stack keeps must not wait on each other in a circle
/// (the loader already refuses a cycle within one file).
fn check_cycles(index: &Index, stack: &str, desired: &[DesiredObject]) -> Result<(), ApplyError> {
    let mut specs: BTreeMap<String, ServiceSpec> = index
        .in_stack(stack)
        .into_iter()
        .filter(|r| r.kind == Kind::Service)
        .filter_map(|r| Some((r.metadata.name.clone(), r.spec_as::<ServiceSpec>().ok()?)))
        .collect();
    specs.extend(services(desired).map(|(name, spec)| (name.to_owned(), spec)));
    let graph = specs
        .iter()
        .map(|(name, spec)| {
            let deps = spec.depends_on.keys().map(String::as_str).collect();
            (name.as_str(), deps)
        })
        .collect();
    match model::depends::cycles(&graph).first() {
        Some(cycle) => Err(ApplyError::Invalid(format!(
            "depends_on cycle: {}; none of these services could ever start, so remove one of \
             the dependencies",
            model::depends::describe(cycle)
        ))),
        None => Ok(()),
    }
}

fn missing(kind: Kind, name: &str, service: &str) -> ApplyError {
    ApplyError::MissingReference {
        kind: kind_word(kind),
        name: name.to_owned(),
        service: service.to_owned(),
    }
}

/// Refuses an ingress port another service already publishes: one of another stack, outside
/// any stack, or of this stack but kept (not in the input, no `prune`). The routing mesh
/// publishes it on every node, so both would answer on it. A host-mode port on the same number
/// collides with it on every node too; two host-mode ports only collide on one node, which
/// placement decides, as in Docker.
pub fn check_published_ports(
    index: &Index,
    stack: &str,
    desired: &[DesiredObject],
    prune: bool,
) -> Result<(), ApplyError> {
    let replaced: BTreeSet<&str> = services(desired).map(|(name, _)| name).collect();
    let others: Vec<(&Record, ServiceSpec)> = index
        .list(Kind::Service)
        .into_iter()
        .filter(|r| {
            r.metadata.stack.as_deref() != Some(stack)
                || !(prune || replaced.contains(r.metadata.name.as_str()))
        })
        .filter_map(|r| Some((r, r.spec_as::<ServiceSpec>().ok()?)))
        .collect();
    for (name, spec) in services(desired) {
        // What the stored service publishes already stays: a clash made before this check
        // existed must not block every later change to either stack.
        let stored: Vec<PortConfig> = index
            .find(Kind::Service, Some(stack), name)
            .and_then(|r| r.spec_as::<ServiceSpec>().ok())
            .map(|s| s.ports)
            .unwrap_or_default();
        for port in &spec.ports {
            let Some(published) = port.published else {
                continue;
            };
            if stored.iter().any(|p| same_publication(p, port)) {
                continue;
            }
            for (record, other) in &others {
                let clash = other.ports.iter().any(|theirs| {
                    theirs.published == Some(published)
                        && theirs.protocol == port.protocol
                        && (port.mode == PortMode::Ingress || theirs.mode == PortMode::Ingress)
                });
                if clash {
                    return Err(ApplyError::PortInUse {
                        port: published,
                        protocol: port.protocol.to_string(),
                        service: docker_name(record),
                    });
                }
            }
        }
    }
    Ok(())
}

fn same_publication(a: &PortConfig, b: &PortConfig) -> bool {
    a.published == b.published && a.protocol == b.protocol && a.mode == b.mode
}

/// The services of the input with their specs.
fn services(desired: &[DesiredObject]) -> impl Iterator<Item = (&str, ServiceSpec)> {
    desired
        .iter()
        .filter(|o| o.kind == Kind::Service)
        .filter_map(|o| {
            let spec = serde_json::from_value::<ServiceSpec>(o.spec.clone()).ok()?;
            Some((o.metadata.name.as_str(), spec))
        })
}

/// A service's name as Docker shows it: `<stack>_<name>`.
fn docker_name(record: &Record) -> String {
    match &record.metadata.stack {
        Some(stack) => format!("{stack}_{}", record.metadata.name),
        None => record.metadata.name.clone(),
    }
}

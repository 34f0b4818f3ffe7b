//! Checks that need more than one field or one object: names Docker would refuse, per-object
//! rules from the model, duplicates, references and published-port conflicts.

use std::collections::{BTreeMap, HashMap, HashSet};

use model::names;
use model::service::{PortMode, ServiceSpec};
use model::validate::{Issue, PathSeg};
use model::{Kind, Manifest, ManifestSpec};

use super::context::{Context, Doc};
use super::objects::LoadedObject;
use super::yaml::escape_segment;

/// Where a shared check found a problem on one of the manifests it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The name of the object's stack (`metadata.stack`).
    StackName { object: usize, message: String },
    /// The object's name (`metadata.name`).
    Name { object: usize, message: String },
    /// A place in the object's spec (an empty path: the spec as a whole).
    Spec { object: usize, issue: Issue },
}

/// The checks every input shares, whether it arrives as YAML files (the loader) or as a JSON
/// request body (the API): names Docker would refuse, duplicates, the model's per-object rules
/// and two services publishing the same ingress port. Findings name objects by their position
/// in `manifests`, so each input reports them at its own places (file positions, JSON paths).
pub fn check_manifests<'a>(manifests: impl IntoIterator<Item = &'a Manifest>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen: HashSet<(Kind, Option<&str>, &str)> = HashSet::new();
    let mut stacks_checked = HashSet::new();
    let mut ports: HashMap<(u16, &'static str), &str> = HashMap::new();
    for (object, manifest) in manifests.into_iter().enumerate() {
        let meta = &manifest.metadata;
        let kind = manifest.kind;
        if let Some(stack) = meta.stack.as_deref()
            && stacks_checked.insert(stack)
            && let Err(err) = names::check_stack_name(stack)
        {
            findings.push(Finding::StackName {
                object,
                message: err.to_string(),
            });
        }
        if let Err(err) = check_name(kind, &meta.name, meta.stack.as_deref()) {
            findings.push(Finding::Name {
                object,
                message: err.to_string(),
            });
        }
        if !seen.insert((kind, meta.stack.as_deref(), meta.name.as_str())) {
            findings.push(Finding::Name {
                object,
                message: format!(
                    "{kind} `{}` is defined twice; names are unique per kind",
                    meta.name
                ),
            });
        }
        let issues = match &manifest.spec {
            ManifestSpec::Service(spec) => {
                let mut issues = spec.validate();
                issues.extend(port_conflicts(&meta.name, spec, &mut ports));
                issues
            }
            ManifestSpec::Network(spec) => spec.validate(),
            ManifestSpec::Secret(spec) => spec.validate(),
            ManifestSpec::Config(spec) => spec.validate(),
            _ => Vec::new(),
        };
        findings.extend(
            issues
                .into_iter()
                .map(|issue| Finding::Spec { object, issue }),
        );
    }
    findings
}

/// Every ingress port is published on every node: a second service may not take one that an
/// earlier service of these manifests (recorded in `taken`) already publishes.
fn port_conflicts<'a>(
    service: &'a str,
    spec: &ServiceSpec,
    taken: &mut HashMap<(u16, &'static str), &'a str>,
) -> Vec<Issue> {
    let mut issues = Vec::new();
    for (index, port) in spec.ports.iter().enumerate() {
        let (Some(published), PortMode::Ingress) = (port.published, port.mode) else {
            continue;
        };
        let key = (published, port.protocol.as_str());
        match taken.get(&key) {
            Some(other) if *other != service => issues.push(Issue {
                path: vec![PathSeg::Key("ports".into()), PathSeg::Index(index)],
                message: format!(
                    "published port {published}/{} is already used by service `{other}`; \
                     every ingress port is published on every node, so pick another one",
                    key.1
                ),
            }),
            _ => {
                taken.insert(key, service);
            }
        }
    }
    issues
}

/// Runs every cross-field check over the loaded objects, reporting at their file positions.
pub fn check(ctx: &mut Context, docs: &[Doc], items: &[LoadedObject]) {
    let declared: HashSet<(Kind, String)> = items
        .iter()
        .map(|i| (i.manifest.kind, i.manifest.metadata.name.clone()))
        .collect();
    let docs_of = |item: &LoadedObject| -> Vec<&Doc> {
        item.docs.iter().filter_map(|i| docs.get(*i)).collect()
    };
    let mut findings = check_manifests(items.iter().map(|i| &i.manifest))
        .into_iter()
        .peekable();
    for (object, item) in items.iter().enumerate() {
        let item_docs = docs_of(item);
        while let Some(finding) = findings.next_if(|f| f.object() == object) {
            match finding {
                Finding::StackName { message, .. } | Finding::Name { message, .. } => {
                    ctx.error_key_in(&item_docs, &item.name_at, message);
                }
                Finding::Spec { issue, .. } => {
                    let at = format!("{}{}", item.base, issue_pointer(&issue.path));
                    if issue.path.is_empty() {
                        ctx.object_error_in(&item_docs, &at, issue.message);
                    } else {
                        ctx.error_in(&item_docs, &at, issue.message);
                    }
                }
            }
        }
        if let ManifestSpec::Service(spec) = &item.manifest.spec
            && item.base == "/spec"
        {
            warn_unknown_references(ctx, &item_docs, item, spec, &declared);
        }
    }
    check_dependency_cycles(ctx, docs, items);
}

impl Finding {
    /// Position of the object it is about, in the manifests checked.
    pub fn object(&self) -> usize {
        match self {
            Finding::StackName { object, .. }
            | Finding::Name { object, .. }
            | Finding::Spec { object, .. } => *object,
        }
    }
}

/// A stack's services by name, with what each depends on.
type StackServices<'a> = BTreeMap<&'a str, (&'a LoadedObject, Vec<&'a str>)>;

/// A `depends_on` cycle can never start: each service would wait for the other. Each cycle is
/// reported once, per stack, at the entry of its smallest service that leads into it.
fn check_dependency_cycles(ctx: &mut Context, docs: &[Doc], items: &[LoadedObject]) {
    let mut stacks: BTreeMap<Option<&str>, StackServices> = BTreeMap::new();
    for item in items {
        if let ManifestSpec::Service(spec) = &item.manifest.spec {
            let meta = &item.manifest.metadata;
            let deps = spec.depends_on.keys().map(String::as_str).collect();
            stacks
                .entry(meta.stack.as_deref())
                .or_default()
                .insert(meta.name.as_str(), (item, deps));
        }
    }
    for services in stacks.values() {
        let graph = services
            .iter()
            .map(|(name, (_, deps))| (*name, deps.clone()))
            .collect();
        for cycle in model::depends::cycles(&graph) {
            let Some((item, _)) = services.get(cycle[0]) else {
                continue;
            };
            let item_docs: Vec<&Doc> = item.docs.iter().filter_map(|i| docs.get(*i)).collect();
            let next = cycle.get(1).unwrap_or(&cycle[0]);
            let at = super::objects::depends_on_pointer(&item_docs, &item.base, next);
            ctx.error_in(
                &item_docs,
                &at,
                format!(
                    "depends_on cycle: {}; none of these services could ever start, so remove \
                     one of the dependencies",
                    model::depends::describe(&cycle)
                ),
            );
        }
    }
}

fn check_name(kind: Kind, name: &str, stack: Option<&str>) -> Result<(), names::NameError> {
    match kind {
        Kind::Service => names::check_service_name(name).and_then(|()| match stack {
            Some(stack) => names::check_stack_service_name(stack, name),
            None => Ok(()),
        }),
        Kind::Network => names::check_network_name(name),
        Kind::Secret => names::check_secret_name(name),
        Kind::Config => names::check_config_name(name),
        Kind::Node => names::check_node_name(name),
        Kind::Stack => names::check_stack_name(name),
        Kind::Task | Kind::Cluster => Ok(()),
    }
}

/// A native Service may use objects created earlier in the cluster, so an unknown reference is a
/// warning offline (apply checks it against the cluster).
fn warn_unknown_references(
    ctx: &mut Context,
    docs: &[&Doc],
    item: &LoadedObject,
    spec: &ServiceSpec,
    declared: &HashSet<(Kind, String)>,
) {
    let mut uses: BTreeMap<String, (Kind, String)> = BTreeMap::new();
    for name in spec.networks.keys().filter(|n| *n != "default") {
        uses.insert(
            format!("/networks/{}", escape_segment(name)),
            (Kind::Network, name.clone()),
        );
    }
    for (i, r) in spec.secrets.iter().enumerate() {
        uses.insert(format!("/secrets/{i}"), (Kind::Secret, r.source.clone()));
    }
    for (i, r) in spec.configs.iter().enumerate() {
        uses.insert(format!("/configs/{i}"), (Kind::Config, r.source.clone()));
    }
    for name in spec.depends_on.keys() {
        let at = super::objects::depends_on_pointer(docs, &item.base, name);
        let at = at.strip_prefix(&item.base).unwrap_or(&at).to_owned();
        uses.insert(at, (Kind::Service, name.clone()));
    }
    for (at, (kind, name)) in uses {
        if !declared.contains(&(kind, name.clone()))
            && let Some(doc) = docs.last()
        {
            ctx.warn(
                doc,
                &format!("{}{at}", item.base),
                format!(
                    "{} `{name}` is not defined in these files; it must exist in the cluster when applied",
                    kind.as_str().to_lowercase()
                ),
            );
        }
    }
}

fn issue_pointer(path: &[PathSeg]) -> String {
    path.iter()
        .map(|seg| match seg {
            PathSeg::Key(k) => format!("/{}", escape_segment(k)),
            PathSeg::Index(i) => format!("/{i}"),
        })
        .collect()
}

//! A merged compose file becomes the native objects of one stack.

use std::collections::{BTreeMap, BTreeSet};

use model::service::{MountType, ServiceSpec};
use model::{ConfigSpec, Kind, Manifest, ManifestSpec, NetworkSpec, ObjectMeta, SecretSpec};

use super::context::{Context, Doc};
use super::diagnostic::pointer;
use super::resolve::{self, Env, Finding};

/// Docker's size limits for secret and config data.
pub const SECRET_LIMIT: u64 = 500 * 1024;
pub const CONFIG_LIMIT: u64 = 1000 * 1024;

/// A loaded object and where it was written, for later findings.
pub struct LoadedObject {
    pub manifest: Manifest,
    /// Indices (into the load's documents) of the documents it was built from.
    pub docs: Vec<usize>,
    /// Pointer of the object's spec within those documents (`/services/web`, `/spec`).
    pub base: String,
    /// Pointer of the node naming it (`/services/web`, `/metadata/name`).
    pub name_at: String,
}

/// Reports resolution findings against the documents an object came from.
pub fn report(ctx: &mut Context, docs: &[&Doc], base: &str, findings: Vec<Finding>) {
    for finding in findings {
        let at = format!("{base}{}", finding.pointer);
        if finding.warning {
            if let Some(doc) = docs.last() {
                let owner = docs
                    .iter()
                    .rev()
                    .find(|d| d.doc.value.pointer(&at).is_some())
                    .unwrap_or(doc);
                ctx.warn(owner, &at, finding.message);
            }
        } else {
            ctx.error_in(docs, &at, finding.message);
        }
    }
}

fn meta(name: &str, stack: &str) -> ObjectMeta {
    ObjectMeta {
        name: name.to_owned(),
        labels: BTreeMap::new(),
        stack: Some(stack.to_owned()),
    }
}

fn manifest(kind: Kind, name: &str, stack: &str, spec: ManifestSpec) -> Manifest {
    Manifest {
        api_version: model::API_VERSION.to_owned(),
        kind,
        metadata: meta(name, stack),
        spec,
    }
}

/// Builds the stack's services, networks, secrets and configs from the merged compose file.
pub fn from_compose(
    ctx: &mut Context,
    docs: &[&Doc],
    doc_indices: &[usize],
    mut file: model::compose::ComposeFile,
    stack: &str,
    env: &Env,
) -> Vec<LoadedObject> {
    // A declaration left out for its own error is still declared: using it is no second error.
    for name in written_keys(docs, "networks") {
        file.networks.entry(name).or_insert(None);
    }
    for name in written_keys(docs, "volumes") {
        file.volumes.entry(name).or_insert(None);
    }
    let secrets = declared_names(docs, "secrets", &file.secrets);
    let configs = declared_names(docs, "configs", &file.configs);
    let item = |manifest, base: String| LoadedObject {
        manifest,
        docs: doc_indices.to_vec(),
        name_at: base.clone(),
        base,
    };
    let mut items = Vec::new();
    // `default` is created with default settings when a service uses it undeclared.
    let mut implicit_networks = BTreeSet::new();
    check_depends_on(ctx, docs, &file.services);
    for (name, mut spec) in file.services {
        let base = pointer(&["services", name.as_str()]);
        let mut findings = resolve::service(&name, &mut spec, env);
        let networks_at = format!("{base}/networks");
        let network_at = |network: &str| {
            let at = entry_pointer(docs, &networks_at, network);
            at.strip_prefix(&base).unwrap_or(&at).to_owned()
        };
        findings.extend(resolve_references(
            &name,
            &mut spec,
            Declared {
                networks: &file.networks,
                volumes: &file.volumes,
            },
            stack,
            network_at,
        ));
        report(ctx, docs, &base, findings);
        check_declared(
            ctx,
            docs,
            &base,
            &name,
            "secrets",
            spec.secrets.iter().map(|r| &r.source),
            &secrets,
        );
        check_declared(
            ctx,
            docs,
            &base,
            &name,
            "configs",
            spec.configs.iter().map(|r| &r.source),
            &configs,
        );
        if spec.networks.contains_key("default") && !file.networks.contains_key("default") {
            implicit_networks.insert("default".to_owned());
        }
        items.push(item(
            manifest(Kind::Service, &name, stack, ManifestSpec::Service(spec)),
            base,
        ));
    }
    let mut networks = file.networks;
    for name in implicit_networks {
        networks.entry(name).or_insert(None);
    }
    for (name, spec) in networks {
        let base = pointer(&["networks", name.as_str()]);
        let spec = spec.unwrap_or_default();
        items.push(item(
            manifest(Kind::Network, &name, stack, ManifestSpec::Network(spec)),
            base,
        ));
    }
    for (name, mut spec) in file.secrets {
        let base = pointer(&["secrets", name.as_str()]);
        let mut findings = Vec::new();
        if spec.sources().is_empty() {
            findings.extend(named_only(
                "secret",
                &name,
                spec.name.as_deref(),
                &mut spec.external,
            ));
        }
        findings.extend(secret_data(&mut spec, &name, env));
        report(ctx, docs, &base, findings);
        items.push(item(
            manifest(Kind::Secret, &name, stack, ManifestSpec::Secret(spec)),
            base,
        ));
    }
    for (name, mut spec) in file.configs {
        let base = pointer(&["configs", name.as_str()]);
        let mut findings = Vec::new();
        if spec.sources().is_empty() {
            findings.extend(named_only(
                "config",
                &name,
                spec.name.as_deref(),
                &mut spec.external,
            ));
        }
        findings.extend(config_data(&mut spec, &name, env));
        report(ctx, docs, &base, findings);
        items.push(item(
            manifest(Kind::Config, &name, stack, ManifestSpec::Config(spec)),
            base,
        ));
    }
    items
}

/// The stack's top-level network and volume declarations.
struct Declared<'a> {
    networks: &'a BTreeMap<String, Option<NetworkSpec>>,
    volumes: &'a BTreeMap<String, Option<model::VolumeSpec>>,
}

/// Networks and named volumes a service uses must be declared at the top level, as
/// `docker stack deploy` requires: a typo must not silently create a second network. Only the
/// `default` network may be used undeclared. Volume sources become the real Docker volume names.
fn resolve_references(
    service: &str,
    spec: &mut ServiceSpec,
    Declared { networks, volumes }: Declared<'_>,
    stack: &str,
    network_at: impl Fn(&str) -> String,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for network in spec.networks.keys() {
        if network != "default" && !networks.contains_key(network) {
            findings.push(Finding {
                pointer: network_at(network),
                message: format!(
                    "service `{service}` uses network `{network}`, which is not declared under \
                     top-level `networks:`{}",
                    suggestion(network, networks.keys(), "networks")
                ),
                warning: false,
            });
        }
    }
    for (index, mount) in spec.volumes.iter_mut().enumerate() {
        if mount.kind != MountType::Volume {
            continue;
        }
        let Some(source) = mount.source.clone() else {
            continue;
        };
        let declared = match volumes.get(&source) {
            Some(declared) => declared.clone().unwrap_or_default(),
            None => {
                findings.push(Finding {
                    pointer: format!("/volumes/{index}"),
                    message: format!(
                        "service `{service}` mounts volume `{source}`, which is not declared \
                         under top-level `volumes:`{}",
                        suggestion(&source, volumes.keys(), "volumes")
                    ),
                    warning: false,
                });
                Default::default()
            }
        };
        copy_declaration(mount, &declared);
        let real = match declared.name {
            Some(name) => name,
            None if declared.external => source.clone(),
            None => format!("{stack}_{source}"),
        };
        mount.source = Some(real);
    }
    findings
}

/// What a top-level `volumes:` declaration says about the volume reaches the mount, so the agent
/// creates the volume with its driver, options and labels (or refuses to, when external).
fn copy_declaration(mount: &mut model::service::Mount, declared: &model::VolumeSpec) {
    let options = mount.volume.get_or_insert_with(Default::default);
    if declared.driver.is_some() {
        options.driver.clone_from(&declared.driver);
    }
    if !declared.driver_opts.is_empty() {
        options.driver_opts.clone_from(&declared.driver_opts);
    }
    options.external |= declared.external;
    for (key, value) in &declared.labels {
        // The mount's own labels win, as in `docker stack deploy`.
        options
            .labels
            .entry(key.clone())
            .or_insert_with(|| value.clone());
    }
    if *options == Default::default() {
        mount.volume = None;
    }
}

/// "; did you mean `x`?" when a declared name is close to the one used, else how to declare it.
fn suggestion<'a>(used: &str, declared: impl Iterator<Item = &'a String>, field: &str) -> String {
    let hint = declared_hint(used, declared);
    if hint.is_empty() {
        format!(
            "; declare it (`{field}: {{{used}: {{}}}}`, or `external: true` if it exists already)"
        )
    } else {
        hint
    }
}

/// Every `depends_on` entry names a service of the file, as compose-spec requires.
fn check_depends_on(ctx: &mut Context, docs: &[&Doc], services: &BTreeMap<String, ServiceSpec>) {
    for (name, spec) in services {
        for (dependency, options) in &spec.depends_on {
            if services.contains_key(dependency) {
                continue;
            }
            let at = depends_on_pointer(docs, &pointer(&["services", name]), dependency);
            let close = services.keys().filter(|s| *s != name);
            let hint = declared_hint(dependency, close);
            let message = format!(
                "service `{name}` depends on service `{dependency}`, which is not defined in \
                 this stack{hint}"
            );
            // `required: false` says the dependency may be absent (compose-spec).
            if options.required {
                ctx.error_in(docs, &at, message);
            } else if let Some(doc) = docs.last() {
                ctx.warn(
                    doc,
                    &at,
                    format!("{message}; `required: false`, so it is ignored"),
                );
            }
        }
    }
}

/// "; did you mean `x`?" for a close name, else nothing.
fn declared_hint<'a>(used: &str, declared: impl Iterator<Item = &'a String>) -> String {
    declared
        .map(|d| (strsim::jaro_winkler(used, d), d))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, d)| format!("; did you mean `{d}`?"))
        .unwrap_or_default()
}

/// Where the `depends_on` entry naming `dependency` is written under the service at `base`.
pub fn depends_on_pointer(docs: &[&Doc], base: &str, dependency: &str) -> String {
    entry_pointer(docs, &format!("{base}/depends_on"), dependency)
}

/// Where the entry naming `name` is written in the list-or-map field at `at` (`networks`,
/// `depends_on`): an index in the list form, a key in the map form.
fn entry_pointer(docs: &[&Doc], at: &str, name: &str) -> String {
    let dependency = name;
    for doc in docs.iter().rev() {
        match doc.doc.value.pointer(at) {
            Some(serde_json::Value::Array(list)) => {
                if let Some(i) = list.iter().position(|v| v.as_str() == Some(dependency)) {
                    return format!("{at}/{i}");
                }
            }
            Some(serde_json::Value::Object(map)) if map.contains_key(dependency) => {
                return format!("{at}/{}", super::yaml::escape_segment(dependency));
            }
            _ => {}
        }
    }
    at.to_owned()
}

/// Top-level keys of `field` (`networks`, ...) as written in any of the documents.
fn written_keys(docs: &[&Doc], field: &str) -> BTreeSet<String> {
    docs.iter()
        .filter_map(|d| {
            d.doc
                .value
                .get(field)
                .and_then(serde_json::Value::as_object)
        })
        .flat_map(|map| map.keys().cloned())
        .collect()
}

/// Names declared under top-level `field`, read or left out for an error of their own.
fn declared_names<T>(docs: &[&Doc], field: &str, read: &BTreeMap<String, T>) -> BTreeSet<String> {
    let mut names = written_keys(docs, field);
    names.extend(read.keys().cloned());
    names
}

fn check_declared<'a>(
    ctx: &mut Context,
    docs: &[&Doc],
    base: &str,
    service: &str,
    field: &str,
    used: impl Iterator<Item = &'a String>,
    declared: &BTreeSet<String>,
) {
    let kind = field.trim_end_matches('s');
    for (index, source) in used.enumerate() {
        if !declared.contains(source) {
            ctx.error_in(
                docs,
                &format!("{base}/{field}/{index}"),
                format!(
                    "service `{service}` uses {kind} `{source}`, which is not declared under \
                     top-level `{field}:`; declare it with `file:`, `environment:` or `external: true`"
                ),
            );
        }
    }
}

/// A secret or config with a `name:` but no data can only mean an object that already exists
/// under that name: treat it as external, and say so.
fn named_only(what: &str, key: &str, name: Option<&str>, external: &mut bool) -> Option<Finding> {
    let name = name?;
    *external = true;
    Some(Finding {
        pointer: "/name".into(),
        message: format!(
            "{what} `{key}` has no data (`file`, `environment` or `content`), so it refers to the \
             existing {what} `{name}`, as with `external: true`; say `external: true` to make that explicit"
        ),
        warning: true,
    })
}

/// Config data rules (size, source exists, inside the stack directory).
pub fn config_data(spec: &mut ConfigSpec, name: &str, env: &Env) -> Vec<Finding> {
    resolve::data("config", name, spec.into(), CONFIG_LIMIT, env)
}

/// Secret data rules (size, source exists, inside the stack directory).
pub fn secret_data(spec: &mut SecretSpec, name: &str, env: &Env) -> Vec<Finding> {
    resolve::data("secret", name, spec.into(), SECRET_LIMIT, env)
}

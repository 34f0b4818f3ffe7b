//! What the store should hold for each manifest: metadata with the stack's labels, the spec as
//! canonical JSON, and the content hash of secrets and configs.

use std::collections::{BTreeMap, BTreeSet};

use model::service::ServiceSpec;
use model::{Kind, Manifest, ManifestSpec, ObjectMeta};
use serde_json::Value;

use super::refs::{content_hash, used_names};
use super::{
    ApplyError, LABEL_CONFIG_PREFIX, LABEL_CONTENT_HASH, LABEL_NAMESPACE, LABEL_SECRET_PREFIX,
    kind_word,
};

/// One object as the store should hold it.
#[derive(Clone, Debug)]
pub struct DesiredObject {
    pub kind: Kind,
    pub metadata: ObjectMeta,
    pub spec: Value,
}

/// Builds the desired objects of `stack`. External secrets, configs and networks are left out:
/// they exist already and the stack neither creates nor removes them.
pub fn desired_objects(
    stack: &str,
    manifests: &[Manifest],
) -> Result<Vec<DesiredObject>, ApplyError> {
    let mut objects = Vec::new();
    let mut seen = BTreeSet::new();
    // Content hashes of the stack's own secrets and configs, for the service labels.
    let mut hashes: BTreeMap<(Kind, String), String> = BTreeMap::new();
    let renames = external_names(manifests);
    for manifest in manifests {
        let kind = manifest.kind;
        let name = manifest.metadata.name.clone();
        let word = kind_word(kind);
        match kind {
            Kind::Task => {
                return Err(ApplyError::Invalid(
                    "tasks are created by swarm from services; write a Service instead".into(),
                ));
            }
            // The Stack object is written from the request itself (source, members).
            Kind::Stack if name == stack => continue,
            Kind::Stack => {
                return Err(ApplyError::Invalid(format!(
                    "the input declares stack `{name}` but is applied as stack `{stack}`; \
                     apply it with --stack {name}"
                )));
            }
            _ => {}
        }
        if kind != Kind::Node
            && let Some(declared) = manifest.metadata.stack.as_deref()
            && declared != stack
        {
            return Err(ApplyError::Invalid(format!(
                "{word} `{name}` belongs to stack `{declared}` but is applied as stack `{stack}`; \
                 apply it with --stack {declared} or remove its `metadata.stack`"
            )));
        }
        if !seen.insert((kind, name.clone())) {
            return Err(ApplyError::Invalid(format!(
                "{word} `{name}` is declared twice; names are unique per kind within a stack"
            )));
        }
        let mut metadata = manifest.metadata.clone();
        let mut spec = manifest.spec.clone();
        match &mut spec {
            ManifestSpec::Secret(s) if s.external => continue,
            ManifestSpec::Config(c) if c.external => continue,
            ManifestSpec::Network(n) if n.external => continue,
            ManifestSpec::Service(s) => refer_by_real_names(s, &renames),
            ManifestSpec::Secret(s) => {
                let hash = inline_content(&word, &name, &s.file, &s.environment, &s.content)?;
                metadata
                    .labels
                    .insert(LABEL_CONTENT_HASH.into(), hash.clone());
                hashes.insert((kind, name.clone()), hash);
            }
            ManifestSpec::Config(c) => {
                let hash = inline_content(&word, &name, &c.file, &c.environment, &c.content)?;
                metadata
                    .labels
                    .insert(LABEL_CONTENT_HASH.into(), hash.clone());
                hashes.insert((kind, name.clone()), hash);
            }
            _ => {}
        }
        if kind == Kind::Node {
            metadata.stack = None;
        } else {
            metadata.stack = Some(stack.to_owned());
            metadata
                .labels
                .insert(LABEL_NAMESPACE.into(), stack.to_owned());
        }
        let spec = serde_json::to_value(&spec)
            .map_err(|e| ApplyError::Invalid(format!("{word} `{name}`: {e}")))?;
        objects.push(DesiredObject {
            kind,
            metadata,
            spec,
        });
    }
    for object in objects.iter_mut().filter(|o| o.kind == Kind::Service) {
        let Ok(spec) = serde_json::from_value::<model::ServiceSpec>(object.spec.clone()) else {
            continue;
        };
        for (kind, prefix) in [
            (Kind::Secret, LABEL_SECRET_PREFIX),
            (Kind::Config, LABEL_CONFIG_PREFIX),
        ] {
            for used in used_names(&spec, kind) {
                if let Some(hash) = hashes.get(&(kind, used.clone())) {
                    object
                        .metadata
                        .labels
                        .insert(format!("{prefix}{used}"), hash.clone());
                }
            }
        }
    }
    Ok(objects)
}

/// External objects declared under another `name:` than their key, by (kind, key).
fn external_names(manifests: &[Manifest]) -> BTreeMap<(Kind, String), String> {
    manifests
        .iter()
        .filter_map(|m| {
            let name = match &m.spec {
                ManifestSpec::Secret(s) if s.external => s.name.as_ref(),
                ManifestSpec::Config(c) if c.external => c.name.as_ref(),
                ManifestSpec::Network(n) if n.external => n.name.as_ref(),
                _ => None,
            }?;
            Some(((m.kind, m.metadata.name.clone()), name.clone()))
        })
        .collect()
}

/// External objects are not stored with the stack, so a service names them by their real name
/// (Docker's `SecretName`); a secret or config file keeps the key as its default file name.
fn refer_by_real_names(spec: &mut ServiceSpec, renames: &BTreeMap<(Kind, String), String>) {
    for (kind, refs) in [
        (Kind::Secret, &mut spec.secrets),
        (Kind::Config, &mut spec.configs),
    ] {
        for reference in refs.iter_mut() {
            if let Some(real) = renames.get(&(kind, reference.source.clone())) {
                let key = std::mem::replace(&mut reference.source, real.clone());
                reference.target.get_or_insert(key);
            }
        }
    }
    spec.networks = std::mem::take(&mut spec.networks)
        .into_iter()
        .map(|(key, attachment)| {
            let real = renames.get(&(Kind::Network, key.clone())).cloned();
            (real.unwrap_or(key), attachment)
        })
        .collect();
}

/// The content hash of inline data; data still given by reference cannot be stored.
fn inline_content(
    word: &str,
    name: &str,
    file: &Option<String>,
    environment: &Option<String>,
    content: &Option<String>,
) -> Result<String, ApplyError> {
    if let Some(file) = file {
        return Err(ApplyError::Invalid(format!(
            "{word} `{name}` reads file `{file}`, which the manager cannot read; send the content \
             inline (`swarmctl apply` reads files for you)"
        )));
    }
    if let Some(variable) = environment {
        return Err(ApplyError::Invalid(format!(
            "{word} `{name}` reads environment variable `{variable}`, which the manager does not \
             share; send the content inline (`swarmctl apply` reads it for you)"
        )));
    }
    match content {
        Some(content) => Ok(content_hash(content)),
        None => Err(ApplyError::Invalid(format!(
            "{word} `{name}` has no data; give it `content`, or `external: true` if it exists already"
        ))),
    }
}

/// The spec as this version of swarm writes it, so records written by an older version compare
/// equal when they mean the same thing.
pub fn canonical(kind: Kind, spec: &Value) -> Value {
    ManifestSpec::from_value(kind, spec.clone())
        .and_then(|typed| serde_json::to_value(&typed))
        .unwrap_or_else(|_| spec.clone())
}

/// `desired` with the stored service's restart counter kept: `service restart` bumped it through
/// the API, and a file that never mentions it must not undo that (and roll every task again),
/// as `docker stack deploy` keeps `ForceUpdate`.
pub fn keep_restart_counter(
    record: &crate::store::Record,
    desired: &DesiredObject,
) -> DesiredObject {
    let mut object = desired.clone();
    let stored = record
        .spec
        .get("labels")
        .and_then(|labels| labels.get(super::LABEL_RESTART));
    if let (Kind::Service, Some(counter)) = (desired.kind, stored)
        && let Some(spec) = object.spec.as_object_mut()
    {
        let labels = spec
            .entry("labels")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(labels) = labels.as_object_mut() {
            labels
                .entry(super::LABEL_RESTART)
                .or_insert_with(|| counter.clone());
        }
    }
    object
}

//! Request bodies of `POST /v1/apply`: JSON manifests (what swarmctl sends, already loaded
//! client-side) or a YAML stack file loaded here. Everything is validated before anything is
//! planned, so an invalid request never reaches the store.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use model::{Kind, Manifest, ManifestSpec, StackSource, names};
use serde_json::Value;
use wire::{ApplyBody, Detail};

use super::error::ApiError;
use crate::manifest::diagnostic::field_path;
use crate::manifest::objects::{CONFIG_LIMIT, SECRET_LIMIT};
use crate::manifest::{self, LoadOptions, yaml};

/// A validated request: the stack, its manifests, their source and loader warnings.
pub struct Input {
    pub stack: Option<String>,
    pub manifests: Vec<Manifest>,
    pub source: StackSource,
    pub warnings: Vec<String>,
}

/// What JSON details call the request body.
const REQUEST: &str = "<request>";
/// Relative references of a YAML body resolve here: a directory that does not exist, so the
/// manager never reads its own files (or `.env`) on a client's behalf.
const NO_DIR: &str = "/nonexistent/swarm-api-request";

/// Parses and checks a JSON body.
pub fn from_json(bytes: &[u8]) -> Result<Input, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body: ApplyBody = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        invalid(vec![Detail {
            file: REQUEST.into(),
            line: inner.line() as u64,
            column: inner.column() as u64,
            path: if path == "." { String::new() } else { path },
            message: inner.to_string(),
        }])
    })?;
    let details = check_manifests(&body.manifests);
    if !details.is_empty() {
        return Err(invalid(details));
    }
    Ok(Input {
        stack: body.stack,
        manifests: body.manifests,
        source: body.source,
        warnings: Vec::new(),
    })
}

/// Loads a YAML (compose or native) body with the loader, refusing references to files.
pub fn from_yaml(bytes: &[u8], stack: Option<String>) -> Result<Input, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the request body is not UTF-8: {e}")))?;
    let refused = file_references(text);
    if !refused.is_empty() {
        return Err(invalid(refused));
    }
    let options = LoadOptions {
        stack: stack.clone(),
        allow_outside_files: false,
        inline_files: true,
        env: HashMap::new(),
    };
    let loaded = manifest::load_text(REQUEST, text, Path::new(NO_DIR), &options);
    if !loaded.is_valid() {
        let details = loaded
            .reports
            .iter()
            .flat_map(|r| r.errors.iter().map(Detail::from))
            .collect();
        return Err(invalid(details));
    }
    let warnings = loaded
        .reports
        .iter()
        .flat_map(|r| r.warnings.iter().map(|w| format!("warning: {w}")))
        .collect();
    Ok(Input {
        stack: stack.or(loaded.stack),
        manifests: loaded.manifests,
        source: StackSource {
            files: Vec::new(),
            content_hash: Some(crate::apply::content_hash(text)),
            git_commit: None,
        },
        warnings,
    })
}

fn invalid(details: Vec<Detail>) -> ApiError {
    let message = match details.as_slice() {
        [one] => format!("invalid manifest: {}", describe(one)),
        many => format!(
            "invalid manifests: {} problems, the first: {}",
            many.len(),
            many.first().map(describe).unwrap_or_default()
        ),
    };
    ApiError::Invalid { message, details }
}

fn describe(d: &Detail) -> String {
    if d.path.is_empty() {
        d.message.clone()
    } else {
        format!("{}: {}", d.path, d.message)
    }
}

/// Checks JSON manifests as the loader would have: names, per-object rules, duplicates.
fn check_manifests(manifests: &[Manifest]) -> Vec<Detail> {
    let mut details = Vec::new();
    let mut seen = HashSet::new();
    for (i, m) in manifests.iter().enumerate() {
        let base = format!("manifests[{i}]");
        let mut push = |path: String, message: String| {
            details.push(Detail {
                file: REQUEST.into(),
                line: 0,
                column: 0,
                path,
                message,
            })
        };
        let name = &m.metadata.name;
        let stack = m.metadata.stack.as_deref();
        let checked = match m.kind {
            Kind::Service => names::check_service_name(name)
                .and_then(|()| stack.map_or(Ok(()), |s| names::check_stack_service_name(s, name))),
            Kind::Network => names::check_network_name(name),
            Kind::Secret => names::check_secret_name(name),
            Kind::Config => names::check_config_name(name),
            Kind::Node => names::check_node_name(name),
            Kind::Stack => names::check_stack_name(name),
            // Not a name problem: the kind itself is not accepted.
            Kind::Task | Kind::Cluster => Ok(()),
        };
        if let Err(err) = checked {
            push(format!("{base}.metadata.name"), err.to_string());
        }
        if m.kind == Kind::Task {
            push(
                format!("{base}.metadata.name"),
                "tasks are created by swarm from services; write a Service instead".to_owned(),
            );
        }
        if m.kind == Kind::Cluster {
            push(
                format!("{base}.kind"),
                "the cluster object is managed by swarm; use `swarmctl cluster`".to_owned(),
            );
        }
        if m.spec.kind() != m.kind {
            push(
                format!("{base}.spec"),
                format!("the spec is not a {} spec", m.kind),
            );
        }
        if !seen.insert((m.kind, stack.map(str::to_owned), name.clone())) {
            push(
                format!("{base}.metadata.name"),
                format!(
                    "{} `{name}` is defined twice; names are unique per kind",
                    m.kind
                ),
            );
        }
        let content = match &m.spec {
            ManifestSpec::Secret(spec) => spec.content.as_ref().map(|c| (c.len(), SECRET_LIMIT)),
            ManifestSpec::Config(spec) => spec.content.as_ref().map(|c| (c.len(), CONFIG_LIMIT)),
            _ => None,
        };
        if let Some((size, limit)) = content
            && size as u64 > limit
        {
            push(
                format!("{base}.spec.content"),
                format!(
                    "{} `{name}` is {size} bytes, over Docker's limit of {limit} bytes",
                    m.kind
                ),
            );
        }
        let issues = match &m.spec {
            ManifestSpec::Service(spec) => spec.validate(),
            ManifestSpec::Network(spec) => spec.validate(),
            ManifestSpec::Secret(spec) => spec.validate(),
            ManifestSpec::Config(spec) => spec.validate(),
            _ => Vec::new(),
        };
        for issue in issues {
            let path = issue.path_string();
            let at = if path.is_empty() {
                format!("{base}.spec")
            } else {
                format!("{base}.spec.{path}")
            };
            push(at, issue.message);
        }
    }
    details
}

/// `file:`, `environment:` and `env_file:` name things on the client's machine; a manager must
/// not read its own files or environment in their place.
fn file_references(text: &str) -> Vec<Detail> {
    let Ok(docs) = yaml::parse(text, &HashMap::new()) else {
        return Vec::new(); // the loader reports the syntax error with its position
    };
    let mut details = Vec::new();
    for doc in &docs {
        let value = &doc.value;
        let mut pointers = Vec::new();
        match value.get("kind").and_then(Value::as_str) {
            Some("Secret" | "Config") => {
                pointers.extend(["/spec/file", "/spec/environment"].map(String::from))
            }
            Some("Service") => pointers.push("/spec/env_file".into()),
            Some(_) => {}
            None => {
                for section in ["secrets", "configs"] {
                    for name in keys(value, section) {
                        let at = format!("/{section}/{}", yaml::escape_segment(&name));
                        pointers.push(format!("{at}/file"));
                        pointers.push(format!("{at}/environment"));
                    }
                }
                for name in keys(value, "services") {
                    pointers.push(format!(
                        "/services/{}/env_file",
                        yaml::escape_segment(&name)
                    ));
                }
            }
        }
        for pointer in pointers.into_iter().filter(|p| value.pointer(p).is_some()) {
            let pos = doc.positions.value(&pointer);
            details.push(Detail {
                file: REQUEST.into(),
                line: pos.line,
                column: pos.column,
                path: field_path(value, &pointer),
                message: "the manager does not read files or environment variables for a \
                          request; send the content inline (`swarmctl apply -f` reads them for you)"
                    .into(),
            });
        }
    }
    details
}

fn keys(value: &Value, section: &str) -> Vec<String> {
    value
        .get(section)
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

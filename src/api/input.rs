//! Request bodies of `POST /v1/apply`: JSON manifests (what swarmctl sends, already loaded
//! client-side) or a YAML stack file loaded here. Everything is validated before anything is
//! planned, so an invalid request never reaches the store.

use std::collections::HashMap;
use std::path::Path;

use model::{Kind, Manifest, ManifestSpec, StackSource};
use serde_json::Value;
use wire::{ApplyBody, Detail};

use super::error::ApiError;
use crate::manifest::diagnostic::field_path;
use crate::manifest::objects::{CONFIG_LIMIT, SECRET_LIMIT};
use crate::manifest::semantic::{self, Finding};
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

/// Checks JSON manifests with the loader's own checks ([`semantic::check_manifests`]), plus
/// what the loader's parsing guarantees for YAML: no tasks, specs of their kind, content sizes.
fn check_manifests(manifests: &[Manifest]) -> Vec<Detail> {
    let detail = |path: String, message: String| Detail {
        file: REQUEST.into(),
        line: 0,
        column: 0,
        path,
        message,
    };
    let mut details: Vec<Detail> = semantic::check_manifests(manifests)
        .into_iter()
        .map(|finding| match finding {
            Finding::StackName { object, message } => {
                detail(format!("manifests[{object}].metadata.stack"), message)
            }
            Finding::Name { object, message } => {
                detail(format!("manifests[{object}].metadata.name"), message)
            }
            Finding::Spec { object, issue } => {
                let path = issue.path_string();
                let at = if path.is_empty() {
                    format!("manifests[{object}].spec")
                } else {
                    format!("manifests[{object}].spec.{path}")
                };
                detail(at, issue.message)
            }
        })
        .collect();
    for (i, m) in manifests.iter().enumerate() {
        let base = format!("manifests[{i}]");
        let name = &m.metadata.name;
        if m.kind == Kind::Task {
            details.push(detail(
                format!("{base}.metadata.name"),
                "tasks are created by swarm from services; write a Service instead".to_owned(),
            ));
        }
        if m.kind == Kind::Cluster {
            details.push(detail(
                format!("{base}.kind"),
                "the cluster object is managed by swarm; use `swarmctl cluster`".to_owned(),
            ));
        }
        if m.spec.kind() != m.kind {
            details.push(detail(
                format!("{base}.spec"),
                format!("the spec is not a {} spec", m.kind),
            ));
        }
        let content = match &m.spec {
            ManifestSpec::Secret(spec) => spec.content.as_ref().map(|c| (c.len(), SECRET_LIMIT)),
            ManifestSpec::Config(spec) => spec.content.as_ref().map(|c| (c.len(), CONFIG_LIMIT)),
            _ => None,
        };
        if let Some((size, limit)) = content
            && size as u64 > limit
        {
            details.push(detail(
                format!("{base}.spec.content"),
                format!(
                    "{} `{name}` is {size} bytes, over Docker's limit of {limit} bytes",
                    m.kind
                ),
            ));
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

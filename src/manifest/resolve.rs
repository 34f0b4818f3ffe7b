//! Turning what the files say into what the cluster needs: `env_file` contents, environment
//! pass-through, host paths, `file:` references read safely, volume names, defaults.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use model::service::{Mount, MountType, ServiceMode, ServiceSpec};
use model::{ConfigSpec, SecretSpec};

use super::diagnostic::pointer;
use super::limits;
use super::source::{RefError, parse_dotenv, read_limited, resolve_inside};

/// What resolution needs to know about the load.
pub struct Env<'a> {
    /// Variables for interpolation and pass-through: `.env` overlaid by the process environment.
    pub vars: &'a HashMap<String, String>,
    /// Directory relative references resolve against (the first stack file's directory).
    pub dir: &'a Path,
    pub allow_outside_files: bool,
    /// Read `file:`/`environment:` sources of secrets and configs into `content` (for apply);
    /// otherwise keep the resolved path (for render and validate).
    pub inline_files: bool,
}

/// A problem found while resolving, at a JSON pointer relative to the object's spec.
#[derive(Debug)]
pub struct Finding {
    pub pointer: String,
    pub message: String,
    pub warning: bool,
}

fn error(at: &[&str], message: String) -> Finding {
    Finding {
        pointer: pointer(at),
        message,
        warning: false,
    }
}

fn warning(at: &[&str], message: String) -> Finding {
    Finding {
        pointer: pointer(at),
        message,
        warning: true,
    }
}

/// Resolves a service spec in place: env files, pass-through variables, host paths, defaults.
pub fn service(name: &str, spec: &mut ServiceSpec, env: &Env) -> Vec<Finding> {
    let mut findings = Vec::new();
    resolve_env_files(spec, env, &mut findings);
    resolve_pass_through(name, spec, env, &mut findings);
    for (index, mount) in spec.volumes.iter_mut().enumerate() {
        resolve_bind_source(mount, env.dir);
        if mount.bind.as_ref().and_then(|b| b.create_host_path) == Some(true) {
            let at = index.to_string();
            findings.push(warning(
                &["volumes", &at, "bind", "create_host_path"],
                format!(
                    "`create_host_path` is ignored by swarm (service `{name}`): a stack never \
                     creates directories on a node; create {} on every node that runs it",
                    mount.source.as_deref().unwrap_or("the path")
                ),
            ));
        }
    }
    if spec.networks.is_empty() {
        spec.networks.insert("default".into(), Default::default());
    }
    let deploy = spec.deploy.get_or_insert_with(Default::default);
    if deploy.mode == ServiceMode::Replicated && deploy.replicas.is_none() {
        deploy.replicas = Some(1);
    }
    findings
}

fn resolve_env_files(spec: &mut ServiceSpec, env: &Env, findings: &mut Vec<Finding>) {
    let files = std::mem::take(&mut spec.env_file);
    // Later env files override earlier ones; `environment:` overrides them all.
    let mut from_files: HashMap<String, String> = HashMap::new();
    for (index, file) in files.iter().enumerate() {
        let idx = index.to_string();
        let at = ["env_file", idx.as_str()];
        let path = match resolve_inside(env.dir, &file.path, env.allow_outside_files) {
            Ok(path) => path,
            Err(RefError::NotFound(_)) if !file.required => continue,
            Err(err) => {
                findings.push(missing_or_refused(&at, "env_file", err, env));
                continue;
            }
        };
        let text = match read_limited(&path, limits::MAX_FILE_BYTES) {
            Ok(text) => text,
            Err(message) => {
                findings.push(error(&at, format!("env_file `{}`: {message}", file.path)));
                continue;
            }
        };
        match parse_dotenv(&text) {
            Ok(vars) => from_files.extend(vars),
            Err((line, message)) => findings.push(error(
                &at,
                format!("env_file `{}` line {line}: {message}", file.path),
            )),
        }
    }
    for (key, value) in from_files {
        spec.environment.entry(key).or_insert(Some(value));
    }
}

fn resolve_pass_through(
    name: &str,
    spec: &mut ServiceSpec,
    env: &Env,
    findings: &mut Vec<Finding>,
) {
    let unset: Vec<String> = spec
        .environment
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    for key in unset {
        match env.vars.get(&key) {
            Some(value) => {
                spec.environment.insert(key, Some(value.clone()));
            }
            None => {
                spec.environment.remove(&key);
                findings.push(warning(
                    &["environment"],
                    format!(
                        "`{key}` (service `{name}`) has no value and is not set in the \
                         environment or .env; it is left unset in the container"
                    ),
                ));
            }
        }
    }
}

/// Host paths of bind mounts are relative to the stack file, as in Compose; `~` is `$HOME`.
fn resolve_bind_source(mount: &mut Mount, dir: &Path) {
    if mount.kind != MountType::Bind {
        return;
    }
    let Some(source) = mount.source.as_deref() else {
        return;
    };
    let expanded = match source.strip_prefix('~') {
        Some(rest) => match std::env::var("HOME") {
            Ok(home) => PathBuf::from(home).join(rest.trim_start_matches('/')),
            Err(_) => PathBuf::from(source),
        },
        None => PathBuf::from(source),
    };
    let absolute = if expanded.is_absolute() {
        expanded
    } else {
        absolute_dir(dir).join(expanded)
    };
    mount.source = Some(normalize(&absolute).display().to_string());
}

fn absolute_dir(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|cwd| cwd.join(dir))
            .unwrap_or_else(|_| dir.to_path_buf())
    })
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A missing file only matters once its content is needed (apply); offline it is a warning, since
/// secret files are often kept out of version control. An escaping path is always an error.
fn missing_or_refused(at: &[&str], what: &str, err: RefError, env: &Env) -> Finding {
    match err {
        RefError::NotFound(message) if !env.inline_files => warning(
            at,
            format!("{what} {message}; it must exist when the stack is applied"),
        ),
        other => error(at, format!("{what} {other}")),
    }
}

/// Where the data of a secret or config comes from, as the spec gives it.
pub struct DataSource<'a> {
    pub file: &'a mut Option<String>,
    pub environment: &'a mut Option<String>,
    pub content: &'a mut Option<String>,
}

impl<'a> From<&'a mut SecretSpec> for DataSource<'a> {
    fn from(spec: &'a mut SecretSpec) -> Self {
        DataSource {
            file: &mut spec.file,
            environment: &mut spec.environment,
            content: &mut spec.content,
        }
    }
}

impl<'a> From<&'a mut ConfigSpec> for DataSource<'a> {
    fn from(spec: &'a mut ConfigSpec) -> Self {
        DataSource {
            file: &mut spec.file,
            environment: &mut spec.environment,
            content: &mut spec.content,
        }
    }
}

/// Checks (and with `inline_files`, reads) the data of a secret or config. `limit` is Docker's
/// size limit for the kind (500 KiB for secrets, 1000 KiB for configs).
pub fn data(what: &str, name: &str, source: DataSource<'_>, limit: u64, env: &Env) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(file) = source.file.clone() {
        match resolve_inside(env.dir, &file, env.allow_outside_files) {
            Ok(path) => match read_limited(&path, limit) {
                Ok(text) => {
                    if env.inline_files {
                        *source.content = Some(text);
                        *source.file = None;
                    } else {
                        *source.file = Some(path.display().to_string());
                    }
                }
                Err(message) => findings.push(error(
                    &["file"],
                    format!("{what} `{name}` file `{file}`: {message}"),
                )),
            },
            Err(err) => findings.push(missing_or_refused(
                &["file"],
                &format!("{what} `{name}` file"),
                err,
                env,
            )),
        }
    }
    if let Some(variable) = source.environment.clone() {
        match env.vars.get(&variable) {
            Some(value) => {
                if env.inline_files {
                    *source.content = Some(value.clone());
                    *source.environment = None;
                }
            }
            None => findings.push(error(
                &["environment"],
                format!(
                    "{what} `{name}` reads environment variable `{variable}`, which is not set; \
                     export it or add it to .env"
                ),
            )),
        }
    }
    if let Some(content) = source.content.as_deref()
        && content.len() as u64 > limit
    {
        findings.push(error(
            &["content"],
            format!(
                "{what} `{name}` is {} bytes, over Docker's limit of {limit} bytes",
                content.len()
            ),
        ));
    }
    findings
}

//! Compose and native manifest loading: YAML, interpolation, merges, schemas, semantic checks.
//!
//! One entry point, [`load`], used by `swarmctl validate`, `render` and (later) `apply`: it reads
//! a group of inputs, reports every problem with file, line, column and field path, and yields
//! normalised native manifests only when nothing is wrong.

pub mod compose;
pub mod context;
pub mod diagnostic;
pub mod limits;
pub mod merge;
pub mod naming;
pub mod native;
pub mod objects;
pub mod prune;
pub mod resolve;
pub mod schema_check;
pub mod schema_walk;
pub mod semantic;
pub mod source;
pub mod variables;
pub mod yaml;

use std::collections::HashMap;
use std::path::Path;

use model::Manifest;
use serde_json::Value;

use context::{Context, Doc};
pub use diagnostic::{Diagnostic, FileReport};
pub use source::{PathArg, expand};

/// How to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Stack name; defaults to the compose `name:`, else the first file's name (see [`naming`]).
    pub stack: Option<String>,
    /// Allow `file:` and `env_file:` references outside the stack directory.
    pub allow_outside_files: bool,
    /// Read secret/config data into the manifests (apply) instead of keeping paths (render).
    pub inline_files: bool,
    /// The process environment; `.env` next to the first file fills in what it lacks.
    pub env: HashMap<String, String>,
}

/// The result of loading one group of inputs.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The stack the compose input forms, when there is compose input.
    pub stack: Option<String>,
    /// Normalised manifests; empty when any report has an error.
    pub manifests: Vec<Manifest>,
    /// One report per input file.
    pub reports: Vec<FileReport>,
}

impl Loaded {
    /// Whether every input is valid.
    pub fn is_valid(&self) -> bool {
        self.reports.iter().all(|r| r.errors.is_empty())
    }
}

/// Loads one group of inputs (several files merge into one stack, like `-c a.yml -c b.yml`).
pub fn load(args: &[PathArg], options: &LoadOptions) -> Loaded {
    let mut ctx = Context::default();
    let mut sources = Vec::new();
    for arg in args {
        match source::read(arg) {
            Ok(src) => sources.push(src),
            Err(err) => {
                let file = ctx.add_file(&err.name);
                ctx.error_at(file, yaml::Pos { line: 1, column: 1 }, "", err.message);
            }
        }
    }
    load_sources(ctx, &sources, options)
}

/// Loads manifests given as text (an API request body, a watched file already read). `name` is
/// what messages call it; relative `file:` references resolve against `dir`.
pub fn load_text(name: &str, text: &str, dir: &Path, options: &LoadOptions) -> Loaded {
    let source = source::Source {
        name: name.to_owned(),
        dir: dir.to_path_buf(),
        text: text.to_owned(),
    };
    load_sources(Context::default(), &[source], options)
}

fn load_sources(mut ctx: Context, sources: &[source::Source], options: &LoadOptions) -> Loaded {
    let Some(first) = sources.first() else {
        return finish(ctx, None, Vec::new());
    };
    let dir = first.dir.clone();
    let vars = environment(&dir, options, &mut ctx);

    let mut docs = Vec::new();
    for src in sources {
        if src.text.len() as u64 > limits::MAX_FILE_BYTES {
            let file = ctx.add_file(&src.name);
            let limit = limits::MAX_FILE_BYTES / (1024 * 1024);
            ctx.error_at(
                file,
                yaml::Pos { line: 1, column: 1 },
                "",
                format!("input is larger than {limit} MiB"),
            );
            continue;
        }
        let file = ctx.add_file(&src.name);
        for (pos, name) in variables::unset_references(&src.text, &vars) {
            ctx.warn_at(
                file,
                pos,
                "",
                format!("variable `{name}` is not set; an empty string is used in its place"),
            );
        }
        match yaml::parse(&src.text, &vars) {
            Ok(parsed) => {
                for doc in parsed {
                    let index = docs.len();
                    docs.push(Doc { file, index, doc });
                }
            }
            Err(err) => ctx.error_at(file, err.pos, "", err.message),
        }
    }

    let (native_docs, compose_docs): (Vec<&mut Doc>, Vec<&mut Doc>) =
        docs.iter_mut().partition(|d| is_native(&d.doc.value));
    for doc in native_docs {
        let kind = doc
            .doc
            .value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        schema_check::coerce_interpolated(&kind, &mut doc.doc.value, &doc.doc.interpolated);
    }
    for doc in compose_docs {
        schema_check::coerce_interpolated("compose", &mut doc.doc.value, &doc.doc.interpolated);
    }

    let env = resolve::Env {
        vars: &vars,
        dir: &dir,
        allow_outside_files: options.allow_outside_files,
        inline_files: options.inline_files,
    };
    let mut items = Vec::new();
    let compose_indices: Vec<usize> = (0..docs.len())
        .filter(|i| !is_native(&docs[*i].doc.value))
        .collect();
    let compose: Vec<&Doc> = compose_indices.iter().map(|i| &docs[*i]).collect();
    let mut stack = None;
    if !compose.is_empty()
        && let Some(file) = compose::read_and_merge(&mut ctx, &compose)
    {
        compose::check_build_without_image(&mut ctx, &compose, &file);
        let explicit = options.stack.as_deref().or(file.name.as_deref());
        let name = naming::stack_name(explicit, &first.name, &dir);
        items.extend(objects::from_compose(
            &mut ctx,
            &compose,
            &compose_indices,
            file,
            &name,
            &env,
        ));
        stack = Some(name);
    }
    for (index, doc) in docs.iter().enumerate() {
        if is_native(&doc.doc.value)
            && let Some(mut item) = native::read(&mut ctx, doc, options.stack.as_deref(), &env)
        {
            item.docs = vec![index];
            items.push(item);
        }
    }
    // Objects read from documents with errors lack the invalid nodes; checking them anyway
    // reports every independent problem in one run.
    semantic::check(&mut ctx, &docs, &items);
    let manifests = items.into_iter().map(|i| i.manifest).collect();
    finish(ctx, stack, manifests)
}

fn finish(ctx: Context, stack: Option<String>, manifests: Vec<Manifest>) -> Loaded {
    let valid = !ctx.has_errors();
    Loaded {
        stack,
        manifests: if valid { manifests } else { Vec::new() },
        reports: ctx.into_reports(),
    }
}

/// A document is a native manifest when it says which kind it is.
fn is_native(value: &Value) -> bool {
    value.get("apiVersion").is_some() || value.get("kind").is_some()
}

/// Interpolation variables: the process environment wins over `.env`, as in Compose.
fn environment(dir: &Path, options: &LoadOptions, ctx: &mut Context) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    let dotenv = dir.join(".env");
    if dotenv.is_file() {
        let name = dotenv.display().to_string();
        match source::read_limited(&dotenv, limits::MAX_FILE_BYTES) {
            Ok(text) => match source::parse_dotenv(&text) {
                Ok(parsed) => vars.extend(parsed),
                Err((line, message)) => {
                    let file = ctx.add_file(&name);
                    ctx.error_at(file, yaml::Pos { line, column: 1 }, "", message);
                }
            },
            Err(err) => {
                let file = ctx.add_file(&name);
                ctx.error_at(file, yaml::Pos { line: 1, column: 1 }, "", err.to_string());
            }
        }
    }
    vars.extend(options.env.clone());
    vars
}

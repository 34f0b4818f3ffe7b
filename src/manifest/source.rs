//! Reading manifest inputs: files, directories, stdin, `.env` files and `file:` references —
//! each under a size limit, and `file:` references kept inside the stack directory.

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::limits::MAX_FILE_BYTES;

/// One input text and where it came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// Name shown in messages: the path as the user wrote it, or `<stdin>`.
    pub name: String,
    /// Directory that relative references resolve against.
    pub dir: PathBuf,
    pub text: String,
}

/// A failure to read an input, already phrased for the user.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ReadError {
    pub name: String,
    pub message: String,
}

fn read_error(name: &str, message: impl Into<String>) -> ReadError {
    ReadError {
        name: name.to_owned(),
        message: message.into(),
    }
}

/// Expands command-line paths into groups of sources: the files named explicitly (and stdin)
/// form one group, merged into one stack like `docker stack deploy -c a -c b`; each YAML file
/// of a directory is a stack of its own, as in a GitOps directory.
pub fn expand(paths: &[String], recursive: bool) -> Result<Vec<Vec<PathArg>>, ReadError> {
    let mut explicit = Vec::new();
    let mut groups = Vec::new();
    for path in paths {
        if path == "-" {
            explicit.push(PathArg::Stdin);
            continue;
        }
        let p = Path::new(path);
        if p.is_dir() {
            for file in yaml_files_in(p, recursive)? {
                groups.push(vec![PathArg::File(file)]);
            }
        } else {
            explicit.push(PathArg::File(p.to_path_buf()));
        }
    }
    if !explicit.is_empty() {
        groups.insert(0, explicit);
    }
    Ok(groups)
}

/// One command-line input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathArg {
    Stdin,
    File(PathBuf),
}

fn yaml_files_in(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>, ReadError> {
    let name = dir.display().to_string();
    let entries = fs::read_dir(dir).map_err(|e| read_error(&name, e.to_string()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| read_error(&name, e.to_string()))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            if recursive {
                files.extend(yaml_files_in(&path, true)?);
            }
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads one input under the size limit.
pub fn read(arg: &PathArg) -> Result<Source, ReadError> {
    match arg {
        PathArg::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_FILE_BYTES + 1)
                .read_to_string(&mut text)
                .map_err(|e| read_error("<stdin>", e.to_string()))?;
            check_size("<stdin>", text.len() as u64)?;
            let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            Ok(Source {
                name: "<stdin>".into(),
                dir,
                text,
            })
        }
        PathArg::File(path) => {
            let name = path.display().to_string();
            let text =
                read_limited(path, MAX_FILE_BYTES).map_err(|e| read_error(&name, e.to_string()))?;
            let dir = path
                .parent()
                .map(|p| {
                    if p.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        p
                    }
                })
                .unwrap_or(Path::new("."))
                .to_path_buf();
            Ok(Source { name, dir, text })
        }
    }
}

fn check_size(name: &str, len: u64) -> Result<(), ReadError> {
    if len > MAX_FILE_BYTES {
        return Err(read_error(
            name,
            format!(
                "file is larger than {} MiB; split the stack into several files",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// Why [`read_limited`] returned no text; the message says which rule was broken.
#[derive(Debug, thiserror::Error)]
pub enum FileReadError {
    /// Nothing at that path.
    #[error("file not found")]
    NotFound(#[source] std::io::Error),
    /// A directory where a file is expected.
    #[error("is a directory, expected a file")]
    IsDirectory,
    /// Larger than the limit.
    #[error("file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Grew past the limit while being read.
    #[error("file is over the limit of {limit} bytes")]
    GrewTooLarge {
        /// The limit.
        limit: u64,
    },
    /// Not UTF-8.
    #[error("file is not valid UTF-8 text")]
    NotUtf8(#[source] std::string::FromUtf8Error),
    /// Any other I/O failure (permissions, ...).
    #[error(transparent)]
    Io(std::io::Error),
}

/// Reads a UTF-8 file of at most `limit` bytes; the error says which rule was broken.
pub fn read_limited(path: &Path, limit: u64) -> Result<String, FileReadError> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FileReadError::NotFound(e),
        _ => FileReadError::Io(e),
    })?;
    if meta.is_dir() {
        return Err(FileReadError::IsDirectory);
    }
    if meta.len() > limit {
        return Err(FileReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(FileReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(FileReadError::GrewTooLarge { limit });
    }
    String::from_utf8(bytes).map_err(FileReadError::NotUtf8)
}

/// Why a `file:` reference could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum RefError {
    /// The file does not exist (yet): fatal when applying, a warning when only validating, as
    /// secret files are often kept out of version control.
    NotFound(String),
    /// The reference is refused whatever the file holds (escapes the stack directory).
    Refused(String),
}

impl std::fmt::Display for RefError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefError::NotFound(m) | RefError::Refused(m) => f.write_str(m),
        }
    }
}

/// Resolves a `file:` / `env_file:` reference against the stack directory and refuses paths that
/// leave it (`../../etc/shadow`, absolute paths, symlinks pointing out) unless `allow_outside`.
pub fn resolve_inside(
    stack_dir: &Path,
    reference: &str,
    allow_outside: bool,
) -> Result<PathBuf, RefError> {
    let reference_path = Path::new(reference);
    if reference_path.is_absolute() && !allow_outside {
        return Err(RefError::Refused(format!(
            "`{reference}` is an absolute path; reference files inside the stack directory \
             (relative paths), or pass --allow-outside-files"
        )));
    }
    let joined = stack_dir.join(reference_path);
    let root = stack_dir
        .canonicalize()
        .map_err(|e| RefError::Refused(format!("stack directory {}: {e}", stack_dir.display())))?;
    if !allow_outside && !lexically_inside(&root, &joined) {
        return Err(RefError::Refused(escape_message(reference)));
    }
    let resolved = joined.canonicalize().map_err(|_| {
        RefError::NotFound(format!(
            "`{reference}` not found (looked for {})",
            joined.display()
        ))
    })?;
    if !allow_outside && !resolved.starts_with(&root) {
        return Err(RefError::Refused(escape_message(reference)));
    }
    Ok(resolved)
}

fn escape_message(reference: &str) -> String {
    format!(
        "`{reference}` leads outside the stack directory; keep referenced files next to the \
         stack file, or pass --allow-outside-files"
    )
}

/// Whether `path` stays under `root` once `.` and `..` are applied (no filesystem access, so a
/// missing file that would escape is refused as escaping, not as missing).
fn lexically_inside(root: &Path, path: &Path) -> bool {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    // The root is canonical; compare against the canonical form of the lexical parent too, so a
    // stack directory reached through a symlink still matches.
    normal.starts_with(root)
        || stack_parent_canonical(&normal).is_some_and(|canon| canon.starts_with(root))
}

fn stack_parent_canonical(path: &Path) -> Option<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name()?.to_owned());
        existing.pop();
    }
    let mut canon = existing.canonicalize().ok()?;
    for part in rest.into_iter().rev() {
        canon.push(part);
    }
    Some(canon)
}

/// Parses a `.env` / `env_file` text: `KEY=VALUE` lines, `export KEY=VALUE`, `#` comments,
/// single quotes literal, double quotes with `\n` escapes. Errors carry the 1-based line.
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, (u64, String)> {
    let mut vars = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index as u64 + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            // A bare name passes the variable through from the environment when it is set.
            None => match std::env::var(line) {
                Ok(v) => {
                    vars.push((line.to_owned(), v));
                    continue;
                }
                Err(_) => continue,
            },
        };
        let valid_key = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
        if !valid_key {
            return Err((line_no, format!("`{key}` is not a valid variable name")));
        }
        vars.push((key.to_owned(), unquote(value)));
    }
    Ok(vars)
}

fn unquote(value: &str) -> String {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return value[1..value.len() - 1].to_owned();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        return value[1..value.len() - 1]
            .replace("\\n", "\n")
            .replace("\\\"", "\"")
            .replace("\\\\", "\\");
    }
    match value.find(" #") {
        Some(cut) => value[..cut].trim_end().to_owned(),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_forms() {
        let vars = parse_dotenv(
            "# comment\nA=1\nexport B = two\nC='lit $x'\nD=\"a\\nb\"\nE=v # note\n\nF=\n",
        )
        .expect("parses");
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("1"));
        assert_eq!(get("B"), Some("two"));
        assert_eq!(get("C"), Some("lit $x"));
        assert_eq!(get("D"), Some("a\nb"));
        assert_eq!(get("E"), Some("v"));
        assert_eq!(get("F"), Some(""));
    }

    #[test]
    fn dotenv_bad_key_names_its_line() {
        let err = parse_dotenv("A=1\nBAD KEY=2\n").expect_err("bad key");
        assert_eq!(err.0, 2);
    }

    #[test]
    fn references_stay_inside_the_stack_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stack = dir.path().join("stack");
        fs::create_dir(&stack).expect("mkdir");
        fs::write(stack.join("ok.txt"), "x").expect("write");
        fs::write(dir.path().join("outside.txt"), "x").expect("write");
        assert!(resolve_inside(&stack, "ok.txt", false).is_ok());
        assert!(resolve_inside(&stack, "./ok.txt", false).is_ok());
        let escape = resolve_inside(&stack, "../outside.txt", false)
            .expect_err("escapes")
            .to_string();
        assert!(escape.contains("outside the stack directory"), "{escape}");
        let missing_escape = resolve_inside(&stack, "../../etc/shadow", false)
            .expect_err("escapes")
            .to_string();
        assert!(missing_escape.contains("outside"), "{missing_escape}");
        let absolute = resolve_inside(&stack, "/etc/hostname", false)
            .expect_err("absolute")
            .to_string();
        assert!(absolute.contains("absolute"), "{absolute}");
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), stack.join("link.txt"))
            .expect("symlink");
        let link = resolve_inside(&stack, "link.txt", false)
            .expect_err("symlink out")
            .to_string();
        assert!(link.contains("outside"), "{link}");
        assert!(resolve_inside(&stack, "../outside.txt", true).is_ok());
        let missing = resolve_inside(&stack, "nope.txt", false).expect_err("missing");
        assert!(matches!(missing, RefError::NotFound(_)), "{missing}");
    }
}

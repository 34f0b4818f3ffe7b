//! Errors and warnings that point at a place in a manifest file.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::yaml::Pos;

/// One finding about an input file: where, which field, what, and (in the message) what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    #[serde(skip)]
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// Dotted field path, e.g. `services.web.ports[0]`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    /// A finding at `pos` in `file` about the field at `path`.
    pub fn new(file: &str, pos: Pos, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Everything found in one input file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileReport {
    pub file: String,
    pub valid: bool,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Turns a JSON pointer (`/services/web/ports/0`) into the dotted path users read
/// (`services.web.ports[0]`), using `root` to tell list indices from map keys.
pub fn field_path(root: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut node = Some(root);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match node {
            Some(Value::Array(items)) if segment.parse::<usize>().is_ok() => {
                out.push_str(&format!("[{segment}]"));
                node = segment.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                let plain = segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !plain || segment.is_empty() {
                    out.push_str(&format!("\"{segment}\""));
                } else {
                    out.push_str(&segment);
                }
                node = match other {
                    Some(Value::Object(map)) => map.get(&segment),
                    _ => None,
                };
            }
        }
    }
    out
}

/// Builds a JSON pointer from path segments.
pub fn pointer<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", super::yaml::escape_segment(s.as_ref())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_paths_read_like_code() {
        let root = json!({"services": {"web": {"ports": ["80:80"], "labels": {"a.b": "c"}}}});
        assert_eq!(
            field_path(&root, "/services/web/ports/0"),
            "services.web.ports[0]"
        );
        assert_eq!(
            field_path(&root, "/services/web/labels/a.b"),
            "services.web.labels.\"a.b\""
        );
        assert_eq!(field_path(&root, ""), "");
    }

    #[test]
    fn display_is_file_line_column_path_message() {
        let d = Diagnostic::new("s.yml", Pos { line: 3, column: 5 }, "services.web", "bad");
        assert_eq!(d.to_string(), "s.yml:3:5: services.web: bad");
    }
}

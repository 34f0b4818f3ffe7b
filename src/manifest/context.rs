//! Per-load bookkeeping: the parsed documents, where their nodes are, and what was found.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::diagnostic::{Diagnostic, FileReport, field_path};
use super::schema_check::{self, SchemaIssue};
use super::yaml::{Document, Pos};

/// One parsed document of one file.
pub struct Doc {
    /// Index of the file in [`Context::files`].
    pub file: usize,
    pub doc: Document,
}

/// Collects findings per file; findings about merged data are traced back to the last file that
/// wrote the node, as that is the one to edit.
#[derive(Default)]
pub struct Context {
    pub files: Vec<FileReport>,
}

impl Context {
    /// Registers a file and returns its index.
    pub fn add_file(&mut self, name: &str) -> usize {
        self.files.push(FileReport {
            file: name.to_owned(),
            ..FileReport::default()
        });
        self.files.len() - 1
    }

    /// Records an error at a position already known.
    pub fn error_at(&mut self, file: usize, pos: Pos, path: &str, message: impl Into<String>) {
        let name = self.files[file].file.clone();
        self.files[file]
            .errors
            .push(Diagnostic::new(&name, pos, path, message));
    }

    /// Records a warning at a position already known.
    pub fn warn_at(&mut self, file: usize, pos: Pos, path: &str, message: impl Into<String>) {
        let name = self.files[file].file.clone();
        let diagnostic = Diagnostic::new(&name, pos, path, message);
        if !self.files[file].warnings.contains(&diagnostic) {
            self.files[file].warnings.push(diagnostic);
        }
    }

    /// Records an error about the node at `pointer` in one document.
    pub fn error(&mut self, doc: &Doc, pointer: &str, message: impl Into<String>) {
        let pos = doc.doc.positions.value(pointer);
        let path = field_path(&doc.doc.value, pointer);
        self.error_at(doc.file, pos, &path, message);
    }

    /// Records a warning about the node at `pointer` in one document.
    pub fn warn(&mut self, doc: &Doc, pointer: &str, message: impl Into<String>) {
        let pos = doc.doc.positions.value(pointer);
        let path = field_path(&doc.doc.value, pointer);
        self.warn_at(doc.file, pos, &path, message);
    }

    /// Records an error about `pointer` of merged data built from `docs`, attributed to the last
    /// document holding that node (or its closest ancestor).
    pub fn error_in(&mut self, docs: &[&Doc], pointer: &str, message: impl Into<String>) {
        if let Some(doc) = owner(docs, pointer) {
            self.error(doc, pointer, message);
        }
    }

    /// Like [`Context::error_in`], but points at the key naming the node (for names).
    pub fn error_key_in(&mut self, docs: &[&Doc], pointer: &str, message: impl Into<String>) {
        if let Some(doc) = owner(docs, pointer) {
            let pos = doc.doc.positions.key(pointer);
            let path = field_path(&doc.doc.value, pointer);
            self.error_at(doc.file, pos, &path, message);
        }
    }

    /// Validates a document (or the part at `base`) against a schema and reports every issue.
    /// Returns whether it was valid.
    pub fn schema_check(&mut self, doc: &Doc, schema: &str, base: &str) -> bool {
        let value = match doc.doc.value.pointer(base) {
            Some(v) => v,
            None => &Value::Null,
        };
        let issues = schema_check::check(schema, value);
        for SchemaIssue {
            pointer,
            at_key,
            message,
        } in &issues
        {
            let full = format!("{base}{pointer}");
            let pos = if *at_key {
                doc.doc.positions.key(&full)
            } else {
                doc.doc.positions.value(&full)
            };
            let path = field_path(&doc.doc.value, &full);
            self.error_at(doc.file, pos, &path, message.clone());
        }
        issues.is_empty()
    }

    /// Deserializes `value` (found at `base` in `doc`) into a typed model value; a failure is
    /// reported at the field serde stopped on.
    pub fn typed<T: DeserializeOwned>(&mut self, doc: &Doc, base: &str, value: Value) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(typed) => Some(typed),
            Err(err) => {
                let pointer = format!("{base}{}", path_pointer(err.path()));
                let message = clean_serde_message(&err.inner().to_string());
                self.error(doc, &pointer, message);
                None
            }
        }
    }

    /// Whether any file has an error.
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(|f| !f.errors.is_empty())
    }

    /// Final reports, sorted by position, with `valid` filled in.
    pub fn into_reports(self) -> Vec<FileReport> {
        self.files
            .into_iter()
            .map(|mut f| {
                f.valid = f.errors.is_empty();
                f.errors.sort_by_key(|d| (d.line, d.column));
                f.warnings.sort_by_key(|d| (d.line, d.column));
                f
            })
            .collect()
    }
}

/// The last document whose value holds `pointer`, else the one holding its deepest ancestor.
fn owner<'a>(docs: &[&'a Doc], pointer: &str) -> Option<&'a Doc> {
    let mut current = pointer;
    loop {
        if let Some(doc) = docs
            .iter()
            .rev()
            .find(|d| d.doc.value.pointer(current).is_some())
        {
            return Some(doc);
        }
        match current.rfind('/') {
            Some(cut) => current = &current[..cut],
            None => return docs.last().copied(),
        }
    }
}

fn path_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", super::yaml::escape_segment(key))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// serde_json appends " at line 1 column 2" for positions in JSON text, which mean nothing
/// here: positions come from the YAML source.
fn clean_serde_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

//! Per-load bookkeeping: the parsed documents, where their nodes are, and what was found.

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::diagnostic::{Diagnostic, FileReport, field_path};
use super::prune::Pruned;
use super::schema_check::{self, SchemaIssue};
use super::yaml::{Document, Pos};

/// One parsed document of one file.
pub struct Doc {
    /// Index of the file in [`Context::files`].
    pub file: usize,
    /// Index of the document in the load.
    pub index: usize,
    pub doc: Document,
}

/// serde stops at the first bad field; reading again without it finds the next. A file has few
/// errors, so this bound is only there to end a pathological one.
const MAX_READS: usize = 64;

/// Collects findings per file; findings about merged data are traced back to the last file that
/// wrote the node, as that is the one to edit.
#[derive(Default)]
pub struct Context {
    pub files: Vec<FileReport>,
    /// Nodes reported invalid and left out of further checks, as (document index, pointer):
    /// later findings about them, or about a whole object that now lacks one, would only repeat
    /// the first error in a confusing form.
    reported: HashSet<(usize, String)>,
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

    /// Records an error about the node at `pointer` in one document, unless that node (or one
    /// holding it) was reported invalid already.
    pub fn error(&mut self, doc: &Doc, pointer: &str, message: impl Into<String>) {
        if self.follows_reported(doc, pointer, false) {
            return;
        }
        self.report(doc, pointer, message);
    }

    fn report(&mut self, doc: &Doc, pointer: &str, message: impl Into<String>) {
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

    /// Like [`Context::error_in`] for a finding about a whole object, which is not reported
    /// when one of its fields was left out for an error of its own (the object lacks it now).
    pub fn object_error_in(&mut self, docs: &[&Doc], pointer: &str, message: impl Into<String>) {
        if let Some(doc) = owner(docs, pointer)
            && !self.follows_reported(doc, pointer, true)
        {
            self.report(doc, pointer, message);
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

    /// Whether `pointer` is a node reported invalid or inside one; with `or_parent`, also the
    /// direct parent of one (serde's "missing field" once the field is left out).
    fn follows_reported(&self, doc: &Doc, pointer: &str, or_parent: bool) -> bool {
        self.reported.iter().any(|(index, reported)| {
            *index == doc.index
                && (reported == pointer
                    || (or_parent
                        && reported
                            .strip_prefix(pointer)
                            .is_some_and(|rest| rest.starts_with('/') && !rest[1..].contains('/')))
                    || pointer
                        .strip_prefix(reported.as_str())
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    }

    /// Validates a document (or the part at `base`) against a schema and reports every issue.
    /// Returns the pointers of the nodes found invalid (empty when valid).
    pub fn schema_check(&mut self, doc: &Doc, schema: &str, base: &str) -> Vec<String> {
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
        let invalid: Vec<String> = issues
            .into_iter()
            .map(|i| format!("{base}{}", i.pointer))
            .collect();
        for pointer in &invalid {
            self.reported.insert((doc.index, pointer.clone()));
        }
        invalid
    }

    /// Deserializes `value` (found at `base` in `doc`) into a typed model value, reporting every
    /// field serde refuses: each is reported where serde stopped, left out, and the rest read
    /// again. `invalid` are nodes reported already (by the schema check), left out first. The
    /// value read from what is left lets later checks run; the load is invalid anyway.
    pub fn typed<T: DeserializeOwned>(
        &mut self,
        doc: &Doc,
        base: &str,
        value: Value,
        invalid: &[String],
    ) -> Option<T> {
        let mut pruned = Pruned::new(value);
        for pointer in invalid {
            if let Some(inner) = pointer.strip_prefix(base) {
                pruned.remove(inner);
            }
        }
        for _ in 0..MAX_READS {
            match serde_path_to_error::deserialize::<_, T>(pruned.value.clone()) {
                Ok(typed) => return Some(typed),
                Err(err) => {
                    let inner = pruned.original(&path_pointer(err.path()));
                    let pointer = format!("{base}{inner}");
                    let message = clean_serde_message(&err.inner().to_string());
                    if !self.follows_reported(doc, &pointer, true) {
                        self.report(doc, &pointer, message);
                    }
                    self.reported.insert((doc.index, pointer));
                    if !pruned.remove(&inner) {
                        return None;
                    }
                }
            }
        }
        None
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

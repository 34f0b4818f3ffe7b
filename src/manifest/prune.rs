//! Reading past the first error: a node found invalid is removed from a copy of the document and
//! the rest is read again, so one run reports every problem of a file, each at its place as
//! written (array indices are mapped back across removed elements).

use std::collections::HashMap;

use serde_json::Value;

/// A document with invalid nodes removed.
pub struct Pruned {
    /// What is left.
    pub value: Value,
    /// For each array (by its pointer as written), the indices as written removed from it.
    removed: HashMap<String, Vec<usize>>,
}

impl Pruned {
    /// Starts from the whole document.
    pub fn new(value: Value) -> Self {
        Pruned {
            value,
            removed: HashMap::new(),
        }
    }

    /// Removes the node at `original` (a pointer into the document as written). False when it
    /// is the root, or gone already.
    pub fn remove(&mut self, original: &str) -> bool {
        let Some(current) = self.current(original) else {
            return false;
        };
        let (Some(cut), Some(original_cut)) = (current.rfind('/'), original.rfind('/')) else {
            return false;
        };
        let (parent, last) = (&current[..cut], &current[cut + 1..]);
        match self.value.pointer_mut(parent) {
            Some(Value::Object(map)) => map.remove(&unescape(last)).is_some(),
            Some(Value::Array(list)) => {
                let (Ok(index), Ok(written)) = (
                    last.parse::<usize>(),
                    original[original_cut + 1..].parse::<usize>(),
                ) else {
                    return false;
                };
                if index >= list.len() {
                    return false;
                }
                list.remove(index);
                self.removed
                    .entry(original[..original_cut].to_owned())
                    .or_default()
                    .push(written);
                true
            }
            _ => false,
        }
    }

    /// The pointer into what is left of the node written at `original`; `None` once removed.
    fn current(&self, original: &str) -> Option<String> {
        let mut written = String::new();
        let mut out = String::new();
        for segment in original.split('/').skip(1) {
            let mapped = match (self.removed.get(&written), segment.parse::<usize>()) {
                (Some(gone), Ok(index)) => {
                    if gone.contains(&index) {
                        return None;
                    }
                    (index - gone.iter().filter(|g| **g < index).count()).to_string()
                }
                _ => segment.to_owned(),
            };
            out.push('/');
            out.push_str(&mapped);
            written.push('/');
            written.push_str(segment);
        }
        Some(out)
    }

    /// The pointer as written of `current`, a pointer into what is left.
    pub fn original(&self, current: &str) -> String {
        let mut written = String::new();
        for segment in current.split('/').skip(1) {
            let mapped = match (self.removed.get(&written), segment.parse::<usize>()) {
                (Some(gone), Ok(index)) => (0..)
                    .filter(|i| !gone.contains(i))
                    .nth(index)
                    .map_or_else(|| segment.to_owned(), |i| i.to_string()),
                _ => segment.to_owned(),
            };
            written.push('/');
            written.push_str(&mapped);
        }
        written
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn indices_map_back_to_the_document_as_written() {
        let mut pruned = Pruned::new(json!({"ports": ["a", "b", "c", "d"], "x/y": 1}));
        assert!(pruned.remove("/ports/1"));
        assert_eq!(pruned.original("/ports/1"), "/ports/2");
        assert!(pruned.remove("/ports/2"));
        assert!(!pruned.remove("/ports/2"), "gone already");
        assert_eq!(pruned.value, json!({"ports": ["a", "d"], "x/y": 1}));
        assert_eq!(pruned.original("/ports/1"), "/ports/3");
        assert!(pruned.remove("/ports/3"));
        assert_eq!(pruned.value["ports"], json!(["a"]));
        assert!(pruned.remove("/x~1y"));
        assert!(!pruned.remove(""), "the root stays");
    }
}

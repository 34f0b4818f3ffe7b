//! Plan items and field-level diffs between canonical JSON values.

use model::Kind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many field changes a plan line shows per object before "and N more".
pub const SHOWN_CHANGES: usize = 5;
/// Longest value a plan line shows before eliding the rest.
const SHOWN_VALUE_CHARS: usize = 60;

/// What the plan does to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
}

/// One leaf field that differs. `from`/`to` are absent when the field is unset on that side, or
/// when the values must not be shown (secret content: only the fact that it changed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Dotted path, e.g. `deploy.replicas`, `metadata.labels."a.b"`, `content`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Value>,
    /// The values are withheld; the line says only that the field changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

impl FieldChange {
    /// A change whose values are not shown (`content changed`).
    pub fn redacted(path: impl Into<String>) -> FieldChange {
        FieldChange {
            path: path.into(),
            from: None,
            to: None,
            redacted: true,
        }
    }

    /// `image nginx:1.26 -> nginx:1.27`, or `content changed`.
    pub fn describe(&self) -> String {
        if self.redacted {
            return format!("{} changed", self.path);
        }
        format!(
            "{} {} -> {}",
            self.path,
            show(self.from.as_ref()),
            show(self.to.as_ref())
        )
    }
}

/// One object in a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    pub action: Action,
    pub kind: Kind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

impl PlanItem {
    /// `+ service web`, `~ service api: image a -> b`, `- config old`, `= network front (unchanged)`.
    pub fn line(&self) -> String {
        let kind = super::kind_word(self.kind);
        let name = &self.name;
        match self.action {
            Action::Create => format!("+ {kind} {name}"),
            Action::Delete => format!("- {kind} {name}"),
            Action::Unchanged => format!("= {kind} {name} (unchanged)"),
            Action::Update => {
                let mut parts: Vec<String> = self
                    .changes
                    .iter()
                    .take(SHOWN_CHANGES)
                    .map(FieldChange::describe)
                    .collect();
                if self.changes.len() > SHOWN_CHANGES {
                    parts.push(format!("and {} more", self.changes.len() - SHOWN_CHANGES));
                }
                if parts.is_empty() {
                    format!("~ {kind} {name}")
                } else {
                    format!("~ {kind} {name}: {}", parts.join(", "))
                }
            }
        }
    }
}

/// Appends every leaf where `from` and `to` differ; objects recurse by key (also when added or
/// removed whole), arrays of equal length by index, anything else is one leaf.
pub fn leaf_changes(
    path: &str,
    from: Option<&Value>,
    to: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    let from = from.filter(|v| !v.is_null());
    let to = to.filter(|v| !v.is_null());
    match (from, to) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (key, value) in b {
                leaf_changes(&join(path, key), a.get(key), Some(value), out);
            }
            for (key, value) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
                leaf_changes(&join(path, key), Some(value), None, out);
            }
        }
        // A block added or removed as a whole still reads best field by field.
        (None, Some(Value::Object(b))) if !b.is_empty() => {
            for (key, value) in b {
                leaf_changes(&join(path, key), None, Some(value), out);
            }
        }
        (Some(Value::Object(a)), None) if !a.is_empty() => {
            for (key, value) in a {
                leaf_changes(&join(path, key), Some(value), None, out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                leaf_changes(&format!("{path}[{index}]"), Some(x), Some(y), out);
            }
        }
        (a, b) if a != b => out.push(FieldChange {
            path: path.to_owned(),
            from: a.cloned(),
            to: b.cloned(),
            redacted: false,
        }),
        _ => {}
    }
}

/// `a.b`, or `a."x.y"` when the key is not a plain word.
pub fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if plain {
        key.to_owned()
    } else {
        format!("\"{key}\"")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

fn show(value: Option<&Value>) -> String {
    let text = match value {
        None => return "(unset)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > SHOWN_VALUE_CHARS {
        let cut: String = text.chars().take(SHOWN_VALUE_CHARS).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_are_reported_with_readable_paths() {
        let a = json!({"image": "nginx:1.26", "deploy": {"replicas": 2}, "labels": {"a.b": "1"}, "ports": [1]});
        let b = json!({"image": "nginx:1.27", "deploy": {"replicas": 4}, "labels": {}, "ports": [1, 2]});
        let mut out = Vec::new();
        leaf_changes("", Some(&a), Some(&b), &mut out);
        let described: Vec<String> = out.iter().map(FieldChange::describe).collect();
        assert_eq!(
            described,
            vec![
                "image nginx:1.26 -> nginx:1.27",
                "deploy.replicas 2 -> 4",
                "labels.\"a.b\" 1 -> (unset)",
                "ports [1] -> [1,2]",
            ]
        );
    }

    #[test]
    fn update_lines_cap_the_changes_shown() {
        let changes = (0..8)
            .map(|i| FieldChange {
                path: format!("f{i}"),
                from: Some(json!(i)),
                to: Some(json!(i + 1)),
                redacted: false,
            })
            .collect();
        let item = PlanItem {
            action: Action::Update,
            kind: Kind::Service,
            name: "api".into(),
            changes,
        };
        let line = item.line();
        assert!(line.starts_with("~ service api: f0 0 -> 1, "), "{line}");
        assert!(line.ends_with("and 3 more"), "{line}");
        assert_eq!(
            FieldChange::redacted("content").describe(),
            "content changed"
        );
    }
}

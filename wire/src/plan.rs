//! What an apply or delete did, object by object: the plan the manager returns and the CLI prints.

use model::Kind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::docker_name;

/// How many field changes a plan line shows per object before "and N more".
pub const SHOWN_CHANGES: usize = 5;
/// Longest value a plan line shows before eliding the rest.
const SHOWN_VALUE_CHARS: usize = 60;

/// What the plan does to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
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
pub struct StackChange {
    pub action: ChangeKind,
    pub kind: Kind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

impl StackChange {
    /// The line of an object outside any stack (a node): [`StackChange::line_in`] with no stack.
    pub fn line(&self) -> String {
        self.line_in("")
    }

    /// `+ service shop_web`, `~ service shop_api: image a -> b`, `- config shop_old`,
    /// `= network shop_front (unchanged)`: a stack's networks, secrets, configs and services are
    /// named as Docker names them (`<stack>_<name>`); the Stack object itself by its name.
    pub fn line_in(&self, stack: &str) -> String {
        let kind = kind_word(self.kind);
        let member = matches!(
            self.kind,
            Kind::Network | Kind::Secret | Kind::Config | Kind::Service
        );
        let name = &docker_name(Some(stack).filter(|s| member && !s.is_empty()), &self.name);
        match self.action {
            ChangeKind::Create => format!("+ {kind} {name}"),
            ChangeKind::Delete => format!("- {kind} {name}"),
            ChangeKind::Unchanged => format!("= {kind} {name} (unchanged)"),
            ChangeKind::Update => {
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

/// What an apply (or delete) does, object by object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StackPlan {
    pub stack: String,
    pub items: Vec<StackChange>,
    /// Things worth knowing that change nothing (objects kept without `--prune`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl StackPlan {
    /// Number of objects the plan creates, updates or deletes.
    pub fn changed(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.action != ChangeKind::Unchanged)
            .count()
    }

    /// Whether the plan changes anything.
    pub fn has_changes(&self) -> bool {
        self.changed() > 0
    }

    /// Human plan lines; unchanged objects only when `verbose`; `no changes` when empty.
    pub fn lines(&self, verbose: bool) -> Vec<String> {
        let mut lines: Vec<String> = self
            .items
            .iter()
            .filter(|i| verbose || i.action != ChangeKind::Unchanged)
            .map(|i| i.line_in(&self.stack))
            .collect();
        lines.extend(self.notes.iter().map(|n| format!("! {n}")));
        if !self.has_changes() {
            lines.push("no changes".into());
        }
        lines
    }
}

/// What an apply or delete did (or, with `dry_run`, would do).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    #[serde(flatten)]
    pub plan: StackPlan,
    /// Nothing was written because the caller asked for a plan only.
    #[serde(default)]
    pub dry_run: bool,
    /// Raft log index of the committed command; absent when nothing was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// Lower-case kind name as plan lines and messages write it (`service`).
pub fn kind_word(kind: Kind) -> String {
    kind.as_str().to_lowercase()
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
    fn update_lines_cap_the_changes_shown() {
        let changes = (0..8)
            .map(|i| FieldChange {
                path: format!("f{i}"),
                from: Some(json!(i)),
                to: Some(json!(i + 1)),
                redacted: false,
            })
            .collect();
        let item = StackChange {
            action: ChangeKind::Update,
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

    #[test]
    fn a_stacks_members_are_named_as_docker_names_them() {
        let item = |kind, name: &str| StackChange {
            action: ChangeKind::Create,
            kind,
            name: name.into(),
            changes: Vec::new(),
        };
        let plan = StackPlan {
            stack: "shop".into(),
            items: vec![
                item(Kind::Network, "default"),
                item(Kind::Service, "web"),
                item(Kind::Stack, "shop"),
            ],
            notes: Vec::new(),
        };
        assert_eq!(
            plan.lines(false),
            [
                "+ network shop_default",
                "+ service shop_web",
                "+ stack shop"
            ]
        );
        assert_eq!(item(Kind::Node, "w1").line_in(""), "+ node w1");
        let json = serde_json::to_value(&plan.items[0]).expect("json");
        assert_eq!(json["name"], "default", "the JSON keeps the object's name");
    }
}

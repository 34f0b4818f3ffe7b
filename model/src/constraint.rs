//! Placement constraints (`node.labels.disk==ssd`) and spread preferences, parsed by Docker's rules.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The node attribute a constraint or preference looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConstraintKey {
    /// `node.id`
    NodeId,
    /// `node.hostname`
    NodeHostname,
    /// `node.role`
    NodeRole,
    /// `node.platform.os`
    NodePlatformOs,
    /// `node.platform.arch`
    NodePlatformArch,
    /// `node.labels.<name>`
    NodeLabel(String),
    /// `engine.labels.<name>`
    EngineLabel(String),
}

const KEY_HELP: &str = "use node.id, node.hostname, node.role, node.platform.os, node.platform.arch, \
                        node.labels.<label> or engine.labels.<label>";

/// Why a constraint or a spread preference does not parse; the message says what to write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// A key that is no node attribute or label.
    #[error("unknown constraint key `{0}`: {KEY_HELP}")]
    UnknownKey(String),
    /// `node.labels.` with no label after it.
    #[error("constraint key `{0}` names no label: write e.g. `{0}zone`")]
    NoLabel(String),
    /// Neither `==` nor `!=`.
    #[error(
        "constraint `{0}` has no `==` or `!=` operator (swarm constraints look like \
         `node.hostname==foo` or `node.labels.disk!=ssd`)"
    )]
    NoOperator(String),
    /// Nothing on one side of the operator.
    #[error(
        "constraint `{text}` needs a key and a value on either side of `{op}` (e.g. `node.role{op}manager`)"
    )]
    MissingSide {
        /// The constraint as written.
        text: String,
        /// Its operator.
        op: ConstraintOp,
    },
    /// Two comparisons in one constraint.
    #[error("constraint `{0}` has more than one operator; write one comparison per constraint")]
    ManyOperators(String),
    /// `node.role` compared with something other than `manager` or `worker`.
    #[error("constraint `{text}`: node.role is `manager` or `worker`, not `{value}`")]
    UnknownRole {
        /// The constraint as written.
        text: String,
        /// The role it names.
        value: String,
    },
    /// A spread preference over something that is no node attribute or label.
    #[error(
        "cannot spread over `{0}`: spread over node.labels.<label>, engine.labels.<label> or a \
         node attribute (node.id, node.hostname, node.role, node.platform.os, node.platform.arch)"
    )]
    BadSpread(String),
}

impl ConstraintKey {
    /// Parses a key such as `node.hostname` or `node.labels.zone`.
    pub fn parse(key: &str) -> Result<ConstraintKey, ConstraintError> {
        let unknown = || ConstraintError::UnknownKey(key.to_owned());
        let label = |prefix: &str| {
            key.get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .map(|_| &key[prefix.len()..])
        };
        if let Some(name) = label("node.labels.") {
            return non_empty_label(name, key).map(ConstraintKey::NodeLabel);
        }
        if let Some(name) = label("engine.labels.") {
            return non_empty_label(name, key).map(ConstraintKey::EngineLabel);
        }
        Ok(match key.to_ascii_lowercase().as_str() {
            "node.id" => ConstraintKey::NodeId,
            "node.hostname" => ConstraintKey::NodeHostname,
            "node.role" => ConstraintKey::NodeRole,
            "node.platform.os" => ConstraintKey::NodePlatformOs,
            "node.platform.arch" => ConstraintKey::NodePlatformArch,
            _ => return Err(unknown()),
        })
    }
}

fn non_empty_label(name: &str, key: &str) -> Result<String, ConstraintError> {
    if name.is_empty() {
        Err(ConstraintError::NoLabel(key.to_owned()))
    } else {
        Ok(name.to_owned())
    }
}

impl fmt::Display for ConstraintKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ConstraintKey::NodeId => f.write_str("node.id"),
            ConstraintKey::NodeHostname => f.write_str("node.hostname"),
            ConstraintKey::NodeRole => f.write_str("node.role"),
            ConstraintKey::NodePlatformOs => f.write_str("node.platform.os"),
            ConstraintKey::NodePlatformArch => f.write_str("node.platform.arch"),
            ConstraintKey::NodeLabel(l) => write!(f, "node.labels.{l}"),
            ConstraintKey::EngineLabel(l) => write!(f, "engine.labels.{l}"),
        }
    }
}

/// A constraint's comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConstraintOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl fmt::Display for ConstraintOp {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            ConstraintOp::Eq => "==",
            ConstraintOp::Ne => "!=",
        })
    }
}

/// One placement constraint, e.g. `node.role==manager`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Constraint {
    /// What is compared.
    pub key: ConstraintKey,
    /// Equal or not equal.
    pub op: ConstraintOp,
    /// What it is compared with.
    pub value: String,
}

impl Constraint {
    /// Parses `KEY==VALUE` or `KEY!=VALUE` (whitespace around tokens allowed).
    pub fn parse(s: &str) -> Result<Constraint, ConstraintError> {
        let eq = s.find("==");
        let ne = s.find("!=");
        let (at, op) = match (eq, ne) {
            (Some(e), Some(n)) if n < e => (n, ConstraintOp::Ne),
            (Some(e), _) => (e, ConstraintOp::Eq),
            (None, Some(n)) => (n, ConstraintOp::Ne),
            (None, None) => return Err(ConstraintError::NoOperator(s.to_owned())),
        };
        let key = s[..at].trim();
        let value = s[at + 2..].trim();
        if key.is_empty() || value.is_empty() {
            return Err(ConstraintError::MissingSide {
                text: s.to_owned(),
                op,
            });
        }
        if value.contains("==") || value.contains("!=") {
            return Err(ConstraintError::ManyOperators(s.to_owned()));
        }
        let key = ConstraintKey::parse(key)?;
        if key == ConstraintKey::NodeRole
            && !["manager", "worker"]
                .iter()
                .any(|r| r.eq_ignore_ascii_case(value))
        {
            return Err(ConstraintError::UnknownRole {
                text: s.to_owned(),
                value: value.to_owned(),
            });
        }
        Ok(Constraint {
            key,
            op,
            value: value.to_owned(),
        })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}{}{}", self.key, self.op, self.value)
    }
}

/// A placement preference: spread tasks evenly over the values of a node attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PlacementPreference {
    /// The attribute to spread over, e.g. `node.labels.az`.
    pub spread: String,
}

impl PlacementPreference {
    /// Parses the `spread` attribute; it must be a node attribute or a node/engine label.
    pub fn spread_key(&self) -> Result<ConstraintKey, ConstraintError> {
        ConstraintKey::parse(self.spread.trim())
            .map_err(|_| ConstraintError::BadSpread(self.spread.clone()))
    }
}

impl fmt::Display for PlacementPreference {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "spread={}", self.spread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Constraint {
        Constraint::parse(s).expect(s)
    }

    fn err(s: &str) -> String {
        Constraint::parse(s).expect_err(s).to_string()
    }

    #[test]
    fn parses_every_key_and_both_operators() {
        assert_eq!(ok("node.role==manager").key, ConstraintKey::NodeRole);
        assert_eq!(ok("node.id == abc").value, "abc");
        let ne = ok(" node.labels.disk != ssd ");
        assert_eq!(
            (ne.key.clone(), ne.op, ne.value.as_str()),
            (
                ConstraintKey::NodeLabel("disk".into()),
                ConstraintOp::Ne,
                "ssd"
            )
        );
        assert_eq!(
            ok("engine.labels.os==linux").key,
            ConstraintKey::EngineLabel("os".into())
        );
        assert_eq!(
            ok("node.platform.os==linux").key,
            ConstraintKey::NodePlatformOs
        );
        assert_eq!(
            ok("node.platform.arch!=arm64").key,
            ConstraintKey::NodePlatformArch
        );
        assert_eq!(ok("node.hostname==foo").to_string(), "node.hostname==foo");
        assert_eq!(ne.to_string(), "node.labels.disk!=ssd");
    }

    #[test]
    fn errors_say_what_to_write() {
        assert_eq!(
            err("node=foo"),
            "constraint `node=foo` has no `==` or `!=` operator (swarm constraints look like \
             `node.hostname==foo` or `node.labels.disk!=ssd`)"
        );
        assert!(err("node.labels.x=y").contains("no `==` or `!=` operator"));
        assert_eq!(
            err("nodes.role==manager"),
            "unknown constraint key `nodes.role`: use node.id, node.hostname, node.role, node.platform.os, \
             node.platform.arch, node.labels.<label> or engine.labels.<label>"
        );
        assert!(err("node.role==boss").contains("`manager` or `worker`"));
        assert_eq!(
            Constraint::parse("node.role==boss"),
            Err(ConstraintError::UnknownRole {
                text: "node.role==boss".into(),
                value: "boss".into()
            })
        );
        assert!(err("node.labels.==x").contains("names no label"));
        assert!(err("==x").contains("needs a key and a value"));
    }

    #[test]
    fn preferences_spread_over_labels_or_node_attributes() {
        let pref = |s: &str| PlacementPreference { spread: s.into() };
        assert_eq!(
            pref("node.labels.az").spread_key(),
            Ok(ConstraintKey::NodeLabel("az".into()))
        );
        assert_eq!(
            pref("node.hostname").spread_key(),
            Ok(ConstraintKey::NodeHostname)
        );
        assert_eq!(
            pref("az").spread_key(),
            Err(ConstraintError::BadSpread("az".into()))
        );
        assert!(
            pref("az")
                .spread_key()
                .expect_err("bare")
                .to_string()
                .starts_with("cannot spread over `az`: spread over node.labels.<label>")
        );
        assert_eq!(pref("node.labels.az").to_string(), "spread=node.labels.az");
    }
}

//! `command:` and `entrypoint:` — a shell-like string or an argv list.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// A command string a shell could not split.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot split command `{command}`: {source}; check its quotes or write it as a list")]
pub struct CommandError {
    /// The command as written.
    pub command: String,
    /// Why it does not split (an unclosed quote, a trailing backslash).
    #[source]
    pub source: shell_words::ParseError,
}

/// Splits a command string the way a POSIX shell would (quotes, escapes), as Compose does.
pub fn split_command(s: &str) -> Result<Vec<String>, CommandError> {
    shell_words::split(s).map_err(|source| CommandError {
        command: s.to_owned(),
        source,
    })
}

/// `null`, a string (split like a shell) or a list of strings.
pub(crate) fn deserialize_command<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Vec<String>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a command string or a list of arguments")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            split_command(v).map(Some).map_err(E::custom)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(arg) = seq.next_element::<String>()? {
                out.push(arg);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_any(V)
}

/// Schema of `command:` / `entrypoint:`.
pub(crate) struct CommandLine;

impl JsonSchema for CommandLine {
    fn schema_name() -> Cow<'static, str> {
        "CommandLine".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A command: a string split like a POSIX shell would, or a list of arguments.",
            "anyOf": [
                { "type": "null" },
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "deserialize_command")]
        command: Option<Vec<String>>,
    }

    fn command(v: serde_json::Value) -> Option<Vec<String>> {
        serde_json::from_value::<Probe>(json!({ "command": v }))
            .expect("command")
            .command
    }

    #[test]
    fn strings_split_like_a_shell_and_lists_stay() {
        assert_eq!(
            command(json!("bundle exec thin -p 3000")).expect("some"),
            ["bundle", "exec", "thin", "-p", "3000"]
        );
        assert_eq!(
            command(json!("sh -c 'echo \"hi there\"'")).expect("some"),
            ["sh", "-c", "echo \"hi there\""]
        );
        assert_eq!(
            command(json!(["/code/entrypoint.sh", "-p", "3000"])).expect("some"),
            ["/code/entrypoint.sh", "-p", "3000"]
        );
        assert_eq!(command(json!(null)), None);
        assert!(serde_json::from_value::<Probe>(json!({"command": "echo 'oops"})).is_err());
    }
}

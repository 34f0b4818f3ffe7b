//! `healthcheck:` — how a task proves it is healthy.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::units::Duration;

/// A container health check, as in Compose.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Healthcheck {
    /// `["CMD", args...]`, `["CMD-SHELL", command]` or `["NONE"]`; a plain string means
    /// `["CMD-SHELL", string]`.
    #[serde(
        default,
        deserialize_with = "deserialize_test",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "HealthTest")]
    pub test: Vec<String>,
    /// Time between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Time after which one check counts as failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Grace period after start during which failures do not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<Duration>,
    /// Time between checks during the start period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<Duration>,
    /// Consecutive failures before the container is unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// Disable any health check the image defines.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable: bool,
}

/// The words a health check `test` list may start with.
pub const HEALTH_TEST_KINDS: [&str; 3] = ["NONE", "CMD", "CMD-SHELL"];

fn deserialize_test<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a shell command string or a list such as [\"CMD\", \"curl\", \"-f\", \"http://localhost\"]")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec!["CMD-SHELL".to_owned(), v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(word) = seq.next_element::<String>()? {
                out.push(word);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// Schema of a health check `test`.
struct HealthTest;

impl JsonSchema for HealthTest {
    fn schema_name() -> Cow<'static, str> {
        "HealthTest".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A shell command string, or a list starting with NONE, CMD or CMD-SHELL.",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_test_means_cmd_shell_and_round_trips() {
        let hc: Healthcheck = serde_json::from_value(json!({
            "test": "echo \"hello world\"", "interval": "10s", "timeout": "1s", "retries": 5,
            "start_period": "15s", "start_interval": "1s"
        }))
        .expect("healthcheck");
        assert_eq!(hc.test, ["CMD-SHELL", "echo \"hello world\""]);
        assert_eq!(hc.interval, Some(Duration::from_secs(10)));
        let back: Healthcheck =
            serde_json::from_value(serde_json::to_value(&hc).expect("ser")).expect("de");
        assert_eq!(back, hc);
    }
}

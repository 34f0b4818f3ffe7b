//! Smaller service keys with more than one input form: `env_file`, `ulimits`, `logging`,
//! `depends_on`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A file of `NAME=VALUE` lines whose variables join the service environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EnvFile {
    /// Path, relative to the Compose file.
    pub path: String,
    /// Fail when the file is missing (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
    /// File format (`raw` disables interpolation); passed through for the loader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl EnvFile {
    /// A required env file at `path`.
    pub fn new(path: impl Into<String>) -> EnvFile {
        EnvFile {
            path: path.into(),
            required: true,
            format: None,
        }
    }
}

/// `env_file:` — a path, a list of paths, or a list of `{path, required}` maps.
pub(crate) fn deserialize_env_files<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<EnvFile>, D::Error> {
    struct Item(EnvFile);
    impl<'de> Deserialize<'de> for Item {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Item;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a path or a map with `path`")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
                    Ok(Item(EnvFile::new(v)))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                    EnvFile::deserialize(MapAccessDeserializer::new(map)).map(Item)
                }
            }
            d.deserialize_any(V)
        }
    }
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<EnvFile>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a path or a list of env files")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<EnvFile>, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<EnvFile>, E> {
            Ok(vec![EnvFile::new(v)])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<EnvFile>, A::Error> {
            let mut out = Vec::new();
            while let Some(Item(f)) = seq.next_element()? {
                out.push(f);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// Schema of `env_file:`.
pub(crate) struct EnvFiles;

impl JsonSchema for EnvFiles {
    fn schema_name() -> Cow<'static, str> {
        "EnvFiles".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let long = generator.subschema_for::<EnvFile>();
        json_schema!({
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "anyOf": [ { "type": "string" }, long ] } }
            ]
        })
    }
}

/// A resource limit; a single number sets soft and hard alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Ulimit {
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

impl<'de> Deserialize<'de> for Ulimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Long {
            soft: i64,
            hard: i64,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ulimit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a map with `soft` and `hard`")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ulimit, E> {
                Ok(Ulimit { soft: v, hard: v })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ulimit, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("ulimit too large"))?;
                Ok(Ulimit { soft: v, hard: v })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Ulimit, A::Error> {
                let Long { soft, hard } = Long::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Ulimit { soft, hard })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Ulimit {
    fn schema_name() -> Cow<'static, str> {
        "Ulimit".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A limit: one integer for soft and hard, or `{soft, hard}`.",
            "anyOf": [
                { "type": "integer" },
                {
                    "type": "object",
                    "properties": {
                        "soft": { "type": "integer" },
                        "hard": { "type": "integer" }
                    },
                    "required": ["soft", "hard"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// Where container logs go.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Logging {
    /// Log driver (`json-file`, `syslog`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(
        default,
        deserialize_with = "super::lists::options",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "super::lists::OptionMap")]
    pub options: BTreeMap<String, String>,
}

/// What "started" means for a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DependsCondition {
    /// The dependency's tasks are running.
    #[default]
    ServiceStarted,
    /// The dependency's tasks are healthy.
    ServiceHealthy,
    /// The dependency (a job) completed successfully.
    ServiceCompletedSuccessfully,
}

/// One `depends_on` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DependsOn {
    /// What the dependency must reach first.
    #[serde(default)]
    pub condition: DependsCondition,
    /// Restart this service when the dependency is updated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restart: bool,
    /// Fail when the dependency is missing (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
}

impl Default for DependsOn {
    fn default() -> Self {
        DependsOn {
            condition: DependsCondition::default(),
            restart: false,
            required: true,
        }
    }
}

/// `depends_on:` — a list of service names or a map of name to options.
pub(crate) fn deserialize_depends_on<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, DependsOn>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, DependsOn>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of service names or a map of service name to condition")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = seq.next_element::<String>()? {
                out.insert(name, DependsOn::default());
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((name, dep)) = map.next_entry::<String, Option<DependsOn>>()? {
                out.insert(name, dep.unwrap_or_default());
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// Schema of `depends_on:`.
pub(crate) struct DependsOnSchema;

impl JsonSchema for DependsOnSchema {
    fn schema_name() -> Cow<'static, str> {
        "DependsOnSchema".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let long = generator.subschema_for::<DependsOn>();
        json_schema!({
            "anyOf": [
                { "type": "array", "items": { "type": "string" } },
                { "type": "object", "additionalProperties": { "anyOf": [ { "type": "null" }, long ] } }
            ]
        })
    }
}

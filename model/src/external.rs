//! `external:` on top-level networks, volumes, secrets and configs: a bool, or the legacy
//! `{name: X}` form meaning "external, and called X".

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// `external:` as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum External {
    /// `external: true|false` (absent means false).
    #[default]
    No,
    /// `external: true`.
    Yes,
    /// `external: {name: X}` (deprecated Compose v3 form).
    Named(String),
}

impl External {
    /// Resolves `external` and the spec's `name` into `(external, name)`.
    pub(crate) fn resolve(self, name: Option<String>) -> Result<(bool, Option<String>), String> {
        match self {
            External::No => Ok((false, name)),
            External::Yes => Ok((true, name)),
            External::Named(legacy) => match name {
                Some(n) if n != legacy => Err(format!(
                    "`name: {n}` and the deprecated `external.name: {legacy}` disagree; keep only `name:`"
                )),
                _ => Ok((true, Some(legacy))),
            },
        }
    }
}

impl<'de> Deserialize<'de> for External {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = External;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true`, `false` or (deprecated) a map with `name`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<External, E> {
                Ok(if v { External::Yes } else { External::No })
            }
            fn visit_unit<E: de::Error>(self) -> Result<External, E> {
                Ok(External::No)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<External, A::Error> {
                let mut name = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "name" {
                        name = Some(map.next_value::<String>()?);
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(name.map_or(External::Yes, External::Named))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for External {
    fn schema_name() -> Cow<'static, str> {
        "External".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Whether the object already exists outside this stack. The map form `{name: X}` is deprecated: use `name: X` with `external: true`.",
            "anyOf": [
                { "type": "boolean" },
                {
                    "type": "object",
                    "properties": { "name": { "type": "string", "deprecated": true } },
                    "additionalProperties": false
                }
            ]
        })
    }
}

//! `secrets:` and `configs:` on a service — references to top-level secrets/configs.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};

use crate::scalar::Scalar;
use crate::units::FileMode;

/// A secret or config made available to a service's containers as a file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FileRef {
    /// Name of the secret or config (the key under top-level `secrets:` / `configs:`).
    pub source: String,
    /// File name or absolute path in the container; defaults to the source name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Owner user id of the file.
    #[serde(
        default,
        deserialize_with = "id_text",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<IdText>")]
    pub uid: Option<String>,
    /// Owner group id of the file.
    #[serde(
        default,
        deserialize_with = "id_text",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<IdText>")]
    pub gid: Option<String>,
    /// File mode, e.g. `0440`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
}

impl FileRef {
    /// A reference to `source` with default target, owner and mode.
    pub fn new(source: impl Into<String>) -> FileRef {
        FileRef {
            source: source.into(),
            ..FileRef::default()
        }
    }
}

fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        v @ (Scalar::Str(_) | Scalar::UInt(_)) => Ok(v.into_text()),
        other => Err(de::Error::custom(format!(
            "expected a numeric user or group id, found {}",
            other.kind()
        ))),
    }
}

/// `secrets:` / `configs:` on a service: names or long-syntax maps.
pub(crate) fn deserialize_file_refs<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<FileRef>, D::Error> {
    struct Items;
    impl<'de> Visitor<'de> for Items {
        type Value = Vec<FileRef>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of names or maps with `source`")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<FileRef>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<FileRef>, A::Error> {
            let mut out = Vec::new();
            while let Some(FileRefItem(r)) = seq.next_element()? {
                out.push(r);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Items)
}

struct FileRefItem(FileRef);

impl<'de> Deserialize<'de> for FileRefItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FileRefItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a name or a map with `source`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileRefItem, E> {
                Ok(FileRefItem(FileRef::new(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FileRefItem, A::Error> {
                FileRef::deserialize(MapAccessDeserializer::new(map)).map(FileRefItem)
            }
        }
        d.deserialize_any(V)
    }
}

/// Schema of a uid/gid: a string or an integer.
pub(crate) struct IdText;

impl JsonSchema for IdText {
    fn schema_name() -> Cow<'static, str> {
        "IdText".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "integer"] })
    }
}

/// Schema of a service's `secrets:` / `configs:` list.
pub(crate) struct FileRefs;

impl JsonSchema for FileRefs {
    fn schema_name() -> Cow<'static, str> {
        "FileRefs".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let long = generator.subschema_for::<FileRef>();
        json_schema!({
            "type": "array",
            "items": { "anyOf": [ { "type": "string", "minLength": 1 }, long ] }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(deserialize_with = "deserialize_file_refs")]
        secrets: Vec<FileRef>,
    }

    #[test]
    fn short_and_long_references() {
        let v = json!({"secrets": ["secret1", {"source": "secret2", "target": "my_secret", "uid": "103", "gid": 103, "mode": "0440"}]});
        let refs = serde_json::from_value::<Probe>(v).expect("refs").secrets;
        assert_eq!(refs[0], FileRef::new("secret1"));
        assert_eq!(refs[1].uid.as_deref(), Some("103"));
        assert_eq!(refs[1].gid.as_deref(), Some("103"));
        assert_eq!(refs[1].mode, Some(FileMode(0o440)));
        let back = serde_json::to_value(&refs).expect("ser");
        assert_eq!(back[1]["mode"], json!("0440"));
        let again = serde_json::from_value::<Probe>(json!({ "secrets": back }))
            .expect("again")
            .secrets;
        assert_eq!(again, refs);
    }
}

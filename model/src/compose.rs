//! A Compose stack file (v3 / compose-spec).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::config::ConfigSpec;
use crate::network::NetworkSpec;
use crate::scalar::Scalar;
use crate::secret::SecretSpec;
use crate::service::ServiceSpec;
use crate::volume::VolumeSpec;

/// A Compose file as swarm reads it; `null` network and volume entries mean "defaults".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "swarm compose stack file")]
pub struct ComposeFile {
    /// Legacy file format version; accepted and ignored.
    #[serde(
        default,
        deserialize_with = "version_text",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<VersionText>")]
    pub version: Option<String>,
    /// Stack name, unless given on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Services by name.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceSpec>,
    /// Networks by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Option<NetworkSpec>>,
    /// Named volumes by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Option<VolumeSpec>>,
    /// Secrets by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretSpec>,
    /// Configs by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, ConfigSpec>,
}

fn version_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Bool(_) => Err(de::Error::custom("`version` is a string such as \"3.8\"")),
        v => Ok(v.into_text()),
    }
}

/// Schema of `version:`: a string or a number.
struct VersionText;

impl JsonSchema for VersionText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "VersionText".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "number"] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_sections_of_the_full_example() {
        let file: ComposeFile = serde_json::from_value(json!({
            "version": 3.13,
            "services": {"foo": {"image": "redis"}},
            "networks": {"some-network": null, "external-network": {"external": true}},
            "volumes": {"some-volume": null, "other-volume": {"driver": "flocker", "driver_opts": {"baz": 1}}},
            "configs": {"config1": {"file": "./config_data", "labels": {"foo": "bar"}}, "config2": {"external": {"name": "my_config"}}},
            "secrets": {"secret1": {"file": "./secret_data"}, "secret3": {"external": true}}
        }))
        .expect("compose file");
        assert_eq!(file.version.as_deref(), Some("3.13"));
        assert_eq!(file.networks["some-network"], None);
        assert!(
            file.networks["external-network"]
                .as_ref()
                .is_some_and(|n| n.external)
        );
        assert_eq!(file.configs["config2"].name.as_deref(), Some("my_config"));
        assert!(file.configs["config2"].external);
        assert!(file.secrets.values().all(|s| s.validate().is_empty()));
        let back: ComposeFile =
            serde_json::from_value(serde_json::to_value(&file).expect("ser")).expect("de");
        assert_eq!(back, file);
    }

    #[test]
    fn secrets_need_exactly_one_source() {
        let secret = |v| serde_json::from_value::<SecretSpec>(v).expect("secret");
        let none = secret(json!({"labels": ["a=b"]})).validate();
        assert_eq!(none.len(), 1);
        assert!(
            none[0]
                .message
                .contains("set one of `file`, `environment`, `content` or `external: true`")
        );
        let two = secret(json!({"file": "./f", "content": "x"})).validate();
        assert_eq!(
            two[0].to_string(),
            "content: a secret takes its data from one place, but `file`, `content` are all set; keep one"
        );
        let config =
            serde_json::from_value::<ConfigSpec>(json!({"environment": "CFG"})).expect("config");
        assert!(config.validate().is_empty());
    }

    #[test]
    fn external_networks_create_nothing() {
        let net: NetworkSpec =
            serde_json::from_value(json!({"external": true, "driver": "overlay"})).expect("net");
        assert_eq!(net.validate()[0].path_string(), "driver");
    }
}

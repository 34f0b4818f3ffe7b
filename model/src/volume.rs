//! Top-level Compose `volumes:` entries (volumes are not a native swarm kind: each node's
//! engine creates them on first use).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::external::External;
use crate::service::lists;

/// A named volume declared by a stack.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "VolumeSpecWire")]
pub struct VolumeSpec {
    /// Actual volume name, when it differs from the key it is declared under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Volume driver (default `local`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    /// The volume exists already; swarm neither creates nor removes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// Labels on the volume.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `VolumeSpec` as written: `external` may be the legacy `{name: X}` map.
#[derive(Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
struct VolumeSpecWire {
    /// Actual volume name, when it differs from the key it is declared under.
    #[serde(default)]
    name: Option<String>,
    /// Volume driver (default `local`).
    #[serde(default)]
    driver: Option<String>,
    /// Driver options (string or number values).
    #[serde(default, deserialize_with = "lists::options")]
    #[schemars(with = "lists::OptionMap")]
    driver_opts: BTreeMap<String, String>,
    /// The volume exists already; swarm neither creates nor removes it.
    #[serde(default)]
    external: External,
    /// Labels on the volume.
    #[serde(default, deserialize_with = "lists::labels")]
    #[schemars(with = "lists::ListOrDict")]
    labels: BTreeMap<String, String>,
}

impl TryFrom<VolumeSpecWire> for VolumeSpec {
    type Error = String;
    fn try_from(w: VolumeSpecWire) -> Result<Self, String> {
        let (external, name) = w.external.resolve(w.name)?;
        Ok(VolumeSpec {
            name,
            driver: w.driver,
            driver_opts: w.driver_opts,
            external,
            labels: w.labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn external_forms_and_driver_opts() {
        let v: VolumeSpec = serde_json::from_value(json!({"external": {"name": "my-cool-volume"}}))
            .expect("legacy");
        assert_eq!(
            (v.external, v.name.as_deref()),
            (true, Some("my-cool-volume"))
        );
        let v: VolumeSpec =
            serde_json::from_value(json!({"name": "this-is-volume3", "external": true}))
                .expect("new");
        assert_eq!(
            (v.external, v.name.as_deref()),
            (true, Some("this-is-volume3"))
        );
        let v: VolumeSpec =
            serde_json::from_value(json!({"driver": "vsphere", "driver_opts": {"baz": 1}}))
                .expect("opts");
        assert_eq!(v.driver_opts["baz"], "1");
        assert_eq!(
            serde_json::from_value::<VolumeSpec>(serde_json::to_value(&v).expect("ser"))
                .expect("de"),
            v
        );
    }
}

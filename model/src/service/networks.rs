//! `networks:` on a service — which networks it joins and how.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// How a service attaches to one network.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ServiceNetwork {
    /// Extra DNS names of the service on this network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Static IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    /// Static IPv6 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
    /// Driver options for this attachment.
    #[serde(
        default,
        deserialize_with = "super::lists::options",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "super::lists::OptionMap")]
    pub driver_opts: BTreeMap<String, String>,
    /// Order in which networks are connected (higher first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

/// `networks:` on a service: a list of names or a map of name to null or options.
pub(crate) fn deserialize_networks<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, ServiceNetwork>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, ServiceNetwork>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of network names or a map of network name to options")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = seq.next_element::<String>()? {
                out.insert(name, ServiceNetwork::default());
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((name, opts)) = map.next_entry::<String, Option<ServiceNetwork>>()? {
                out.insert(name, opts.unwrap_or_default());
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// Schema of a service's `networks:`.
pub(crate) struct ServiceNetworks;

impl JsonSchema for ServiceNetworks {
    fn schema_name() -> Cow<'static, str> {
        "ServiceNetworks".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let long = generator.subschema_for::<ServiceNetwork>();
        json_schema!({
            "description": "Networks to join: a list of names, or a map of name to null or attachment options.",
            "anyOf": [
                { "type": "array", "items": { "type": "string" } },
                { "type": "object", "additionalProperties": { "anyOf": [ { "type": "null" }, long ] } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(deserialize_with = "deserialize_networks")]
        networks: BTreeMap<String, ServiceNetwork>,
    }

    #[test]
    fn list_and_map_forms() {
        let list =
            serde_json::from_value::<Probe>(json!({"networks": ["front", "back"]})).expect("list");
        assert_eq!(list.networks.keys().collect::<Vec<_>>(), ["back", "front"]);
        let map = serde_json::from_value::<Probe>(json!({"networks": {
            "some": {"aliases": ["a1"], "driver_opts": {"o": 1}},
            "other": {"ipv4_address": "172.16.238.10"},
            "plain": null
        }}))
        .expect("map")
        .networks;
        assert_eq!(map["some"].aliases, ["a1"]);
        assert_eq!(map["some"].driver_opts["o"], "1");
        assert_eq!(map["other"].ipv4_address.as_deref(), Some("172.16.238.10"));
        assert_eq!(map["plain"], ServiceNetwork::default());
    }
}

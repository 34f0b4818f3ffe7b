//! Network specs: top-level Compose `networks:` entries and native Network manifests.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::external::External;
use crate::service::lists;

/// A network services can join.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "NetworkSpecWire")]
pub struct NetworkSpec {
    /// Actual network name, when it differs from the key it is declared under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Network driver (default `overlay`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    /// Standalone containers may attach too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attachable: bool,
    /// No route to the outside world.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
    /// Enable IPv6 addressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    /// Enable IPv4 addressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    /// Address management.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    /// The network exists already; swarm neither creates nor removes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// Labels on the network.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// IP address management of a network.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Ipam {
    /// IPAM driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Address pools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    /// Driver options.
    #[serde(
        default,
        deserialize_with = "lists::options",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "lists::OptionMap")]
    pub options: BTreeMap<String, String>,
}

/// One address pool.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct IpamPool {
    /// Subnet in CIDR notation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Range to allocate container IPs from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    /// Gateway address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Addresses reserved for other uses, by host name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aux_addresses: BTreeMap<String, String>,
}

/// `NetworkSpec` as written: `external` may be the legacy `{name: X}` map.
#[derive(Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
struct NetworkSpecWire {
    /// Actual network name, when it differs from the key it is declared under.
    #[serde(default)]
    name: Option<String>,
    /// Network driver (default `overlay`).
    #[serde(default)]
    driver: Option<String>,
    /// Driver options (string or number values).
    #[serde(default, deserialize_with = "lists::options")]
    #[schemars(with = "lists::OptionMap")]
    driver_opts: BTreeMap<String, String>,
    /// Standalone containers may attach too.
    #[serde(default)]
    attachable: bool,
    /// No route to the outside world.
    #[serde(default)]
    internal: bool,
    /// Enable IPv6 addressing.
    #[serde(default)]
    enable_ipv6: Option<bool>,
    /// Enable IPv4 addressing.
    #[serde(default)]
    enable_ipv4: Option<bool>,
    /// Address management.
    #[serde(default)]
    ipam: Option<Ipam>,
    /// The network exists already; swarm neither creates nor removes it.
    #[serde(default)]
    external: External,
    /// Labels on the network.
    #[serde(default, deserialize_with = "lists::labels")]
    #[schemars(with = "lists::ListOrDict")]
    labels: BTreeMap<String, String>,
}

impl TryFrom<NetworkSpecWire> for NetworkSpec {
    type Error = String;
    fn try_from(w: NetworkSpecWire) -> Result<Self, String> {
        let (external, name) = w.external.resolve(w.name)?;
        Ok(NetworkSpec {
            name,
            driver: w.driver,
            driver_opts: w.driver_opts,
            attachable: w.attachable,
            internal: w.internal,
            enable_ipv6: w.enable_ipv6,
            enable_ipv4: w.enable_ipv4,
            ipam: w.ipam,
            external,
            labels: w.labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn net(v: serde_json::Value) -> NetworkSpec {
        serde_json::from_value(v).expect("network")
    }

    #[test]
    fn full_example_networks() {
        let other = net(json!({
            "driver": "overlay", "driver_opts": {"foo": "bar", "baz": 1},
            "ipam": {"driver": "overlay", "config": [{"subnet": "172.16.238.0/24"}, {"subnet": "2001:3984:3989::/64"}]},
            "labels": {"foo": "bar"}
        }));
        assert_eq!(other.driver_opts["baz"], "1");
        assert_eq!(other.ipam.as_ref().map(|i| i.config.len()), Some(2));
        assert!(net(json!({"external": true})).external);
        let legacy = net(json!({"external": {"name": "my-cool-network"}}));
        assert_eq!(
            (legacy.external, legacy.name.as_deref()),
            (true, Some("my-cool-network"))
        );
        let back = net(serde_json::to_value(&legacy).expect("ser"));
        assert_eq!(back, legacy);
        assert!(
            serde_json::from_value::<NetworkSpec>(json!({"name": "a", "external": {"name": "b"}}))
                .is_err()
        );
    }
}

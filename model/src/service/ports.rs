//! `ports:` — published ports, in short (`"127.0.0.1:8080-8081:80-81/udp"`) or long syntax.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};

use crate::scalar::Scalar;

/// Transport protocol of a port.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The protocol's name as written after the `/` in short syntax.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a port is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortMode {
    /// Through the routing mesh on every node (the default).
    #[default]
    Ingress,
    /// Directly on the node running the task.
    Host,
}

/// One published (or merely declared) container port, in long syntax.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PortConfig {
    /// Port inside the container.
    #[serde(deserialize_with = "port_number")]
    #[schemars(with = "PortNumber")]
    pub target: u16,
    /// Port published on the nodes; none means the port is only reachable inside networks.
    #[serde(
        default,
        deserialize_with = "opt_port_number",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<PortNumber>")]
    pub published: Option<u16>,
    /// Transport protocol.
    #[serde(default)]
    pub protocol: Protocol,
    /// Routing mesh (`ingress`) or node-local (`host`) publishing.
    #[serde(default)]
    pub mode: PortMode,
    /// Host address to bind to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// Human-readable name of the mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Application protocol (`http`, `grpc`, ...), informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

impl PortConfig {
    /// A port with just a target, as `ports: [80]` writes it.
    pub fn target(target: u16) -> PortConfig {
        PortConfig {
            target,
            ..PortConfig::default()
        }
    }

    /// Parses short syntax `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`; ranges expand to
    /// one entry per port.
    pub fn parse_short(spec: &str) -> Result<Vec<PortConfig>, PortError> {
        let fail = |why: PortFault| PortError {
            spec: spec.to_owned(),
            why,
        };
        let (addr, protocol) = match spec.rsplit_once('/') {
            Some((addr, "tcp")) => (addr, Protocol::Tcp),
            Some((addr, "udp")) => (addr, Protocol::Udp),
            Some((addr, "sctp")) => (addr, Protocol::Sctp),
            Some((_, p)) => {
                return Err(fail(PortFault::UnknownProtocol(p.to_owned())));
            }
            None => (spec, Protocol::Tcp),
        };
        let (ip, published, target) = if let Some(bracketed) = addr.strip_prefix('[') {
            let (ip, rest) = bracketed
                .split_once("]:")
                .ok_or_else(|| fail(PortFault::UnclosedBracket))?;
            let (published, target) = rest
                .split_once(':')
                .ok_or_else(|| fail(PortFault::NoPublished))?;
            (Some(ip), Some(published), target)
        } else {
            // Split from the right so an unbracketed IPv6 host address keeps its colons.
            let mut parts = addr.rsplitn(3, ':');
            let target = parts.next().unwrap_or_default();
            let published = parts.next();
            (parts.next(), published, target)
        };
        let (t_start, t_end) = parse_range(target).map_err(&fail)?;
        let published = match published.filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => {
                let (p_start, p_end) = parse_range(p).map_err(&fail)?;
                if p_end - p_start != t_end - t_start {
                    return Err(fail(PortFault::RangeLengths {
                        published: p.to_owned(),
                        target: target.to_owned(),
                    }));
                }
                Some(p_start)
            }
        };
        let host_ip = ip.filter(|ip| !ip.is_empty()).map(str::to_owned);
        Ok((0..=t_end - t_start)
            .map(|i| PortConfig {
                target: t_start + i,
                published: published.map(|p| p + i),
                protocol,
                host_ip: host_ip.clone(),
                ..PortConfig::default()
            })
            .collect())
    }
}

/// Why a short-syntax port does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid port `{spec}`: {why}; ports are `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`")]
pub struct PortError {
    /// The port as written.
    pub spec: String,
    /// What is wrong with it.
    pub why: PortFault,
}

/// What is wrong with a short-syntax port.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortFault {
    /// A protocol other than tcp, udp or sctp.
    #[error("unknown protocol `{0}` (use tcp, udp or sctp)")]
    UnknownProtocol(String),
    /// `[` without the `]:` that ends an IPv6 host address.
    #[error("`[` opens an IPv6 address that is not closed by `]:`")]
    UnclosedBracket,
    /// A host IP with no published port after it.
    #[error("a host IP needs a published port (`[::1]::80` picks none)")]
    NoPublished,
    /// Not a number from 0 to 65535.
    #[error("`{0}` is not a port number (0-65535)")]
    NotAPort(String),
    /// A range whose end is below its start.
    #[error("range `{0}` ends before it starts")]
    BackwardRange(String),
    /// Published and target ranges of different lengths.
    #[error("published range `{published}` and target range `{target}` differ in length")]
    RangeLengths {
        /// The published range as written.
        published: String,
        /// The target range as written.
        target: String,
    },
}

/// Parses `8080` or `8080-8090` into an inclusive range.
fn parse_range(s: &str) -> Result<(u16, u16), PortFault> {
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| PortFault::NotAPort(p.to_owned()))
    };
    match s.split_once('-') {
        None => port(s).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if a > b {
                return Err(PortFault::BackwardRange(s.to_owned()));
            }
            Ok((a, b))
        }
    }
}

fn scalar_port(v: Scalar) -> Result<u16, String> {
    let text = match v {
        Scalar::UInt(n) => {
            return u16::try_from(n).map_err(|_| format!("{n} is not a port number (0-65535)"));
        }
        Scalar::Str(s) => s,
        other => return Err(format!("expected a port number, found {}", other.kind())),
    };
    text.trim().parse::<u16>().map_err(|_| {
        format!("`{text}` is not a port number (0-65535); ranges are only allowed in short syntax")
    })
}

fn port_number<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    scalar_port(Scalar::deserialize(d)?).map_err(de::Error::custom)
}

fn opt_port_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    match Scalar::deserialize(d)? {
        Scalar::Null => Ok(None),
        v => scalar_port(v).map(Some).map_err(de::Error::custom),
    }
}

/// `ports:` as a whole: each item is a short string, an integer or a long-syntax map, and one
/// short item may expand to several entries.
pub(crate) fn deserialize_ports<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<PortConfig>, D::Error> {
    struct Items;
    impl<'de> Visitor<'de> for Items {
        type Value = Vec<PortConfig>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of ports")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<PortConfig>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<PortConfig>, A::Error> {
            let mut out = Vec::new();
            while let Some(PortItem(ports)) = seq.next_element()? {
                out.extend(ports);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Items)
}

/// One item of `ports:`, possibly expanded from a range.
struct PortItem(Vec<PortConfig>);

impl<'de> Deserialize<'de> for PortItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PortItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port: `\"8080:80\"`, `80` or a map with `target`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortItem, E> {
                PortConfig::parse_short(v).map(PortItem).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortItem, E> {
                let target = u16::try_from(v).map_err(|_| {
                    E::custom(format!("invalid port `{v}`: not a port number (0-65535)"))
                })?;
                Ok(PortItem(vec![PortConfig::target(target)]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortItem, E> {
                Err(E::custom(format!(
                    "invalid port `{v}`: not a port number (0-65535)"
                )))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PortItem, A::Error> {
                PortConfig::deserialize(MapAccessDeserializer::new(map)).map(|p| PortItem(vec![p]))
            }
        }
        d.deserialize_any(V)
    }
}

/// JSON Schema pattern of a short-syntax port.
pub const PORT_PATTERN: &str =
    r"^((\[[0-9a-fA-F:.]+\]|[0-9.]*):)?(([0-9]+(-[0-9]+)?)?:)?[0-9]+(-[0-9]+)?(/(tcp|udp|sctp))?$";

/// Schema of a port number written as an integer or a numeric string.
pub(crate) struct PortNumber;

impl JsonSchema for PortNumber {
    fn schema_name() -> Cow<'static, str> {
        "PortNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "integer", "minimum": 0, "maximum": 65535 },
                { "type": "string", "pattern": "^[0-9]+$" }
            ]
        })
    }
}

/// Schema of the `ports:` list.
pub(crate) struct Ports;

impl JsonSchema for Ports {
    fn schema_name() -> Cow<'static, str> {
        "Ports".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let long = generator.subschema_for::<PortConfig>();
        json_schema!({
            "description": "Published ports: `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]` strings (ranges like `8000-8010:80-90` allowed), integers, or long-syntax maps.",
            "type": "array",
            "items": {
                "anyOf": [
                    { "type": "integer", "minimum": 0, "maximum": 65535 },
                    { "type": "string", "pattern": PORT_PATTERN },
                    long
                ]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ports(v: serde_json::Value) -> Vec<PortConfig> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(deserialize_with = "deserialize_ports")]
            ports: Vec<PortConfig>,
        }
        serde_json::from_value::<Probe>(json!({ "ports": v }))
            .expect("ports")
            .ports
    }

    fn pairs(list: &[PortConfig]) -> Vec<(Option<u16>, u16)> {
        list.iter().map(|p| (p.published, p.target)).collect()
    }

    fn short_err(spec: &str) -> String {
        PortConfig::parse_short(spec).expect_err(spec).to_string()
    }

    #[test]
    fn short_forms_expand_like_compose() {
        assert_eq!(pairs(&ports(json!(["3000"]))), [(None, 3000)]);
        assert_eq!(pairs(&ports(json!([3000]))), [(None, 3000)]);
        let range = ports(json!(["3001-3005"]));
        assert_eq!(range.len(), 5);
        assert_eq!(
            pairs(&range),
            (3001..=3005).map(|t| (None, t)).collect::<Vec<_>>()
        );
        assert_eq!(pairs(&ports(json!(["8000:8000"]))), [(Some(8000), 8000)]);
        assert_eq!(
            pairs(&ports(json!(["9090-9091:8080-8081"]))),
            [(Some(9090), 8080), (Some(9091), 8081)]
        );
        assert_eq!(pairs(&ports(json!(["49100:22"]))), [(Some(49100), 22)]);
    }

    #[test]
    fn short_forms_with_host_ip_and_protocol() {
        let local = ports(json!(["127.0.0.1:8001:8001"]));
        assert_eq!(local[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(pairs(&local), [(Some(8001), 8001)]);
        let ranged = ports(json!(["127.0.0.1:5000-5010:5000-5010"]));
        assert_eq!(ranged.len(), 11);
        assert!(ranged.iter().all(|p| p.host_ip.as_deref() == Some("127.0.0.1") && p.published == Some(p.target)));
        let udp = ports(json!(["8080:80/udp"]));
        assert_eq!(
            (udp[0].published, udp[0].target, udp[0].protocol),
            (Some(8080), 80, Protocol::Udp)
        );
        let v6 = ports(json!(["[::1]:8080:80"]));
        assert_eq!(
            (v6[0].host_ip.as_deref(), v6[0].published, v6[0].target),
            (Some("::1"), Some(8080), 80)
        );
        let any = ports(json!(["0.0.0.0:80:80/tcp"]));
        assert_eq!(
            (any[0].host_ip.as_deref(), any[0].protocol),
            (Some("0.0.0.0"), Protocol::Tcp)
        );
        let no_published = ports(json!(["127.0.0.1::80"]));
        assert_eq!(pairs(&no_published), [(None, 80)]);
    }

    #[test]
    fn long_syntax_accepts_string_ports() {
        let long =
            ports(json!([{"target": 80, "published": "8080", "mode": "host", "protocol": "udp"}]));
        assert_eq!(long[0].published, Some(8080));
        assert_eq!(long[0].mode, PortMode::Host);
        assert_eq!(long[0].protocol, Protocol::Udp);
        let string_target = ports(json!([{"target": "80"}]));
        assert_eq!(string_target[0].target, 80);
    }

    #[test]
    fn bad_short_ports_explain_the_syntax() {
        let err = short_err("80:abc");
        assert!(err.starts_with("invalid port `80:abc`"), "{err}");
        assert!(
            err.contains("[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]"),
            "{err}"
        );
        assert!(short_err("9090-9092:8080-8081").contains("differ in length"));
        assert!(short_err("80/icmp").contains("unknown protocol `icmp`"));
        assert!(short_err("70000").contains("not a port number"));
        assert!(short_err("90-80").contains("ends before it starts"));
        assert_eq!(
            PortConfig::parse_short("90-80").map_err(|e| e.why),
            Err(PortFault::BackwardRange("90-80".into()))
        );
    }

    #[test]
    fn ports_serialize_long_and_round_trip() {
        let parsed = ports(
            json!(["127.0.0.1:5000-5001:6000-6001/udp", 22, {"target": 80, "published": 8080}]),
        );
        let value = serde_json::to_value(&parsed).expect("ser");
        assert_eq!(
            value[0],
            json!({"target": 6000, "published": 5000, "protocol": "udp", "mode": "ingress", "host_ip": "127.0.0.1"})
        );
        assert_eq!(ports(value), parsed);
    }
}

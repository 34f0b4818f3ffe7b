//! The "list or map" and "string or list" shapes Compose accepts for many keys.
//!
//! Each helper is a `deserialize_with` function; the marker types next to them give the
//! matching JSON Schema (`#[schemars(with = ...)]`), so schema and parser accept the same forms.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::scalar::Scalar;

/// Why a list or map entry is not accepted (the visitor adds where).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ListError {
    /// A map value of null where a value is required.
    #[error("needs a value")]
    NeedsValue,
    /// An `extra_hosts` entry that is not `HOST:IP` or `HOST=IP`.
    #[error("invalid extra host `{0}`: write `HOST:IP` (e.g. `db.local:10.0.0.5` or `v6host:::1`)")]
    ExtraHost(String),
}

type ItemFn<V> = fn(&str) -> Result<(String, V), ListError>;
type ValueFn<V> = fn(Scalar) -> Result<V, ListError>;

/// Accepts a list of strings (parsed by `item`) or a map whose scalar values go through `value`.
struct ListOrMap<V> {
    what: &'static str,
    item: Option<ItemFn<V>>,
    value: ValueFn<V>,
    _v: PhantomData<V>,
}

impl<'de, V> Visitor<'de> for ListOrMap<V> {
    type Value = BTreeMap<String, V>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.item {
            Some(_) => write!(f, "{} as a map or a list of `KEY=VALUE` strings", self.what),
            None => write!(f, "{} as a map", self.what),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Some(item) = self.item else {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        };
        let mut out = BTreeMap::new();
        while let Some(entry) = seq.next_element::<String>()? {
            let (k, v) = item(&entry).map_err(de::Error::custom)?;
            out.insert(k, v);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, Scalar>()? {
            let v = (self.value)(v)
                .map_err(|why| de::Error::custom(format!("{} `{k}`: {why}", self.what)))?;
            out.insert(k, v);
        }
        Ok(out)
    }
}

fn list_or_map<'de, D: Deserializer<'de>, V>(
    d: D,
    what: &'static str,
    item: Option<ItemFn<V>>,
    value: ValueFn<V>,
) -> Result<BTreeMap<String, V>, D::Error> {
    d.deserialize_any(ListOrMap {
        what,
        item,
        value,
        _v: PhantomData,
    })
}

fn text_or_empty(v: Scalar) -> Result<String, ListError> {
    Ok(v.into_text().unwrap_or_default())
}

fn text_or_none(v: Scalar) -> Result<Option<String>, ListError> {
    Ok(v.into_text())
}

fn key_value_or_empty(s: &str) -> Result<(String, String), ListError> {
    Ok(match s.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => (s.to_owned(), String::new()),
    })
}

fn key_value_or_none(s: &str) -> Result<(String, Option<String>), ListError> {
    Ok(match s.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (s.to_owned(), None),
    })
}

/// Labels and sysctls: `["a=b", "c"]` or `{a: b, n: 1, e: null}`; a missing value is `""`.
pub(crate) fn labels<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    list_or_map(d, "label", Some(key_value_or_empty), text_or_empty)
}

/// Environment: `["A=b", "C"]` or `{A: b, N: 1, C: null}`; `C` alone means "take it from the
/// deployer's environment", kept as `None`.
pub(crate) fn environment<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    list_or_map(
        d,
        "environment variable",
        Some(key_value_or_none),
        text_or_none,
    )
}

/// Driver options and similar: a map whose values may be strings or numbers.
pub(crate) fn options<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    list_or_map(d, "option", None, |v| match v {
        Scalar::Null => Err(ListError::NeedsValue),
        v => Ok(v.into_text().unwrap_or_default()),
    })
}

/// A single string or a list of strings (numbers are taken as text).
pub(crate) fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<Scalar>()? {
                match item {
                    Scalar::Str(s) => out.push(s),
                    Scalar::Int(_) | Scalar::UInt(_) => out.extend(item.into_text()),
                    other => {
                        return Err(de::Error::custom(format!(
                            "expected a string, found {}",
                            other.kind()
                        )));
                    }
                }
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// `extra_hosts`: `["host:ip", "host=ip"]` or `{host: ip}` / `{host: [ip, ip]}`, canonicalized
/// to `host:ip` strings. The host ends at the FIRST `:` so IPv6 (`myhost:::1`) survives.
pub(crate) fn extra_hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of `host:ip` strings or a map of host to ip")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = seq.next_element::<String>()? {
                let (host, ip) = split_host(&entry).map_err(de::Error::custom)?;
                out.push(format!("{host}:{ip}"));
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(host) = map.next_key::<String>()? {
                for ip in map.next_value_seed(StringOrListSeed)? {
                    out.push(format!("{host}:{ip}"));
                }
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

struct StringOrListSeed;

impl<'de> de::DeserializeSeed<'de> for StringOrListSeed {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        string_or_list(d)
    }
}

/// Splits an `extra_hosts` entry at `=` if present, else at the first `:`.
fn split_host(entry: &str) -> Result<(&str, &str), ListError> {
    let split = if entry.contains('=') {
        entry.split_once('=')
    } else {
        entry.split_once(':')
    };
    match split {
        Some((host, ip)) if !host.is_empty() && !ip.is_empty() => Ok((host, ip)),
        _ => Err(ListError::ExtraHost(entry.to_owned())),
    }
}

/// Schema: a map of scalars or a list of `KEY[=VALUE]` strings.
pub(crate) struct ListOrDict;

impl JsonSchema for ListOrDict {
    fn schema_name() -> Cow<'static, str> {
        "ListOrDict".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A map of names to values, or a list of `NAME=VALUE` (or bare `NAME`) strings.",
            "anyOf": [
                {
                    "type": "object",
                    "additionalProperties": { "type": ["string", "number", "boolean", "null"] }
                },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

/// Schema: a map of strings or numbers.
pub(crate) struct OptionMap;

impl JsonSchema for OptionMap {
    fn schema_name() -> Cow<'static, str> {
        "OptionMap".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A map of option names to string or number values.",
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean"] }
        })
    }
}

/// Schema: one string or a list of strings.
pub(crate) struct StringOrList;

impl JsonSchema for StringOrList {
    fn schema_name() -> Cow<'static, str> {
        "StringOrList".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": ["string", "integer"] } }
            ]
        })
    }
}

/// Schema: `extra_hosts` list or map.
pub(crate) struct ExtraHosts;

impl JsonSchema for ExtraHosts {
    fn schema_name() -> Cow<'static, str> {
        "ExtraHosts".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Extra /etc/hosts entries: a list of `HOST:IP` (or `HOST=IP`) strings, or a map of host to IP (or list of IPs).",
            "anyOf": [
                { "type": "array", "items": { "type": "string", "pattern": "^[^:=]+[:=].+$" } },
                {
                    "type": "object",
                    "additionalProperties": {
                        "anyOf": [
                            { "type": "string" },
                            { "type": "array", "items": { "type": "string" } }
                        ]
                    }
                }
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
        #[serde(default, deserialize_with = "labels")]
        labels: BTreeMap<String, String>,
        #[serde(default, deserialize_with = "environment")]
        environment: BTreeMap<String, Option<String>>,
        #[serde(default, deserialize_with = "string_or_list")]
        dns: Vec<String>,
        #[serde(default, deserialize_with = "extra_hosts")]
        extra_hosts: Vec<String>,
        #[serde(default, deserialize_with = "options")]
        opts: BTreeMap<String, String>,
    }

    fn probe(v: serde_json::Value) -> Probe {
        serde_json::from_value(v).expect("probe")
    }

    #[test]
    fn environment_list_and_map_agree() {
        let from_list = probe(json!({"environment": ["A=b", "C", "D=x=y"]})).environment;
        let from_map = probe(json!({"environment": {"A": "b", "C": null, "D": "x=y"}})).environment;
        assert_eq!(from_list, from_map);
        assert_eq!(from_list["C"], None);
        assert_eq!(from_list["D"].as_deref(), Some("x=y"));
        let typed = probe(json!({"environment": {"N": 1, "B": true, "F": 1.5}})).environment;
        assert_eq!(typed["N"].as_deref(), Some("1"));
        assert_eq!(typed["B"].as_deref(), Some("true"));
        assert_eq!(typed["F"].as_deref(), Some("1.5"));
    }

    #[test]
    fn labels_list_and_map_agree() {
        let from_list = probe(json!({"labels": ["a=b", "n=42", "empty"]})).labels;
        let from_map = probe(json!({"labels": {"a": "b", "n": 42, "empty": null}})).labels;
        assert_eq!(from_list, from_map);
        assert_eq!(from_list["empty"], "");
    }

    #[test]
    fn string_or_list_accepts_both() {
        assert_eq!(probe(json!({"dns": "8.8.8.8"})).dns, ["8.8.8.8"]);
        assert_eq!(
            probe(json!({"dns": ["8.8.8.8", "9.9.9.9"]})).dns,
            ["8.8.8.8", "9.9.9.9"]
        );
    }

    #[test]
    fn extra_hosts_keep_ipv6_and_canonicalize() {
        let hosts =
            probe(json!({"extra_hosts": ["ipv6.example.com:::1", "a=1.2.3.4", "b:host-gateway"]}));
        assert_eq!(
            hosts.extra_hosts,
            ["ipv6.example.com:::1", "a:1.2.3.4", "b:host-gateway"]
        );
        let map = probe(json!({"extra_hosts": {"a": "1.2.3.4", "multi": ["::1", "10.0.0.1"]}}));
        assert_eq!(
            map.extra_hosts,
            ["a:1.2.3.4", "multi:::1", "multi:10.0.0.1"]
        );
        let err = serde_json::from_value::<Probe>(json!({"extra_hosts": ["nohost"]}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("invalid extra host `nohost`"), "{err}");
    }

    #[test]
    fn options_take_numbers_as_text_and_refuse_lists() {
        assert_eq!(
            probe(json!({"opts": {"baz": 1, "foo": "bar"}})).opts["baz"],
            "1"
        );
        assert!(serde_json::from_value::<Probe>(json!({"opts": ["a=b"]})).is_err());
    }
}

//! JSON Schema generation: the documents the loader validates input against first.

use schemars::generate::SchemaSettings;
use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::compose::ComposeFile;
use crate::config::ConfigSpec;
use crate::meta::{Kind, ObjectMeta};
use crate::network::NetworkSpec;
use crate::node::NodeSpec;
use crate::secret::SecretSpec;
use crate::service::ServiceSpec;
use crate::stack::StackSpec;

/// Where published schemas live; each document's `$id` is `<base>/<name>.json`.
pub const SCHEMA_BASE_URL: &str = "https://swarm.dev/schemas";

/// Compose extension fields (`x-*`) are legal in every closed object, as the Compose spec says.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowExtensions;

impl Transform for AllowExtensions {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(obj) = schema.as_object_mut()
            && obj.get("additionalProperties") == Some(&Value::Bool(false))
        {
            let patterns = obj.entry("patternProperties").or_insert_with(|| json!({}));
            if let Some(patterns) = patterns.as_object_mut() {
                patterns.entry("^x-").or_insert_with(|| json!({}));
            }
        }
        transform_subschemas(self, schema);
    }
}

/// A draft 2020-12 generator that also allows `x-*` keys in every closed object.
pub fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with_transform(AllowExtensions)
        .into_generator()
}

/// Every published schema as `(name, document)`: the Compose file, then one native manifest
/// schema per writable kind.
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("compose", compose()),
        ("service", manifest::<ServiceSpec>("service", Kind::Service)),
        ("network", manifest::<NetworkSpec>("network", Kind::Network)),
        ("secret", manifest::<SecretSpec>("secret", Kind::Secret)),
        ("config", manifest::<ConfigSpec>("config", Kind::Config)),
        ("node", manifest::<NodeSpec>("node", Kind::Node)),
        ("stack", manifest::<StackSpec>("stack", Kind::Stack)),
    ]
}

/// The schema of a Compose stack file.
pub fn compose() -> Value {
    let root = generator().into_root_schema_for::<ComposeFile>().to_value();
    document("compose", root)
}

/// The schema of a native manifest whose spec is `S`.
pub fn manifest<S: JsonSchema>(name: &str, kind: Kind) -> Value {
    let mut generator = generator();
    let metadata = generator.subschema_for::<ObjectMeta>();
    let spec = generator.subschema_for::<S>();
    let mut root = json!({
        "title": format!("swarm {kind} manifest"),
        "type": "object",
        "properties": {
            "apiVersion": { "const": crate::API_VERSION },
            "kind": { "const": kind.as_str() },
            "metadata": metadata,
            "spec": spec
        },
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false,
    });
    let defs = generator.take_definitions(false);
    if !defs.is_empty() {
        root["$defs"] = Value::Object(defs);
    }
    document(name, root)
}

/// Applies the extension transform and puts `$schema`, `$id`, `title` first and `$defs` last,
/// so documents diff well.
fn document(name: &str, root: Value) -> Value {
    let mut schema = Schema::try_from(root).unwrap_or_default();
    AllowExtensions.transform(&mut schema);
    let mut body = match schema.to_value() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        json!(schemars::generate::SchemaSettings::draft2020_12().meta_schema),
    );
    out.insert(
        "$id".into(),
        json!(format!("{SCHEMA_BASE_URL}/{name}.json")),
    );
    if let Some(title) = body.shift_remove("title") {
        out.insert("title".into(), title);
    }
    body.shift_remove("$schema");
    let defs = body.shift_remove("$defs");
    out.extend(body);
    if let Some(defs) = defs {
        out.insert("$defs".into(), defs);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_name(name: &str) -> Value {
        all()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .expect(name)
    }

    #[test]
    fn every_document_is_self_contained_and_identified() {
        let names: Vec<&str> = all().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "compose", "service", "network", "secret", "config", "node", "stack"
            ]
        );
        for (name, doc) in all() {
            let keys: Vec<&String> = doc.as_object().expect("object").keys().collect();
            assert_eq!(keys[..3], ["$schema", "$id", "title"], "{name}");
            assert_eq!(
                doc["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            assert_eq!(doc["$id"], format!("https://swarm.dev/schemas/{name}.json"));
            // Every $ref must resolve inside the document.
            let text = doc.to_string();
            for r in text.split("\"$ref\":\"#/$defs/").skip(1) {
                let def = &r[..r.find('"').expect("ref end")];
                assert!(
                    doc["$defs"].get(def).is_some(),
                    "{name}: dangling $ref {def}"
                );
            }
        }
        assert_eq!(by_name("compose")["title"], "swarm compose stack file");
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(
            serde_json::to_string(&all()).ok(),
            serde_json::to_string(&all()).ok()
        );
    }

    #[test]
    fn service_spec_is_closed_but_allows_extensions_and_unsupported_keys() {
        let doc = by_name("service");
        let spec = &doc["$defs"]["ServiceSpec"];
        assert_eq!(spec["additionalProperties"], false);
        assert_eq!(spec["patternProperties"], json!({"^x-": {}}));
        let build = &spec["properties"]["build"]["description"];
        assert!(
            build
                .as_str()
                .expect("text")
                .starts_with("Not honoured by swarm; accepted with a warning: build the image")
        );
        // Maps are open and untouched by the extension transform.
        let labels = &doc["$defs"]["ListOrDict"];
        assert!(labels.get("patternProperties").is_none());
        assert_eq!(
            doc["$defs"]["Deploy"]["properties"]["replicas"]["minimum"],
            0
        );
    }

    #[test]
    fn manifests_pin_api_version_and_kind() {
        let doc = by_name("network");
        assert_eq!(doc["properties"]["apiVersion"]["const"], "swarm/v1");
        assert_eq!(doc["properties"]["kind"]["const"], "Network");
        assert_eq!(
            doc["required"],
            json!(["apiVersion", "kind", "metadata", "spec"])
        );
        assert_eq!(doc["patternProperties"], json!({"^x-": {}}));
        assert_eq!(doc["$defs"]["ObjectMeta"]["required"], json!(["name"]));
        let network = &doc["$defs"]["NetworkSpec"];
        assert_eq!(network["additionalProperties"], false);
        assert!(network["properties"]["external"].is_object());
    }

    #[test]
    fn custom_types_describe_every_accepted_form() {
        let doc = by_name("service");
        let defs = &doc["$defs"];
        assert_eq!(
            defs["Duration"]["anyOf"][0]["pattern"],
            crate::units::DURATION_PATTERN
        );
        assert_eq!(defs["Duration"]["anyOf"][1]["type"], "integer");
        let ports = &defs["ServiceSpec"]["properties"]["ports"]["items"]["anyOf"];
        assert_eq!(ports[0]["type"], "integer");
        assert_eq!(ports[1]["pattern"], crate::service::PORT_PATTERN);
        assert_eq!(ports[2]["$ref"], "#/$defs/PortConfig");
        assert_eq!(defs["PortConfig"]["patternProperties"], json!({"^x-": {}}));
    }
}

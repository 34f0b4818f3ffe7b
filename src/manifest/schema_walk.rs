//! Finding which sub-schemas of a JSON Schema govern a node, by instance path.
//!
//! Needed twice: to turn interpolated strings back into the number or boolean their field wants,
//! and to list the keys allowed where an unknown key was found ("did you mean").

use serde_json::Value;

/// Every schema (after `$ref`, `allOf`, `anyOf` and `oneOf` expansion) that applies to the node
/// at `segments` under `root`.
pub fn schemas_at<'a>(root: &'a Value, segments: &[String]) -> Vec<&'a Value> {
    let mut current = Vec::new();
    expand(root, root, &mut current, 0);
    for segment in segments {
        let mut next = Vec::new();
        for schema in current {
            for child in children(schema, segment) {
                expand(root, child, &mut next, 0);
            }
        }
        current = next;
    }
    current
}

/// Splits a JSON pointer into unescaped segments.
pub fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn children<'a>(schema: &'a Value, segment: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    if let Some(prop) = schema.get("properties").and_then(|p| p.get(segment)) {
        out.push(prop);
        return out;
    }
    if let Some(Value::Object(patterns)) = schema.get("patternProperties") {
        for (pattern, sub) in patterns {
            // Our schemas only use prefix patterns such as `^x-`.
            if let Some(prefix) = pattern.strip_prefix('^')
                && segment.starts_with(prefix)
            {
                out.push(sub);
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    if let Some(additional) = schema.get("additionalProperties")
        && additional.is_object()
    {
        out.push(additional);
    }
    if segment.parse::<usize>().is_ok()
        && let Some(items) = schema.get("items")
    {
        out.push(items);
    }
    out
}

fn expand<'a>(root: &'a Value, schema: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    // Recursive types (a tree of definitions) must not loop forever.
    if depth > 32 {
        return;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str)
        && let Some(target) = resolve_ref(root, reference)
    {
        expand(root, target, out, depth + 1);
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = schema.get(keyword) {
            for branch in branches {
                expand(root, branch, out, depth + 1);
            }
        }
    }
    if !out.iter().any(|s| std::ptr::eq(*s, schema)) {
        out.push(schema);
    }
}

fn resolve_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

/// JSON types a set of schemas accepts; `None` when one of them accepts anything.
pub fn accepted_types(schemas: &[&Value]) -> Option<Vec<String>> {
    let mut types = Vec::new();
    let mut constrained = false;
    for schema in schemas {
        match schema.get("type") {
            Some(Value::String(t)) => {
                constrained = true;
                types.push(t.clone());
            }
            Some(Value::Array(list)) => {
                constrained = true;
                types.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            _ => {
                let is_composite = ["$ref", "anyOf", "oneOf", "allOf", "enum", "const"]
                    .iter()
                    .any(|k| schema.get(k).is_some());
                if !is_composite && schema.is_object() {
                    return None;
                }
                if let Some(Value::Array(options)) = schema.get("enum") {
                    constrained = true;
                    types.extend(options.iter().map(|v| json_type(v).to_owned()));
                }
            }
        }
    }
    constrained.then_some(types)
}

/// Keys allowed by the object schemas among `schemas` (for suggestions).
pub fn allowed_keys(schemas: &[&Value]) -> Vec<String> {
    let mut keys: Vec<String> = schemas
        .iter()
        .filter_map(|s| s.get("properties").and_then(Value::as_object))
        .flat_map(|props| props.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The JSON Schema name of a value's type.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {"services": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Svc"}}},
            "$defs": {
                "Svc": {"type": "object", "additionalProperties": false,
                        "properties": {"image": {"type": "string"}, "deploy": {"$ref": "#/$defs/Deploy"}}},
                "Deploy": {"type": "object", "properties": {"replicas": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}
            }
        })
    }

    #[test]
    fn walks_refs_and_maps() {
        let root = schema();
        let at = schemas_at(&root, &segments("/services/web/deploy/replicas"));
        let types = accepted_types(&at).expect("constrained");
        assert!(types.contains(&"integer".to_string()));
        assert!(!types.contains(&"string".to_string()));
        let svc = schemas_at(&root, &segments("/services/web"));
        assert_eq!(allowed_keys(&svc), vec!["deploy", "image"]);
    }
}

//! Field-level diffs between canonical JSON values (the plan items they fill are wire types).

use serde_json::Value;
use wire::FieldChange;

/// Appends every leaf where `from` and `to` differ; objects recurse by key (also when added or
/// removed whole), arrays of equal length by index, anything else is one leaf.
pub fn leaf_changes(
    path: &str,
    from: Option<&Value>,
    to: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    let from = from.filter(|v| !v.is_null());
    let to = to.filter(|v| !v.is_null());
    match (from, to) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (key, value) in b {
                leaf_changes(&join(path, key), a.get(key), Some(value), out);
            }
            for (key, value) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
                leaf_changes(&join(path, key), Some(value), None, out);
            }
        }
        // A block added or removed as a whole still reads best field by field.
        (None, Some(Value::Object(b))) if !b.is_empty() => {
            for (key, value) in b {
                leaf_changes(&join(path, key), None, Some(value), out);
            }
        }
        (Some(Value::Object(a)), None) if !a.is_empty() => {
            for (key, value) in a {
                leaf_changes(&join(path, key), Some(value), None, out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                leaf_changes(&format!("{path}[{index}]"), Some(x), Some(y), out);
            }
        }
        (a, b) if a != b => out.push(FieldChange {
            path: path.to_owned(),
            from: a.cloned(),
            to: b.cloned(),
            redacted: false,
        }),
        _ => {}
    }
}

/// `a.b`, or `a."x.y"` when the key is not a plain word.
pub fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if plain {
        key.to_owned()
    } else {
        format!("\"{key}\"")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_are_reported_with_readable_paths() {
        let a = json!({"image": "nginx:1.26", "deploy": {"replicas": 2}, "labels": {"a.b": "1"}, "ports": [1]});
        let b = json!({"image": "nginx:1.27", "deploy": {"replicas": 4}, "labels": {}, "ports": [1, 2]});
        let mut out = Vec::new();
        leaf_changes("", Some(&a), Some(&b), &mut out);
        let described: Vec<String> = out.iter().map(FieldChange::describe).collect();
        assert_eq!(
            described,
            vec![
                "image nginx:1.26 -> nginx:1.27",
                "deploy.replicas 2 -> 4",
                "labels.\"a.b\" 1 -> (unset)",
                "ports [1] -> [1,2]",
            ]
        );
    }
}

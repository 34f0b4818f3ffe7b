//! Compose override semantics for several `-f` files, applied to the canonical (long-syntax)
//! JSON form of each file so list and map spellings merge alike.

use serde_json::{Map, Value};

/// Merges `over` into `base`, the way `docker stack deploy -c base.yml -c over.yml` does:
/// mappings merge key by key, scalars are replaced, and lists follow per-field rules.
pub fn merge(base: &mut Value, over: Value) {
    merge_at(base, over, &mut Vec::new());
}

fn merge_at(base: &mut Value, over: Value, path: &mut Vec<String>) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => merge_maps(base, over, path),
        (Value::Array(base), Value::Array(over)) => merge_lists(base, over, path),
        (slot, over) => *slot = over,
    }
}

fn merge_maps(base: &mut Map<String, Value>, over: Map<String, Value>, path: &mut Vec<String>) {
    for (key, value) in over {
        match base.get_mut(&key) {
            Some(existing) if !value.is_null() => {
                path.push(key);
                merge_at(existing, value, path);
                path.pop();
            }
            Some(_) => {}
            None => {
                base.insert(key, value);
            }
        }
    }
}

fn merge_lists(base: &mut Vec<Value>, over: Vec<Value>, path: &[String]) {
    let field = path.last().map(String::as_str).unwrap_or_default();
    let parent = path
        .len()
        .checked_sub(2)
        .and_then(|i| path.get(i))
        .map(String::as_str);
    match (parent, field) {
        // A command is one value, not a set of arguments to accumulate.
        (_, "command" | "entrypoint") | (Some("healthcheck"), "test") => *base = over,
        (Some(_), "volumes") if path.len() == 3 => merge_by_key(base, over, &["target"]),
        (Some(_), "secrets" | "configs") if path.len() == 3 => {
            merge_by_key(base, over, &["target", "source"])
        }
        _ => {
            for item in over {
                if !base.contains(&item) {
                    base.push(item);
                }
            }
        }
    }
}

/// Entries with the same identifying field replace each other; new ones are appended.
fn merge_by_key(base: &mut Vec<Value>, over: Vec<Value>, keys: &[&str]) {
    let identity = |v: &Value| {
        keys.iter()
            .find_map(|k| v.get(*k).filter(|x| !x.is_null()).cloned())
    };
    for item in over {
        let id = identity(&item);
        match base
            .iter_mut()
            .find(|existing| id.is_some() && identity(existing) == id)
        {
            Some(existing) => *existing = item,
            None => base.push(item),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compose_override_rules() {
        let mut base = json!({"services": {"web": {
            "image": "nginx:1.26",
            "command": ["a", "b"],
            "environment": {"A": "1", "B": "2"},
            "ports": [{"target": 80, "published": 8080}],
            "volumes": [{"type": "volume", "source": "d", "target": "/data"}],
            "secrets": [{"source": "s1"}],
            "deploy": {"replicas": 2, "labels": {"x": "1"}}
        }}});
        let over = json!({"services": {"web": {
            "image": "nginx:1.27",
            "command": ["c"],
            "environment": {"B": "3"},
            "ports": [{"target": 443, "published": 8443}],
            "volumes": [{"type": "bind", "source": "/srv", "target": "/data"}],
            "secrets": [{"source": "s1", "target": "/run/secrets/x"}, {"source": "s2"}],
            "deploy": {"replicas": 4}
        }, "db": {"image": "postgres"}}});
        merge(&mut base, over);
        let web = &base["services"]["web"];
        assert_eq!(web["image"], "nginx:1.27");
        assert_eq!(web["command"], json!(["c"]));
        assert_eq!(web["environment"], json!({"A": "1", "B": "3"}));
        assert_eq!(web["ports"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            web["volumes"],
            json!([{"type": "bind", "source": "/srv", "target": "/data"}])
        );
        assert_eq!(web["secrets"].as_array().map(Vec::len), Some(3));
        assert_eq!(web["deploy"], json!({"replicas": 4, "labels": {"x": "1"}}));
        assert_eq!(base["services"]["db"]["image"], "postgres");
    }
}

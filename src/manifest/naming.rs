//! The stack a file forms when nothing names it.
//!
//! `docker stack deploy -c FILE NAME` needs a name; swarm picks one so `apply -f web.yml` and a
//! watched `web.yml` land in the same stack `web`, and each file of a directory is a stack of
//! its own. A generic file name (Compose's defaults `compose.yaml` and `docker-compose.yml`, or
//! `stack.yml` and `docker-stack.yml` as Docker's stack docs write them) says nothing about the
//! stack, so it takes its directory's name, as `docker compose` names projects.

use std::path::Path;

/// File names that say nothing about their stack (without extension).
const GENERIC_NAMES: [&str; 4] = ["compose", "docker-compose", "stack", "docker-stack"];

/// `explicit` (`--stack`, then the compose `name:`), else the first input's file name without
/// its extension, else (stdin, a request body, a generic file name) the name of the directory
/// `dir` its references resolve against.
pub fn stack_name(explicit: Option<&str>, first_input: &str, dir: &Path) -> String {
    if let Some(name) = explicit {
        return name.to_owned();
    }
    let path = Path::new(first_input);
    let is_yaml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"));
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if is_yaml && !GENERIC_NAMES.contains(&stem.as_str()) {
        return stack_for_file(path);
    }
    let absolute = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let base = absolute
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_else(|| "default".into());
    // Docker derives project names the same way: lowercase, only [a-z0-9_-].
    let cleaned: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    if cleaned.is_empty() {
        "default".into()
    } else {
        cleaned
    }
}

/// The stack a file names: its file name without extension, made a valid stack name
/// (lowercase; characters other than letters, digits, `_`, `-` become `-`).
pub fn stack_for_file(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() {
        "stack".into()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_names_its_stack_unless_something_else_does() {
        let dir = Path::new("/srv/shop");
        assert_eq!(stack_name(None, "manifests/examples/web.yml", dir), "web");
        assert_eq!(stack_name(None, "/x/My App.v2.YAML", dir), "my-app-v2");
        assert_eq!(stack_name(Some("named"), "web.yml", dir), "named");
        assert_eq!(stack_name(None, "/srv/shop/compose.yaml", dir), "shop");
        assert_eq!(stack_name(None, "docker-compose.yml", dir), "shop");
        assert_eq!(stack_name(None, "stack.yml", dir), "shop");
        assert_eq!(stack_name(None, "docker-stack.yaml", dir), "shop");
        assert_eq!(
            stack_name(None, "<stdin>", Path::new("/srv/My.Shop")),
            "myshop"
        );
        assert_eq!(stack_name(None, "/x/...yml", dir), "stack");
    }
}

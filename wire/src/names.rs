//! Names as Docker shows them.

/// An object's name as `docker stack` shows it: `<stack>_<name>` for an object of a stack,
/// the bare name otherwise.
pub fn docker_name(stack: Option<&str>, name: &str) -> String {
    match stack {
        Some(stack) => format!("{stack}_{name}"),
        None => name.to_owned(),
    }
}

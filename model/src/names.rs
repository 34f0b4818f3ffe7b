//! Object name rules (Docker's), checked by hand to avoid a regex dependency.

/// Longest service, network or stack name; `<stack>_<service>` must fit too.
pub const MAX_NAME_LEN: usize = 63;

/// Longest secret or config name.
pub const MAX_DATA_NAME_LEN: usize = 64;

/// Longest node name (a DNS host name).
pub const MAX_NODE_NAME_LEN: usize = 253;

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`, at most `max` characters.
fn check_simple(what: &str, name: &str, max: usize) -> Result<(), String> {
    let rule = format!(
        "{what} names start with a letter or digit, then use only letters, digits, `_`, `.` and `-`, \
         and are at most {max} characters"
    );
    if name.is_empty() {
        return Err(format!("{what} name is empty: {rule}"));
    }
    let first_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !first_ok || !name.chars().all(is_word_char) {
        return Err(format!("invalid {what} name `{name}`: {rule}"));
    }
    if name.len() > max {
        return Err(format!(
            "{what} name `{name}` is {} characters long: {rule}",
            name.len()
        ));
    }
    Ok(())
}

/// `^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$`, at most 64 characters.
fn check_data(what: &str, name: &str) -> Result<(), String> {
    let rule = format!(
        "{what} names start and end with a letter or digit, use only letters, digits, `_`, `.` and `-` \
         in between, and are at most {MAX_DATA_NAME_LEN} characters"
    );
    let ends_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if name.is_empty() {
        return Err(format!("{what} name is empty: {rule}"));
    }
    if !ends_ok || !name.chars().all(is_word_char) {
        return Err(format!("invalid {what} name `{name}`: {rule}"));
    }
    if name.len() > MAX_DATA_NAME_LEN {
        return Err(format!(
            "{what} name `{name}` is {} characters long: {rule}",
            name.len()
        ));
    }
    Ok(())
}

/// Checks a service name.
pub fn check_service_name(name: &str) -> Result<(), String> {
    check_simple("service", name, MAX_NAME_LEN)
}

/// Checks a stack name.
pub fn check_stack_name(name: &str) -> Result<(), String> {
    check_simple("stack", name, MAX_NAME_LEN)
}

/// Checks a network name.
pub fn check_network_name(name: &str) -> Result<(), String> {
    check_simple("network", name, MAX_NAME_LEN)
}

/// Checks that `<stack>_<service>`, the name swarm gives the service, still fits.
pub fn check_stack_service_name(stack: &str, service: &str) -> Result<(), String> {
    let full = stack.len() + 1 + service.len();
    if full > MAX_NAME_LEN {
        return Err(format!(
            "service `{service}` in stack `{stack}` would be named `{stack}_{service}` ({full} characters); \
             stack and service names together must fit in {} characters",
            MAX_NAME_LEN - 1
        ));
    }
    Ok(())
}

/// Checks a secret name.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    check_data("secret", name)
}

/// Checks a config name.
pub fn check_config_name(name: &str) -> Result<(), String> {
    check_data("config", name)
}

/// Checks a node name: a DNS host name (labels of letters, digits and `-`, joined by `.`).
pub fn check_node_name(name: &str) -> Result<(), String> {
    let rule = format!(
        "node names are host names: dot-separated labels of letters, digits and `-` (not at either \
         end of a label), each at most 63 and all at most {MAX_NODE_NAME_LEN} characters"
    );
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > MAX_NODE_NAME_LEN || !name.split('.').all(label_ok) {
        return Err(format!("invalid node name `{name}`: {rule}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_and_stack_names() {
        for ok in ["web", "web_1", "a.b-c", "9lives"] {
            assert_eq!(check_service_name(ok), Ok(()), "{ok}");
            assert_eq!(check_stack_name(ok), Ok(()), "{ok}");
        }
        assert!(check_service_name("").expect_err("empty").contains("empty"));
        assert!(
            check_service_name("-web")
                .expect_err("dash")
                .contains("start with a letter or digit")
        );
        assert!(check_service_name("we b").is_err());
        assert!(
            check_service_name(&"a".repeat(64))
                .expect_err("long")
                .contains("64 characters long")
        );
        assert_eq!(check_service_name(&"a".repeat(63)), Ok(()));
        assert!(check_network_name("my net").is_err());
        assert!(check_stack_service_name(&"s".repeat(30), &"v".repeat(33)).is_err());
        assert_eq!(
            check_stack_service_name(&"s".repeat(30), &"v".repeat(32)),
            Ok(())
        );
    }

    #[test]
    fn secret_and_config_names() {
        for ok in ["db_password", "a", "tls.crt", "x-1"] {
            assert_eq!(check_secret_name(ok), Ok(()), "{ok}");
            assert_eq!(check_config_name(ok), Ok(()), "{ok}");
        }
        assert!(
            check_secret_name("pw_")
                .expect_err("trailing")
                .contains("end with a letter or digit")
        );
        assert!(check_config_name(".env").is_err());
        assert!(check_secret_name(&"a".repeat(65)).is_err());
        assert_eq!(check_secret_name(&"a".repeat(64)), Ok(()));
    }

    #[test]
    fn node_names_are_host_names() {
        assert_eq!(check_node_name("worker-1.example.com"), Ok(()));
        assert!(check_node_name("-bad").is_err());
        assert!(check_node_name("a..b").is_err());
        assert!(check_node_name("under_score").is_err());
    }
}

//! Object name rules (Docker's), checked by hand to avoid a regex dependency.

/// Longest service, network or stack name; `<stack>_<service>` must fit too.
pub const MAX_NAME_LEN: usize = 63;

/// Longest secret or config name.
pub const MAX_DATA_NAME_LEN: usize = 64;

/// Longest node name (a DNS host name).
pub const MAX_NODE_NAME_LEN: usize = 253;

/// The rule a name must follow, as the error explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`, at most `max` characters: services, stacks, networks.
    Word {
        /// The kind of object (`service`).
        what: &'static str,
        /// The longest name allowed.
        max: usize,
    },
    /// `^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$`, at most 64 characters: secrets, configs.
    Data {
        /// The kind of object (`secret`).
        what: &'static str,
    },
    /// A DNS host name: nodes.
    Host,
}

impl NameRule {
    /// The kind of object the rule is for.
    pub fn what(&self) -> &'static str {
        match self {
            NameRule::Word { what, .. } | NameRule::Data { what } => what,
            NameRule::Host => "node",
        }
    }
}

impl std::fmt::Display for NameRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameRule::Word { what, max } => write!(
                f,
                "{what} names start with a letter or digit, then use only letters, digits, `_`, \
                 `.` and `-`, and are at most {max} characters"
            ),
            NameRule::Data { what } => write!(
                f,
                "{what} names start and end with a letter or digit, use only letters, digits, \
                 `_`, `.` and `-` in between, and are at most {MAX_DATA_NAME_LEN} characters"
            ),
            NameRule::Host => write!(
                f,
                "node names are host names: dot-separated labels of letters, digits and `-` (not \
                 at either end of a label), each at most 63 and all at most {MAX_NODE_NAME_LEN} \
                 characters"
            ),
        }
    }
}

/// Why a name is not allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("{} name is empty: {rule}", .rule.what())]
    Empty {
        /// The rule it breaks.
        rule: NameRule,
    },
    /// The name uses characters (or ends) the rule does not allow.
    #[error("invalid {} name `{name}`: {rule}", .rule.what())]
    Invalid {
        /// The name.
        name: String,
        /// The rule it breaks.
        rule: NameRule,
    },
    /// The name is longer than the rule allows.
    #[error("{} name `{name}` is {len} characters long: {rule}", .rule.what())]
    TooLong {
        /// The name.
        name: String,
        /// Its length.
        len: usize,
        /// The rule it breaks.
        rule: NameRule,
    },
    /// `<stack>_<service>` is longer than a service name may be.
    #[error(
        "service `{service}` in stack `{stack}` would be named `{stack}_{service}` ({len} \
         characters); stack and service names together must fit in {} characters",
        MAX_NAME_LEN - 1
    )]
    StackServiceTooLong {
        /// The stack.
        stack: String,
        /// The service.
        service: String,
        /// The length of `<stack>_<service>`.
        len: usize,
    },
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks the characters and the length of `name` against `rule`; `ends_ok` says whether its
/// first (and for data names last) character is allowed.
fn check_chars(name: &str, rule: NameRule, ends_ok: bool, max: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { rule });
    }
    if !ends_ok || !name.chars().all(is_word_char) {
        return Err(NameError::Invalid {
            name: name.to_owned(),
            rule,
        });
    }
    if name.len() > max {
        return Err(NameError::TooLong {
            name: name.to_owned(),
            len: name.len(),
            rule,
        });
    }
    Ok(())
}

/// `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`, at most `max` characters.
fn check_simple(what: &'static str, name: &str, max: usize) -> Result<(), NameError> {
    let first_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric());
    check_chars(name, NameRule::Word { what, max }, first_ok, max)
}

/// `^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$`, at most 64 characters.
fn check_data(what: &'static str, name: &str) -> Result<(), NameError> {
    let ends_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    check_chars(name, NameRule::Data { what }, ends_ok, MAX_DATA_NAME_LEN)
}

/// Checks a service name.
pub fn check_service_name(name: &str) -> Result<(), NameError> {
    check_simple("service", name, MAX_NAME_LEN)
}

/// Checks a stack name.
pub fn check_stack_name(name: &str) -> Result<(), NameError> {
    check_simple("stack", name, MAX_NAME_LEN)
}

/// Checks a network name.
pub fn check_network_name(name: &str) -> Result<(), NameError> {
    check_simple("network", name, MAX_NAME_LEN)
}

/// Checks that `<stack>_<service>`, the name swarm gives the service, still fits.
pub fn check_stack_service_name(stack: &str, service: &str) -> Result<(), NameError> {
    let len = stack.len() + 1 + service.len();
    if len > MAX_NAME_LEN {
        return Err(NameError::StackServiceTooLong {
            stack: stack.to_owned(),
            service: service.to_owned(),
            len,
        });
    }
    Ok(())
}

/// Checks a secret name.
pub fn check_secret_name(name: &str) -> Result<(), NameError> {
    check_data("secret", name)
}

/// Checks a config name.
pub fn check_config_name(name: &str) -> Result<(), NameError> {
    check_data("config", name)
}

/// Checks a node name: a DNS host name (labels of letters, digits and `-`, joined by `.`).
pub fn check_node_name(name: &str) -> Result<(), NameError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > MAX_NODE_NAME_LEN || !name.split('.').all(label_ok) {
        return Err(NameError::Invalid {
            name: name.to_owned(),
            rule: NameRule::Host,
        });
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
        assert_eq!(
            check_service_name("").expect_err("empty").to_string(),
            "service name is empty: service names start with a letter or digit, then use only \
             letters, digits, `_`, `.` and `-`, and are at most 63 characters"
        );
        assert!(matches!(
            check_service_name("-web"),
            Err(NameError::Invalid { ref name, .. }) if name == "-web"
        ));
        assert!(
            check_service_name("-web")
                .expect_err("dash")
                .to_string()
                .starts_with("invalid service name `-web`: service names start with a letter")
        );
        assert!(check_service_name("we b").is_err());
        assert!(matches!(
            check_service_name(&"a".repeat(64)),
            Err(NameError::TooLong { len: 64, .. })
        ));
        assert!(
            check_service_name(&"a".repeat(64))
                .expect_err("long")
                .to_string()
                .contains("64 characters long")
        );
        assert_eq!(check_service_name(&"a".repeat(63)), Ok(()));
        assert!(check_network_name("my net").is_err());
        assert_eq!(
            check_stack_service_name("shop", &"v".repeat(60))
                .expect_err("long")
                .to_string(),
            format!(
                "service `{v}` in stack `shop` would be named `shop_{v}` (65 characters); stack \
                 and service names together must fit in 62 characters",
                v = "v".repeat(60)
            )
        );
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
        assert_eq!(
            check_secret_name("pw_").expect_err("trailing").to_string(),
            "invalid secret name `pw_`: secret names start and end with a letter or digit, use \
             only letters, digits, `_`, `.` and `-` in between, and are at most 64 characters"
        );
        assert!(check_config_name(".env").is_err());
        assert!(check_secret_name(&"a".repeat(65)).is_err());
        assert_eq!(check_secret_name(&"a".repeat(64)), Ok(()));
    }

    #[test]
    fn node_names_are_host_names() {
        assert_eq!(check_node_name("worker-1.example.com"), Ok(()));
        assert_eq!(
            check_node_name("-bad").expect_err("dash").to_string(),
            "invalid node name `-bad`: node names are host names: dot-separated labels of \
             letters, digits and `-` (not at either end of a label), each at most 63 and all at \
             most 253 characters"
        );
        assert!(check_node_name("a..b").is_err());
        assert!(check_node_name("under_score").is_err());
    }
}

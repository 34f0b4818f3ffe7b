//! Which services use which secrets, configs and networks.
//!
//! A service names what it uses by the key its stack declares it under (`secrets: [db]`). Within
//! its own stack that key is the object's name. A service may also use an object of another stack
//! (or of no stack) it declares `external`: then the key is either the object's plain name or
//! Docker's full name `<stack>_<name>`, and the service's own stack has no object by that key.

use model::Kind;
use model::service::ServiceSpec;
use sha2::{Digest, Sha256};

use crate::store::{Index, Record};

/// sha256 of secret/config content, lower-case hex.
pub fn content_hash(content: &str) -> String {
    Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The names a service uses for objects of `kind` (secrets, configs or networks).
pub fn used_names(spec: &ServiceSpec, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Secret => spec.secrets.iter().map(|r| r.source.clone()).collect(),
        Kind::Config => spec.configs.iter().map(|r| r.source.clone()).collect(),
        Kind::Network => spec.networks.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Whether the service `service` (a Service record) uses `target` (a secret, config or network).
pub fn uses(index: &Index, service: &Record, target: &Record) -> bool {
    let Ok(spec) = service.spec_as::<ServiceSpec>() else {
        return false;
    };
    let own_stack = service.metadata.stack.as_deref();
    let target_stack = target.metadata.stack.as_deref();
    let name = &target.metadata.name;
    used_names(&spec, target.kind).iter().any(|used| {
        if own_stack == target_stack {
            return used == name;
        }
        // A key its own stack defines refers to that object, not to one elsewhere.
        if index.find(target.kind, own_stack, used).is_some() {
            return false;
        }
        used == name || target_stack.is_some_and(|stack| *used == format!("{stack}_{name}"))
    })
}

/// The object a service in `stack` means by `key`: its own stack's first, then one outside any
/// stack, then one whose Docker full name `<stack>_<name>` is `key` (the rules of [`uses`]).
pub fn lookup<'a>(
    index: &'a Index,
    kind: Kind,
    stack: Option<&str>,
    key: &str,
) -> Option<&'a Record> {
    index
        .find(kind, stack, key)
        .or_else(|| index.find(kind, None, key))
        .or_else(|| {
            index.list(kind).into_iter().find(|r| {
                r.metadata
                    .stack
                    .as_deref()
                    .is_some_and(|s| format!("{s}_{}", r.metadata.name) == key)
            })
        })
}

/// Services that use `target`, in stack/name order.
pub fn users_of<'a>(index: &'a Index, target: &Record) -> Vec<&'a Record> {
    index
        .list(Kind::Service)
        .into_iter()
        .filter(|service| uses(index, service, target))
        .collect()
}

/// Services outside `stack` that use `target`; deleting it would break them.
pub fn foreign_users<'a>(index: &'a Index, target: &Record, stack: &str) -> Vec<&'a Record> {
    users_of(index, target)
        .into_iter()
        .filter(|s| s.metadata.stack.as_deref() != Some(stack))
        .collect()
}

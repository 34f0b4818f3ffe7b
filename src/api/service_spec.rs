//! Pure edits of a service spec behind `scale`, `update`, `rollback` and `restart`, and the
//! request bodies that ask for them. No I/O: `services.rs` reads, calls these, writes.

use model::service::{ServiceSpec, ServiceStatus};
use wire::UpdateBody;

use super::ApiError;
use super::edit::refused;
use crate::apply::LABEL_RESTART;

/// Sets the replica count; global services have none to set.
pub fn scale(name: &str, spec: &mut ServiceSpec, replicas: u64) -> Result<(), ApiError> {
    let mode = spec.mode();
    if mode.is_global() {
        return Err(refused(
            "global_service",
            format!(
                "service `{name}` is {}: it runs one task per eligible node, so it has no replica \
                 count to scale; change its placement constraints or node availability instead",
                mode.as_str()
            ),
        ));
    }
    spec.deploy.get_or_insert_with(Default::default).replicas = Some(replicas);
    Ok(())
}

/// Applies `body` to `spec`.
pub fn update(name: &str, spec: &mut ServiceSpec, body: &UpdateBody) -> Result<(), ApiError> {
    if let Some(image) = &body.image {
        if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
            return Err(ApiError::BadRequest(format!(
                "--image `{image}` is not an image reference (e.g. nginx:1.27)"
            )));
        }
        spec.image = Some(image.clone());
    }
    if let Some(replicas) = body.replicas {
        scale(name, spec, replicas)?;
    }
    for key in &body.env_rm {
        spec.environment.remove(key);
    }
    for (key, value) in &body.env_add {
        check_key("--env-add", key)?;
        spec.environment.insert(key.clone(), Some(value.clone()));
    }
    if !body.label_rm.is_empty() || !body.label_add.is_empty() {
        let labels = &mut spec.deploy.get_or_insert_with(Default::default).labels;
        for key in &body.label_rm {
            labels.remove(key);
        }
        for (key, value) in &body.label_add {
            check_key("--label-add", key)?;
            labels.insert(key.clone(), value.clone());
        }
    }
    if body.force {
        bump_restart(spec);
    }
    Ok(())
}

/// Bumps the restart counter label, so the spec differs and the update controller replaces
/// every task, `update_config` (parallelism, delay, order) deciding the pace.
pub fn bump_restart(spec: &mut ServiceSpec) {
    let next = spec
        .labels
        .get(LABEL_RESTART)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    spec.labels.insert(LABEL_RESTART.into(), next.to_string());
}

/// The spec to roll back to: the one the update controller kept in `status.previous_spec`.
pub fn rollback(
    name: &str,
    spec: &ServiceSpec,
    status: &ServiceStatus,
) -> Result<ServiceSpec, ApiError> {
    let Some(previous) = status.previous_spec.as_deref() else {
        return Err(refused(
            "no_previous_spec",
            format!("service `{name}` has no previous spec to roll back to (it was never updated)"),
        ));
    };
    if previous == spec {
        return Err(refused(
            "no_previous_spec",
            format!("service `{name}` already runs its previous spec; nothing to roll back"),
        ));
    }
    Ok(previous.clone())
}

/// Rejects what `spec.validate()` rejects, with the field paths.
pub fn validate(name: &str, spec: &ServiceSpec) -> Result<(), ApiError> {
    let issues = spec.validate();
    if issues.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = issues
        .iter()
        .map(|i| format!("{}: {}", i.path_string(), i.message))
        .collect();
    Err(ApiError::BadRequest(format!(
        "service `{name}` would not be valid: {}",
        lines.join("; ")
    )))
}

fn check_key(flag: &str, key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.contains('=') || key.chars().any(char::is_whitespace) {
        return Err(ApiError::BadRequest(format!(
            "{flag}: `{key}` is not a valid name (write KEY=VALUE)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use model::service::ServiceMode;

    #[test]
    fn scale_sets_replicas_and_refuses_global() {
        let mut spec = ServiceSpec::default();
        scale("web", &mut spec, 5).expect("scale");
        assert_eq!(spec.replicas(), Some(5));
        spec.deploy.get_or_insert_with(Default::default).mode = ServiceMode::Global;
        let err = scale("web", &mut spec, 2).expect_err("global");
        assert!(
            err.to_string().contains("one task per eligible node"),
            "{err}"
        );
    }

    #[test]
    fn restart_counts_up_and_update_applies_every_flag() {
        let mut spec = ServiceSpec::default();
        bump_restart(&mut spec);
        bump_restart(&mut spec);
        assert_eq!(spec.labels[LABEL_RESTART], "2");
        spec.environment.insert("OLD".into(), Some("1".into()));
        let body = UpdateBody {
            image: Some("nginx:1.27".into()),
            env_add: BTreeMap::from([("NEW".into(), "2".into())]),
            env_rm: vec!["OLD".into()],
            label_add: BTreeMap::from([("team".into(), "core".into())]),
            force: true,
            ..UpdateBody::default()
        };
        update("web", &mut spec, &body).expect("update");
        assert_eq!(spec.image.as_deref(), Some("nginx:1.27"));
        assert_eq!(
            spec.environment,
            BTreeMap::from([("NEW".into(), Some("2".into()))])
        );
        assert_eq!(spec.deploy.expect("deploy").labels["team"], "core");
        assert_eq!(spec.labels[LABEL_RESTART], "3");
    }

    #[test]
    fn rollback_needs_a_different_previous_spec() {
        let spec = ServiceSpec {
            image: Some("b".into()),
            ..ServiceSpec::default()
        };
        let mut status = ServiceStatus::default();
        assert!(rollback("web", &spec, &status).is_err());
        status.previous_spec = Some(Box::new(spec.clone()));
        assert!(rollback("web", &spec, &status).is_err());
        let old = ServiceSpec {
            image: Some("a".into()),
            ..ServiceSpec::default()
        };
        status.previous_spec = Some(Box::new(old.clone()));
        assert_eq!(rollback("web", &spec, &status).expect("rollback"), old);
    }
}

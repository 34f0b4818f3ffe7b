//! Semantic checks a JSON Schema cannot express, per object, with paths relative to the spec.

use std::collections::BTreeMap;
use std::fmt;

use crate::config::ConfigSpec;
use crate::constraint::Constraint;
use crate::network::NetworkSpec;
use crate::secret::SecretSpec;
use crate::service::{HEALTH_TEST_KINDS, ServiceSpec, UpdateConfig};
use crate::volume::VolumeSpec;

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

impl From<&str> for PathSeg {
    fn from(k: &str) -> Self {
        PathSeg::Key(k.to_owned())
    }
}

impl From<usize> for PathSeg {
    fn from(i: usize) -> Self {
        PathSeg::Index(i)
    }
}

/// A problem found in a spec, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where, relative to the spec.
    pub path: Vec<PathSeg>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Issue {
    /// An issue at `path`.
    pub fn new(path: Vec<PathSeg>, message: impl Into<String>) -> Issue {
        Issue {
            path,
            message: message.into(),
        }
    }

    /// The path as `deploy.placement.constraints[0]` (empty for the spec itself).
    pub fn path_string(&self) -> String {
        format_path(&self.path)
    }
}

/// Formats a path as `a.b[0].c`.
pub fn format_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) if out.is_empty() => out.push_str(k),
            PathSeg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path_string(), self.message)
        }
    }
}

/// Builds a path from keys and indexes: `path!["deploy", "replicas"]`.
macro_rules! path {
    ($($seg:expr),* $(,)?) => { vec![$(PathSeg::from($seg)),*] };
}

impl ServiceSpec {
    /// Checks what the schema cannot: constraint syntax, mode/replica consistency, port
    /// clashes, health check commands, ratios. Image presence is left to the loader.
    pub fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        self.validate_ports(&mut issues);
        self.validate_mounts(&mut issues);
        self.validate_healthcheck(&mut issues);
        self.validate_deploy(&mut issues);
        issues
    }

    fn validate_ports(&self, issues: &mut Vec<Issue>) {
        let mut seen = BTreeMap::new();
        for (i, port) in self.ports.iter().enumerate() {
            if port.target == 0 {
                issues.push(Issue::new(
                    path!["ports", i, "target"],
                    "target port must be between 1 and 65535",
                ));
            }
            let Some(published) = port.published else {
                continue;
            };
            if let Some(first) = seen.insert((published, port.protocol), i) {
                issues.push(Issue::new(
                    path!["ports", i],
                    format!(
                        "published port {published}/{} is already used by ports[{first}]; publish each port once",
                        port.protocol
                    ),
                ));
            }
        }
    }

    fn validate_mounts(&self, issues: &mut Vec<Issue>) {
        for (i, mount) in self.volumes.iter().enumerate() {
            // Windows containers use drive letters; everything else needs an absolute path.
            let windows = mount.target.as_bytes().get(1) == Some(&b':');
            if !mount.target.starts_with('/') && !windows {
                issues.push(Issue::new(
                    path!["volumes", i, "target"],
                    format!(
                        "mount target `{}` must be an absolute path in the container",
                        mount.target
                    ),
                ));
            }
        }
    }

    fn validate_healthcheck(&self, issues: &mut Vec<Issue>) {
        let Some(hc) = &self.healthcheck else { return };
        let Some(first) = hc.test.first() else { return };
        if !HEALTH_TEST_KINDS.contains(&first.as_str()) {
            issues.push(Issue::new(
                path!["healthcheck", "test", 0],
                format!(
                    "a health check list starts with NONE, CMD or CMD-SHELL, not `{first}` \
                     (e.g. [\"CMD\", \"curl\", \"-f\", \"http://localhost\"], or write the command as a string)"
                ),
            ));
        } else if first != "NONE" && hc.test.len() < 2 {
            issues.push(Issue::new(
                path!["healthcheck", "test"],
                format!("`{first}` needs a command after it"),
            ));
        }
    }

    fn validate_deploy(&self, issues: &mut Vec<Issue>) {
        let Some(deploy) = &self.deploy else { return };
        let mode = deploy.mode.as_str();
        if deploy.mode.is_global() && deploy.replicas.is_some() {
            issues.push(Issue::new(
                path!["deploy", "replicas"],
                format!("replicas cannot be set with mode: {mode}; remove `replicas` or use mode: replicated"),
            ));
        }
        if deploy.mode.is_global() && deploy.placement.max_replicas_per_node.is_some() {
            issues.push(Issue::new(
                path!["deploy", "placement", "max_replicas_per_node"],
                format!(
                    "max_replicas_per_node cannot be set with mode: {mode} (it already runs one task per node); \
                     remove it or use mode: replicated"
                ),
            ));
        }
        for (i, c) in deploy.placement.constraints.iter().enumerate() {
            if let Err(e) = Constraint::parse(c) {
                issues.push(Issue::new(
                    path!["deploy", "placement", "constraints", i],
                    e.to_string(),
                ));
            }
        }
        for (i, p) in deploy.placement.preferences.iter().enumerate() {
            if let Err(e) = p.spread_key() {
                issues.push(Issue::new(
                    path!["deploy", "placement", "preferences", i, "spread"],
                    e.to_string(),
                ));
            }
        }
        for (key, cfg) in [
            ("update_config", &deploy.update_config),
            ("rollback_config", &deploy.rollback_config),
        ] {
            if let Some(UpdateConfig {
                max_failure_ratio: Some(r),
                ..
            }) = cfg
                && !(0.0..=1.0).contains(r)
            {
                issues.push(Issue::new(
                    path!["deploy", key, "max_failure_ratio"],
                    format!("max_failure_ratio is a fraction between 0 and 1 (0.1 = 10%), not {r}"),
                ));
            }
        }
    }
}

/// Issues for keys set on an external object, which swarm neither creates nor configures.
fn external_conflicts(what: &str, set: &[(&str, bool)]) -> Vec<Issue> {
    set.iter()
        .filter(|(_, is_set)| *is_set)
        .map(|(key, _)| {
            Issue::new(
                path![*key],
                format!("`{key}` has no effect on an external {what} (swarm does not create it); remove it or `external: true`"),
            )
        })
        .collect()
}

impl NetworkSpec {
    /// Checks that an external network sets nothing swarm would have to create.
    pub fn validate(&self) -> Vec<Issue> {
        if !self.external {
            return Vec::new();
        }
        external_conflicts(
            "network",
            &[
                ("driver", self.driver.is_some()),
                ("driver_opts", !self.driver_opts.is_empty()),
                ("ipam", self.ipam.is_some()),
                ("internal", self.internal),
                ("attachable", self.attachable),
                ("enable_ipv6", self.enable_ipv6.is_some()),
                ("enable_ipv4", self.enable_ipv4.is_some()),
            ],
        )
    }
}

impl VolumeSpec {
    /// Checks that an external volume sets nothing swarm would have to create.
    pub fn validate(&self) -> Vec<Issue> {
        if !self.external {
            return Vec::new();
        }
        external_conflicts(
            "volume",
            &[
                ("driver", self.driver.is_some()),
                ("driver_opts", !self.driver_opts.is_empty()),
            ],
        )
    }
}

/// Exactly one data source must be set.
fn one_source(what: &str, sources: Vec<&'static str>) -> Vec<Issue> {
    match sources.as_slice() {
        [_] => Vec::new(),
        [] => vec![Issue::new(
            Vec::new(),
            format!(
                "a {what} needs its data: set one of `file`, `environment`, `content` or `external: true`"
            ),
        )],
        many => vec![Issue::new(
            path![many[1]],
            format!(
                "a {what} takes its data from one place, but `{}` are all set; keep one",
                many.join("`, `")
            ),
        )],
    }
}

impl SecretSpec {
    /// Checks that exactly one of `file`, `environment`, `content`, `external` is set.
    pub fn validate(&self) -> Vec<Issue> {
        one_source("secret", self.sources())
    }
}

impl ConfigSpec {
    /// Checks that exactly one of `file`, `environment`, `content`, `external` is set.
    pub fn validate(&self) -> Vec<Issue> {
        one_source("config", self.sources())
    }
}

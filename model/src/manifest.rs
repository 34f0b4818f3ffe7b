//! Native manifests: `{apiVersion, kind, metadata, spec}` documents.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::config::ConfigSpec;
use crate::meta::{Kind, ObjectMeta};
use crate::network::NetworkSpec;
use crate::node::NodeSpec;
use crate::secret::SecretSpec;
use crate::service::ServiceSpec;
use crate::stack::StackSpec;

/// The spec of a native manifest, by kind.
// Manifests are few and short-lived; boxing the service variant would only add noise for users.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ManifestSpec {
    /// A Service spec.
    Service(ServiceSpec),
    /// A Network spec.
    Network(NetworkSpec),
    /// A Secret spec.
    Secret(SecretSpec),
    /// A Config spec.
    Config(ConfigSpec),
    /// A Node spec.
    Node(NodeSpec),
    /// A Stack spec.
    Stack(StackSpec),
}

impl ManifestSpec {
    /// Deserializes `value` as the spec of `kind`; dispatching on the kind (not trying each
    /// variant) keeps error messages about the right type.
    pub fn from_value(
        kind: Kind,
        value: serde_json::Value,
    ) -> Result<ManifestSpec, serde_json::Error> {
        // A missing or null spec means "all defaults", as it does for an empty Compose entry.
        let value = if value.is_null() {
            serde_json::Value::Object(Default::default())
        } else {
            value
        };
        Ok(match kind {
            Kind::Service => ManifestSpec::Service(serde_json::from_value(value)?),
            Kind::Network => ManifestSpec::Network(serde_json::from_value(value)?),
            Kind::Secret => ManifestSpec::Secret(serde_json::from_value(value)?),
            Kind::Config => ManifestSpec::Config(serde_json::from_value(value)?),
            Kind::Node => ManifestSpec::Node(serde_json::from_value(value)?),
            Kind::Stack => ManifestSpec::Stack(serde_json::from_value(value)?),
            Kind::Task => {
                return Err(de::Error::custom(
                    "tasks are created by swarm, not written in manifests; write a Service instead",
                ));
            }
            Kind::Cluster => {
                return Err(de::Error::custom(
                    "the cluster object is managed by swarm, not written in manifests; use `swarmctl cluster`",
                ));
            }
        })
    }

    /// The kind this spec belongs to.
    pub fn kind(&self) -> Kind {
        match self {
            ManifestSpec::Service(_) => Kind::Service,
            ManifestSpec::Network(_) => Kind::Network,
            ManifestSpec::Secret(_) => Kind::Secret,
            ManifestSpec::Config(_) => Kind::Config,
            ManifestSpec::Node(_) => Kind::Node,
            ManifestSpec::Stack(_) => Kind::Stack,
        }
    }
}

/// A native manifest document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// Always [`crate::API_VERSION`].
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// What the document describes.
    pub kind: Kind,
    /// Name, labels, stack.
    pub metadata: ObjectMeta,
    /// The desired state.
    pub spec: ManifestSpec,
}

impl Manifest {
    /// A manifest for `spec` named `name`, with the current API version.
    pub fn new(name: impl Into<String>, spec: ManifestSpec) -> Manifest {
        Manifest {
            api_version: crate::API_VERSION.to_owned(),
            kind: spec.kind(),
            metadata: ObjectMeta {
                name: name.into(),
                ..ObjectMeta::default()
            },
            spec,
        }
    }
}

impl<'de> Deserialize<'de> for Manifest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "apiVersion")]
            api_version: String,
            kind: Kind,
            metadata: ObjectMeta,
            #[serde(default)]
            spec: serde_json::Value,
        }
        let raw = Raw::deserialize(d)?;
        let spec = ManifestSpec::from_value(raw.kind, raw.spec)
            .map_err(|e| de::Error::custom(format!("spec: {e}")))?;
        Ok(Manifest {
            api_version: raw.api_version,
            kind: raw.kind,
            metadata: raw.metadata,
            spec,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn manifests_dispatch_on_kind_and_serialize_in_order() {
        let doc = json!({
            "apiVersion": "swarm/v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"image": "nginx", "ports": ["80:80"]}
        });
        let m: Manifest = serde_json::from_value(doc).expect("manifest");
        let ManifestSpec::Service(spec) = &m.spec else {
            panic!("not a service: {m:?}")
        };
        assert_eq!(spec.ports[0].published, Some(80));
        let text = serde_json::to_string(&m).expect("ser");
        let order: Vec<usize> = ["apiVersion", "kind", "metadata", "spec"]
            .iter()
            .map(|k| text.find(&format!("\"{k}\"")).expect(k))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        let back: Manifest = serde_json::from_str(&text).expect("round trip");
        assert_eq!(back, m);
    }

    #[test]
    fn specs_of_the_wrong_shape_fail_for_their_kind() {
        let err =
            ManifestSpec::from_value(Kind::Node, json!({"role": "boss"})).expect_err("bad role");
        assert!(err.to_string().contains("boss"), "{err}");
        assert!(ManifestSpec::from_value(Kind::Task, json!({})).is_err());
        assert_eq!(
            ManifestSpec::from_value(Kind::Stack, json!(null))
                .expect("null")
                .kind(),
            Kind::Stack
        );
    }
}

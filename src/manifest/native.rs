//! Native manifests: `apiVersion: swarm/v1`, `kind`, `metadata`, `spec`, many per file.

use model::service::ServiceSpec;
use model::{
    ConfigSpec, Kind, Manifest, ManifestSpec, NetworkSpec, NodeSpec, ObjectMeta, SecretSpec,
    StackSpec,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::compose::warn_ignored_keys_in;
use super::context::{Context, Doc};
use super::objects::{LoadedObject, config_data, report, secret_data};
use super::resolve::{self, Env};

/// Kinds a user may write; tasks are created by swarm itself.
const WRITABLE: [Kind; 6] = [
    Kind::Service,
    Kind::Network,
    Kind::Secret,
    Kind::Config,
    Kind::Node,
    Kind::Stack,
];

/// Reads one native manifest document, reporting every problem; what is left of an invalid one
/// is still returned for later checks (`None` when nothing readable is left).
pub fn read(
    ctx: &mut Context,
    doc: &Doc,
    default_stack: Option<&str>,
    env: &Env,
) -> Option<LoadedObject> {
    let value = &doc.doc.value;
    let kind_text = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(kind) = WRITABLE.iter().copied().find(|k| k.as_str() == kind_text) else {
        let names: Vec<&str> = WRITABLE.iter().map(|k| k.as_str()).collect();
        let message = if kind_text.is_empty() {
            format!("missing `kind`; set it to one of {}", names.join(", "))
        } else if kind_text == "Task" {
            "tasks are created by swarm from services; write a Service instead".to_owned()
        } else {
            format!(
                "unknown kind `{kind_text}`; expected one of {}",
                names.join(", ")
            )
        };
        ctx.error(doc, "/kind", message);
        return None;
    };
    let schema = kind.as_str().to_lowercase();
    if kind == Kind::Service {
        warn_ignored_keys_in(
            ctx,
            doc,
            "/spec",
            value
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?"),
        );
    }
    let invalid = ctx.schema_check(doc, &schema, "");
    let metadata_value = value.get("metadata")?.clone();
    let mut metadata: ObjectMeta = ctx.typed(doc, "/metadata", metadata_value, &invalid)?;
    if metadata.stack.is_none() {
        metadata.stack = default_stack.map(str::to_owned);
    }
    let spec_value = value
        .get("spec")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let name = metadata.name.clone();
    let mut findings = Vec::new();
    let spec = match kind {
        Kind::Service => {
            let mut spec: ServiceSpec = typed(ctx, doc, spec_value, &invalid)?;
            findings = resolve::service(&name, &mut spec, env);
            ManifestSpec::Service(spec)
        }
        Kind::Network => {
            ManifestSpec::Network(typed::<NetworkSpec>(ctx, doc, spec_value, &invalid)?)
        }
        Kind::Secret => {
            let mut spec: SecretSpec = typed(ctx, doc, spec_value, &invalid)?;
            findings = secret_data(&mut spec, &name, env);
            ManifestSpec::Secret(spec)
        }
        Kind::Config => {
            let mut spec: ConfigSpec = typed(ctx, doc, spec_value, &invalid)?;
            findings = config_data(&mut spec, &name, env);
            ManifestSpec::Config(spec)
        }
        Kind::Node => ManifestSpec::Node(typed::<NodeSpec>(ctx, doc, spec_value, &invalid)?),
        Kind::Stack | Kind::Task | Kind::Cluster => {
            ManifestSpec::Stack(typed::<StackSpec>(ctx, doc, spec_value, &invalid)?)
        }
    };
    report(ctx, &[doc], "/spec", findings);
    Some(LoadedObject {
        manifest: Manifest {
            api_version: model::API_VERSION.to_owned(),
            kind,
            metadata,
            spec,
        },
        docs: Vec::new(),
        base: "/spec".into(),
        name_at: "/metadata/name".into(),
    })
}

fn typed<T: DeserializeOwned>(
    ctx: &mut Context,
    doc: &Doc,
    value: Value,
    invalid: &[String],
) -> Option<T> {
    ctx.typed(doc, "/spec", value, invalid)
}

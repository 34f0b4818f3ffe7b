//! Secret specs: top-level Compose `secrets:` entries and native Secret manifests.

/// Defines a data-object spec (secret or config) and the wire form it is read from; both
/// kinds take exactly the same keys.
macro_rules! data_object_spec {
    ($spec:ident, $wire:ident, $wire_name:tt, $what:literal) => {
        #[doc = concat!("A ", $what, ": data mounted into containers as a file.")]
        #[doc = ""]
        #[doc = "Exactly one source is set: `file`, `environment`, `content` or `external`."]
        #[derive(
            Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        #[serde(try_from = $wire_name)]
        pub struct $spec {
            #[doc = concat!("Actual ", $what, " name, when it differs from the key it is declared under.")]
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub name: Option<String>,
            /// Read the data from this file (relative to the Compose file).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub file: Option<String>,
            /// Read the data from this environment variable of the deployer.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub environment: Option<String>,
            /// The data itself, inline.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub content: Option<String>,
            #[doc = concat!("The ", $what, " exists already; swarm neither creates nor removes it.")]
            #[serde(default, skip_serializing_if = "std::ops::Not::not")]
            pub external: bool,
            /// Labels.
            #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
            pub labels: std::collections::BTreeMap<String, String>,
            /// Secret store driver.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub driver: Option<String>,
            /// Driver options.
            #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
            pub driver_opts: std::collections::BTreeMap<String, String>,
            /// Template driver (`golang`) used to render the data per task.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub template_driver: Option<String>,
        }

        #[doc = concat!("`", stringify!($spec), "` as written: `external` may be the legacy `{name: X}` map.")]
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[schemars(deny_unknown_fields)]
        struct $wire {
            #[doc = concat!("Actual ", $what, " name, when it differs from the key it is declared under.")]
            #[serde(default)]
            name: Option<String>,
            /// Read the data from this file (relative to the Compose file).
            #[serde(default)]
            file: Option<String>,
            /// Read the data from this environment variable of the deployer.
            #[serde(default)]
            environment: Option<String>,
            /// The data itself, inline.
            #[serde(default)]
            content: Option<String>,
            #[doc = concat!("The ", $what, " exists already; swarm neither creates nor removes it.")]
            #[serde(default)]
            external: $crate::external::External,
            /// Labels.
            #[serde(default, deserialize_with = "crate::service::lists::labels")]
            #[schemars(with = "crate::service::lists::ListOrDict")]
            labels: std::collections::BTreeMap<String, String>,
            /// Secret store driver.
            #[serde(default)]
            driver: Option<String>,
            /// Driver options (string or number values).
            #[serde(default, deserialize_with = "crate::service::lists::options")]
            #[schemars(with = "crate::service::lists::OptionMap")]
            driver_opts: std::collections::BTreeMap<String, String>,
            /// Template driver (`golang`) used to render the data per task.
            #[serde(default)]
            template_driver: Option<String>,
        }

        impl TryFrom<$wire> for $spec {
            type Error = String;
            fn try_from(w: $wire) -> Result<Self, String> {
                let (external, name) = w.external.resolve(w.name)?;
                Ok($spec {
                    name,
                    file: w.file,
                    environment: w.environment,
                    content: w.content,
                    external,
                    labels: w.labels,
                    driver: w.driver,
                    driver_opts: w.driver_opts,
                    template_driver: w.template_driver,
                })
            }
        }

        impl $spec {
            /// Names of the data sources that are set (`file`, `environment`, `content`, `external`).
            pub fn sources(&self) -> Vec<&'static str> {
                [
                    ("file", self.file.is_some()),
                    ("environment", self.environment.is_some()),
                    ("content", self.content.is_some()),
                    ("external", self.external),
                ]
                .into_iter()
                .filter_map(|(k, set)| set.then_some(k))
                .collect()
            }
        }
    };
}

pub(crate) use data_object_spec;

data_object_spec!(SecretSpec, SecretSpecWire, "SecretSpecWire", "secret");

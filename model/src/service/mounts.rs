//! `volumes:` on a service — mounts, in short (`./src:/app:ro`) or long syntax.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};

use crate::units::{ByteSize, FileMode};

/// What backs a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A host path.
    Bind,
    /// A named (or anonymous) volume.
    #[default]
    Volume,
    /// An in-memory filesystem.
    Tmpfs,
    /// A Windows named pipe.
    Npipe,
    /// A cluster (CSI) volume.
    Cluster,
    /// The filesystem of an image.
    Image,
}

/// Mount propagation of a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// Recursive private (Docker's default).
    Rprivate,
    /// Private.
    Private,
    /// Recursive shared.
    Rshared,
    /// Shared.
    Shared,
    /// Recursive slave.
    Rslave,
    /// Slave.
    Slave,
}

impl Propagation {
    fn parse(s: &str) -> Option<Propagation> {
        Some(match s {
            "rprivate" => Propagation::Rprivate,
            "private" => Propagation::Private,
            "rshared" => Propagation::Rshared,
            "shared" => Propagation::Shared,
            "rslave" => Propagation::Rslave,
            "slave" => Propagation::Slave,
            _ => return None,
        })
    }
}

/// SELinux relabeling of a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SelinuxLabel {
    /// `z`: content shared between containers.
    #[serde(rename = "z")]
    Shared,
    /// `Z`: content private to this container.
    #[serde(rename = "Z")]
    Private,
}

/// Options of a bind mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BindOptions {
    /// Mount propagation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Propagation>,
    /// Create the host path if missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_host_path: Option<bool>,
    /// SELinux relabeling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux: Option<SelinuxLabel>,
    /// Recursive read-only behaviour (`enabled`, `disabled`, `writable`, `readonly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["enabled", "disabled", "writable", "readonly"]))]
    pub recursive: Option<String>,
}

/// Options of a volume mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VolumeOptions {
    /// Do not copy image content into a new, empty volume.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nocopy: bool,
    /// Mount only this path inside the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    /// Labels set on a volume created for this mount.
    #[serde(
        default,
        deserialize_with = "super::lists::labels",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "super::lists::ListOrDict")]
    pub labels: BTreeMap<String, String>,
    /// Driver of a volume created for this mount. In a Compose file, declare it under top-level
    /// `volumes:` instead: the loader copies the declaration here (as `docker stack deploy`
    /// does), so rendered manifests carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options of a volume created for this mount (see `driver`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    /// The volume must exist already: it is never created (see `driver`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
}

/// Options of a tmpfs mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TmpfsOptions {
    /// Size limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
    /// File mode of the mount point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
}

/// Options of an image mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ImageOptions {
    /// Mount only this path inside the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
}

/// One mount of a service, in long syntax.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Mount {
    /// What backs the mount.
    #[serde(rename = "type")]
    pub kind: MountType,
    /// Host path, volume name, or image; none for tmpfs and anonymous volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Path inside the container.
    pub target: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Consistency requirement (`consistent`, `cached`, `delegated`), platform specific.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
    /// Bind mount options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    /// Volume mount options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
    /// Tmpfs mount options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
    /// Image mount options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageOptions>,
}

/// Why a short-syntax volume does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid volume `{spec}`: {why}; volumes are `[SOURCE:]TARGET[:OPTIONS]`")]
pub struct MountError {
    /// The volume as written.
    pub spec: String,
    /// What is wrong with it.
    pub why: MountFault,
}

/// What is wrong with a short-syntax volume.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MountFault {
    /// More than `SOURCE:TARGET:OPTIONS`.
    #[error("too many `:`")]
    TooManyColons,
    /// An empty source or target.
    #[error("empty path")]
    EmptyPath,
    /// An option of bind mounts on a volume.
    #[error("`{0}` applies only to bind mounts (host paths)")]
    BindOnly(String),
    /// An option of named volumes on a bind mount.
    #[error("`{0}` applies only to named volumes")]
    VolumeOnly(String),
    /// An option Docker does not know.
    #[error(
        "unknown option `{0}` (use ro, rw, z, Z, nocopy, or a propagation mode: rprivate, \
         private, rshared, shared, rslave, slave)"
    )]
    UnknownOption(String),
}

impl Mount {
    /// Parses short syntax `[SOURCE:]TARGET[:OPTIONS]`.
    ///
    /// No source means an anonymous volume; a source starting with `/`, `.` or `~` is a bind
    /// mount (left unresolved: the loader resolves paths), anything else a named volume.
    pub fn parse_short(spec: &str) -> Result<Mount, MountError> {
        let fail = |why: MountFault| MountError {
            spec: spec.to_owned(),
            why,
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let (source, target, options) = match parts.as_slice() {
            [target] => (None, *target, None),
            [source, target] => (Some(*source), *target, None),
            [source, target, options] => (Some(*source), *target, Some(*options)),
            _ => return Err(fail(MountFault::TooManyColons)),
        };
        if target.is_empty() || source.is_some_and(str::is_empty) {
            return Err(fail(MountFault::EmptyPath));
        }
        let kind = match source {
            Some(s) if s.starts_with(['/', '.', '~']) => MountType::Bind,
            _ => MountType::Volume,
        };
        let mut mount = Mount {
            kind,
            source: source.map(str::to_owned),
            target: target.to_owned(),
            ..Mount::default()
        };
        for option in options.into_iter().flat_map(|o| o.split(',')) {
            mount.apply_short_option(option).map_err(fail)?;
        }
        Ok(mount)
    }

    fn apply_short_option(&mut self, option: &str) -> Result<(), MountFault> {
        let is_bind = self.kind == MountType::Bind;
        let bind_only = |what: &str| MountFault::BindOnly(what.to_owned());
        match option {
            "ro" | "readonly" => self.read_only = true,
            "rw" => self.read_only = false,
            "consistent" | "cached" | "delegated" => self.consistency = Some(option.to_owned()),
            "z" | "Z" => {
                if !is_bind {
                    return Err(bind_only(option));
                }
                let label = if option == "z" {
                    SelinuxLabel::Shared
                } else {
                    SelinuxLabel::Private
                };
                self.bind.get_or_insert_with(BindOptions::default).selinux = Some(label);
            }
            "nocopy" => {
                if is_bind {
                    return Err(MountFault::VolumeOnly(option.to_owned()));
                }
                self.volume
                    .get_or_insert_with(VolumeOptions::default)
                    .nocopy = true;
            }
            other => {
                let Some(p) = Propagation::parse(other) else {
                    return Err(MountFault::UnknownOption(other.to_owned()));
                };
                if !is_bind {
                    return Err(bind_only(other));
                }
                self.bind
                    .get_or_insert_with(BindOptions::default)
                    .propagation = Some(p);
            }
        }
        Ok(())
    }
}

/// `volumes:` as a whole: each item is a short string or a long-syntax map.
pub(crate) fn deserialize_mounts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Mount>, D::Error> {
    struct Items;
    impl<'de> Visitor<'de> for Items {
        type Value = Vec<Mount>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of volumes")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<Mount>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Mount>, A::Error> {
            let mut out = Vec::new();
            while let Some(MountItem(m)) = seq.next_element()? {
                out.push(m);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Items)
}

struct MountItem(Mount);

impl<'de> Deserialize<'de> for MountItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MountItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a volume: `SOURCE:TARGET[:OPTIONS]` or a map with `type` and `target`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MountItem, E> {
                Mount::parse_short(v).map(MountItem).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MountItem, A::Error> {
                Mount::deserialize(MapAccessDeserializer::new(map)).map(MountItem)
            }
        }
        d.deserialize_any(V)
    }
}

/// Schema of a service's `volumes:` list.
pub(crate) struct Mounts;

impl JsonSchema for Mounts {
    fn schema_name() -> Cow<'static, str> {
        "Mounts".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let long = generator.subschema_for::<Mount>();
        json_schema!({
            "description": "Mounts: `[SOURCE:]TARGET[:OPTIONS]` strings or long-syntax maps.",
            "type": "array",
            "items": {
                "anyOf": [
                    { "type": "string", "minLength": 1 },
                    long
                ]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn short(spec: &str) -> Mount {
        Mount::parse_short(spec).expect(spec)
    }

    #[test]
    fn short_forms_from_the_compose_reference() {
        let anon = short("/var/lib/mysql");
        assert_eq!(
            (anon.kind, anon.source, anon.target.as_str()),
            (MountType::Volume, None, "/var/lib/mysql")
        );
        let abs = short("/opt/data:/var/lib/mysql");
        assert_eq!(
            (abs.kind, abs.source.as_deref()),
            (MountType::Bind, Some("/opt/data"))
        );
        assert_eq!(short(".:/code").kind, MountType::Bind);
        assert_eq!(
            short("./static:/var/www/html").source.as_deref(),
            Some("./static")
        );
        let home = short("~/configs:/etc/configs/:ro");
        assert_eq!(
            (home.kind, home.read_only, home.target.as_str()),
            (MountType::Bind, true, "/etc/configs/")
        );
        let named = short("datavolume:/var/lib/mysql");
        assert_eq!(
            (named.kind, named.source.as_deref()),
            (MountType::Volume, Some("datavolume"))
        );
    }

    #[test]
    fn short_options_set_the_right_sub_options() {
        let m = short("./data:/data:ro,Z,rshared");
        let bind = m.bind.expect("bind options");
        assert!(m.read_only);
        assert_eq!(
            (bind.selinux, bind.propagation),
            (Some(SelinuxLabel::Private), Some(Propagation::Rshared))
        );
        assert!(
            short("cache:/cache:nocopy")
                .volume
                .expect("volume options")
                .nocopy
        );
        assert_eq!(
            Mount::parse_short("./x:/x:nocopy")
                .expect_err("nocopy on bind")
                .to_string(),
            "invalid volume `./x:/x:nocopy`: `nocopy` applies only to named volumes; volumes \
             are `[SOURCE:]TARGET[:OPTIONS]`"
        );
        assert_eq!(
            Mount::parse_short("v:/x:shared").map_err(|e| e.why),
            Err(MountFault::BindOnly("shared".into()))
        );
        let err = Mount::parse_short("v:/x:bogus").expect_err("unknown option");
        assert!(err.to_string().contains("unknown option `bogus`"), "{err}");
        assert_eq!(
            Mount::parse_short("a:b:c:d").map_err(|e| e.why),
            Err(MountFault::TooManyColons)
        );
    }

    #[test]
    fn long_forms_deserialize_and_round_trip() {
        let long: Vec<Mount> = [
            json!({"type": "bind", "source": "./opt", "target": "/opt", "consistency": "cached"}),
            json!({"type": "tmpfs", "target": "/opt", "tmpfs": {"size": 10000, "mode": "1777"}}),
            json!({"type": "cluster", "source": "group:mygroup", "target": "/srv"}),
        ]
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("mount"))
        .collect();
        assert_eq!(
            long[1].tmpfs.as_ref().and_then(|t| t.size),
            Some(ByteSize(10000))
        );
        assert_eq!(
            long[1].tmpfs.as_ref().and_then(|t| t.mode),
            Some(FileMode(0o1777))
        );
        for m in long.iter().chain([short("~/c:/c:ro,z")].iter()) {
            let back: Mount =
                serde_json::from_value(serde_json::to_value(m).expect("ser")).expect("de");
            assert_eq!(&back, m);
        }
    }
}

//! Compose stack files: schema check, typed reading, warnings for what a swarm ignores, and the
//! merge of several `-f` files.

use model::compose::ComposeFile;
use model::service::UNSUPPORTED_SERVICE_KEYS;
use serde_json::Value;

use super::context::{Context, Doc};
use super::diagnostic::pointer;
use super::merge::merge;

/// Reads every compose document (in `-f` order) and merges them; every problem is reported to
/// `ctx`, and invalid nodes are left out of the result so later checks can still run on the rest.
/// `None` when nothing readable is left.
pub fn read_and_merge(ctx: &mut Context, docs: &[&Doc]) -> Option<ComposeFile> {
    let mut merged: Option<Value> = None;
    for doc in docs {
        warn_ignored_keys(ctx, doc);
        let invalid = ctx.schema_check(doc, "compose", "");
        let Some(typed) = ctx.typed::<ComposeFile>(doc, "", doc.doc.value.clone(), &invalid) else {
            continue;
        };
        let canonical = match serde_json::to_value(&typed) {
            Ok(v) => v,
            Err(e) => {
                ctx.error(doc, "", format!("internal error: {e}"));
                continue;
            }
        };
        match merged.as_mut() {
            Some(base) => merge(base, canonical),
            None => merged = Some(canonical),
        }
    }
    let merged = merged?;
    match serde_json::from_value::<ComposeFile>(merged) {
        Ok(file) => Some(file),
        Err(e) => {
            let last = docs.last()?;
            ctx.error(
                last,
                "",
                format!("the merged files do not form a valid stack: {e}"),
            );
            None
        }
    }
}

/// Keys a swarm cannot honour are reported, never dropped silently (`build` without `image` is
/// an error, reported once the files are merged).
pub fn warn_ignored_keys(ctx: &mut Context, doc: &Doc) {
    let Some(services) = doc.doc.value.get("services").and_then(Value::as_object) else {
        return;
    };
    for name in services.keys() {
        warn_ignored_keys_in(ctx, doc, &pointer(&["services", name.as_str()]), name);
    }
}

/// Warns about each ignored key of the service object at `base`.
pub fn warn_ignored_keys_in(ctx: &mut Context, doc: &Doc, base: &str, name: &str) {
    let Some(service) = doc.doc.value.pointer(base).and_then(Value::as_object) else {
        return;
    };
    for (key, why) in UNSUPPORTED_SERVICE_KEYS {
        if service.contains_key(*key) {
            ctx.warn(
                doc,
                &format!("{base}/{key}"),
                format!("`{key}` is ignored by swarm (service `{name}`): {why}"),
            );
        }
    }
}

/// A service with `build:` but no `image:` in the merged files cannot run: swarm has no builder.
pub fn check_build_without_image(ctx: &mut Context, docs: &[&Doc], file: &ComposeFile) {
    for (name, service) in &file.services {
        // An `image:` left out for an error of its own is reported already, not missing.
        let written = docs.iter().any(|d| {
            d.doc
                .value
                .pointer(&pointer(&["services", name, "image"]))
                .is_some_and(|i| i.as_str() != Some(""))
        });
        if written || service.image.as_deref().is_some_and(|i| !i.is_empty()) {
            continue;
        }
        let has_build = docs.iter().any(|d| {
            d.doc
                .value
                .pointer(&pointer(&["services", name, "build"]))
                .is_some()
        });
        let message = if has_build {
            format!(
                "service `{name}` has `build:` but no `image:`; swarm runs images and cannot \
                 build them: build and push the image (docker build -t REPO:TAG . && docker push \
                 REPO:TAG), then set `image: REPO:TAG`"
            )
        } else {
            format!(
                "service `{name}` has no `image:`; set the image to run, e.g. `image: nginx:1.27`"
            )
        };
        let at = if has_build {
            pointer(&["services", name, "build"])
        } else {
            pointer(&["services", name])
        };
        ctx.error_in(docs, &at, message);
    }
}

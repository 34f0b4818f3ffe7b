//! One load reports every independent error of its input, each where it is written, and
//! nothing that only follows from another error.

use std::path::Path;

use swarm::manifest::{self, LoadOptions};

/// `line: path: message` of every error of `text`.
fn errors(text: &str) -> Vec<String> {
    let loaded = manifest::load_text("in.yml", text, Path::new("."), &LoadOptions::default());
    assert!(!loaded.is_valid(), "expected errors");
    assert!(
        loaded.manifests.is_empty(),
        "an invalid input yields nothing"
    );
    loaded.reports[0]
        .errors
        .iter()
        .map(|e| format!("{}: {}: {}", e.line, e.path, e.message))
        .collect()
}

fn has(found: &[String], prefix: &str, text: &str) -> bool {
    found
        .iter()
        .any(|e| e.starts_with(prefix) && e.contains(text))
}

#[test]
fn every_bad_element_of_a_list_is_reported_at_its_own_index() {
    let found = errors(
        "services:\n  web:\n    image: nginx\n    ports:\n      - \"70000:80\"\n      - \"8080:80\"\n      - \"80:x\"\n    stop_grace_period: soon\n",
    );
    assert!(
        has(&found, "5: services.web.ports[0]: ", "`70000`"),
        "{found:#?}"
    );
    assert!(
        has(&found, "7: services.web.ports[2]: ", "80:x"),
        "{found:#?}"
    );
    assert!(
        has(&found, "8: services.web.stop_grace_period: ", "soon"),
        "{found:#?}"
    );
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn a_native_manifest_reports_schema_and_field_errors_together() {
    let found = errors(
        "apiVersion: swarm/v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  image: nginx\n  imagee: x\n  ports: [\"99999:80\"]\n  deploy:\n    replicas: -2\n",
    );
    assert!(has(&found, "7: spec.imagee: ", "unknown key"), "{found:#?}");
    assert!(has(&found, "8: spec.ports[0]: ", "`99999`"), "{found:#?}");
    assert!(
        has(&found, "10: spec.deploy.replicas: ", "at least 0"),
        "{found:#?}"
    );
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn a_declaration_with_an_error_is_not_also_reported_as_missing() {
    let found = errors(
        "services:\n  web:\n    image: nginx\n    secrets: [api_key]\n    networks: [back]\nsecrets:\n  api_key:\n    file: 12\n    bogus: 1\nnetworks:\n  back:\n    driver: [x]\n",
    );
    assert!(
        has(&found, "9: secrets.api_key.bogus: ", "unknown key"),
        "{found:#?}"
    );
    assert!(
        has(&found, "12: networks.back.driver: ", "expected"),
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|e| e.contains("not declared")),
        "{found:#?}"
    );
}

#[test]
fn a_declaration_that_is_not_a_mapping_still_declares_its_name() {
    let found = errors(
        "services:\n  web:\n    image: nginx\n    secrets: [api_key]\nsecrets:\n  api_key: 5\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        has(&found, "6: secrets.api_key: ", "expected a mapping"),
        "{found:#?}"
    );
}

#[test]
fn a_field_left_out_for_its_error_is_not_also_reported_missing() {
    let found = errors("services:\n  web:\n    image: [nginx]\nsecrets:\n  s:\n    file: 12\n");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        has(&found, "3: services.web.image: ", "expected a string"),
        "{found:#?}"
    );
    assert!(
        has(&found, "6: secrets.s.file: ", "expected a string"),
        "{found:#?}"
    );
}

#[test]
fn an_object_level_error_is_reported_beside_a_field_error() {
    let found = errors("services:\n  web:\n    stop_grace_period: soon\n");
    assert!(
        has(&found, "3: services.web: ", "has no `image:`"),
        "{found:#?}"
    );
    assert!(
        has(&found, "3: services.web.stop_grace_period: ", "soon"),
        "{found:#?}"
    );
}

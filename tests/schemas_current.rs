//! The JSON Schemas committed under schemas/ are exactly what the model generates, and each one
//! compiles (validation would otherwise silently lose it).

use std::path::Path;

#[test]
fn committed_schemas_match_the_generated_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let mut stale = Vec::new();
    for (name, schema) in model::schema::all() {
        let path = dir.join(format!("{name}.json"));
        let want = swarm::cli::schema::render(&schema).expect("renders");
        match std::fs::read_to_string(&path) {
            Ok(have) if have == want => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nregenerate with: cargo run --bin swarmctl -- schema --write schemas/",
        stale.join("\n")
    );
}

#[test]
fn every_published_schema_compiles() {
    for (name, schema) in model::schema::all() {
        if let Err(e) = jsonschema::validator_for(&schema) {
            panic!("schema {name} does not compile: {e}");
        }
        assert!(
            swarm::manifest::schema_check::schema(name).is_some(),
            "{name} not loaded"
        );
    }
}

#[test]
fn schema_command_prints_the_compose_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(["schema"])
        .output()
        .expect("swarmctl runs");
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(schema["properties"]["services"].is_object());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(["schema", "deployment"])
        .output()
        .expect("swarmctl runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("choose one of: compose, service"));
}

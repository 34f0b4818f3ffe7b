//! The seams between processes: the CLI's client (its own crate) and the agent speak only the
//! `wire` crate (and the pure `model`/`controllers` crates), never a server module; the
//! dispatcher reaches the agent only through `wire`'s session messages; `wire` itself depends
//! on no server code.

use std::fs;
use std::path::{Path, PathBuf};

/// Server modules of the `swarm` crate: what a client or an agent must not import.
const SERVER_MODULES: [&str; 9] = [
    "store",
    "state",
    "api",
    "apply",
    "raft",
    "reconcile",
    "dispatcher",
    "daemon",
    "watch",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `file:line: text` under `dir` that names `crate::<module>` for one of `modules`.
fn imports_of(dir: &str, modules: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join(dir), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read source");
        for (number, line) in text.lines().enumerate() {
            let hit = modules.iter().any(|m| {
                line.contains(&format!("crate::{m}::"))
                    || line.contains(&format!("crate::{m};"))
                    || line.contains(&format!("crate::{m}}}"))
                    || line.contains(&format!("crate::{{{m}"))
            });
            if hit {
                let shown = file.strip_prefix(root).unwrap_or(&file).display();
                found.push(format!("{shown}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_client_crate_depends_on_wire_and_no_server_code() {
    assert_eq!(
        dependencies("client"),
        [
            "model",
            "controllers",
            "wire",
            "serde",
            "serde_json",
            "thiserror",
            "reqwest",
            "rustls"
        ]
    );
    // The compiler holds the crate to that; a module path back into the server cannot exist.
    let found = imports_of("client/src", &SERVER_MODULES);
    assert!(
        found.is_empty(),
        "client/src imports server modules:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_agent_imports_no_server_module() {
    let mut modules = SERVER_MODULES.to_vec();
    modules.push("client");
    let found = imports_of("src/agent", &modules);
    assert!(
        found.is_empty(),
        "src/agent imports server modules:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_dispatcher_reaches_the_agent_only_through_wire() {
    let found = imports_of("src/dispatcher", &["agent"]);
    assert!(
        found.is_empty(),
        "src/dispatcher imports the agent:\n{}",
        found.join("\n")
    );
}

#[test]
fn store_raft_and_state_depend_one_way() {
    // store -> raft -> state: the replicated state knows no replication, and replication knows
    // no store handle (the arrow that used to run back up from src/raft to src/store).
    assert_eq!(imports_of("src/raft", &["store"]), Vec::<String>::new());
    assert_eq!(
        imports_of("src/state", &["store", "raft"]),
        Vec::<String>::new()
    );
}

#[test]
fn the_wire_crate_depends_on_no_server_code() {
    assert_eq!(dependencies("wire"), ["model", "serde", "serde_json"]);
}

/// The names in `[dependencies]` of the workspace crate in `dir`, in order.
fn dependencies(dir: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join("Cargo.toml");
    let manifest = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    deps.lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_scan_finds_a_server_import() {
    // The check above must be able to fail: a server module's own imports are found.
    assert!(!imports_of("src/api", &["store"]).is_empty());
}

//! `swarmctl validate` against the fixtures under manifests/: the valid ones pass, and each file
//! in manifests/invalid/ fails with the error its `# expect:` header names, at the right line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn swarmctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // The required-variable fixture relies on this variable being unset.
        .env_remove("SWARM_TEST_UNSET_TAG")
        .output()
        .expect("swarmctl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn valid_manifests_directory_passes() {
    let out = swarmctl(&["validate", "-f", "manifests/"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("manifests/web-stack.yml: valid"),
        "{stdout}"
    );
    assert!(stdout.contains("manifests/native.yaml: valid"), "{stdout}");
}

/// `# expect: LINE: PATH: TEXT` from the head of a fixture.
struct Expectation {
    line: u64,
    path: String,
    text: String,
}

/// Every `# expect:` line of a fixture: a file with several errors must report each in one run.
fn expectations(file: &Path) -> Vec<Expectation> {
    let content = std::fs::read_to_string(file).expect("fixture readable");
    let found: Vec<Expectation> = content
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|header| {
            let mut parts = header.splitn(3, ": ");
            let line = parts
                .next()
                .and_then(|l| l.trim().parse().ok())
                .expect("line number");
            let path = parts.next().unwrap_or_default().trim().to_owned();
            let text = parts.next().unwrap_or_default().trim().to_owned();
            Expectation { line, path, text }
        })
        .collect();
    assert!(
        !found.is_empty(),
        "{} has no `# expect:` header",
        file.display()
    );
    found
}

fn invalid_fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("manifests/invalid exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_invalid_fixture_fails_with_its_expected_error_and_line() {
    let files = invalid_fixtures();
    assert!(
        files.len() >= 20,
        "expected the full set of invalid fixtures"
    );
    let mut failures = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .expect("inside the repo")
            .display()
            .to_string();
        let wanted = expectations(&file);
        let out = swarmctl(&["validate", "-f", &relative]);
        let stderr = text(&out.stderr);
        if out.status.code() != Some(1) {
            failures.push(format!(
                "{relative}: exit {:?}, want 1\n{stderr}",
                out.status.code()
            ));
            continue;
        }
        for want in wanted {
            let prefix = format!("{relative}:{}:", want.line);
            let path_part = if want.path.is_empty() {
                String::new()
            } else {
                format!(": {}: ", want.path)
            };
            let found = stderr.lines().any(|l| {
                l.starts_with(&prefix)
                    && !l.contains(": warning: ")
                    && l.contains(&path_part)
                    && l.contains(&want.text)
            });
            if !found {
                failures.push(format!(
                    "{relative}: no error line starting `{prefix}` with path `{}` and text `{}`; got:\n{stderr}",
                    want.path, want.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn json_output_has_the_documented_shape() {
    let out = swarmctl(&[
        "validate",
        "-o",
        "json",
        "-f",
        "manifests/invalid/unknown-key.yml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let report = &reports[0];
    assert_eq!(report["file"], "manifests/invalid/unknown-key.yml");
    assert_eq!(report["valid"], false);
    let error = &report["errors"][0];
    assert_eq!(error["line"], 5);
    assert_eq!(error["column"], 5);
    assert_eq!(error["path"], "services.web.enviroment");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean `environment`"))
    );
    assert!(report["warnings"].is_array());
}

#[test]
fn warnings_do_not_fail_validation_and_go_to_stderr() {
    let out = swarmctl(&["validate", "-f", "manifests/web-stack.yml"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "manifests/web-stack.yml:25:9: warning: services.web.restart: `restart` is ignored by swarm"
        ),
        "{stderr}"
    );
}

#[test]
fn runnable_examples_validate() {
    let out = swarmctl(&["validate", "-f", "manifests/examples/"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("manifests/examples/web.yml: valid"));
}

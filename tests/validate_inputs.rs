//! How `swarmctl validate` takes its inputs: stdin, directories, size limits, hostile YAML.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn swarmctl(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swarmctl starts");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("swarmctl finishes")
}

#[test]
fn stdin_is_read_with_dash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = swarmctl(
        dir.path(),
        &["validate", "-f", "-"],
        Some("services:\n  web:\n    image: nginx\n"),
    );
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("<stdin>: valid"));
    let bad = swarmctl(
        dir.path(),
        &["validate", "-f", "-"],
        Some("services:\n  web:\n    image: [1\n"),
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("<stdin>:"));
}

#[test]
fn a_directory_is_one_stack_per_file_and_recursion_is_opt_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(
        root.join("a.yml"),
        "services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n",
    )
    .expect("write");
    // Same published port in another file: fine, it is another stack.
    std::fs::write(
        root.join("b.yaml"),
        "services:\n  web:\n    image: httpd\n    ports: [\"80:80\"]\n",
    )
    .expect("write");
    std::fs::write(root.join("notes.txt"), "not yaml: [").expect("write");
    std::fs::create_dir(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("sub/broken.yml"), "services: [").expect("write");

    let flat = swarmctl(root, &["validate", "-f", "."], None);
    assert_eq!(
        flat.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&flat.stderr)
    );
    let stdout = String::from_utf8_lossy(&flat.stdout);
    assert!(
        stdout.contains("a.yml: valid") && stdout.contains("b.yaml: valid"),
        "{stdout}"
    );
    assert!(!stdout.contains("broken"));

    let deep = swarmctl(root, &["validate", "-R", "-f", "."], None);
    assert_eq!(deep.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&deep.stdout).contains("broken.yml: invalid"));
}

#[test]
fn files_given_together_are_one_stack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(
        root.join("a.yml"),
        "services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n",
    )
    .expect("write");
    std::fs::write(
        root.join("b.yml"),
        "services:\n  api:\n    image: httpd\n    ports: [\"80:80\"]\n",
    )
    .expect("write");
    let out = swarmctl(root, &["validate", "-f", "a.yml", "-f", "b.yml"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Services are checked in name order, so the conflict is reported on `web` (in a.yml).
    assert!(
        stderr.contains("a.yml:4:13: services.web.ports[0]: published port 80/tcp is already used by service `api`"),
        "{stderr}"
    );
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("services:\n  web:\n    image: nginx\n    labels:\n");
    let line = format!("      k{}: \"{}\"\n", "{}", "x".repeat(100));
    let mut i = 0;
    while text.len() <= 4 * 1024 * 1024 {
        text.push_str(&line.replacen("{}", &i.to_string(), 1));
        i += 1;
    }
    std::fs::write(dir.path().join("big.yml"), &text).expect("write");
    let out = swarmctl(dir.path(), &["validate", "-f", "big.yml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the limit"));
}

#[test]
fn missing_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = swarmctl(dir.path(), &["validate", "-f", "nope.yml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.yml:1:1: file not found"));
}

#[test]
fn symlinked_secret_leading_out_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stack = dir.path().join("stack");
    std::fs::create_dir(&stack).expect("mkdir");
    std::fs::write(dir.path().join("outside.txt"), "secret").expect("write");
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), stack.join("pw.txt"))
        .expect("symlink");
    std::fs::write(
        stack.join("s.yml"),
        "services:\n  web:\n    image: nginx\n    secrets: [pw]\nsecrets:\n  pw:\n    file: ./pw.txt\n",
    )
    .expect("write");
    let refused = swarmctl(&stack, &["validate", "-f", "s.yml"], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("s.yml:7:11: secrets.pw.file:"));
    let allowed = swarmctl(
        &stack,
        &["validate", "--allow-outside-files", "-f", "s.yml"],
        None,
    );
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
}

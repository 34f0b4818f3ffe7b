//! swarmctl's output as a pipeline sees it: a reader that goes away early (`swarmctl ... | head`)
//! ends the command quietly with status 0, and warnings are placed alike by every command.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A stack file whose rendering is far larger than a pipe's buffer (64 KiB on Linux).
fn big_stack(dir: &Path) -> String {
    let mut yaml = String::from("services:\n");
    for n in 0..2_000 {
        yaml.push_str(&format!(
            "  svc{n}:\n    image: busybox\n    environment: {{A: \"{n}\"}}\n"
        ));
    }
    std::fs::write(dir.join("big.yml"), yaml).expect("write stack");
    "big.yml".into()
}

fn swarmctl(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swarmctl"));
    cmd.current_dir(dir).env("RUST_BACKTRACE", "1");
    cmd
}

fn assert_quiet_success(what: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{what}: {stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
}

#[test]
fn a_reader_gone_before_the_first_line_ends_the_command_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = big_stack(dir.path());
    let commands: [&[&str]; 4] = [
        &["schema"],
        &["render", "-f", &file],
        &["render", "-o", "json", "-f", &file],
        &["validate", "-o", "yaml", "-f", &file],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = swarmctl(dir.path())
            .args(args)
            .stdout(writer)
            .output()
            .expect("swarmctl runs");
        assert_quiet_success(&format!("{args:?}"), &out);
    }
}

#[test]
fn a_reader_that_stops_midway_ends_the_command_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = big_stack(dir.path());
    let mut child = swarmctl(dir.path())
        .args(["render", "-f", &file])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swarmctl runs");
    // As `head -c 100` does: read a little, then close the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).expect("the first bytes");
    drop(stdout);
    let out = child.wait_with_output().expect("swarmctl ends");
    assert!(String::from_utf8_lossy(&first).contains("kind: "));
    assert_quiet_success("render | head -c 100", &out);
}

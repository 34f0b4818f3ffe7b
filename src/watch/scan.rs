//! What is in a watched directory: stack files, their content hashes, the git commit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::manifest::limits::MAX_FILE_BYTES;
use crate::manifest::source::read_limited;

/// One stack file as last seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// sha256 of the content, hex; `None` when the file could not be read (the error says why).
    pub hash: Option<String>,
    /// The content, or why it could not be read as the user sees it: kept as text so two scans
    /// compare equal when the file failed the same way.
    pub text: Result<String, String>,
}

/// Reads every `*.yml` / `*.yaml` directly in `dir` (hidden files skipped).
pub fn scan(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, Seen>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if is_stack_file(&path) && path.is_file() {
            files.insert(path.clone(), read(&path));
        }
    }
    Ok(files)
}

/// Whether a path names a file the watcher manages.
pub fn is_stack_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    let yaml = path.extension().is_some_and(|e| e == "yml" || e == "yaml");
    yaml && !hidden
}

/// Reads one file and hashes it.
pub fn read(path: &Path) -> Seen {
    match read_limited(path, MAX_FILE_BYTES) {
        Ok(text) => Seen {
            hash: Some(hash(&text)),
            text: Ok(text),
        },
        Err(err) => Seen {
            hash: None,
            text: Err(err.to_string()),
        },
    }
}

/// sha256 of a text, hex.
pub fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stack a watched file defines: its file name without extension (`shop.yml` → `shop`),
/// always, so a file's stack never changes while it exists and deleting the file identifies
/// exactly what to prune.
pub fn stack_for(path: &Path) -> String {
    crate::manifest::naming::stack_for_file(path)
}

/// The commit checked out in the git work tree holding `dir`, if any.
pub fn git_commit(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!commit.is_empty()).then_some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_come_from_file_names() {
        assert_eq!(stack_for(Path::new("/x/Shop.yml")), "shop");
        assert_eq!(stack_for(Path::new("/x/my app.v2.yaml")), "my-app-v2");
        assert_eq!(stack_for(Path::new("/x/...yml")), "stack");
    }

    #[test]
    fn scan_reads_yaml_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.yml"), "x: 1\n").expect("write");
        std::fs::write(dir.path().join("b.txt"), "x").expect("write");
        std::fs::write(dir.path().join(".hidden.yml"), "x").expect("write");
        let seen = scan(dir.path()).expect("scan");
        assert_eq!(seen.len(), 1);
        let a = &seen[&dir.path().join("a.yml")];
        assert_eq!(a.hash.as_deref(), Some(hash("x: 1\n").as_str()));
    }

    #[test]
    fn git_commit_is_found_inside_a_work_tree_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(git_commit(dir.path()), None);
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
                .expect("git runs")
        };
        git(&["init", "-q"]);
        std::fs::write(dir.path().join("a.yml"), "x: 1\n").expect("write");
        git(&["add", "a.yml"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "init",
        ]);
        let commit = git_commit(dir.path()).expect("a commit");
        assert_eq!(commit.len(), 40);
    }
}

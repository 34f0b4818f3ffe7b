//! Secrets and configs as files on the node: written under a tmpfs directory (never a disk, never
//! the image), one directory per task, bind-mounted read-only into the container, removed when
//! the task ends.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use wire::{FileData, TaskAssignment};

use super::error::RuntimeError;

/// Where files go unless configured otherwise: `/dev/shm` is a tmpfs on Linux hosts.
pub const DEFAULT_FILES_DIR: &str = "/dev/shm/swarm";

/// Default mode of a secret or config file (Docker's).
const DEFAULT_MODE: u32 = 0o444;

/// A file to bind into a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMount {
    /// Path on the node.
    pub source: PathBuf,
    /// Absolute path in the container.
    pub target: String,
}

/// The per-task file directories under one base directory.
#[derive(Clone, Debug)]
pub struct FileStore {
    base: PathBuf,
}

impl FileStore {
    /// Files under `base`, which must be on a tmpfs.
    pub fn new(base: impl Into<PathBuf>) -> FileStore {
        FileStore { base: base.into() }
    }

    /// Where a task's files go, and where they are bound in its container. Pure: the container
    /// spec is built from this without touching the disk.
    pub fn mounts(&self, task: &TaskAssignment) -> Result<Vec<FileMount>, RuntimeError> {
        let dir = self.task_dir(&task.task_id)?;
        let secrets = task.secrets.iter().enumerate().map(|(i, f)| FileMount {
            source: dir.join(format!("secret-{i}-{}", file_hash(f))),
            target: target(f, "/run/secrets"),
        });
        let configs = task.configs.iter().enumerate().map(|(i, f)| FileMount {
            source: dir.join(format!("config-{i}-{}", file_hash(f))),
            target: target(f, "/"),
        });
        Ok(secrets.chain(configs).collect())
    }

    /// Writes the task's files with their owner and mode (idempotent).
    pub fn write(&self, task: &TaskAssignment) -> Result<Vec<FileMount>, RuntimeError> {
        let mounts = self.mounts(task)?;
        if mounts.is_empty() {
            return Ok(mounts);
        }
        check_tmpfs(&self.base)?;
        let dir = self.task_dir(&task.task_id)?;
        // 0700: other users of the node must not read the secrets.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io(format!("creating {}", dir.display()), e))?;
        let files = task.secrets.iter().chain(&task.configs);
        for (file, mount) in files.zip(&mounts) {
            write_file(file, &mount.source)?;
        }
        Ok(mounts)
    }

    /// Removes a task's files (a missing directory is fine).
    pub fn remove(&self, task_id: &str) -> Result<(), RuntimeError> {
        let dir = self.task_dir(task_id)?;
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io(format!("removing {}", dir.display()), e))
            }
            _ => Ok(()),
        }
    }

    fn task_dir(&self, task_id: &str) -> Result<PathBuf, RuntimeError> {
        // The id becomes a path component: refuse anything that could escape the base.
        let safe = !task_id.is_empty()
            && !task_id.starts_with('.')
            && task_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !safe {
            return Err(RuntimeError::InvalidSpec(format!(
                "task id {task_id:?} cannot name a directory"
            )));
        }
        Ok(self.base.join(task_id))
    }
}

fn file_hash(f: &FileData) -> String {
    // The hash names the file so new content is a new file; keep names short.
    let hex: String = f
        .content_hash
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    if hex.is_empty() { "nohash".into() } else { hex }
}

fn target(f: &FileData, dir: &str) -> String {
    let name = f.reference.target.as_deref().unwrap_or(&f.name);
    if name.starts_with('/') {
        name.to_string()
    } else {
        format!("{}/{name}", dir.trim_end_matches('/'))
    }
}

fn write_file(file: &FileData, path: &Path) -> Result<(), RuntimeError> {
    let mode = file.reference.mode.map_or(DEFAULT_MODE, |m| m.0);
    let uid = parse_id(file.reference.uid.as_deref(), "uid", &file.name)?;
    let gid = parse_id(file.reference.gid.as_deref(), "gid", &file.name)?;
    // Write aside and rename so a container never binds a half-written file.
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        out.write_all(file.content.as_bytes())?;
        out.sync_all()?;
        std::os::unix::fs::chown(&tmp, Some(uid), Some(gid))?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| io(format!("writing the file of {}", file.name), e))
}

fn parse_id(id: Option<&str>, what: &str, name: &str) -> Result<u32, RuntimeError> {
    match id {
        None => Ok(0),
        Some(id) => id.trim().parse().map_err(|_| {
            RuntimeError::InvalidSpec(format!(
                "{what} {id:?} of {name} is not a number: give numeric ids"
            ))
        }),
    }
}

/// Refuses a base directory that is not on a tmpfs: secrets must not reach a disk.
fn check_tmpfs(base: &Path) -> Result<(), RuntimeError> {
    let mounts = fs::read_to_string("/proc/self/mounts")
        .map_err(|e| io("reading /proc/self/mounts".into(), e))?;
    let fs_type = mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let point = fields.nth(1)?;
            let kind = fields.next()?;
            base.starts_with(point).then_some((point.len(), kind))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind.to_string());
    match fs_type.as_deref() {
        Some("tmpfs" | "ramfs") => Ok(()),
        other => Err(RuntimeError::InvalidSpec(format!(
            "the secrets directory {} is on {}, not a tmpfs: point the agent at a tmpfs (e.g. /dev/shm/swarm)",
            base.display(),
            other.unwrap_or("an unknown filesystem")
        ))),
    }
}

fn io(context: String, source: std::io::Error) -> RuntimeError {
    RuntimeError::Io { context, source }
}

#[cfg(test)]
mod tests {
    use model::service::FileRef;

    use super::*;

    fn file(name: &str, target: Option<&str>) -> FileData {
        FileData {
            reference: FileRef {
                target: target.map(Into::into),
                ..FileRef::new(name)
            },
            name: name.into(),
            content_hash: "abcdef0123456789abcdef".into(),
            content: "s3cret".into(),
        }
    }

    #[test]
    fn targets_default_like_docker() {
        let mut task = TaskAssignment::test("t1", "web", "img");
        task.secrets = vec![file("db_pw", None), file("api", Some("/etc/api.key"))];
        task.configs = vec![file("nginx.conf", None), file("app", Some("app.ini"))];
        let mounts = FileStore::new("/dev/shm/x").mounts(&task).expect("mounts");
        let targets: Vec<_> = mounts.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "/run/secrets/db_pw",
                "/etc/api.key",
                "/nginx.conf",
                "/app.ini"
            ]
        );
        assert_eq!(
            mounts[0].source,
            PathBuf::from("/dev/shm/x/t1/secret-0-abcdef0123456789")
        );
    }

    #[test]
    fn refuses_task_ids_that_escape_the_base() {
        let task = TaskAssignment::test("../etc", "web", "img");
        assert!(FileStore::new("/dev/shm/x").mounts(&task).is_err());
    }

    #[test]
    fn refuses_a_disk_backed_directory() {
        assert!(check_tmpfs(Path::new("/")).is_err() || fs::metadata("/proc").is_err());
    }
}

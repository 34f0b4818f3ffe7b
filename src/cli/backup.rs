//! `swarmctl cluster backup FILE`: the manager's backup document, written atomically with mode
//! 0600 (it holds every secret and the root CA key).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use wire::BACKUP_FORMAT;

use super::error::{CliError, Result};
use super::{Output, output};
use crate::client::Client;

/// What `-o json|yaml` prints about a written backup.
#[derive(serde::Serialize)]
struct Written<'a> {
    file: String,
    format: &'a str,
    cluster_id: &'a str,
    raft_index: u64,
    objects: usize,
}

pub async fn run(client: &Client, file: &Path, output: Output) -> Result<()> {
    let backup = client.cluster_backup().await?;
    if backup.format != BACKUP_FORMAT {
        return Err(CliError::Usage(format!(
            "the manager answered a backup in format `{}`, but this swarmctl writes `{BACKUP_FORMAT}`; use the swarmctl of the manager's release",
            backup.format
        )));
    }
    let bytes = serde_json::to_vec(&backup)?;
    write_private(file, &bytes).map_err(|err| {
        CliError::Usage(format!(
            "cannot write the backup to {}: {err}",
            file.display()
        ))
    })?;
    let written = Written {
        file: file.display().to_string(),
        format: &backup.format,
        cluster_id: &backup.cluster_id,
        raft_index: backup.raft_index,
        objects: backup.records.len(),
    };
    output::print(output, &written, || {
        outln!(
            "Backed up {} objects of cluster {} (Raft index {}) to {}.",
            written.objects,
            written.cluster_id,
            written.raft_index,
            written.file
        );
        outln!(
            "The file holds every secret in clear and the root CA key (mode 0600): keep it safe."
        );
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory, created with mode
/// 0600 before any byte is written, synced, then renamed over `path`: a reader sees the old
/// file or the whole new one, and nobody else ever can read it.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

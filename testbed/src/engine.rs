//! One dockerd per node, started inside the node's namespace with its own configuration,
//! data root, exec root, socket and pidfile.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::cmd::{self, describe, in_netns};
use crate::error::{Error, Result};
use crate::poll::eventually;

/// The machine's engine configuration, the base of every node's.
const HOST_CONFIG: &str = "/etc/docker/daemon.json";

/// Settings each node's engine gets on its command line instead: dockerd refuses a flag that
/// repeats a file setting.
const PER_NODE_KEYS: &[&str] = &[
    "data-root",
    "graph",
    "exec-root",
    "pidfile",
    "hosts",
    "bip",
    "bridge",
    "live-restore",
];

/// How long an engine may take to answer (they answer within ~0.5 s on an idle machine).
const START_WITHIN: Duration = Duration::from_secs(30);

/// How long an engine may take to shut down once its containers are gone.
const STOP_WITHIN: Duration = Duration::from_secs(15);

/// The socket of `node`'s engine in testbed directory `dir`.
pub(crate) fn socket_path(dir: &Path, node: &str) -> PathBuf {
    dir.join(node).join("docker.sock")
}

/// Writes `node_dir/daemon.json`: the host's configuration (so `storage-driver:
/// fuse-overlayfs`, which the root filesystem needs, and the MTU are kept) without the
/// settings given per node.
pub(crate) fn write_config(node_dir: &Path) -> Result<PathBuf> {
    let mut config = match std::fs::read_to_string(HOST_CONFIG) {
        Ok(text) => {
            serde_json::from_str::<serde_json::Value>(&text).map_err(|e| Error::DaemonConfig {
                path: HOST_CONFIG.into(),
                detail: e.to_string(),
            })?
        }
        Err(_) => serde_json::json!({}),
    };
    let object = config.as_object_mut().ok_or_else(|| Error::DaemonConfig {
        path: HOST_CONFIG.into(),
        detail: "not an object".into(),
    })?;
    for key in PER_NODE_KEYS {
        object.remove(*key);
    }
    let path = node_dir.join("daemon.json");
    std::fs::write(&path, config.to_string()).map_err(Error::io("write", &path))?;
    Ok(path)
}

/// Starts dockerd for `node` in `netns`, its files under `node_dir`, logging to
/// `node_dir/dockerd.log`. Does not wait for it to answer: see [`wait_until_answers`].
pub(crate) fn spawn(netns: &str, node_dir: &Path, bip: &str) -> Result<Child> {
    let config = write_config(node_dir)?;
    let log_path = node_dir.join("dockerd.log");
    let log = File::create(&log_path).map_err(Error::io("create", &log_path))?;
    let log_err = log.try_clone().map_err(Error::io("reopen", &log_path))?;
    let socket = node_dir.join("docker.sock");
    let mut cmd = in_netns(netns, "dockerd");
    cmd.arg("--config-file")
        .arg(&config)
        .arg("--data-root")
        .arg(node_dir.join("data"))
        .arg("--exec-root")
        .arg(node_dir.join("exec"))
        .arg("--pidfile")
        .arg(node_dir.join("dockerd.pid"))
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .args(["--bip", bip])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    cmd.spawn().map_err(|source| Error::Spawn {
        command: describe(&cmd),
        source,
    })
}

/// Polls `node`'s engine until it answers `/_ping`; fails early, with its log, if it exits.
pub(crate) fn wait_until_answers(node: &str, engine: &mut Child, node_dir: &Path) -> Result<()> {
    let socket = node_dir.join("docker.sock");
    let mut exited = None;
    let answered = eventually(
        START_WITHIN,
        &format!("the engine of node {node} answers"),
        || {
            if let Ok(Some(status)) = engine.try_wait() {
                exited = Some(status);
                return Some(false);
            }
            ping(&socket).then_some(true)
        },
    )?;
    match (answered, exited) {
        (false, Some(status)) => Err(Error::EngineExited {
            node: node.to_owned(),
            status,
            log: tail(&node_dir.join("dockerd.log"), 20),
        }),
        _ => Ok(()),
    }
}

/// Whether the engine at `socket` answers `GET /_ping` with 200.
pub(crate) fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// Removes every container of the engine at `socket`, if it answers: dockerd would otherwise
/// give each one 10 s to stop when it shuts down.
pub(crate) fn remove_containers(socket: &Path) {
    if !ping(socket) {
        return;
    }
    let host = format!("unix://{}", socket.display());
    let Ok(listed) = cmd::output(Command::new("docker").args(["-H", &host, "ps", "-aq"])) else {
        return;
    };
    let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !ids.is_empty() {
        let _ = cmd::output(
            Command::new("docker")
                .args(["-H", &host, "rm", "-f", "-v"])
                .args(&ids),
        );
    }
}

/// Stops `node`'s engine: its containers first, then SIGTERM (so it unmounts its storage and
/// stops its containerd), SIGKILL if it does not exit within [`STOP_WITHIN`].
pub(crate) fn stop(node: &str, engine: &mut Child, node_dir: &Path) -> Result<()> {
    remove_containers(&node_dir.join("docker.sock"));
    cmd::signal(engine.id() as i32, libc::SIGTERM);
    let stopped = eventually(
        STOP_WITHIN,
        &format!("the engine of node {node} stops"),
        || engine.try_wait().ok().flatten(),
    );
    if stopped.is_err() {
        let _ = engine.kill();
        let _ = engine.wait();
    }
    stopped.map(drop)
}

/// The last `lines` lines of the file at `path` (empty if it cannot be read).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

//! A process started "on a node": inside the node's network namespace, pointed at the node's
//! engine, its output captured to a file in the testbed directory.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::cmd::{self, describe, in_netns};
use crate::error::{Error, Result};
use crate::poll::eventually;

/// A process running on a node. Dropping it kills it (and its process group).
#[derive(Debug)]
pub struct NodeProcess {
    node: String,
    child: Child,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

/// `command` rebuilt to run under `nsenter` in `netns`, with `DOCKER_HOST` set to
/// `docker_host` unless `command` sets it.
pub(crate) fn wrap(command: &Command, netns: &str, docker_host: &str) -> Command {
    let mut cmd = in_netns(netns, &command.get_program().to_string_lossy());
    cmd.args(command.get_args()).env("DOCKER_HOST", docker_host);
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd
}

impl NodeProcess {
    /// Starts `cmd` (already wrapped for its node) in a process group of its own, appending its
    /// standard output and error to `log`.
    pub(crate) fn spawn(node: &str, mut cmd: Command, log: PathBuf) -> Result<NodeProcess> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(Error::io("open", &log))?;
        let err = out.try_clone().map_err(Error::io("reopen", &log))?;
        // Its own group, so kill() also reaches whatever it spawned.
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            command: describe(&cmd),
            source,
        })?;
        Ok(NodeProcess {
            node: node.to_owned(),
            child,
            log,
            exited: None,
        })
    }

    /// The node it runs on.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Its process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The file its standard output and error go to.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Everything it has written so far (standard output and error interleaved).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its output contains `needle`; fails after `within`, or as soon as it exits
    /// without having written it.
    pub fn wait_for_output(&mut self, needle: &str, within: Duration) -> Result<()> {
        let what = format!("{} on {} writes {needle:?}", self.log.display(), self.node);
        let found = eventually(within, &what, || {
            if self.output().contains(needle) {
                return Some(true);
            }
            self.exit_status().map(|_| false)
        })?;
        if found {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "{what}: it exited ({:?}) first; output:\n{}",
                self.exited,
                self.output()
            )))
        }
    }

    /// How it exited, or `None` while it runs.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Kills it and its process group with SIGKILL (a crash, as `kill -9` does) and reaps it.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        self.signal_group(libc::SIGKILL);
        self.wait()
    }

    /// Asks it to stop with SIGTERM; kills it if it has not exited within `grace`.
    pub fn terminate(&mut self, grace: Duration) -> Result<ExitStatus> {
        self.signal_group(libc::SIGTERM);
        let what = format!("{} on {} exits on SIGTERM", self.log.display(), self.node);
        match eventually(grace, &what, || self.exit_status()) {
            Ok(status) => Ok(status),
            Err(_) => self.kill(),
        }
    }

    fn signal_group(&mut self, signal: i32) {
        if self.exit_status().is_none() {
            cmd::signal(-(self.child.id() as i32), signal);
        }
    }

    fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.exited {
            return Ok(status);
        }
        let status = self
            .child
            .wait()
            .map_err(Error::io("wait for", &self.log))?;
        self.exited = Some(status);
        Ok(status)
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

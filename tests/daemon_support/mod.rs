//! A real `swarmd` process for tests: started on 127.0.0.1:0 with its own data dir, found through
//! DATA_DIR/api.addr, killed when dropped (even when the test fails).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running daemon.
pub struct Daemon {
    pub child: Child,
    pub data_dir: PathBuf,
    pub host: String,
}

impl Daemon {
    /// Starts `swarmd up` on a free port and waits until its API answers.
    pub fn up(data_dir: &Path, extra: &[&str]) -> Daemon {
        Daemon::start("up", data_dir, extra)
    }

    /// Starts `swarmd COMMAND` (`up`, `init`, `run`) on a free port and waits until its API
    /// answers.
    pub fn start(command: &str, data_dir: &Path, extra: &[&str]) -> Daemon {
        let mut daemon = Daemon::spawn(
            &[command, "--api-addr", "127.0.0.1:0"],
            data_dir,
            extra,
            "api.addr",
        );
        daemon.host = daemon.wait_for_address();
        daemon
    }

    /// Starts `swarmd join` as a worker (which serves no API) and waits until it runs.
    pub fn start_worker(data_dir: &Path, extra: &[&str]) -> Daemon {
        let mut daemon = Daemon::spawn(&["join"], data_dir, extra, "listen.addr");
        daemon.wait_for_file("listen.addr");
        daemon
    }

    /// Spawns `swarmd ARGS --listen-addr 127.0.0.1:0 --data-dir DIR EXTRA`, logging to
    /// DIR.log, after removing the file whose appearance says it is ready.
    fn spawn(args: &[&str], data_dir: &Path, extra: &[&str], ready_file: &str) -> Daemon {
        let _ = std::fs::remove_file(data_dir.join(ready_file));
        let log = std::fs::File::create(data_dir.with_extension("log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_swarmd"))
            .args(args)
            .args(["--listen-addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("swarmd starts");
        Daemon {
            child,
            data_dir: data_dir.to_path_buf(),
            host: String::new(),
        }
    }

    /// The node-to-node address this node advertises (what `swarmd join` takes).
    pub fn listen_addr(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("listen.addr"))
            .expect("listen.addr")
            .trim()
            .to_owned()
    }

    fn wait_for_address(&mut self) -> String {
        self.wait_for_file("api.addr")
    }

    fn wait_for_file(&mut self, name: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let path = self.data_dir.join(name);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && !text.trim().is_empty()
            {
                return text.trim().to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("swarmd exited early ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "swarmd did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
    }

    /// Runs swarmctl against this daemon.
    pub fn ctl(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_swarmctl"))
            .args(["--host", &self.host])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("swarmctl runs")
    }

    /// Runs swarmctl and parses its JSON output (`-o json` is added).
    pub fn json(&self, dir: &Path, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let out = self.ctl(dir, &all);
        assert!(
            out.status.success(),
            "swarmctl {args:?}: {}",
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
    }

    /// The `stack ls -o json` row of stack `name`, if it exists.
    pub fn stack_row(&self, dir: &Path, name: &str) -> Option<serde_json::Value> {
        self.json(dir, &["stack", "ls"])
            .as_array()?
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "swarmd ignored SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Polls `check` until it returns `Some`, or fails after `timeout` with `what`.
pub fn eventually<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

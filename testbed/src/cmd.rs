//! Running the tools a testbed is built with (`ip`, `iptables`, `nsenter`, `docker`), and
//! signalling processes.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::poll::eventually;

/// The command line of `cmd`, for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `cmd` to completion, whatever its exit status.
pub(crate) fn output(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            command: describe(cmd),
            source,
        })
}

/// Runs `cmd`, failing on a non-zero exit status.
pub(crate) fn run(cmd: &mut Command) -> Result<Output> {
    let out = output(cmd)?;
    check(cmd, out)
}

fn check(cmd: &Command, out: Output) -> Result<Output> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(Error::Failed {
            command: describe(cmd),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// A command that runs `program` inside network namespace `netns`.
///
/// `nsenter --net=` rather than `ip netns exec`: the latter fails on these machines
/// ("Devices cgroup isn't mounted").
pub(crate) fn in_netns(netns: &str, program: &str) -> Command {
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--net={}", netns_path(netns)))
        .arg("--")
        .arg(program);
    cmd
}

/// The file that names network namespace `netns`.
pub(crate) fn netns_path(netns: &str) -> String {
    format!("/var/run/netns/{netns}")
}

/// Runs `ip -batch -` with `lines`, inside `netns` if given: one process for many changes.
pub(crate) fn ip_batch(netns: Option<&str>, lines: &[String]) -> Result<()> {
    let mut cmd = match netns {
        Some(ns) => in_netns(ns, "ip"),
        None => Command::new("ip"),
    };
    cmd.args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        command: describe(&cmd),
        source,
    })?;
    let script = lines.join("\n") + "\n";
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(Error::io("write the ip batch to", "ip -batch"))?;
    }
    let out = child.wait_with_output().map_err(|source| Error::Spawn {
        command: describe(&cmd),
        source,
    })?;
    check(&cmd, out).map(drop).map_err(|e| match e {
        Error::Failed { status, stderr, .. } => Error::Failed {
            command: format!("{} <<< {script:?}", describe(&cmd)),
            status,
            stderr,
        },
        other => other,
    })
}

/// `iptables -w ARGS` (waiting for the xtables lock: parallel testbeds share it), inside
/// `netns` if given.
pub(crate) fn iptables(netns: Option<&str>, args: &[&str]) -> Result<Output> {
    let mut cmd = match netns {
        Some(ns) => in_netns(ns, "iptables"),
        None => Command::new("iptables"),
    };
    run(cmd.arg("-w").args(args))
}

/// Sends `signal` to process `pid` (a negative pid names a process group); a process that is
/// already gone is not an error.
pub(crate) fn signal(pid: i32, signal: i32) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Whether process `pid` still exists (zombies count as gone).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name: "123 (name) S ...".
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The processes living in network namespace `netns`.
pub(crate) fn netns_pids(netns: &str) -> Result<Vec<u32>> {
    let out = run(Command::new("ip").args(["netns", "pids", netns]))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// Stops every process in `netns`: SIGTERM, then SIGKILL for those still there after `grace`.
/// Only used on namespaces a testbed created, so every process in them is the testbed's.
pub(crate) fn stop_netns_processes(netns: &str, grace: Duration) -> Result<()> {
    let pids = netns_pids(netns)?;
    if pids.is_empty() {
        return Ok(());
    }
    pids.iter().for_each(|&p| signal(p as i32, libc::SIGTERM));
    let gone = |pids: &[u32]| pids.iter().all(|&p| !alive(p));
    if eventually(grace, "", || gone(&pids).then_some(())).is_ok() {
        return Ok(());
    }
    let left = netns_pids(netns)?;
    left.iter().for_each(|&p| signal(p as i32, libc::SIGKILL));
    eventually(
        Duration::from_secs(5),
        &format!("processes {left:?} in {netns} die"),
        || gone(&left).then_some(()),
    )
}

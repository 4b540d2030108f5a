//! The processes the harnesses run as users do: `wrapup serve` ([`Serve`]) and the
//! baselines ([`Process`], killed when dropped), what `/proc` says of them, and the JSON the
//! CLI prints.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A child process, killed (and reaped) when dropped.
pub struct Process(pub Child);

impl Process {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `wrapup serve` as its own process on 127.0.0.1, on a port the system picks.
pub struct Serve {
    pub process: Process,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub port: u16,
    /// From spawning it to its listening (its ready file written).
    pub startup: Duration,
    _ready: tempfile::TempDir,
}

impl Serve {
    /// Runs `BIN serve --listen 127.0.0.1:0 ARGS` (logging warnings only, its output
    /// dropped) and waits up to `limit` for it to listen.
    pub fn start(bin: &Path, args: &[&str], limit: Duration) -> Result<Serve> {
        let dir = tempfile::tempdir()?;
        let ready = dir.path().join("url");
        let started = Instant::now();
        let mut process = Process(
            Command::new(bin)
                .args(["serve", "--listen", "127.0.0.1:0"])
                .args(args)
                .arg("--ready-file")
                .arg(&ready)
                .env("WRAPUP_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?,
        );
        loop {
            if let Ok(url) = std::fs::read_to_string(&ready) {
                let url = url.trim().to_string();
                let port = url
                    .rsplit_once(':')
                    .and_then(|(_, port)| port.parse().ok())
                    .with_context(|| format!("the ready file's URL {url:?}"))?;
                return Ok(Serve {
                    process,
                    url,
                    port,
                    startup: started.elapsed(),
                    _ready: dir,
                });
            }
            if let Some(status) = process.0.try_wait()? {
                bail!("wrapup serve exited: {status}");
            }
            if started.elapsed() > limit {
                bail!("wrapup serve did not listen within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`), if the process is there.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// The CPU time (user + system) a process has used so far, if it is there.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields 14 and 15 (utime, stime, in ticks of 10 ms), counted after the command's name.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

/// Runs a command that prints JSON (`wrapup seed --json`, `clients create --json`).
pub fn json_of(cmd: &mut Command) -> Result<serde_json::Value> {
    let out = cmd.output()?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

//! The options of `wrapup serve` for a server started by a test (docs/testing.md): a clock
//! the test moves, a server that stops when the process that started it dies, and a file
//! saying where it listens once it does. The Python and JavaScript fixtures use all three.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use wrapup_server::{Clock, ManualClock, SystemClock};

use crate::commands::db::DbArg;

/// Which clock the server goes by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClockKind {
    /// The real time.
    System,
    /// A test clock: starts at the real time and then moves only when
    /// `POST /api/v2/admin/clock/advance` moves it.
    Manual,
}

#[derive(Args)]
pub struct TestOptions {
    /// `manual`: a test clock that starts at the real time and then moves only when
    /// `POST /api/v2/admin/clock/advance` moves it (settle times, token expiry, rate limits
    /// and webhook retries pass at once). SQLite only: with PostgreSQL each node would have
    /// its own. See docs/testing.md.
    #[arg(
        long,
        env = "WRAPUP_CLOCK",
        hide_env_values = true,
        value_enum,
        default_value_t = ClockKind::System
    )]
    clock: ClockKind,
    /// Shut down (as on SIGTERM) when standard input reaches end of file. A program that
    /// starts the server with its stdin a pipe it holds then never leaves it behind: the
    /// kernel closes the pipe when that program exits, however it dies (even SIGKILL).
    #[arg(long)]
    exit_on_stdin_eof: bool,
    /// Once the server listens, write its URL (e.g. http://127.0.0.1:41234) and a newline to
    /// this file, whole (written to FILE.tmp, then renamed): with --listen 127.0.0.1:0, how
    /// a program learns the port the system chose.
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
}

impl TestOptions {
    /// The clock these options ask for; a manual clock is refused on PostgreSQL, where the
    /// nodes sharing the database would each go by their own.
    pub fn clock(&self, db: &DbArg) -> anyhow::Result<Arc<dyn Clock>> {
        Ok(match self.clock {
            ClockKind::System => Arc::new(SystemClock),
            ClockKind::Manual => {
                if db.sqlite_file().is_none() {
                    bail!(
                        "--clock manual needs a SQLite database: a manual clock belongs to one process, and the nodes sharing {} would each go by their own. Run tests on SQLite (--db sqlite://PATH).",
                        db.shown()
                    );
                }
                Arc::new(ManualClock::new(SystemClock.now_ms()))
            }
        })
    }

    /// What the banner says about the clock, when it is not the real one.
    pub fn describe_clock(&self) -> Option<&'static str> {
        (self.clock == ClockKind::Manual).then_some(
            "clock: MANUAL (test clock; it moves only with POST /api/v2/admin/clock/advance)",
        )
    }

    /// Writes the ready file, if asked for.
    pub fn ready(&self, url: &str) -> anyhow::Result<()> {
        let Some(path) = &self.ready_file else {
            return Ok(());
        };
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, format!("{url}\n"))
            .with_context(|| format!("writing the ready file {}", path.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("writing the ready file {}", path.display()))
    }

    /// Completes when standard input reaches end of file (or cannot be read), if
    /// `--exit-on-stdin-eof` asks for it; never otherwise. Whatever is written to it is
    /// read and ignored. The read runs on a thread of its own, which never holds up the
    /// process's exit.
    pub fn stdin_closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let watch = self.exit_on_stdin_eof.then(|| {
            let (closed, rx) = tokio::sync::oneshot::channel::<()>();
            std::thread::spawn(move || {
                use std::io::Read;
                let mut stdin = std::io::stdin().lock();
                let mut buf = [0u8; 1024];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = closed.send(());
            });
            rx
        });
        async move {
            match watch {
                Some(rx) => {
                    let _ = rx.await;
                }
                None => std::future::pending().await,
            }
        }
    }
}

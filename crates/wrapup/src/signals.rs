//! SIGINT and SIGTERM for the long-running commands (`serve`, `batch`): the first asks the
//! command to stop gracefully; a second one exits at once with [`exit::INTERRUPTED`]
//! (docs/operations.md#shutdown, docs/batch.md#interrupting-a-batch).

use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::exit;

/// The two signals that ask a command to stop.
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    /// Listens for SIGINT and SIGTERM from now on (their default action, ending the
    /// process, is replaced until the process exits).
    pub fn listen() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal's name.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }

    /// Waits for the first signal, says what `stopping` means, and returns; from then on a
    /// second signal ends the process at once (spawned on the runtime).
    pub async fn first_then_exit_on_second(mut self, stopping: &str, on_second: &'static str) {
        let name = self.next().await;
        eprintln!("wrapup: {name} received: {stopping} (send it again to stop at once)");
        tokio::spawn(async move {
            let name = self.next().await;
            eprintln!("wrapup: {name} received again: stopping at once; {on_second}");
            std::process::exit(i32::from(exit::INTERRUPTED));
        });
    }
}

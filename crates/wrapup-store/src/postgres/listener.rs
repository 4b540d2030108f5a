//! The listener: holds a connection that `LISTEN`s for the commit notifications every
//! node's writer sends (`NOTIFY`, delivered at commit), and tells the tailer.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;

/// The channel of the commit notifications; the payload is the last event number the
/// transaction committed.
pub(super) const CHANNEL: &str = "wrapup_events";

/// What the listener tells the tailer.
pub(super) enum ListenerSignal {
    /// A transaction committed events up to this number.
    Committed(i64),
    /// The listening connection was (re)established: notifications may have been lost.
    Listening,
}

/// Listens for commit notifications and passes them on; reconnects when the connection
/// drops (the tailer then re-reads the counter).
pub(super) async fn run_listener(pool: PgPool, signals: mpsc::UnboundedSender<ListenerSignal>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for commits; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cannot listen for commits; retrying in 1 s");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if signals.send(ListenerSignal::Listening).is_err() {
            return;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let Ok(last) = n.payload().parse() else {
                        continue;
                    };
                    if signals.send(ListenerSignal::Committed(last)).is_err() {
                        return;
                    }
                }
                // The connection was lost; the next call reconnects.
                Ok(None) => {
                    if signals.send(ListenerSignal::Listening).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for commits failed; reconnecting in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

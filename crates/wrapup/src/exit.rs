//! Exit codes (documented in the README and in `wrapup --help`).

pub const OK: u8 = 0;
/// The command failed for another reason (a file, the database, a bad setting, an
/// internal error).
pub const FAILURE: u8 = 1;
/// Usage error: unknown flag, missing or malformed argument.
pub const USAGE: u8 = 2;
/// The server refused the request (or lint/doctor found it would).
pub const REJECTED: u8 = 3;
/// Timed out waiting for the interaction to be ready.
pub const TIMED_OUT: u8 = 4;
/// Cannot reach the server, or cannot authenticate.
pub const UNREACHABLE: u8 = 5;
/// Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it): `batch` finished the
/// rows in flight and can be resumed; `serve` exits 0 after a graceful shutdown and with
/// this code only on a second signal.
pub const INTERRUPTED: u8 = 130;

/// The exit-code table of `--help` (a macro, so `concat!` can use it).
macro_rules! exit_codes {
    () => {
        "Exit codes:\n  0  success\n  1  other failure (file, database, setting)\n  2  usage error\n  \
3  rejected by the server (or lint/doctor found the request would be)\n  4  timed out waiting for the interaction\n  \
5  cannot reach the server or authenticate\n  \
130  interrupted (SIGINT or SIGTERM; batch: run it again to resume)"
    };
}
pub(crate) use exit_codes;

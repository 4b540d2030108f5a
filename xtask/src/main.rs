//! Workspace tasks that belong to no one crate. `tidy` checks the shape of every crate's
//! source (no file over 700 lines, no import cycle between modules); its checks are also
//! `#[test]`s, so `cargo test --workspace` runs them.
//!
//! ```text
//! cargo run -p xtask -- tidy
//! ```

#![forbid(unsafe_code)]

mod tidy;

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("tidy") => {
            tidy::check_file_lengths();
            tidy::check_import_cycles();
            println!("tidy: every source file is at most 700 lines; no import cycle");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- tidy");
            ExitCode::from(2)
        }
    }
}

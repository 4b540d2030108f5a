//! How the commands talk to people besides their results: error messages and their exit
//! codes, the `-v` trace, the progress spinner. (Results are printed by `render.rs`.)

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use wrapup_client::{ApplyError, Error, HttpTrace, InvalidWrapUp, TransportFailure};

use crate::exit;
use crate::render::human_ms;

/// A batch that stopped before its end because the server could not be reached, kept
/// failing, kept answering 429 past the retries, or refused the credentials: exit 5, as
/// docs/batch.md says, whatever the last answer was.
#[derive(Debug, thiserror::Error)]
#[error("the batch stopped: {cause}")]
pub struct BatchStopped {
    pub cause: Error,
}

/// The exit code and the message for a failed command.
pub fn classify(e: &anyhow::Error) -> (u8, String) {
    if let Some(apply) = e.downcast_ref::<ApplyError>() {
        return match apply {
            ApplyError::TimedOut { .. } => (
                exit::TIMED_OUT,
                format!("{apply}. Wait longer with --wait, or run `wrapup doctor` to see why."),
            ),
            ApplyError::Code { detail, .. } => (
                exit::REJECTED,
                format!(
                    "{}: {}{}",
                    detail.error_code,
                    detail.message,
                    detail
                        .hint
                        .as_deref()
                        .map(|h| format!("\n  hint: {h}"))
                        .unwrap_or_default()
                ),
            ),
            ApplyError::Failed(inner) => client_error(inner),
        };
    }
    if let Some(stopped) = e.downcast_ref::<BatchStopped>() {
        let (_, message) = client_error(&stopped.cause);
        return (
            exit::UNREACHABLE,
            format!("the batch stopped: {message}\n  Run the same command again to resume (the journal keeps every row's status)."),
        );
    }
    if let Some(invalid) = e.downcast_ref::<InvalidWrapUp>() {
        return (
            exit::REJECTED,
            format!(
                "{invalid} (the server would refuse it with {})",
                invalid.code
            ),
        );
    }
    if let Some(client) = e.downcast_ref::<Error>() {
        return client_error(client);
    }
    (exit::FAILURE, format!("{e:#}"))
}

fn client_error(e: &Error) -> (u8, String) {
    let code = if e.is_connectivity() {
        exit::UNREACHABLE
    } else {
        exit::REJECTED
    };
    let message = match e {
        Error::Api { status, body, .. } => {
            let mut text = format!("{status} {}: {}", body.code, body.message);
            for detail in body.details.iter().skip(1) {
                text.push_str(&format!("\n  also {}: {}", detail.error_code, detail.message));
            }
            if let Some(hint) = body.details.first().and_then(|d| d.hint.as_deref()) {
                text.push_str(&format!("\n  hint: {hint}"));
            }
            text.push_str(&format!(
                "\n  (contextId {}; docs/errors.md#{})",
                body.context_id,
                body.code.as_str().replace('.', "")
            ));
            text
        }
        Error::Transport(inner) => {
            let failure = e.transport_failure().unwrap_or(TransportFailure::Other);
            let base = inner
                .url()
                .map(|u| format!("{}://{}", u.scheme(), u.authority()))
                .unwrap_or_default();
            format!("{e}\n  hint: {}", failure.hint(&base))
        }
        Error::Unexpected { .. } => format!(
            "{e}\n  hint: the server at that URL does not answer as a wrapup server does: check --url / WRAPUP_URL (`wrapup config show` says what it is and where it comes from)"
        ),
        Error::NoCredentials => no_credentials(),
        Error::OAuth { body, .. } => format!(
            "the server refused the credentials: {}: {}\n  hint: check the client id and secret (`wrapup config show`)",
            body.error, body.error_description
        ),
    };
    (code, message)
}

/// What a client command says when it has no credentials at all (before sending anything).
pub fn no_credentials() -> String {
    "no credentials: this command needs an OAuth client id and secret (or a token), and none is set\n  \
     hint: export WRAPUP_CLIENT_ID=… WRAPUP_CLIENT_SECRET=…, pass --client-id and --client-secret, \
     or put them in a profile of the config file; `wrapup config show` lists every setting and where it comes from"
        .to_string()
}

/// Prints every HTTP exchange on stderr (`-v`), the token masked by the client.
pub struct StderrTrace;

fn print_headers(prefix: char, headers: &HeaderMap) {
    for (name, value) in headers {
        eprintln!(
            "{prefix} {name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        );
    }
}

fn print_body(prefix: char, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    eprintln!("{prefix}");
    let text = String::from_utf8_lossy(body);
    for line in text.lines().take(200) {
        eprintln!("{prefix} {line}");
    }
}

impl HttpTrace for StderrTrace {
    fn request(&self, method: &Method, url: &str, headers: &HeaderMap, body: Option<&[u8]>) {
        eprintln!("> {method} {url}");
        print_headers('>', headers);
        if let Some(body) = body {
            // Form bodies of the token request carry no secret here: the client sends
            // its credentials in the (masked) Authorization header.
            print_body('>', body);
        }
    }

    fn response(&self, status: StatusCode, headers: &HeaderMap, body: &[u8], elapsed: Duration) {
        eprintln!("< {status} ({:.1} ms)", elapsed.as_secs_f64() * 1000.0);
        print_headers('<', headers);
        let body = if headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
            && body.starts_with(b"{\"access_token\"")
        {
            b"{\"access_token\": \"****\", ...}".as_slice()
        } else {
            body
        };
        print_body('<', body);
        eprintln!();
    }

    fn retry(&self, attempt: u32, delay: Duration, reason: &str) {
        eprintln!(
            "* attempt {attempt} failed ({reason}); retrying in {}",
            human_ms(delay.as_millis() as u64)
        );
    }
}

/// Says on stderr when the client retries (without `-v`, which shows every exchange), so a
/// server that does not answer is not a silent wait.
pub struct RetryNotice;

impl HttpTrace for RetryNotice {
    fn request(&self, _: &Method, _: &str, _: &HeaderMap, _: Option<&[u8]>) {}

    fn response(&self, _: StatusCode, _: &HeaderMap, _: &[u8], _: Duration) {}

    fn retry(&self, attempt: u32, delay: Duration, reason: &str) {
        eprintln!(
            "wrapup: attempt {attempt} failed ({reason}); retrying in {} (Ctrl-C to stop)",
            human_ms(delay.as_millis() as u64)
        );
    }
}

/// A spinner on stderr, shown only to a person at a terminal.
pub fn spinner(enabled: bool) -> Option<ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

//! The body of a wrap-up in the Genesys dialect: a `WrapupInput` (`POST
//! …/communications/{id}/wrapup`), or a `MediaParticipantRequest` holding one (`PATCH
//! …/participants/{id}`). Like wrapup's own body (`wrapup_body`), every field is checked
//! and every problem reported; the limits are the same (notes, duration), the field names
//! are Genesys's. The result is the [`NewWrapUp`] wrapup's own body also becomes.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;
use wrapup_types::{ErrorCode, ErrorDetail};

use crate::new_wrapup::{check_tags, BodyProblems, NewWrapUp, WrapUpDuration};
use crate::wrapup_body::{check_notes, code_name_sent, describe, parse_object, MAX_DURATION_MS};

/// The fields of a Genesys `WrapupInput`.
pub const WRAPUP_INPUT_FIELDS: [&str; 8] = [
    "code",
    "name",
    "notes",
    "tags",
    "durationSeconds",
    "endTime",
    "provisional",
    "disableEndTimeUpdates",
];
/// The fields of a Genesys `MediaParticipantRequest` other than `wrapup`: wrapup does not
/// change them.
pub const UNSUPPORTED_PARTICIPANT_FIELDS: [&str; 7] = [
    "state",
    "recording",
    "muted",
    "confined",
    "held",
    "wrapupSkipped",
    "resumeTime",
];
const MAX_DURATION_SECONDS: u64 = MAX_DURATION_MS / 1000;
const BODY_EXAMPLE: &str = "{\"code\": \"<wrap-up code id>\", \"notes\": \"…\"}";
const CODE_HINT: &str =
    "Send the wrap-up code's id as code, e.g. \"code\": \"00000000-0000-4000-8000-0000000000c1\"; \
     GET …/participants/{participantId}/wrapupcodes lists the codes the participant may use.";

/// A Genesys wrap-up that passed the body checks. (`name`, which the Genesys agent UI sends
/// beside `code`, is checked to be a string and not used: the wrap-up takes the name the
/// code has.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesysWrapUp {
    pub wrap_up: NewWrapUp,
}

/// The fields of a body that must be one JSON object; an empty body (what the JavaScript
/// SDK sends without `{body}`) or `null` (what the Python SDK sends without `body=`) is
/// refused saying what to send, not as a JSON syntax error.
fn object(body: &[u8], what: &str) -> Result<Vec<(String, Value)>, BodyProblems> {
    let malformed = |message: String| {
        BodyProblems::one(
            ErrorDetail::new(ErrorCode::RequestBodyMalformed, message).hint(format!(
                "Send {what} as the body, e.g. {BODY_EXAMPLE} (Python: body=WrapupInput() with code set; \
                 JavaScript: {{ body: {{ code }} }} as the last argument)."
            )),
        )
    };
    let text = String::from_utf8_lossy(body);
    match text.trim() {
        "" => return Err(malformed(format!("The body is empty; {what} is required."))),
        "null" => return Err(malformed(format!("The body is null; {what} is required."))),
        _ => {}
    }
    parse_object(body).map_err(|mut problem| {
        problem.hint = Some(format!(
            "Send one JSON object, {what}, e.g. {BODY_EXAMPLE}."
        ));
        BodyProblems::one(problem)
    })
}

/// Whether a `MediaParticipantRequest` body asks to skip the wrap-up: `{"wrapupSkipped":
/// true}` with no `wrapup` (nor any other field but `null`s). With `wrapup`, `wrapupSkipped`
/// stays a field wrapup does not emulate ([`parse_participant_request`]).
pub fn is_skip_request(body: &[u8]) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    map.get("wrapupSkipped") == Some(&Value::Bool(true))
        && map.iter().all(|(k, v)| k == "wrapupSkipped" || v.is_null())
}

/// Checks a `WrapupInput` body.
pub fn parse_wrapup_input(body: &[u8]) -> Result<GenesysWrapUp, BodyProblems> {
    check_wrapup_input(&object(body, "a WrapupInput")?)
}

/// Checks a `MediaParticipantRequest` body: `wrapup` is required and is the only field
/// wrapup changes.
pub fn parse_participant_request(body: &[u8]) -> Result<GenesysWrapUp, BodyProblems> {
    let fields = object(body, "a MediaParticipantRequest with a wrapup")?;
    let mut problems = Vec::new();
    let mut wrapup = None;
    for (name, value) in &fields {
        match name.as_str() {
            "wrapup" if !value.is_null() => wrapup = Some(value),
            "wrapup" => {}
            other if UNSUPPORTED_PARTICIPANT_FIELDS.contains(&other) => problems.push(
                ErrorDetail::new(
                    ErrorCode::RequestFieldUnsupported,
                    format!("{other} is a field of a Genesys MediaParticipantRequest that wrapup does not emulate; only wrapup can be changed."),
                )
                .field(other)
                .hint("Send {\"wrapup\": WrapupInput} alone; wrapup always requires a wrap-up and has no call controls (docs/genesys.md#not-emulated)."),
            ),
            other => problems.push(
                ErrorDetail::new(
                    ErrorCode::RequestFieldUnknown,
                    format!("{other} is not a field of a MediaParticipantRequest."),
                )
                .field(other)
                .hint("Send {\"wrapup\": {\"code\": \"<wrap-up code id>\"}}."),
            ),
        }
    }
    let Some(wrapup) = wrapup else {
        problems.push(
            ErrorDetail::new(
                ErrorCode::RequestFieldMissing,
                "wrapup is required and was not sent.",
            )
            .field("wrapup")
            .hint("Send {\"wrapup\": {\"code\": \"<wrap-up code id>\"}}."),
        );
        return Err(BodyProblems {
            problems,
            code_id: None,
            code_name: None,
        });
    };
    let Value::Object(map) = wrapup else {
        problems.push(
            ErrorDetail::new(
                ErrorCode::RequestFieldInvalid,
                format!(
                    "wrapup must be a WrapupInput object; got {}.",
                    describe(wrapup)
                ),
            )
            .field("wrapup")
            .hint(format!("Send \"wrapup\": {BODY_EXAMPLE}.")),
        );
        return Err(BodyProblems {
            problems,
            code_id: None,
            code_name: None,
        });
    };
    let inner: Vec<(String, Value)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    match check_wrapup_input(&inner) {
        Ok(input) if problems.is_empty() => Ok(input),
        Ok(input) => Err(BodyProblems {
            problems,
            code_id: Some(input.wrap_up.code_id),
            code_name: None,
        }),
        Err(mut inner) => {
            problems.append(&mut inner.problems);
            Err(BodyProblems {
                problems,
                code_id: inner.code_id,
                code_name: inner.code_name,
            })
        }
    }
}

/// Checks every field of a `WrapupInput`. A field sent as `null` counts as left out.
pub fn check_wrapup_input(fields: &[(String, Value)]) -> Result<GenesysWrapUp, BodyProblems> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, v)| k == name && !v.is_null())
            .map(|(_, v)| v)
    };
    let mut problems: Vec<ErrorDetail> = fields
        .iter()
        .filter(|(k, _)| !WRAPUP_INPUT_FIELDS.contains(&k.as_str()))
        .map(|(k, _)| unknown_field(k))
        .collect();
    let code_id = match field("code") {
        None => {
            problems.push(
                ErrorDetail::new(
                    ErrorCode::WrapupCodeMissing,
                    "code is required and was not sent.",
                )
                .field("code")
                .hint(CODE_HINT),
            );
            None
        }
        Some(Value::String(s)) if s.len() == 36 && Uuid::parse_str(s).is_ok() => {
            Uuid::parse_str(s).ok()
        }
        Some(other) => {
            problems.push(
                ErrorDetail::new(
                    ErrorCode::WrapupCodeInvalid,
                    format!(
                        "code must be a wrap-up code's id, a UUID string; got {}.",
                        describe(other)
                    ),
                )
                .field("code")
                .hint(CODE_HINT),
            );
            None
        }
    };
    if let Some(other) = field("name").filter(|v| !v.is_string()) {
        problems.push(invalid(
            "name",
            format!("name must be a string; got {}.", describe(other)),
            "Leave name out: the code's id is enough.",
        ));
    }
    let notes = field("notes").and_then(|v| check_notes(v).map_err(|p| problems.push(p)).ok());
    let tags = field("tags")
        .and_then(|v| check_tags(v).map_err(|p| problems.push(p)).ok())
        .unwrap_or_default();
    let duration_ms =
        field("durationSeconds").and_then(|v| check_seconds(v).map_err(|p| problems.push(p)).ok());
    let until_ms =
        field("endTime").and_then(|v| check_end_time(v).map_err(|p| problems.push(p)).ok());
    let provisional = flag(field("provisional"), "provisional", &mut problems);
    flag(
        field("disableEndTimeUpdates"),
        "disableEndTimeUpdates",
        &mut problems,
    );
    match code_id {
        Some(code_id) if problems.is_empty() => Ok(GenesysWrapUp {
            wrap_up: NewWrapUp {
                code_id,
                duration: match duration_ms {
                    Some(ms) => WrapUpDuration::Given(ms),
                    None => WrapUpDuration::SinceClose { until_ms },
                },
                notes,
                tags,
                provisional,
            },
        }),
        _ => Err(BodyProblems {
            problems,
            code_id,
            code_name: code_name_sent(fields, "code"),
        }),
    }
}

fn invalid(field: &str, message: String, hint: &str) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::RequestFieldInvalid, message)
        .field(field)
        .hint(hint)
}

fn flag(value: Option<&Value>, name: &str, problems: &mut Vec<ErrorDetail>) -> bool {
    match value {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            problems.push(invalid(
                name,
                format!("{name} must be true or false; got {}.", describe(other)),
                "Send a JSON boolean, or leave the field out.",
            ));
            false
        }
    }
}

fn unknown_field(name: &str) -> ErrorDetail {
    let key: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let meant = match key.as_str() {
        "codeid" | "wrapupcode" | "wrapupcodeid" | "id" => Some("code"),
        "durationms" | "duration" | "durationsecs" | "wrapupduration" => Some("durationSeconds"),
        "note" | "comment" | "comments" | "wrapupnotes" => Some("notes"),
        _ => None,
    };
    let detail = ErrorDetail::new(
        ErrorCode::RequestFieldUnknown,
        format!(
            "{name} is not a field of a WrapupInput; its fields are {}.",
            WRAPUP_INPUT_FIELDS.join(", ")
        ),
    )
    .field(name);
    match meant {
        Some("durationSeconds") if key == "durationms" => {
            detail.hint("Did you mean durationSeconds? It is in seconds: send durationMs / 1000 as durationSeconds.")
        }
        Some(field) => detail.hint(format!("Did you mean {field}? Rename {name} to {field}.")),
        None => detail.hint(format!("Remove {name}; a WrapupInput is {BODY_EXAMPLE} with optional fields.")),
    }
}

/// `durationSeconds`: a whole number of seconds within wrapup's duration bounds; in
/// milliseconds.
fn check_seconds(value: &Value) -> Result<u32, ErrorDetail> {
    let range = format!("a whole number of seconds from 1 to {MAX_DURATION_SECONDS}");
    let seconds = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= MAX_DURATION_SECONDS as f64)
                .map(|f| f as u64)
        }),
        _ => None,
    };
    match seconds {
        Some(s) if (1..=MAX_DURATION_SECONDS).contains(&s) => Ok((s * 1000) as u32),
        _ => Err(ErrorDetail::new(
            ErrorCode::WrapupDurationInvalid,
            format!("durationSeconds must be {range}; got {}.", describe(value)),
        )
        .field("durationSeconds")
        .hint("Send the time the agent spent in after-call work in seconds, e.g. 120, or leave durationSeconds out to have it measured from the close.")),
    }
}

/// `endTime`: ISO-8601 with a zone (`Z` or an offset), or without one (a naive Python
/// `datetime`), which is read as UTC; in milliseconds since the epoch.
fn check_end_time(value: &Value) -> Result<i64, ErrorDetail> {
    let naive = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    let parsed = value.as_str().and_then(|s| {
        OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
            PrimitiveDateTime::parse(s, naive)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        })
    });
    match parsed {
        Some(t) => Ok((t.unix_timestamp_nanos() / 1_000_000) as i64),
        None => Err(invalid(
            "endTime",
            format!("endTime must be an ISO-8601 time such as 2026-11-24T22:21:57.239Z; got {}.", describe(value)),
            "Send the time the wrap-up was finished (a Python datetime or a JavaScript Date), or leave endTime out.",
        )),
    }
}

#[cfg(test)]
mod tests;

//! The body of `PUT /api/v2/interactions/{id}/wrap-up`: `{"codeId", "durationMs", "notes"?}`
//! and nothing else.
//!
//! Validation never stops at the first problem: every field is checked and every problem
//! reported, in the order of docs/api.md#order-of-checks, step 4 (unknown fields, code,
//! duration, notes, nulls).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use uuid::Uuid;
use wrapup_types::{ErrorCode, ErrorDetail, WrapUpCode, WrapUpRequest};

use crate::names;

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest wrap-up, in milliseconds (24 hours).
pub const MAX_DURATION_MS: u64 = 86_400_000;
/// The longest `notes`, in characters.
pub const MAX_NOTES_CHARS: usize = 1024;

const DURATION_HINT: &str =
    "Send the time the agent spent in wrap-up as a JSON number of milliseconds, e.g. 120000 for two minutes.";
const CODE_HINT: &str =
    "Send the wrap-up code's id as a top-level string, e.g. \"codeId\": \"7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11\"; \
     list codes with GET /api/v2/routing/wrapupcodes.";

/// Validates a whole body, as the server does after its media-type and size checks:
/// malformed JSON is one problem; otherwise every field problem is reported.
pub fn validate_body(bytes: &[u8]) -> Result<WrapUpRequest, Vec<ErrorDetail>> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(vec![too_large(bytes.len())]);
    }
    let fields = parse_object(bytes).map_err(|e| vec![e])?;
    validate_fields(&fields)
}

/// The 413 problem for a body of `len` bytes.
pub fn too_large(len: usize) -> ErrorDetail {
    ErrorDetail::new(
        ErrorCode::RequestBodyTooLarge,
        format!("The body is {len} bytes; at most {MAX_BODY_BYTES} bytes are accepted."),
    )
    .hint("A wrap-up body is three small fields; check that the right payload is being sent.")
}

/// Parses the body as one JSON object, keeping its fields in order and rejecting a field
/// that appears twice. The problem says where the JSON went wrong (line and column).
pub fn parse_object(bytes: &[u8]) -> Result<Vec<(String, Value)>, ErrorDetail> {
    let malformed = |message: String| {
        ErrorDetail::new(ErrorCode::RequestBodyMalformed, message).hint(
            "Send one JSON object encoded as UTF-8, e.g. {\"codeId\": \"…\", \"durationMs\": 120000}.",
        )
    };
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(malformed(format!(
            "The body is not valid UTF-8 (invalid byte at offset {}).",
            e.valid_up_to()
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed(
            "The body is empty; a JSON object is required.".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de
        .deserialize_any(ObjectVisitor)
        .and_then(|o| de.end().map(|()| o));
    match parsed {
        Ok(TopLevel::Object(fields)) => Ok(fields),
        Ok(TopLevel::Other(kind)) => Err(malformed(format!(
            "The body is {kind}; it must be one JSON object."
        ))),
        Err(e) if e.line() == 0 => Err(malformed(format!("The body is not valid JSON: {e}."))),
        Err(e) => Err(malformed(format!(
            "The body is not valid JSON at line {}, column {}: {}.",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
        .field("body")),
    }
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

pub(crate) enum TopLevel {
    Object(Vec<(String, Value)>),
    Other(&'static str),
}

pub(crate) struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut fields: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("field \"{key}\" appears twice")));
            }
            let value = map.next_value::<Value>()?;
            fields.push((key, value));
        }
        Ok(TopLevel::Object(fields))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(TopLevel::Other("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::Other("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other("a number"))
    }
    fn visit_unit<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::Other("null"))
    }
}

/// Describes a JSON value for a message: its kind and, when short, the value itself.
pub fn describe(value: &Value) -> String {
    let text = value.to_string();
    let shown = if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    };
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("{kind} ({shown})")
}

/// Checks every field of a parsed body and reports every problem.
pub fn validate_fields(fields: &[(String, Value)]) -> Result<WrapUpRequest, Vec<ErrorDetail>> {
    // One bucket per check, so details come out in the order of docs/api.md#order-of-checks, step 4.
    let mut unknown = Vec::new();
    let mut code_problems = Vec::new();
    let mut duration_problems = Vec::new();
    let mut notes_problems = Vec::new();
    let mut nulls = Vec::new();

    let mut code_id = None;
    let mut duration_ms = None;
    let mut notes = None;
    let (mut saw_code, mut saw_duration) = (false, false);

    for (name, value) in fields {
        let known = matches!(name.as_str(), "codeId" | "durationMs" | "notes");
        if known && value.is_null() {
            saw_code |= name == "codeId";
            saw_duration |= name == "durationMs";
            nulls.push(
                ErrorDetail::new(
                    ErrorCode::RequestFieldNull,
                    format!("{name} is null; null is not accepted for any field."),
                )
                .field(name.clone())
                .hint(if name == "notes" {
                    "Leave notes out of the body instead of sending null.".to_string()
                } else {
                    format!("{name} is required: send a value, not null (and leave optional fields out instead of sending null).")
                }),
            );
            continue;
        }
        match name.as_str() {
            "codeId" => {
                saw_code = true;
                match check_code_id(value) {
                    Ok(id) => code_id = Some(id),
                    Err(e) => code_problems.push(e),
                }
            }
            "durationMs" => {
                saw_duration = true;
                match check_duration(value) {
                    Ok(ms) => duration_ms = Some(ms),
                    Err(e) => duration_problems.push(e),
                }
            }
            "notes" => match check_notes(value) {
                Ok(n) => notes = Some(n),
                Err(e) => notes_problems.push(e),
            },
            _ => unknown.push(unknown_field(name, value)),
        }
    }
    if !saw_code {
        code_problems.push(
            ErrorDetail::new(
                ErrorCode::WrapupCodeMissing,
                "codeId is required and was not sent.",
            )
            .field("codeId")
            .hint(CODE_HINT),
        );
    }
    if !saw_duration {
        duration_problems.push(
            ErrorDetail::new(
                ErrorCode::WrapupDurationMissing,
                "durationMs is required and was not sent.",
            )
            .field("durationMs")
            .hint(DURATION_HINT),
        );
    }

    let problems: Vec<ErrorDetail> = [
        unknown,
        code_problems,
        duration_problems,
        notes_problems,
        nulls,
    ]
    .into_iter()
    .flatten()
    .collect();
    match (problems.is_empty(), code_id, duration_ms) {
        (true, Some(code_id), Some(duration_ms)) => Ok(WrapUpRequest {
            code_id,
            duration_ms,
            notes,
        }),
        _ => Err(problems),
    }
}

fn check_code_id(value: &Value) -> Result<Uuid, ErrorDetail> {
    let invalid = |why: String| {
        ErrorDetail::new(ErrorCode::WrapupCodeInvalid, why)
            .field("codeId")
            .hint(CODE_HINT)
    };
    match value {
        Value::String(s) if s.len() == 36 => Uuid::parse_str(s).map_err(|_| {
            invalid(format!(
                "codeId must be a UUID like 7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11; got \"{s}\"."
            ))
        }),
        Value::String(s) => {
            let problem = invalid(format!(
                "codeId must be a UUID like 7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11 (36 characters, hyphenated); got {}.",
                describe(value)
            ));
            // A UUID in another spelling (no hyphens, braces, urn:uuid:): say how to write it.
            Err(match Uuid::parse_str(s.trim()) {
                Ok(id) => problem.hint(format!(
                    "Send the id in its hyphenated form: \"codeId\": \"{id}\"."
                )),
                Err(_) => problem,
            })
        }
        Value::Object(map) => {
            let nested = map
                .get("id")
                .and_then(Value::as_str)
                .map_or(String::new(), |id| format!(" Send \"codeId\": \"{id}\"."));
            Err(invalid(format!(
                "codeId must be a UUID string; got {}.",
                describe(value)
            ))
            .hint(format!(
                "codeId is the code's id as a top-level string, not an object.{nested}"
            )))
        }
        other => Err(invalid(format!(
            "codeId must be a UUID string; got {}.",
            describe(other)
        ))),
    }
}

fn check_duration(value: &Value) -> Result<u32, ErrorDetail> {
    let invalid = |why: String| {
        ErrorDetail::new(ErrorCode::WrapupDurationInvalid, why)
            .field("durationMs")
            .hint(DURATION_HINT)
    };
    let range = format!("a whole number of milliseconds from 1 to {MAX_DURATION_MS}");
    let Value::Number(n) = value else {
        let extra = match value {
            Value::String(s) if s.trim().parse::<f64>().is_ok() => {
                " (send the number without quotes)"
            }
            _ => "",
        };
        return Err(invalid(format!(
            "durationMs must be {range}; got {}, which is not a number{extra}.",
            describe(value)
        )));
    };
    if let Some(ms) = n.as_u64() {
        return match ms {
            0 => Err(invalid(format!("durationMs must be {range}; got 0."))),
            ms if ms > MAX_DURATION_MS => Err(invalid(format!(
                "durationMs must be {range}; got {ms}, which is more than 24 hours."
            ))),
            ms => Ok(ms as u32),
        };
    }
    if let Some(neg) = n.as_i64() {
        return Err(invalid(format!(
            "durationMs must be {range}; got {neg}, which is below 1."
        )));
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() != 0.0 || !f.is_finite() {
        return Err(invalid(format!(
            "durationMs must be {range}; got {n}, which is not a whole number."
        )));
    }
    if f < 1.0 {
        return Err(invalid(format!(
            "durationMs must be {range}; got {n}, which is below 1."
        )));
    }
    if f > MAX_DURATION_MS as f64 {
        return Err(invalid(format!(
            "durationMs must be {range}; got {n}, which is more than 24 hours."
        )));
    }
    Ok(f as u32)
}

pub(crate) fn check_notes(value: &Value) -> Result<String, ErrorDetail> {
    let invalid = |why: String| ErrorDetail::new(ErrorCode::WrapupNotesInvalid, why).field("notes");
    match value {
        Value::String(s) => {
            let chars = s.chars().count();
            if chars > MAX_NOTES_CHARS {
                Err(invalid(format!(
                    "notes must be at most {MAX_NOTES_CHARS} characters; got {chars}."
                ))
                .hint("Shorten the notes, or keep the full text in your own system and put a reference here."))
            } else {
                Ok(s.clone())
            }
        }
        other => Err(
            invalid(format!("notes must be a string; got {}.", describe(other)))
                .hint("Send notes as a JSON string, or leave the field out."),
        ),
    }
}

/// A field name compared the way [`suggest_field`] compares it: letters and digits only,
/// lowercase (`code_id`, `CodeID` and `code-id` are all `codeid`).
fn field_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The field a misspelled or misplaced field name probably meant: the usual names SDKs and
/// people use for each, then any near miss of the three names ([`names::closest`]).
pub fn suggest_field(name: &str) -> Option<&'static str> {
    match field_key(name).as_str() {
        "codeid" | "code" | "wrapupcode" | "wrapupcodeid" | "wrapup" | "disposition"
        | "dispositionid" => Some("codeId"),
        "durationms"
        | "duration"
        | "durationseconds"
        | "durationsecs"
        | "durationmillis"
        | "durationmilliseconds"
        | "wrapupduration"
        | "wrapupdurationms"
        | "durationsec" => Some("durationMs"),
        "notes" | "note" | "comment" | "comments" | "wrapupnotes" => Some("notes"),
        _ => names::closest(name, ["codeId", "durationMs", "notes"]),
    }
}

/// Whether a field name says its value is in seconds (so the hint says to multiply).
fn in_seconds(name: &str) -> bool {
    matches!(
        field_key(name).as_str(),
        "durationseconds" | "durationsecs" | "durationsec"
    )
}

/// The fields of the wrap-up `GET …/wrap-up` returns that are not part of the body.
fn read_only_field(name: &str) -> Option<&'static str> {
    match field_key(name).as_str() {
        "codename" => Some("codeName"),
        "appliedat" => Some("appliedAt"),
        "appliedby" => Some("appliedBy"),
        _ => None,
    }
}

fn unknown_field(name: &str, value: &Value) -> ErrorDetail {
    let detail = ErrorDetail::new(
        ErrorCode::RequestFieldUnknown,
        format!("{name} is not a field of a wrap-up body; only codeId, durationMs and notes are accepted."),
    )
    .field(name);
    if let Some(field) = read_only_field(name) {
        return detail.hint(format!(
            "{field} is part of the wrap-up GET /api/v2/interactions/{{id}}/wrap-up returns, set by the server: \
             leave it out and send only codeId, durationMs and notes."
        ));
    }
    let hint = match suggest_field(name) {
        Some("codeId") => match value {
            Value::Object(map) => {
                let id = map.get("id").and_then(Value::as_str).unwrap_or("<code id>");
                format!(
                    "Send the code's id as a top-level string: \"codeId\": \"{id}\" instead of a nested {name} object."
                )
            }
            _ => format!("Did you mean codeId? Send \"codeId\": \"<code id>\" instead of {name}."),
        },
        Some("durationMs") if in_seconds(name) => format!(
            "Did you mean durationMs? It is in milliseconds: send {name} × 1000 as durationMs (e.g. 120000 for two minutes)."
        ),
        Some(field) => format!("Did you mean {field}? Rename {name} to {field}."),
        None => "Remove this field: a wrap-up body is {\"codeId\", \"durationMs\", \"notes\"?} and nothing else.".into(),
    };
    detail.hint(hint)
}

/// The code id a body names, when step 4 accepted it (a 36-character hyphenated UUID):
/// the code to look up at step 6 alongside other problems of the body. A `codeId` reported
/// invalid is not looked up, whatever `Uuid::parse_str` would make of it.
pub fn valid_code_id(fields: &[(String, Value)]) -> Option<Uuid> {
    fields
        .iter()
        .find(|(k, _)| k == "codeId")
        .and_then(|(_, v)| check_code_id(v).ok())
}

/// The text of the code's `field` (`codeId`, or `code` in the Genesys dialect) when it is
/// not a code id in any spelling: perhaps a code's name, which step 6 then looks up.
pub fn code_name_sent(fields: &[(String, Value)], field: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == field)
        .and_then(|(_, v)| v.as_str())
        .map(str::trim)
        .filter(|text| !text.is_empty() && Uuid::parse_str(text).is_err())
        .map(str::to_string)
}

/// docs/api.md#order-of-checks, step 6: the code a valid body names. `code` is the code looked up by id
/// (`None` if it does not exist); `code_visible` says whether the caller may see the
/// code's division. `division_name` names a division for messages.
pub fn check_code(
    requested: Uuid,
    code: Option<&WrapUpCode>,
    code_visible: bool,
    interaction_division: Uuid,
    division_name: impl Fn(Uuid) -> String,
) -> Option<ErrorDetail> {
    let code = match code {
        Some(c) if code_visible => c,
        _ => {
            return Some(
                ErrorDetail::new(
                    ErrorCode::WrapupCodeNotFound,
                    format!("No wrap-up code with id {requested} exists in the divisions this token can see."),
                )
                .field("codeId")
                .hint(format!(
                    "List the codes of the interaction's division with GET /api/v2/routing/wrapupcodes?divisionId={interaction_division}."
                )),
            )
        }
    };
    if code.division_id != interaction_division {
        return Some(
            ErrorDetail::new(
                ErrorCode::WrapupCodeDivisionMismatch,
                format!(
                    "Wrap-up code \"{}\" belongs to division {} ({}), but the interaction is in division {} ({}).",
                    code.name,
                    division_name(code.division_id),
                    code.division_id,
                    division_name(interaction_division),
                    interaction_division
                ),
            )
            .field("codeId")
            .hint(format!(
                "Use a code of the interaction's division: GET /api/v2/routing/wrapupcodes?divisionId={interaction_division}&name={}.",
                code.name
            )),
        );
    }
    if code.archived {
        return Some(
            ErrorDetail::new(
                ErrorCode::WrapupCodeArchived,
                format!("Wrap-up code \"{}\" ({}) is archived and can no longer be applied.", code.name, code.id),
            )
            .field("codeId")
            .hint("Choose a current code: GET /api/v2/routing/wrapupcodes lists only codes that are not archived."),
        );
    }
    None
}

#[cfg(test)]
mod tests;

//! A wrap-up request that cannot hold an invalid value, and the ways people write its
//! parts (a code by id or name, a duration as `2m`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use uuid::Uuid;
use wrapup_domain::{MAX_DURATION_MS, MAX_NOTES_CHARS};
use wrapup_types::{ErrorCode, WrapUpRequest};

/// Why a [`ValidWrapUp`] could not be built: the same code and wording as the server's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct InvalidWrapUp {
    pub code: ErrorCode,
    pub message: String,
}

/// A wrap-up to apply, known to be valid: a code id, a duration from 1 ms to 24 h, and notes
/// of at most 1,024 characters. Built only through [`ValidWrapUp::new`] and
/// [`ValidWrapUp::with_notes`], so its [`request`](ValidWrapUp::request) (the wire body,
/// `wrapup_types::WrapUpRequest`) is always one the server accepts. The wrap-up the server
/// stores and returns is the resource `wrapup_types::WrapUp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidWrapUp {
    code_id: Uuid,
    duration_ms: u32,
    notes: Option<String>,
}

impl ValidWrapUp {
    /// A wrap-up of `code_id` after `duration` in wrap-up (whole milliseconds, 1 ms to 24 h).
    pub fn new(code_id: Uuid, duration: Duration) -> Result<ValidWrapUp, InvalidWrapUp> {
        let ms = duration.as_millis();
        if !duration.subsec_nanos().is_multiple_of(1_000_000)
            || ms < 1
            || ms > u128::from(MAX_DURATION_MS)
        {
            return Err(InvalidWrapUp {
                code: ErrorCode::WrapupDurationInvalid,
                message: format!(
                    "the duration must be a whole number of milliseconds from 1 ms to 24 h; got {duration:?}"
                ),
            });
        }
        Ok(ValidWrapUp {
            code_id,
            duration_ms: ms as u32,
            notes: None,
        })
    }

    /// The same wrap-up with `notes` (at most 1,024 characters).
    pub fn with_notes(mut self, notes: impl Into<String>) -> Result<ValidWrapUp, InvalidWrapUp> {
        let notes = notes.into();
        let chars = notes.chars().count();
        if chars > MAX_NOTES_CHARS {
            return Err(InvalidWrapUp {
                code: ErrorCode::WrapupNotesInvalid,
                message: format!(
                    "notes may have at most {MAX_NOTES_CHARS} characters; got {chars}"
                ),
            });
        }
        self.notes = Some(notes);
        Ok(self)
    }

    pub fn code_id(&self) -> Uuid {
        self.code_id
    }

    pub fn duration_ms(&self) -> u32 {
        self.duration_ms
    }

    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    /// The body of `PUT /api/v2/interactions/{id}/wrap-up`.
    pub fn request(&self) -> WrapUpRequest {
        WrapUpRequest {
            code_id: self.code_id,
            duration_ms: self.duration_ms,
            notes: self.notes.clone(),
        }
    }

    /// The item of `POST /api/v2/interactions/wrap-ups` applying it to `interaction_id`.
    pub fn bulk_item(&self, interaction_id: Uuid) -> wrapup_types::BulkWrapUp {
        wrapup_types::BulkWrapUp {
            interaction_id,
            code_id: self.code_id,
            duration_ms: self.duration_ms,
            notes: self.notes.clone(),
        }
    }

    /// Whether an applied wrap-up is this one (so applying it again changes nothing).
    pub fn matches(&self, applied: &wrapup_types::WrapUp) -> bool {
        applied.code_id == self.code_id
            && applied.duration_ms == self.duration_ms
            && applied.notes == self.notes
    }
}

/// A wrap-up code as a person names it: its id, or its name in the interaction's division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRef {
    Id(Uuid),
    Name(String),
}

impl FromStr for CodeRef {
    type Err = String;

    fn from_str(s: &str) -> Result<CodeRef, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("the code is empty; give its id or its name".into());
        }
        Ok(match Uuid::parse_str(s) {
            Ok(id) => CodeRef::Id(id),
            Err(_) => CodeRef::Name(s.to_string()),
        })
    }
}

impl fmt::Display for CodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeRef::Id(id) => write!(f, "{id}"),
            CodeRef::Name(name) => write!(f, "\"{name}\""),
        }
    }
}

/// The smallest bare number [`parse_duration`] takes (as milliseconds): `90` alone is too
/// easily meant as seconds.
pub const BARE_MS_FROM: u64 = 1000;

/// Parses a wrap-up duration as people write it: `1500ms`, `120s`, `2m`, `1h30m`,
/// `1h 30m 15s`, or a bare number of milliseconds from 1000 up (`120000`; `0` too). A bare
/// number below 1000 is refused with a hint, since `--duration 90` is easily meant as 90
/// seconds. The result is not range-checked (see [`ValidWrapUp::new`]).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    let bad = || {
        format!("`{s}` is not a duration; write milliseconds (120000) or units, e.g. 120s, 2m, 1h30m, 1500ms")
    };
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = text.parse().map_err(|_| bad())?;
        if ms > 0 && ms < BARE_MS_FROM {
            return Err(format!(
                "`{s}` is not a duration without a unit: write {ms}s, {ms}m or {ms}ms (a bare number means milliseconds, and is taken only from {BARE_MS_FROM} up, so that {ms} is not mistaken for seconds)"
            ));
        }
        return Ok(Duration::from_millis(ms));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" | "sec" => Duration::from_secs(1),
            "m" | "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = unit
            .checked_mul(u32::try_from(n).map_err(|_| bad())?)
            .and_then(|d| total.checked_add(d))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_people_write_them() {
        for (text, ms) in [
            ("120000", 120_000),
            ("120s", 120_000),
            ("2m", 120_000),
            ("1h30m", 5_400_000),
            ("1h 30m 15s", 5_415_000),
            ("1500ms", 1_500),
            ("2min", 120_000),
            ("0", 0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        // A small bare number has no obvious unit: refused, with the units to choose from.
        for ambiguous in ["90", "1", "999"] {
            let err = parse_duration(ambiguous).unwrap_err();
            assert!(
                err.contains(&format!(
                    "write {ambiguous}s, {ambiguous}m or {ambiguous}ms"
                )),
                "{err}"
            );
        }
        assert_eq!(parse_duration("1000"), Ok(Duration::from_millis(1000)));
        for bad in [
            "",
            "2 minutes",
            "m",
            "1.5m",
            "-1s",
            "2d",
            "12x",
            "99999999999999999999",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("not a duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_wrap_up_cannot_hold_an_invalid_value() {
        let code = Uuid::new_v4();
        let ok = ValidWrapUp::new(code, Duration::from_secs(120)).unwrap();
        assert_eq!(ok.request().duration_ms, 120_000);
        for d in [
            Duration::ZERO,
            Duration::from_micros(1500),
            Duration::from_millis(MAX_DURATION_MS + 1),
        ] {
            let err = ValidWrapUp::new(code, d).unwrap_err();
            assert_eq!(err.code, ErrorCode::WrapupDurationInvalid);
        }
        assert!(ValidWrapUp::new(code, Duration::from_millis(MAX_DURATION_MS)).is_ok());
        assert!(ok.clone().with_notes("é".repeat(1024)).is_ok());
        let err = ok.with_notes("é".repeat(1025)).unwrap_err();
        assert_eq!(err.code, ErrorCode::WrapupNotesInvalid);
        // Whatever it holds, its body passes the server's own validation.
        let body = serde_json::to_vec(
            &ValidWrapUp::new(code, Duration::from_millis(1))
                .unwrap()
                .request(),
        )
        .unwrap();
        assert!(wrapup_domain::validate_body(&body).is_ok());
    }

    #[test]
    fn codes_by_id_or_name() {
        let id = Uuid::new_v4();
        assert_eq!(id.to_string().parse(), Ok(CodeRef::Id(id)));
        assert_eq!(" Sale ".parse(), Ok(CodeRef::Name("Sale".into())));
        assert!("  ".parse::<CodeRef>().is_err());
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

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

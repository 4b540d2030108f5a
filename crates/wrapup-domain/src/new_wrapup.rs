//! A wrap-up to apply, whichever dialect sent it (wrapup's `PUT …/wrap-up` or a Genesys
//! `WrapupInput`), and the rule that decides what applying it changes: written once, run
//! by the store inside the transaction that applies it.

use serde_json::Value;
use uuid::Uuid;
use wrapup_types::{ErrorCode, ErrorDetail, WrapUp, WrapUpRequest};

use crate::wrapup_body::{
    code_name_sent, describe, valid_code_id, validate_fields, MAX_DURATION_MS,
};

/// The most tags a wrap-up may carry.
pub const MAX_TAGS: usize = 50;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 100;

/// How long the agent spent in wrap-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapUpDuration {
    /// As sent, in milliseconds (wrapup's `durationMs`; Genesys's `durationSeconds` × 1000).
    Given(u32),
    /// Not sent (Genesys makes `durationSeconds` optional): the time from the start of
    /// after-call work, which is when the interaction closed, to `until_ms` (the `endTime`
    /// sent) or, without it, to the moment the wrap-up is applied.
    SinceClose { until_ms: Option<i64> },
}

/// A wrap-up whose body passed validation, ready for the state and code checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWrapUp {
    pub code_id: Uuid,
    pub duration: WrapUpDuration,
    pub notes: Option<String>,
    /// Genesys dialect only; wrapup's body has none.
    pub tags: Vec<String>,
    /// Genesys dialect only: a wrap-up saved before after-call work is complete.
    pub provisional: bool,
}

impl From<WrapUpRequest> for NewWrapUp {
    fn from(r: WrapUpRequest) -> NewWrapUp {
        NewWrapUp {
            code_id: r.code_id,
            duration: WrapUpDuration::Given(r.duration_ms),
            notes: r.notes,
            tags: Vec::new(),
            provisional: false,
        }
    }
}

/// Why a wrap-up body cannot be applied, whichever dialect it is in: every problem of its
/// fields, and the code it names when that could be read, so that the state and code checks
/// can report their problems in the same answer (docs/api.md#order-of-checks).
#[derive(Debug, Clone, PartialEq)]
pub struct BodyProblems {
    pub problems: Vec<ErrorDetail>,
    pub code_id: Option<Uuid>,
    /// What the code's field held when it was text that is not a code id at all, maybe a
    /// code's name (`"codeId": "Sale"`): the server looks it up among the codes of the
    /// interaction's division, and the hint then gives that code's id
    /// (`wrapup_fix::hint_code_named`).
    pub code_name: Option<String>,
}

impl BodyProblems {
    /// One problem, and no code read.
    pub fn one(problem: ErrorDetail) -> BodyProblems {
        BodyProblems {
            problems: vec![problem],
            code_id: None,
            code_name: None,
        }
    }

    /// Whether the body could not be read at all (step 3: its media type, its size, or not
    /// one JSON object): then the state and code are not checked.
    pub fn unreadable(&self) -> bool {
        self.problems.iter().any(|p| {
            matches!(
                p.error_code,
                ErrorCode::RequestMediaUnsupported
                    | ErrorCode::RequestBodyTooLarge
                    | ErrorCode::RequestBodyMalformed
            )
        })
    }
}

/// Step 4 for wrapup's own body, read as one JSON object's `fields`: the wrap-up to
/// apply, or every problem of the fields and the code they name (see `wrapup_body::valid_code_id`).
pub fn check_fields(fields: &[(String, Value)]) -> Result<NewWrapUp, BodyProblems> {
    validate_fields(fields)
        .map(NewWrapUp::from)
        .map_err(|problems| BodyProblems {
            problems,
            code_id: valid_code_id(fields),
            code_name: code_name_sent(fields, "codeId"),
        })
}

/// The duration of a wrap-up whose duration was not sent: from `closed_ms` to `until_ms`,
/// within the bounds of a sent one (1 ms to 24 hours).
pub fn derived_duration_ms(closed_ms: i64, until_ms: i64) -> u32 {
    (until_ms - closed_ms).clamp(1, MAX_DURATION_MS as i64) as u32
}

impl NewWrapUp {
    /// What applying this wrap-up changes: `None` when the wrap-up in place (`current`) is
    /// already this one, so that sending the same request again changes nothing and writes
    /// no history; otherwise the duration to store. A request without a duration and
    /// without an end time is the same as the one in place when everything else is: its
    /// duration was measured to "now" the first time, and measuring it again would make
    /// every retry a new wrap-up. (With an end time, the duration it gives is compared.)
    /// `closed_ms` is when the interaction closed; `now_ms` when the wrap-up is applied.
    pub fn decide(
        &self,
        current: Option<&WrapUp>,
        closed_ms: Option<i64>,
        now_ms: i64,
    ) -> Option<u32> {
        let since = closed_ms.unwrap_or(now_ms);
        let duration_ms = match self.duration {
            WrapUpDuration::Given(ms) => Some(ms),
            WrapUpDuration::SinceClose {
                until_ms: Some(until),
            } => Some(derived_duration_ms(since, until)),
            WrapUpDuration::SinceClose { until_ms: None } => None,
        };
        if let Some(w) = current {
            if duration_ms.is_none_or(|ms| w.duration_ms == ms)
                && w.code_id == self.code_id
                && w.notes == self.notes
                && w.tags == self.tags
                && w.provisional == self.provisional
            {
                return None;
            }
        }
        Some(duration_ms.unwrap_or_else(|| derived_duration_ms(since, now_ms)))
    }
}

/// Checks the `tags` of a Genesys `WrapupInput`: a list of at most [`MAX_TAGS`] strings of 1
/// to [`MAX_TAG_CHARS`] characters.
pub fn check_tags(value: &serde_json::Value) -> Result<Vec<String>, ErrorDetail> {
    let invalid = |why: String| {
        ErrorDetail::new(ErrorCode::RequestFieldInvalid, why)
            .field("tags")
            .hint(format!(
                "Send tags as a list of at most {MAX_TAGS} strings of 1 to {MAX_TAG_CHARS} characters, e.g. [\"upsell\"]."
            ))
    };
    let Some(items) = value.as_array() else {
        return Err(invalid(format!(
            "tags must be a list of strings; got {}.",
            describe(value)
        )));
    };
    if items.len() > MAX_TAGS {
        return Err(invalid(format!(
            "tags has {} entries; at most {MAX_TAGS} are accepted.",
            items.len()
        )));
    }
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(tag) => {
                let chars = tag.chars().count();
                if chars == 0 || chars > MAX_TAG_CHARS {
                    Err(invalid(format!(
                        "every tag must be 1 to {MAX_TAG_CHARS} characters; got {}.",
                        describe(item)
                    )))
                } else {
                    Ok(tag.to_string())
                }
            }
            None => Err(invalid(format!(
                "every tag must be a string; got {}.",
                describe(item)
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrapup_types::timestamp::from_millis;

    fn current(duration_ms: u32, notes: Option<&str>) -> WrapUp {
        WrapUp {
            code_id: Uuid::nil(),
            code_name: "Sale".into(),
            duration_ms,
            notes: notes.map(str::to_string),
            applied_at: from_millis(0),
            applied_by: Uuid::nil(),
            tags: Vec::new(),
            provisional: false,
            system: false,
        }
    }

    fn new(duration: WrapUpDuration, notes: Option<&str>) -> NewWrapUp {
        NewWrapUp {
            code_id: Uuid::nil(),
            duration,
            notes: notes.map(str::to_string),
            tags: Vec::new(),
            provisional: false,
        }
    }

    #[test]
    fn a_derived_duration_runs_from_close_within_bounds() {
        assert_eq!(derived_duration_ms(1_000, 61_000), 60_000);
        assert_eq!(derived_duration_ms(1_000, 1_000), 1, "at least 1 ms");
        assert_eq!(
            derived_duration_ms(5_000, 1_000),
            1,
            "an endTime before the close"
        );
        assert_eq!(derived_duration_ms(0, i64::MAX / 2), MAX_DURATION_MS as u32);
        let since = new(WrapUpDuration::SinceClose { until_ms: None }, None);
        assert_eq!(since.decide(None, Some(10_000), 70_000), Some(60_000));
        let until = new(
            WrapUpDuration::SinceClose {
                until_ms: Some(40_000),
            },
            None,
        );
        assert_eq!(until.decide(None, Some(10_000), 70_000), Some(30_000));
    }

    #[test]
    fn the_same_wrap_up_again_changes_nothing() {
        let w = current(60_000, Some("n"));
        let again = new(WrapUpDuration::SinceClose { until_ms: None }, Some("n"));
        assert_eq!(
            again.decide(Some(&w), Some(0), 999_999),
            None,
            "no duration: keep the derived one"
        );
        assert_eq!(
            new(WrapUpDuration::Given(60_000), Some("n")).decide(Some(&w), Some(0), 1),
            None
        );
        assert_eq!(
            new(WrapUpDuration::Given(1_000), Some("n")).decide(Some(&w), Some(0), 1),
            Some(1_000)
        );
        assert_eq!(
            new(WrapUpDuration::SinceClose { until_ms: None }, Some("other")).decide(
                Some(&w),
                Some(0),
                5_000
            ),
            Some(5_000)
        );
        let until = |ms| new(WrapUpDuration::SinceClose { until_ms: Some(ms) }, Some("n"));
        assert_eq!(
            until(60_000).decide(Some(&w), Some(0), 1),
            None,
            "the same end time"
        );
        assert_eq!(
            until(61_000).decide(Some(&w), Some(0), 1),
            Some(61_000),
            "another end time"
        );
        let mut tagged = again.clone();
        tagged.tags = vec!["t".into()];
        assert!(tagged.decide(Some(&w), Some(0), 5_000).is_some());
        let mut provisional = again;
        provisional.provisional = true;
        assert!(provisional.decide(Some(&w), Some(0), 5_000).is_some());
    }

    #[test]
    fn tags() {
        use serde_json::json;
        assert_eq!(check_tags(&json!(["a", "b"])).unwrap(), ["a", "b"]);
        assert!(check_tags(&json!([])).unwrap().is_empty());
        for bad in [
            json!("a"),
            json!([1]),
            json!([""]),
            json!(["x".repeat(101)]),
            json!(vec!["t"; 51]),
        ] {
            let e = check_tags(&bad).unwrap_err();
            assert_eq!(
                (e.error_code, e.field_name.as_deref()),
                (ErrorCode::RequestFieldInvalid, Some("tags"))
            );
        }
    }
}

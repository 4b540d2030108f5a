//! The body that would have been accepted: [`suggest_fix`] turns a refused wrap-up body
//! into the body the client meant, and says in words what it changed and what it could not
//! fix. The rules are in docs/api.md#the-corrected-body; the server's dry run and request
//! diagnosis call this function, and so can any tool (it does no I/O: the caller passes the
//! codes it looked up).
//!
//! The correction never invents what the client could not have meant: it takes a code id
//! from where generated SDKs nest it, turns a code name into the id of that code in the
//! interaction's division, converts seconds to milliseconds only when the field name says
//! seconds, and fills a missing duration with a placeholder that it names as such.

use serde_json::{Map, Value};
use uuid::Uuid;
use wrapup_types::{ErrorCode, ErrorDetail, SuggestedBody, WrapUpCode};

use crate::names::name_key;
use crate::wrapup_body::{suggest_field, MAX_DURATION_MS, MAX_NOTES_CHARS};

/// The duration a missing, `null`, zero or negative `durationMs` is replaced with: one
/// second, a round placeholder that is easy to spot. The client should send the time the
/// agent really spent.
pub const PLACEHOLDER_DURATION_MS: u64 = 1_000;

/// Corrects a wrap-up body for an interaction of `division_id`. `codes` are the codes the
/// caller can see that matter: those of the interaction's division (archived or not) and
/// the code the body names, wherever it is. `None` when the body is not a JSON object (no
/// field can be recovered from it).
///
/// The result's `body` passes the server's body checks whenever `unresolved` is empty, and
/// its code is then a current code of `division_id` (a property test holds it to that).
pub fn suggest_fix(body: &[u8], division_id: Uuid, codes: &[WrapUpCode]) -> Option<SuggestedBody> {
    let text = std::str::from_utf8(body).ok()?;
    let Value::Object(fields) =
        serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')).ok()?
    else {
        return None;
    };
    let mut fix = Fix::default();
    let code = fix.code(&fields, division_id, codes);
    let duration = fix.duration(&fields);
    let notes = fix.notes(&fields);
    fix.drop_unknown(&fields);

    let mut out = Map::new();
    if let Some(code) = code {
        out.insert("codeId".into(), Value::String(code.to_string()));
    }
    out.insert("durationMs".into(), Value::from(duration));
    if let Some(notes) = notes {
        out.insert("notes".into(), Value::String(notes));
    }
    Some(SuggestedBody {
        body: Value::Object(out),
        changes: fix.changes,
        unresolved: fix.unresolved,
    })
}

#[derive(Default)]
struct Fix {
    changes: Vec<String>,
    unresolved: Vec<String>,
    /// Fields whose value was used under another name (not reported again as dropped).
    used: Vec<String>,
}

/// A code id or name found in the body, and where.
enum CodeRef {
    Id(Uuid),
    Name(String),
}

impl Fix {
    /// The code to send, from `codeId` or the fields SDKs use instead, moved to the
    /// interaction's division when it is a code of another one.
    fn code(
        &mut self,
        fields: &Map<String, Value>,
        division: Uuid,
        codes: &[WrapUpCode],
    ) -> Option<Uuid> {
        let found = self.find_code(fields);
        let (reference, place) = match found {
            Some(found) => found,
            None => {
                let names: Vec<&str> = codes
                    .iter()
                    .filter(|c| c.division_id == division && !c.archived)
                    .map(|c| c.name.as_str())
                    .collect();
                self.unresolved.push(if names.is_empty() {
                    "No wrap-up code is named in the body; send the codeId of a code of the interaction's division.".into()
                } else {
                    format!(
                        "No wrap-up code is named in the body; send the codeId of one of the interaction's division's codes: {}.",
                        names.join(", ")
                    )
                });
                return None;
            }
        };
        let id = match reference {
            CodeRef::Id(id) => {
                if place != "codeId" {
                    self.changes.push(format!(
                        "{place} holds the code id; sent as the top-level string codeId."
                    ));
                } else if fields.get("codeId") != Some(&Value::String(id.to_string())) {
                    self.changes
                        .push("codeId rewritten as a hyphenated lowercase UUID string.".into());
                }
                id
            }
            CodeRef::Name(name) => {
                let Some(code) = current_code_named(codes, division, &name) else {
                    self.unresolved.push(format!(
                        "{place} names the code \"{name}\", and the interaction's division has no current code of that name; send the codeId of one of its codes."
                    ));
                    return None;
                };
                self.changes.push(format!(
                    "{place} names the code \"{name}\"; sent as codeId {} (that code in the interaction's division).",
                    code.id
                ));
                code.id
            }
        };
        let Some(code) = codes.iter().find(|c| c.id == id) else {
            return Some(id); // Not a code the caller passed: keep it; the server checks it.
        };
        if code.division_id != division {
            return match current_code_named(codes, division, &code.name) {
                Some(same) => {
                    self.changes.push(format!(
                        "The code \"{}\" ({}) belongs to another division; replaced by \"{}\" ({}), the code of that name in the interaction's division.",
                        code.name, code.id, same.name, same.id
                    ));
                    Some(same.id)
                }
                None => {
                    self.unresolved.push(format!(
                        "The code \"{}\" belongs to another division, and the interaction's division has no current code of that name; choose one of its codes.",
                        code.name
                    ));
                    Some(id)
                }
            };
        }
        if code.archived {
            self.unresolved.push(format!(
                "The code \"{}\" is archived and can no longer be applied; choose a current code of the interaction's division.",
                code.name
            ));
        }
        Some(id)
    }

    /// The code the body names: `codeId` first (a UUID string, a code name, or an object
    /// with `id` or `name`), then any field that means the code (`wrapUpCode`, `code`, …).
    fn find_code(&mut self, fields: &Map<String, Value>) -> Option<(CodeRef, String)> {
        let mut candidates: Vec<&String> = fields.keys().filter(|k| *k == "codeId").collect();
        candidates.extend(
            fields
                .keys()
                .filter(|k| *k != "codeId" && suggest_field(k) == Some("codeId")),
        );
        for key in candidates {
            let found = match &fields[key] {
                Value::String(s) => Some(code_ref(s, key.clone())),
                Value::Object(inner) => match (inner.get("id"), inner.get("name")) {
                    (Some(Value::String(id)), _) => Some(code_ref(id, format!("{key}.id"))),
                    (_, Some(Value::String(name))) => Some((
                        CodeRef::Name(name.trim().to_string()),
                        format!("{key}.name"),
                    )),
                    _ => None,
                },
                _ => None,
            };
            if let Some(found) = found {
                if key != "codeId" {
                    self.used.push(key.clone());
                }
                return Some(found);
            }
        }
        None
    }

    /// The duration to send, from `durationMs` or the fields that mean it.
    fn duration(&mut self, fields: &Map<String, Value>) -> u64 {
        if let Some(value) = fields.get("durationMs").filter(|v| !v.is_null()) {
            if let Some(ms) = self.milliseconds("durationMs", value, 1) {
                return ms;
            }
        } else {
            let alias = fields.iter().find(|(k, v)| {
                *k != "durationMs" && !v.is_null() && suggest_field(k) == Some("durationMs")
            });
            if let Some((key, value)) = alias {
                let seconds = key.to_ascii_lowercase().contains("sec");
                if let Some(ms) = self.milliseconds(key, value, if seconds { 1000 } else { 1 }) {
                    self.used.push(key.clone());
                    self.changes.push(if seconds {
                        format!("{key} is in seconds; sent as durationMs {ms} (milliseconds).")
                    } else {
                        format!("{key} renamed to durationMs.")
                    });
                    return ms;
                }
            }
        }
        let why = match fields.get("durationMs") {
            None => "was missing".to_string(),
            Some(Value::Null) => "was null".to_string(),
            Some(Value::Number(n)) => format!("was {n}, below 1 ms"),
            Some(_) => "was not a number".to_string(),
        };
        self.changes.push(format!(
            "durationMs {why}; filled with {PLACEHOLDER_DURATION_MS} (one second), a placeholder: send the time the agent really spent."
        ));
        PLACEHOLDER_DURATION_MS
    }

    /// A number of milliseconds from `value` (in units of `scale` ms), brought into the
    /// accepted range; `None` when it is not a number at all (or is below 1).
    fn milliseconds(&mut self, key: &str, value: &Value, scale: u64) -> Option<u64> {
        let (number, quoted) = match value {
            Value::Number(n) => (n.as_f64()?, false),
            Value::String(s) => (s.trim().parse::<f64>().ok()?, true),
            _ => return None,
        };
        if !number.is_finite() {
            return None;
        }
        let ms = number * scale as f64;
        if ms < 0.5 {
            return None;
        }
        let rounded = ms.round();
        if quoted {
            self.changes
                .push(format!("{key} was a string; sent as a number."));
        }
        if rounded > MAX_DURATION_MS as f64 {
            self.changes.push(format!(
                "{key} was more than 24 hours; sent as the most accepted, {MAX_DURATION_MS}."
            ));
            return Some(MAX_DURATION_MS);
        }
        if rounded != ms {
            self.changes.push(format!(
                "{key} was not a whole number of milliseconds; rounded to {rounded}."
            ));
        }
        Some(rounded as u64)
    }

    /// The notes to send, from `notes` or the fields that mean it; `None` to leave it out.
    fn notes(&mut self, fields: &Map<String, Value>) -> Option<String> {
        let (key, value) = match fields.get("notes") {
            Some(Value::Null) => {
                self.changes.push(
                    "notes was null; left out (leave optional fields out instead of sending null)."
                        .into(),
                );
                return None;
            }
            Some(value) => ("notes".to_string(), value),
            None => {
                let (key, value) = fields
                    .iter()
                    .find(|(k, v)| v.is_string() && suggest_field(k) == Some("notes"))?;
                self.used.push(key.clone());
                self.changes.push(format!("{key} renamed to notes."));
                (key.clone(), value)
            }
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => {
                self.changes.push(format!(
                    "{key} was not a string; sent as the string {value}."
                ));
                value.to_string()
            }
            _ => {
                self.changes
                    .push(format!("{key} was not a string; left out."));
                return None;
            }
        };
        if text.chars().count() > MAX_NOTES_CHARS {
            self.changes.push(format!(
                "{key} was longer than {MAX_NOTES_CHARS} characters; cut to {MAX_NOTES_CHARS}."
            ));
            return Some(text.chars().take(MAX_NOTES_CHARS).collect());
        }
        Some(text)
    }

    /// Reports every field that is not sent on, but those already used under another name.
    fn drop_unknown(&mut self, fields: &Map<String, Value>) {
        for (key, value) in fields {
            if matches!(key.as_str(), "codeId" | "durationMs" | "notes") || self.used.contains(key)
            {
                continue;
            }
            self.changes.push(if value.is_null() {
                format!("{key} (null, and not a field of a wrap-up body) left out.")
            } else {
                format!("{key} left out: not a field of a wrap-up body.")
            });
        }
    }
}

/// Turns the hint of a `wrapup.code.invalid` problem whose value was `name` into that
/// code's id, when the interaction's `division` has a current code of that name (`codes`:
/// the caller's codes of that name, or more): the rule the corrected body follows too
/// ([`suggest_fix`]), so the refusal and the dry run name the same code.
pub fn hint_code_named(
    problems: &mut [ErrorDetail],
    name: &str,
    division: Uuid,
    codes: &[WrapUpCode],
) {
    let Some(code) = current_code_named(codes, division, name) else {
        return;
    };
    for problem in problems
        .iter_mut()
        .filter(|p| p.error_code == ErrorCode::WrapupCodeInvalid)
    {
        let field = problem.field_name.as_deref().unwrap_or("codeId");
        problem.hint = Some(format!(
            "\"{}\" is the name of a code of the interaction's division (\"{}\"), not its id: send \"{field}\": \"{}\".",
            name, code.name, code.id
        ));
    }
}

/// A code id, or a code name when the text is not a UUID.
fn code_ref(text: &str, place: String) -> (CodeRef, String) {
    match Uuid::parse_str(text.trim()) {
        Ok(id) => (CodeRef::Id(id), place),
        Err(_) => (CodeRef::Name(text.trim().to_string()), place),
    }
}

/// The current (not archived) code of `division` named `name`, ignoring case.
fn current_code_named<'a>(
    codes: &'a [WrapUpCode],
    division: Uuid,
    name: &str,
) -> Option<&'a WrapUpCode> {
    let key = name_key(name);
    codes
        .iter()
        .find(|c| c.division_id == division && !c.archived && name_key(&c.name) == key)
}

#[cfg(test)]
mod tests;

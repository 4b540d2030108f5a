//! The body of `POST /api/v2/interactions/wrap-ups` (docs/api.md#post-apiv2interactionswrap-ups): a JSON
//! array of items, each an `interactionId` plus exactly the fields of the single PUT's body.
//! An item's wrap-up fields are checked by [`validate_fields`](crate::wrapup_body::validate_fields),
//! the very function the PUT uses; this module only splits the array into items.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde_json::Value;
use wrapup_types::{ErrorCode, ErrorDetail};

use crate::wrapup_body::{ObjectVisitor, TopLevel};

/// The most wrap-ups one request may carry.
pub const MAX_BULK_ITEMS: usize = 1000;
/// The largest bulk body accepted, in bytes: a thousand items of a few hundred bytes each,
/// with room for long notes.
pub const MAX_BULK_BODY_BYTES: usize = 1024 * 1024;

/// The item field naming the interaction (the single PUT has it in its path).
pub const INTERACTION_ID_FIELD: &str = "interactionId";

/// One item of the array: the interaction it names (as sent, or why it names none) and the
/// other fields, in order: the single PUT's body.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkItem {
    pub interaction_id: Result<String, ErrorDetail>,
    pub fields: Vec<(String, Value)>,
}

const BULK_HINT: &str = "Send a JSON array of objects, e.g. [{\"interactionId\": \"…\", \"codeId\": \"…\", \"durationMs\": 120000}].";

/// The 413 problem for a bulk body of `len` bytes.
pub fn bulk_too_large(len: usize) -> ErrorDetail {
    ErrorDetail::new(
        ErrorCode::RequestBodyTooLarge,
        format!("The body is {len} bytes; at most {MAX_BULK_BODY_BYTES} bytes are accepted."),
    )
    .hint(format!(
        "Send at most {MAX_BULK_ITEMS} wrap-ups per request, and split the array if the body is still too large."
    ))
}

/// Splits a bulk body into its items. The whole body is refused (one problem, as the single
/// PUT refuses a body that is not one JSON object) when it is not a JSON array of objects,
/// when an item names a field twice, or when it holds more than [`MAX_BULK_ITEMS`] items.
pub fn parse_bulk(bytes: &[u8]) -> Result<Vec<BulkItem>, ErrorDetail> {
    let malformed = |message: String| {
        ErrorDetail::new(ErrorCode::RequestBodyMalformed, message).hint(BULK_HINT)
    };
    if std::str::from_utf8(bytes).is_err() {
        return Err(malformed("The body is not valid UTF-8.".into()));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed(
            "The body is empty; a JSON array is required.".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de
        .deserialize_any(ArrayVisitor)
        .and_then(|items| de.end().map(|()| items));
    let items = match parsed {
        Ok(Ok(items)) => items,
        Ok(Err(kind)) => {
            return Err(malformed(format!(
                "The body is {kind}; it must be a JSON array of objects."
            )))
        }
        Err(e) => {
            return Err(malformed(format!(
                "The body is not a JSON array of objects: {e}."
            )))
        }
    };
    if items.len() > MAX_BULK_ITEMS {
        return Err(ErrorDetail::new(
            ErrorCode::RequestFieldInvalid,
            format!(
                "The body holds {} wrap-ups; at most {MAX_BULK_ITEMS} are accepted in one request.",
                items.len()
            ),
        )
        .hint(format!(
            "Split the array into requests of at most {MAX_BULK_ITEMS} items."
        )));
    }
    Ok(items.into_iter().map(split_item).collect())
}

/// Takes `interactionId` out of an item's fields.
fn split_item(mut fields: Vec<(String, Value)>) -> BulkItem {
    let interaction_id = match fields.iter().position(|(k, _)| k == INTERACTION_ID_FIELD) {
        None => Err(ErrorDetail::new(
            ErrorCode::RequestFieldMissing,
            "interactionId is missing; every item names the interaction to wrap up.",
        )
        .field(INTERACTION_ID_FIELD)
        .hint("Add \"interactionId\": \"<the interaction's id>\" to the item.")),
        Some(at) => match fields.remove(at).1 {
            Value::String(id) => Ok(id),
            other => Err(ErrorDetail::new(
                ErrorCode::RequestFieldInvalid,
                format!(
                    "interactionId must be the interaction's id as a string; got {}.",
                    crate::wrapup_body::describe(&other)
                ),
            )
            .field(INTERACTION_ID_FIELD)
            .hint("Send the id as a UUID string, as GET /api/v2/interactions lists it.")),
        },
    };
    BulkItem {
        interaction_id,
        fields,
    }
}

/// The array: its items' fields, or what the first item that is not an object is.
struct ArrayVisitor;

impl<'de> Visitor<'de> for ArrayVisitor {
    type Value = Result<Vec<Vec<(String, Value)>>, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Item(item)) = seq.next_element::<Item>()? {
            match item {
                TopLevel::Object(fields) => items.push(fields),
                TopLevel::Other(kind) => {
                    while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                    return Ok(Err(format!(
                        "an array whose item {} is {kind}",
                        items.len()
                    )));
                }
            }
        }
        Ok(Ok(items))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Err("an object".into()))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string".into()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean".into()))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number".into()))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number".into()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number".into()))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("null".into()))
    }
}

/// One item, read as the single PUT reads its body (fields in order, none twice).
struct Item(TopLevel);

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Item, D::Error> {
        d.deserialize_any(ObjectVisitor).map(Item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_items_and_keeps_their_fields_in_order() {
        let items = parse_bulk(
            br#"[{"codeId": "c", "interactionId": "i", "durationMs": 1}, {"durationMs": 2}, {"interactionId": 7}]"#,
        )
        .unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].interaction_id, Ok("i".to_string()));
        let names: Vec<&str> = items[0].fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["codeId", "durationMs"]);
        let missing = items[1].interaction_id.clone().unwrap_err();
        assert_eq!(missing.error_code, ErrorCode::RequestFieldMissing);
        let invalid = items[2].interaction_id.clone().unwrap_err();
        assert_eq!(invalid.error_code, ErrorCode::RequestFieldInvalid);
        assert!(items[2].fields.is_empty());
    }

    #[test]
    fn refuses_what_is_not_an_array_of_objects() {
        for body in [
            &b"{}"[..],
            b"[1]",
            b"[{}, null]",
            b"",
            b"[{\"a\": 1, \"a\": 2}]",
            b"[{}",
            b"\"x\"",
        ] {
            let e = parse_bulk(body).unwrap_err();
            assert_eq!(e.error_code, ErrorCode::RequestBodyMalformed, "{body:?}");
        }
        assert_eq!(parse_bulk(b"[]").unwrap(), Vec::new());
    }

    #[test]
    fn refuses_more_items_than_the_limit() {
        let body = format!("[{}]", vec!["{}"; MAX_BULK_ITEMS + 1].join(","));
        let e = parse_bulk(body.as_bytes()).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::RequestFieldInvalid);
        assert!(e.message.contains("1001"), "{}", e.message);
        let body = format!("[{}]", vec!["{}"; MAX_BULK_ITEMS].join(","));
        assert_eq!(parse_bulk(body.as_bytes()).unwrap().len(), MAX_BULK_ITEMS);
    }
}

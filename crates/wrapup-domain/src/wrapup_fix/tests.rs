use super::*;
use crate::wrapup_body::{check_code, validate_body};
use proptest::prelude::*;
use serde_json::json;
use time::OffsetDateTime;

const SALES: Uuid = Uuid::from_u128(0xa1);
const SUPPORT: Uuid = Uuid::from_u128(0xa2);
const SALE: Uuid = Uuid::from_u128(0xc1);
const LEGACY: Uuid = Uuid::from_u128(0xc4);
const SUPPORT_SALE: Uuid = Uuid::from_u128(0xc7);
const RESOLVED: Uuid = Uuid::from_u128(0xc5);

fn code(id: Uuid, division: Uuid, name: &str, archived: bool) -> WrapUpCode {
    WrapUpCode {
        id,
        name: name.into(),
        division_id: division,
        description: None,
        archived,
        date_created: OffsetDateTime::UNIX_EPOCH,
        date_modified: OffsetDateTime::UNIX_EPOCH,
        created_by: None,
    }
}

fn codes() -> Vec<WrapUpCode> {
    vec![
        code(SALE, SALES, "Sale", false),
        code(LEGACY, SALES, "Legacy sale", true),
        code(SUPPORT_SALE, SUPPORT, "sale", false),
        code(RESOLVED, SUPPORT, "Resolved", false),
    ]
}

fn fix(body: Value) -> SuggestedBody {
    suggest_fix(body.to_string().as_bytes(), SALES, &codes()).expect("an object is corrected")
}

#[test]
fn a_right_body_is_left_alone() {
    let body = json!({"codeId": SALE.to_string(), "durationMs": 120000, "notes": "ok"});
    let fixed = fix(body.clone());
    assert_eq!(fixed.body, body);
    assert!(fixed.changes.is_empty(), "{:?}", fixed.changes);
    assert!(fixed.unresolved.is_empty());
}

#[test]
fn the_code_id_is_taken_out_of_a_nested_object() {
    let fixed = fix(json!({"wrapUpCode": {"id": SALE.to_string()}, "durationMs": 120000}));
    assert_eq!(
        fixed.body,
        json!({"codeId": SALE.to_string(), "durationMs": 120000})
    );
    assert_eq!(
        fixed.changes,
        ["wrapUpCode.id holds the code id; sent as the top-level string codeId."]
    );
    let fixed = fix(json!({"codeId": {"id": SALE.to_string()}, "durationMs": 5}));
    assert_eq!(fixed.body["codeId"], json!(SALE.to_string()));
    assert_eq!(fixed.changes.len(), 1, "{:?}", fixed.changes);
}

#[test]
fn a_code_name_becomes_the_id_of_that_code_in_the_division() {
    for body in [
        json!({"codeId": "sale", "durationMs": 1}),
        json!({"code": "Sale", "durationMs": 1}),
        json!({"wrapUpCode": {"name": "SALE"}, "durationMs": 1}),
    ] {
        let fixed = fix(body.clone());
        assert_eq!(fixed.body["codeId"], json!(SALE.to_string()), "{body}");
        assert!(
            fixed.unresolved.is_empty(),
            "{body}: {:?}",
            fixed.unresolved
        );
    }
    let fixed = fix(json!({"codeId": "Refund", "durationMs": 1}));
    assert!(fixed.body.get("codeId").is_none());
    assert_eq!(fixed.unresolved.len(), 1);
}

#[test]
fn a_code_of_another_division_is_replaced_by_the_code_of_the_same_name() {
    let fixed = fix(json!({"codeId": SUPPORT_SALE.to_string(), "durationMs": 1000}));
    assert_eq!(fixed.body["codeId"], json!(SALE.to_string()));
    assert!(
        fixed.changes[0].contains("another division"),
        "{:?}",
        fixed.changes
    );
    // No code of that name in the division: kept, and said so.
    let fixed = fix(json!({"codeId": RESOLVED.to_string(), "durationMs": 1000}));
    assert_eq!(fixed.body["codeId"], json!(RESOLVED.to_string()));
    assert!(fixed.unresolved[0].contains("another division"));
}

#[test]
fn an_archived_code_cannot_be_fixed() {
    let fixed = fix(json!({"codeId": LEGACY.to_string(), "durationMs": 1000}));
    assert!(fixed.unresolved[0].contains("archived"));
}

#[test]
fn a_missing_or_zero_duration_gets_the_placeholder() {
    for body in [
        json!({"codeId": SALE.to_string()}),
        json!({"codeId": SALE.to_string(), "durationMs": 0}),
        json!({"codeId": SALE.to_string(), "durationMs": null}),
        json!({"codeId": SALE.to_string(), "durationMs": -5}),
        json!({"codeId": SALE.to_string(), "durationMs": "soon"}),
    ] {
        let fixed = fix(body.clone());
        assert_eq!(
            fixed.body["durationMs"],
            json!(PLACEHOLDER_DURATION_MS),
            "{body}"
        );
        assert!(
            fixed.changes.iter().any(|c| c.contains("placeholder")),
            "{body}"
        );
    }
}

#[test]
fn durations_are_converted_and_brought_into_range() {
    let cases = [
        (json!({"durationSeconds": 120}), 120_000),
        (json!({"duration": 120}), 120),
        (json!({"durationMs": "120000"}), 120_000),
        (json!({"durationMs": 1500.4}), 1500),
        (json!({"durationMs": 1e12}), MAX_DURATION_MS),
    ];
    for (mut body, ms) in cases {
        body["codeId"] = json!(SALE.to_string());
        let fixed = fix(body.clone());
        assert_eq!(fixed.body["durationMs"], json!(ms), "{body}");
        assert!(!fixed.changes.is_empty(), "{body}");
    }
}

#[test]
fn nulls_and_unknown_fields_are_left_out() {
    let fixed = fix(json!({
        "codeId": SALE.to_string(), "durationMs": 10, "notes": null, "agent": "x", "queue": null
    }));
    assert_eq!(
        fixed.body,
        json!({"codeId": SALE.to_string(), "durationMs": 10})
    );
    assert_eq!(fixed.changes.len(), 3, "{:?}", fixed.changes);
}

#[test]
fn notes_are_renamed_converted_or_cut() {
    let fixed = fix(json!({"codeId": SALE.to_string(), "durationMs": 10, "comment": "hi"}));
    assert_eq!(fixed.body["notes"], json!("hi"));
    let fixed = fix(json!({"codeId": SALE.to_string(), "durationMs": 10, "notes": 42}));
    assert_eq!(fixed.body["notes"], json!("42"));
    let long = "x".repeat(MAX_NOTES_CHARS + 10);
    let fixed = fix(json!({"codeId": SALE.to_string(), "durationMs": 10, "notes": long}));
    assert_eq!(
        fixed.body["notes"].as_str().unwrap().chars().count(),
        MAX_NOTES_CHARS
    );
}

#[test]
fn what_is_not_an_object_has_no_correction() {
    for body in ["", "[1]", "\"x\"", "{", "null"] {
        assert!(
            suggest_fix(body.as_bytes(), SALES, &codes()).is_none(),
            "{body:?}"
        );
    }
}

/// Any JSON value a client might put in a field.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e13f64..1e13).prop_map(Value::from),
        "[a-zA-Z0-9 .-]{0,12}".prop_map(Value::from),
        prop_oneof![Just(SALE), Just(LEGACY), Just(SUPPORT_SALE), Just(RESOLVED)]
            .prop_map(|id| Value::from(id.to_string())),
        Just(Value::from("Sale")),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::btree_map(
            prop_oneof![
                Just("id".to_string()),
                Just("name".to_string()),
                "[a-z]{1,4}"
            ],
            inner,
            0..3,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect()))
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("codeId".to_string()),
        Just("durationMs".to_string()),
        Just("notes".to_string()),
        Just("wrapUpCode".to_string()),
        Just("code".to_string()),
        Just("duration".to_string()),
        Just("durationSeconds".to_string()),
        Just("comment".to_string()),
        "[a-zA-Z]{1,10}",
    ]
}

proptest! {
    /// Whenever the correction says it fixed everything, the server's own checks accept
    /// the corrected body, and its code is a current code of the interaction's division.
    #[test]
    fn a_fully_corrected_body_passes_the_server_checks(
        fields in prop::collection::vec((field_name(), value()), 0..6)
    ) {
        let body = Value::Object(fields.into_iter().collect());
        let fixed = suggest_fix(body.to_string().as_bytes(), SALES, &codes()).unwrap();
        if fixed.unresolved.is_empty() {
            let request = validate_body(fixed.body.to_string().as_bytes());
            prop_assert!(request.is_ok(), "{body} → {} : {:?}", fixed.body, request);
            let request = request.unwrap();
            let all = codes();
            let code = all.iter().find(|c| c.id == request.code_id);
            prop_assert!(code.is_some(), "{body} → {}", fixed.body);
            prop_assert_eq!(check_code(request.code_id, code, true, SALES, |_| String::new()), None);
        }
        // Correcting a corrected body changes nothing more.
        let again = suggest_fix(fixed.body.to_string().as_bytes(), SALES, &codes()).unwrap();
        prop_assert_eq!(&again.body, &fixed.body);
    }
}

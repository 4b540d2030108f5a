use super::*;
use proptest::prelude::*;
use serde_json::json;

const CODE: &str = "7c1f9a2e-5b7d-4f0e-9a51-0c8d2b7e4f11";

fn codes(body: &str) -> Vec<ErrorCode> {
    match validate_body(body.as_bytes()) {
        Ok(_) => vec![],
        Err(problems) => problems.into_iter().map(|p| p.error_code).collect(),
    }
}

#[test]
fn valid_bodies() {
    let ok =
        validate_body(format!(r#"{{"codeId":"{CODE}","durationMs":120000}}"#).as_bytes()).unwrap();
    assert_eq!(ok.duration_ms, 120_000);
    assert_eq!(ok.notes, None);
    let ok = validate_body(
        format!(r#"{{"codeId":"{CODE}","durationMs":120000.0,"notes":""}}"#).as_bytes(),
    )
    .unwrap();
    assert_eq!(ok.duration_ms, 120_000);
    assert_eq!(ok.notes.as_deref(), Some(""));
    let max = "é".repeat(MAX_NOTES_CHARS);
    let body =
        json!({"codeId": CODE.to_uppercase(), "durationMs": 86_400_000, "notes": max}).to_string();
    assert!(validate_body(body.as_bytes()).is_ok());
    assert!(validate_body(format!(r#"{{"codeId":"{CODE}","durationMs":1}}"#).as_bytes()).is_ok());
}

#[test]
fn malformed() {
    for body in [
        "",
        "   ",
        "{",
        "[1,2]",
        "\"x\"",
        "12",
        "null",
        "{\"a\":1} {}",
        "{\"codeId\":1,\"codeId\":2}",
    ] {
        assert_eq!(codes(body), [ErrorCode::RequestBodyMalformed], "{body:?}");
    }
    let e = validate_body(b"{\n  \"codeId\": \"x\",\n  \"durationMs\": 12,,\n}").unwrap_err();
    assert!(e[0].message.contains("line 3"), "{}", e[0].message);
    let e = validate_body(b"{\"notes\": \"\xff\"}").unwrap_err();
    assert!(e[0].message.contains("UTF-8"), "{}", e[0].message);
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    assert_eq!(
        validate_body(&big).unwrap_err()[0].error_code,
        ErrorCode::RequestBodyTooLarge
    );
}

#[test]
fn missing_fields_are_both_reported() {
    assert_eq!(
        codes("{}"),
        [
            ErrorCode::WrapupCodeMissing,
            ErrorCode::WrapupDurationMissing
        ]
    );
}

#[test]
fn nested_wrapup_code_gets_the_top_level_hint() {
    let body = json!({"wrapUpCode": {"id": CODE}, "durationMs": 1000}).to_string();
    let problems = validate_body(body.as_bytes()).unwrap_err();
    assert_eq!(problems[0].error_code, ErrorCode::RequestFieldUnknown);
    assert_eq!(problems[0].field_name.as_deref(), Some("wrapUpCode"));
    let hint = problems[0].hint.as_deref().unwrap();
    assert!(hint.contains(&format!("\"codeId\": \"{CODE}\"")), "{hint}");
    assert_eq!(problems[1].error_code, ErrorCode::WrapupCodeMissing);
}

#[test]
fn misspelled_fields_suggest_the_right_one() {
    for (name, meant) in [
        ("wrapUpCode", "codeId"),
        ("wrapupCode", "codeId"),
        ("code", "codeId"),
        ("code_id", "codeId"),
        ("codeID", "codeId"),
        ("duration", "durationMs"),
        ("durationSeconds", "durationMs"),
        ("duration_ms", "durationMs"),
        ("note", "notes"),
    ] {
        assert_eq!(suggest_field(name), Some(meant), "{name}");
        let body = json!({ name: "x" }).to_string();
        let p = &validate_body(body.as_bytes()).unwrap_err()[0];
        assert_eq!(p.error_code, ErrorCode::RequestFieldUnknown);
        assert!(
            p.hint.as_deref().unwrap().contains(meant),
            "{name}: {:?}",
            p.hint
        );
    }
    assert_eq!(suggest_field("foo"), None);
    // A near miss of one of the three names, whatever it is.
    assert_eq!(suggest_field("cdoeId"), Some("codeId"));
    assert_eq!(suggest_field("durationMz"), Some("durationMs"));
}

#[test]
fn only_a_field_in_seconds_is_told_to_multiply() {
    let hint = |name: &str| {
        let body = json!({ name: 120 }).to_string();
        validate_body(body.as_bytes()).unwrap_err()[0]
            .hint
            .clone()
            .unwrap()
    };
    for name in ["durationSeconds", "durationSecs", "duration_sec"] {
        assert!(hint(name).contains("× 1000"), "{name}: {}", hint(name));
    }
    for name in [
        "durationMilliseconds",
        "durationMillis",
        "duration_ms",
        "duration",
    ] {
        let h = hint(name);
        assert!(!h.contains("1000"), "{name}: {h}");
        assert_eq!(
            h,
            format!("Did you mean durationMs? Rename {name} to durationMs.")
        );
    }
}

#[test]
fn fields_of_the_returned_wrap_up_are_explained() {
    for name in ["codeName", "appliedAt", "appliedBy"] {
        let body = json!({"codeId": CODE, "durationMs": 1000, name: "x"}).to_string();
        let p = validate_body(body.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].error_code, ErrorCode::RequestFieldUnknown);
        let hint = p[0].hint.as_deref().unwrap();
        assert!(
            hint.contains(name) && hint.contains("leave it out"),
            "{hint}"
        );
    }
}

#[test]
fn only_an_accepted_code_id_is_looked_up() {
    let fields = |value: Value| vec![("codeId".to_string(), value)];
    assert_eq!(
        valid_code_id(&fields(json!(CODE))),
        Some(CODE.parse().unwrap())
    );
    for refused in [
        json!(CODE.replace('-', "")),
        json!(format!("{{{CODE}}}")),
        json!(format!("urn:uuid:{CODE}")),
        json!(42),
    ] {
        assert_eq!(valid_code_id(&fields(refused.clone())), None, "{refused}");
    }
    assert_eq!(valid_code_id(&[]), None);
    // The refusal says how to write the id.
    let body = json!({"codeId": CODE.replace('-', ""), "durationMs": 1000}).to_string();
    let p = validate_body(body.as_bytes()).unwrap_err();
    assert!(p[0]
        .hint
        .as_deref()
        .unwrap()
        .contains(&format!("\"codeId\": \"{CODE}\"")));
}

#[test]
fn every_problem_in_check_order() {
    let body = json!({"extra": 1, "notes": 5, "codeId": 12, "durationMs": "2m"}).to_string();
    assert_eq!(
        codes(&body),
        [
            ErrorCode::RequestFieldUnknown,
            ErrorCode::WrapupCodeInvalid,
            ErrorCode::WrapupDurationInvalid,
            ErrorCode::WrapupNotesInvalid
        ]
    );
    let body = json!({"codeId": null, "durationMs": null, "notes": null, "x": null}).to_string();
    assert_eq!(
        codes(&body),
        [
            ErrorCode::RequestFieldUnknown,
            ErrorCode::RequestFieldNull,
            ErrorCode::RequestFieldNull,
            ErrorCode::RequestFieldNull
        ]
    );
}

#[test]
fn durations() {
    for (value, fragment) in [
        (json!(0), "got 0."),
        (json!(-5), "below 1"),
        (json!(1.5), "not a whole number"),
        (json!(86_400_001), "more than 24 hours"),
        (json!(1e300), "more than 24 hours"),
        (json!("120000"), "without quotes"),
        (json!(true), "not a number"),
        (json!(0.0), "below 1"),
    ] {
        let body = json!({"codeId": CODE, "durationMs": value}).to_string();
        let p = validate_body(body.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 1, "{body}");
        assert_eq!(p[0].error_code, ErrorCode::WrapupDurationInvalid, "{body}");
        assert!(p[0].message.contains(fragment), "{body}: {}", p[0].message);
        assert_eq!(p[0].field_name.as_deref(), Some("durationMs"));
    }
}

#[test]
fn code_ids() {
    for value in [
        json!("not-a-uuid"),
        json!(CODE.replace('-', "")),
        json!(42),
        json!({"id": CODE}),
        json!([CODE]),
    ] {
        let body = json!({"codeId": value, "durationMs": 1000}).to_string();
        assert_eq!(codes(&body), [ErrorCode::WrapupCodeInvalid], "{body}");
    }
}

#[test]
fn notes() {
    let body = json!({"codeId": CODE, "durationMs": 1, "notes": "x".repeat(1025)}).to_string();
    let p = validate_body(body.as_bytes()).unwrap_err();
    assert_eq!(p[0].error_code, ErrorCode::WrapupNotesInvalid);
    assert!(p[0].message.contains("1025"));
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String(CODE.into())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("codeId".to_string()),
                        Just("durationMs".to_string()),
                        Just("notes".to_string()),
                        "[a-zA-Z_]{1,12}"
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any JSON value is either a valid request or at least one problem that names a
    /// field or the body; never a panic.
    #[test]
    fn arbitrary_json_is_explained(value in arb_json()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        match validate_body(&bytes) {
            Ok(req) => {
                prop_assert!((1..=MAX_DURATION_MS as u32).contains(&req.duration_ms));
                prop_assert!(req.notes.as_ref().is_none_or(|n| n.chars().count() <= MAX_NOTES_CHARS));
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    prop_assert!(!p.message.is_empty());
                    prop_assert!(p.field_name.is_some() || p.error_code == ErrorCode::RequestBodyMalformed);
                    prop_assert_eq!(p.error_code.status(), 400);
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Err(problems) = validate_body(&bytes) {
            prop_assert!(!problems.is_empty());
        }
    }

    /// Every well-formed valid body is accepted and round-trips.
    #[test]
    fn valid_bodies_are_accepted(id in any::<u128>(), ms in 1u32..=86_400_000, notes in proptest::option::of(".{0,50}")) {
        let req = WrapUpRequest { code_id: Uuid::from_u128(id), duration_ms: ms, notes };
        let bytes = serde_json::to_vec(&req).unwrap();
        prop_assert_eq!(validate_body(&bytes).unwrap(), req);
    }
}

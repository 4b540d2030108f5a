use proptest::prelude::*;
use serde_json::json;

use super::*;

const CODE: &str = "00000000-0000-4000-8000-0000000000c1";

fn codes(problems: &BodyProblems) -> Vec<(ErrorCode, Option<&str>)> {
    problems
        .problems
        .iter()
        .map(|p| (p.error_code, p.field_name.as_deref()))
        .collect()
}

#[test]
fn what_the_sdks_send_without_a_body_is_explained() {
    for body in [&b""[..], b"null", b"  \n"] {
        let e = parse_wrapup_input(body).unwrap_err();
        assert_eq!(codes(&e), [(ErrorCode::RequestBodyMalformed, None)]);
        let message = &e.problems[0].message;
        assert!(message.contains("WrapupInput is required"), "{message}");
        assert!(e.problems[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("WrapupInput()"));
    }
    let e = parse_wrapup_input(b"{\"code\": ").unwrap_err();
    assert_eq!(codes(&e), [(ErrorCode::RequestBodyMalformed, Some("body"))]);
    let e = parse_wrapup_input(b"[1]").unwrap_err();
    assert!(e.problems[0].message.contains("an array"));
}

#[test]
fn a_minimal_input_has_no_duration_and_the_sdk_datetimes_are_read() {
    let w = parse_wrapup_input(json!({"code": CODE}).to_string().as_bytes()).unwrap();
    assert_eq!(
        w.wrap_up.duration,
        WrapUpDuration::SinceClose { until_ms: None }
    );
    assert_eq!((w.wrap_up.tags.len(), w.wrap_up.provisional), (0, false));
    for (end_time, ms) in [
        ("2026-11-24T22:21:57.239Z", 1_795_558_917_239),
        ("2026-11-24T22:21:57.239000+00:00", 1_795_558_917_239),
        ("2026-11-24T23:21:57.239+01:00", 1_795_558_917_239),
        ("2026-11-24T22:21:57.239000", 1_795_558_917_239),
        ("2026-11-24T22:21:57", 1_795_558_917_000),
    ] {
        let body = json!({"code": CODE, "endTime": end_time, "disableEndTimeUpdates": true});
        let w = parse_wrapup_input(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            w.wrap_up.duration,
            WrapUpDuration::SinceClose { until_ms: Some(ms) },
            "{end_time}"
        );
    }
    let full = json!({
        "code": CODE, "name": "Sale", "notes": "n", "tags": ["a"], "durationSeconds": 120,
        "provisional": true, "endTime": null
    });
    let w = parse_wrapup_input(full.to_string().as_bytes()).unwrap();
    assert_eq!(w.wrap_up.duration, WrapUpDuration::Given(120_000));
    assert_eq!(
        (w.wrap_up.notes.as_deref(), w.wrap_up.provisional),
        (Some("n"), true),
        "name is accepted and not used"
    );
    assert_eq!(w.wrap_up.tags, ["a"]);
}

#[test]
fn every_problem_is_reported_with_its_genesys_field() {
    let body = json!({
        "codeId": CODE, "durationSeconds": 0, "notes": 5, "tags": "x", "endTime": "yesterday",
        "provisional": "yes", "name": 3
    });
    let e = parse_wrapup_input(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(
        codes(&e),
        [
            (ErrorCode::RequestFieldUnknown, Some("codeId")),
            (ErrorCode::WrapupCodeMissing, Some("code")),
            (ErrorCode::RequestFieldInvalid, Some("name")),
            (ErrorCode::WrapupNotesInvalid, Some("notes")),
            (ErrorCode::RequestFieldInvalid, Some("tags")),
            (ErrorCode::WrapupDurationInvalid, Some("durationSeconds")),
            (ErrorCode::RequestFieldInvalid, Some("endTime")),
            (ErrorCode::RequestFieldInvalid, Some("provisional")),
        ]
    );
    assert!(e.problems[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("Did you mean code?"));
    let e = parse_wrapup_input(json!({"code": "7", "durationMs": 5}).to_string().as_bytes())
        .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            (ErrorCode::RequestFieldUnknown, Some("durationMs")),
            (ErrorCode::WrapupCodeInvalid, Some("code"))
        ]
    );
    assert!(e.problems[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("durationMs / 1000"));
    let e = parse_wrapup_input(
        json!({"code": CODE, "durationSeconds": 86_401})
            .to_string()
            .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(
        e.code_id.map(|c| c.to_string()).as_deref(),
        Some(CODE),
        "the code is known for the code checks"
    );
}

#[test]
fn a_participant_request_changes_only_the_wrapup() {
    let ok = parse_participant_request(
        json!({"wrapup": {"code": CODE, "notes": "n"}})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(ok.wrap_up.notes.as_deref(), Some("n"));
    let e = parse_participant_request(
        json!({"wrapup": {"code": CODE}, "held": true, "colour": 1})
            .to_string()
            .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            (ErrorCode::RequestFieldUnsupported, Some("held")),
            (ErrorCode::RequestFieldUnknown, Some("colour"))
        ]
    );
    assert!(e.code_id.is_some());
    let e = parse_participant_request(json!({"state": "disconnected"}).to_string().as_bytes())
        .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            (ErrorCode::RequestFieldUnsupported, Some("state")),
            (ErrorCode::RequestFieldMissing, Some("wrapup"))
        ]
    );
    let e = parse_participant_request(json!({"wrapup": "x"}).to_string().as_bytes()).unwrap_err();
    assert_eq!(
        codes(&e),
        [(ErrorCode::RequestFieldInvalid, Some("wrapup"))]
    );
    let e = parse_participant_request(b"null").unwrap_err();
    assert!(e.problems[0].message.contains("MediaParticipantRequest"));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-z0-9:.+ -]{0,40}".prop_map(Value::String),
        Just(Value::String(CODE.into())),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(Value::Array)
    })
}

proptest! {
    /// Any object of WrapupInput fields is either accepted, with values inside wrapup's
    /// bounds, or refused with a problem per bad field, every one naming a Genesys field.
    #[test]
    fn any_input_is_accepted_within_bounds_or_refused_field_by_field(
        fields in prop::collection::vec((prop::sample::select(WRAPUP_INPUT_FIELDS.to_vec()), json_value()), 0..8)
    ) {
        let mut object = serde_json::Map::new();
        for (k, v) in fields {
            object.insert(k.to_string(), v);
        }
        match parse_wrapup_input(Value::Object(object).to_string().as_bytes()) {
            Ok(w) => {
                if let WrapUpDuration::Given(ms) = w.wrap_up.duration {
                    prop_assert!((1000..=MAX_DURATION_MS as u32).contains(&ms) && ms % 1000 == 0);
                }
                prop_assert!(w.wrap_up.notes.is_none_or(|n| n.chars().count() <= 1024));
            }
            Err(e) => {
                prop_assert!(!e.problems.is_empty());
                for p in &e.problems {
                    let field = p.field_name.as_deref().unwrap();
                    prop_assert!(WRAPUP_INPUT_FIELDS.contains(&field), "{field}");
                }
            }
        }
    }
}

//! `PUT /api/v2/interactions/{id}/wrap-up`: every step of docs/api.md#order-of-checks, in
//! order, and the success paths.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;
use wrapup_server::testkit::*;
use wrapup_types::{DivisionGrant, ErrorCode, InteractionState, TargetState, WrapUpRequest};

fn body(code: Uuid, ms: u64) -> Vec<u8> {
    json!({"codeId": code, "durationMs": ms})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn applies_replaces_and_is_idempotent() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (div, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    let callback = s.code(&admin, div, "Callback").await;
    let id = s.finalized(&admin, div).await;
    let before = admin.get_interaction(id).await.unwrap();
    assert!(before.finalized);
    assert_eq!(before.state, InteractionState::Closed);

    let req = WrapUpRequest {
        code_id: sale,
        duration_ms: 120_000,
        notes: Some("upgraded".into()),
    };
    admin.put_wrapup(id, &req).await.unwrap();
    let after = admin.get_interaction(id).await.unwrap();
    assert_eq!(after.state, InteractionState::Completed);
    assert_eq!(after.version, before.version + 1);
    let w = after.wrap_up.clone().unwrap();
    assert_eq!(
        (
            w.code_id,
            w.code_name.as_str(),
            w.duration_ms,
            w.notes.as_deref()
        ),
        (sale, "Sale", 120_000, Some("upgraded"))
    );
    assert_eq!(admin.get_wrapup(id).await.unwrap(), w);

    // The same body again changes nothing.
    admin.put_wrapup(id, &req).await.unwrap();
    assert_eq!(
        admin.get_interaction(id).await.unwrap().version,
        after.version
    );
    assert_eq!(admin.wrapup_history(id).await.unwrap().len(), 1);

    // A different body replaces it, and history keeps both, oldest first.
    let other = WrapUpRequest {
        code_id: callback,
        duration_ms: 60_000,
        notes: None,
    };
    admin.put_wrapup(id, &other).await.unwrap();
    let history = admin.wrapup_history(id).await.unwrap();
    assert_eq!(
        history.iter().map(|w| w.code_id).collect::<Vec<_>>(),
        [sale, callback]
    );
    let last = admin.get_interaction(id).await.unwrap();
    assert_eq!(last.version, after.version + 1);
    assert_eq!(last.wrap_up.unwrap().code_id, callback);
}

#[tokio::test]
async fn wrapup_not_found_before_one_is_applied() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let div = s.division(&admin, "Sales").await;
    let id = s.finalized(&admin, div).await;
    let e = admin.get_wrapup(id).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::WrapupNotFound));
}

#[tokio::test]
async fn state_checks() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (div, code) = s.division_with_code(&admin, "Sales", "Sale").await;
    for states in [&[][..], &[TargetState::Active][..]] {
        let id = s.interaction(&admin, div, states).await;
        let r = put_raw(
            &admin,
            &id.to_string(),
            "application/json",
            &body(code, 1000),
        )
        .await;
        assert_eq!(r.status, 400);
        let e = error_of(&r);
        assert_eq!(e.code, ErrorCode::InteractionNotClosed);
        assert!(
            e.message.contains(if states.is_empty() {
                "queued"
            } else {
                "active"
            }),
            "{}",
            e.message
        );
    }
    // Closed but not yet settled: not finalized, with Retry-After.
    let id = s
        .interaction(&admin, div, &[TargetState::Active, TargetState::Closed])
        .await;
    s.clock.advance(400);
    let r = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        &body(code, 1000),
    )
    .await;
    assert_eq!(r.status, 400);
    let e = error_of(&r);
    assert_eq!(e.code, ErrorCode::InteractionNotFinalized);
    assert_eq!(e.details[0].retry_after_ms, Some(1_100));
    assert_eq!(r.headers["retry-after"], "2");
    // Once the settle time has passed it is accepted, even if the timer has not run yet.
    s.clock.advance(1_100);
    admin
        .put_wrapup(
            id,
            &WrapUpRequest {
                code_id: code,
                duration_ms: 1000,
                notes: None,
            },
        )
        .await
        .unwrap();
    let i = admin.get_interaction(id).await.unwrap();
    assert!(i.finalized && i.state == InteractionState::Completed);
}

#[tokio::test]
async fn code_checks() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let sales = s.division(&admin, "Sales").await;
    let (support, resolved) = s.division_with_code(&admin, "Support", "Resolved").await;
    let legacy = s.code(&admin, sales, "Legacy").await;
    admin.archive_code(legacy).await.unwrap();
    let id = s.finalized(&admin, sales).await;

    let r = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        &body(Uuid::new_v4(), 1000),
    )
    .await;
    assert_eq!(codes_of(&r), ["wrapup.code.not.found"]);

    let r = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        &body(resolved, 1000),
    )
    .await;
    let e = error_of(&r);
    assert_eq!(e.code, ErrorCode::WrapupCodeDivisionMismatch);
    assert!(
        e.message.contains("Support") && e.message.contains("Sales"),
        "{}",
        e.message
    );
    assert!(e.message.contains(&support.to_string()) && e.message.contains(&sales.to_string()));

    let r = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        &body(legacy, 1000),
    )
    .await;
    assert_eq!(codes_of(&r), ["wrapup.code.archived"]);
    assert_eq!(admin.get_interaction(id).await.unwrap().wrap_up, None);
}

/// A code's name sent where its id goes: the refusal gives the id of the code of that name
/// in the interaction's division, and the dry run's corrected body uses it.
#[tokio::test]
async fn a_code_name_in_place_of_its_id_is_answered_with_the_id() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
    s.division_with_code(&admin, "Support", "Resolved").await;
    let id = s.finalized(&admin, sales).await;
    let name_body = serde_json::json!({"codeId": "sale", "durationMs": 1000});
    let r = put_raw(
        &admin,
        &id.to_string(),
        "application/json",
        name_body.to_string().as_bytes(),
    )
    .await;
    let e = error_of(&r);
    assert_eq!(codes_of(&r), ["wrapup.code.invalid"]);
    let hint = e.details[0].hint.clone().unwrap_or_default();
    assert!(
        hint.contains("\"Sale\"") && hint.contains(&format!("\"codeId\": \"{sale}\"")),
        "{hint}"
    );
    let verdict = admin.validate_wrapup(id, &name_body).await.unwrap();
    assert_eq!(verdict.details[0].hint.as_deref(), Some(hint.as_str()));
    let fix = verdict.suggestion.expect("a corrected body");
    assert_eq!(
        fix.body,
        serde_json::json!({"codeId": sale, "durationMs": 1000})
    );

    // A name no code of the interaction's division has keeps the general hint.
    for name in ["Resolved", "Nothing"] {
        let r = put_raw(
            &admin,
            &id.to_string(),
            "application/json",
            serde_json::json!({"codeId": name, "durationMs": 1000})
                .to_string()
                .as_bytes(),
        )
        .await;
        let hint = error_of(&r).details[0].hint.clone().unwrap_or_default();
        assert!(hint.contains("list codes with GET"), "{name}: {hint}");
    }
    assert_eq!(admin.get_interaction(id).await.unwrap().wrap_up, None);
}

#[tokio::test]
async fn check_order_and_all_problems_together() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let viewer = s.client("interaction:view", DivisionGrant::All).await;
    let (div, code) = s.division_with_code(&admin, "Sales", "Sale").await;
    let active = s.interaction(&admin, div, &[TargetState::Active]).await;
    let random = Uuid::new_v4().to_string();

    // 1. Scope before existence.
    let r = put_raw(&viewer, &random, "text/plain", b"x").await;
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (403, vec!["authorization.missing.scope".to_string()])
    );
    assert!(error_of(&r).message.contains("interaction:write"));
    // 2. Existence before the media type.
    let r = put_raw(&admin, &random, "text/plain", b"x").await;
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (404, vec!["interaction.not.found".to_string()])
    );
    let r = put_raw(&admin, "not-a-uuid", "application/json", b"{}").await;
    assert_eq!(codes_of(&r), ["interaction.not.found"]);
    // 3. Media type, size, JSON: each stops the request.
    let r = put_raw(&admin, &active.to_string(), "text/plain", b"{}").await;
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (415, vec!["request.media.unsupported".to_string()])
    );
    let big = format!("{{\"notes\": \"{}\"}}", "x".repeat(70_000));
    let r = put_raw(
        &admin,
        &active.to_string(),
        "application/json",
        big.as_bytes(),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (413, vec!["request.body.too.large".to_string()])
    );
    let r = put_raw(
        &admin,
        &active.to_string(),
        "application/json",
        b"{\n \"codeId\": \n}",
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (400, vec!["request.body.malformed".to_string()])
    );
    assert!(
        error_of(&r).message.contains("line 3"),
        "{}",
        error_of(&r).message
    );
    // 4-6. Every field problem, then the state, then the code, all in one answer.
    let nested = json!({"wrapUpCode": {"id": code}}).to_string();
    let r = put_raw(
        &admin,
        &active.to_string(),
        "application/json",
        nested.as_bytes(),
    )
    .await;
    assert_eq!(
        codes_of(&r),
        [
            "request.field.unknown",
            "wrapup.code.missing",
            "wrapup.duration.missing",
            "interaction.not.closed"
        ]
    );
    let e = error_of(&r);
    assert_eq!(e.code, ErrorCode::RequestFieldUnknown);
    assert_eq!(e.message, e.details[0].message);
    assert!(e.details[0]
        .hint
        .as_deref()
        .unwrap()
        .contains(&format!("\"codeId\": \"{code}\"")));

    let legacy = s.code(&admin, div, "Legacy").await;
    admin.archive_code(legacy).await.unwrap();
    let mixed = json!({"codeId": legacy, "durationMs": 0, "notes": null}).to_string();
    let r = put_raw(
        &admin,
        &active.to_string(),
        "application/json",
        mixed.as_bytes(),
    )
    .await;
    assert_eq!(
        codes_of(&r),
        [
            "wrapup.duration.invalid",
            "request.field.null",
            "interaction.not.closed",
            "wrapup.code.archived"
        ]
    );
    // A codeId step 4 refused (a UUID without its hyphens) is not looked up at step 6: the
    // answer is the one problem with it, not also a verdict on the code it might name.
    let (_elsewhere, other) = s.division_with_code(&admin, "Support", "Resolved").await;
    for sent in [other, code, Uuid::new_v4()] {
        let simple = json!({"codeId": sent.simple().to_string(), "durationMs": 1000}).to_string();
        let finalized = s.finalized(&admin, div).await;
        let r = put_raw(
            &admin,
            &finalized.to_string(),
            "application/json",
            simple.as_bytes(),
        )
        .await;
        assert_eq!(codes_of(&r), ["wrapup.code.invalid"], "{simple}");
    }
    // Nothing changed.
    let i = admin.get_interaction(active).await.unwrap();
    assert_eq!((i.version, i.wrap_up), (2, None));
}

#[tokio::test]
async fn field_problems_each_have_their_code() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let (div, code) = s.division_with_code(&admin, "Sales", "Sale").await;
    let id = s.finalized(&admin, div).await.to_string();
    let cases = [
        (
            json!({"codeId": code, "durationMs": 1, "code_id": code}),
            "request.field.unknown",
            "codeId",
        ),
        (json!({"durationMs": 1000}), "wrapup.code.missing", "codeId"),
        (
            json!({"codeId": "7", "durationMs": 1000}),
            "wrapup.code.invalid",
            "codeId",
        ),
        (
            json!({"codeId": code}),
            "wrapup.duration.missing",
            "durationMs",
        ),
        (
            json!({"codeId": code, "durationMs": 1.5}),
            "wrapup.duration.invalid",
            "durationMs",
        ),
        (
            json!({"codeId": code, "durationMs": 86_400_001}),
            "wrapup.duration.invalid",
            "durationMs",
        ),
        (
            json!({"codeId": code, "durationMs": 10, "notes": "n".repeat(1025)}),
            "wrapup.notes.invalid",
            "notes",
        ),
        (
            json!({"codeId": code, "durationMs": 10, "notes": null}),
            "request.field.null",
            "notes",
        ),
        (
            json!({"codeId": code, "duration": 10}),
            "request.field.unknown",
            "durationMs",
        ),
    ];
    for (value, expected, hint_mentions) in cases {
        let r = put_raw(
            &admin,
            &id,
            "application/json",
            value.to_string().as_bytes(),
        )
        .await;
        assert_eq!(r.status, 400, "{value}");
        let e = error_of(&r);
        assert_eq!(e.code.as_str(), expected, "{value}");
        let d = &e.details[0];
        assert!(d.field_name.is_some(), "{value}");
        let text = format!("{} {}", d.message, d.hint.clone().unwrap_or_default());
        assert!(text.contains(hint_mentions), "{value}: {text}");
    }
    // A duration with a zero fraction is accepted.
    let ok = put_raw(
        &admin,
        &id,
        "application/json; charset=utf-8",
        json!({"codeId": code, "durationMs": 120000.0})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(ok.status, 204);
}

#[tokio::test]
async fn concurrent_puts_leave_one_consistent_wrapup() {
    let s = TestServer::start().await;
    let admin = std::sync::Arc::new(s.admin().await);
    let div = s.division(&admin, "Sales").await;
    let mut codes = Vec::new();
    for n in 0..64 {
        codes.push(s.code(&admin, div, &format!("Code {n}")).await);
    }
    let id = s.finalized(&admin, div).await;
    let before = admin.get_interaction(id).await.unwrap().version;
    let tasks: Vec<_> = codes
        .iter()
        .map(|code| {
            let (admin, code) = (admin.clone(), *code);
            tokio::spawn(async move {
                admin
                    .put_wrapup(
                        id,
                        &WrapUpRequest {
                            code_id: code,
                            duration_ms: 1000,
                            notes: None,
                        },
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let after = admin.get_interaction(id).await.unwrap();
    let history = admin.wrapup_history(id).await.unwrap();
    assert_eq!(history.len(), 64, "every PUT was a real change");
    assert_eq!(
        after.version,
        before + 64,
        "the version counts every change"
    );
    assert_eq!(
        after.wrap_up.as_ref().unwrap().code_id,
        history.last().unwrap().code_id,
        "the current wrap-up is the last applied"
    );
    let mut seen: Vec<Uuid> = history.iter().map(|w| w.code_id).collect();
    seen.sort();
    let mut expected = codes.clone();
    expected.sort();
    assert_eq!(seen, expected);
    // Events: one wrap-up event per change, each with its own version.
    let events = s.store.events_after(0, 10_000).await.unwrap();
    let versions: Vec<i64> = events
        .iter()
        .filter(|e| e.interaction.id == id && e.kind == wrapup_types::EventKind::WrapUp)
        .map(|e| e.interaction.version)
        .collect();
    assert_eq!(versions, ((before + 1)..=(before + 64)).collect::<Vec<_>>());
}

#[tokio::test]
async fn method_and_path_errors() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let r = admin
        .raw(Method::DELETE, "/api/v2/interactions", &[], None)
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (405, vec!["request.method.unsupported".to_string()])
    );
    assert!(r.headers["allow"].to_str().unwrap().contains("POST"));
    let r = admin
        .raw(Method::GET, "/api/v2/nothing/here", &[], None)
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (404, vec!["request.path.unknown".to_string()])
    );
}

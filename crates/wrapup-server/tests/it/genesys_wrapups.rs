//! A wrap-up in the Genesys dialect (docs/genesys.md#wrap-ups): the same wrap-up as
//! wrapup's own `PUT` (history, event, reads of both dialects), the duration derived when it
//! is not sent, what the SDKs send without a body, and every refusal, each a Genesys
//! `ErrorBody` that keeps wrapup's diagnosis and hint.

use std::sync::Arc;

use crate::genesys_support::*;
use reqwest::Method;
use serde_json::json;
use wrapup_server::testkit::*;
use wrapup_store::EventRecord;
use wrapup_types::{Channel, DivisionGrant, EventKind, TargetState, WrapUp, WrapUpRequest};

/// The events received so far (each write is answered only once its events are published).
/// The events received until each of `ids` has its `interaction.wrapup` event, then any
/// already queued behind them (the store's feed is asynchronous on PostgreSQL: an event
/// committed before the response may reach subscribers just after it).
async fn received(
    rx: &mut tokio::sync::broadcast::Receiver<Arc<EventRecord>>,
    ids: &[uuid::Uuid],
) -> Vec<Arc<EventRecord>> {
    let mut events = Vec::new();
    let all_seen =
        |events: &[Arc<EventRecord>]| ids.iter().all(|id| !wrapups_of(events, *id).is_empty());
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !all_seen(&events) {
            events.push(rx.recv().await.expect("the store's event feed"));
        }
    })
    .await
    .expect("the wrap-up events arrive");
    events.extend(std::iter::from_fn(|| rx.try_recv().ok()));
    events
}

/// The wrap-ups of the `interaction.wrapup` events about `id` among `events`.
fn wrapups_of(events: &[Arc<EventRecord>], id: uuid::Uuid) -> Vec<WrapUp> {
    events
        .iter()
        .filter(|e| e.interaction.id == id && e.kind == EventKind::WrapUp)
        .map(|e| e.interaction.wrap_up.clone().unwrap())
        .collect()
}

/// Everything of a wrap-up but when it was applied.
fn essence(
    w: &WrapUp,
) -> (
    uuid::Uuid,
    String,
    u32,
    Option<String>,
    uuid::Uuid,
    Vec<String>,
    bool,
) {
    (
        w.code_id,
        w.code_name.clone(),
        w.duration_ms,
        w.notes.clone(),
        w.applied_by,
        w.tags.clone(),
        w.provisional,
    )
}

#[tokio::test]
async fn a_wrapup_through_either_dialect_is_the_same_wrapup() {
    let w = World::new().await;
    let native = w.finalized(Channel::Voice).await;
    let genesys = w.finalized(Channel::Voice).await;
    let mut rx = w.s.store.subscribe();

    w.admin
        .put_wrapup(
            native,
            &WrapUpRequest {
                code_id: w.sale,
                duration_ms: 90_000,
                notes: Some("n".into()),
            },
        )
        .await
        .unwrap();
    let input = json!({"code": w.sale, "durationSeconds": 90, "notes": "n"});
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("calls", genesys),
        Some(&input.to_string()),
    )
    .await;
    assert_eq!((raw.status.as_u16(), raw.body.len()), (204, 0));

    // The same history, the same event, the same interaction.
    let events = received(&mut rx, &[native, genesys]).await;
    let (a, b) = (wrapups_of(&events, native), wrapups_of(&events, genesys));
    assert_eq!(
        (a.len(), b.len()),
        (1, 1),
        "one interaction.wrapup event each"
    );
    assert_eq!(essence(&a[0]), essence(&b[0]));
    let (ha, hb) = (
        w.admin.wrapup_history(native).await.unwrap(),
        w.admin.wrapup_history(genesys).await.unwrap(),
    );
    assert_eq!((ha.len(), hb.len()), (1, 1));
    assert_eq!(essence(&ha[0]), essence(&hb[0]));
    assert_eq!(hb[0], b[0], "history and event agree");
    let (ia, ib) = (
        w.admin.get_interaction(native).await.unwrap(),
        w.admin.get_interaction(genesys).await.unwrap(),
    );
    assert_eq!((ia.state, ia.version), (ib.state, ib.version));

    // Both dialects read both wrap-ups identically.
    for id in [native, genesys] {
        let assigned = get_ok(
            &w.admin,
            &format!(
                "/api/v2/conversations/{id}/participants/{}/wrapup",
                ids(id).agent
            ),
        )
        .await;
        let applied = w.admin.get_wrapup(id).await.unwrap();
        assert_eq!(assigned["code"], json!(applied.code_id));
        assert_eq!(assigned["durationSeconds"], 90);
        assert_eq!(assigned["notes"], "n");
        assert_eq!(
            assigned["endTime"],
            wrapup_types::timestamp::format(applied.applied_at)
        );
    }

    // Tags and the provisional flag are stored, returned by wrapup's own read, and kept in
    // the history.
    let input = json!({"code": w.callback, "durationSeconds": 90, "tags": ["vip", "upsell"], "provisional": true});
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("calls", genesys),
        Some(&input.to_string()),
    )
    .await;
    assert_eq!(raw.status, 204);
    let applied = w.admin.get_wrapup(genesys).await.unwrap();
    assert_eq!(
        (
            applied.tags.clone(),
            applied.provisional,
            applied.code_name.as_str()
        ),
        (vec!["vip".to_string(), "upsell".into()], true, "Callback")
    );
    let raw = call(
        &w.admin,
        Method::GET,
        &format!("/api/v2/interactions/{genesys}/wrap-up"),
        None,
    )
    .await;
    let native_body: serde_json::Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(
        (&native_body["tags"], &native_body["provisional"]),
        (&json!(["vip", "upsell"]), &json!(true))
    );
    let history = w.admin.wrapup_history(genesys).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1], applied);
    assert_eq!(
        wrapups_of(&received(&mut rx, &[genesys]).await, genesys),
        vec![applied]
    );
    // wrapup's own wrap-up shows neither when there are none.
    let raw = call(
        &w.admin,
        Method::GET,
        &format!("/api/v2/interactions/{native}/wrap-up"),
        None,
    )
    .await;
    let native_body: serde_json::Value = serde_json::from_slice(&raw.body).unwrap();
    assert!(
        native_body.get("tags").is_none() && native_body.get("provisional").is_none(),
        "{native_body}"
    );
}

#[tokio::test]
async fn without_duration_seconds_the_duration_runs_from_the_close_and_a_repeat_changes_nothing() {
    let w = World::new().await;
    let id = w
        .interaction(
            w.sales,
            Channel::Message,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    let closed_at = w
        .admin
        .get_interaction(id)
        .await
        .unwrap()
        .closed_at
        .unwrap();
    w.s.clock.advance(SETTLE_MS);
    w.s.finalize_now().await;
    w.s.clock.advance(40_000);
    let mut rx = w.s.store.subscribe();
    let input = json!({"code": w.sale, "notes": "n"}).to_string();
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("messages", id),
        Some(&input),
    )
    .await;
    assert_eq!(raw.status, 204);
    let applied = w.admin.get_wrapup(id).await.unwrap();
    assert_eq!(
        u64::from(applied.duration_ms),
        SETTLE_MS as u64 + 40_000,
        "from the close to now"
    );
    assert_eq!(
        wrapup_types::timestamp::to_millis(applied.applied_at)
            - wrapup_types::timestamp::to_millis(closed_at),
        i64::from(applied.duration_ms)
    );
    let version = w.admin.get_interaction(id).await.unwrap().version;

    // The same input again, later: nothing changes (no history, no event, no version).
    w.s.clock.advance(60_000);
    for (method, path, body) in [
        (Method::POST, wrapup_path("messages", id), input.clone()),
        (
            Method::PATCH,
            format!("/api/v2/conversations/{id}/participants/{}", ids(id).agent),
            json!({"wrapup": {"code": w.sale, "notes": "n"}}).to_string(),
        ),
        (
            Method::PATCH,
            format!(
                "/api/v2/conversations/messages/{id}/participants/{}",
                ids(id).agent
            ),
            json!({"wrapup": {"code": w.sale, "notes": "n", "name": "whatever the UI showed"}})
                .to_string(),
        ),
    ] {
        let raw = call(&w.admin, method.clone(), &path, Some(&body)).await;
        assert!(
            raw.status == 204 || raw.status == 202,
            "{method} {path}: {}",
            raw.status
        );
    }
    assert_eq!(w.admin.get_wrapup(id).await.unwrap(), applied);
    assert_eq!(w.admin.wrapup_history(id).await.unwrap().len(), 1);
    assert_eq!(w.admin.get_interaction(id).await.unwrap().version, version);
    assert_eq!(wrapups_of(&received(&mut rx, &[id]).await, id).len(), 1);

    // endTime derives the duration, in every spelling the SDKs send; one before the close
    // is the shortest duration.
    let close_ms = wrapup_types::timestamp::to_millis(closed_at);
    let iso = |ms: i64| wrapup_types::timestamp::format(wrapup_types::timestamp::from_millis(ms));
    for (end_time, expected_ms) in [
        (iso(close_ms + 30_000), 30_000),
        (iso(close_ms + 31_000).replace('Z', "+00:00"), 31_000),
        (
            iso(close_ms + 32_000).trim_end_matches('Z').to_string(),
            32_000,
        ),
        (iso(close_ms - 5_000), 1),
    ] {
        let body = json!({"code": w.sale, "endTime": end_time}).to_string();
        let raw = call(
            &w.admin,
            Method::POST,
            &wrapup_path("messages", id),
            Some(&body),
        )
        .await;
        assert_eq!(
            raw.status,
            204,
            "{end_time}: {}",
            String::from_utf8_lossy(&raw.body)
        );
        assert_eq!(
            w.admin.get_wrapup(id).await.unwrap().duration_ms,
            expected_ms,
            "{end_time}"
        );
    }
}

#[tokio::test]
async fn every_refusal_keeps_wrapups_diagnosis_in_a_genesys_error_body() {
    let w = World::new().await;
    let active = w
        .interaction(w.sales, Channel::Voice, &[TargetState::Active])
        .await;
    let closing = w
        .interaction(
            w.sales,
            Channel::Voice,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    let ready = w
        .interaction(
            w.sales,
            Channel::Voice,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    w.s.clock.advance(SETTLE_MS);
    w.s.finalize_now().await;
    let closing_now = w
        .interaction(
            w.sales,
            Channel::Voice,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    let archived = w.s.code(&w.admin, w.sales, "Old").await;
    w.admin.archive_code(archived).await.unwrap();
    let _ = closing;
    let post = |id, body: serde_json::Value| (wrapup_path("calls", id), body.to_string());

    // The state: still connected; closed but not finalized (Retry-After, a 400: the
    // Python SDK retries only 413, 429 and 503).
    let (path, body) = post(active, json!({"code": w.sale}));
    let raw = call(&w.admin, Method::POST, &path, Some(&body)).await;
    let e = genesys_error(&raw, 400, "interaction.not.closed");
    assert!(
        e["message"].as_str().unwrap().contains("closed") && e["messageParams"]["hint"].is_string(),
        "{e}"
    );
    let (path, body) = post(closing_now, json!({"code": w.sale}));
    let raw = call(&w.admin, Method::POST, &path, Some(&body)).await;
    genesys_error(&raw, 400, "interaction.not.finalized");
    assert_eq!(raw.headers["retry-after"], "2");

    // The code: another division's (naming it, fieldName code), unknown, archived.
    for (code, expected, says) in [
        (w.resolved, "wrapup.code.division.mismatch", "Support"),
        (
            uuid::Uuid::new_v4(),
            "wrapup.code.not.found",
            "No wrap-up code",
        ),
        (archived, "wrapup.code.archived", "archived"),
    ] {
        let (path, body) = post(ready, json!({"code": code}));
        let raw = call(&w.admin, Method::POST, &path, Some(&body)).await;
        let e = genesys_error(&raw, 400, expected);
        assert!(e["message"].as_str().unwrap().contains(says), "{e}");
        assert_eq!(
            field_names(&e),
            ["code"],
            "the WrapupInput field, not codeId"
        );
    }

    // The body: what the SDKs send without one, and every field problem with the state and
    // code problems after them, in one answer.
    for body in ["", "null"] {
        let raw = call(
            &w.admin,
            Method::POST,
            &wrapup_path("calls", active),
            Some(body),
        )
        .await;
        let e = genesys_error(&raw, 400, "request.body.malformed");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("WrapupInput is required"),
            "{e}"
        );
    }
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("calls", active),
        Some(&json!({"codeId": w.resolved, "durationSeconds": 0}).to_string()),
    )
    .await;
    let e = genesys_error(&raw, 400, "request.field.unknown");
    assert_eq!(
        error_codes(&e),
        [
            "request.field.unknown",
            "wrapup.code.missing",
            "wrapup.duration.invalid",
            "interaction.not.closed"
        ]
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean code?"),
        "{e}"
    );
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("calls", ready),
        Some(&json!({"code": w.resolved, "notes": 3}).to_string()),
    )
    .await;
    let e = genesys_error(&raw, 400, "wrapup.notes.invalid");
    assert_eq!(
        error_codes(&e),
        ["wrapup.notes.invalid", "wrapup.code.division.mismatch"]
    );
    let raw = w
        .admin
        .raw(
            Method::POST,
            &wrapup_path("calls", ready),
            &[("content-type", "text/plain")],
            Some(b"x".to_vec()),
        )
        .await
        .unwrap();
    genesys_error(&raw, 415, "request.media.unsupported");

    // The path: the customer, another participant, another communication, another media.
    let ids = ids(ready);
    let customer = format!(
        "/api/v2/conversations/calls/{ready}/participants/{}/communications/{}/wrapup",
        ids.customer, ids.customer_communication
    );
    let body = json!({"code": w.sale}).to_string();
    let raw = call(&w.admin, Method::POST, &customer, Some(&body)).await;
    let e = genesys_error(&raw, 400, "participant.not.agent");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains(&ids.agent.to_string()),
        "{e}"
    );
    let raw = call(
        &w.admin,
        Method::PATCH,
        &format!(
            "/api/v2/conversations/{ready}/participants/{}",
            ids.customer
        ),
        Some(&json!({"wrapup": {"code": w.sale}}).to_string()),
    )
    .await;
    genesys_error(&raw, 400, "participant.not.agent");
    let crossed = format!(
        "/api/v2/conversations/calls/{ready}/participants/{}/communications/{}/wrapup",
        ids.agent, ids.customer_communication
    );
    genesys_error(
        &call(&w.admin, Method::POST, &crossed, Some(&body)).await,
        404,
        "communication.not.found",
    );
    let other = format!(
        "/api/v2/conversations/calls/{ready}/participants/{}/communications/{}/wrapup",
        uuid::Uuid::new_v4(),
        ids.agent_communication
    );
    genesys_error(
        &call(&w.admin, Method::POST, &other, Some(&body)).await,
        404,
        "participant.not.found",
    );
    genesys_error(
        &call(
            &w.admin,
            Method::POST,
            &wrapup_path("emails", ready),
            Some(&body),
        )
        .await,
        404,
        "conversation.media.mismatch",
    );

    // A participant request changes only the wrap-up.
    let patch = format!(
        "/api/v2/conversations/calls/{ready}/participants/{}",
        ids.agent
    );
    let raw = call(
        &w.admin,
        Method::PATCH,
        &patch,
        Some(&json!({"wrapup": {"code": w.sale}, "wrapupSkipped": true}).to_string()),
    )
    .await;
    let e = genesys_error(&raw, 400, "request.field.unsupported");
    assert_eq!(field_names(&e), ["wrapupSkipped"]);
    let raw = call(
        &w.admin,
        Method::PATCH,
        &patch,
        Some(&json!({"state": "disconnected"}).to_string()),
    )
    .await;
    let e = genesys_error(&raw, 400, "request.field.unsupported");
    assert_eq!(
        error_codes(&e),
        ["request.field.unsupported", "request.field.missing"]
    );

    // None of it changed anything.
    assert!(w
        .admin
        .get_interaction(ready)
        .await
        .unwrap()
        .wrap_up
        .is_none());
}

#[tokio::test]
async fn genesys_permissions_stand_for_scopes() {
    let w = World::new().await;
    let id = w.finalized(Channel::Voice).await;
    let body = json!({"code": w.sale}).to_string();

    // A token without the wrap-up permission: the 403 names it and the scope.
    let viewer = w
        .client(
            "conversation:communication:view routing:wrapupCode:view",
            DivisionGrant::All,
        )
        .await;
    let raw = call(
        &viewer,
        Method::POST,
        &wrapup_path("calls", id),
        Some(&body),
    )
    .await;
    let e = genesys_error(&raw, 403, "authorization.missing.scope");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("conversation:participant:wrapup")
            && message.contains("interaction:write"),
        "{message}"
    );
    get_ok(&viewer, &format!("/api/v2/conversations/{id}")).await;

    // A client created with Genesys permissions gets the scopes they stand for.
    let admin = &w.admin;
    let created = admin
        .create_client(&wrapup_types::CreateClient {
            name: "genesys-integration".into(),
            scopes: vec![
                "conversation:participant:wrapup".into(),
                "conversation:communication:view".into(),
                "routing:wrapupCode:add".into(),
            ],
            divisions: DivisionGrant::All,
        })
        .await
        .unwrap();
    assert_eq!(
        created.scopes,
        [
            "interaction:view",
            "interaction:write",
            "wrapup-code:manage"
        ]
    );
    let credentials = || {
        wrapup_client::Client::new(&w.s.url)
            .with_credentials(&created.client_id.to_string(), &created.client_secret)
    };
    let wrapper = credentials();
    // …and may ask for a token by permission name too.
    let narrow = credentials()
        .with_scope("conversation:participant:wrapup")
        .fetch_token()
        .await
        .unwrap();
    assert_eq!(narrow.scope, "interaction:write");
    let raw = call(
        &wrapper,
        Method::POST,
        &wrapup_path("calls", id),
        Some(&body),
    )
    .await;
    assert_eq!(raw.status, 204, "{}", String::from_utf8_lossy(&raw.body));
    let e = admin
        .create_client(&wrapup_types::CreateClient {
            name: "x".into(),
            scopes: vec!["routing:wrapupCode:*".into()],
            divisions: DivisionGrant::All,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(wrapup_types::ErrorCode::RequestFieldInvalid));
}

/// What a subscriber of wrapup's event stream (`GET /api/v2/interactions/events`) sees of a
/// wrap-up is the same whichever dialect made it.
#[tokio::test]
async fn the_event_stream_shows_both_dialects_wrapups_alike() {
    let w = World::new().await;
    let native = w.finalized(Channel::Chat).await;
    let genesys = w.finalized(Channel::Chat).await;
    let mut stream = w
        .admin
        .events(&wrapup_client::EventQuery {
            interactions: vec![native, genesys],
            ..Default::default()
        })
        .await
        .unwrap();
    w.admin
        .put_wrapup(
            native,
            &WrapUpRequest {
                code_id: w.sale,
                duration_ms: 30_000,
                notes: None,
            },
        )
        .await
        .unwrap();
    let patch = format!(
        "/api/v2/conversations/messages/{genesys}/participants/{}",
        ids(genesys).agent
    );
    let raw = call(
        &w.admin,
        Method::PATCH,
        &patch,
        Some(&json!({"wrapup": {"code": w.sale, "durationSeconds": 30}}).to_string()),
    )
    .await;
    assert_eq!(raw.status, 202);
    let mut seen = std::collections::HashMap::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while seen.len() < 2 {
            if let wrapup_client::StreamEvent::Interaction {
                kind: EventKind::WrapUp,
                interaction,
                ..
            } = stream.next().await.unwrap().unwrap()
            {
                seen.insert(interaction.id, interaction);
            }
        }
    })
    .await
    .expect("both wrap-up events arrive");
    let (a, b) = (&seen[&native], &seen[&genesys]);
    assert_eq!(
        essence(a.wrap_up.as_ref().unwrap()),
        essence(b.wrap_up.as_ref().unwrap())
    );
    assert_eq!(
        (a.state, a.version, a.channel),
        (b.state, b.version, b.channel)
    );
}

/// Every dialect's wrap-ups count in the wrap-up activity (the console's figure), as
/// wrapup's own PUT does: an accepted one and a refused one through the Genesys dialect.
#[tokio::test]
async fn genesys_wrapups_count_in_the_wrapup_activity() {
    let w = World::new().await;
    let id = w.finalized(Channel::Voice).await;
    let before = w.admin.wrapup_activity().await.unwrap();

    let accepted = json!({"code": w.sale}).to_string();
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("calls", id),
        Some(&accepted),
    )
    .await;
    assert_eq!(raw.status, 204);
    // A code of another division: refused, about an interaction the caller sees.
    let refused = json!({"code": w.resolved}).to_string();
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("calls", id),
        Some(&refused),
    )
    .await;
    assert_eq!(raw.status, 400);
    // An unknown conversation: not counted.
    let unknown = uuid::Uuid::new_v4();
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("calls", unknown),
        Some(&accepted),
    )
    .await;
    assert_eq!(raw.status, 404);

    let after = w.admin.wrapup_activity().await.unwrap();
    assert_eq!(
        (
            after.accepted - before.accepted,
            after.refused - before.refused
        ),
        (1, 1)
    );
}

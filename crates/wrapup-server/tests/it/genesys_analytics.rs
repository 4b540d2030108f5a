//! The analytics queries of the Genesys dialect (docs/genesys.md#analytics): details paged
//! and filtered, one conversation's details, aggregates by code with exact `tAcw` sums (the
//! clock is driven), division isolation, and what is not computed refused by name.

use crate::genesys_support::*;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wrapup_server::Clock;
use wrapup_types::timestamp::{format, from_millis};
use wrapup_types::{Channel, DivisionGrant, TargetState, WrapUpRequest};

const DETAILS: &str = "/api/v2/analytics/conversations/details/query";
const AGGREGATES: &str = "/api/v2/analytics/conversations/aggregates/query";

async fn post(client: &wrapup_client::Client, path: &str, body: &Value) -> (u16, Value) {
    let raw = call(client, Method::POST, path, Some(&body.to_string())).await;
    let value: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_no_null(&value, path);
    (raw.status.as_u16(), value)
}

/// Closed, finalized and wrapped up with `code` `acw_ms` after the close.
async fn wrapped(w: &World, division: Uuid, code: Uuid, acw_ms: i64) -> Uuid {
    let id = w
        .interaction(division, Channel::Voice, &[TargetState::Active])
        .await;
    w.s.clock.advance(1_000);
    w.admin.set_state(id, TargetState::Closed).await.unwrap();
    w.s.clock.advance(acw_ms);
    w.s.finalize_now().await;
    w.admin
        .put_wrapup(
            id,
            &WrapUpRequest {
                code_id: code,
                duration_ms: 1_000,
                notes: Some("n".into()),
            },
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn details_and_aggregates_of_wrapped_up_conversations() {
    let w = World::new().await;
    let start = w.s.clock.now_ms();
    let mut sales = Vec::new();
    for (n, acw) in [2_000, 3_000, 4_000, 5_000, 6_000].into_iter().enumerate() {
        let code = if n % 2 == 0 { w.sale } else { w.callback };
        sales.push((wrapped(&w, w.sales, code, acw).await, code, acw));
    }
    let support = wrapped(&w, w.support, w.resolved, 7_000).await;
    let interval = format!(
        "{}/{}",
        format(from_millis(start)),
        format(from_millis(w.s.clock.now_ms() + 1))
    );

    // Paged: 6 in all, two pages of 4 and 2, in start order.
    let (status, page1) = post(
        &w.admin,
        DETAILS,
        &json!({"interval": interval, "paging": {"pageSize": 4, "pageNumber": 1}}),
    )
    .await;
    assert_eq!(status, 200, "{page1}");
    assert_eq!(page1["totalHits"], 6);
    assert_eq!(page1["conversations"].as_array().unwrap().len(), 4);
    let (_, page2) = post(
        &w.admin,
        DETAILS,
        &json!({"interval": interval, "paging": {"pageSize": 4, "pageNumber": 2}}),
    )
    .await;
    let mut seen: Vec<String> = page1["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["conversations"].as_array().unwrap())
        .map(|c| c["conversationId"].as_str().unwrap().to_string())
        .collect();
    let mut want: Vec<String> = sales.iter().map(|s| s.0.to_string()).collect();
    want.push(support.to_string());
    assert_eq!(seen, want, "by conversationStart");
    seen.sort();

    // One conversation's segments, as the query and the single read show it.
    let (id, code, acw) = sales[0];
    let one = get_ok(
        &w.admin,
        &format!("/api/v2/analytics/conversations/{id}/details"),
    )
    .await;
    assert_eq!(one, page1["conversations"][0]);
    let agent = &one["participants"][1];
    assert_eq!(agent["purpose"], "agent");
    let segments = agent["sessions"][0]["segments"].as_array().unwrap();
    let kinds: Vec<&str> = segments
        .iter()
        .map(|s| s["segmentType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["alert", "interact", "wrapup"]);
    assert_eq!(segments[2]["wrapUpCode"], code.to_string());
    assert_eq!(segments[2]["wrapUpNote"], "n");
    let metrics = agent["sessions"][0]["metrics"].as_array().unwrap();
    let tacw = metrics.iter().find(|m| m["name"] == "tAcw").unwrap();
    assert_eq!(tacw["value"], acw);

    // A wrapUpCode segment filter selects exactly that code's conversations.
    let (_, filtered) = post(
        &w.admin,
        DETAILS,
        &json!({"interval": interval, "segmentFilters": [{"type": "and", "predicates": [
            {"type": "dimension", "dimension": "wrapUpCode", "operator": "matches", "value": w.callback.to_string()}]}]}),
    )
    .await;
    let got: Vec<&str> = filtered["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversationId"].as_str().unwrap())
        .collect();
    let callbacks: Vec<String> = sales
        .iter()
        .filter(|s| s.1 == w.callback)
        .map(|s| s.0.to_string())
        .collect();
    assert_eq!(got, callbacks);
    assert_eq!(filtered["totalHits"], 2);

    // Aggregates by code: counts and tAcw sums exactly.
    let (status, agg) = post(
        &w.admin,
        AGGREGATES,
        &json!({"interval": interval, "granularity": "P1D", "timeZone": "UTC",
            "groupBy": ["wrapUpCode"], "metrics": ["tAcw", "nConnected"]}),
    )
    .await;
    assert_eq!(status, 200, "{agg}");
    let stats = |code: Uuid| -> (u64, f64) {
        let group = agg["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"]["wrapUpCode"] == code.to_string())
            .unwrap();
        let m = &group["data"][0]["metrics"][0];
        assert_eq!(m["metric"], "tAcw");
        (
            m["stats"]["count"].as_u64().unwrap(),
            m["stats"]["sum"].as_f64().unwrap(),
        )
    };
    assert_eq!(stats(w.sale), (3, 12_000.0));
    assert_eq!(stats(w.callback), (2, 8_000.0));
    assert_eq!(stats(w.resolved), (1, 7_000.0));

    // Days of a time zone: Paris's day of 2026-03-29 has 23 hours (summer time), and each
    // bucket's interval is written in UTC; a zone that does not exist is refused by name.
    let (status, paris) = post(
        &w.admin,
        AGGREGATES,
        &json!({"interval": "2026-03-27T23:00:00.000Z/2026-03-30T22:00:00.000Z",
            "granularity": "P1D", "timeZone": "Europe/Paris",
            "groupBy": ["mediaType"], "metrics": ["nOffered"]}),
    )
    .await;
    assert_eq!(status, 200, "{paris}");
    let (status, nowhere) = post(
        &w.admin,
        AGGREGATES,
        &json!({"interval": interval, "granularity": "P1D", "timeZone": "Europe/Nowhere",
            "metrics": ["nOffered"]}),
    )
    .await;
    assert_eq!(status, 400, "{nowhere}");
    assert!(nowhere.to_string().contains("Europe/Nowhere"), "{nowhere}");

    // A client of Support sees only Support; a divisionId filter on Sales answers as one on a
    // division that does not exist.
    let viewer = w
        .client(
            "analytics:conversationDetail:view analytics:conversationAggregate:view",
            DivisionGrant::Only(vec![w.support]),
        )
        .await;
    let (_, mine) = post(&viewer, DETAILS, &json!({"interval": interval})).await;
    assert_eq!(mine["totalHits"], 1);
    assert_eq!(
        mine["conversations"][0]["conversationId"],
        support.to_string()
    );
    let by_division = |d: Uuid| {
        json!({"interval": interval, "conversationFilters": [{"type": "and", "predicates": [
            {"dimension": "divisionId", "value": d.to_string()}]}]})
    };
    let (_, hidden) = post(&viewer, DETAILS, &by_division(w.sales)).await;
    let (_, nowhere) = post(&viewer, DETAILS, &by_division(Uuid::new_v4())).await;
    assert_eq!(hidden, nowhere);
    assert_eq!(hidden, json!({"totalHits": 0}));
    let (_, agg) = post(
        &viewer,
        AGGREGATES,
        &json!({"interval": interval, "groupBy": ["divisionId"], "metrics": ["nOffered"]}),
    )
    .await;
    assert_eq!(agg["results"].as_array().map(Vec::len), Some(1), "{agg}");
    assert_eq!(
        agg["results"][0]["group"]["divisionId"],
        w.support.to_string()
    );
    let raw = call(
        &viewer,
        Method::GET,
        &format!("/api/v2/analytics/conversations/{id}/details"),
        None,
    )
    .await;
    genesys_error(&raw, 404, "interaction.not.found");
}

#[tokio::test]
async fn what_is_not_computed_is_refused_by_name() {
    let w = World::new().await;
    let day = "2026-12-01T00:00:00Z/2026-12-02T00:00:00Z";
    let refused = |raw: wrapup_client::RawResponse, status: u16, code: &str| {
        genesys_error(&raw, status, code)
    };
    let raw = call(
        &w.admin,
        Method::POST,
        AGGREGATES,
        Some(
            &json!({"interval": day, "metrics": ["tAcw", "nBlindTransferred"], "groupBy": ["ani"]})
                .to_string(),
        ),
    )
    .await;
    let body = refused(raw, 400, "request.field.unsupported");
    assert_eq!(field_names(&body), ["groupBy[0]", "metrics[1]"]);
    let hints: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["hint"].as_str().unwrap())
        .collect();
    assert!(
        hints[0].contains("wrapUpCode") && hints[1].contains("tAcw"),
        "{body}"
    );
    let raw = call(
        &w.admin,
        Method::POST,
        DETAILS,
        Some(&json!({"interval": day, "paging": {"pageSize": 500}}).to_string()),
    )
    .await;
    assert_eq!(
        field_names(&refused(raw, 400, "request.field.invalid")),
        ["paging.pageSize"]
    );
    let raw = call(
        &w.admin,
        Method::POST,
        DETAILS,
        Some(&json!({"interval": "yesterday"}).to_string()),
    )
    .await;
    assert_eq!(
        field_names(&refused(raw, 400, "request.field.invalid")),
        ["interval"]
    );
    // Without the permission (its scope): 403 naming it.
    let codes_only = w.client("wrapup-code:view", DivisionGrant::All).await;
    let raw = call(
        &codes_only,
        Method::POST,
        DETAILS,
        Some(&json!({"interval": day}).to_string()),
    )
    .await;
    let body = refused(raw, 403, "authorization.missing.scope");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("analytics:conversationDetail:view"),
        "{body}"
    );
}

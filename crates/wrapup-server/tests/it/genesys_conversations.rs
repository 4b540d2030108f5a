//! The Genesys dialect's conversation reads (docs/genesys.md): the shapes the SDK models
//! expect, the state mapping through the whole lifecycle, stable ids, media segments, the
//! wrap-up reads, the codes a participant may use, and division isolation.

use crate::genesys_support::*;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wrapup_types::{Channel, DivisionGrant, TargetState, WrapUpRequest};

fn agent_of(conversation: &Value) -> &Value {
    &conversation["participants"][1]
}

#[tokio::test]
async fn a_call_through_its_lifecycle_as_the_sdks_read_it() {
    let w = World::new().await;
    let id = w.interaction(w.sales, Channel::Voice, &[]).await;
    let ids = ids(id);
    let path = format!("/api/v2/conversations/{id}");

    // Queued: the agent is alerted, nothing has ended.
    let c = get_ok(&w.admin, &path).await;
    assert_eq!(c["id"], id.to_string());
    assert_eq!(c["selfUri"], path);
    assert!(c.get("endTime").is_none() && c.get("state").is_none());
    assert_eq!(c["divisions"][0]["division"]["id"], w.sales.to_string());
    assert_eq!(c["divisions"][0]["division"]["name"], "Sales");
    let (customer, agent) = (&c["participants"][0], agent_of(&c));
    assert_eq!(
        (customer["purpose"].as_str(), agent["purpose"].as_str()),
        (Some("customer"), Some("agent"))
    );
    assert_eq!(customer["id"], ids.customer.to_string());
    assert_eq!(agent["id"], ids.agent.to_string());
    assert_eq!(
        customer["calls"][0]["id"],
        ids.customer_communication.to_string()
    );
    assert_eq!(agent["calls"][0]["id"], ids.agent_communication.to_string());
    assert_eq!(agent["calls"][0]["state"], "alerting");
    assert_eq!(customer["calls"][0]["state"], "connected");
    assert_eq!(
        (
            agent["wrapupRequired"].as_bool(),
            agent["wrapupPrompt"].as_str()
        ),
        (Some(false), Some("mandatory"))
    );
    assert!(
        agent.get("connectedTime").is_none() && agent["calls"][0].get("afterCallWork").is_none()
    );
    for other in ["callbacks", "emails", "messages"] {
        assert!(
            agent.get(other).is_none(),
            "only the interaction's media: {other}"
        );
    }

    // Active: connected.
    w.admin.set_state(id, TargetState::Active).await.unwrap();
    let c = get_ok(&w.admin, &path).await;
    assert_eq!(agent_of(&c)["calls"][0]["state"], "connected");
    assert!(agent_of(&c)["calls"][0]["connectedTime"].is_string());

    // Closed, not finalized yet: disconnected, after-call work pending (Genesys has no
    // "settling" state).
    w.admin.set_state(id, TargetState::Closed).await.unwrap();
    let closing = get_ok(&w.admin, &path).await;
    let agent = agent_of(&closing);
    let call = &agent["calls"][0];
    assert_eq!(call["state"], "disconnected");
    assert_eq!(call["afterCallWork"]["state"], "pending");
    assert!(call["afterCallWork"].get("endTime").is_none());
    assert_eq!(agent["wrapupRequired"], true);
    assert_eq!(agent["startAcwTime"], closing["endTime"]);
    assert_eq!(call["afterCallWork"]["startTime"], closing["endTime"]);
    assert_eq!(
        closing["participants"][0]["calls"][0]["state"],
        "disconnected"
    );
    w.s.clock.advance(wrapup_server::testkit::SETTLE_MS);
    w.s.finalize_now().await;
    assert_eq!(
        get_ok(&w.admin, &path).await,
        closing,
        "finalized looks the same"
    );

    // Wrapped up: terminated, after-call work complete.
    w.admin
        .put_wrapup(
            id,
            &WrapUpRequest {
                code_id: w.sale,
                duration_ms: 119_600,
                notes: Some("n".into()),
            },
        )
        .await
        .unwrap();
    let done = get_ok(&w.admin, &path).await;
    let agent = agent_of(&done);
    let call = &agent["calls"][0];
    assert_eq!(call["state"], "terminated");
    assert_eq!(call["afterCallWork"]["state"], "complete");
    assert_eq!(call["afterCallWork"]["endTime"], agent["endAcwTime"]);
    let wrapup = json!({
        "code": w.sale.to_string(), "name": "Sale", "notes": "n", "durationSeconds": 120,
        "endTime": agent["endAcwTime"], "provisional": false
    });
    assert_eq!(agent["wrapup"], wrapup);
    assert_eq!(call["wrapup"], wrapup);

    // The ids are the same on every read.
    assert_eq!(agent["id"], ids.agent.to_string());
    assert_eq!(call["id"], ids.agent_communication.to_string());

    // The media view: the state on each participant, no communications.
    let view = get_ok(&w.admin, &format!("/api/v2/conversations/calls/{id}")).await;
    assert_eq!(view["selfUri"], format!("/api/v2/conversations/calls/{id}"));
    assert_eq!(view["participants"][1]["state"], "terminated");
    assert_eq!(view["participants"][1]["wrapup"], wrapup);
    assert_eq!(view["participants"][0]["state"], "disconnected");
    assert!(view["participants"][1].get("calls").is_none() && view.get("startTime").is_none());
}

#[tokio::test]
async fn each_channel_has_its_media_and_email_and_message_never_terminate() {
    let w = World::new().await;
    for (channel, segment, done) in [
        (Channel::Voice, "calls", "terminated"),
        (Channel::Callback, "callbacks", "terminated"),
        (Channel::Email, "emails", "disconnected"),
        (Channel::Chat, "messages", "disconnected"),
        (Channel::Message, "messages", "disconnected"),
    ] {
        let id = w.finalized(channel).await;
        w.admin
            .put_wrapup(
                id,
                &WrapUpRequest {
                    code_id: w.sale,
                    duration_ms: 1_000,
                    notes: None,
                },
            )
            .await
            .unwrap();
        let c = get_ok(&w.admin, &format!("/api/v2/conversations/{id}")).await;
        let comm = &agent_of(&c)[segment][0];
        assert_eq!(
            (
                comm["state"].as_str(),
                comm["afterCallWork"]["state"].as_str()
            ),
            (Some(done), Some("complete"))
        );
        get_ok(&w.admin, &format!("/api/v2/conversations/{segment}/{id}")).await;
        let wrong = if segment == "calls" {
            "emails"
        } else {
            "calls"
        };
        let raw = call(
            &w.admin,
            Method::GET,
            &format!("/api/v2/conversations/{wrong}/{id}"),
            None,
        )
        .await;
        let body = genesys_error(&raw, 404, "conversation.media.mismatch");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains(&format!("/api/v2/conversations/{segment}/{id}")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_wrapup_reads() {
    let w = World::new().await;
    let id = w.finalized(Channel::Email).await;
    let ids = ids(id);
    let base = format!("/api/v2/conversations/{id}/participants/{}", ids.agent);
    let media = format!(
        "/api/v2/conversations/emails/{id}/participants/{}",
        ids.agent
    );
    let communication = format!("{media}/communications/{}/wrapup", ids.agent_communication);
    for path in [
        format!("{base}/wrapup"),
        format!("{media}/wrapup"),
        communication.clone(),
    ] {
        let raw = call(&w.admin, Method::GET, &path, None).await;
        let body = genesys_error(&raw, 404, "wrapup.not.found");
        assert!(
            body["message"].as_str().unwrap().contains("no wrap-up yet"),
            "{body}"
        );
    }
    let input = json!({"code": w.sale, "notes": "n", "tags": ["upsell"], "durationSeconds": 60, "provisional": true});
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("emails", id),
        Some(&input.to_string()),
    )
    .await;
    assert_eq!(raw.status, 204, "{}", String::from_utf8_lossy(&raw.body));
    let assigned = get_ok(&w.admin, &format!("{base}/wrapup")).await;
    assert_eq!(
        (
            &assigned["code"],
            &assigned["notes"],
            &assigned["tags"],
            &assigned["durationSeconds"]
        ),
        (&json!(w.sale), &json!("n"), &json!(["upsell"]), &json!(60))
    );
    assert!(
        assigned.get("name").is_none(),
        "AssignedWrapupCode has no name"
    );
    assert_eq!(get_ok(&w.admin, &format!("{media}/wrapup")).await, assigned);
    assert_eq!(get_ok(&w.admin, &communication).await, assigned);
    assert_eq!(
        get_ok(&w.admin, &format!("{base}/wrapup?provisional=true")).await,
        assigned
    );
    let raw = call(
        &w.admin,
        Method::GET,
        &format!("{base}/wrapup?provisional=false"),
        None,
    )
    .await;
    assert!(genesys_error(&raw, 404, "wrapup.not.found")["message"]
        .as_str()
        .unwrap()
        .contains("only a provisional"));
    // A provisional wrap-up leaves after-call work pending.
    let c = get_ok(&w.admin, &format!("/api/v2/conversations/{id}")).await;
    let comm = &agent_of(&c)["emails"][0];
    assert_eq!(
        (
            comm["afterCallWork"]["state"].as_str(),
            comm["wrapup"]["provisional"].as_bool()
        ),
        (Some("pending"), Some(true))
    );
    assert!(agent_of(&c).get("endAcwTime").is_none());

    // The final one completes it.
    let input = json!({"code": w.sale, "notes": "n", "tags": ["upsell"], "durationSeconds": 60});
    let raw = call(
        &w.admin,
        Method::POST,
        &wrapup_path("emails", id),
        Some(&input.to_string()),
    )
    .await;
    assert_eq!(raw.status, 204);
    assert_eq!(
        get_ok(&w.admin, &format!("{base}/wrapup?provisional=false")).await["code"],
        json!(w.sale)
    );
    let c = get_ok(&w.admin, &format!("/api/v2/conversations/{id}")).await;
    assert_eq!(
        agent_of(&c)["emails"][0]["afterCallWork"]["state"],
        "complete"
    );

    // The customer never has a wrap-up; a bad query is named.
    let customer = format!(
        "/api/v2/conversations/{id}/participants/{}/wrapup",
        ids.customer
    );
    let raw = call(&w.admin, Method::GET, &customer, None).await;
    assert!(genesys_error(&raw, 404, "wrapup.not.found")["message"]
        .as_str()
        .unwrap()
        .contains("customer"));
    for query in ["provisional=maybe", "colour=red"] {
        let raw = call(
            &w.admin,
            Method::GET,
            &format!("{base}/wrapup?{query}"),
            None,
        )
        .await;
        genesys_error(&raw, 400, "request.query.invalid");
    }
    // Unknown participant and communication.
    let raw = call(
        &w.admin,
        Method::GET,
        &format!(
            "/api/v2/conversations/{id}/participants/{}/wrapup",
            Uuid::new_v4()
        ),
        None,
    )
    .await;
    let body = genesys_error(&raw, 404, "participant.not.found");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains(&ids.agent.to_string()));
    let raw = call(
        &w.admin,
        Method::GET,
        &format!(
            "{media}/communications/{}/wrapup",
            ids.customer_communication
        ),
        None,
    )
    .await;
    let body = genesys_error(&raw, 404, "communication.not.found");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains(&ids.agent_communication.to_string()));
}

#[tokio::test]
async fn the_codes_a_participant_may_use() {
    let w = World::new().await;
    let legacy = w.s.code(&w.admin, w.sales, "Legacy").await;
    w.admin.archive_code(legacy).await.unwrap();
    let id = w.finalized(Channel::Voice).await;
    let ids = ids(id);
    for path in [
        format!(
            "/api/v2/conversations/{id}/participants/{}/wrapupcodes",
            ids.agent
        ),
        format!(
            "/api/v2/conversations/calls/{id}/participants/{}/wrapupcodes",
            ids.customer
        ),
    ] {
        let codes = get_ok(&w.admin, &path).await;
        let names: Vec<&str> = codes
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Callback", "Sale"],
            "the division's codes, not archived, by name"
        );
        assert_eq!(codes[0]["division"]["name"], "Sales");
        assert_eq!(
            codes[0]["selfUri"],
            format!("/api/v2/routing/wrapupcodes/{}", w.callback)
        );
    }
    // Reading codes needs wrapup-code:view, named as Genesys's permission.
    let viewer = w
        .client("conversation:communication:view", DivisionGrant::All)
        .await;
    let raw = call(
        &viewer,
        Method::GET,
        &format!(
            "/api/v2/conversations/{id}/participants/{}/wrapupcodes",
            ids.agent
        ),
        None,
    )
    .await;
    let body = genesys_error(&raw, 403, "authorization.missing.scope");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("routing:wrapupCode:view"),
        "{body}"
    );
}

/// A conversation in a division the token is not granted is answered exactly like an id
/// that was never used, on every operation.
#[tokio::test]
async fn a_conversation_the_token_cannot_see_is_a_random_id() {
    let w = World::new().await;
    let hidden = w
        .interaction(
            w.support,
            Channel::Voice,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;
    let random = Uuid::new_v4();
    let sales_only = w
        .client(
            "interaction:view interaction:write wrapup-code:view",
            DivisionGrant::Only(vec![w.sales]),
        )
        .await;
    let requests = |id: Uuid| {
        let ids = ids(id);
        vec![
            (Method::GET, format!("/api/v2/conversations/{id}"), None),
            (
                Method::GET,
                format!("/api/v2/conversations/calls/{id}"),
                None,
            ),
            (
                Method::GET,
                format!(
                    "/api/v2/conversations/{id}/participants/{}/wrapup",
                    ids.agent
                ),
                None,
            ),
            (
                Method::GET,
                format!(
                    "/api/v2/conversations/{id}/participants/{}/wrapupcodes",
                    ids.agent
                ),
                None,
            ),
            (
                Method::POST,
                wrapup_path("calls", id),
                Some(json!({"code": Uuid::nil()}).to_string()),
            ),
            (
                Method::PATCH,
                format!("/api/v2/conversations/{id}/participants/{}", ids.agent),
                Some("null".to_string()),
            ),
        ]
    };
    for ((method, hidden_path, body), (_, random_path, _)) in
        requests(hidden).into_iter().zip(requests(random))
    {
        let a = call(&sales_only, method.clone(), &hidden_path, body.as_deref()).await;
        let b = call(&sales_only, method.clone(), &random_path, body.as_deref()).await;
        let mut a = genesys_error(&a, 404, "interaction.not.found");
        let mut b = genesys_error(&b, 404, "interaction.not.found");
        for body in [&mut a, &mut b] {
            body["contextId"] = json!("x");
        }
        let a = a.to_string().replace(&hidden.to_string(), "ID");
        let b = b.to_string().replace(&random.to_string(), "ID");
        assert_eq!(a, b, "{method} {hidden_path}");
    }
    // The admin sees it.
    get_ok(&w.admin, &format!("/api/v2/conversations/{hidden}")).await;
    // An id that is not a UUID is a 404 too.
    let raw = call(
        &w.admin,
        Method::GET,
        "/api/v2/conversations/not-an-id",
        None,
    )
    .await;
    genesys_error(&raw, 404, "interaction.not.found");
}

#[test]
fn the_snippet_serve_demo_prints_is_the_one_docs_genesys_md_shows() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/genesys.md"
    ))
    .unwrap();
    let snippet = wrapup_server::demo::python_sdk_snippet("http://127.0.0.1:8080");
    assert!(
        docs.contains(&format!("```python\n{snippet}```")),
        "docs/genesys.md#a-first-run differs from demo::python_sdk_snippet:\n{snippet}"
    );
}

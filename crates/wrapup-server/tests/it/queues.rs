//! Queues, agents and after-call work through the API, in both dialects
//! (docs/api.md#queues-and-agents, docs/genesys.md#queues-agents-and-after-call-work): a
//! queue and its codes in Genesys's shapes, an interaction of a queue answered by an agent,
//! the queue's codes as the only ones, and each prompt: a skip, the timeout's system wrap-up
//! (through the timer, once, and after a restart that spans its deadline), a forced timeout.
//! With `WRAPUP_TEST_BACKEND=postgres` the same tests run on PostgreSQL.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wrapup_client::Client;
use wrapup_domain::genesys::ConversationIds;
use wrapup_server::testkit::*;
use wrapup_server::Clock;
use wrapup_types::{EventKind, Interaction, WrapupPrompt, TIMEOUT_CODE};

use crate::genesys_support::{call, get_ok};

const TIMEOUT_MS: i64 = 5_000;

struct Setup {
    s: TestServer,
    admin: Client,
    sales: Uuid,
    support: Uuid,
    sale: Uuid,
    no_sale: Uuid,
    resolved: Uuid,
    agent: Uuid,
}

async fn ok(client: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    let text = body.map(|b| b.to_string());
    let raw = call(client, method.clone(), path, text.as_deref()).await;
    assert!(
        raw.status.is_success(),
        "{method} {path}: {} {}",
        raw.status,
        String::from_utf8_lossy(&raw.body)
    );
    if raw.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&raw.body).unwrap()
    }
}

async fn refused(client: &Client, method: Method, path: &str, body: Value, status: u16) -> Value {
    let raw = call(client, method.clone(), path, Some(&body.to_string())).await;
    assert_eq!(
        raw.status.as_u16(),
        status,
        "{method} {path}: {}",
        String::from_utf8_lossy(&raw.body)
    );
    serde_json::from_slice(&raw.body).unwrap()
}

impl Setup {
    async fn new() -> Setup {
        Self::on(TestServer::start().await).await
    }

    async fn on(s: TestServer) -> Setup {
        let admin = s.admin().await;
        let (sales, sale) = s.division_with_code(&admin, "Sales", "Sale").await;
        let no_sale = s.code(&admin, sales, "No sale").await;
        let (support, resolved) = s.division_with_code(&admin, "Support", "Resolved").await;
        let user = ok(
            &admin,
            Method::POST,
            "/api/v2/users",
            Some(json!({"name": "Ada Agent", "email": "ada@example.com", "divisionId": sales})),
        )
        .await;
        Setup {
            agent: user["id"].as_str().unwrap().parse().unwrap(),
            s,
            admin,
            sales,
            support,
            sale,
            no_sale,
            resolved,
        }
    }

    /// A Sales queue with `settings` and the code Sale, created as the Python SDK does.
    async fn queue(&self, name: &str, settings: Value) -> Uuid {
        let q = ok(
            &self.admin,
            Method::POST,
            "/api/v2/routing/queues",
            Some(json!({"name": name, "division": {"id": self.sales}, "acwSettings": settings})),
        )
        .await;
        let id: Uuid = q["id"].as_str().unwrap().parse().unwrap();
        ok(
            &self.admin,
            Method::POST,
            &format!("/api/v2/routing/queues/{id}/wrapupcodes"),
            Some(json!([{"id": self.sale}])),
        )
        .await;
        id
    }

    /// An interaction of `queue`, answered by the agent, closed (and finalized once the
    /// settle time passes).
    async fn closed(&self, queue: Uuid) -> Interaction {
        let i = ok(
            &self.admin,
            Method::POST,
            "/api/v2/interactions",
            Some(json!({"divisionId": self.sales, "channel": "voice", "queueId": queue})),
        )
        .await;
        let id = i["id"].as_str().unwrap();
        let path = format!("/api/v2/interactions/{id}/state");
        ok(
            &self.admin,
            Method::POST,
            &path,
            Some(json!({"state": "active", "agentId": self.agent})),
        )
        .await;
        let closed = ok(
            &self.admin,
            Method::POST,
            &path,
            Some(json!({"state": "closed"})),
        )
        .await;
        serde_json::from_value(closed).unwrap()
    }

    async fn settle(&self) {
        self.s.clock.advance(SETTLE_MS);
        self.s.finalize_now().await;
    }

    async fn interaction(&self, id: Uuid) -> Interaction {
        self.admin.get_interaction(id).await.unwrap()
    }

    fn agent_path(&self, id: Uuid) -> String {
        let ids = ConversationIds::of(id);
        format!("/api/v2/conversations/{id}/participants/{}", ids.agent)
    }

    async fn agent_participant(&self, id: Uuid) -> Value {
        let c = get_ok(&self.admin, &format!("/api/v2/conversations/{id}")).await;
        c["participants"][1].clone()
    }
}

#[tokio::test]
async fn queues_and_their_codes_in_genesys_shapes() {
    let w = Setup::new().await;
    let q = w
        .queue(
            "Sales timeout",
            json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000}),
        )
        .await;
    let read = get_ok(&w.admin, &format!("/api/v2/routing/queues/{q}")).await;
    assert_eq!(
        read["acwSettings"],
        json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000})
    );
    assert_eq!(read["division"]["name"], "Sales");
    assert_eq!(read["selfUri"], format!("/api/v2/routing/queues/{q}"));

    let codes = get_ok(
        &w.admin,
        &format!("/api/v2/routing/queues/{q}/wrapupcodes?pageSize=1"),
    )
    .await;
    assert_eq!(
        (codes["total"].as_u64(), codes["entities"][0]["id"].as_str()),
        (Some(1), Some(w.sale.to_string().as_str()))
    );
    // A queue and its codes are in one division.
    let e = refused(
        &w.admin,
        Method::POST,
        &format!("/api/v2/routing/queues/{q}/wrapupcodes"),
        json!([{"id": w.no_sale}, {"id": w.resolved}]),
        400,
    )
    .await;
    assert_eq!(e["code"], "wrapup.code.division.mismatch");
    assert_eq!(e["details"][0]["fieldName"], "[1].id");
    let added = ok(
        &w.admin,
        Method::POST,
        &format!("/api/v2/routing/queues/{q}/wrapupcodes"),
        Some(json!([{"id": w.no_sale}])),
    )
    .await;
    assert_eq!(added[0]["name"], "No sale");
    ok(
        &w.admin,
        Method::DELETE,
        &format!("/api/v2/routing/queues/{q}/wrapupcodes/{}", w.no_sale),
        None,
    )
    .await;
    let raw = call(
        &w.admin,
        Method::DELETE,
        &format!("/api/v2/routing/queues/{q}/wrapupcodes/{}", w.no_sale),
        None,
    )
    .await;
    assert_eq!(raw.status.as_u16(), 404);

    // Settings are checked; names are unique.
    let e = refused(
        &w.admin,
        Method::POST,
        "/api/v2/routing/queues",
        json!({"name": "Other", "division": {"id": w.sales}, "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT"}}),
        400,
    )
    .await;
    assert_eq!(e["details"][0]["fieldName"], "acwSettings.timeoutMs");
    let e = refused(
        &w.admin,
        Method::POST,
        "/api/v2/routing/queues",
        json!({"name": "sales TIMEOUT", "divisionId": w.support}),
        409,
    )
    .await;
    assert_eq!(e["code"], "queue.name.conflict");

    let updated = ok(
        &w.admin,
        Method::PUT,
        &format!("/api/v2/routing/queues/{q}"),
        Some(json!({"name": "Sales optional", "acwSettings": {"wrapupPrompt": "OPTIONAL"}})),
    )
    .await;
    assert_eq!(updated["acwSettings"], json!({"wrapupPrompt": "OPTIONAL"}));
    let list = get_ok(&w.admin, "/api/v2/routing/queues?name=sales*").await;
    assert_eq!(list["total"], 1);
    // A viewer of Support only sees no Sales queue.
    let viewer =
        w.s.client(
            "wrapup-code:view",
            wrapup_types::DivisionGrant::Only(vec![w.support]),
        )
        .await;
    let raw = call(
        &viewer,
        Method::GET,
        &format!("/api/v2/routing/queues/{q}"),
        None,
    )
    .await;
    assert_eq!(raw.status.as_u16(), 404);
    ok(
        &w.admin,
        Method::DELETE,
        &format!("/api/v2/routing/queues/{q}"),
        None,
    )
    .await;
    let raw = call(
        &w.admin,
        Method::GET,
        &format!("/api/v2/routing/queues/{q}"),
        None,
    )
    .await;
    assert_eq!(raw.status.as_u16(), 404);

    let users = get_ok(&w.admin, "/api/v2/users").await;
    assert_eq!(users["entities"][0]["name"], "Ada Agent");
    assert_eq!(users["entities"][0]["state"], "active");
    let user = get_ok(&w.admin, &format!("/api/v2/users/{}", w.agent)).await;
    assert_eq!(user["email"], "ada@example.com");
}

#[tokio::test]
async fn a_queue_interaction_uses_only_the_queue_codes_in_both_dialects() {
    let w = Setup::new().await;
    let q = w.queue("Sales", json!({"wrapupPrompt": "MANDATORY"})).await;
    let i = w.closed(q).await;
    let r = i.routing.clone().unwrap();
    assert_eq!(
        (r.queue_id, r.agent_id, r.wrapup_prompt),
        (Some(q), Some(w.agent), Some(WrapupPrompt::Mandatory))
    );
    w.settle().await;

    let agent = w.agent_participant(i.id).await;
    assert_eq!(agent["userId"], w.agent.to_string());
    assert_eq!(agent["queueId"], q.to_string());
    assert_eq!(agent["name"], "Ada Agent");
    assert_eq!(agent["wrapupPrompt"], "mandatory");
    assert_eq!(agent["wrapupRequired"], true);
    let codes = get_ok(&w.admin, &format!("{}/wrapupcodes", w.agent_path(i.id))).await;
    let names: Vec<&str> = codes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Sale"], "the queue's codes, not the division's");

    let ids = ConversationIds::of(i.id);
    let post = format!(
        "/api/v2/conversations/calls/{}/participants/{}/communications/{}/wrapup",
        i.id, ids.agent, ids.agent_communication
    );
    let e = refused(
        &w.admin,
        Method::POST,
        &post,
        json!({"code": w.no_sale}),
        400,
    )
    .await;
    assert_eq!(e["code"], "wrapup.code.not.in.queue");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("queue \"Sales\"") && message.contains("Sale ("),
        "{message}"
    );
    let raw = put_raw(
        &w.admin,
        &i.id.to_string(),
        "application/json",
        json!({"codeId": w.no_sale, "durationMs": 1000})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(error_of(&raw).code.as_str(), "wrapup.code.not.in.queue");
    ok(&w.admin, Method::POST, &post, Some(json!({"code": w.sale}))).await;
    let done = w.interaction(i.id).await;
    assert!(done.routing.unwrap().after_call_work_ended_at.is_some());

    // Without a queue: the division's codes, and no routing, as before.
    let plain = w.s.finalized(&w.admin, w.sales).await;
    let read = w.interaction(plain).await;
    assert!(read.routing.is_none());
    let codes = get_ok(&w.admin, &format!("{}/wrapupcodes", w.agent_path(plain))).await;
    assert_eq!(codes.as_array().unwrap().len(), 2);
    let agent = w.agent_participant(plain).await;
    assert!(agent.get("userId").is_none() && agent.get("wrapupTimeoutMs").is_none());
    assert_eq!(agent["wrapupPrompt"], "mandatory");

    // The queue and agent must be visible and the queue of the interaction's division.
    let e = refused(
        &w.admin,
        Method::POST,
        "/api/v2/interactions",
        json!({"divisionId": w.support, "channel": "voice", "queueId": q}),
        400,
    )
    .await;
    assert_eq!(e["code"], "queue.not.found");
    let e = refused(
        &w.admin,
        Method::POST,
        "/api/v2/interactions",
        json!({"divisionId": w.sales, "channel": "voice", "agentId": Uuid::new_v4()}),
        400,
    )
    .await;
    assert_eq!(e["code"], "user.not.found");
}

#[tokio::test]
async fn an_optional_prompt_can_be_skipped_in_both_dialects() {
    let w = Setup::new().await;
    let optional = w
        .queue("Sales optional", json!({"wrapupPrompt": "OPTIONAL"}))
        .await;
    let mandatory = w.queue("Sales", json!({"wrapupPrompt": "MANDATORY"})).await;
    let (genesys, native, required) = (
        w.closed(optional).await,
        w.closed(optional).await,
        w.closed(mandatory).await,
    );
    let mut rx = w.s.store.subscribe();
    let agent = w.agent_participant(genesys.id).await;
    assert_eq!(
        (
            agent["wrapupPrompt"].as_str(),
            agent["wrapupRequired"].as_bool()
        ),
        (Some("optional"), Some(false))
    );
    // Not before it is finalized, as a wrap-up.
    let e = refused(
        &w.admin,
        Method::PATCH,
        &w.agent_path(genesys.id),
        json!({"wrapupSkipped": true}),
        400,
    )
    .await;
    assert_eq!(e["code"], "interaction.not.finalized");
    w.settle().await;

    ok(
        &w.admin,
        Method::PATCH,
        &w.agent_path(genesys.id),
        Some(json!({"wrapupSkipped": true})),
    )
    .await;
    TestServer::wait_for_event(&mut rx, genesys.id, EventKind::WrapUpSkipped).await;
    let agent = w.agent_participant(genesys.id).await;
    assert_eq!(agent["wrapupSkipped"], true);
    assert_eq!(agent["calls"][0]["afterCallWork"]["state"], "skipped");
    assert_eq!(agent["calls"][0]["state"], "terminated");
    assert!(agent.get("wrapup").is_none());

    let skipped = ok(
        &w.admin,
        Method::POST,
        &format!("/api/v2/interactions/{}/wrap-up/skip", native.id),
        None,
    )
    .await;
    assert_eq!(skipped["state"], "completed");
    assert_eq!(skipped["routing"]["wrapupSkipped"], true);
    assert!(skipped.get("wrapUp").is_none());
    let history = w.admin.wrapup_history(native.id).await.unwrap();
    assert!(history.is_empty(), "a skip is not a wrap-up");

    let e = refused(
        &w.admin,
        Method::PATCH,
        &w.agent_path(required.id),
        json!({"wrapupSkipped": true}),
        400,
    )
    .await;
    assert_eq!(e["code"], "wrapup.skip.not.allowed");
    let raw = call(
        &w.admin,
        Method::POST,
        &format!("/api/v2/interactions/{}/wrap-up/skip", required.id),
        None,
    )
    .await;
    assert_eq!(error_of(&raw).code.as_str(), "wrapup.skip.not.allowed");
}

/// The timer applies `ININ-WRAP-UP-TIMEOUT` when the timeout passes: seen in both dialects,
/// the history and the event stream.
#[tokio::test]
async fn a_timeout_prompt_gets_the_system_wrapup_when_nobody_sets_one() {
    let w = Setup::new().await;
    let q = w
        .queue(
            "Sales timeout",
            json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": TIMEOUT_MS}),
        )
        .await;
    let i = w.closed(q).await;
    let due = i.routing.as_ref().unwrap().wrapup_due_at.unwrap();
    assert_eq!(
        due,
        i.closed_at.unwrap() + time::Duration::milliseconds(TIMEOUT_MS)
    );
    let agent = w.agent_participant(i.id).await;
    assert_eq!(
        (
            agent["wrapupPrompt"].as_str(),
            agent["wrapupTimeoutMs"].as_i64()
        ),
        (Some("timeout"), Some(TIMEOUT_MS))
    );
    let mut rx = w.s.store.subscribe();
    w.s.clock.advance(TIMEOUT_MS);
    TestServer::wait_for_event(&mut rx, i.id, EventKind::WrapUp).await;

    let read = w.interaction(i.id).await;
    let wrap_up = read.wrap_up.unwrap();
    assert!(wrap_up.system && wrap_up.code_name == TIMEOUT_CODE && wrap_up.code_id.is_nil());
    let genesys = get_ok(&w.admin, &format!("{}/wrapup", w.agent_path(i.id))).await;
    assert_eq!(genesys["code"], TIMEOUT_CODE);
    let agent = w.agent_participant(i.id).await;
    assert_eq!(agent["wrapup"]["code"], TIMEOUT_CODE);
    assert_eq!(agent["calls"][0]["afterCallWork"]["state"], "complete");
    let history = w.admin.wrapup_history(i.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].system && history[0].applied_by.is_nil());
    // Once: nothing is due any more.
    assert!(w
        .s
        .store
        .time_out_due(w.s.clock.now_ms() + 60_000)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_forced_timeout_keeps_after_call_work_open_until_it() {
    let w = Setup::new().await;
    let q = w
        .queue(
            "Sales forced",
            json!({"wrapupPrompt": "MANDATORY_FORCED_TIMEOUT", "timeoutMs": TIMEOUT_MS}),
        )
        .await;
    let i = w.closed(q).await;
    w.settle().await;
    let ids = ConversationIds::of(i.id);
    let post = format!(
        "/api/v2/conversations/calls/{}/participants/{}/communications/{}/wrapup",
        i.id, ids.agent, ids.agent_communication
    );
    ok(&w.admin, Method::POST, &post, Some(json!({"code": w.sale}))).await;
    let agent = w.agent_participant(i.id).await;
    assert_eq!(agent["wrapupPrompt"], "forcedTimeout");
    assert_eq!(agent["calls"][0]["afterCallWork"]["state"], "pending");
    assert_eq!(agent["calls"][0]["state"], "disconnected");
    let mut rx = w.s.store.subscribe();
    w.s.clock.advance(TIMEOUT_MS);
    TestServer::wait_for_event(&mut rx, i.id, EventKind::AcwEnded).await;
    let agent = w.agent_participant(i.id).await;
    assert_eq!(agent["calls"][0]["afterCallWork"]["state"], "complete");
    assert_eq!(
        agent["wrapup"]["code"],
        w.sale.to_string(),
        "the agent's code stays"
    );
}

/// A server down across the deadline applies the timeout when it starts again.
#[tokio::test]
async fn a_timeout_that_passed_while_the_server_was_down_is_applied_at_start_up() {
    let w = Setup::new().await;
    let q = w
        .queue(
            "Sales timeout",
            json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": TIMEOUT_MS}),
        )
        .await;
    let i = w.closed(q).await;
    let (db, clock) = (w.s.db.clone(), w.s.clock.clone());
    w.s.store.close().await;
    drop(w);
    clock.advance(TIMEOUT_MS * 10);
    let s = TestServer::builder()
        .database(db)
        .clock(clock)
        .start()
        .await;
    let store: Arc<dyn wrapup_store::Store> = s.store.clone();
    let rec = eventually(
        "the timeout's wrap-up",
        std::time::Duration::from_secs(10),
        || async {
            store
                .get_interaction(i.id)
                .await
                .unwrap()
                .filter(|r| r.interaction.wrap_up.is_some())
        },
    )
    .await;
    assert!(rec.interaction.wrap_up.unwrap().system);
    assert_eq!(store.wrapup_history(i.id).await.unwrap().len(), 1);
}

/// Webhooks carry the timeout's system wrap-up (`interaction.wrapup`, `wrapUp.system`) and a
/// skip (`interaction.wrapup.skipped`), as the event stream does.
#[tokio::test]
async fn webhooks_carry_the_timeout_wrapup_and_the_skip() {
    use wrapup_server::testkit::receiver::WebhookReceiver;
    use wrapup_server::{Config, TargetPolicy, WebhookConfig};
    let s = TestServer::builder()
        .config(Config {
            settle_ms: SETTLE_MS,
            webhooks: WebhookConfig {
                targets: TargetPolicy::AllowPrivate,
                ..WebhookConfig::default()
            },
            ..Config::default()
        })
        .start()
        .await;
    let w = Setup::on(s).await;
    let receiver = WebhookReceiver::start().await;
    w.admin
        .create_webhook(&wrapup_types::CreateWebhook {
            url: receiver.url.clone(),
            event_types: Some(vec![EventKind::WrapUp, EventKind::WrapUpSkipped]),
            divisions: None,
            description: None,
            enabled: None,
        })
        .await
        .unwrap();
    let timed = w
        .queue(
            "Sales timeout",
            json!({"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": TIMEOUT_MS}),
        )
        .await;
    let optional = w
        .queue("Sales optional", json!({"wrapupPrompt": "OPTIONAL"}))
        .await;
    let (late, skipper) = (w.closed(timed).await, w.closed(optional).await);
    w.settle().await;
    ok(
        &w.admin,
        Method::PATCH,
        &w.agent_path(skipper.id),
        Some(json!({"wrapupSkipped": true})),
    )
    .await;
    w.s.clock.advance(TIMEOUT_MS);
    let got = receiver.wait_for(2).await;
    let by_type = |t: &str| {
        got.iter()
            .find(|r| r.event_type() == t)
            .unwrap_or_else(|| panic!("no {t}"))
    };
    let skipped = by_type("interaction.wrapup.skipped");
    assert_eq!(skipped.payload["data"]["id"], skipper.id.to_string());
    assert_eq!(skipped.payload["data"]["routing"]["wrapupSkipped"], true);
    let timeout = by_type("interaction.wrapup");
    assert_eq!(timeout.payload["data"]["id"], late.id.to_string());
    assert_eq!(timeout.payload["data"]["wrapUp"]["system"], true);
    assert_eq!(timeout.payload["data"]["wrapUp"]["codeName"], TIMEOUT_CODE);
}

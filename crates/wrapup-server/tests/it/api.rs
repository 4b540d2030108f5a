//! The rest of the API: lifecycle, codes, divisions, lists, request ids, operations, and
//! the failure codes (timeouts, an unavailable store, a panic).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;
use wrapup_client::InteractionQuery;
use wrapup_server::testkit::*;
use wrapup_server::{App, Clock, Config, ManualClock};
use wrapup_store::*;
use wrapup_types::*;

#[tokio::test]
async fn lifecycle_moves() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let div = s.division(&admin, "Sales").await;
    let created = admin.create_interaction(div, Channel::Chat).await.unwrap();
    assert_eq!(
        (created.state, created.version, created.finalized),
        (InteractionState::Queued, 1, false)
    );
    let active = admin
        .set_state(created.id, TargetState::Active)
        .await
        .unwrap();
    assert_eq!(
        (active.state, active.version),
        (InteractionState::Active, 2)
    );
    assert!(active.active_at.is_some());
    let e = admin
        .set_state(created.id, TargetState::Active)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::InteractionTransitionInvalid));
    let wrapup_client::Error::Api { status, body, .. } = e else {
        panic!()
    };
    assert_eq!(status, 409);
    assert!(
        body.message.contains("is active") && body.message.contains("closed"),
        "{}",
        body.message
    );
    let closed = admin
        .set_state(created.id, TargetState::Closed)
        .await
        .unwrap();
    assert_eq!(
        (closed.state, closed.finalized, closed.version),
        (InteractionState::Closed, false, 3)
    );
    let e = admin
        .set_state(created.id, TargetState::Active)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no further state changes"), "{e}");
    // Abandoned: queued → closed.
    let abandoned = s.interaction(&admin, div, &[TargetState::Closed]).await;
    assert_eq!(
        admin.get_interaction(abandoned).await.unwrap().state,
        InteractionState::Closed
    );
    // Bad bodies name the field.
    let r = admin
        .raw(
            Method::POST,
            &format!("/api/v2/interactions/{abandoned}/state"),
            &[("content-type", "application/json")],
            Some(br#"{"state":"done"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(
        (codes_of(&r), error_of(&r).details[0].field_name.clone()),
        (
            vec!["request.field.invalid".to_string()],
            Some("state".to_string())
        )
    );
    let r = admin
        .raw(
            Method::POST,
            "/api/v2/interactions",
            &[("content-type", "application/json")],
            Some(br#"{"channel":"voice"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(codes_of(&r), ["request.field.missing"]);
    let r = admin
        .raw(
            Method::POST,
            "/api/v2/interactions",
            &[("content-type", "application/json")],
            Some(
                json!({"divisionId": div, "channel": "voice", "x": 1})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(codes_of(&r), ["request.field.unknown"]);
    let r = admin
        .raw(
            Method::POST,
            "/api/v2/interactions",
            &[("content-type", "application/json")],
            Some(
                json!({"divisionId": null, "channel": "voice"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(codes_of(&r), ["request.field.null"]);
    let e = admin
        .create_interaction(Uuid::new_v4(), Channel::Voice)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::DivisionNotFound));
}

#[tokio::test]
async fn finalization_timer_fires_and_survives_restarts() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let div = s.division(&admin, "Sales").await;
    let mut events = s.store.subscribe();
    let id = s
        .interaction(&admin, div, &[TargetState::Active, TargetState::Closed])
        .await;
    s.clock.advance(SETTLE_MS);
    TestServer::wait_for_event(&mut events, id, EventKind::Finalized).await;
    let i = admin.get_interaction(id).await.unwrap();
    assert!(i.finalized);
    assert_eq!(
        i.finalized_at.map(timestamp::to_millis),
        Some(START_MS + SETTLE_MS)
    );

    // Closed, then the server goes down; the settle time passes while it is down.
    let pending = s
        .interaction(&admin, div, &[TargetState::Active, TargetState::Closed])
        .await;
    let (db, clock) = (s.db.clone(), s.clock.clone());
    drop(admin);
    drop(s);
    clock.advance(10 * SETTLE_MS);
    let s = TestServer::builder()
        .database(db)
        .clock(clock)
        .start()
        .await;
    let mut events = s.store.subscribe();
    let admin = s.admin().await;
    if !admin.get_interaction(pending).await.unwrap().finalized {
        TestServer::wait_for_event(&mut events, pending, EventKind::Finalized).await;
    }
    assert!(admin.get_interaction(pending).await.unwrap().finalized);
    // The log holds every change in order, with strictly increasing ids.
    let log = s.store.events_after(0, 1000).await.unwrap();
    let kinds: Vec<EventKind> = log
        .iter()
        .filter(|e| e.interaction.id == pending)
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::State,
            EventKind::State,
            EventKind::Finalized
        ]
    );
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn finalization_with_the_wall_clock() {
    let db = wrapup_store::testing::TestDb::from_env().await;
    let store = db.open(wrapup_store::EVENT_BUFFER).await;
    let clock: Arc<dyn Clock> = Arc::new(wrapup_server::SystemClock);
    let _app = App::start(
        store.clone(),
        clock.clone(),
        Config {
            settle_ms: 20,
            ..Config::default()
        },
    );
    let mut events = store.subscribe();
    store
        .create_division(Uuid::nil(), "D", clock.now_ms())
        .await
        .unwrap();
    let id = Uuid::new_v4();
    store
        .create_interaction(&NewInteraction {
            id,
            division_id: Uuid::nil(),
            channel: Channel::Voice,
            now_ms: clock.now_ms(),
            queue_id: None,
            agent_id: None,
        })
        .await
        .unwrap();
    let closed = store
        .set_state(id, InteractionState::Closed, clock.now_ms(), 20)
        .await
        .unwrap();
    TestServer::wait_for_event(&mut events, id, EventKind::Finalized).await;
    let due = closed.finalize_due_ms.unwrap();
    let done = store.get_interaction(id).await.unwrap().unwrap();
    assert!(timestamp::to_millis(done.interaction.finalized_at.unwrap()) >= due);
}

#[tokio::test]
async fn codes_and_divisions() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let div = s.division(&admin, "Sales").await;
    let e = admin.create_division("sales").await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::DivisionNameConflict));
    let sale = admin
        .create_code(&CreateWrapUpCode {
            name: "Sale".into(),
            division_id: div,
            description: Some("d".into()),
        })
        .await
        .unwrap();
    let e = admin
        .create_code(&CreateWrapUpCode {
            name: " SALE ".into(),
            division_id: div,
            description: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::WrapupCodeNameConflict));
    let e = admin
        .create_code(&CreateWrapUpCode {
            name: "".into(),
            division_id: div,
            description: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::RequestFieldInvalid));
    let e = admin
        .create_code(&CreateWrapUpCode {
            name: "X".into(),
            division_id: Uuid::new_v4(),
            description: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::DivisionNotFound));
    let renamed = admin
        .update_code(
            sale.id,
            &UpdateWrapUpCode {
                name: "Sale (new)".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_deref()),
        ("Sale (new)", None)
    );
    let other = s.code(&admin, div, "Other").await;
    let e = admin
        .update_code(
            other,
            &UpdateWrapUpCode {
                name: "sale (NEW)".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::WrapupCodeNameConflict));
    // DELETE answers 204 and the code is gone for reads (404, as for any unknown code) and
    // default listings; it stays archived: listed with includeArchived=true, refused in
    // wrap-ups as archived, named in history (docs/api.md, wrap-up codes).
    let r = admin
        .raw(
            Method::DELETE,
            &format!("/api/v2/routing/wrapupcodes/{}", sale.id),
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!((r.status.as_u16(), r.body.len()), (204, 0));
    let e = admin.get_code(sale.id).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::WrapupCodeNotFound));
    assert!(
        matches!(e, wrapup_client::Error::Api { status: 404, .. }),
        "{e}"
    );
    let e = admin.archive_code(sale.id).await.unwrap_err();
    assert_eq!(
        e.code(),
        Some(ErrorCode::WrapupCodeNotFound),
        "deleting twice"
    );
    let e = admin
        .update_code(
            sale.id,
            &UpdateWrapUpCode {
                name: "Sale again".into(),
                description: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::WrapupCodeNotFound));
    assert!(
        s.store
            .get_code(sale.id)
            .await
            .unwrap()
            .unwrap()
            .code
            .archived
    );
    let listed = admin.list_codes(&Default::default()).await.unwrap();
    assert_eq!(
        listed.entities.iter().map(|c| c.id).collect::<Vec<_>>(),
        [other]
    );
    let all = admin
        .list_codes(&wrapup_client::CodeQuery {
            include_archived: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.entities.len(), 2);
    let by_name = admin
        .list_codes(&wrapup_client::CodeQuery {
            name: Some("OTHER".into()),
            division_id: Some(div),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_name.entities.len(), 1);
    // The archived name can be used again.
    s.code(&admin, div, "Sale (new)").await;
    let r = admin
        .raw(Method::GET, "/api/v2/routing/wrapupcodes/nope", &[], None)
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (404, vec!["wrapup.code.not.found".to_string()])
    );
}

#[tokio::test]
async fn lists_are_paginated() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let div = s.division(&admin, "Sales").await;
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(s.interaction(&admin, div, &[]).await);
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = admin
            .list_interactions(&InteractionQuery {
                page_size: Some(3),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.entities.len() <= 3);
        seen.extend(page.entities.iter().map(|i| i.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    // Newest first, page by page.
    let mut newest = Vec::new();
    let mut cursor = None;
    let mut first_cursor = None;
    loop {
        let page = admin
            .list_interactions(&InteractionQuery {
                page_size: Some(3),
                sort_order: Some(SortOrder::Desc),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        newest.extend(page.entities.iter().map(|i| i.id));
        first_cursor = first_cursor.or(page.next_cursor.clone());
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(newest, ids.iter().rev().copied().collect::<Vec<_>>());
    // A cursor continues its own list's order, whatever sortOrder says (docs/api.md#pagination):
    // the second newest-first page, though asked for oldest first.
    let second = admin
        .list_interactions(&InteractionQuery {
            page_size: Some(3),
            sort_order: Some(SortOrder::Asc),
            cursor: first_cursor,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        second.entities.iter().map(|i| i.id).collect::<Vec<_>>(),
        newest[3..6]
    );
    let filtered = admin
        .list_interactions(&InteractionQuery {
            state: Some(InteractionState::Active),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(filtered.entities.is_empty());
    let filtered = admin
        .list_interactions(&InteractionQuery {
            wrapped_up: Some(false),
            division_id: Some(div),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(filtered.entities.len(), 7);
    for q in [
        "pageSize=0",
        "pageSize=501",
        "cursor=zzz",
        "pagesize=3",
        "state=done",
        "wrappedUp=maybe",
        "sortOrder=newest",
    ] {
        let r = admin
            .raw(Method::GET, &format!("/api/v2/interactions?{q}"), &[], None)
            .await
            .unwrap();
        assert_eq!(
            (r.status.as_u16(), codes_of(&r)),
            (400, vec!["request.query.invalid".to_string()]),
            "{q}"
        );
    }
}

#[tokio::test]
async fn request_ids_etags_and_health() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let div = s.division(&admin, "Sales").await;
    let id = s.interaction(&admin, div, &[TargetState::Active]).await;
    let r = admin
        .raw(
            Method::GET,
            &format!("/api/v2/interactions/{id}"),
            &[("x-request-id", "my-trace-42")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.headers["x-request-id"], "my-trace-42");
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = admin
        .raw(
            Method::GET,
            &format!("/api/v2/interactions/{}", Uuid::new_v4()),
            &[("x-request-id", "trace-7")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(error_of(&r).context_id, "trace-7");
    let long = "a".repeat(200);
    let r = admin
        .raw(
            Method::GET,
            "/api/v2/nope",
            &[("x-request-id", &long)],
            None,
        )
        .await
        .unwrap();
    let generated = r.headers["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(generated, long);
    assert_eq!(error_of(&r).context_id, generated);
    let r = admin.raw(Method::GET, "/healthz", &[], None).await.unwrap();
    assert_eq!(
        (r.status.as_u16(), r.body.as_slice()),
        (200, br#"{"status":"ok"}"#.as_slice())
    );
}

#[tokio::test]
async fn clients_over_http() {
    let s = TestServer::start().await;
    let admin = s.admin().await;
    let div = s.division(&admin, "Sales").await;
    let created = admin
        .create_client(&CreateClient {
            name: "crm".into(),
            scopes: vec!["interaction:view".into()],
            divisions: DivisionGrant::Only(vec![div]),
        })
        .await
        .unwrap();
    let crm = wrapup_client::Client::new(&s.url)
        .with_credentials(&created.client_id.to_string(), &created.client_secret);
    assert_eq!(crm.fetch_token().await.unwrap().scope, "interaction:view");
    let e = admin
        .create_client(&CreateClient {
            name: "x".into(),
            scopes: vec!["root".into()],
            divisions: DivisionGrant::All,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::RequestFieldInvalid));
    let e = admin
        .create_client(&CreateClient {
            name: "x".into(),
            scopes: vec![],
            divisions: DivisionGrant::Only(vec![Uuid::new_v4()]),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::DivisionNotFound));
}

/// A store whose database is gone: every call fails, reading an interaction panics, and
/// listing divisions never answers. (Webhook storage, which these tests do not use, is the
/// real one.)
struct BrokenStore(Arc<dyn Store>);

fn down<T>() -> wrapup_store::Result<T> {
    Err(StoreError::Database("disk I/O error".into()))
}

#[async_trait]
impl Store for BrokenStore {
    fn writer(&self) -> &wrapup_store::Writer {
        self.0.writer()
    }
    async fn health(&self) -> wrapup_store::Result<()> {
        down()
    }
    async fn create_division(&self, _: Uuid, _: &str, _: i64) -> wrapup_store::Result<Division> {
        down()
    }
    async fn get_division(&self, _: Uuid) -> wrapup_store::Result<Option<Division>> {
        down()
    }
    async fn list_divisions(
        &self,
        _: &DivisionGrant,
        _: PageRequest,
    ) -> wrapup_store::Result<Vec<(i64, Division)>> {
        std::future::pending().await
    }
    async fn search_divisions(
        &self,
        _: &DivisionGrant,
        _: &Search,
    ) -> wrapup_store::Result<Found<Division>> {
        std::future::pending().await
    }
    async fn search_codes(
        &self,
        _: &DivisionGrant,
        _: &CodeSearch,
    ) -> wrapup_store::Result<Found<CodeRecord>> {
        down()
    }
    async fn create_code(&self, _: &WrapUpCode) -> wrapup_store::Result<CodeRecord> {
        down()
    }
    async fn get_code(&self, _: Uuid) -> wrapup_store::Result<Option<CodeRecord>> {
        down()
    }
    async fn list_codes(
        &self,
        _: &DivisionGrant,
        _: &CodeFilter,
        _: PageRequest,
    ) -> wrapup_store::Result<Vec<CodeRecord>> {
        down()
    }
    async fn update_code(
        &self,
        _: Uuid,
        _: &str,
        _: Option<&str>,
        _: i64,
    ) -> wrapup_store::Result<CodeRecord> {
        down()
    }
    async fn archive_code(&self, _: Uuid, _: i64) -> wrapup_store::Result<CodeRecord> {
        down()
    }
    async fn create_interaction(
        &self,
        _: &NewInteraction,
    ) -> wrapup_store::Result<InteractionRecord> {
        down()
    }
    async fn get_interaction(&self, _: Uuid) -> wrapup_store::Result<Option<InteractionRecord>> {
        panic!("a bug")
    }
    async fn list_interactions(
        &self,
        _: &DivisionGrant,
        _: &InteractionFilter,
        _: PageRequest,
    ) -> wrapup_store::Result<Vec<InteractionRecord>> {
        down()
    }
    async fn count_interactions(&self, _: &DivisionGrant) -> wrapup_store::Result<Vec<StateCount>> {
        down()
    }
    async fn set_state(
        &self,
        _: Uuid,
        _: InteractionState,
        _: i64,
        _: i64,
    ) -> wrapup_store::Result<InteractionRecord> {
        down()
    }
    async fn apply_wrapup(&self, _: &ApplyWrapUp) -> wrapup_store::Result<WrapUpApplied> {
        down()
    }
    async fn apply_wrapups(
        &self,
        _: Vec<ApplyWrapUp>,
    ) -> wrapup_store::Result<Vec<wrapup_store::Result<WrapUpApplied>>> {
        down()
    }
    async fn wrapup_problems(
        &self,
        _: &InteractionRecord,
        _: Option<Uuid>,
        _: &DivisionGrant,
        _: i64,
    ) -> wrapup_store::Result<Vec<ErrorDetail>> {
        down()
    }
    async fn wrapup_history(&self, _: Uuid) -> wrapup_store::Result<Vec<WrapUp>> {
        down()
    }
    async fn finalize_due(&self, _: i64) -> wrapup_store::Result<Vec<InteractionRecord>> {
        Ok(vec![])
    }
    async fn next_finalize_due(&self) -> wrapup_store::Result<Option<i64>> {
        Ok(None)
    }
    async fn time_out_due(&self, _: i64) -> wrapup_store::Result<Vec<InteractionRecord>> {
        Ok(vec![])
    }
    async fn next_timeout_due(&self) -> wrapup_store::Result<Option<i64>> {
        Ok(None)
    }
    async fn get_queue(&self, _: Uuid) -> wrapup_store::Result<Option<QueueRecord>> {
        down()
    }
    async fn search_queues(
        &self,
        _: &DivisionGrant,
        _: &QueueSearch,
    ) -> wrapup_store::Result<Found<QueueRecord>> {
        down()
    }
    async fn get_user(&self, _: Uuid) -> wrapup_store::Result<Option<UserRecord>> {
        down()
    }
    async fn search_users(
        &self,
        _: &DivisionGrant,
        _: &Search,
    ) -> wrapup_store::Result<Found<UserRecord>> {
        down()
    }
    async fn create_client(&self, _: &ClientRecord) -> wrapup_store::Result<()> {
        down()
    }
    async fn get_client(&self, id: Uuid) -> wrapup_store::Result<Option<ClientRecord>> {
        self.0.get_client(id).await
    }
    async fn insert_token(&self, t: &TokenRecord) -> wrapup_store::Result<()> {
        self.0.insert_token(t).await
    }
    async fn get_token(&self, h: &[u8; 32]) -> wrapup_store::Result<Option<TokenRecord>> {
        self.0.get_token(h).await
    }
    async fn events_after(&self, _: i64, _: u32) -> wrapup_store::Result<Vec<EventRecord>> {
        down()
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<EventRecord>> {
        self.0.subscribe()
    }
    async fn event_bounds(&self) -> wrapup_store::Result<wrapup_store::EventBounds> {
        down()
    }
    async fn prune_events(&self, _: i64) -> wrapup_store::Result<u64> {
        down()
    }
    fn set_observer(&self, _: Arc<dyn wrapup_store::StoreObserver>) {}
    async fn seed_finalized(&self, _: Uuid, _: Vec<Uuid>, _: i64) -> wrapup_store::Result<u64> {
        down()
    }
    async fn get_meta(&self, _: &str) -> wrapup_store::Result<Option<String>> {
        down()
    }
    async fn set_meta(&self, _: &str, _: &str) -> wrapup_store::Result<()> {
        down()
    }
    fn webhooks(&self) -> &dyn wrapup_store::WebhookStore {
        self.0.webhooks()
    }
    fn notifications(&self) -> &dyn wrapup_store::NotificationStore {
        self.0.notifications()
    }
}

#[tokio::test]
async fn store_failures_are_503_and_bugs_are_500() {
    let s = TestServer::start().await;
    let (id, secret) = s.credentials("interaction:view", DivisionGrant::All).await;
    let broken: Arc<dyn Store> = Arc::new(BrokenStore(s.store.clone()));
    let app = App::start(
        broken,
        Arc::new(ManualClock::new(START_MS)),
        Config {
            request_timeout: Duration::from_millis(50),
            ..Config::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    // The token comes from the healthy server (the same store): the broken one's short
    // time limit must not race argon2 on a busy machine.
    let token = wrapup_client::Client::new(&s.url)
        .with_credentials(&id.to_string(), &secret)
        .bearer()
        .await
        .unwrap()
        .unwrap();
    let client = wrapup_client::Client::new(&url).with_token(&token);
    let r = client
        .raw(Method::GET, "/api/v2/interactions", &[], None)
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (503, vec!["service.unavailable".to_string()])
    );
    let r = client
        .raw(
            Method::GET,
            &format!("/api/v2/interactions/{}", Uuid::new_v4()),
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (500, vec!["internal.error".to_string()])
    );
    assert!(!error_of(&r).context_id.is_empty());
    let r = client
        .raw(Method::GET, "/healthz", &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 503);
    // A request that never completes is abandoned at the time limit.
    let r = client
        .raw(Method::GET, "/api/v2/authorization/divisions", &[], None)
        .await
        .unwrap();
    assert_eq!(
        (r.status.as_u16(), codes_of(&r)),
        (503, vec!["request.timeout".to_string()])
    );
}

//! `Client::doctor` names the exact problem of every failure class of a wrap-up
//! (docs/api.md#order-of-checks), agrees with what a PUT would meet, and changes nothing.

use std::time::Duration;

use uuid::Uuid;
use wrapup_client::{CheckStatus, Client, CodeRef, DoctorReport, DoctorRequest, RetryPolicy};
use wrapup_server::testkit::*;
use wrapup_types::{DivisionGrant, ErrorCode, TargetState, WrapUpRequest};

struct World {
    server: TestServer,
    admin: Client,
    sales: Uuid,
    support: Uuid,
    sale: Uuid,
    resolved: Uuid,
    archived: Uuid,
}

async fn world() -> World {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sales = server.division(&admin, "Sales").await;
    let support = server.division(&admin, "Support").await;
    let sale = server.code(&admin, sales, "Sale").await;
    let resolved = server.code(&admin, support, "Resolved").await;
    let archived = server.code(&admin, sales, "Legacy").await;
    admin.archive_code(archived).await.unwrap();
    World {
        server,
        admin,
        sales,
        support,
        sale,
        resolved,
        archived,
    }
}

fn request(id: Uuid, code: CodeRef, ms: u64) -> DoctorRequest {
    DoctorRequest {
        interaction_id: id,
        code,
        duration: Duration::from_millis(ms),
        notes: None,
    }
}

/// The first check that did not pass: its name, and the error code it names.
fn verdict(report: &DoctorReport) -> (&'static str, Option<ErrorCode>) {
    let check = report
        .first_failure()
        .unwrap_or_else(|| panic!("a check fails: {report:#?}"));
    assert_eq!(check.status, CheckStatus::Fail, "{check:?}");
    assert!(check.fix.is_some(), "a failed check says how to fix it");
    assert!(!report.ready);
    (check.name, check.code)
}

/// What the server answers the PUT the doctor examined.
async fn put_code(client: &Client, req: &DoctorRequest, code: Uuid) -> Option<ErrorCode> {
    client
        .put_wrapup(
            req.interaction_id,
            &WrapUpRequest {
                code_id: code,
                duration_ms: req.duration.as_millis() as u32,
                notes: req.notes.clone(),
            },
        )
        .await
        .err()
        .and_then(|e| e.code())
}

#[tokio::test]
async fn a_ready_wrapup_passes_every_check_and_nothing_changes() {
    let w = world().await;
    let id = w.server.finalized(&w.admin, w.sales).await;
    let before = w.admin.get_interaction(id).await.unwrap();
    let writes = || async {
        w.admin
            .inspected_requests(Some(1000), None, None)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.method != "GET" && r.path != "/oauth/token")
            .count()
    };
    let writes_before = writes().await;
    for code in [CodeRef::Id(w.sale), CodeRef::Name("sale".into())] {
        let report = w.admin.doctor(&request(id, code, 120_000)).await;
        assert!(report.ready, "{report:#?}");
        assert_eq!(report.checks.len(), 10);
        assert!(report.checks.iter().all(|c| c.status == CheckStatus::Pass));
    }
    let after = w.admin.get_interaction(id).await.unwrap();
    assert_eq!(before, after, "doctor changed nothing");
    assert_eq!(writes().await, writes_before, "doctor sent only reads");
}

#[tokio::test]
async fn each_failure_class_is_named_and_agrees_with_the_server() {
    let w = world().await;
    let finalized = w.server.finalized(&w.admin, w.sales).await;
    let active = w
        .server
        .interaction(&w.admin, w.sales, &[TargetState::Active])
        .await;
    let in_support = w.server.finalized(&w.admin, w.support).await;
    // Closed after the clock last moved, so not settled yet.
    let closed = w
        .server
        .interaction(
            &w.admin,
            w.sales,
            &[TargetState::Active, TargetState::Closed],
        )
        .await;

    let cases = [
        (
            "unknown interaction",
            request(Uuid::new_v4(), CodeRef::Id(w.sale), 1000),
            w.sale,
            "interaction visible",
            ErrorCode::InteractionNotFound,
        ),
        (
            "still active",
            request(active, CodeRef::Id(w.sale), 1000),
            w.sale,
            "interaction closed",
            ErrorCode::InteractionNotClosed,
        ),
        (
            "closed, not settled",
            request(closed, CodeRef::Id(w.sale), 1000),
            w.sale,
            "interaction finalized",
            ErrorCode::InteractionNotFinalized,
        ),
        (
            "unknown code",
            request(finalized, CodeRef::Id(Uuid::new_v4()), 1000),
            Uuid::new_v4(),
            "code exists",
            ErrorCode::WrapupCodeNotFound,
        ),
        (
            "archived code",
            request(finalized, CodeRef::Id(w.archived), 1000),
            w.archived,
            "code not archived",
            ErrorCode::WrapupCodeArchived,
        ),
        (
            "code of another division",
            request(finalized, CodeRef::Id(w.resolved), 1000),
            w.resolved,
            "code in the interaction's division",
            ErrorCode::WrapupCodeDivisionMismatch,
        ),
        (
            "code name of another division",
            request(finalized, CodeRef::Name("Resolved".into()), 1000),
            w.resolved,
            "code in the interaction's division",
            ErrorCode::WrapupCodeDivisionMismatch,
        ),
        (
            "zero duration",
            request(finalized, CodeRef::Id(w.sale), 0),
            w.sale,
            "payload valid",
            ErrorCode::WrapupDurationInvalid,
        ),
        (
            "a day and a millisecond",
            request(finalized, CodeRef::Id(w.sale), 86_400_001),
            w.sale,
            "payload valid",
            ErrorCode::WrapupDurationInvalid,
        ),
    ];
    for (what, req, put_with, check, code) in cases {
        let report = w.admin.doctor(&req).await;
        assert_eq!(verdict(&report), (check, Some(code)), "{what}: {report:#?}");
        assert!(!report.connectivity_failed());
        if code != ErrorCode::WrapupCodeNotFound || matches!(req.code, CodeRef::Id(_)) {
            assert_eq!(
                put_code(&w.admin, &req, put_with).await,
                Some(code),
                "{what}: the server agrees"
            );
        }
    }

    // Notes too long.
    let mut long = request(finalized, CodeRef::Id(w.sale), 1000);
    long.notes = Some("x".repeat(1025));
    let report = w.admin.doctor(&long).await;
    assert_eq!(
        verdict(&report),
        ("payload valid", Some(ErrorCode::WrapupNotesInvalid))
    );

    // A division the client is not granted: the same answer as a random id.
    let sales_only = w
        .server
        .client(
            "interaction:view interaction:write wrapup-code:view",
            DivisionGrant::Only(vec![w.sales]),
        )
        .await;
    let report = sales_only
        .doctor(&request(in_support, CodeRef::Id(w.resolved), 1000))
        .await;
    assert_eq!(
        verdict(&report),
        ("interaction visible", Some(ErrorCode::InteractionNotFound))
    );
    let division_mismatch = report
        .checks
        .iter()
        .find(|c| c.name == "interaction visible")
        .unwrap();
    assert!(division_mismatch.fix.as_ref().unwrap().contains("granted"));

    // The mismatch names both divisions.
    let report = w
        .admin
        .doctor(&request(finalized, CodeRef::Id(w.resolved), 1000))
        .await;
    let check = report.first_failure().unwrap();
    assert!(
        check.detail.contains("Support") && check.detail.contains("Sales"),
        "{}",
        check.detail
    );
}

#[tokio::test]
async fn credentials_and_scopes() {
    let w = world().await;
    let id = w.server.finalized(&w.admin, w.sales).await;
    let req = request(id, CodeRef::Id(w.sale), 1000);

    let (client_id, _) = w
        .server
        .credentials("interaction:view", DivisionGrant::All)
        .await;
    let wrong = Client::new(&w.server.url)
        .with_credentials(&client_id.to_string(), "not-the-secret")
        .with_retry(RetryPolicy::none());
    let report = wrong.doctor(&req).await;
    assert_eq!(verdict(&report).0, "credentials valid");
    assert!(report.connectivity_failed());

    let none = Client::new(&w.server.url);
    assert_eq!(
        verdict(&none.doctor(&req).await),
        ("credentials valid", Some(ErrorCode::AuthenticationRequired))
    );

    let read_only = w
        .server
        .client("interaction:view wrapup-code:view", DivisionGrant::All)
        .await;
    let report = read_only.doctor(&req).await;
    assert_eq!(
        verdict(&report),
        ("token scopes", Some(ErrorCode::AuthorizationMissingScope))
    );
    assert!(report
        .first_failure()
        .unwrap()
        .detail
        .contains("interaction:write"));
    assert_eq!(
        put_code(&read_only, &req, w.sale).await,
        Some(ErrorCode::AuthorizationMissingScope)
    );

    // Without wrapup-code:view the code cannot be checked: doctor cannot promise success.
    let no_codes = w
        .server
        .client("interaction:view interaction:write", DivisionGrant::All)
        .await;
    let report = no_codes.doctor(&req).await;
    assert!(!report.ready);
    let skipped = report.first_failure().unwrap();
    assert_eq!(
        (skipped.name, skipped.status),
        ("code exists", CheckStatus::Skip)
    );
    assert!(skipped.detail.contains("wrapup-code:view"));
}

#[tokio::test]
async fn an_unreachable_server_is_named_first() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(&url)
        .with_credentials("id", "secret")
        .with_retry(RetryPolicy::none());
    let report = client
        .doctor(&request(Uuid::new_v4(), CodeRef::Name("Sale".into()), 1000))
        .await;
    assert_eq!(verdict(&report).0, "server reachable");
    assert!(report.connectivity_failed());
    assert!(report.checks[1..]
        .iter()
        .all(|c| c.status == CheckStatus::Skip));
}

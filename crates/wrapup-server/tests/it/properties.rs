//! Property tests over real HTTP: whatever the body, the answer is never a 5xx, nothing
//! changes, and the problem names a field or the body; every valid body on a finalized
//! interaction is accepted.

use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;
use wrapup_client::Client;
use wrapup_server::testkit::*;
use wrapup_types::DivisionGrant;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    server: TestServer,
    admin: Client,
    active: Uuid,
    code: Uuid,
    division: Uuid,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, admin, active, code, division) = runtime.block_on(async {
        let server = TestServer::start().await;
        let admin = server.admin().await;
        let (division, code) = server.division_with_code(&admin, "Sales", "Sale").await;
        let active = server
            .interaction(&admin, division, &[wrapup_types::TargetState::Active])
            .await;
        (server, admin, active, code, division)
    });
    Fixture {
        runtime,
        server,
        admin,
        active,
        code,
        division,
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("codeId".to_string()),
                        Just("durationMs".to_string()),
                        Just("notes".to_string()),
                        "[a-zA-Z_]{1,10}"
                    ],
                    inner
                ),
                0..4
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn check_rejection(f: &Fixture, body: &[u8]) -> Result<(), TestCaseError> {
    let before = f
        .runtime
        .block_on(f.admin.get_interaction(f.active))
        .unwrap();
    let r = f.runtime.block_on(put_raw(
        &f.admin,
        &f.active.to_string(),
        "application/json",
        body,
    ));
    prop_assert!(r.status.is_client_error(), "status {}", r.status);
    let e = error_of(&r);
    prop_assert!(!e.details.is_empty());
    prop_assert!(e.details.iter().any(|d| d.field_name.is_some()
        || d.error_code.as_str().starts_with("request.body")
        || d.error_code.as_str().starts_with("interaction.")));
    let after = f
        .runtime
        .block_on(f.admin.get_interaction(f.active))
        .unwrap();
    prop_assert_eq!(before, after);
    Ok(())
}

#[test]
fn arbitrary_json_never_5xx_nor_changes_state() {
    let f = fixture();
    proptest!(ProptestConfig::with_cases(96), |(value in arb_json())| {
        check_rejection(&f, value.to_string().as_bytes())?;
    });
}

#[test]
fn arbitrary_bytes_never_5xx_nor_changes_state() {
    let f = fixture();
    proptest!(ProptestConfig::with_cases(96), |(bytes in prop::collection::vec(any::<u8>(), 0..300))| {
        check_rejection(&f, &bytes)?;
    });
}

#[test]
fn every_valid_body_is_accepted_on_a_finalized_interaction() {
    let f = fixture();
    proptest!(ProptestConfig::with_cases(48), |(ms in 1u32..=86_400_000, notes in proptest::option::of("\\PC{0,64}"), as_float in any::<bool>())| {
        let id = f.runtime.block_on(f.server.finalized(&f.admin, f.division));
        let mut body = serde_json::json!({"codeId": f.code, "durationMs": ms});
        if as_float {
            body["durationMs"] = serde_json::json!(ms as f64);
        }
        if let Some(n) = &notes {
            body["notes"] = Value::String(n.clone());
        }
        let r = f.runtime.block_on(put_raw(&f.admin, &id.to_string(), "application/json", body.to_string().as_bytes()));
        prop_assert_eq!(r.status.as_u16(), 204, "{}", String::from_utf8_lossy(&r.body));
        let w = f.runtime.block_on(f.admin.get_wrapup(id)).unwrap();
        prop_assert_eq!((w.code_id, w.duration_ms, w.notes), (f.code, ms, notes));
    });
    let _ = DivisionGrant::All;
}

//! Wrap-up codes and divisions in the one shape wrapup's client and the Genesys SDKs share
//! (docs/api.md#listings, docs/genesys.md#wrap-up-codes): Genesys paging, sorting and
//! filters as both SDKs spell them, wrapup's cursor, the superset fields, create and update
//! with a `WrapupCodeRequest`, and `DELETE` as Genesys does it.

use crate::genesys_support::*;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wrapup_types::{DivisionGrant, ErrorCode};

const CODES: &str = "/api/v2/routing/wrapupcodes";

fn names(listing: &Value) -> Vec<String> {
    listing["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn genesys_paging_and_wrapups_cursor_walk_the_same_list() {
    let w = World::new().await;
    for name in ["delta", "Alpha", "charlie", "Bravo", "echo"] {
        w.s.code(&w.admin, w.sales, name).await;
    }
    let sales = w.sales;
    // Sales has Sale, Callback and the five above: seven codes, by name ignoring case.
    let all = [
        "Alpha", "Bravo", "Callback", "charlie", "delta", "echo", "Sale",
    ];
    let mut walked = Vec::new();
    for n in 1..=3 {
        let page = get_ok(
            &w.admin,
            &format!("{CODES}?pageSize=3&pageNumber={n}&divisionId={sales}"),
        )
        .await;
        assert_eq!(
            (page["pageSize"].as_u64(), page["pageNumber"].as_u64()),
            (Some(3), Some(n))
        );
        assert_eq!(
            (page["total"].as_u64(), page["pageCount"].as_u64()),
            (Some(7), Some(3))
        );
        let query = format!("sortBy=name&sortOrder=ascending&divisionId={sales}");
        assert_eq!(
            page["selfUri"],
            format!("{CODES}?pageSize=3&pageNumber={n}&{query}")
        );
        assert_eq!(
            page["firstUri"],
            format!("{CODES}?pageSize=3&pageNumber=1&{query}")
        );
        assert_eq!(
            page["lastUri"],
            format!("{CODES}?pageSize=3&pageNumber=3&{query}")
        );
        assert_eq!(page.get("previousUri").is_some(), n > 1);
        assert_eq!(page.get("nextUri").is_some(), n < 3);
        assert_eq!(page.get("nextCursor").is_some(), n < 3);
        // The URIs are the pages they name.
        if let Some(next) = page["nextUri"].as_str() {
            assert_eq!(get_ok(&w.admin, next).await["pageNumber"], n + 1);
        }
        walked.extend(names(&page));
    }
    assert_eq!(walked, all);
    let past = get_ok(
        &w.admin,
        &format!("{CODES}?pageSize=3&pageNumber=9&divisionId={sales}"),
    )
    .await;
    assert_eq!((names(&past).len(), past["total"].as_u64()), (0, Some(7)));

    // wrapup's cursor walks the same list, and so does the native client.
    let mut cursor_walk = Vec::new();
    let mut path = format!("{CODES}?pageSize=3&divisionId={sales}");
    loop {
        let page = get_ok(&w.admin, &path).await;
        cursor_walk.extend(names(&page));
        let Some(cursor) = page["nextCursor"].as_str() else {
            break;
        };
        path = format!("{CODES}?pageSize=3&divisionId={sales}&cursor={cursor}");
    }
    assert_eq!(cursor_walk, all);
    let mut native = Vec::new();
    let mut query = wrapup_client::CodeQuery {
        division_id: Some(sales),
        page_size: Some(2),
        ..Default::default()
    };
    loop {
        let page = w.admin.list_codes(&query).await.unwrap();
        native.extend(page.entities.into_iter().map(|c| c.name));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(native, all);
    let raw = call(
        &w.admin,
        Method::GET,
        &format!("{CODES}?pageNumber=2&cursor=b2Zmc2V0OjI"),
        None,
    )
    .await;
    assert_eq!(raw.status, 400);

    // Descending, and by id.
    let desc = get_ok(
        &w.admin,
        &format!("{CODES}?pageSize=100&divisionId={sales}&sortOrder=descending"),
    )
    .await;
    assert_eq!(names(&desc), all.iter().rev().copied().collect::<Vec<_>>());
    let by_id = get_ok(&w.admin, &format!("{CODES}?pageSize=100&sortBy=id")).await;
    let ids: Vec<&str> = by_id["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[tokio::test]
async fn filters_as_both_sdks_send_them() {
    let w = World::new().await;
    let salsa = w.s.code(&w.admin, w.support, "Salsa night").await;
    let (sales, support) = (w.sales, w.support);
    // Python percent-encodes commas and `*`, and writes a space as `+`; JavaScript does not
    // encode them; Genesys documents the parameter repeated.
    for query in [
        format!("divisionId={sales}%2C{support}"),
        format!("divisionId={sales},{support}"),
        format!("divisionId={sales}&divisionId={support}"),
    ] {
        assert_eq!(
            get_ok(&w.admin, &format!("{CODES}?{query}")).await["total"],
            4,
            "{query}"
        );
    }
    for query in [
        format!("id={}%2C{salsa}", w.sale),
        format!("id={},{salsa}", w.sale),
        format!("id={}&id={salsa}", w.sale),
    ] {
        let page = get_ok(&w.admin, &format!("{CODES}?{query}")).await;
        assert_eq!(names(&page), ["Sale", "Salsa night"], "{query}");
    }
    for (name, expected) in [
        ("Sa%2A", vec!["Sale", "Salsa night"]),
        ("sa*", vec!["Sale", "Salsa night"]),
        ("%2Anight", vec!["Salsa night"]),
        ("Salsa+night", vec!["Salsa night"]),
        ("SALE", vec!["Sale"]),
        ("Sal", vec![]),
        ("", vec!["Callback", "Resolved", "Sale", "Salsa night"]),
    ] {
        let page = get_ok(&w.admin, &format!("{CODES}?name={name}")).await;
        assert_eq!(names(&page), expected, "name={name}");
    }
    // A division not granted matches nothing, like one that does not exist.
    let sales_only = w
        .client("wrapup-code:view", DivisionGrant::Only(vec![sales]))
        .await;
    let hidden = get_ok(&sales_only, &format!("{CODES}?divisionId={support}")).await;
    let random = get_ok(
        &sales_only,
        &format!("{CODES}?divisionId={}", Uuid::new_v4()),
    )
    .await;
    assert_eq!(
        (hidden["total"].as_u64(), random["total"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(get_ok(&sales_only, CODES).await["total"], 2);
    // Bad values are named.
    for (query, param) in [
        ("pageSize=501", "pageSize"),
        ("pageNumber=0", "pageNumber"),
        ("sortBy=date", "sortBy"),
        ("sortOrder=sideways", "sortOrder"),
        ("id=42", "id"),
        ("divisionId=a,b", "divisionId"),
        ("includeArchived=yes", "includeArchived"),
        ("expand=all", "expand"),
    ] {
        let raw = call(&w.admin, Method::GET, &format!("{CODES}?{query}"), None).await;
        let body: Value = serde_json::from_slice(&raw.body).unwrap();
        assert_eq!(
            (
                raw.status.as_u16(),
                body["details"][0]["fieldName"].as_str()
            ),
            (400, Some(param)),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn a_code_carries_both_sets_of_fields_and_takes_either_request() {
    let w = World::new().await;
    let (creator_id, secret) =
        w.s.credentials(
            "routing:wrapupCode:add routing:wrapupCode:view",
            DivisionGrant::All,
        )
        .await;
    let creator =
        wrapup_client::Client::new(&w.s.url).with_credentials(&creator_id.to_string(), &secret);
    // Genesys's WrapupCodeRequest, as the Python SDK sends it.
    let raw = call(
        &creator,
        Method::POST,
        CODES,
        Some(
            &json!({"name": "Follow-up", "division": {"id": w.sales}, "description": "d"})
                .to_string(),
        ),
    )
    .await;
    assert_eq!(raw.status, 201, "{}", String::from_utf8_lossy(&raw.body));
    let code: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_no_null(&code, "code");
    let id = code["id"].as_str().unwrap().to_string();
    assert_eq!(
        code["division"],
        json!({"id": w.sales, "name": "Sales", "selfUri": format!("/api/v2/authorization/divisions/{}", w.sales)})
    );
    assert_eq!(
        (code["divisionId"].clone(), code["archived"].clone()),
        (json!(w.sales), json!(false))
    );
    assert_eq!(code["selfUri"], format!("{CODES}/{id}"));
    assert_eq!(
        code["createdBy"],
        json!(creator_id),
        "the OAuth client that created it"
    );
    assert_eq!(get_ok(&creator, &format!("{CODES}/{id}")).await, code);

    // A GET-edit-PUT client sends the read-only fields back: they are ignored.
    let mut edited = code.clone();
    edited["name"] = json!("Follow-up call");
    edited.as_object_mut().unwrap().remove("description");
    let raw = call(
        &w.admin,
        Method::PUT,
        &format!("{CODES}/{id}"),
        Some(&edited.to_string()),
    )
    .await;
    assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
    let updated: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(
        (updated["name"].as_str(), updated.get("description")),
        (Some("Follow-up call"), None)
    );
    assert_eq!(
        (&updated["createdBy"], &updated["dateCreated"]),
        (&code["createdBy"], &code["dateCreated"])
    );

    // What a request may not do, said.
    for (body, field) in [
        (json!({"name": "x", "id": Uuid::new_v4()}), "id"),
        (
            json!({"name": "x", "division": {"id": w.support}}),
            "division",
        ),
        (
            json!({"name": "x", "divisionId": w.sales, "division": {"id": w.support}}),
            "division",
        ),
    ] {
        let raw = call(
            &w.admin,
            Method::PUT,
            &format!("{CODES}/{id}"),
            Some(&body.to_string()),
        )
        .await;
        let e: Value = serde_json::from_slice(&raw.body).unwrap();
        assert_eq!(
            (
                raw.status.as_u16(),
                e["code"].as_str(),
                e["details"][0]["fieldName"].as_str()
            ),
            (400, Some("request.field.invalid"), Some(field)),
            "{body}"
        );
    }
    let raw = call(
        &w.admin,
        Method::POST,
        CODES,
        Some(&json!({"name": "x"}).to_string()),
    )
    .await;
    let e: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(
        (e["code"].as_str(), e["details"][0]["fieldName"].as_str()),
        (Some("request.field.missing"), Some("divisionId"))
    );
    let raw = call(
        &w.admin,
        Method::POST,
        CODES,
        Some(&json!({"name": "x", "division": {"id": w.sales}, "colour": 1}).to_string()),
    )
    .await;
    assert_eq!(
        serde_json::from_slice::<Value>(&raw.body).unwrap()["code"],
        "request.field.unknown"
    );
}

#[tokio::test]
async fn delete_is_genesyss_and_the_code_stays_archived() {
    let w = World::new().await;
    let old = w.s.code(&w.admin, w.sales, "Old").await;
    let applied = w.finalized(wrapup_types::Channel::Voice).await;
    w.admin
        .put_wrapup(
            applied,
            &wrapup_types::WrapUpRequest {
                code_id: old,
                duration_ms: 1_000,
                notes: None,
            },
        )
        .await
        .unwrap();
    let raw = call(&w.admin, Method::DELETE, &format!("{CODES}/{old}"), None).await;
    assert_eq!((raw.status.as_u16(), raw.body.len()), (204, 0));
    for method in [Method::GET, Method::DELETE] {
        let raw = call(&w.admin, method.clone(), &format!("{CODES}/{old}"), None).await;
        let e: Value = serde_json::from_slice(&raw.body).unwrap();
        assert_eq!(
            (raw.status.as_u16(), e["code"].as_str()),
            (404, Some("wrapup.code.not.found")),
            "{method}"
        );
    }
    let raw = call(
        &w.admin,
        Method::PUT,
        &format!("{CODES}/{old}"),
        Some(&json!({"name": "Older"}).to_string()),
    )
    .await;
    assert_eq!(raw.status, 404);
    assert!(!names(&get_ok(&w.admin, CODES).await).contains(&"Old".to_string()));
    let archived = get_ok(&w.admin, &format!("{CODES}?includeArchived=true&name=old")).await;
    assert_eq!(archived["entities"][0]["archived"], true);
    // The wrap-up that names it keeps it; applying it again is refused, saying why.
    assert_eq!(w.admin.get_wrapup(applied).await.unwrap().code_name, "Old");
    let e = w
        .admin
        .put_wrapup(
            applied,
            &wrapup_types::WrapUpRequest {
                code_id: old,
                duration_ms: 2_000,
                notes: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::WrapupCodeArchived));
    // Its name is free again.
    w.s.code(&w.admin, w.sales, "Old").await;
}

#[tokio::test]
async fn divisions_in_genesys_shape() {
    let w = World::new().await;
    w.s.division(&w.admin, "Back office").await;
    let page = get_ok(&w.admin, "/api/v2/authorization/divisions?pageSize=2").await;
    assert_eq!(names(&page), ["Back office", "Sales"]);
    assert_eq!(
        (page["total"].as_u64(), page["pageCount"].as_u64()),
        (Some(3), Some(2))
    );
    let sales = &page["entities"][1];
    assert_eq!(
        sales,
        &json!({"id": w.sales, "name": "Sales", "description": "", "homeDivision": false,
                "selfUri": format!("/api/v2/authorization/divisions/{}", w.sales)})
    );
    let page = get_ok(
        &w.admin,
        &format!(
            "/api/v2/authorization/divisions?id={}%2C{}&name=S%2A",
            w.sales, w.support
        ),
    )
    .await;
    assert_eq!(names(&page), ["Sales", "Support"]);
    let only = w.client("", DivisionGrant::Only(vec![w.support])).await;
    assert_eq!(
        names(&get_ok(&only, "/api/v2/authorization/divisions").await),
        ["Support"]
    );
    // The native client still reads it.
    assert_eq!(w.admin.list_divisions().await.unwrap().entities.len(), 3);
}

/// A name no object can have (a NUL byte: PostgreSQL cannot even store one, and names never
/// hold control characters) matches nothing, on every listing that filters by name and on
/// both backends, exact or with `*`.
#[tokio::test]
async fn a_name_no_object_can_have_matches_nothing() {
    let w = World::new().await;
    for path in [
        CODES,
        "/api/v2/authorization/divisions",
        "/api/v2/routing/queues",
    ] {
        for name in ["%00", "Sa%00le", "*%00*"] {
            let page = get_ok(&w.admin, &format!("{path}?name={name}")).await;
            assert_eq!(
                (
                    page["entities"].as_array().map(Vec::len),
                    page["total"].as_u64()
                ),
                (Some(0), Some(0)),
                "{path}?name={name}"
            );
        }
    }
}

//! The OpenAPI document is locked by a snapshot, lists every error code on the operations
//! that return it, and agrees with docs/errors.md.

use std::collections::BTreeSet;

use wrapup_server::openapi_document as document;
use wrapup_types::ErrorCode;

fn doc_json() -> serde_json::Value {
    serde_json::to_value(document()).unwrap()
}

#[test]
fn openapi_snapshot() {
    insta::assert_json_snapshot!("openapi", doc_json());
}

#[test]
fn every_operation_lists_its_error_codes() {
    let doc = doc_json();
    let mut listed = BTreeSet::new();
    let (mut operations, mut with_errors) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            operations += 1;
            with_errors += usize::from(op.get("x-error-codes").is_some());
            if !path.starts_with("/api/v2/") || id == "getOpenApi" {
                continue;
            }
            let codes = op["x-error-codes"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} lists no error codes"));
            for code in codes {
                let code = code.as_str().unwrap();
                let parsed = ErrorCode::parse(code).unwrap();
                listed.insert(parsed);
                let status = match parsed {
                    ErrorCode::WrapupCodeNotFound if path.contains("{codeId}") => 404,
                    ErrorCode::QueueNotFound if !path.contains("{queueId}") => 400,
                    ErrorCode::UserNotFound if !path.contains("{userId}") => 400,
                    _ => parsed.status(),
                };
                let response = &op["responses"][status.to_string()];
                let example = &response["content"]["application/json"]["examples"][code];
                assert_eq!(
                    example["value"]["code"], code,
                    "{method} {path}: no example for {code}"
                );
            }
            assert!(op["security"].is_array(), "{method} {path} has no security");
        }
    }
    assert_eq!(operations, 91);
    // Each handler states its error codes next to it (`x-error-codes` in its
    // `#[utoipa::path]`); those of the API, not the service's own, have them.
    assert_eq!(with_errors, 86);
    // Every code but the path-level one is on some operation; all are in the schema.
    let missing: Vec<_> = ErrorCode::ALL
        .iter()
        .filter(|c| !listed.contains(c) && **c != ErrorCode::RequestPathUnknown)
        .collect();
    assert!(missing.is_empty(), "codes on no operation: {missing:?}");
    let schema_codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap();
    assert_eq!(schema_codes.len(), ErrorCode::ALL.len());
    let scopes = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
        ["scopes"]
        .as_object()
        .unwrap();
    assert_eq!(scopes.len(), 7);
}

#[test]
fn every_error_code_is_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
    let doc = std::fs::read_to_string(path).unwrap();
    for code in ErrorCode::ALL {
        let heading = format!("## `{}`", code.as_str());
        let at = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/errors.md has no section {heading}"));
        let section = &doc[at..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |n| n + 3)];
        assert!(
            section.contains(&format!("Status: {}", code.status())),
            "{heading}: status"
        );
        for part in ["**Meaning**", "**Example**", "**Fix**"] {
            assert!(section.contains(part), "{heading}: {part}");
        }
    }
}

/// Every `$ref` names a schema the document has: a generator (openapi-python-client, the
/// SDK generators) drops an operation whose parameter or body it cannot resolve.
#[test]
fn every_reference_resolves() {
    fn walk(v: &serde_json::Value, doc: &serde_json::Value, missing: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    let pointer = r.trim_start_matches('#');
                    if doc.pointer(pointer).is_none() {
                        missing.push(r.to_string());
                    }
                }
                map.values().for_each(|v| walk(v, doc, missing));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, doc, missing)),
            _ => {}
        }
    }
    let doc = doc_json();
    let mut missing = Vec::new();
    walk(&doc, &doc, &mut missing);
    assert!(missing.is_empty(), "unresolved references: {missing:?}");
}

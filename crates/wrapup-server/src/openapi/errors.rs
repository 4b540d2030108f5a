//! The error codes of each operation: stated by each handler next to it, in its
//! `#[utoipa::path]` (`extensions(("x-error-codes" = json!(codes(…))))`), completed here
//! with those every authenticated operation can return, and written into the document as
//! the operation's error responses, with an example body for each code.

use std::collections::BTreeMap;

use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use wrapup_types::{ErrorBody, ErrorCode, ErrorDetail};

use ErrorCode::*;

/// The error codes every authenticated operation can return (token and scope checks).
pub const AUTH: &[ErrorCode] = &[
    AuthenticationRequired,
    AuthenticationInvalid,
    AuthenticationExpired,
    AuthorizationMissingScope,
    RequestRateLimited,
];
/// The error codes any operation can return.
pub const ALWAYS: &[ErrorCode] = &[
    RequestMethodUnsupported,
    RequestTimeout,
    InternalError,
    ServiceUnavailable,
];

/// An operation's error codes beyond [`AUTH`] and [`ALWAYS`] (which every authenticated
/// operation can return), in groups, in the order of its checks. Each handler states its own
/// next to it, in its `#[utoipa::path]` (see [`codes`]); [`add_errors`] completes the list
/// and writes the error responses from it.
pub type Errors = &'static [&'static [ErrorCode]];

/// An operation's [`Errors`], as a handler writes them inline in its `#[utoipa::path]`:
/// `extensions(("x-error-codes" = json!(codes(&[JSON_BODY, &[DivisionNotFound]]))))`.
pub const fn codes(groups: Errors) -> Errors {
    groups
}

/// The errors of an operation with a JSON body.
pub const JSON_BODY: &[ErrorCode] = &[
    RequestMediaUnsupported,
    RequestBodyTooLarge,
    RequestBodyMalformed,
    RequestFieldUnknown,
    RequestFieldMissing,
    RequestFieldInvalid,
    RequestFieldNull,
];

/// Every error code an operation can return, in a stable order, with the status of each:
/// [`AUTH`] (without the missing-scope error when the operation needs no scope), those the
/// handler states, then [`ALWAYS`]. A code named in the path (`{codeId}`) that does not
/// exist is a 404 there; named in a body it is a 400. A queue or an agent is the other way
/// round in the catalogue: 404 on its path (`{queueId}`, `{userId}`), 400 named in a body.
pub fn operation_errors(path: &str, op: &Operation) -> Option<Vec<(ErrorCode, u16)>> {
    let stated = op.extensions.as_ref()?.get("x-error-codes")?;
    let needs_scope = op.security.iter().flatten().any(|requirement| {
        serde_json::to_value(requirement).is_ok_and(|r| {
            r.as_object().is_some_and(|schemes| {
                schemes
                    .values()
                    .any(|s| s.as_array().is_some_and(|s| !s.is_empty()))
            })
        })
    });
    // `security(())`: an operation without a token (a channel's socket), so without the
    // token's errors.
    let public = op.security.as_ref().is_some_and(|requirements| {
        requirements.iter().all(|requirement| {
            serde_json::to_value(requirement)
                .is_ok_and(|r| r.as_object().is_some_and(|schemes| schemes.is_empty()))
        })
    });
    let stated = stated
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|group| {
            group
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![group.clone()])
        })
        .map(|code| {
            code.as_str()
                .and_then(ErrorCode::parse)
                .unwrap_or_else(|| panic!("{path}: x-error-codes names {code}, not an error code"))
        });
    let mut codes: Vec<ErrorCode> = AUTH
        .iter()
        .copied()
        .filter(|_| !public)
        .filter(|c| needs_scope || *c != AuthorizationMissingScope)
        .chain(stated)
        .chain(ALWAYS.iter().copied())
        .collect();
    codes.dedup();
    Some(
        codes
            .into_iter()
            .map(|c| {
                let status = match c {
                    WrapupCodeNotFound if path.contains("{codeId}") => 404,
                    QueueNotFound if !path.contains("{queueId}") => 400,
                    UserNotFound if !path.contains("{userId}") => 400,
                    _ => c.status(),
                };
                (c, status)
            })
            .collect(),
    )
}

/// The error responses of `op` at `path`, and its `x-error-codes` completed (see
/// [`operation_errors`]).
pub fn add_errors(path: &str, op: &mut Operation) {
    let Some(errors) = operation_errors(path, op) else {
        return;
    };
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for (code, status) in &errors {
        by_status.entry(*status).or_default().push(*code);
    }
    for (status, codes) in by_status {
        let names: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        let examples = codes.iter().map(|c| {
            let body = ErrorBody {
                status,
                code: *c,
                message: c.summary().to_string(),
                context_id: "5f0c6a1e-0d1c-4d52-9a43-2f0c1c7d9b11".into(),
                details: vec![ErrorDetail::new(*c, c.summary())],
                errors: vec![],
            };
            let value = serde_json::to_value(body).expect("error bodies serialise");
            (
                c.as_str().to_string(),
                ExampleBuilder::new()
                    .summary(c.summary())
                    .value(Some(value))
                    .build(),
            )
        });
        let mut response = ResponseBuilder::new()
            .description(format!("Error: {}. See docs/errors.md.", names.join(", ")))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                    .examples_from_iter(examples)
                    .build(),
            );
        if codes.contains(&RequestRateLimited) || codes.contains(&InteractionNotFinalized) {
            response = response.header(
                "Retry-After",
                Header::builder()
                    .schema(Object::with_type(Type::Integer))
                    .description(Some("Seconds (rounded up) before the request may succeed."))
                    .build(),
            );
        }
        if codes.contains(&RequestRateLimited) {
            for (name, what) in RATE_HEADERS {
                response = response.header(
                    name,
                    Header::builder()
                        .schema(Object::with_type(Type::Integer))
                        .description(Some(what))
                        .build(),
                );
            }
        }
        let response = response.build();
        op.responses
            .responses
            .insert(status.to_string(), RefOr::T(response));
    }
    let list: Vec<&str> = errors.iter().map(|(c, _)| c.as_str()).collect();
    let ext = ExtensionsBuilder::new()
        .add("x-error-codes", serde_json::json!(list))
        .build();
    match &mut op.extensions {
        Some(existing) => existing.merge(ext),
        None => op.extensions = Some(ext),
    }
}

/// The headers of every response to an authenticated request when a rate limit is set.
const RATE_HEADERS: [(&str, &str); 3] = [
    ("RateLimit-Limit", "The client's bucket size (requests)."),
    ("RateLimit-Remaining", "Requests left in the bucket now."),
    ("RateLimit-Reset", "Seconds until the bucket is full again."),
];

//! The OpenAPI 3.1 document, made by the routes (`crate::router::api`, each operation's
//! `#[utoipa::path]` beside its handler), completed with the security scheme and each
//! operation's error responses (`errors.rs`, from the codes its handler states), and with
//! the rules derivation cannot say (`rules.rs`). The tests hold the document to a snapshot,
//! to the server's behaviour and to `docs/errors.md`.

pub mod errors;
mod rules;

use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::ServerBuilder;
use utoipa::{Modify, OpenApi};
use wrapup_types::{ApiIndex, EntryPoint, ErrorBody, ErrorCode, ErrorDetail, Scope};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wrapup",
        description = "A strict, self-explaining interactions platform: interactions with a lifecycle, wrap-up codes in \
divisions, OAuth2 client credentials with scopes, and `PUT /api/v2/interactions/{id}/wrap-up`.\n\n\
Every non-2xx response under `/api/v2` has the `ErrorBody` envelope. Its `code` is stable; every code is listed in \
docs/errors.md and, per operation, in the operation's responses and its `x-error-codes` extension. An unknown path \
answers 404 `request.path.unknown`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        ErrorCode,
        wrapup_types::EventReset,
        wrapup_types::InspectedRequest,
        wrapup_types::SortOrder,
        wrapup_types::WebhookPayload,
        wrapup_types::genesys::GenesysErrorBody,
        crate::notifications::routes::IncludeChannels
    )),
    tags(
        (name = "interactions", description = "Interactions, their lifecycle and their wrap-ups."),
        (name = "wrapup-codes", description = "Wrap-up codes (dispositions), each in one division."),
        (name = "divisions", description = "Divisions partition interactions and codes; OAuth clients are granted divisions."),
        (name = "queues", description = "Queues (Genesys Cloud's shape): their wrap-up codes and after-call-work settings, which decide the prompt and timeout of their interactions' wrap-ups."),
        (name = "users", description = "Agents (Genesys Cloud's User shape): who answered an interaction."),
        (name = "oauth", description = "OAuth 2.0 client credentials."),
        (name = "operations", description = "Health, metrics, the request inspector, fault injection and this document."),
        (name = "webhooks", description = "Webhook endpoints: events POSTed to your URL, signed per Standard Webhooks, retried, with a delivery log and replays (docs/webhooks.md). Every delivery's body is a WebhookPayload."),
        (name = "genesys", description = "Genesys Cloud's conversation and wrap-up operations, as its official SDKs call them \
(docs/genesys.md). Errors here put the hint in `message` and add `messageWithParams` and `messageParams`."),
        (name = "notifications", description = "Genesys Cloud's Notifications API: channels, their topics, and the websocket that delivers them \
(docs/genesys.md#notifications). Errors are Genesys ErrorBodies, as those of the conversations."),
    )
)]
struct ApiDoc;

/// Completes the document once every route is in: the server, the OAuth2 security scheme,
/// and each operation's error responses.
struct ErrorsAndSecurity;

impl Modify for ErrorsAndSecurity {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.servers = Some(vec![ServerBuilder::new()
            .url("http://127.0.0.1:8080")
            .description(Some("wrapup serve (default address)"))
            .build()]);
        let scopes = Scopes::from_iter(
            Scope::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), s.description().to_string())),
        );
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    scopes,
                ))],
                "OAuth 2.0 client credentials; send the token as Authorization: Bearer <token>.",
            )),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
            ]
            .into_iter()
            .flatten()
            {
                errors::add_errors(path, op);
            }
        }
    }
}

/// The document as served: derived from the routes (`crate::router::api`) and their
/// handlers, completed with the errors and security, and with the rules of `rules.rs`
/// written in.
pub fn document() -> serde_json::Value {
    let (_, mut api) = crate::router::api().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(std::mem::take(&mut api));
    ErrorsAndSecurity.modify(&mut doc);
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document serialises");
    rules::apply(&mut doc);
    doc
}

/// What `GET /api/v2` answers: every operation of `doc`, with its summary.
pub fn index(doc: &serde_json::Value) -> ApiIndex {
    let mut operations = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete", "head"] {
                if let Some(op) = item.get(method) {
                    operations.push(EntryPoint {
                        method: method.to_uppercase(),
                        path: path.clone(),
                        summary: op["summary"].as_str().unwrap_or_default().to_string(),
                    });
                }
            }
        }
    }
    ApiIndex {
        service: "wrapup".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        openapi: "/api/v2/openapi.json".into(),
        documentation: "docs/api.md in the wrapup repository (every operation, the field rules, the order of checks); docs/errors.md (every error code)".into(),
        operations,
    }
}

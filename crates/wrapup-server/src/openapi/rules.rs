//! The rules of the API that the derived OpenAPI document cannot say by itself, written into
//! it from where each rule is defined: the pattern of names (`wrapup_domain::names`), of
//! cursors (`listing::cursor`), of inspector status filters (`inspector`), the scopes
//! (`wrapup_types::Scope`), the shape of each event of the event stream, the links between
//! operations (what a response gives the next request), and examples that work against
//! `wrapup serve --demo` (they name its Sales division and Sale code). A schema that
//! allows a value the server refuses is a bug the fuzzer finds (CI runs schemathesis); so
//! is one that refuses a value the server accepts.

use serde_json::{json, Value};
use wrapup_domain::names::{MAX_DESCRIPTION_CHARS, NAME_PATTERN};
use wrapup_types::{EventKind, Scope};

use crate::demo;
use crate::inspector::STATUS_FILTER_PATTERN;
use crate::listing::cursor::{CURSOR_PATTERN, ORDERED_CURSOR_PATTERN};

/// Request bodies with a `name` checked by `check_name`.
const NAMED_BODIES: &[&str] = &[
    "CreateDivision",
    "WrapUpCodeRequest",
    "CreateClient",
    "QueueRequest",
    "CreateUser",
];
/// Request bodies whose example names ids of the demo organisation.
const DEMO_EXAMPLES: &[&str] = &[
    "CreateInteraction",
    "WrapUpCodeRequest",
    "WrapUpRequest",
    "WrapupInput",
    "MediaParticipantRequest",
    "QueueRequest",
    "CreateUser",
];
/// What those examples say about their ids.
const DEMO_IDS: &str = "The example's ids are those of the demo organisation (`wrapup serve --demo`): \
on a server without it, use the ids of its own divisions and codes (GET /api/v2/authorization/divisions, \
GET /api/v2/routing/wrapupcodes).";
/// Request bodies with a `description` of at most 1024 characters.
const DESCRIBED_BODIES: &[&str] = &["WrapUpCodeRequest", "QueueRequest"];

/// The schema at `pointer` (a JSON pointer), which the derived document must have: a rule
/// written for a schema that is not there is a bug of this module.
fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut serde_json::Map<String, Value> {
    doc.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("the OpenAPI document has no schema at {pointer}"))
}

/// Writes the rules into the document (see the module docs).
pub fn apply(doc: &mut Value) {
    for body in NAMED_BODIES {
        let name = at(doc, &format!("/components/schemas/{body}/properties/name"));
        name.insert("pattern".into(), json!(NAME_PATTERN));
        name.insert(
            "description".into(),
            json!("1 to 100 characters without control characters, once surrounding whitespace is trimmed (it is)."),
        );
    }
    for body in DESCRIBED_BODIES {
        at(
            doc,
            &format!("/components/schemas/{body}/properties/description"),
        )
        .insert("maxLength".into(), json!(MAX_DESCRIPTION_CHARS));
    }
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    at(doc, "/components/schemas/CreateClient/properties/scopes")
        .insert("items".into(), json!({"type": "string", "enum": scopes}));

    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            let parameters = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut);
            for parameter in parameters.into_iter().flatten() {
                // The Genesys-style listings state their own (`crate::listing::Param`).
                if parameter["schema"].get("pattern").is_some() {
                    continue;
                }
                let pattern = match (path.as_str(), parameter["name"].as_str()) {
                    ("/api/v2/interactions", Some("cursor")) => ORDERED_CURSOR_PATTERN,
                    (_, Some("cursor")) => CURSOR_PATTERN,
                    ("/api/v2/inspector/requests", Some("status")) => STATUS_FILTER_PATTERN,
                    _ => continue,
                };
                parameter["schema"]["pattern"] = json!(pattern);
            }
        }
    }
    // A bulk apply takes at most MAX_BULK_ITEMS items.
    at(
        doc,
        "/paths/~1api~1v2~1interactions~1wrap-ups/post/requestBody/content/application~1json/schema",
    )
    .insert(
        "maxItems".into(),
        json!(wrapup_domain::bulk_wrapups::MAX_BULK_ITEMS),
    );
    // A replay names exactly one starting point (a null is no starting point).
    at(doc, "/components/schemas/ReplayWebhook").insert(
        "oneOf".into(),
        json!([
            {"required": ["fromSequence"], "properties": {"fromSequence": {"type": "integer"}}},
            {"required": ["since"], "properties": {"since": {"type": "string"}}},
        ]),
    );
    // A new code names its division in either spelling (both, when they agree).
    let body = at(
        doc,
        "/paths/~1api~1v2~1routing~1wrapupcodes/post/requestBody/content/application~1json",
    );
    let schema = body["schema"].take();
    body.insert(
        "schema".into(),
        json!({
            "allOf": [schema],
            "anyOf": [{"required": ["divisionId"]}, {"required": ["division"]}],
        }),
    );
    at(
        doc,
        "/paths/~1api~1v2~1interactions~1events/get/responses/200/content/text~1event-stream",
    )
    .insert("schema".into(), event_schema());
    at(
        doc,
        "/paths/~1api~1v2~1inspector~1requests~1stream/get/responses/200/content/text~1event-stream",
    )
    .insert("schema".into(), request_event_schema());

    for (schema, field, value) in [
        ("CreateInteraction", "divisionId", json!(demo::SALES)),
        ("WrapUpCodeRequest", "division", json!({"id": demo::SALES})),
        ("WrapUpRequest", "codeId", json!(demo::CODE_SALE)),
    ] {
        at(doc, &format!("/components/schemas/{schema}/example")).insert(field.into(), value);
    }
    // A request example that names the demo's ids says so: a server without the demo
    // organisation answers them 400 (`division.not.found`, `wrapup.code.not.found`).
    for schema in DEMO_EXAMPLES {
        let schema = at(doc, &format!("/components/schemas/{schema}"));
        let described = schema
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let description = format!("{described}\n\n{DEMO_IDS}").trim().to_string();
        schema.insert("description".into(), json!(description));
    }
    let body = at(
        doc,
        "/paths/~1api~1v2~1interactions~1{id}~1wrap-up~1validate/post/requestBody",
    );
    let described = body
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let description = format!("{described} {DEMO_IDS}").trim().to_string();
    body.insert("description".into(), json!(description));
    for (path, method, status, links) in LINKS {
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('/', "~1")
        );
        let response = at(doc, &pointer);
        let links: serde_json::Map<String, Value> = links
            .iter()
            .map(|(target, parameter, from)| {
                (
                    (*target).to_string(),
                    json!({"operationId": target, "parameters": {*parameter: from}}),
                )
            })
            .collect();
        response.insert("links".into(), Value::Object(links));
    }
}

/// What a response gives the next request (OpenAPI links: operation, parameter, where its
/// value comes from). They follow the lifecycle: an interaction is created, moved, wrapped
/// up, then its wrap-up is read; a new interaction has no wrap-up to read (404
/// `wrapup.not.found`), so no link leads from its creation to `getInteractionWrapUp`.
type Link = (&'static str, &'static str, &'static str);
const LINKS: &[(&str, &str, &str, &[Link])] = &[
    (
        "/api/v2/interactions",
        "post",
        "201",
        &[
            ("getInteraction", "id", "$response.body#/id"),
            ("setInteractionState", "id", "$response.body#/id"),
            ("putInteractionWrapUp", "id", "$response.body#/id"),
            ("getInteractionWrapUpHistory", "id", "$response.body#/id"),
        ],
    ),
    (
        "/api/v2/interactions/{id}/state",
        "post",
        "200",
        &[
            ("getInteraction", "id", "$response.body#/id"),
            ("setInteractionState", "id", "$response.body#/id"),
            ("putInteractionWrapUp", "id", "$response.body#/id"),
        ],
    ),
    (
        "/api/v2/interactions/{id}/wrap-up",
        "put",
        "204",
        &[
            ("getInteractionWrapUp", "id", "$request.path.id"),
            ("getInteractionWrapUpHistory", "id", "$request.path.id"),
        ],
    ),
    (
        "/api/v2/routing/wrapupcodes",
        "post",
        "201",
        &[
            ("getWrapUpCode", "codeId", "$response.body#/id"),
            ("updateWrapUpCode", "codeId", "$response.body#/id"),
            ("archiveWrapUpCode", "codeId", "$response.body#/id"),
        ],
    ),
    (
        "/api/v2/routing/wrapupcodes/{codeId}",
        "delete",
        "204",
        &[("getWrapUpCode", "codeId", "$request.path.codeId")],
    ),
    (
        "/api/v2/authorization/divisions",
        "post",
        "201",
        &[
            ("listInteractions", "divisionId", "$response.body#/id"),
            ("listWrapUpCodes", "divisionId", "$response.body#/id"),
        ],
    ),
];

/// One event of the stream, as an event-stream parser reads it (`event`, `id`, `data`):
/// an interaction event, whose data is the interaction, or `reset`, whose data is an
/// `EventReset`. The keep-alive comments are not events.
/// One event of the inspector's request stream, as an event-stream parser reads it.
fn request_event_schema() -> Value {
    json!({
        "description": "One recorded request: `event: request`, `id` its sequence, `data` the entry as the list shows it.",
        "type": "object",
        "required": ["event", "id", "data"],
        "properties": {
            "event": {"type": "string", "const": "request"},
            "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The entry's sequence (for Last-Event-ID)."},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": "#/components/schemas/InspectedRequest"}
            }
        }
    })
}

fn event_schema() -> Value {
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    let event = |name: Value, data: &str| {
        json!({
            "type": "object",
            "required": ["event", "id", "data"],
            "properties": {
                "event": name,
                "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's sequence number (for Last-Event-ID)."},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": format!("#/components/schemas/{data}")}
                }
            }
        })
    };
    json!({
        "description": "One event of the stream: an interaction event (data: the interaction after the change) or `reset` (data: an EventReset).",
        "oneOf": [
            event(json!({"type": "string", "enum": kinds}), "Interaction"),
            event(json!({"type": "string", "const": "reset"}), "EventReset"),
        ]
    })
}

//! `doctor`: every check a careful engineer would run by hand before applying a wrap-up,
//! each with its verdict and the fix. It only reads; nothing it sends changes state.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;
use wrapup_types::{ErrorCode, Interaction, InteractionState, Scope, WrapUpCode};

use crate::client::Client;
use crate::codes::unknown_code;
use crate::error::Error;
use crate::operations::CodeQuery;
use crate::transport::TransportFailure;
use crate::wrapup::CodeRef;

/// What to check: the wrap-up a PUT would send.
#[derive(Debug, Clone)]
pub struct DoctorRequest {
    pub interaction_id: Uuid,
    pub code: CodeRef,
    pub duration: Duration,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Not run, because an earlier check failed or the token may not look.
    Skip,
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: &'static str,
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// The API error code the PUT would meet, for a failed check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The checklist.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub checks: Vec<Check>,
    /// Whether a PUT would succeed now: every check passed.
    pub ready: bool,
}

impl DoctorReport {
    /// Whether the failure is reaching or authenticating to the server.
    pub fn connectivity_failed(&self) -> bool {
        self.checks
            .iter()
            .find(|c| c.status == CheckStatus::Fail)
            .is_some_and(|c| matches!(c.name, REACHABLE | CREDENTIALS))
    }

    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status != CheckStatus::Pass)
    }
}

const REACHABLE: &str = "server reachable";
const CREDENTIALS: &str = "credentials valid";
const SCOPES: &str = "token scopes";
const VISIBLE: &str = "interaction visible";
const CLOSED: &str = "interaction closed";
const FINALIZED: &str = "interaction finalized";
const CODE_EXISTS: &str = "code exists";
const NOT_ARCHIVED: &str = "code not archived";
const SAME_DIVISION: &str = "code in the interaction's division";
const PAYLOAD: &str = "payload valid";

/// Every check, in order.
const ALL: [&str; 10] = [
    REACHABLE,
    CREDENTIALS,
    SCOPES,
    VISIBLE,
    CLOSED,
    FINALIZED,
    CODE_EXISTS,
    NOT_ARCHIVED,
    SAME_DIVISION,
    PAYLOAD,
];

struct Checklist(Vec<Check>);

impl Checklist {
    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.push(name, CheckStatus::Pass, detail.into(), None, None);
    }

    fn fail(
        &mut self,
        name: &'static str,
        code: Option<ErrorCode>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(
            name,
            CheckStatus::Fail,
            detail.into(),
            code,
            Some(fix.into()),
        );
    }

    fn skip(&mut self, name: &'static str, why: impl Into<String>) {
        self.push(name, CheckStatus::Skip, why.into(), None, None);
    }

    fn push(
        &mut self,
        name: &'static str,
        status: CheckStatus,
        detail: String,
        code: Option<ErrorCode>,
        fix: Option<String>,
    ) {
        self.0.push(Check {
            name,
            status,
            detail,
            code,
            fix,
        });
    }

    /// Marks every check not run yet as skipped, and finishes.
    fn finish(mut self, why: &str) -> DoctorReport {
        for name in ALL {
            if !self.0.iter().any(|c| c.name == name) {
                self.skip(name, why);
            }
        }
        self.0
            .sort_by_key(|c| ALL.iter().position(|n| *n == c.name).unwrap_or(usize::MAX));
        let ready = self.0.iter().all(|c| c.status == CheckStatus::Pass);
        DoctorReport {
            checks: self.0,
            ready,
        }
    }
}

fn api_fail(list: &mut Checklist, name: &'static str, e: &Error) {
    match e {
        Error::Api { body, .. } => {
            let fix = body
                .details
                .first()
                .and_then(|d| d.hint.clone())
                .unwrap_or_else(|| "See docs/errors.md for this code.".into());
            list.fail(name, Some(body.code), body.message.clone(), fix);
        }
        other => list.fail(
            name,
            None,
            other.to_string(),
            "Check the server URL and its health, then run doctor again.",
        ),
    }
}

impl Client {
    /// Runs every check of a wrap-up of `request` (see [`DoctorReport`]). Sends only reads.
    pub async fn doctor(&self, request: &DoctorRequest) -> DoctorReport {
        let mut list = Checklist(Vec::new());

        // 1. Is anyone there?
        match self.health().await {
            Ok(()) => list.pass(
                REACHABLE,
                format!("{} answered GET /healthz", self.base_url()),
            ),
            Err(e @ Error::Transport(_)) => {
                let failure = e.transport_failure().unwrap_or(TransportFailure::Other);
                list.fail(
                    REACHABLE,
                    None,
                    format!("{} did not answer: {e}", self.base_url()),
                    failure.hint(self.base_url()),
                );
                return list.finish("the server is unreachable");
            }
            Err(Error::Unexpected { status: 404, .. }) => {
                list.fail(
                    REACHABLE,
                    None,
                    format!("{} answered, but has no /healthz", self.base_url()),
                    "Use the wrapup server's root URL (e.g. http://127.0.0.1:8080, without /api/v2) in --url / WRAPUP_URL.",
                );
                return list.finish("the URL is not a wrapup server's root");
            }
            Err(e) => {
                list.fail(
                    REACHABLE,
                    Some(ErrorCode::ServiceUnavailable),
                    format!("{} is up but unhealthy: {e}", self.base_url()),
                    "The server's store is not answering; the operator should check its log. Retry later.",
                );
                return list.finish("the server is unhealthy");
            }
        }

        // 2. Do the credentials work, and 3. what may the token do?
        let scopes = match self.token_scopes().await {
            Ok(Some(scopes)) => {
                list.pass(CREDENTIALS, "the token endpoint issued a token");
                Some(scopes)
            }
            Ok(None) => {
                list.pass(
                    CREDENTIALS,
                    "using a ready-made token (not checked until used)",
                );
                None
            }
            Err(Error::OAuth { body, .. }) => {
                list.fail(
                    CREDENTIALS,
                    Some(ErrorCode::AuthenticationInvalid),
                    format!("the token endpoint refused them: {}: {}", body.error, body.error_description),
                    "Check the client id and secret (--client-id/--client-secret, WRAPUP_CLIENT_ID/WRAPUP_CLIENT_SECRET or the profile); `wrapup clients create` makes new ones.",
                );
                return list.finish("the credentials do not work");
            }
            Err(Error::NoCredentials) => {
                list.fail(
                    CREDENTIALS,
                    Some(ErrorCode::AuthenticationRequired),
                    "no credentials are configured",
                    "Set WRAPUP_CLIENT_ID and WRAPUP_CLIENT_SECRET, pass --client-id/--client-secret, or add them to a profile (`wrapup config show`).",
                );
                return list.finish("no credentials");
            }
            Err(e) => {
                api_fail(&mut list, CREDENTIALS, &e);
                return list.finish("the credentials could not be checked");
            }
        };
        let mut can_view_codes = true;
        match &scopes {
            Some(scopes) => {
                let has = |s: Scope| scopes.split(' ').any(|x| x == s.as_str());
                let missing: Vec<&str> = [Scope::InteractionView, Scope::InteractionWrite]
                    .into_iter()
                    .filter(|s| !has(*s))
                    .map(|s| s.as_str())
                    .collect();
                can_view_codes = has(Scope::WrapupCodeView);
                if missing.is_empty() {
                    list.pass(SCOPES, format!("the token has {scopes}"));
                } else {
                    list.fail(
                        SCOPES,
                        Some(ErrorCode::AuthorizationMissingScope),
                        format!("the token lacks {} (it has: {scopes})", missing.join(" and ")),
                        "Use an OAuth client granted interaction:view and interaction:write (and wrapup-code:view to look up codes), e.g. `wrapup clients create --scopes \"interaction:view interaction:write wrapup-code:view\"`; if you narrow scopes with --scope, include them.",
                    );
                    if missing.contains(&Scope::InteractionView.as_str()) {
                        return list.finish("the token may not read interactions");
                    }
                }
            }
            None => list.pass(
                SCOPES,
                "a ready-made token's scopes are checked by the requests below",
            ),
        }

        // 4–6. The interaction.
        let interaction = match self.get_interaction(request.interaction_id).await {
            Ok(i) => {
                list.pass(
                    VISIBLE,
                    format!("interaction {} is in division {}", i.id, i.division_id),
                );
                i
            }
            Err(e) => {
                api_fail(&mut list, VISIBLE, &e);
                if e.code() == Some(ErrorCode::InteractionNotFound) {
                    if let Some(check) = list.0.last_mut() {
                        check.fix = Some("Check the interaction id, and that this OAuth client is granted the interaction's division (an interaction in another division is answered as not found).".into());
                    }
                }
                return list.finish("the interaction cannot be read");
            }
        };
        check_state(&mut list, &interaction);

        // 7–9. The code.
        let divisions: HashMap<Uuid, String> = self
            .list_divisions()
            .await
            .map(|p| p.entities.into_iter().map(|d| (d.id, d.name)).collect())
            .unwrap_or_default();
        let division_name = |id: Uuid| match divisions.get(&id) {
            Some(name) => format!("{name} ({id})"),
            None => id.to_string(),
        };
        let plain_name = |id: Uuid| {
            divisions
                .get(&id)
                .cloned()
                .unwrap_or_else(|| id.to_string())
        };
        let code = if can_view_codes {
            self.find_code(
                &mut list,
                &request.code,
                &interaction,
                (&division_name, &plain_name),
            )
            .await
        } else {
            let why = "the token lacks wrapup-code:view, so the code cannot be looked up (the PUT itself may still work)";
            list.skip(CODE_EXISTS, why);
            None
        };
        if let Some(code) = &code {
            if code.archived {
                list.fail(
                    NOT_ARCHIVED,
                    Some(ErrorCode::WrapupCodeArchived),
                    format!("\"{}\" ({}) is archived", code.name, code.id),
                    "Archived codes stay in history but cannot be applied; choose an active code (`wrapup codes list`).",
                );
            } else {
                list.pass(NOT_ARCHIVED, format!("\"{}\" is active", code.name));
            }
            if code.division_id == interaction.division_id {
                list.pass(
                    SAME_DIVISION,
                    format!("both are in {}", division_name(code.division_id)),
                );
            } else {
                list.fail(
                    SAME_DIVISION,
                    Some(ErrorCode::WrapupCodeDivisionMismatch),
                    format!(
                        "the code is in {}, the interaction in {}",
                        division_name(code.division_id),
                        division_name(interaction.division_id)
                    ),
                    format!(
                        "Use a code of the interaction's division: `wrapup codes list --division {}`.",
                        interaction.division_id
                    ),
                );
            }
        }

        // 10. The body a PUT would send, checked by the server's own rules.
        let code_id = code.as_ref().map(|c| c.id).or(match &request.code {
            CodeRef::Id(id) => Some(*id),
            CodeRef::Name(_) => None,
        });
        check_payload(&mut list, code_id, request);

        if let Some(applied) = &interaction.wrap_up {
            let same = Some(applied.code_id) == code_id
                && u128::from(applied.duration_ms) == request.duration.as_millis()
                && applied.notes == request.notes;
            if let Some(check) = list.0.iter_mut().find(|c| c.name == CLOSED) {
                check.detail = if same {
                    "completed, with this very wrap-up: applying it again is a no-op".into()
                } else {
                    format!(
                        "completed, with wrap-up \"{}\": a new one replaces it (both stay in the history)",
                        applied.code_name
                    )
                };
            }
        }
        list.finish("an earlier check failed")
    }

    /// Finds the code (by id, or by name in the interaction's division and then in any
    /// visible division, to explain a mismatch).
    async fn find_code(
        &self,
        list: &mut Checklist,
        code: &CodeRef,
        interaction: &Interaction,
        // A division as `Sales (id)`, and by its name alone.
        (division_name, plain_name): (&impl Fn(Uuid) -> String, &impl Fn(Uuid) -> String),
    ) -> Option<WrapUpCode> {
        match code {
            CodeRef::Id(id) => match self
                .get_code_even_archived(*id, Some(interaction.division_id))
                .await
            {
                Ok(c) => {
                    list.pass(CODE_EXISTS, format!("{id} is \"{}\"", c.name));
                    Some(c)
                }
                Err(e) if e.code() == Some(ErrorCode::WrapupCodeNotFound) => {
                    list.fail(
                        CODE_EXISTS,
                        Some(ErrorCode::WrapupCodeNotFound),
                        format!("no wrap-up code with id {id} is visible to this token"),
                        format!("List the codes of the interaction's division: `wrapup codes list --division {}`; the client must be granted the code's division.", interaction.division_id),
                    );
                    None
                }
                Err(e) => {
                    api_fail(list, CODE_EXISTS, &e);
                    None
                }
            },
            CodeRef::Name(name) => {
                let lookup = |division: Option<Uuid>| CodeQuery {
                    division_id: division,
                    name: Some(name.clone()),
                    include_archived: Some(true),
                    ..CodeQuery::default()
                };
                let pick = |codes: Vec<WrapUpCode>| {
                    let mut codes = codes;
                    codes.sort_by_key(|c| c.archived); // an active one first
                    codes.into_iter().next()
                };
                let here = self
                    .list_codes(&lookup(Some(interaction.division_id)))
                    .await;
                let found = match here {
                    Ok(page) if !page.entities.is_empty() => pick(page.entities),
                    Ok(_) => match self.list_codes(&lookup(None)).await {
                        Ok(page) => pick(page.entities),
                        Err(e) => {
                            api_fail(list, CODE_EXISTS, &e);
                            return None;
                        }
                    },
                    Err(e) => {
                        api_fail(list, CODE_EXISTS, &e);
                        return None;
                    }
                };
                match found {
                    Some(c) => {
                        list.pass(
                            CODE_EXISTS,
                            format!("\"{name}\" is {} in {}", c.id, division_name(c.division_id)),
                        );
                        Some(c)
                    }
                    None => {
                        // The division's codes, for the name probably meant.
                        let all = CodeQuery {
                            division_id: Some(interaction.division_id),
                            include_archived: Some(true),
                            page_size: Some(500),
                            ..CodeQuery::default()
                        };
                        let codes = self
                            .list_codes(&all)
                            .await
                            .map(|p| p.entities)
                            .unwrap_or_default();
                        let why =
                            unknown_code(name, interaction.division_id, &codes, &[], plain_name);
                        list.fail(
                            CODE_EXISTS,
                            Some(ErrorCode::WrapupCodeNotFound),
                            why.message,
                            why.hint.unwrap_or_default(),
                        );
                        None
                    }
                }
            }
        }
    }
}

fn check_state(list: &mut Checklist, interaction: &Interaction) {
    match interaction.state {
        InteractionState::Queued | InteractionState::Active => {
            list.fail(
                CLOSED,
                Some(ErrorCode::InteractionNotClosed),
                format!("the interaction is {}", interaction.state),
                "A wrap-up can be applied only after the interaction closes and is finalized; `wrapup apply --wait 10m` waits for that on the event stream.",
            );
            list.skip(FINALIZED, "the interaction is not closed");
        }
        InteractionState::Closed => {
            list.pass(CLOSED, "the interaction is closed");
            if interaction.finalized {
                list.pass(FINALIZED, "the platform has settled it");
            } else {
                list.fail(
                    FINALIZED,
                    Some(ErrorCode::InteractionNotFinalized),
                    "the interaction is closed but not finalized yet (the platform settles it shortly after it closes)",
                    "Wait for the interaction.finalized event; `wrapup apply --wait 1m` does that for you.",
                );
            }
        }
        InteractionState::Completed => {
            list.pass(CLOSED, "completed (a wrap-up is in place)");
            list.pass(FINALIZED, "the platform has settled it");
        }
    }
}

fn check_payload(list: &mut Checklist, code_id: Option<Uuid>, request: &DoctorRequest) {
    let mut body = serde_json::Map::new();
    // An unresolved code name leaves codeId to the code checks above.
    body.insert(
        "codeId".into(),
        code_id.unwrap_or(Uuid::nil()).to_string().into(),
    );
    let ms = request.duration.as_millis();
    body.insert("durationMs".into(), serde_json::json!(ms));
    if let Some(notes) = &request.notes {
        body.insert("notes".into(), notes.clone().into());
    }
    let json = serde_json::Value::Object(body);
    let bytes = serde_json::to_vec(&json).expect("a JSON value serialises");
    match wrapup_domain::validate_body(&bytes) {
        Ok(_) => list.pass(PAYLOAD, json.to_string()),
        Err(problems) => {
            let first = problems[0].clone();
            let detail = problems
                .iter()
                .map(|p| format!("{}: {}", p.error_code, p.message))
                .collect::<Vec<_>>()
                .join("; ");
            list.fail(
                PAYLOAD,
                Some(first.error_code),
                detail,
                first
                    .hint
                    .unwrap_or_else(|| "See docs/errors.md for this code.".into()),
            );
        }
    }
}

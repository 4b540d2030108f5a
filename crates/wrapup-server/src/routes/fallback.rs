//! The answer to a path no route matches: `404 request.path.unknown`, with a hint that fits
//! the path (the root of the server, a base URL that already ended with `/api/v2`, a path
//! missing its `/api/v2` prefix or a letter) and always the way to the list of operations.

use std::sync::Arc;

use axum::extract::{Request, State};
use wrapup_domain::names;
use wrapup_types::{ErrorCode, ErrorDetail};

use crate::error::ApiError;
use crate::state::ApiDocument;

/// Where every hint ends: how to find the operations.
const ENTRY_POINTS: &str =
    "GET /api/v2 lists the entry points; GET /api/v2/openapi.json describes every operation.";

/// The problem of a path no route matches.
pub fn unknown_path_error(path: &str) -> ErrorDetail {
    ErrorDetail::new(
        ErrorCode::RequestPathUnknown,
        format!("No operation exists at {path}."),
    )
    .hint("Every API path starts with /api/v2; see GET /api/v2/openapi.json for the list.")
}

/// The fallback for paths no route matches.
pub async fn unknown_path(State(document): State<Arc<ApiDocument>>, request: Request) -> ApiError {
    let path = request.uri().path().to_string();
    let templates: Vec<&str> = document
        .index
        .operations
        .iter()
        .map(|o| o.path.as_str())
        .collect();
    ApiError::one(
        ErrorDetail::new(
            ErrorCode::RequestPathUnknown,
            format!("No operation exists at {path}."),
        )
        .hint(hint(&path, &templates)),
    )
}

/// How many segments of `path` are misspelled (near misses, [`names::closest`]) against
/// `template`, where `{id}` matches any one segment; `None` if they differ otherwise.
fn misses(template: &str, path: &str) -> Option<usize> {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    if t.len() != p.len() {
        return None;
    }
    let mut misses = 0;
    for (t, p) in t.iter().zip(&p) {
        if *t == *p || (t.starts_with('{') && !p.is_empty()) {
            continue;
        }
        names::closest(p, [*t])?;
        misses += 1;
    }
    Some(misses)
}

/// Whether `path` is an instance of `template`.
fn matches(template: &str, path: &str) -> bool {
    misses(template, path) == Some(0)
}

/// What to do about a request to `path`, which matches none of `templates`.
fn hint(path: &str, templates: &[&str]) -> String {
    let known = |p: &str| templates.iter().any(|t| matches(t, p));
    if path == "/" {
        return format!(
            "This is a wrapup API server; it has no page at /. {ENTRY_POINTS} The reference is docs/api.md in the wrapup repository."
        );
    }
    if let Some(rest) = path.strip_prefix("/api/v2/api/v2") {
        let meant = format!("/api/v2{rest}");
        return format!(
            "The path says /api/v2 twice: the client's base URL probably ends with /api/v2. Configure the server's root URL \
             (e.g. http://127.0.0.1:8080) instead; clients add /api/v2 themselves{}. {ENTRY_POINTS}",
            if known(&meant) { format!(", which makes this {meant}") } else { String::new() }
        );
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed != path && known(trimmed) {
        return format!("Did you mean {trimmed}? Paths have no trailing slash. {ENTRY_POINTS}");
    }
    let prefixed = format!("/api/v2{path}");
    if !path.starts_with("/api/") && known(&prefixed) {
        return format!("Did you mean {prefixed}? API paths start with /api/v2. {ENTRY_POINTS}");
    }
    // One misspelled segment: show the path with it corrected.
    if let Some(template) = templates.iter().find(|t| misses(t, path) == Some(1)) {
        let near: Vec<&str> = template
            .split('/')
            .zip(path.split('/'))
            .map(|(t, p)| if t.starts_with('{') { p } else { t })
            .collect();
        return format!("Did you mean {}? {ENTRY_POINTS}", near.join("/"));
    }
    ENTRY_POINTS.to_string()
}

#[cfg(test)]
mod tests {
    use super::hint;

    const TEMPLATES: [&str; 4] = [
        "/api/v2",
        "/api/v2/interactions",
        "/api/v2/interactions/{id}",
        "/api/v2/openapi.json",
    ];

    #[test]
    fn each_mistake_gets_its_hint() {
        let h = |p| hint(p, &TEMPLATES);
        assert!(h("/").contains("no page at /"), "{}", h("/"));
        let twice = h("/api/v2/api/v2/interactions/5");
        assert!(
            twice.contains("ends with /api/v2")
                && twice.contains("which makes this /api/v2/interactions/5"),
            "{twice}"
        );
        assert!(h("/api/v2/interactions/").starts_with("Did you mean /api/v2/interactions?"));
        assert!(h("/interactions").starts_with("Did you mean /api/v2/interactions?"));
        assert!(h("/api/v2/interaction").starts_with("Did you mean /api/v2/interactions?"));
        assert_eq!(
            h("/api/v2/nothing/here"),
            "GET /api/v2 lists the entry points; GET /api/v2/openapi.json describes every operation."
        );
        assert!(!h("/api/v2/interactions/x/y").starts_with("Did you mean"));
        assert!(h("/api/v2/interactoins/5").starts_with("Did you mean /api/v2/interactions/5?"));
    }
}

//! docs/api.md, the API reference, stays in step with the OpenAPI document the server
//! serves: the same operations, and for each one the same scope, success statuses,
//! parameters, body fields and error codes. Its links resolve, and so do the references to it
//! from code comments (`docs/api.md#order-of-checks, step N`) and from the other docs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use wrapup_server::openapi_document as document;
use wrapup_types::{ErrorCode, Scope};

const METHODS: [&str; 6] = ["get", "put", "post", "delete", "patch", "head"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    let path = repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn openapi() -> Value {
    serde_json::to_value(document()).unwrap()
}

/// The lines of a Markdown file outside fenced code blocks, with their headings marked.
fn prose_lines(markdown: &str) -> Vec<(bool, &str)> {
    let mut fenced = false;
    markdown
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return (false, line);
            }
            (!fenced && line.starts_with('#'), line)
        })
        .collect()
}

/// The anchor GitHub gives a heading: lowercase, punctuation other than `-` and `_` dropped,
/// spaces turned into hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor of a Markdown file (a repeated heading gets `-1`, `-2`, … as on GitHub).
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (heading, line) in prose_lines(markdown) {
        if !heading {
            continue;
        }
        let base = slug(line);
        let n = seen.entry(base.clone()).or_default();
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// The text under each heading of `level` (`###`) whose text passes `select`, up to the next
/// heading of that level or above.
fn sections(markdown: &str, level: usize, select: impl Fn(&str) -> bool) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    let mut open = false;
    for (heading, line) in prose_lines(markdown) {
        if heading {
            let depth = line.chars().take_while(|c| *c == '#').count();
            if depth <= level {
                open = depth == level && select(line);
                if open {
                    out.push((line, String::new()));
                }
                continue;
            }
        }
        if open {
            let text = &mut out.last_mut().unwrap().1;
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// The bullet `- **name**…` of a section, with its indented continuation lines.
fn bullet(section: &str, name: &str) -> Option<String> {
    let start = format!("- **{name}**");
    let mut lines = section.lines().skip_while(|l| !l.starts_with(&start));
    let first = lines.next()?;
    let mut text = first.to_string();
    for line in lines {
        if !line.is_empty() && !line.starts_with(char::is_whitespace) {
            break;
        }
        text.push('\n');
        text.push_str(line);
    }
    Some(text)
}

/// The words written `like this` in a text.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn error_codes_in(text: &str) -> BTreeSet<ErrorCode> {
    code_spans(text)
        .into_iter()
        .filter_map(ErrorCode::parse)
        .collect()
}

/// `METHOD /path` of every operation heading of docs/api.md, with its section.
fn documented_operations(api: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (heading, text) in sections(api, 3, |h| {
        let spans = code_spans(h);
        spans.len() == 1
            && spans[0].split_once(' ').is_some_and(|(m, p)| {
                METHODS.contains(&m.to_lowercase().as_str()) && p.starts_with('/')
            })
    }) {
        let operation = code_spans(heading)[0].to_string();
        assert!(
            out.insert(operation.clone(), text).is_none(),
            "docs/api.md documents {operation} twice"
        );
    }
    out
}

/// `METHOD /path` of every operation of the OpenAPI document, with the operation.
fn served_operations(doc: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.insert(format!("{} {path}", method.to_uppercase()), op.clone());
            }
        }
    }
    out
}

#[test]
fn every_operation_is_documented_and_every_documented_operation_exists() {
    let api = read("docs/api.md");
    let documented: BTreeSet<String> = documented_operations(&api).into_keys().collect();
    let served: BTreeSet<String> = served_operations(&openapi()).into_keys().collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "operations of the OpenAPI document without a `### `METHOD /path`` heading in docs/api.md: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "docs/api.md documents operations the OpenAPI document does not have: {extra:?}"
    );
}

#[test]
fn each_operation_states_its_scope_statuses_parameters_and_fields() {
    let api = read("docs/api.md");
    let doc = openapi();
    let documented = documented_operations(&api);
    for (operation, op) in served_operations(&doc) {
        let Some(section) = documented.get(&operation) else {
            continue; // reported by the test above
        };
        let scope = bullet(section, "Scope")
            .unwrap_or_else(|| panic!("{operation}: no **Scope** bullet in docs/api.md"));
        let required = op["security"][0]["oauth2"].as_array();
        let stated: BTreeSet<&str> = code_spans(&scope)
            .into_iter()
            .filter(|s| Scope::parse(s).is_some())
            .collect();
        match required {
            None => assert!(
                scope.starts_with("- **Scope**: none"),
                "{operation} needs no token; docs/api.md says: {scope}"
            ),
            Some(scopes) if scopes.is_empty() => assert!(
                scope.contains("any valid token") && stated.is_empty(),
                "{operation} needs a token but no scope; docs/api.md says: {scope}"
            ),
            Some(scopes) => {
                let needed: BTreeSet<&str> = scopes.iter().map(|s| s.as_str().unwrap()).collect();
                assert_eq!(stated, needed, "{operation}: scope");
            }
        }

        let success = bullet(section, "Success")
            .unwrap_or_else(|| panic!("{operation}: no **Success** bullet in docs/api.md"));
        let served_2xx: BTreeSet<&str> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|s| s.starts_with('2'))
            .collect();
        let stated_2xx: BTreeSet<&str> = code_spans(&success)
            .into_iter()
            .filter(|s| s.len() == 3 && s.starts_with('2') && s.parse::<u16>().is_ok())
            .collect();
        assert_eq!(stated_2xx, served_2xx, "{operation}: success statuses");

        let (_, path) = operation.split_once(' ').unwrap();
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            if param["in"] == "path" {
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{operation}: path parameter {name}"
                );
            } else {
                assert!(
                    section.contains(&format!("`{name}`")),
                    "{operation}: docs/api.md does not mention the parameter `{name}`"
                );
            }
        }

        let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        if let Some(reference) = body.as_str() {
            let name = reference.rsplit('/').next().unwrap();
            for field in doc["components"]["schemas"][name]["properties"]
                .as_object()
                .unwrap()
                .keys()
            {
                assert!(
                    section.contains(&format!("`{field}`"))
                        || section.contains(&format!("\"{field}\"")),
                    "{operation}: docs/api.md does not mention the body field {field}"
                );
            }
        }
    }
}

#[test]
fn each_operation_lists_the_error_codes_it_can_return() {
    let api = read("docs/api.md");
    let doc = openapi();
    let common_sections = sections(&api, 3, |h| h == "### Common errors");
    assert_eq!(
        common_sections.len(),
        1,
        "docs/api.md has one ### Common errors section"
    );
    let common = error_codes_in(&common_sections[0].1);
    assert!(!common.is_empty());
    let documented = documented_operations(&api);
    for (operation, op) in served_operations(&doc) {
        let Some(section) = documented.get(&operation) else {
            continue;
        };
        let stated = bullet(section, "Errors")
            .map(|b| error_codes_in(&b))
            .unwrap_or_default();
        let Some(codes) = op["x-error-codes"].as_array() else {
            assert!(
                stated.is_empty(),
                "{operation} returns no API error codes, but docs/api.md lists {stated:?}"
            );
            continue;
        };
        let served: BTreeSet<ErrorCode> = codes
            .iter()
            .map(|c| ErrorCode::parse(c.as_str().unwrap()).unwrap())
            .collect();
        let wrong: Vec<_> = stated.difference(&served).collect();
        assert!(
            wrong.is_empty(),
            "{operation}: docs/api.md lists codes the operation cannot return: {wrong:?}"
        );
        let unlisted: Vec<_> = served
            .iter()
            .filter(|c| !stated.contains(c) && !common.contains(c))
            .collect();
        assert!(
            unlisted.is_empty(),
            "{operation}: codes missing from its **Errors** bullet in docs/api.md: {unlisted:?}"
        );
        let needs_scope = op["security"][0]["oauth2"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        // An operation without a token (a notification channel's socket) has no token
        // errors.
        let public = op["security"][0].as_object().is_some_and(|s| s.is_empty());
        for code in &common {
            if *code == ErrorCode::AuthorizationMissingScope && !needs_scope {
                continue;
            }
            if public
                && matches!(
                    code,
                    ErrorCode::AuthenticationRequired
                        | ErrorCode::AuthenticationInvalid
                        | ErrorCode::AuthenticationExpired
                        | ErrorCode::RequestRateLimited
                )
            {
                continue;
            }
            assert!(
                served.contains(code),
                "{operation}: docs/api.md says every operation can return {code:?}, the OpenAPI document does not list it"
            );
        }
    }
}

#[test]
fn every_field_of_the_resources_is_described() {
    let api = read("docs/api.md");
    let doc = openapi();
    for schema in [
        "Interaction",
        "WrapUp",
        "WrapUpCode",
        "Division",
        "TokenResponse",
        "ClientCredentials",
    ] {
        for field in doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {schema}"))
            .keys()
        {
            assert!(
                api.contains(&format!("`{field}`")) || api.contains(&format!("\"{field}\"")),
                "docs/api.md does not describe {schema}.{field}"
            );
        }
    }
}

#[test]
fn the_order_of_checks_has_its_six_steps() {
    let api = read("docs/api.md");
    assert!(anchors(&api).contains("order-of-checks"));
    let order = sections(&api, 3, |h| h == "### Order of checks");
    assert_eq!(order.len(), 1);
    for step in 1..=6 {
        assert!(
            order[0]
                .1
                .lines()
                .any(|l| l.starts_with(&format!("{step}. "))),
            "docs/api.md#order-of-checks has no step {step}"
        );
    }
    assert!(
        !order[0].1.lines().any(|l| l.starts_with("7. ")),
        "docs/api.md#order-of-checks has more than six steps; update the code comments citing them"
    );
}

/// The targets of the Markdown links `[text](target)` of a text.
fn link_targets(markdown: &str) -> Vec<&str> {
    markdown
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target))
        .collect()
}

#[test]
fn links_of_the_reference_resolve() {
    let docs = repo().join("docs");
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&docs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    let anchors_of: BTreeMap<&str, BTreeSet<String>> = files
        .iter()
        .map(|(name, text)| (name.as_str(), anchors(text)))
        .collect();
    for (name, text) in &files {
        for target in link_targets(text) {
            if target.contains("://") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let file = if file.is_empty() { name.as_str() } else { file };
            // Every link of api.md, and every link into it from the other docs.
            if name != "api.md" && file != "api.md" {
                continue;
            }
            let Some(known) = anchors_of.get(file) else {
                panic!("docs/{name} links to {target}: no docs/{file}");
            };
            assert!(
                anchor.is_empty() || known.contains(anchor),
                "docs/{name} links to {target}: docs/{file} has no heading #{anchor}"
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn references_to_the_reference_resolve() {
    let known = anchors(&read("docs/api.md"));
    let mut files = Vec::new();
    for dir in ["crates", "bench"] {
        rust_files(&repo().join(dir), &mut files);
    }
    files.extend(["README.md", "ARCHITECTURE.md"].map(|f| repo().join(f)));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("api.md#") {
            let anchor: String = text[at + "api.md#".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if anchor.is_empty() {
                continue; // not a citation (e.g. this file's own format strings)
            }
            assert!(
                known.contains(&anchor),
                "{} cites docs/api.md#{anchor}, which is not a heading of docs/api.md",
                file.display()
            );
        }
    }
}

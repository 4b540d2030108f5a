//! Codes as people name them: a name is looked up, ignoring case, among the codes of the
//! interaction's division; when it is not there, the answer says why in the server's own
//! words ([`wrapup_domain::wrapup_body::check_code`]: archived, or in another division) or
//! suggests the name probably meant ([`wrapup_domain::names::closest`], the one "did you
//! mean" rule). `wrapup apply` and `wrapup batch` both use it.

use std::collections::HashMap;

use uuid::Uuid;
use wrapup_domain::names::{closest, name_key};
use wrapup_domain::wrapup_body::check_code;
use wrapup_types::{ErrorCode, ErrorDetail, Interaction, WrapUpCode};

use crate::apply::ApplyError;
use crate::client::Client;
use crate::operations::CodeQuery;
use crate::wrapup::CodeRef;

/// How many code names the answer lists when it has no better suggestion.
const LISTED: usize = 8;

/// The active code of `codes` named `name` (ignoring case), if there is one.
pub fn find_named<'a>(name: &str, codes: &'a [WrapUpCode]) -> Option<&'a WrapUpCode> {
    codes
        .iter()
        .find(|c| !c.archived && name_key(&c.name) == name_key(name))
}

/// Why no code named `name` can be applied to an interaction of `division`, given every
/// code of that division (`in_division`, archived ones included) and the codes of that
/// name in other divisions the caller sees (`elsewhere`). The error code is the one the
/// server would answer for such a code: `wrapup.code.archived`,
/// `wrapup.code.division.mismatch` (with the server's message), or `wrapup.code.not.found`.
pub fn unknown_code(
    name: &str,
    division: Uuid,
    in_division: &[WrapUpCode],
    elsewhere: &[WrapUpCode],
    division_name: impl Fn(Uuid) -> String,
) -> ErrorDetail {
    let list_hint = format!(
        "List the codes of the interaction's division: `wrapup codes list --division {division}`."
    );
    let same_name = |c: &&WrapUpCode| name_key(&c.name) == name_key(name);
    let server_says = |code: &WrapUpCode| {
        check_code(code.id, Some(code), true, division, &division_name)
            .expect("a code of another division, or archived, is refused")
    };
    if let Some(archived) = in_division.iter().find(same_name) {
        let detail = server_says(archived);
        return ErrorDetail {
            hint: Some(format!("Choose a current code. {list_hint}")),
            ..detail
        };
    }
    if let Some(other) = elsewhere.iter().find(|c| c.division_id != division) {
        let detail = server_says(other);
        return ErrorDetail {
            message: format!(
                "no wrap-up code named \"{name}\" is in the interaction's division: {}",
                detail.message
            ),
            hint: Some(list_hint),
            ..detail
        };
    }
    let active: Vec<&str> = in_division
        .iter()
        .filter(|c| !c.archived)
        .map(|c| c.name.as_str())
        .collect();
    let suggestion = match closest(name, active.iter().copied()) {
        Some(meant) => format!("; did you mean \"{meant}\"?"),
        None if active.is_empty() => "; it has no codes".into(),
        None => {
            let mut names: Vec<String> = active
                .iter()
                .take(LISTED)
                .map(|n| format!("\"{n}\""))
                .collect();
            if active.len() > LISTED {
                names.push(format!("and {} more", active.len() - LISTED));
            }
            format!("; its codes are {}", names.join(", "))
        }
    };
    ErrorDetail::new(
        ErrorCode::WrapupCodeNotFound,
        format!(
            "no wrap-up code named \"{name}\" exists in division {} (the interaction's){suggestion}",
            labelled(division_name(division), division)
        ),
    )
    .field("code")
    .hint(list_hint)
}

/// `Sales (id)`, or the id alone when its name is unknown (`name` is then the id).
fn labelled(name: String, id: Uuid) -> String {
    if name == id.to_string() {
        name
    } else {
        format!("{name} ({id})")
    }
}

/// A division's name for messages, from a list of divisions (the id when it is not there),
/// as the server's [`check_code`] takes it.
pub fn division_namer(divisions: &[wrapup_types::Division]) -> impl Fn(Uuid) -> String {
    let names: HashMap<Uuid, String> = divisions.iter().map(|d| (d.id, d.name.clone())).collect();
    move |id| names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

impl Client {
    /// Resolves a code as a person names it, within the interaction's division: an id is
    /// used as is (the server checks it); a name must match an active code of the division,
    /// ignoring case. Otherwise the error says why ([`unknown_code`]).
    pub async fn resolve_code(
        &self,
        interaction: &Interaction,
        code: &CodeRef,
    ) -> Result<Uuid, ApplyError> {
        match code {
            CodeRef::Id(id) => Ok(*id),
            CodeRef::Name(name) => Ok(self.resolve_code_name(interaction, name).await?.id),
        }
    }

    /// The active code of the interaction's division named `name` (ignoring case), as the
    /// server has it (its name as written there, e.g. to say which code was applied), or why
    /// there is none ([`unknown_code`]).
    pub async fn resolve_code_name(
        &self,
        interaction: &Interaction,
        name: &str,
    ) -> Result<WrapUpCode, ApplyError> {
        let division = interaction.division_id;
        let query = |division_id, name: Option<&str>| CodeQuery {
            division_id,
            name: name.map(str::to_string),
            include_archived: Some(true),
            page_size: Some(500),
            ..CodeQuery::default()
        };
        let named = self.list_codes(&query(Some(division), Some(name))).await?;
        if let Some(found) = find_named(name, &named.entities) {
            return Ok(found.clone());
        }
        let in_division = self.list_codes(&query(Some(division), None)).await?;
        let elsewhere = self.list_codes(&query(None, Some(name))).await?;
        let divisions = self.list_divisions().await?;
        let mut codes = named.entities;
        codes.extend(in_division.entities);
        Err(ApplyError::Code {
            name: name.to_string(),
            detail: unknown_code(
                name,
                division,
                &codes,
                &elsewhere.entities,
                division_namer(&divisions.entities),
            ),
        })
    }
}

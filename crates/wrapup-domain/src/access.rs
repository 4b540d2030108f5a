//! Who is calling, and what they may see and do.

use uuid::Uuid;
use wrapup_types::{DivisionGrant, ErrorCode, ErrorDetail, Scope, ScopeSet};

/// The caller of an API operation, as established by its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The OAuth client the token was issued to.
    pub client_id: Uuid,
    /// The token's scopes (a subset of the client's).
    pub scopes: ScopeSet,
    /// The divisions granted to the client.
    pub divisions: DivisionGrant,
}

impl Principal {
    /// Succeeds when the token has `scope`; otherwise the 403 problem naming the scope the
    /// operation needs and the scopes the token has.
    pub fn require(&self, scope: Scope) -> Result<(), ErrorDetail> {
        if self.scopes.contains(scope) {
            return Ok(());
        }
        let has = self.described_scopes();
        Err(ErrorDetail::new(
            ErrorCode::AuthorizationMissingScope,
            format!("This operation needs the scope \"{scope}\"; the token has {has}."),
        )
        .hint(format!(
            "Request a token with scope {scope} from an OAuth client that is granted it \
             (wrapup clients create --scopes \"{scope} …\", or ask an admin)."
        )))
    }

    /// [`Principal::require`] for an operation of the Genesys dialect, whose callers know
    /// Genesys permissions: the 403 names the permission the operation documents and the
    /// wrapup scope that grants it.
    pub fn require_permission(&self, permission: &str, scope: Scope) -> Result<(), ErrorDetail> {
        self.require(scope).map_err(|mut problem| {
            problem.message = format!(
                "This operation needs the permission {permission} (wrapup scope {scope}); the token has {}.",
                self.described_scopes()
            );
            problem.hint = Some(format!(
                "Use a token of an OAuth client granted {permission} or {scope} \
                 (wrapup clients create --scopes \"{permission} …\", or ask an admin); docs/genesys.md#permissions."
            ));
            problem
        })
    }

    fn described_scopes(&self) -> String {
        if self.scopes.is_empty() {
            "no scopes".to_string()
        } else {
            format!("the scopes \"{}\"", self.scopes)
        }
    }

    /// Whether objects of `division` are visible to this caller. Objects that are not must
    /// be answered exactly as if they did not exist.
    pub fn sees(&self, division: Uuid) -> bool {
        self.divisions.allows(division)
    }

    /// Whether every division of `grant` is visible to this caller: what a caller must see
    /// of an object spanning divisions (a webhook endpoint) to manage it.
    pub fn sees_all(&self, grant: &DivisionGrant) -> bool {
        match (&self.divisions, grant) {
            (DivisionGrant::All, _) => true,
            (DivisionGrant::Only(_), DivisionGrant::All) => false,
            (DivisionGrant::Only(_), DivisionGrant::Only(ids)) => ids.iter().all(|d| self.sees(*d)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scope_names_needed_and_held() {
        let p = Principal {
            client_id: Uuid::nil(),
            scopes: ScopeSet::parse("interaction:view").unwrap(),
            divisions: DivisionGrant::All,
        };
        assert!(p.require(Scope::InteractionView).is_ok());
        let e = p.require(Scope::InteractionWrite).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::AuthorizationMissingScope);
        assert!(e.message.contains("\"interaction:write\""), "{}", e.message);
        assert!(e.message.contains("\"interaction:view\""), "{}", e.message);
        let e = p
            .require_permission("conversation:participant:wrapup", Scope::InteractionWrite)
            .unwrap_err();
        assert_eq!(e.error_code, ErrorCode::AuthorizationMissingScope);
        assert!(
            e.message.starts_with("This operation needs the permission conversation:participant:wrapup (wrapup scope interaction:write)"),
            "{}",
            e.message
        );
    }

    #[test]
    fn sees_all_of_a_grant_only_when_granted_each_division() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let only_a = Principal {
            client_id: Uuid::nil(),
            scopes: ScopeSet::default(),
            divisions: DivisionGrant::Only(vec![a]),
        };
        assert!(only_a.sees_all(&DivisionGrant::Only(vec![a])));
        assert!(!only_a.sees_all(&DivisionGrant::Only(vec![a, b])));
        assert!(!only_a.sees_all(&DivisionGrant::All));
        let all = Principal {
            divisions: DivisionGrant::All,
            ..only_a
        };
        assert!(all.sees_all(&DivisionGrant::All));
    }
}

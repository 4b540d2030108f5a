//! OAuth scopes.

use std::fmt;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read interactions, their wrap-ups and history, the event stream.
    InteractionView,
    /// Apply a wrap-up.
    InteractionWrite,
    /// Create interactions and move them through their lifecycle.
    InteractionManage,
    /// Read wrap-up codes.
    WrapupCodeView,
    /// Create, rename, archive wrap-up codes.
    WrapupCodeManage,
    /// Divisions, OAuth clients, the request inspector.
    Admin,
    // Webhooks (docs/webhooks.md).
    /// Manage webhook endpoints: create, update, rotate secrets, read delivery logs, replay.
    WebhookManage,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::InteractionView,
        Scope::InteractionWrite,
        Scope::InteractionManage,
        Scope::WrapupCodeView,
        Scope::WrapupCodeManage,
        Scope::Admin,
        // Webhooks.
        Scope::WebhookManage,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::InteractionView => "interaction:view",
            Scope::InteractionWrite => "interaction:write",
            Scope::InteractionManage => "interaction:manage",
            Scope::WrapupCodeView => "wrapup-code:view",
            Scope::WrapupCodeManage => "wrapup-code:manage",
            Scope::Admin => "admin",
            // Webhooks.
            Scope::WebhookManage => "webhook:manage",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            Scope::InteractionView => {
                "Read interactions, their wrap-ups and history, the event stream"
            }
            Scope::InteractionWrite => "Apply a wrap-up",
            Scope::InteractionManage => "Create interactions and move them through their lifecycle",
            Scope::WrapupCodeView => "Read wrap-up codes",
            Scope::WrapupCodeManage => "Create, rename and archive wrap-up codes",
            Scope::Admin => "Divisions, OAuth clients, the request inspector",
            // Webhooks.
            Scope::WebhookManage => {
                "Webhook endpoints, their secrets, delivery logs and replays (admin may too)"
            }
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written space-separated on the wire (`"interaction:view admin"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub fn all() -> ScopeSet {
        Scope::ALL.into_iter().collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & (1 << scope as u8) != 0
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= 1 << scope as u8;
    }

    pub fn is_subset(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Parses a space-separated list of scopes, or of the Genesys Cloud permissions that
    /// stand for them ([`GENESYS_PERMISSIONS`]); the error names the first unknown word.
    pub fn parse(s: &str) -> Result<ScopeSet, String> {
        let mut set = ScopeSet::default();
        for word in s.split([' ', ',']).filter(|w| !w.is_empty()) {
            let scope = Scope::parse(word).or_else(|| Scope::of_genesys_permission(word));
            set.insert(scope.ok_or_else(|| word.to_string())?);
        }
        Ok(set)
    }
}

// ---- Genesys Cloud permissions (docs/genesys.md#permissions) -------------------------------

/// The Genesys Cloud permissions wrapup accepts beside its scopes (when creating a client,
/// when asking for a token), and the scope each one stands for. Several permissions may
/// stand for one scope; `interaction:manage` has none (Genesys has no API that moves a
/// conversation through its lifecycle the way wrapup's does).
pub const GENESYS_PERMISSIONS: &[(&str, Scope)] = &[
    ("conversation:communication:view", Scope::InteractionView),
    ("conversation:participant:wrapup", Scope::InteractionWrite),
    ("routing:wrapupCode:view", Scope::WrapupCodeView),
    ("analytics:conversationDetail:view", Scope::InteractionView),
    (
        "analytics:conversationAggregate:view",
        Scope::InteractionView,
    ),
    ("routing:wrapupCode:add", Scope::WrapupCodeManage),
    ("routing:wrapupCode:edit", Scope::WrapupCodeManage),
    ("routing:wrapupCode:delete", Scope::WrapupCodeManage),
    ("authorization:division:add", Scope::Admin),
    ("oauth:client:add", Scope::Admin),
];

impl Scope {
    /// The scope a Genesys Cloud permission stands for (exact spelling, case included).
    pub fn of_genesys_permission(permission: &str) -> Option<Scope> {
        GENESYS_PERMISSIONS
            .iter()
            .find(|(p, _)| *p == permission)
            .map(|(_, s)| *s)
    }

    /// The Genesys Cloud permissions that stand for this scope.
    pub fn genesys_permissions(self) -> impl Iterator<Item = &'static str> {
        GENESYS_PERMISSIONS
            .iter()
            .filter(move |(_, s)| *s == self)
            .map(|(p, _)| *p)
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::default();
        for s in iter {
            set.insert(s);
        }
        set
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let set = ScopeSet::parse("admin interaction:view").unwrap();
        assert!(set.contains(Scope::Admin));
        assert!(!set.contains(Scope::InteractionWrite));
        assert_eq!(set.to_string(), "interaction:view admin");
        assert_eq!(ScopeSet::parse("nope").unwrap_err(), "nope");
        assert!(set.is_subset(ScopeSet::all()));
    }

    #[test]
    fn genesys_permissions_stand_for_scopes() {
        let set =
            ScopeSet::parse("conversation:participant:wrapup routing:wrapupCode:view").unwrap();
        assert_eq!(set.to_string(), "interaction:write wrapup-code:view");
        assert_eq!(
            ScopeSet::parse("routing:wrapupcode:view").unwrap_err(),
            "routing:wrapupcode:view",
            "permissions are spelled exactly"
        );
        for (permission, scope) in GENESYS_PERMISSIONS {
            assert!(scope.genesys_permissions().any(|p| p == *permission));
            assert_eq!(Scope::parse(permission), None, "scope names stay wrapup's");
        }
        assert_eq!(Scope::InteractionManage.genesys_permissions().count(), 0);
    }
}

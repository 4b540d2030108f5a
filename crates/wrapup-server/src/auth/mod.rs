//! OAuth 2.0 client credentials, and who a request is from.
//!
//! - `credentials.rs`: client secrets (argon2), access tokens (random, stored as SHA-256),
//!   the cache that keeps both off the path of every request; `hashing.rs` runs argon2 on
//!   its own threads; `limits.rs` bounds failed token requests per client and per address.
//! - `token.rs` is `POST /oauth/token`; `clients.rs` is `POST /api/v2/oauth/clients`.
//! - `layer.rs` authenticates the bearer token before the handler runs; the extractors
//!   here ([`Authenticated`], [`Authorized`], [`Permitted`]) only take the principal it
//!   found (and check the scope or permission).

pub mod clients;
mod credentials;
pub mod hashing;
pub mod layer;
pub mod limits;
pub mod token;

use std::marker::PhantomData;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use wrapup_domain::Principal;
use wrapup_types::{ErrorDetail, Scope};

pub use self::credentials::{
    bearer, new_client, new_token, token_hash, CredentialCache, TOKEN_LIFETIME_SECS,
};
use self::hashing::HashingPool;
use self::limits::FailedAuthLimits;
use crate::error::ApiError;
use crate::middleware::context::RequestContext;

/// The server's authentication part (a substate): what token requests and the
/// authenticating layer need.
pub struct Authentication {
    /// Token lookups and secret checks already done.
    pub credentials: CredentialCache,
    /// The limits on failed token requests, per client id and per source address.
    pub limits: FailedAuthLimits,
    /// Where secrets are hashed (argon2), apart from request handling.
    pub hashing: HashingPool,
    /// How long a token request refused without a check waits for its answer.
    pub refusal_delay: Duration,
}

/// An authenticated caller, whatever its scopes: what the authenticating layer
/// (`auth::layer`) leaves in the request's [`RequestContext`], taken from there by the
/// handler.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl<State: Send + Sync> FromRequestParts<State> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &State) -> Result<Self, ApiError> {
        let context = parts.extensions.get::<RequestContext>();
        context
            .and_then(RequestContext::take_caller)
            .map(Authenticated)
            .ok_or_else(|| {
                ApiError::internal(
                    "an authenticated handler without a principal",
                    "the request did not pass the authenticating step: the route is not behind \
                 it, or its method is served there but missing from the OpenAPI document \
                 (auth::layer::TokenPaths)",
                )
            })
    }
}

/// A scope, as a type, for [`Authorized`].
pub trait RequiredScope: Send + Sync {
    const SCOPE: Scope;

    /// Whether the caller may: by default, when its token has [`RequiredScope::SCOPE`];
    /// otherwise the 403 naming it.
    fn check(principal: &Principal) -> Result<(), ErrorDetail> {
        principal.require(Self::SCOPE)
    }
}

macro_rules! scopes {
    ($($name:ident => $scope:ident),* $(,)?) => {$(
        #[doc = concat!("Marker for the `", stringify!($scope), "` scope.")]
        pub struct $name;
        impl RequiredScope for $name {
            const SCOPE: Scope = Scope::$scope;
        }
    )*};
}

scopes! {
    InteractionView => InteractionView,
    InteractionWrite => InteractionWrite,
    InteractionManage => InteractionManage,
    CodeView => WrapupCodeView,
    CodeManage => WrapupCodeManage,
    Admin => Admin,
}

/// Marker for the `webhook:manage` scope, which `admin` implies.
pub struct WebhookManage;

impl RequiredScope for WebhookManage {
    const SCOPE: Scope = Scope::WebhookManage;

    fn check(principal: &Principal) -> Result<(), ErrorDetail> {
        if principal.scopes.contains(Scope::Admin) {
            return Ok(());
        }
        principal.require(Scope::WebhookManage)
    }
}

/// An authenticated caller whose token has scope `S`; checked before anything else of the
/// request is looked at.
pub struct Authorized<S: RequiredScope>(pub Principal, pub PhantomData<S>);

impl<S: RequiredScope, State: Send + Sync> FromRequestParts<State> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, ApiError> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        S::check(&principal).map_err(ApiError::one)?;
        Ok(Authorized(principal, PhantomData))
    }
}

/// A Genesys Cloud permission, as a type, for [`Permitted`]: the permission the Genesys
/// operation documents and the wrapup scope that stands for it
/// (`wrapup_types::scope::GENESYS_PERMISSIONS`).
pub trait RequiredPermission: Send + Sync {
    const PERMISSION: &'static str;
    const SCOPE: Scope;
}

macro_rules! permissions {
    ($($name:ident => ($permission:literal, $scope:ident)),* $(,)?) => {$(
        #[doc = concat!("Marker for the `", $permission, "` permission (scope `", stringify!($scope), "`).")]
        pub struct $name;
        impl RequiredPermission for $name {
            const PERMISSION: &'static str = $permission;
            const SCOPE: Scope = Scope::$scope;
        }
    )*};
}

permissions! {
    CommunicationViewPermission => ("conversation:communication:view", InteractionView),
    ParticipantWrapupPermission => ("conversation:participant:wrapup", InteractionWrite),
    WrapupCodeViewPermission => ("routing:wrapupCode:view", WrapupCodeView),
    ConversationDetailPermission => ("analytics:conversationDetail:view", InteractionView),
    ConversationAggregatePermission => ("analytics:conversationAggregate:view", InteractionView),
}

/// [`Authorized`] for the operations of the Genesys dialect: the 403 names the Genesys
/// permission beside the scope.
pub struct Permitted<P: RequiredPermission>(pub Principal, pub PhantomData<P>);

impl<P: RequiredPermission, State: Send + Sync> FromRequestParts<State> for Permitted<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, ApiError> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        principal
            .require_permission(P::PERMISSION, P::SCOPE)
            .map_err(ApiError::one)?;
        Ok(Permitted(principal, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_marker_agrees_with_the_permission_table() {
        fn check<P: RequiredPermission>() {
            assert_eq!(Scope::of_genesys_permission(P::PERMISSION), Some(P::SCOPE));
        }
        check::<CommunicationViewPermission>();
        check::<ParticipantWrapupPermission>();
        check::<WrapupCodeViewPermission>();
        check::<ConversationDetailPermission>();
        check::<ConversationAggregatePermission>();
    }
}

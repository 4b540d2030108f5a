//! What can go wrong calling the API, as one typed error.

use std::time::Duration;

use wrapup_types::{ErrorBody, ErrorCode, OAuthErrorBody};

use crate::transport::TransportFailure;

/// What can go wrong calling the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused the request; the body says why.
    #[error("{} {}: {}", .status, .body.code, .body.message)]
    Api {
        status: u16,
        body: ErrorBody,
        retry_after: Option<Duration>,
    },
    /// The token endpoint refused the credentials or the request.
    #[error("token request failed ({status}): {}: {}", .body.error, .body.error_description)]
    OAuth { status: u16, body: OAuthErrorBody },
    /// The server could not be reached, or the connection failed
    /// ([`Error::transport_failure`] says how).
    #[error("cannot reach the server: {}", crate::transport::describe(.0))]
    Transport(#[from] reqwest::Error),
    /// The server answered something this client does not understand.
    #[error("unexpected response ({status}): {message}")]
    Unexpected { status: u16, message: String },
    /// No credentials were configured for an operation that needs a token.
    #[error("no credentials: set a client id and secret (WRAPUP_CLIENT_ID, WRAPUP_CLIENT_SECRET), or a token")]
    NoCredentials,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The API error code, when the API refused the request.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// Why the request got no answer, when it got none.
    pub fn transport_failure(&self) -> Option<TransportFailure> {
        match self {
            Error::Transport(e) => Some(TransportFailure::of(e)),
            _ => None,
        }
    }

    /// Whether the failure is about reaching or authenticating to the server (rather than
    /// the server refusing this particular request).
    pub fn is_connectivity(&self) -> bool {
        match self {
            Error::Transport(_) | Error::OAuth { .. } | Error::NoCredentials => true,
            Error::Api { status, .. } => *status == 401 || *status >= 500,
            Error::Unexpected { status, .. } => *status >= 500 || *status == 0 || *status == 401,
        }
    }
}

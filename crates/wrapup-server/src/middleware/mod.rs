//! The layers every request passes, outermost first: `observe` (the request id, the error
//! renderer of `crate::error`, log line, metrics, rate-limit headers, inspector, and as steps
//! of it `timeout`, with the fault injection of `crate::chaos` inside, and the panic catch);
//! then, on the routes that need a token, `crate::auth::layer` and `crate::rate_limit::layer`
//! (when a limit is set). `crate::router` puts them in that order. Steps that always run
//! together are one layer, written as a `tower::Service`: each layer costs every request a
//! clone of the services below it, and a `from_fn` layer a boxed future and a boxed `Next` on
//! top. `context.rs` is what the inner layers tell the outer one about a request.

pub mod context;
pub mod observe;
pub mod request_id;
pub mod timeout;

use std::convert::Infallible;

use axum::response::{IntoResponse, Response};
use futures::future::{self, BoxFuture, Either, Ready};

/// The future of a layer that either passes the request on (`F`, the inner service's
/// future) or answers it itself: at once, or after waiting for something.
pub type PassOrAnswer<F> = Either<F, Either<Ready<Result<Response, Infallible>>, AnswerLater>>;

/// An answer (or the inner service's) that needs an await first.
pub type AnswerLater = BoxFuture<'static, Result<Response, Infallible>>;

/// The request goes on to the inner service.
pub fn pass<F>(inner: F) -> PassOrAnswer<F> {
    Either::Left(inner)
}

/// The layer answers at once, without calling the inner service.
pub fn answer<F>(response: impl IntoResponse) -> PassOrAnswer<F> {
    Either::Right(Either::Left(future::ready(Ok(response.into_response()))))
}

/// The layer answers (or calls the inner service) after an await.
pub fn answer_later<F>(future: AnswerLater) -> PassOrAnswer<F> {
    Either::Right(Either::Right(future))
}

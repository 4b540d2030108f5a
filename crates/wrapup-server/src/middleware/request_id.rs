//! `X-Request-Id`: echoed when the client sends a sane one, generated otherwise, and
//! repeated in error bodies as `contextId`.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::request_context::RequestId;

pub const HEADER: &str = "x-request-id";

fn sane(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanity() {
        assert!(super::sane("abc-123"));
        assert!(!super::sane(""));
        assert!(!super::sane(&"a".repeat(129)));
        assert!(!super::sane("a b"));
        assert!(!super::sane("<script>"));
    }
}

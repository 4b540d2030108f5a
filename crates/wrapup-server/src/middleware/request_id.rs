//! `X-Request-Id`: echoed when the client sends a sane one, generated otherwise, and
//! repeated in error bodies as `contextId`.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

pub const HEADER: &str = "x-request-id";

/// [`HEADER`] as a header name: made once, where `insert(HEADER, …)` would copy the
/// name into a new allocation on every response.
const HEADER_NAME: HeaderName = HeaderName::from_static(HEADER);

fn sane(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

/// The request's id (the client's, when sane; a new UUID otherwise), for the logs
/// for the handlers and the error bodies. Called first thing by `observe`, the outermost
/// layer.
pub fn assign(request: &mut Request) -> String {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_string)
        .unwrap_or_else(|| {
            // Written straight into its buffer, then copied: not through `Display`'s
            // formatter (which `to_string` on the `&mut str` it returns would go through).
            let mut text = uuid::Uuid::encode_buffer();
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut text)
                .to_owned()
        });
    id
}

/// Repeats the id on the response.
pub fn echo(response: &mut Response, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(HEADER_NAME, value);
    }
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

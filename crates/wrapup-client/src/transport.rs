//! What goes wrong below HTTP, in words people can act on: a server URL that cannot be the
//! base of the API's paths, and why a request never got an answer (nothing listening,
//! TLS against a plain-HTTP server, a name that does not resolve…). reqwest reports these
//! as one opaque error ("error sending request for url (…)"); this reads its causes.

use std::fmt;

use reqwest::Url;

/// Checks a server URL before any request is sent and returns it without a trailing slash:
/// it must be `http://` or `https://` with a host, and must not name a path of the API
/// (`…/api/v2`, `…/oauth/token`): clients add those themselves. A path that is not the
/// API's (a reverse proxy's prefix such as `https://gw.example.com/wrapup`) is kept.
pub fn check_base_url(url: &str) -> Result<String, String> {
    let given = url.trim();
    let with_scheme = |s: &str| format!("http://{}", s.trim_matches('/'));
    let has_scheme = given.starts_with("http://") || given.starts_with("https://");
    let text = if has_scheme && given.len() > given.find("://").unwrap_or(0) + 3 {
        given.trim_end_matches('/')
    } else {
        given
    };
    if !has_scheme {
        return Err(if text.contains("://") {
            format!(
                "the URL {url} is not http:// or https://; the server speaks HTTP, e.g. {}",
                with_scheme(text.split_once("://").map_or(text, |(_, rest)| rest))
            )
        } else {
            format!("the URL needs a scheme: {} (not {url})", with_scheme(text))
        });
    }
    let parsed = Url::parse(text).map_err(|e| format!("the URL {url} is not a URL: {e}"))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "the URL {url} names no host, e.g. http://127.0.0.1:8080"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "the URL {url} has a query or fragment; give the server's root URL, e.g. {}",
            root(&parsed)
        ));
    }
    let path = parsed.path();
    let api_path = ["/api/", "/oauth/token", "/healthz"]
        .iter()
        .filter_map(|p| path.find(p))
        .min()
        .or_else(|| path.ends_with("/api").then(|| path.len() - 4));
    if let Some(at) = api_path {
        return Err(format!(
            "the URL {url} already has the API path {}: use the server's root URL, {}{} (wrapup adds /api/v2 itself)",
            &path[at..],
            root(&parsed),
            &path[..at]
        ));
    }
    Ok(text.to_string())
}

/// `scheme://host[:port]` of a URL.
fn root(url: &Url) -> String {
    let mut root = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        root.push_str(&format!(":{port}"));
    }
    root
}

/// Why a request never got an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The URL cannot be requested (no scheme, no host…).
    BadUrl,
    /// Nothing listens at that address and port.
    Refused,
    /// The TLS handshake failed: often `https://` to a plain-HTTP server.
    Tls,
    /// The host name does not resolve.
    UnknownHost,
    /// No answer in time.
    Timeout,
    /// The connection was reset or closed before the answer.
    Dropped,
    /// Something else (the message says what).
    Other,
}

impl TransportFailure {
    /// Reads a reqwest error's causes.
    pub fn of(e: &reqwest::Error) -> TransportFailure {
        if e.is_builder() {
            return TransportFailure::BadUrl;
        }
        let mut refused = false;
        let mut source: Option<&dyn std::error::Error> = Some(e);
        let mut text = String::new();
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            text.push_str(&s.to_string().to_lowercase());
            text.push('\n');
            source = s.source();
        }
        if refused || text.contains("connection refused") {
            TransportFailure::Refused
        } else if [
            "tls",
            "certificate",
            "handshake",
            "invalidcontenttype",
            "corrupt message",
        ]
        .iter()
        .any(|w| text.contains(w))
        {
            TransportFailure::Tls
        } else if text.contains("dns error") || text.contains("failed to lookup address") {
            TransportFailure::UnknownHost
        } else if e.is_timeout() {
            TransportFailure::Timeout
        } else if text.contains("reset") || text.contains("closed") || text.contains("eof") {
            TransportFailure::Dropped
        } else {
            TransportFailure::Other
        }
    }

    /// What to try next, for a server at `base_url`.
    pub fn hint(self, base_url: &str) -> String {
        match self {
            TransportFailure::BadUrl => {
                "Give the server's root URL with its scheme, e.g. http://127.0.0.1:8080.".into()
            }
            TransportFailure::Refused => format!(
                "Nothing accepts connections at {base_url}: start the server (`wrapup serve`), or check the port in --url / WRAPUP_URL (`wrapup config show` says where it comes from)."
            ),
            TransportFailure::Tls => match base_url.strip_prefix("https://") {
                Some(rest) => format!(
                    "If the server speaks plain HTTP (as `wrapup serve` does), use http://{rest}; otherwise check its certificate."
                ),
                None => "Check the server's certificate and TLS settings.".into(),
            },
            TransportFailure::UnknownHost => {
                format!("The host name of {base_url} does not resolve: check its spelling in --url / WRAPUP_URL.")
            }
            TransportFailure::Timeout => format!(
                "{base_url} did not answer in time: check that it is the right address and that the server is not overloaded."
            ),
            TransportFailure::Dropped => "The connection dropped before the answer; retry. If it keeps happening, check the server's log and any proxy in between.".into(),
            TransportFailure::Other => format!(
                "Check --url / WRAPUP_URL ({base_url}) and that the server is running (`wrapup doctor` checks it)."
            ),
        }
    }
}

impl TransportFailure {
    /// What happened, in a few words.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportFailure::BadUrl => "the URL cannot be requested",
            TransportFailure::Refused => "connection refused",
            TransportFailure::Tls => "the TLS handshake failed",
            TransportFailure::UnknownHost => "the host name does not resolve",
            TransportFailure::Timeout => "no answer in time",
            TransportFailure::Dropped => "the connection dropped",
            TransportFailure::Other => "the request failed",
        }
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reqwest error as people read it: what happened and where, then (unless the words say
/// it all) the innermost cause reqwest reports.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let failure = TransportFailure::of(e);
    let at = e
        .url()
        .map(|u| {
            format!(
                " at {}{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default()
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    if matches!(
        failure,
        TransportFailure::Refused | TransportFailure::Timeout
    ) {
        return format!("{failure}{at}");
    }
    let mut innermost = e.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        innermost = s.to_string();
        source = s.source();
    }
    format!("{failure}{at} ({innermost})")
}

#[cfg(test)]
mod tests {
    use super::check_base_url;

    #[test]
    fn base_urls() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://wrapup.example.com",
            "https://gw.example.com/wrapup",
        ] {
            assert_eq!(
                check_base_url(ok).as_deref(),
                Ok(ok.trim_end_matches('/')),
                "{ok}"
            );
        }
        let err = |url| check_base_url(url).unwrap_err();
        assert_eq!(
            err("127.0.0.1:8080"),
            "the URL needs a scheme: http://127.0.0.1:8080 (not 127.0.0.1:8080)"
        );
        assert!(err("localhost:8080").contains("http://localhost:8080"));
        assert!(err("ftp://host").contains("http://host"));
        let api = err("http://127.0.0.1:8080/api/v2");
        assert!(
            api.contains("use the server's root URL, http://127.0.0.1:8080 "),
            "{api}"
        );
        assert!(err("http://127.0.0.1:8080/api/v2/").contains("root URL"));
        assert!(err("https://gw.example.com/wrapup/api/v2/interactions")
            .contains("https://gw.example.com/wrapup (wrapup adds"));
        assert!(err("http://127.0.0.1:8080/oauth/token").contains("root URL"));
        assert!(err("http://127.0.0.1:8080?x=1").contains("query"));
        assert!(err("http://").contains("no host") || err("http://").contains("not a URL"));
    }
}

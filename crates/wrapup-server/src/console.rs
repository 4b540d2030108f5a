//! The web console's files, embedded in the binary at build time from
//! `crates/wrapup-server/console/` (plain HTML, CSS and JavaScript modules: `cargo build`
//! needs no front-end toolchain). `routes::console` serves them; docs/console.md describes
//! the console.
//!
//! Every asset is served under `/console/{version}/…`, where the version is a hash of all
//! the files, so it can be cached for good: a new build has a new version, and the page at
//! `/` (never cached) names it.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// Its path under `console/`, e.g. `js/app.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: content_type($path),
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)),
        }),*]
    };
}

/// Every file the console serves: what `build.rs` finds under `console/` (less the
/// developers' files: documentation, licences, tool configuration), sorted by path.
pub const ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// The file served at `/`; `{{ASSETS}}` in it becomes the versioned asset prefix.
const INDEX: &str = "index.html";

const fn ends_with(bytes: &[u8], ext: &[u8]) -> bool {
    if bytes.len() < ext.len() {
        return false;
    }
    let mut i = 0;
    while i < ext.len() {
        if bytes[bytes.len() - ext.len() + i] != ext[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn content_type(path: &str) -> &'static str {
    let bytes = path.as_bytes();
    if ends_with(bytes, b".html") {
        "text/html; charset=utf-8"
    } else if ends_with(bytes, b".css") {
        "text/css; charset=utf-8"
    } else if ends_with(bytes, b".js") {
        "text/javascript; charset=utf-8"
    } else if ends_with(bytes, b".svg") {
        "image/svg+xml"
    } else {
        "application/octet-stream"
    }
}

/// The version of the embedded files: the first 12 hex digits of a SHA-256 over them.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new();
        for asset in ASSETS {
            hash.update(asset.path.as_bytes());
            hash.update([0]);
            hash.update(asset.bytes);
        }
        hash.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// The page served at `/`, naming the current asset prefix.
pub fn index_html() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        let raw = find(INDEX).expect("index.html is embedded").bytes;
        String::from_utf8_lossy(raw).replace("{{ASSETS}}", &format!("/console/{}", version()))
    })
}

/// The embedded file at `path` (relative to `console/`).
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The Content-Security-Policy of every console response: this origin only, no inline
/// script, no framing. `data:` images are the icons of the vendored API reference (Swagger
/// UI's stylesheet holds them inline).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

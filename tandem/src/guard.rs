//! Guards in front of every mutation: where it comes from, how big it is,
//! what it is made of. Each refusal is a clear 4xx that changes nothing.
//!
//! | check | answer |
//! |---|---|
//! | another method than the function's (`POST`) | `405` with `Allow` |
//! | a browser request from another site (`Sec-Fetch-Site`, `Origin`, else `Referer`, against the request's host or [`Guard::allow_origin`]) | `403` |
//! | a body over the limit (1 MiB, [`Guard::body_limit`], per function with [`Guard::function_body_limit`]) | `413` |
//! | a content type no server function codec reads | `415` |
//! | arguments that do not decode | `400`, naming what was wrong |
//! | an unknown function under the server function prefix | `404` |
//! | a panic inside a function | `500`, logged; the server keeps serving |
//!
//! Requests from outside a browser (no `Origin`, `Referer` or
//! `Sec-Fetch-Site`) are not cross-site requests and pass the origin check.
//! `X-Forwarded-Host` is trusted only with [`Guard::trust_proxy`].
//!
//! ```
//! let guard = tandem::Guard::default()
//!     .allow_origin("https://admin.example.com")
//!     .body_limit(64 * 1024);
//! ```

use http::{header, HeaderMap, StatusCode};
use std::collections::HashMap;

/// Default largest body a server function accepts: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Content types the server function codecs read.
const CODEC_CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "application/json",
    "multipart/form-data",
    "application/cbor",
    "application/msgpack",
    "application/octet-stream",
    "application/rkyv",
    "application/bitcode",
    "application/postcard",
    "text/plain",
];

/// Why a request was refused: its status and a message for the caller.
///
/// ```
/// let r = tandem::guard::Refusal::new(http::StatusCode::FORBIDDEN, "no");
/// assert_eq!(r.status, http::StatusCode::FORBIDDEN);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct Refusal {
    /// The 4xx status.
    pub status: StatusCode,
    /// What was wrong.
    pub message: String,
}

impl Refusal {
    /// A refusal with this status and message.
    ///
    /// ```
    /// let r = tandem::guard::Refusal::new(http::StatusCode::PAYLOAD_TOO_LARGE, "too big");
    /// assert_eq!(r.message, "too big");
    /// ```
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// The settings of the checks (see the [module docs](self)).
///
/// ```
/// let guard = tandem::Guard::default().trust_proxy(true);
/// ```
#[derive(Clone, Debug)]
pub struct Guard {
    allowed_origins: Vec<String>,
    trust_proxy: bool,
    body_limit: usize,
    function_limits: HashMap<String, usize>,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            trust_proxy: false,
            body_limit: DEFAULT_BODY_LIMIT,
            function_limits: HashMap::new(),
        }
    }
}

impl Guard {
    /// Settings from the environment: `TANDEM_ALLOWED_ORIGINS` (comma
    /// separated), `TANDEM_TRUST_PROXY` (`1`/`true`), `TANDEM_BODY_LIMIT`
    /// (bytes).
    ///
    /// ```
    /// let guard = tandem::Guard::from_env();
    /// ```
    pub fn from_env() -> Self {
        let mut guard = Self::default();
        if let Ok(origins) = std::env::var("TANDEM_ALLOWED_ORIGINS") {
            for origin in origins.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                guard = guard.allow_origin(origin);
            }
        }
        if let Ok(v) = std::env::var("TANDEM_TRUST_PROXY") {
            guard.trust_proxy = matches!(v.trim(), "1" | "true" | "yes");
        }
        if let Some(limit) = std::env::var("TANDEM_BODY_LIMIT")
            .ok()
            .and_then(|v| v.trim().parse().ok())
        {
            guard.body_limit = limit;
        }
        guard
    }

    /// Also accepts mutations from pages of `origin` (`scheme://host[:port]`).
    ///
    /// ```
    /// let guard = tandem::Guard::default().allow_origin("https://example.com");
    /// ```
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins
            .push(origin.into().trim_end_matches('/').to_ascii_lowercase());
        self
    }

    /// Whether `X-Forwarded-Host` names the host (behind a proxy you run).
    ///
    /// ```
    /// let guard = tandem::Guard::default().trust_proxy(true);
    /// ```
    pub fn trust_proxy(mut self, on: bool) -> Self {
        self.trust_proxy = on;
        self
    }

    /// The largest body any server function accepts.
    ///
    /// ```
    /// let guard = tandem::Guard::default().body_limit(10 * 1024);
    /// ```
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The largest body the function at `path` accepts.
    ///
    /// ```
    /// let guard = tandem::Guard::default().function_body_limit("/api/upload", 10 << 20);
    /// assert_eq!(guard.limit_for("/api/upload"), 10 << 20);
    /// ```
    pub fn function_body_limit(mut self, path: impl Into<String>, bytes: usize) -> Self {
        self.function_limits.insert(path.into(), bytes);
        self
    }

    /// The body limit for the function at `path`.
    ///
    /// ```
    /// assert_eq!(tandem::Guard::default().limit_for("/api/x"), tandem::guard::DEFAULT_BODY_LIMIT);
    /// ```
    pub fn limit_for(&self, path: &str) -> usize {
        self.function_limits
            .get(path)
            .copied()
            .unwrap_or(self.body_limit)
    }

    /// Checks where a mutation comes from.
    ///
    /// ```
    /// let mut h = http::HeaderMap::new();
    /// h.insert("host", "shop.example".parse().unwrap());
    /// h.insert("origin", "https://evil.example".parse().unwrap());
    /// assert!(tandem::Guard::default().check_origin(&h).is_err());
    /// h.insert("origin", "https://shop.example".parse().unwrap());
    /// assert!(tandem::Guard::default().check_origin(&h).is_ok());
    /// ```
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(site) = text("sec-fetch-site") {
            // The browser says where the request comes from; "none" is the
            // user (address bar, bookmark).
            if matches!(site, "same-origin" | "none") {
                return Ok(());
            }
            if site != "same-site" && site != "cross-site" {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!("Sec-Fetch-Site {site:?} is not a value browsers send"),
                ));
            }
            // same-site / cross-site: allowed only for a listed origin.
        }
        let claimed = match (text("origin"), text("referer")) {
            (Some(origin), _) if origin != "null" => origin.to_string(),
            (Some(_), _) => {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    "Origin is null (an opaque origin): mutations must come from this site",
                ))
            }
            (None, Some(referer)) => origin_of(referer).ok_or_else(|| {
                Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!("Referer {referer:?} is not a URL"),
                )
            })?,
            (None, None) => {
                if text("sec-fetch-site").is_some() {
                    return Err(Refusal::new(
                        StatusCode::FORBIDDEN,
                        "a cross-site request without Origin or Referer",
                    ));
                }
                return Ok(()); // not from a browser
            }
        };
        let claimed = claimed.trim_end_matches('/').to_ascii_lowercase();
        if self.allowed_origins.contains(&claimed) {
            return Ok(());
        }
        let host = self.host(headers).ok_or_else(|| {
            Refusal::new(
                StatusCode::FORBIDDEN,
                "the request names no Host to compare its Origin with",
            )
        })?;
        let claimed_host = claimed
            .split_once("://")
            .map(|(_, h)| h)
            .unwrap_or(&claimed);
        if claimed_host == host.to_ascii_lowercase() {
            Ok(())
        } else {
            Err(Refusal::new(
                StatusCode::FORBIDDEN,
                format!("cross-site request refused: Origin {claimed} does not match host {host}"),
            ))
        }
    }

    fn host<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        if self.trust_proxy {
            if let Some(forwarded) = headers
                .get("x-forwarded-host")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
            {
                return Some(forwarded.trim());
            }
        }
        text(header::HOST)
    }

    /// Checks the declared size and type of a server function's body.
    ///
    /// ```
    /// let mut h = http::HeaderMap::new();
    /// h.insert("content-type", "text/xml".parse().unwrap());
    /// let refused = tandem::Guard::default().check_body_headers("/api/x", &h).unwrap_err();
    /// assert_eq!(refused.status, http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    /// ```
    pub fn check_body_headers(&self, path: &str, headers: &HeaderMap) -> Result<(), Refusal> {
        let limit = self.limit_for(path);
        if let Some(length) = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if length > limit as u64 {
                return Err(too_large(limit));
            }
        }
        if let Some(ct) = headers.get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if !CODEC_CONTENT_TYPES.contains(&essence) {
                return Err(Refusal::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "content type {essence:?} is not one server functions read (use application/x-www-form-urlencoded or application/json)"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The `413` for a body over `limit` bytes.
pub(crate) fn too_large(limit: usize) -> Refusal {
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is over the limit of {limit} bytes"),
    )
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// Whether a server function's error response says its arguments did not
/// decode (server_fn encodes `ServerFnError` as `Variant|message`); the
/// message for a `400` if so.
pub(crate) fn bad_arguments(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (variant, message) = text.split_once('|')?;
    matches!(variant, "Args" | "Deserialization" | "MissingArg").then(|| message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_passes_and_foreign_origin_is_refused() {
        let g = Guard::default();
        assert!(g
            .check_origin(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000")
            ]))
            .is_ok());
        let refused = g
            .check_origin(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://evil.test"),
            ]))
            .unwrap_err();
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.message.contains("evil.test"));
    }

    #[test]
    fn referer_stands_in_for_a_missing_origin() {
        let g = Guard::default();
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("referer", "https://a.test/posts?x=1")
            ]))
            .is_ok());
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("referer", "https://b.test/")
            ]))
            .is_err());
    }

    #[test]
    fn sec_fetch_site_is_believed() {
        let g = Guard::default();
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("sec-fetch-site", "same-origin")
            ]))
            .is_ok());
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("sec-fetch-site", "cross-site")
            ]))
            .is_err());
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://b.test")
            ]))
            .is_err());
    }

    #[test]
    fn listed_origins_and_trusted_proxies() {
        let g = Guard::default().allow_origin("https://admin.test/");
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("origin", "https://admin.test")
            ]))
            .is_ok());
        let h = headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "shop.test"),
            ("origin", "https://shop.test"),
        ]);
        assert!(Guard::default().check_origin(&h).is_err());
        assert!(Guard::default().trust_proxy(true).check_origin(&h).is_ok());
    }

    #[test]
    fn non_browser_clients_pass() {
        assert!(Guard::default()
            .check_origin(&headers(&[("host", "a.test")]))
            .is_ok());
    }

    #[test]
    fn null_origin_is_refused() {
        assert!(Guard::default()
            .check_origin(&headers(&[("host", "a.test"), ("origin", "null")]))
            .is_err());
    }

    #[test]
    fn body_limits_and_content_types() {
        let g = Guard::default().function_body_limit("/api/big", 10);
        assert_eq!(
            g.check_body_headers("/api/big", &headers(&[("content-length", "11")]))
                .unwrap_err()
                .status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert!(g
            .check_body_headers("/api/small", &headers(&[("content-length", "11")]))
            .is_ok());
        assert!(g
            .check_body_headers(
                "/api/x",
                &headers(&[(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=UTF-8"
                )])
            )
            .is_ok());
    }

    #[test]
    fn argument_errors_are_recognised() {
        assert_eq!(
            bad_arguments(b"Args|missing field `title`").as_deref(),
            Some("missing field `title`")
        );
        assert_eq!(bad_arguments(b"ServerError|boom"), None);
    }
}

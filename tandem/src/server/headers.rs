//! Security headers on the site's pages: a Content-Security-Policy built on
//! Leptos's nonces, `frame-ancestors 'none'`, `X-Content-Type-Options:
//! nosniff` and `Referrer-Policy: same-origin`. Each can be changed or
//! turned off.
//!
//! Every page gets a fresh nonce; Leptos puts it on the scripts it writes
//! (hydration, resource data, streaming) and Tandem on its pre-hydration
//! script, so no script needs `'unsafe-inline'`. The wasm needs
//! `'wasm-unsafe-eval'`. Under `cargo leptos watch` the live-reload socket
//! is allowed too.
//!
//! ```
//! use tandem::server::SecurityHeaders;
//! let headers = SecurityHeaders::default()
//!     .content_security_policy(Some("default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"))
//!     .referrer_policy(Some("no-referrer"));
//! let off = SecurityHeaders::none();
//! ```

use http::{header, HeaderMap, HeaderValue};
use leptos::nonce::Nonce;

/// The policy Tandem sends unless told otherwise. `{nonce}` is the page's
/// nonce; `{connect}` the live-reload socket under `cargo leptos watch`
/// (empty otherwise).
pub const DEFAULT_CSP: &str = "default-src 'self'; \
script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data: blob:; connect-src 'self'{connect}; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The headers Tandem adds to pages (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    csp: Option<String>,
    nosniff: bool,
    referrer_policy: Option<String>,
    frame_options: Option<String>,
}

impl Default for SecurityHeaders {
    /// [`DEFAULT_CSP`], `nosniff`, `Referrer-Policy: same-origin`,
    /// `X-Frame-Options: DENY` (for browsers without `frame-ancestors`).
    fn default() -> Self {
        Self {
            csp: Some(DEFAULT_CSP.to_string()),
            nosniff: true,
            referrer_policy: Some("same-origin".into()),
            frame_options: Some("DENY".into()),
        }
    }
}

impl SecurityHeaders {
    /// No security headers at all.
    ///
    /// ```
    /// let headers = tandem::server::SecurityHeaders::none();
    /// ```
    pub fn none() -> Self {
        Self {
            csp: None,
            nosniff: false,
            referrer_policy: None,
            frame_options: None,
        }
    }

    /// The Content-Security-Policy (`{nonce}` and `{connect}` are filled
    /// in, see [`DEFAULT_CSP`]); `None` sends none.
    ///
    /// ```
    /// let h = tandem::server::SecurityHeaders::default().content_security_policy(None::<&str>);
    /// ```
    pub fn content_security_policy(mut self, policy: Option<impl Into<String>>) -> Self {
        self.csp = policy.map(Into::into);
        self
    }

    /// Whether to send `X-Content-Type-Options: nosniff`.
    ///
    /// ```
    /// let h = tandem::server::SecurityHeaders::default().nosniff(false);
    /// ```
    pub fn nosniff(mut self, on: bool) -> Self {
        self.nosniff = on;
        self
    }

    /// The `Referrer-Policy`; `None` sends none.
    ///
    /// ```
    /// let h = tandem::server::SecurityHeaders::default().referrer_policy(Some("no-referrer"));
    /// ```
    pub fn referrer_policy(mut self, policy: Option<impl Into<String>>) -> Self {
        self.referrer_policy = policy.map(Into::into);
        self
    }

    /// The `X-Frame-Options`; `None` sends none (the policy's
    /// `frame-ancestors` still applies).
    ///
    /// ```
    /// let h = tandem::server::SecurityHeaders::default().frame_options(None::<&str>);
    /// ```
    pub fn frame_options(mut self, value: Option<impl Into<String>>) -> Self {
        self.frame_options = value.map(Into::into);
        self
    }

    /// Whether pages need a nonce (a policy that names one).
    pub(crate) fn wants_nonce(&self) -> bool {
        self.csp.as_deref().is_some_and(|p| p.contains("{nonce}"))
    }

    /// Adds the headers to a page's response: `nonce` is the one the page
    /// was rendered with, `host` the request's host (for the live-reload
    /// socket).
    pub(crate) fn apply(&self, headers: &mut HeaderMap, nonce: Option<&Nonce>, host: Option<&str>) {
        if let Some(policy) = &self.csp {
            let connect = live_reload_source(host).unwrap_or_default();
            let nonce = nonce.map(|n| n.to_string()).unwrap_or_default();
            let policy = policy
                .replace("{nonce}", &nonce)
                .replace("{connect}", &connect);
            if let Ok(value) = HeaderValue::from_str(&policy) {
                headers.insert(header::CONTENT_SECURITY_POLICY, value);
            }
        }
        if let Some(policy) = self.referrer_policy.as_deref() {
            if let Ok(value) = HeaderValue::from_str(policy) {
                headers.insert(header::REFERRER_POLICY, value);
            }
        }
        if let Some(frame) = self.frame_options.as_deref() {
            if let Ok(value) = HeaderValue::from_str(frame) {
                headers.insert(header::X_FRAME_OPTIONS, value);
            }
        }
        self.apply_nosniff(headers);
    }

    /// `X-Content-Type-Options` alone (every response gets it).
    pub(crate) fn apply_nosniff(&self, headers: &mut HeaderMap) {
        if self.nosniff {
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
    }
}

/// ` ws://host:port` for Leptos's live-reload socket, when the server runs
/// under `cargo leptos watch` (which sets `LEPTOS_WATCH` and
/// `LEPTOS_RELOAD_PORT`).
fn live_reload_source(host: Option<&str>) -> Option<String> {
    std::env::var_os("LEPTOS_WATCH")?;
    let port = std::env::var("LEPTOS_RELOAD_PORT").ok()?;
    let host = host?;
    let name = match host.rsplit_once(':') {
        Some((name, p)) if p.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    Some(format!(" ws://{name}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_carries_the_pages_nonce() {
        let mut h = HeaderMap::new();
        let nonce = Nonce::from_value("abc123");
        SecurityHeaders::default().apply(&mut h, Some(&nonce), Some("127.0.0.1:3000"));
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("'nonce-abc123'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin");
    }

    #[test]
    fn each_header_can_be_turned_off() {
        let mut h = HeaderMap::new();
        SecurityHeaders::none().apply(&mut h, None, None);
        assert!(h.is_empty());
        let mut h = HeaderMap::new();
        SecurityHeaders::default()
            .content_security_policy(None::<&str>)
            .apply(&mut h, None, None);
        assert!(!h.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(h.contains_key(header::X_CONTENT_TYPE_OPTIONS));
    }
}

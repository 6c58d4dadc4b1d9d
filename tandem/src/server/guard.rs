//! The checks in front of every request: is it for this site, where does a
//! mutation come from, how big and how slow is it, what is it made of.
//! Each refusal is a typed 4xx (see [`refusal`](super::refusal)) that
//! changes nothing.
//!
//! | check | answer |
//! |---|---|
//! | a request target that is not a path (`GET host:port`, `OPTIONS *`) | `400` |
//! | a `Host` (or absolute-form authority) that is not the site's own ([`Guard::allow_host`], `TANDEM_ALLOWED_HOSTS`) | `400` |
//! | another method than the function's (`POST`) | `405` with `Allow` |
//! | a browser request from another origin: scheme, host and port (`Sec-Fetch-Site`, `Origin`, else `Referer`, against the site's origin or [`Guard::allow_origin`]) | `403` |
//! | a body over the limit (1 MiB, [`Guard::body_limit`], per function with [`Guard::function_body_limit`]) | `413` |
//! | a body that does not arrive whole within [`Guard::body_timeout`] (30 s) | `408` |
//! | a content type no codec reads, or not the function's own | `415` |
//! | a body or arguments that do not decode | `400`, naming what was wrong |
//! | an unknown function under the server function prefix | `404` |
//!
//! Requests from outside a browser (no `Origin`, `Referer` or
//! `Sec-Fetch-Site`) are not cross-site requests and pass the origin check.
//! `X-Forwarded-Host` and `X-Forwarded-Proto` are believed only with
//! [`Guard::trust_proxy`] (behind a proxy you run).
//!
//! ## The site's own hosts
//!
//! A request must name a host this site answers to, so that a page of
//! another name that resolves to this server (DNS rebinding) is refused.
//! Allowed: the names given with [`Guard::allow_host`] (or
//! `TANDEM_ALLOWED_HOSTS`, comma separated; `*` allows any), the address
//! the connection came in on (as a literal IP), and `localhost` when that
//! address is a loopback one. Ports are not compared here; the origin check
//! compares them.
//!
//! ```
//! let guard = tandem::Guard::default()
//!     .allow_host("shop.example")
//!     .allow_origin("https://admin.example.com")
//!     .body_limit(64 * 1024);
//! ```

use crate::server::refusal::{
    BadRequestTarget, BodyTooLarge, CrossSite, ForeignHost, Refusal, UnsupportedContentType,
};
use http::{header, HeaderMap, HeaderName, Uri};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Default largest body a server function accepts: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Default time a whole request body may take to arrive: 30 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

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

/// The addresses of the connection a request came on, put in each
/// request's extensions by [`serve`](crate::server::serve()) (one
/// extension: each one a request carries is a box of its own).
///
/// ```
/// use tandem::server::guard::ConnectionAddrs;
/// let addrs = ConnectionAddrs {
///     local: Some(([127, 0, 0, 1], 3000).into()),
///     peer: ([127, 0, 0, 1], 51000).into(),
/// };
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(addrs);
/// assert_eq!(request.extensions().get::<ConnectionAddrs>(), Some(&addrs));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionAddrs {
    /// The address the connection came in on: the guard allows it as a
    /// host.
    pub local: Option<SocketAddr>,
    /// The address it came from (the client, or the proxy in front): what
    /// [`RateLimit`](crate::server::limit::RateLimit)s count by.
    pub peer: SocketAddr,
}

/// The settings of the checks (see the [module docs](self)).
///
/// ```
/// let guard = tandem::Guard::default().trust_proxy(true);
/// ```
#[derive(Clone, Debug)]
pub struct Guard {
    allowed_origins: Vec<Origin>,
    allowed_hosts: Vec<String>,
    any_host: bool,
    site_addr: Option<SocketAddr>,
    trust_proxy: bool,
    body_limit: usize,
    body_timeout: Duration,
    function_limits: HashMap<String, usize>,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            any_host: false,
            site_addr: None,
            trust_proxy: false,
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            function_limits: HashMap::new(),
        }
    }
}

impl Guard {
    /// Settings from the environment: `TANDEM_ALLOWED_HOSTS` and
    /// `TANDEM_ALLOWED_ORIGINS` (comma separated), `TANDEM_TRUST_PROXY`
    /// (`1`/`true`), `TANDEM_BODY_LIMIT` (bytes), `TANDEM_BODY_TIMEOUT`
    /// (seconds), and the site's address from `LEPTOS_SITE_ADDR`.
    ///
    /// ```
    /// let guard = tandem::Guard::from_env();
    /// ```
    pub fn from_env() -> Self {
        let mut guard = Self::default();
        let list = |name: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        };
        for host in list("TANDEM_ALLOWED_HOSTS") {
            guard = guard.allow_host(host);
        }
        for origin in list("TANDEM_ALLOWED_ORIGINS") {
            guard = guard.allow_origin(origin);
        }
        if let Ok(v) = std::env::var("TANDEM_TRUST_PROXY") {
            guard.trust_proxy = matches!(v.trim(), "1" | "true" | "yes");
        }
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(limit) = number("TANDEM_BODY_LIMIT") {
            guard.body_limit = limit as usize;
        }
        if let Some(seconds) = number("TANDEM_BODY_TIMEOUT") {
            guard.body_timeout = Duration::from_secs(seconds);
        }
        guard.site_addr = std::env::var("LEPTOS_SITE_ADDR")
            .ok()
            .and_then(|a| a.trim().parse().ok());
        guard
    }

    /// Also accepts mutations from pages of `origin`
    /// (`scheme://host[:port]`).
    ///
    /// ```
    /// let guard = tandem::Guard::default().allow_origin("https://example.com");
    /// ```
    pub fn allow_origin(mut self, origin: impl AsRef<str>) -> Self {
        match Origin::parse(origin.as_ref()) {
            Some(o) => self.allowed_origins.push(o),
            None => tracing::warn!(
                origin = origin.as_ref(),
                "tandem: ignoring an allowed origin that is not scheme://host[:port]"
            ),
        }
        self
    }

    /// Also answers requests naming `host` (a name, or `*` for any host:
    /// only behind a proxy that checks it).
    ///
    /// ```
    /// let guard = tandem::Guard::default().allow_host("shop.example");
    /// ```
    pub fn allow_host(mut self, host: impl AsRef<str>) -> Self {
        let host = host.as_ref().trim();
        if host == "*" {
            self.any_host = true;
        } else {
            self.allowed_hosts.push(hostname(host).to_ascii_lowercase());
        }
        self
    }

    /// The address the site listens on, when requests do not carry it
    /// ([`serve`](crate::server::serve()) puts the connection's own address
    /// in each request instead).
    ///
    /// ```
    /// let guard = tandem::Guard::default().site_addr("127.0.0.1:3000".parse().unwrap());
    /// ```
    pub fn site_addr(mut self, addr: SocketAddr) -> Self {
        self.site_addr = Some(addr);
        self
    }

    /// Whether `X-Forwarded-Host` and `X-Forwarded-Proto` describe the
    /// site (behind a proxy you run).
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

    /// How long a whole request body may take to arrive.
    ///
    /// ```
    /// let guard = tandem::Guard::default().body_timeout(std::time::Duration::from_secs(10));
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The time a whole body may take.
    pub(crate) fn body_timeout_value(&self) -> Duration {
        self.body_timeout
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
    /// assert_eq!(tandem::Guard::default().limit_for("/api/x"), tandem::server::guard::DEFAULT_BODY_LIMIT);
    /// ```
    pub fn limit_for(&self, path: &str) -> usize {
        self.function_limits
            .get(path)
            .copied()
            .unwrap_or(self.body_limit)
    }

    /// Checks that the request is for a path of this site, at a host this
    /// site answers to. `local` is the address the connection came in on,
    /// when known.
    ///
    /// ```
    /// let guard = tandem::Guard::default().allow_host("shop.example");
    /// let mut h = http::HeaderMap::new();
    /// h.insert("host", "shop.example".parse().unwrap());
    /// let uri: http::Uri = "/posts".parse().unwrap();
    /// assert!(guard.check_target(&uri, &h, None).is_ok());
    /// h.insert("host", "evil.example".parse().unwrap());
    /// assert!(guard.check_target(&uri, &h, None).is_err());
    /// let authority_form: http::Uri = "shop.example:80".parse().unwrap();
    /// assert!(guard.check_target(&authority_form, &h, None).is_err());
    /// ```
    pub fn check_target(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        local: Option<SocketAddr>,
    ) -> Result<(), Refusal> {
        let target = || uri.to_string();
        // Authority form has no path; asterisk form is "*".
        match uri.path_and_query() {
            Some(pq) if pq.as_str().starts_with('/') => {}
            _ => return Err(BadRequestTarget { target: target() }.into()),
        }
        if self.any_host {
            return Ok(());
        }
        let host_header = headers.get(header::HOST).map(|v| v.to_str().unwrap_or(""));
        // Absolute form names the host in the target: it must be ours too.
        if let Some(authority) = uri.authority() {
            self.check_host(authority.as_str(), local)?;
        }
        match host_header {
            Some(host) => self.check_host(host, local),
            None if uri.authority().is_some() => Ok(()),
            None => Err(ForeignHost {
                host: String::new(),
            }
            .into()),
        }
    }

    fn check_host(&self, host: &str, local: Option<SocketAddr>) -> Result<(), Refusal> {
        let name = hostname(host);
        let refused = || ForeignHost {
            host: host.to_string(),
        };
        if name.is_empty() {
            return Err(refused().into());
        }
        // The allowed hosts are kept lower-cased.
        if self
            .allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
        {
            return Ok(());
        }
        for addr in local.into_iter().chain(self.site_addr) {
            if Self::names_address(name, addr.ip()) {
                return Ok(());
            }
        }
        Err(refused().into())
    }

    /// Whether `name` is `ip` itself, or `localhost` for a loopback or
    /// unspecified (every interface) address.
    fn names_address(name: &str, ip: IpAddr) -> bool {
        let literal = name.trim_start_matches('[').trim_end_matches(']');
        if literal.parse::<IpAddr>().ok() == Some(ip) {
            return true;
        }
        let local = ip.is_loopback() || ip.is_unspecified();
        local
            && (name.eq_ignore_ascii_case("localhost")
                || literal
                    .parse::<IpAddr>()
                    .is_ok_and(|asked| asked.is_loopback()))
    }

    /// Checks where a mutation comes from: the request's origin (scheme,
    /// host and port) must be the site's own or an allowed one.
    ///
    /// ```
    /// let mut h = http::HeaderMap::new();
    /// h.insert("host", "shop.example".parse().unwrap());
    /// h.insert("origin", "http://evil.example".parse().unwrap());
    /// assert!(tandem::Guard::default().check_origin(&h).is_err());
    /// h.insert("origin", "http://shop.example".parse().unwrap());
    /// assert!(tandem::Guard::default().check_origin(&h).is_ok());
    /// h.insert("origin", "https://shop.example".parse().unwrap());
    /// assert!(tandem::Guard::default().check_origin(&h).is_err());
    /// ```
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        // Names, not `&str`s: a `&str` is parsed into a name at each lookup.
        static SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
        let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        let refuse = |reason: String| -> Result<(), Refusal> { Err(CrossSite { reason }.into()) };
        let fetch_site = text(&SEC_FETCH_SITE);
        if let Some(site) = fetch_site {
            // The browser says where the request comes from; "none" is the
            // user (address bar, bookmark).
            if matches!(site, "same-origin" | "none") {
                return Ok(());
            }
            if site != "same-site" && site != "cross-site" {
                return refuse(format!(
                    "Sec-Fetch-Site {site:?} is not a value browsers send"
                ));
            }
            // same-site / cross-site: allowed only for a listed origin.
        }
        let claimed = match (text(&header::ORIGIN), text(&header::REFERER)) {
            (Some("null"), _) => {
                return refuse(
                    "Origin is null (an opaque origin): mutations must come from this site".into(),
                )
            }
            (Some(origin), _) => origin.to_string(),
            (None, Some(referer)) => referer.to_string(),
            (None, None) => {
                if fetch_site.is_some() {
                    return refuse("a cross-site request without Origin or Referer".into());
                }
                return Ok(()); // not from a browser
            }
        };
        let Some(claimed_origin) = Origin::parse(&claimed) else {
            return refuse(format!("{claimed:?} is not an origin"));
        };
        if self.allowed_origins.contains(&claimed_origin) {
            return Ok(());
        }
        let Some(site) = self.site_origin(headers) else {
            return refuse("the request names no Host to compare its origin with".into());
        };
        if claimed_origin == site {
            Ok(())
        } else {
            refuse(format!(
                "origin {claimed_origin} is not this site's ({site})"
            ))
        }
    }

    /// The site's origin as this request reaches it.
    fn site_origin(&self, headers: &HeaderMap) -> Option<Origin> {
        let forwarded = |name: &str| {
            self.trust_proxy
                .then(|| headers.get(name)?.to_str().ok()?.split(',').next())
                .flatten()
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let scheme = forwarded("x-forwarded-proto").unwrap_or("http");
        let host =
            forwarded("x-forwarded-host").or_else(|| headers.get(header::HOST)?.to_str().ok())?;
        Origin::parse(&format!("{scheme}://{host}"))
    }

    /// Checks the declared size and type of a server function's body.
    ///
    /// ```
    /// let mut h = http::HeaderMap::new();
    /// h.insert("content-type", "text/xml".parse().unwrap());
    /// let refused = tandem::Guard::default().check_body_headers("/api/x", &h).unwrap_err();
    /// assert_eq!(refused.status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    /// ```
    pub fn check_body_headers(&self, path: &str, headers: &HeaderMap) -> Result<(), Refusal> {
        let limit = self.limit_for(path);
        if let Some(length) = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if length > limit as u64 {
                return Err(BodyTooLarge { limit }.into());
            }
        }
        if let Some(value) = headers.get(header::CONTENT_TYPE) {
            let known = |m: &str| {
                CODEC_CONTENT_TYPES
                    .iter()
                    .any(|known| m.eq_ignore_ascii_case(known))
            };
            // A codec's type as it is (what clients send) needs no parsing.
            let text = value.to_str().unwrap_or("");
            if !known(text) && !media_type(text).is_some_and(known) {
                return Err(UnsupportedContentType {
                    got: value.to_str().unwrap_or("(not text)").to_string(),
                    expected: "a server function codec's type, e.g. application/x-www-form-urlencoded or application/json".into(),
                }
                .into());
            }
        }
        Ok(())
    }
}

/// `scheme://host:port` of a URL or origin, with the scheme's default port
/// filled in, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return None;
        }
        let authority = rest.split(['/', '?', '#']).next()?;
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let host_part = host_part(authority);
        let host = host_part.trim_end_matches('.').to_ascii_lowercase();
        let port = match authority[host_part.len()..].strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => match scheme.as_str() {
                "http" | "ws" => 80,
                "https" | "wss" => 443,
                _ => 0,
            },
        };
        (!host.is_empty()).then_some(Self { scheme, host, port })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// The host part of `host[:port]` (an IPv6 literal keeps its brackets).
fn host_part(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority,
        };
    }
    authority
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map(|(host, _)| host)
        .unwrap_or(authority)
}

/// The host name of `host[:port]`, without the port and a trailing dot.
fn hostname(authority: &str) -> &str {
    host_part(authority).trim_end_matches('.')
}

/// The essence (`type/subtype`, lower case) of a `Content-Type` value, if it
/// is well-formed: a token, `/`, a token, then `; name=value` parameters.
/// `application/x-www-form-urlencodedXYZ` is its own (unknown) type, not a
/// form.
///
/// ```
/// use tandem::server::guard::essence;
/// assert_eq!(essence("Application/JSON; charset=utf-8").as_deref(), Some("application/json"));
/// assert_eq!(essence("application/x-www-form-urlencodedXYZ").as_deref(), Some("application/x-www-form-urlencodedxyz"));
/// assert_eq!(essence("text/plain;;"), None);
/// assert_eq!(essence("no slash"), None);
/// ```
pub fn essence(value: &str) -> Option<String> {
    media_type(value).map(str::to_ascii_lowercase)
}

/// The bytes a token is made of (RFC 9110's `tchar`), as a table: a byte is
/// one lookup.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// [`essence`] as it is written (not lower-cased, so nothing is allocated):
/// compare it with `eq_ignore_ascii_case`.
pub(crate) fn media_type(value: &str) -> Option<&str> {
    fn token(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| TCHAR[usize::from(b)])
    }
    // Found by bytes (both are ASCII, so the slices fall on characters):
    // a `char` search costs more than the rest of the parse.
    let position = |s: &str, byte: u8| s.bytes().position(|b| b == byte);
    let end = position(value, b';').unwrap_or(value.len());
    let media = value[..end].trim();
    let slash = position(media, b'/')?;
    if !token(&media[..slash]) || !token(&media[slash + 1..]) {
        return None;
    }
    if end < value.len() {
        for parameter in value[end + 1..].split(';') {
            let (name, v) = parameter.trim().split_once('=')?;
            let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
            if !token(name.trim()) || !(token(v) || quoted) {
                return None;
            }
        }
    }
    Some(media)
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
        assert_eq!(refused.status(), http::StatusCode::FORBIDDEN);
        assert!(refused.to_string().contains("evil.test"));
    }

    #[test]
    fn origin_means_scheme_host_and_port() {
        let g = Guard::default();
        let at = |origin: &'static str| {
            g.check_origin(&headers(&[("host", "127.0.0.1:3000"), ("origin", origin)]))
        };
        assert!(at("http://127.0.0.1:3000").is_ok());
        assert!(at("https://127.0.0.1:3000").is_err(), "another scheme");
        assert!(at("ftp://127.0.0.1:3000").is_err(), "another scheme");
        assert!(at("http://127.0.0.1:3001").is_err(), "another port");
        assert!(at("http://127.0.0.1").is_err(), "the default port is 80");
        let g = Guard::default();
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("origin", "http://a.test:80")
            ]))
            .is_ok());
    }

    #[test]
    fn behind_a_trusted_proxy_the_scheme_is_forwarded() {
        let h = headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "shop.test"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://shop.test"),
        ]);
        assert!(Guard::default().check_origin(&h).is_err());
        assert!(Guard::default().trust_proxy(true).check_origin(&h).is_ok());
        let plain = headers(&[
            ("host", "shop.test"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://shop.test"),
        ]);
        assert!(
            Guard::default().check_origin(&plain).is_err(),
            "X-Forwarded-Proto is not believed without trust_proxy"
        );
    }

    #[test]
    fn referer_stands_in_for_a_missing_origin() {
        let g = Guard::default();
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("referer", "http://a.test/posts?x=1")
            ]))
            .is_ok());
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("referer", "http://b.test/")
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
    fn listed_origins() {
        let g = Guard::default().allow_origin("https://admin.test/");
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("origin", "https://admin.test")
            ]))
            .is_ok());
        assert!(g
            .check_origin(&headers(&[
                ("host", "a.test"),
                ("origin", "http://admin.test")
            ]))
            .is_err());
    }

    #[test]
    fn non_browser_clients_pass_the_origin_check() {
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
    fn hosts_are_the_sites_own() {
        let local: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let g = Guard::default().allow_host("shop.test");
        let path: Uri = "/posts".parse().unwrap();
        let with_host = |host: &'static str| headers(&[("host", host)]);
        for ok in [
            "127.0.0.1:3000",
            "localhost:3000",
            "shop.test",
            "SHOP.test:8080",
        ] {
            assert!(
                g.check_target(&path, &with_host(ok), Some(local)).is_ok(),
                "{ok}"
            );
        }
        for refused in ["evil.example", "evil.example:3000", "10.0.0.1:3000"] {
            let r = g
                .check_target(&path, &with_host(refused), Some(local))
                .unwrap_err();
            assert_eq!(r.status(), http::StatusCode::BAD_REQUEST, "{refused}");
        }
        // No Host at all.
        assert!(g
            .check_target(&path, &HeaderMap::new(), Some(local))
            .is_err());
        // A public address allows itself, not localhost.
        let public: SocketAddr = "10.0.0.5:80".parse().unwrap();
        assert!(g
            .check_target(&path, &with_host("10.0.0.5"), Some(public))
            .is_ok());
        assert!(g
            .check_target(&path, &with_host("localhost"), Some(public))
            .is_err());
        assert!(Guard::default()
            .allow_host("*")
            .check_target(&path, &with_host("anything.example"), None)
            .is_ok());
    }

    #[test]
    fn request_targets_that_are_not_paths_are_refused() {
        let g = Guard::default().allow_host("a.test");
        let h = headers(&[("host", "a.test")]);
        for target in ["a.test:3000", "*"] {
            let uri: Uri = target.parse().unwrap();
            assert_eq!(
                g.check_target(&uri, &h, None).unwrap_err().status(),
                http::StatusCode::BAD_REQUEST,
                "{target}"
            );
        }
        let foreign: Uri = "http://evil.test/posts".parse().unwrap();
        assert!(g.check_target(&foreign, &h, None).is_err());
        let own: Uri = "http://a.test/posts".parse().unwrap();
        assert!(g.check_target(&own, &h, None).is_ok());
    }

    #[test]
    fn body_limits_and_content_types() {
        let g = Guard::default().function_body_limit("/api/big", 10);
        assert_eq!(
            g.check_body_headers("/api/big", &headers(&[("content-length", "11")]))
                .unwrap_err()
                .status(),
            http::StatusCode::PAYLOAD_TOO_LARGE
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
        assert!(g
            .check_body_headers(
                "/api/x",
                &headers(&[("content-type", "application/x-www-form-urlencodedXYZ")])
            )
            .is_err());
        assert!(g
            .check_body_headers("/api/x", &headers(&[("content-type", "Application/JSON")]))
            .is_ok());
    }

    #[test]
    fn media_types_are_parsed_as_written() {
        for (value, media) in [
            ("application/json", Some("application/json")),
            // A codec's type as written, in any case.
            (
                "Application/X-WWW-Form-URLEncoded",
                Some("Application/X-WWW-Form-URLEncoded"),
            ),
            (" Text/Plain ; charset=utf-8", Some("Text/Plain")),
            (
                "multipart/form-data; boundary=\"a b\"",
                Some("multipart/form-data"),
            ),
            ("a/b;x=y;z=w", Some("a/b")),
            ("text/plain;", None),
            ("text/plain;;", None),
            ("text/plain; charset", None),
            ("text/plain; charset=a b", None),
            ("text /plain", None),
            ("text/", None),
            ("/plain", None),
            ("textplain", None),
            ("a/b/c", None),
            ("a//b", None),
            ("téxt/plain", None),
            ("", None),
        ] {
            assert_eq!(media_type(value), media, "{value:?}");
            assert_eq!(
                essence(value),
                media.map(str::to_ascii_lowercase),
                "{value:?}"
            );
        }
    }
}

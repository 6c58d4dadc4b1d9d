//! Cookies on the wire of HTTP: the attributes of a cookie Tandem sets, and
//! the encoding of names and values in `Cookie` and `Set-Cookie`.

use std::collections::BTreeMap;

/// A cookie set by `Cookies::set_with`: its value and attributes.
///
/// ```
/// let c = tandem::CookieOptions::new("Delba").max_age(3600).http_only(false);
/// assert!(c.to_header("name").contains("Max-Age=3600"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    pub(crate) value: String,
    path: String,
    max_age: Option<i64>,
    http_only: bool,
    secure: bool,
    same_site: &'static str,
}

impl CookieOptions {
    /// A cookie for the whole site (`Path=/`), `HttpOnly`, `SameSite=Lax`,
    /// lasting for the browser session.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v");
    /// assert_eq!(c.to_header("k"), "k=v; Path=/; HttpOnly; SameSite=Lax");
    /// ```
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            path: "/".into(),
            max_age: None,
            http_only: true,
            secure: false,
            same_site: "Lax",
        }
    }

    /// Sets `Path`.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").path("/app");
    /// assert!(c.to_header("k").contains("Path=/app"));
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets `Max-Age` in seconds.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").max_age(60);
    /// assert!(c.to_header("k").contains("Max-Age=60"));
    /// ```
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Whether scripts are kept from reading it (default: yes).
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").http_only(false);
    /// assert!(!c.to_header("k").contains("HttpOnly"));
    /// ```
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }

    /// Whether it is sent over HTTPS only.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").secure(true);
    /// assert!(c.to_header("k").contains("Secure"));
    /// ```
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// The `Set-Cookie` header value for a cookie called `name`.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("a b");
    /// assert!(c.to_header("k").starts_with("k=a%20b;"));
    /// ```
    pub fn to_header(&self, name: &str) -> String {
        let mut h = format!(
            "{name}={}; Path={}",
            encode_cookie_value(&self.value),
            self.path
        );
        if let Some(age) = self.max_age {
            h.push_str(&format!("; Max-Age={age}"));
        }
        if self.http_only {
            h.push_str("; HttpOnly");
        }
        if self.secure {
            h.push_str("; Secure");
        }
        h.push_str("; SameSite=");
        h.push_str(self.same_site);
        h
    }
}

/// Percent-encodes what RFC 6265 does not allow in a cookie value.
pub(crate) fn encode_cookie_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        let allowed =
            matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E) && b != b'%';
        if allowed {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn decode_cookie_value(value: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request's `Cookie` header, or `""`.
pub(crate) fn cookie_header(headers: &http::HeaderMap) -> &str {
    headers
        .get(http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Parses a `Cookie:` request header into name → value.
pub(crate) fn parse_cookie_header(header: &str) -> BTreeMap<String, String> {
    header
        .split(';')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| {
                (
                    name.to_string(),
                    decode_cookie_value(value.trim().trim_matches('"')),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_round_trip_through_encoding() {
        for v in ["Delba", "a b", "x;y=z", "ünï", "100%"] {
            let header = CookieOptions::new(v).to_header("k");
            let pair = header.split(';').next().unwrap();
            assert_eq!(
                parse_cookie_header(pair).get("k").map(String::as_str),
                Some(v)
            );
        }
    }
}

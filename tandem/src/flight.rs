//! The wire format shared by both sides: what a Tandem request says and what
//! the server answers.
//!
//! A request from Tandem's client carries the header [`TANDEM_HEADER`]; the
//! server then answers with an [`Envelope`] (content type
//! [`ENVELOPE_CONTENT_TYPE`]): the server function's own status and body,
//! plus the [`Effects`] the function recorded (redirect, refresh,
//! revalidated paths and tags, cookie changes). Requests without the header
//! (curl, other clients) get the function's plain response.
//!
//! ```
//! use tandem::flight::{Effects, Envelope};
//! let envelope = Envelope {
//!     status: 200,
//!     body: "3".into(),
//!     effects: Effects { refresh: true, ..Effects::default() },
//!     queries: vec![],
//! };
//! let json = serde_json::to_string(&envelope).unwrap();
//! assert_eq!(serde_json::from_str::<Envelope>(&json).unwrap(), envelope);
//! ```

use serde::{Deserialize, Serialize};

/// Request header: "I speak the Tandem envelope".
pub const TANDEM_HEADER: &str = "x-tandem";

/// Content type of an [`Envelope`] response.
pub const ENVELOPE_CONTENT_TYPE: &str = "application/x-tandem+json";

/// Request header: the queries mounted on the page, as a JSON array of
/// [`MountedQuery`].
pub const QUERIES_HEADER: &str = "x-tandem-queries";

/// Request header: the path of the page the action was dispatched from.
pub const PAGE_HEADER: &str = "x-tandem-page";

/// Most queries one request may name; more is refused with `400`.
pub const MAX_QUERIES: usize = 32;

/// Largest [`QUERIES_HEADER`] accepted, in bytes; larger is refused with `400`.
pub const MAX_QUERIES_BYTES: usize = 8 * 1024;

/// Hidden form field naming the server function a no-JS form post runs
/// (the form's default action).
pub const ACTION_FIELD: &str = "__tandem_action";

/// Name of a submit button's field that overrides [`ACTION_FIELD`] (the
/// `formAction` counterpart).
pub const BUTTON_ACTION_FIELD: &str = "__tandem_button";

/// What a server function asked for besides its result.
///
/// ```
/// let fx = tandem::flight::Effects::default();
/// assert!(fx.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effects {
    /// Navigate here once the action settles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    /// Read the current page's data again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
    /// Paths whose data was invalidated (`revalidate_path`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revalidated_paths: Vec<String>,
    /// Tags marked stale (`revalidate_tag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revalidated_tags: Vec<String>,
    /// Tags expired at once (`update_tag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updated_tags: Vec<String>,
    /// Cookies were set or deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cookies_changed: bool,
}

impl Effects {
    /// Whether nothing was recorded.
    ///
    /// ```
    /// let mut fx = tandem::flight::Effects::default();
    /// fx.refresh = true;
    /// assert!(!fx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the page's server data may have changed, so the client should
    /// read it again.
    ///
    /// ```
    /// let mut fx = tandem::flight::Effects::default();
    /// assert!(!fx.page_data_changed());
    /// fx.cookies_changed = true;
    /// assert!(fx.page_data_changed());
    /// ```
    pub fn page_data_changed(&self) -> bool {
        self.refresh
            || self.cookies_changed
            || !self.revalidated_paths.is_empty()
            || !self.revalidated_tags.is_empty()
            || !self.updated_tags.is_empty()
    }
}

/// The body of a server function's response, as text when it is UTF-8.
///
/// ```
/// use tandem::flight::Body;
/// assert_eq!(Body::from(b"42".to_vec()), Body::Text("42".into()));
/// assert_eq!(Body::from(vec![0xff]).into_bytes(), vec![0xff]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Body {
    /// A UTF-8 body (JSON, text, URL-encoded: every default codec).
    Text(String),
    /// Anything else, byte by byte.
    Bytes(Vec<u8>),
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Bytes(e.into_bytes()),
        }
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Body::Text(text.to_string())
    }
}

impl Body {
    /// The raw bytes.
    ///
    /// ```
    /// assert_eq!(tandem::flight::Body::from("ok").into_bytes(), b"ok".to_vec());
    /// ```
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Text(t) => t.into_bytes(),
            Body::Bytes(b) => b,
        }
    }
}

/// A query mounted on the page: a server function (its path) and its
/// arguments, URL-encoded as the function's codec sends them.
///
/// ```
/// let q = tandem::flight::MountedQuery { path: "/api/get_posts".into(), args: String::new() };
/// assert_eq!(serde_json::to_string(&[q]).unwrap(), r#"[["/api/get_posts",""]]"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "(String, String)", from = "(String, String)")]
pub struct MountedQuery {
    /// The server function's path.
    pub path: String,
    /// Its arguments, URL-encoded.
    pub args: String,
}

impl From<MountedQuery> for (String, String) {
    fn from(q: MountedQuery) -> Self {
        (q.path, q.args)
    }
}

impl From<(String, String)> for MountedQuery {
    fn from((path, args): (String, String)) -> Self {
        Self { path, args }
    }
}

/// A mounted query read again by the server after the action: its fresh
/// status and body.
///
/// ```
/// use tandem::flight::{Body, MountedQuery, QueryResult};
/// let r = QueryResult { query: MountedQuery { path: "/api/get_likes".into(), args: String::new() }, status: 200, body: Body::from("3") };
/// assert!(serde_json::to_string(&r).unwrap().contains("get_likes"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Which query.
    pub query: MountedQuery,
    /// The status its function answered with.
    pub status: u16,
    /// Its body, for its codec.
    pub body: Body,
}

/// One response to a Tandem request: the function's status and body, its
/// effects, and the fresh data of the page's queries they touched.
///
/// ```
/// use tandem::flight::{Body, Effects, Envelope};
/// let e: Envelope = serde_json::from_str(r#"{"status":500,"body":"boom"}"#).unwrap();
/// assert_eq!(e.body, Body::Text("boom".into()));
/// assert!(e.effects.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The HTTP status the server function produced.
    pub status: u16,
    /// The server function's own response body, for its codec to decode.
    pub body: Body,
    /// What else happened.
    #[serde(default, skip_serializing_if = "Effects::is_empty")]
    pub effects: Effects,
    /// Fresh data for the page's mounted queries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<QueryResult>,
}

/// The path of a URL or path, without its query and fragment.
#[cfg_attr(
    not(any(feature = "ssr", feature = "hydrate", feature = "csr")),
    allow(dead_code)
)]
pub(crate) fn path_of(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// Why a [`QUERIES_HEADER`] was refused.
///
/// ```
/// let e = tandem::flight::decode_queries(b"nope").unwrap_err();
/// assert!(e.to_string().contains("JSON"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueriesError {
    /// Over [`MAX_QUERIES_BYTES`].
    #[error("{QUERIES_HEADER} is {0} bytes; at most {MAX_QUERIES_BYTES} are accepted")]
    TooLarge(usize),
    /// Over [`MAX_QUERIES`].
    #[error("{QUERIES_HEADER} names {0} queries; at most {MAX_QUERIES} are accepted")]
    TooMany(usize),
    /// Not a JSON list of `[path, args]`.
    #[error("{QUERIES_HEADER} is not a JSON list of [path, args]: {0}")]
    Malformed(String),
}

/// Decodes a [`QUERIES_HEADER`], within its bounds: the size is checked
/// before parsing, the count while parsing (nesting is fixed by the type).
///
/// ```
/// let q = tandem::flight::decode_queries(br#"[["/api/get_likes",""]]"#).unwrap();
/// assert_eq!(q[0].path, "/api/get_likes");
/// ```
pub fn decode_queries(header: &[u8]) -> Result<Vec<MountedQuery>, QueriesError> {
    if header.len() > MAX_QUERIES_BYTES {
        return Err(QueriesError::TooLarge(header.len()));
    }
    let queries: Vec<MountedQuery> =
        serde_json::from_slice(header).map_err(|e| QueriesError::Malformed(e.to_string()))?;
    if queries.len() > MAX_QUERIES {
        return Err(QueriesError::TooMany(queries.len()));
    }
    Ok(queries)
}

/// A form posted without JavaScript, decoded: its fields in order and the
/// server function it names (a submit button's over the form's default).
///
/// ```
/// let post = tandem::flight::FormPost::decode(b"__tandem_action=%2Fapi%2Fa&title=Hi&__tandem_button=%2Fapi%2Fb");
/// assert_eq!(post.action.as_deref(), Some("/api/b"));
/// assert_eq!(post.fields[1], ("title".to_string(), "Hi".to_string()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormPost {
    /// Every field, in the order the browser sent them.
    pub fields: Vec<(String, String)>,
    /// The server function to run, if the form names one.
    pub action: Option<String>,
}

impl FormPost {
    /// Decodes an `application/x-www-form-urlencoded` body. Never fails:
    /// bytes that are not valid percent-encoded UTF-8 decode lossily.
    ///
    /// ```
    /// let post = tandem::flight::FormPost::decode(b"a=1");
    /// assert_eq!(post.action, None);
    /// ```
    pub fn decode(body: &[u8]) -> Self {
        let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        let named = |name: &str| {
            fields
                .iter()
                .rev()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let action = named(BUTTON_ACTION_FIELD).or_else(|| named(ACTION_FIELD));
        Self { fields, action }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_header_bounds() {
        let many = format!("[{}]", vec![r#"["/a",""]"#; MAX_QUERIES + 1].join(","));
        assert_eq!(
            decode_queries(many.as_bytes()),
            Err(QueriesError::TooMany(MAX_QUERIES + 1))
        );
        let huge = vec![b' '; MAX_QUERIES_BYTES + 1];
        assert_eq!(
            decode_queries(&huge),
            Err(QueriesError::TooLarge(MAX_QUERIES_BYTES + 1))
        );
        assert!(matches!(
            decode_queries(br#"[["/a"]]"#),
            Err(QueriesError::Malformed(_))
        ));
    }

    #[test]
    fn empty_effects_are_left_out_of_the_wire() {
        let e = Envelope {
            status: 200,
            body: "1".into(),
            effects: Effects::default(),
            queries: vec![],
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"status":200,"body":"1"}"#
        );
    }

    #[test]
    fn binary_bodies_round_trip() {
        let e = Envelope {
            status: 200,
            body: Body::from(vec![0, 159, 146, 150]),
            effects: Effects {
                redirect: Some("/posts".into()),
                ..Effects::default()
            },
            queries: vec![],
        };
        let json = serde_json::to_string(&e).unwrap();
        let back: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back.body.into_bytes(), vec![0, 159, 146, 150]);
        assert_eq!(back.effects.redirect.as_deref(), Some("/posts"));
    }
}

//! The queries a page has mounted, as a request names them.

use super::reads::Reads;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Request header: the queries mounted on the page, as a JSON array of
/// [`MountedQuery`].
pub const QUERIES_HEADER: &str = "x-tandem-queries";

/// Request header: the path of the page the action was dispatched from.
pub const PAGE_HEADER: &str = "x-tandem-page";

/// Most queries one request may name; more is refused with `400`.
pub const MAX_QUERIES: usize = 32;

/// Largest [`QUERIES_HEADER`] accepted, in bytes; larger is refused with `400`.
pub const MAX_QUERIES_BYTES: usize = 8 * 1024;

/// A query mounted on the page: a server function (its path) and its
/// arguments, URL-encoded as the function's codec sends them.
///
/// ```
/// let q = tandem::wire::MountedQuery { path: "/api/get_posts".into(), args: String::new() };
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

/// One entry of the [`QUERIES_HEADER`]: a mounted query and, when the page
/// knows it, what the query read when its data was last read (the server
/// then reads it again only if the action touched that). On the wire
/// `[path, args]` or `[path, args, [tags…]]`.
///
/// ```
/// use tandem::wire::{MountedQuery, Named, Reads};
/// let named = Named {
///     query: MountedQuery { path: "/api/get_posts".into(), args: String::new() },
///     reads: Some(Reads(vec!["posts".into()])),
/// };
/// let json = serde_json::to_string(&named).unwrap();
/// assert_eq!(json, r#"["/api/get_posts","",["posts"]]"#);
/// assert_eq!(serde_json::from_str::<Named>(&json).unwrap(), named);
/// assert_eq!(serde_json::from_str::<Named>(r#"["/api/x",""]"#).unwrap().reads, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The query.
    pub query: MountedQuery,
    /// What it read (`None`: not known).
    pub reads: Option<Reads>,
}

impl Serialize for Named {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.reads {
            None => (&self.query.path, &self.query.args).serialize(s),
            Some(reads) => (&self.query.path, &self.query.args, reads).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Named {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Known(String, String, Reads),
            Unknown(String, String),
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Known(path, args, reads) => Named {
                query: MountedQuery { path, args },
                reads: Some(reads),
            },
            Wire::Unknown(path, args) => Named {
                query: MountedQuery { path, args },
                reads: None,
            },
        })
    }
}

/// Why a [`QUERIES_HEADER`] was refused.
///
/// ```
/// let e = tandem::wire::decode_queries(b"nope").unwrap_err();
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
    /// Not a JSON list of `[path, args]` or `[path, args, reads]`.
    #[error("{QUERIES_HEADER} is not a JSON list of [path, args] or [path, args, [tags]]: {0}")]
    Malformed(String),
}

/// Decodes a [`QUERIES_HEADER`], within its bounds: the size is checked
/// before parsing, the count while parsing (nesting is fixed by the type).
///
/// ```
/// let q = tandem::wire::decode_queries(br#"[["/api/get_likes",""]]"#).unwrap();
/// assert_eq!(q[0].query.path, "/api/get_likes");
/// ```
pub fn decode_queries(header: &[u8]) -> Result<Vec<Named>, QueriesError> {
    if header.len() > MAX_QUERIES_BYTES {
        return Err(QueriesError::TooLarge(header.len()));
    }
    let queries: Vec<Named> =
        serde_json::from_slice(header).map_err(|e| QueriesError::Malformed(e.to_string()))?;
    if queries.len() > MAX_QUERIES {
        return Err(QueriesError::TooMany(queries.len()));
    }
    Ok(queries)
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
}

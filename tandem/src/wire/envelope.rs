//! The envelope: one answer to a request from Tandem's client, with the
//! function's result, its effects and the fresh data of the page.
//!
//! A request from Tandem's client carries the header [`TANDEM_HEADER`]; the
//! server then answers with an [`Envelope`] (content type
//! [`ENVELOPE_CONTENT_TYPE`], status `200` whatever the function's): the
//! server function's own status and body, plus the [`Effects`] the
//! function recorded (redirect, refresh, revalidated paths and tags, cookie
//! changes). A call Tandem refuses before it runs is answered without an
//! envelope (its `4xx`). Requests without the header (curl, other clients)
//! get the function's plain response.
//!
//! The fetch client knows an envelope by its `200` and its shape, without
//! reading the response's headers (through server_fn that means a
//! `HeaderMap`, and the `http` crate's header tables in the wasm); the
//! upload client (XHR) reads the content type.

use super::effects::Effects;
use super::queries::MountedQuery;
use super::reads::Reads;
use serde::{Deserialize, Serialize};

/// Request header: "I speak the Tandem envelope".
pub const TANDEM_HEADER: &str = "x-tandem";

/// Content type of an [`Envelope`] response.
pub const ENVELOPE_CONTENT_TYPE: &str = "application/x-tandem+json";

/// The body of a server function's response, as text when it is UTF-8.
///
/// ```
/// use tandem::wire::Body;
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
    /// assert_eq!(tandem::wire::Body::from("ok").into_bytes(), b"ok".to_vec());
    /// ```
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Text(t) => t.into_bytes(),
            Body::Bytes(b) => b,
        }
    }
}

/// A mounted query read again by the server after the action: its fresh
/// status and body.
///
/// ```
/// use tandem::wire::{Body, FreshQuery, MountedQuery};
/// let r = FreshQuery { query: MountedQuery { path: "/api/get_likes".into(), args: String::new() }, status: 200, body: Body::from("3"), reads: None };
/// assert!(serde_json::to_string(&r).unwrap().contains("get_likes"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreshQuery {
    /// Which query.
    pub query: MountedQuery,
    /// The status its function answered with.
    pub status: u16,
    /// Its body, for its codec.
    pub body: Body,
    /// What it read, for the next action to name (`None`: not known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<Reads>,
}

/// One response to a Tandem request: the function's status and body, its
/// effects, and the fresh data of the page's queries they touched.
///
/// ```
/// use tandem::wire::{Body, Effects, Envelope};
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
    /// Fresh data for the page's mounted queries; after a redirect to
    /// another page, the data of the queries that page mounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<FreshQuery>,
    /// When the call was a query: what it read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<Reads>,
    /// When the function failed unexpectedly (a panic, an internal error):
    /// the id the server logged the failure with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_effects_are_left_out_of_the_wire() {
        let e = Envelope {
            status: 200,
            body: "1".into(),
            effects: Effects::default(),
            queries: vec![],
            reads: None,
            error_id: None,
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
            reads: None,
            error_id: None,
        };
        let json = serde_json::to_string(&e).unwrap();
        let back: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back.body.into_bytes(), vec![0, 159, 146, 150]);
        assert_eq!(back.effects.redirect.as_deref(), Some("/posts"));
    }
}

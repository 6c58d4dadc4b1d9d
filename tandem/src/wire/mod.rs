//! The wire: what both sides of a Tandem call agree on.
//!
//! Everything here compiles for the server and for the browser alike: the
//! headers a request carries, the [`Envelope`] the server answers with, the
//! [`Effects`] inside it, the queries a page has mounted, the names of the
//! hidden form fields, and the decoding of a form posted without
//! JavaScript. The server side (`tandem::server`) and the UI side
//! (`tandem::ui`) both build on it and never on each other's insides.
//!
//! ```
//! use tandem::wire::{Effects, Envelope};
//! let envelope = Envelope {
//!     status: 200,
//!     body: "3".into(),
//!     effects: Effects { refresh: true, ..Effects::default() },
//!     queries: vec![],
//!     reads: None,
//!     error_id: None,
//! };
//! let json = serde_json::to_string(&envelope).unwrap();
//! assert_eq!(serde_json::from_str::<Envelope>(&json).unwrap(), envelope);
//! ```

mod bound;
mod codec;
#[cfg(feature = "ssr")]
mod decoding;
mod effects;
mod envelope;
mod fields;
mod form_post;
mod issues;
mod prev;
mod queries;
mod reads;
mod rendered;

pub use bound::{Bound, Sealed};
pub use codec::{is_multipart, HttpCodec};
#[cfg(feature = "ssr")]
pub use decoding::DecodeFailure;
#[cfg(feature = "ssr")]
pub(crate) use decoding::{scoped, Decoding};
pub use effects::Effects;
pub use envelope::{Body, Envelope, FreshQuery, ENVELOPE_CONTENT_TYPE, TANDEM_HEADER};
pub use fields::{ACTION_FIELD, BUTTON_ACTION_FIELD, FORM_KEY_FIELD, PREV_FIELD, SENSITIVE_FIELD};
pub use form_post::{without_sensitive, FormPost, SubmittedAction};
pub use issues::{Issue, Issues};
pub use prev::Prev;
pub use queries::{
    decode_queries, MountedQuery, Named, QueriesError, MAX_QUERIES, MAX_QUERIES_BYTES, PAGE_HEADER,
    QUERIES_HEADER,
};
pub use reads::{is_pattern, path_matches, path_tags, Reads, LAYOUT_TAG, PATH_TAG};
#[cfg(feature = "ssr")]
pub(crate) use reads::{record as record_reads, tracking as tracking_reads};
#[cfg(feature = "ssr")]
pub(crate) use rendered::Rendered;
pub use rendered::PAGE_DATA_SCRIPT_ID;

/// The path of a URL or path, without its query and fragment.
#[cfg_attr(
    not(any(feature = "ssr", feature = "hydrate", feature = "csr")),
    allow(dead_code)
)]
pub(crate) fn path_of(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

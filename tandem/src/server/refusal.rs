//! Refusals: why Tandem answered a request itself, with a 4xx, before or
//! instead of running a server function.
//!
//! Each failure is its own type with its own status, in the style of
//! axum's rejections; [`Refusal`] is any of them. A refusal is chosen where
//! the failure happens (a guard check, Tandem's decoding of the arguments,
//! a sealed argument that does not open), never by reading an error
//! message. Each one answers with its status and a plain-text message that
//! says what was wrong, and nothing runs.
//!
//! ```
//! use axum::response::IntoResponse;
//! use tandem::server::refusal::{BodyTooLarge, Refusal};
//! let refusal = Refusal::from(BodyTooLarge { limit: 1024 });
//! assert_eq!(refusal.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
//! assert_eq!(refusal.into_response().status(), 413);
//! ```

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method, StatusCode};

macro_rules! refusals {
    ($(
        $(#[$doc:meta])*
        $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? } => $status:ident, $message:literal;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
            #[error($message)]
            pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }

            impl $name {
                /// The status this refusal answers with.
                pub const STATUS: StatusCode = StatusCode::$status;
            }

            impl From<$name> for Refusal {
                fn from(r: $name) -> Self {
                    Refusal::$name(r)
                }
            }
        )*

        /// Any of Tandem's refusals (see the [module docs](self)).
        ///
        /// ```
        /// use tandem::server::refusal::{Refusal, UnknownFunction};
        /// let r: Refusal = UnknownFunction { path: "/api/nope".into() }.into();
        /// assert_eq!(r.status(), http::StatusCode::NOT_FOUND);
        /// assert!(r.to_string().contains("/api/nope"));
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
        pub enum Refusal {
            $(
                #[allow(missing_docs)]
                #[error(transparent)]
                $name($name),
            )*
        }

        impl Refusal {
            /// The status it answers with.
            pub fn status(&self) -> StatusCode {
                match self {
                    $(Refusal::$name(_) => $name::STATUS,)*
                }
            }
        }
    };
}

refusals! {
    /// A request target Tandem does not serve: authority form
    /// (`GET host:port`), asterisk form (`OPTIONS *`), or a path that does
    /// not start with `/`.
    BadRequestTarget {
        /// The target as the request gave it.
        target: String,
    } => BAD_REQUEST, "the request target {target:?} is not a path of this site";

    /// A `Host` (or absolute-form authority) that is not one of the site's
    /// own.
    ForeignHost {
        /// The host the request named (empty: none).
        host: String,
    } => BAD_REQUEST, "the host {host:?} is not one this site answers to (see TANDEM_ALLOWED_HOSTS)";

    /// A server function called with another method than its own.
    MethodNotAllowed {
        /// The function's path.
        path: String,
        /// Its method.
        allowed: Method,
    } => METHOD_NOT_ALLOWED, "{path} is a server function: call it with {allowed}";

    /// No server function lives at this path.
    UnknownFunction {
        /// The path asked for.
        path: String,
    } => NOT_FOUND, "there is no server function at {path}";

    /// A mutation from another site (`Sec-Fetch-Site`, `Origin` or
    /// `Referer` against this site's origin).
    CrossSite {
        /// What gave it away.
        reason: String,
    } => FORBIDDEN, "cross-site request refused: {reason}";

    /// A body over the function's limit.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    } => PAYLOAD_TOO_LARGE, "the body is over the limit of {limit} bytes";

    /// A body that did not arrive whole in time.
    BodyTimeout {
        /// The time allowed, in seconds.
        seconds: u64,
    } => REQUEST_TIMEOUT, "the body did not arrive within {seconds} s";

    /// A content type the function's codec does not read.
    UnsupportedContentType {
        /// The request's content type (empty: none).
        got: String,
        /// The one the function reads.
        expected: String,
    } => UNSUPPORTED_MEDIA_TYPE, "content type {got:?} is not what this function reads ({expected})";

    /// A body that is not well-formed for its content type (a broken
    /// percent escape, bytes that are not UTF-8).
    MalformedBody {
        /// What is wrong with it.
        reason: String,
    } => BAD_REQUEST, "malformed body: {reason}";

    /// Arguments that do not decode into the function's parameters.
    BadArguments {
        /// The function's path.
        function: String,
        /// What did not decode.
        reason: String,
    } => BAD_REQUEST, "the arguments of {function} do not decode: {reason}";

    /// A bound argument this server did not seal for this function.
    ForgedArgument {
        /// The function's path.
        function: String,
    } => FORBIDDEN, "refused bound argument: it was not sealed by this server for {function}";

    /// A mounted-queries header that is not acceptable: malformed, too
    /// large, repeated, or naming a function that is not a declared query.
    BadQueries {
        /// What is wrong with it.
        reason: String,
    } => BAD_REQUEST, "x-tandem-queries refused: {reason}";
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = self.status();
        let allow = match &self {
            Refusal::MethodNotAllowed(m) => HeaderValue::from_str(m.allowed.as_str()).ok(),
            _ => None,
        };
        let mut response = (status, self.to_string()).into_response();
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    }
}

macro_rules! into_response {
    ($($name:ident),*) => {$(
        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                Refusal::from(self).into_response()
            }
        }
    )*};
}

into_response!(
    BadRequestTarget,
    ForeignHost,
    MethodNotAllowed,
    UnknownFunction,
    CrossSite,
    BodyTooLarge,
    BodyTimeout,
    UnsupportedContentType,
    MalformedBody,
    BadArguments,
    ForgedArgument,
    BadQueries
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_keeps_its_own_status() {
        let cases: Vec<(Refusal, u16)> = vec![
            (BadRequestTarget { target: "*".into() }.into(), 400),
            (
                ForeignHost {
                    host: "evil".into(),
                }
                .into(),
                400,
            ),
            (
                MethodNotAllowed {
                    path: "/api/x".into(),
                    allowed: Method::POST,
                }
                .into(),
                405,
            ),
            (
                UnknownFunction {
                    path: "/api/x".into(),
                }
                .into(),
                404,
            ),
            (CrossSite { reason: "x".into() }.into(), 403),
            (BodyTooLarge { limit: 1 }.into(), 413),
            (BodyTimeout { seconds: 1 }.into(), 408),
            (
                UnsupportedContentType {
                    got: "a".into(),
                    expected: "b".into(),
                }
                .into(),
                415,
            ),
            (MalformedBody { reason: "x".into() }.into(), 400),
            (
                BadArguments {
                    function: "/api/x".into(),
                    reason: "y".into(),
                }
                .into(),
                400,
            ),
            (
                ForgedArgument {
                    function: "/api/x".into(),
                }
                .into(),
                403,
            ),
            (BadQueries { reason: "x".into() }.into(), 400),
        ];
        for (refusal, status) in cases {
            assert_eq!(refusal.status().as_u16(), status, "{refusal:?}");
            assert_eq!(refusal.clone().into_response().status().as_u16(), status);
        }
    }

    #[test]
    fn method_not_allowed_says_which_method_is() {
        let response = MethodNotAllowed {
            path: "/api/x".into(),
            allowed: Method::POST,
        }
        .into_response();
        assert_eq!(response.headers()[header::ALLOW], "POST");
    }
}

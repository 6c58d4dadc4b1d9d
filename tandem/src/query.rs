//! Queries: the server data a page reads, registered so that one action
//! response can bring it up to date.
//!
//! [`use_query`] reads a server function into a Leptos [`Resource`]
//! (rendered on the server, serialized into the page and hydrated as
//! usual) and records it as mounted on the page: which function, with which
//! arguments. Every action sent through [`TandemClient`](crate::TandemClient)
//! names the mounted queries; when the action's effects touch the page's
//! data (`refresh()`, `revalidate_path`, a tag, a cookie), the server runs
//! those queries again in the same request and the response carries their
//! fresh values. The client puts them in place before the action's pending
//! state ends: one request per mutation, client-only state kept.
//!
//! Queries use the server function's default codecs (URL-encoded
//! arguments, JSON output).
//!
//! ```no_run
//! use leptos::prelude::*;
//!
//! #[server(endpoint = "get_count", client = tandem::TandemClient)]
//! pub async fn get_count() -> Result<i64, ServerFnError> {
//!     Ok(1)
//! }
//!
//! #[component]
//! fn Count() -> impl IntoView {
//!     let count = tandem::use_query(|| GetCount {});
//!     view! {
//!         <Suspense>
//!             {move || count.get().map(|c| c.map(|n| n.to_string()))}
//!         </Suspense>
//!     }
//! }
//! ```

use leptos::prelude::*;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::ServerFn;
use serde::{de::DeserializeOwned, Serialize};

/// What a query resource holds: the server function's result.
pub type QueryResult<S> = Result<<S as ServerFn>::Output, <S as ServerFn>::Error>;

/// Reads the server function `S` called with `args()` as a [`Resource`],
/// kept fresh by actions (see the [module docs](self)).
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[server(endpoint = "get_post", client = tandem::TandemClient)]
/// # pub async fn get_post(id: i64) -> Result<String, ServerFnError> { Ok(String::new()) }
/// let post = tandem::use_query(|| GetPost { id: 7 });
/// ```
pub fn use_query<S>(
    args: impl Fn() -> S + Clone + Send + Sync + 'static,
) -> Resource<QueryResult<S>>
where
    S: ServerFn + Serialize + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let first = args.clone();
    // On the server the function runs in process; in the browser it is a
    // request.
    #[cfg(feature = "ssr")]
    let resource = Resource::new(|| (), move |_| first().run_body());
    #[cfg(not(feature = "ssr"))]
    let resource = Resource::new(|| (), move |_| first().run_on_client());
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        use futures::FutureExt;
        let encoded = serde_qs::to_string(&args()).unwrap_or_default();
        let refetch_args = args.clone();
        let id = crate::runtime::register_query(crate::runtime::Registered {
            query: crate::flight::MountedQuery {
                path: S::PATH.to_string(),
                args: encoded,
            },
            apply: std::rc::Rc::new(move |status: u16, body: Vec<u8>| {
                let value = if status < 400 {
                    serde_json::from_slice::<S::Output>(&body).map_err(|e| {
                        S::Error::from_server_fn_error(
                            leptos::server_fn::error::ServerFnErrorErr::Deserialization(
                                e.to_string(),
                            ),
                        )
                    })
                } else {
                    Err(S::Error::de(body.into()))
                };
                resource.try_set(Some(value));
            }),
            refetch: std::rc::Rc::new(move || {
                let next = refetch_args().run_on_client();
                async move {
                    let value = next.await;
                    resource.try_set(Some(value));
                }
                .boxed_local()
            }),
        });
        on_cleanup(move || crate::runtime::unregister_query(id));
    }
    #[cfg(not(any(feature = "hydrate", feature = "csr")))]
    let _ = args;
    resource
}

/// Reads every query mounted on the page again from the browser (one
/// request per query); resolves when the fresh data is in. Actions do not
/// need it: their response carries the fresh data. Does nothing on the
/// server.
///
/// ```no_run
/// leptos::task::spawn_local(tandem::refresh_page());
/// ```
pub async fn refresh_page() {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    crate::runtime::refetch_all().await;
}

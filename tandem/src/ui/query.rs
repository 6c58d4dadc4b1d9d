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
//! Hydration reads nothing again: the server writes each query's data at
//! the end of the page, keyed by function and arguments, and the browser
//! takes it from there, wherever the query is made (inside a
//! `<Suspense>` that the server rendered more than once, too). A query
//! mounted while an action's answer lands (a component rebuilt because
//! its parent's data changed) takes the answer's data, or the data the
//! same query with the same arguments had if the answer did not touch it,
//! rather than sending a request of its own.
//!
//! Queries use the server function's default codecs (URL-encoded
//! arguments, JSON output).
//!
//! ```no_run
//! use leptos::prelude::*;
//!
//! #[tandem::query]
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
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::ServerFn;
use serde::{de::DeserializeOwned, Serialize};

/// A server function declared as a query with `#[tandem::query]`: it only
/// reads, so a page may mount it and an action may ask the server to read
/// it again. The attribute implements it; do not implement it yourself.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[tandem::query]
/// pub async fn get_total() -> Result<i64, ServerFnError> { Ok(0) }
/// fn needs_a_query<Q: tandem::Query>() {}
/// needs_a_query::<GetTotal>();
/// ```
pub trait Query: ServerFn {}

/// What a query resource holds: the server function's result.
pub type QueryResult<S> = Result<<S as ServerFn>::Output, <S as ServerFn>::Error>;

/// Reads the server function `S` called with `args()` into a
/// [`QueryResource`] (a Leptos [`Resource`] that is never stale),
/// kept fresh by actions (see the [module docs](self)).
///
/// `args` is reactive: read route params or signals in it, and the query
/// reads again when they change (the page never shows the data of the
/// arguments it had before), and is named with its new arguments in the
/// next action. On the server it runs in process while the page renders,
/// with the URL's params; hydration reads nothing again.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[tandem::query]
/// # pub async fn get_post(id: i64) -> Result<String, ServerFnError> { Ok(String::new()) }
/// use leptos_router::hooks::use_params_map;
/// let params = use_params_map();
/// let id = move || params.read().get("id").and_then(|id| id.parse().ok()).unwrap_or(0);
/// let post = tandem::use_query(move || GetPost { id: id() });
/// ```
pub fn use_query<S>(args: impl Fn() -> S + Clone + Send + Sync + 'static) -> QueryResource<S>
where
    S: Query + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    // The arguments, with their URL encoding as the query's codec sends
    // them: the resource's key, and what the page names in an action.
    let args = Memo::new(move |_| Args::new(args()));
    // Each value is kept with the arguments it was read for, so that the
    // previous arguments' data is never shown once they changed.
    let resource = Resource::<_, ByKey>::new_with_options(
        move || args.try_get(),
        |args: Option<Args<S>>| async move {
            match args {
                Some(args) => {
                    let encoded = args.encoded.clone();
                    (encoded, read::<S>(args).await)
                }
                // The query is gone (its owner was disposed).
                None => (String::new(), Err(gone::<S>())),
            }
        },
        false,
    );
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        use futures::FutureExt;
        let encoded_untracked = move || args.try_with_untracked(|a| a.encoded.clone());
        let id = crate::ui::page::register_query(crate::ui::page::Registered {
            path: S::PATH,
            args: std::rc::Rc::new(move || encoded_untracked().unwrap_or_default()),
            apply: std::rc::Rc::new(move |status: u16, body: Vec<u8>| {
                let args = encoded_untracked().unwrap_or_default();
                resource.try_set(Some((args, decode::<S>(status, body))));
            }),
            refetch: std::rc::Rc::new(move || {
                let Some(now) = args.try_get_untracked() else {
                    return async {}.boxed_local();
                };
                let read_for = now.encoded.clone();
                let next = read::<S>(now);
                async move {
                    let value = next.await;
                    // Only if the arguments are still those.
                    if encoded_untracked().as_ref() == Some(&read_for) {
                        resource.try_set(Some((read_for, value)));
                    }
                }
                .boxed_local()
            }),
            current: std::rc::Rc::new(move || {
                let args = encoded_untracked()?;
                let (read_for, value) = resource.try_get_untracked()??;
                (read_for == args)
                    .then(|| std::rc::Rc::new(value) as std::rc::Rc<dyn std::any::Any>)
            }),
        });
        on_cleanup(move || crate::ui::page::unregister_query(id));
    }
    QueryResource { resource, args }
}

/// A query's arguments and their URL encoding, which names them: two are
/// equal when their encodings are. The value is kept beside its encoding,
/// so that the browser never decodes arguments it already has.
#[derive(Clone)]
struct Args<S> {
    encoded: String,
    value: S,
}

impl<S: Serialize> Args<S> {
    fn new(value: S) -> Self {
        Self {
            encoded: serde_qs::to_string(&value).unwrap_or_default(),
            value,
        }
    }
}

impl<S> PartialEq for Args<S> {
    fn eq(&self, other: &Self) -> bool {
        self.encoded == other.encoded
    }
}

/// The error of a query read after its owner was disposed.
fn gone<S>() -> S::Error
where
    S: Query,
    S::Error: FromServerFnError,
{
    S::Error::from_server_fn_error(ServerFnErrorErr::Args("the query is gone".into()))
}

/// The data of a query, as [`use_query`] gives it: like a Leptos
/// [`Resource`] (read it with [`get`](QueryResource::get) or `.await` it,
/// inside `<Suspense>`), except that it never holds the data of the
/// arguments it had before: while the data of new arguments loads, it is
/// pending. `Copy`.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[tandem::query]
/// # pub async fn get_total() -> Result<i64, ServerFnError> { Ok(0) }
/// let total = tandem::use_query(|| GetTotal {});
/// view! {
///     <Suspense>{move || total.get().map(|t| t.map(|n| n.to_string()))}</Suspense>
/// };
/// ```
pub struct QueryResource<S: Query + Send + Sync + 'static>
where
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    resource: Resource<(String, QueryResult<S>), ByKey>,
    args: Memo<Args<S>>,
}

/// The codec of a query's resource: nothing travels by Leptos's resource
/// ids. They are handed out in the order resources are created, and the
/// server may render a `<Suspense>`'s children more than once (each pass
/// creates its resources again), so a query created inside one would be
/// hydrated with another pass's data. The page's data travels keyed by
/// query and arguments instead (see [`PAGE_DATA_SCRIPT_ID`](crate::wire::PAGE_DATA_SCRIPT_ID)),
/// and hydration reads it from there.
struct ByKey;

impl<T> leptos::server::codee::Encoder<T> for ByKey {
    type Error = std::convert::Infallible;
    type Encoded = String;

    fn encode(_: &T) -> Result<String, Self::Error> {
        Ok(String::new())
    }
}

impl<T> leptos::server::codee::Decoder<T> for ByKey {
    type Error = ();
    type Encoded = str;

    fn decode(_: &str) -> Result<T, ()> {
        Err(())
    }
}

impl<S: Query + Send + Sync + 'static> Clone for QueryResource<S>
where
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: Query + Send + Sync + 'static> Copy for QueryResource<S>
where
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
}

impl<S> QueryResource<S>
where
    S: Query + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// The data for the arguments the query has now; `None` while it loads
    /// (tracked, like [`Resource::get`], so `<Suspense>` waits for it).
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[tandem::query]
    /// # pub async fn get_total() -> Result<i64, ServerFnError> { Ok(0) }
    /// let total = tandem::use_query(|| GetTotal {});
    /// let shown = move || total.get().and_then(Result::ok).unwrap_or_default();
    /// ```
    pub fn get(&self) -> Option<QueryResult<S>> {
        // `None` too once the query is gone: a view being taken down may
        // still run once after the data its parent read changed.
        let current = self.args.try_with(|a| a.encoded.clone())?;
        self.resource
            .try_get()
            .flatten()
            .filter(|(args, _)| *args == current)
            .map(|(_, value)| value)
    }

    /// [`get`](QueryResource::get) without tracking.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[tandem::query]
    /// # pub async fn get_total() -> Result<i64, ServerFnError> { Ok(0) }
    /// let total = tandem::use_query(|| GetTotal {});
    /// let now = total.get_untracked();
    /// ```
    pub fn get_untracked(&self) -> Option<QueryResult<S>> {
        let current = self.args.try_with_untracked(|a| a.encoded.clone())?;
        self.resource
            .try_get_untracked()
            .flatten()
            .filter(|(args, _)| *args == current)
            .map(|(_, value)| value)
    }
}

impl<S> std::future::IntoFuture for QueryResource<S>
where
    S: Query + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Output = QueryResult<S>;
    type IntoFuture = futures::future::BoxFuture<'static, QueryResult<S>>;

    /// The data for the query's arguments now, once it is loaded: inside a
    /// `Suspend`, an answer for earlier arguments never resolves it (the
    /// `Suspend` runs again when the new data lands).
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let current = self
                .args
                .try_with_untracked(|a| a.encoded.clone())
                .unwrap_or_default();
            let (args, value) = self.resource.await;
            if args != current {
                std::future::pending::<()>().await;
            }
            value
        })
    }
}

/// Runs the query with its arguments: in process on the server (noting
/// what it read for the page being rendered), from the data a redirect
/// carried or with a request in the browser.
async fn read<S>(args: Args<S>) -> QueryResult<S>
where
    S: Query + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let Args {
        encoded,
        value: input,
    } = args;
    #[cfg(feature = "ssr")]
    {
        let rendered = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::wire::Rendered>().cloned());
        // The read may outlive this render pass's owner: keep the key.
        let key = use_context::<crate::server::bind::BindKey>();
        let (value, reads) =
            crate::wire::tracking_reads(crate::server::bind::with_key(key, input.run_body())).await;
        if let Some(rendered) = rendered {
            let (status, body) = match &value {
                Ok(output) => (200, serde_json::to_vec(output).unwrap_or_default()),
                Err(e) => (500, e.ser().to_vec()),
            };
            rendered.push(crate::wire::FreshQuery {
                query: crate::wire::MountedQuery {
                    path: S::PATH.to_string(),
                    args: encoded,
                },
                status,
                body: crate::wire::Body::from(body),
                reads: Some(reads),
            });
        }
        value
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        {
            // Data the page already has for it: a redirect's answer, the
            // page's own while it hydrates, an action's answer landing now.
            match crate::ui::page::carried(S::PATH, &encoded) {
                Some(crate::ui::page::Carried::Fresh(fresh)) => {
                    return decode::<S>(fresh.status, fresh.body.into_bytes())
                }
                Some(crate::ui::page::Carried::Kept(kept)) => {
                    if let Some(value) = kept.downcast_ref::<QueryResult<S>>() {
                        return value.clone();
                    }
                }
                None => {}
            }
            crate::ui::page::reading(S::PATH, &encoded, input.run_on_client()).await
        }
        #[cfg(not(any(feature = "hydrate", feature = "csr")))]
        input.run_on_client().await
    }
}

/// A query's result from its status and body.
#[cfg_attr(not(any(feature = "hydrate", feature = "csr")), allow(dead_code))]
fn decode<S>(status: u16, body: Vec<u8>) -> QueryResult<S>
where
    S: Query,
    S::Output: DeserializeOwned,
    S::Error: FromServerFnError,
{
    if status < 400 {
        serde_json::from_slice::<S::Output>(&body).map_err(|e| {
            S::Error::from_server_fn_error(ServerFnErrorErr::Deserialization(e.to_string()))
        })
    } else {
        Err(S::Error::de(body.into()))
    }
}

/// Reads every query mounted on the page again from the browser (one
/// request per query); resolves when the fresh data is in. Actions do not
/// need it: their response carries the fresh data. Does nothing on the
/// server.
///
/// ```no_run
/// leptos::task::spawn_local(tandem::refresh_page());
/// ```
pub fn refresh_page() -> impl std::future::Future<Output = ()> + Send + 'static {
    // The browser is one thread: the page's futures never cross threads.
    send_wrapper::SendWrapper::new(async {
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        crate::ui::page::refetch_all().await;
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use leptos::prelude::ServerFnError;

    #[tandem::query(endpoint = "tandem_test_times_ten")]
    pub(crate) async fn tandem_test_times_ten(n: i64) -> Result<i64, ServerFnError> {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Ok(n * 10)
    }

    #[tokio::test]
    async fn a_query_follows_its_arguments_and_never_shows_the_previous_ones() {
        let _ = any_spawner::Executor::init_tokio();
        let owner = Owner::new();
        owner.set();
        let n = RwSignal::new(1);
        let query = use_query(move || TandemTestTimesTen { n: n.get() });
        assert_eq!(query.await, Ok(10));
        assert_eq!(query.get_untracked(), Some(Ok(10)));
        n.set(2);
        // The data of n = 1 is not the data of n = 2.
        assert_eq!(
            query.get_untracked(),
            None,
            "never the previous arguments' data"
        );
        let mut loaded = None;
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            loaded = query.get_untracked();
            if loaded.is_some() {
                break;
            }
        }
        assert_eq!(loaded, Some(Ok(20)));
        assert_eq!(query.await, Ok(20));
    }
}

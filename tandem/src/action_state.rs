//! Action state: a server function that turns the previous state and a
//! submitted form into the next state (React's `useActionState`).
//!
//! The server function takes the previous state as its first argument,
//! `prev: Prev<T>`, then the form's fields by name, and returns the next
//! state. [`use_action_state`] gives `(state, action, pending)`: pass
//! `action` to a [`Form`](crate::Form) (or to a child component as a prop).
//! Expected errors are values of the state ("Title is required"); an `Err`
//! from the function is unexpected and goes to the nearest
//! `<ErrorBoundary>`.
//!
//! Without JavaScript the form is a native POST; the server runs the
//! function and renders the page with the returned state already in place.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::{use_action_state, Form, Prev};
//!
//! #[server(endpoint = "rename", client = tandem::TandemClient)]
//! pub async fn rename(prev: Prev<String>, name: String) -> Result<String, ServerFnError> {
//!     Ok(if name.trim().is_empty() { "Name is required".into() } else { format!("Hello {name}") })
//! }
//!
//! #[component]
//! fn RenameForm() -> impl IntoView {
//!     let (state, action, pending) = use_action_state::<Rename>(String::new());
//!     view! {
//!         <Form action>
//!             <input name="name"/>
//!             <button type="submit" disabled=pending>"Save"</button>
//!             <p>{state}</p>
//!         </Form>
//!     }
//! }
//! ```

use crate::action::{use_action, Action};
use crate::form::AnyFormAction;
use leptos::prelude::*;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::ServerFn;
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt::Display;
use std::sync::Arc;

/// Name of the form field that carries the previous state.
pub const PREV_FIELD: &str = "prev";

/// The previous state, as a server function argument. On the wire it is one
/// form field (`prev`) holding the state as JSON, so any serde type works.
///
/// ```
/// use tandem::Prev;
/// let p = Prev(vec![1, 2]);
/// let json = serde_json::to_string(&p).unwrap();
/// assert_eq!(json, r#""[1,2]""#);
/// assert_eq!(serde_json::from_str::<Prev<Vec<i32>>>(&json).unwrap().0, vec![1, 2]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prev<T>(pub T);

impl<T> Prev<T> {
    /// The state itself.
    ///
    /// ```
    /// assert_eq!(tandem::Prev(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: Serialize> Serialize for Prev<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let json = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&json)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Prev<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = String::deserialize(d)?;
        serde_json::from_str(&json)
            .map(Prev)
            .map_err(|e| serde::de::Error::custom(format!("field `prev`: {e}")))
    }
}

/// The handle `use_action_state` returns for forms: dispatch it with a form
/// or with the server function's arguments. `Copy`.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[server(endpoint = "rename2", client = tandem::TandemClient)]
/// # pub async fn rename2(prev: tandem::Prev<String>, name: String) -> Result<String, ServerFnError> { Ok(name) }
/// let (_state, action, _pending) = tandem::use_action_state::<Rename2>(String::new());
/// action.dispatch(Rename2 { prev: tandem::Prev(String::new()), name: "Ann".into() });
/// ```
pub struct FormAction<S>
where
    S: ServerFn + 'static,
    S::Output: 'static,
    S::Error: 'static,
{
    action: Action<S, Result<S::Output, S::Error>>,
    /// The last result (`None` before the first, for stateless actions).
    state: RwSignal<Option<S::Output>>,
    /// Where the state starts.
    initial: StoredValue<Option<S::Output>>,
    error: RwSignal<Option<S::Error>>,
    /// Whether the form sends the state back as `prev`.
    stateful: bool,
}

impl<S: ServerFn + 'static> Clone for FormAction<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: ServerFn + 'static> Copy for FormAction<S> {}

/// `(state, action, pending)` for the server function `S` (its generated
/// struct, as in `ServerAction<S>`), starting from `initial`. See the
/// [module docs](self).
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[server(endpoint = "rename3", client = tandem::TandemClient)]
/// # pub async fn rename3(prev: tandem::Prev<String>, name: String) -> Result<String, ServerFnError> { Ok(name) }
/// let (state, action, pending) = tandem::use_action_state::<Rename3>(String::new());
/// ```
pub fn use_action_state<S>(initial: S::Output) -> (Signal<S::Output>, FormAction<S>, Signal<bool>)
where
    S: ServerFn + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    let form_action = FormAction::<S>::build(Some(initial.clone()), true);
    let state = form_action.state;
    let initial = StoredValue::new(initial);
    let current = Signal::derive(move || state.get().unwrap_or_else(|| initial.get_value()));
    (current, form_action, form_action.pending())
}

/// An action for a form whose server function takes no previous state
/// (e.g. a delete button): [`FormAction::value`] has its last result.
///
/// ```no_run
/// # use leptos::prelude::*;
/// #[server(endpoint = "delete_it", client = tandem::TandemClient)]
/// pub async fn delete_it(id: i64) -> Result<(), ServerFnError> { Ok(()) }
///
/// let delete = tandem::use_form_action::<DeleteIt>();
/// view! { <tandem::Form action=delete><input type="hidden" name="id" value="1"/></tandem::Form> };
/// ```
pub fn use_form_action<S>() -> FormAction<S>
where
    S: ServerFn + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    FormAction::build(None, false)
}

impl<S> FormAction<S>
where
    S: ServerFn + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    fn build(initial: Option<S::Output>, stateful: bool) -> Self {
        // A form posted without JavaScript: the server ran `S` already and
        // renders its result; the browser hydrates from the same value.
        let submitted = SharedValue::new(move || crate::form::submitted_outcome(S::PATH));
        let (seed, seed_error) = match submitted.into_inner() {
            Some(outcome) if outcome.ok => match serde_json::from_str::<S::Output>(&outcome.body) {
                Ok(state) => (Some(state), None),
                Err(e) => (
                    initial.clone(),
                    Some(S::Error::from_server_fn_error(
                        ServerFnErrorErr::Deserialization(e.to_string()),
                    )),
                ),
            },
            Some(outcome) => (initial.clone(), Some(S::Error::de(outcome.body.into()))),
            None => (initial.clone(), None),
        };
        let state = RwSignal::new(seed);
        let error = RwSignal::new(seed_error);
        let initial = StoredValue::new(initial);
        let action = use_action(|input: &S| input.clone().run_on_client());
        // Fold each result into the state as it lands.
        let version = action.version();
        Effect::new(move |_| {
            version.track();
            if let Some(result) = action.value().get_untracked() {
                match result {
                    Ok(next) => {
                        state.set(Some(next));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            }
        });
        FormAction {
            action,
            state,
            initial,
            error,
            stateful,
        }
    }

    /// The last result, `None` before the first (for
    /// [`use_action_state`] it starts at the initial state).
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[server(endpoint = "rename8", client = tandem::TandemClient)]
    /// # pub async fn rename8(name: String) -> Result<String, ServerFnError> { Ok(name) }
    /// # let action = tandem::use_form_action::<Rename8>();
    /// let last = move || action.value().get();
    /// ```
    pub fn value(&self) -> Signal<Option<S::Output>> {
        self.state.into()
    }

    /// Runs the server function with these arguments (through the queue).
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[server(endpoint = "rename4", client = tandem::TandemClient)]
    /// # pub async fn rename4(prev: tandem::Prev<String>, name: String) -> Result<String, ServerFnError> { Ok(name) }
    /// # let (_s, action, _p) = tandem::use_action_state::<Rename4>(String::new());
    /// action.dispatch(Rename4 { prev: tandem::Prev(String::new()), name: "Ann".into() });
    /// ```
    pub fn dispatch(&self, input: S) {
        self.action.dispatch(input);
    }

    /// The last unexpected error, if the last call failed.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[server(endpoint = "rename6", client = tandem::TandemClient)]
    /// # pub async fn rename6(prev: tandem::Prev<String>, name: String) -> Result<String, ServerFnError> { Ok(name) }
    /// # let (_s, action, _p) = tandem::use_action_state::<Rename6>(String::new());
    /// let failed = move || action.error().get().is_some();
    /// ```
    pub fn error(&self) -> Signal<Option<S::Error>> {
        self.error.into()
    }

    /// Whether a call is queued or running.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[server(endpoint = "rename7", client = tandem::TandemClient)]
    /// # pub async fn rename7(prev: tandem::Prev<String>, name: String) -> Result<String, ServerFnError> { Ok(name) }
    /// # let (_s, action, _p) = tandem::use_action_state::<Rename7>(String::new());
    /// let busy = action.pending();
    /// ```
    pub fn pending(&self) -> Signal<bool> {
        self.action.pending()
    }
}

impl<S> From<FormAction<S>> for AnyFormAction
where
    S: ServerFn + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    fn from(fa: FormAction<S>) -> Self {
        let state = fa.state;
        let error = fa.error;
        let initial = fa.initial;
        AnyFormAction {
            path: S::PATH,
            pending: fa.pending(),
            prev: fa.stateful.then(|| {
                Signal::derive(move || state.with(|s| serde_json::to_string(s).unwrap_or_default()))
            }),
            error: Signal::derive(move || error.with(|e| e.as_ref().map(|e| e.to_string()))),
            reset: Arc::new(move || {
                state.try_set(initial.try_get_value().flatten());
                error.try_set(None);
            }),
            dispatch_form: Arc::new(move |form: &leptos::web_sys::FormData| {
                match crate::form::decode_form::<S>(form) {
                    Ok(input) => fa.dispatch(input),
                    Err(message) => error.set(Some(S::Error::from_server_fn_error(
                        ServerFnErrorErr::Args(message),
                    ))),
                }
            }),
        }
    }
}

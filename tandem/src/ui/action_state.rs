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
//! #[tandem::server(endpoint = "rename")]
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

use crate::ui::action::{use_action, Action};
use crate::ui::form::AnyFormAction;
use leptos::prelude::*;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::ServerFn;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Display;
use std::sync::Arc;

/// The handle `use_action_state` returns for forms: dispatch it with a form
/// or with the server function's arguments. `Copy`.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[tandem::server(endpoint = "rename2")]
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
/// # #[tandem::server(endpoint = "rename3")]
/// # pub async fn rename3(prev: tandem::Prev<String>, name: String) -> Result<String, ServerFnError> { Ok(name) }
/// let (state, action, pending) = tandem::use_action_state::<Rename3>(String::new());
/// ```
pub fn use_action_state<S>(initial: S::Output) -> (Signal<S::Output>, FormAction<S>, Signal<bool>)
where
    S: ServerFn + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
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
/// #[tandem::server(endpoint = "delete_it")]
/// pub async fn delete_it(id: i64) -> Result<(), ServerFnError> { Ok(()) }
///
/// let delete = tandem::use_form_action::<DeleteIt>();
/// view! { <tandem::Form action=delete><input type="hidden" name="id" value="1"/></tandem::Form> };
/// ```
pub fn use_form_action<S>() -> FormAction<S>
where
    S: ServerFn + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    FormAction::build(None, false)
}

impl<S> FormAction<S>
where
    S: ServerFn + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    fn build(initial: Option<S::Output>, stateful: bool) -> Self {
        // A form posted without JavaScript: the server ran `S` already and
        // renders its result; the browser hydrates from the same value.
        let submitted = SharedValue::new(move || crate::ui::form::submitted_outcome(S::PATH));
        let (seed, seed_error) = seeded::<S>(submitted.into_inner(), initial.clone());
        let state = RwSignal::new(seed);
        let error = RwSignal::new(seed_error);
        let initial = StoredValue::new(initial);
        // A queued call is made when its turn comes: a stateful one sends
        // the state the calls before it left as `prev`.
        let action = use_action(move |input: &S| {
            let input = if stateful {
                let current = state
                    .try_get_untracked()
                    .flatten()
                    .or_else(|| initial.try_get_value().flatten());
                match current {
                    Some(current) => with_prev(input, &current).unwrap_or_else(|| input.clone()),
                    None => input.clone(),
                }
            } else {
                input.clone()
            };
            input.run_on_client()
        });
        // A call that timed out or was aborted is the form's error.
        let failure = action.failure();
        Effect::new(move |_| {
            if let Some(why) = failure.get() {
                error.set(Some(S::Error::from_server_fn_error(
                    ServerFnErrorErr::Request(why.to_string()),
                )));
            }
        });
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
    /// # #[tandem::server(endpoint = "rename8")]
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
    /// # #[tandem::server(endpoint = "rename4")]
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
    /// # #[tandem::server(endpoint = "rename6")]
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
    /// # #[tandem::server(endpoint = "rename7")]
    /// # pub async fn rename7(prev: tandem::Prev<String>, name: String) -> Result<String, ServerFnError> { Ok(name) }
    /// # let (_s, action, _p) = tandem::use_action_state::<Rename7>(String::new());
    /// let busy = action.pending();
    /// ```
    pub fn pending(&self) -> Signal<bool> {
        self.action.pending()
    }
}

/// The state and error an action starts from: the answer to a post without
/// JavaScript, else `initial`.
fn seeded<S>(
    outcome: Option<crate::ui::form::Outcome>,
    initial: Option<S::Output>,
) -> (Option<S::Output>, Option<S::Error>)
where
    S: ServerFn,
    S::Output: DeserializeOwned,
    S::Error: FromServerFnError,
{
    match outcome {
        Some(outcome) if outcome.ok => match serde_json::from_str::<S::Output>(&outcome.body) {
            Ok(state) => (Some(state), None),
            Err(e) => (
                initial,
                Some(S::Error::from_server_fn_error(
                    ServerFnErrorErr::Deserialization(e.to_string()),
                )),
            ),
        },
        Some(outcome) => (initial, Some(S::Error::de(outcome.body.into()))),
        None => (initial, None),
    }
}

/// `input` with its `prev` field (see [`Prev`](crate::Prev)) set to
/// `state`; `None` if it has no such field or does not re-encode.
fn with_prev<S, T>(input: &S, state: &T) -> Option<S>
where
    S: Serialize + DeserializeOwned,
    T: Serialize,
{
    let encoded = serde_qs::to_string(input).ok()?;
    let mut fields: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect();
    let prev = fields
        .iter_mut()
        .find(|(k, _)| k == crate::wire::PREV_FIELD)?;
    prev.1 = serde_json::to_string(state).ok()?;
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    serde_qs::from_str(&encoded).ok()
}

impl<S> From<FormAction<S>> for AnyFormAction
where
    S: ServerFn + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
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
            seed: Arc::new(move |outcome: &crate::ui::form::Outcome| {
                let (seed, seed_error) = seeded::<S>(Some(outcome.clone()), None);
                if let Some(seed) = seed {
                    state.try_set(Some(seed));
                }
                error.try_set(seed_error);
            }),
            dispatch_form: Arc::new(move |form: &leptos::web_sys::FormData| {
                match crate::ui::form::decode_form::<S>(form) {
                    Ok(input) => fa.dispatch(input),
                    Err(message) => error.set(Some(S::Error::from_server_fn_error(
                        ServerFnErrorErr::Args(message),
                    ))),
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Prev;
    use serde::Deserialize;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Rename {
        prev: Prev<Vec<String>>,
        name: String,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Delete {
        id: i64,
    }

    #[test]
    fn a_queued_call_sends_the_state_that_settled_before_it() {
        let dispatched = Rename {
            prev: Prev(vec![]),
            name: "b & c".into(),
        };
        let settled = vec!["a".to_string()];
        let sent = with_prev(&dispatched, &settled).expect("a prev field");
        assert_eq!(sent.prev.0, settled);
        assert_eq!(sent.name, "b & c", "the other fields are kept");
    }

    #[test]
    fn a_call_without_prev_is_sent_as_it_is() {
        assert_eq!(with_prev(&Delete { id: 3 }, &"state"), None);
    }
}

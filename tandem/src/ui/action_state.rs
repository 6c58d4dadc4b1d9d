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
use crate::ui::form::{AnyFormAction, Outcome};
use crate::wire::{HttpCodec, Issues};
use leptos::prelude::*;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::ServerFn;
use send_wrapper::SendWrapper;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Display;
use std::sync::{Arc, Mutex};

/// What one call of a form action came to: the function's result and what
/// the answer said besides (the issues of a refusal, the error id of an
/// unexpected failure).
type Called<S> = (
    Result<<S as ServerFn>::Output, <S as ServerFn>::Error>,
    crate::ui::page::Notes,
);

/// What a form action is dispatched with: the function's arguments, or (a
/// function that takes `multipart/form-data`) the browser's form itself.
pub(crate) enum Submission<S> {
    /// The arguments, taken when the call's turn comes (each dispatch runs
    /// once; the arguments need not be `Clone`).
    Args(Mutex<Option<S>>),
    /// A form with files, sent as it is.
    Form(SendWrapper<leptos::web_sys::FormData>),
}

/// How a form's data becomes a submission of `S`.
type Decode<S> = fn(&leptos::web_sys::FormData) -> Result<Submission<S>, String>;

/// Sets the `prev` argument of a stateful call to the state the calls
/// before it left.
type WithPrev<S> = fn(S, &<S as ServerFn>::Output) -> S;

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
    action: Action<Submission<S>, Called<S>>,
    /// The last result (`None` before the first, for stateless actions).
    state: RwSignal<Option<S::Output>>,
    /// Where the state starts.
    initial: StoredValue<Option<S::Output>>,
    error: RwSignal<Option<S::Error>>,
    /// The id the server logged the last unexpected failure with.
    error_id: RwSignal<Option<String>>,
    /// What the function refused, field by field.
    issues: RwSignal<Option<Issues>>,
    /// An upload's bytes sent and total.
    progress: RwSignal<Option<(u64, u64)>>,
    /// How a stateful action sends the state back as `prev` (`None`: it
    /// does not).
    with_prev: Option<WithPrev<S>>,
    /// How a submitted form becomes a call.
    decode: Decode<S>,
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
    S: ServerFn + Serialize + DeserializeOwned + Send + 'static,
    S::Protocol: HttpCodec,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    let form_action = FormAction::<S>::build(
        Some(initial.clone()),
        Some(prev_of::<S, S::Output>),
        decoder::<S>(),
    );
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
    S: ServerFn + Serialize + DeserializeOwned + Send + 'static,
    S::Protocol: HttpCodec,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    FormAction::build(None, None, decoder::<S>())
}

/// An action for a form with files: its server function takes
/// `multipart/form-data` (server_fn's `MultipartData`, read on the server
/// with [`read_form`](crate::server::multipart::read_form)). The browser's
/// form is sent as it is, with its upload's progress in
/// [`use_form_status`](crate::use_form_status); before hydration and
/// without JavaScript the browser posts it natively.
///
/// ```no_run
/// use leptos::prelude::*;
/// use server_fn::codec::{MultipartData, MultipartFormData};
///
/// #[tandem::server(endpoint = "upload_photo", input = MultipartFormData)]
/// pub async fn upload_photo(data: MultipartData) -> Result<usize, ServerFnError> {
///     # let _ = data; Ok(0)
/// }
///
/// let upload = tandem::use_upload_action::<UploadPhoto>();
/// view! {
///     <tandem::Form action=upload>
///         <input type="file" name="photo"/>
///         <button type="submit">"Upload"</button>
///     </tandem::Form>
/// };
/// ```
pub fn use_upload_action<S>() -> FormAction<S>
where
    S: ServerFn + Send + 'static,
    S::Protocol: HttpCodec,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    if !crate::wire::is_multipart::<S>() {
        leptos::logging::error!(
            "tandem: use_upload_action::<{}>: its function does not take multipart/form-data",
            std::any::type_name::<S>()
        );
    }
    FormAction::build(None, None, as_form::<S>)
}

/// How a form becomes a call of `S`: its fields decoded into the
/// arguments, or (a function that takes files) the form itself.
fn decoder<S>() -> Decode<S>
where
    S: ServerFn + DeserializeOwned + Send + 'static,
    S::Protocol: HttpCodec,
{
    if crate::wire::is_multipart::<S>() {
        as_form::<S>
    } else {
        as_args::<S>
    }
}

fn as_args<S: DeserializeOwned>(form: &leptos::web_sys::FormData) -> Result<Submission<S>, String> {
    crate::ui::form::decode_form::<S>(form).map(|input| Submission::Args(Mutex::new(Some(input))))
}

fn as_form<S>(form: &leptos::web_sys::FormData) -> Result<Submission<S>, String> {
    Ok(Submission::Form(SendWrapper::new(form.clone())))
}

fn prev_of<S, T>(input: S, state: &T) -> S
where
    S: Serialize + DeserializeOwned,
    T: Serialize,
{
    with_prev(&input, state).unwrap_or(input)
}

impl<S> FormAction<S>
where
    S: ServerFn + Send + 'static,
    S::Protocol: HttpCodec,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    fn build(
        initial: Option<S::Output>,
        with_prev: Option<WithPrev<S>>,
        decode: Decode<S>,
    ) -> Self {
        // A form posted without JavaScript: the server ran `S` already and
        // renders its result; the browser hydrates from the same value.
        let submitted = SharedValue::new(move || crate::ui::form::submitted_outcome(S::PATH));
        let outcome = submitted.into_inner();
        let (seed, seed_error) = seeded::<S>(outcome.clone(), initial.clone());
        let state = RwSignal::new(seed);
        let error = RwSignal::new(seed_error);
        let error_id = RwSignal::new(outcome.as_ref().and_then(|o| o.error_id.clone()));
        let issues = RwSignal::new(outcome.and_then(|o| o.issues));
        let progress = RwSignal::new(None);
        let initial = StoredValue::new(initial);
        // A queued call is made when its turn comes: a stateful one sends
        // the state the calls before it left as `prev`.
        let action = use_action(move |input: &Submission<S>| {
            let notes = crate::ui::page::CallNotes::default();
            let call: futures::future::BoxFuture<'static, Called<S>> = match input {
                Submission::Args(slot) => {
                    let taken = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                    let Some(mut input) = taken else {
                        return Box::pin(async move {
                            let e = ServerFnErrorErr::Request("this call already ran".into());
                            (Err(S::Error::from_server_fn_error(e)), notes.take())
                        })
                            as futures::future::BoxFuture<'static, Called<S>>;
                    };
                    if let Some(with_prev) = with_prev {
                        let current = state
                            .try_get_untracked()
                            .flatten()
                            .or_else(|| initial.try_get_value().flatten());
                        if let Some(current) = current {
                            input = with_prev(input, &current);
                        }
                    }
                    let run = crate::ui::page::calling(notes.clone(), input.run_on_client());
                    Box::pin(async move { (run.await, notes.take()) })
                }
                Submission::Form(data) => {
                    let data = data.clone();
                    Box::pin(SendWrapper::new(async move {
                        upload::<S>(&data, progress, notes.clone()).await
                    }))
                }
            };
            call
        });
        // A call that timed out or was aborted is the form's error.
        let failure = action.failure();
        Effect::new(move |_| {
            if let Some(why) = failure.get() {
                error.set(Some(S::Error::from_server_fn_error(
                    ServerFnErrorErr::Request(why.to_string()),
                )));
                progress.set(None);
            }
        });
        // Fold each result into the state as it lands.
        let version = action.version();
        Effect::new(move |_| {
            version.track();
            if let Some((result, notes)) = action.value().get_untracked() {
                progress.set(None);
                if notes.issues.is_some() {
                    // Refused, field by field: expected, not an error.
                    issues.set(notes.issues);
                    error.set(None);
                    error_id.set(None);
                    return;
                }
                issues.set(None);
                match result {
                    Ok(next) => {
                        state.set(Some(next));
                        error.set(None);
                        error_id.set(None);
                    }
                    Err(e) => {
                        error.set(Some(e));
                        error_id.set(notes.error_id);
                    }
                }
            }
        });
        crate::ui::form::keep_for_reset(Arc::new(move || {
            error.try_set(None);
            error_id.try_set(None);
        }));
        FormAction {
            action,
            state,
            initial,
            error,
            error_id,
            issues,
            progress,
            with_prev,
            decode,
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
        self.action
            .dispatch(Submission::Args(Mutex::new(Some(input))));
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

    /// What the function refused in the last call, field by field (see
    /// [`invalid`](crate::invalid) and [`deny`](crate::deny)).
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[tandem::server(endpoint = "rename9")]
    /// # pub async fn rename9(name: String) -> Result<String, ServerFnError> { Ok(name) }
    /// # let action = tandem::use_form_action::<Rename9>();
    /// let refused = move || action.issues().get().is_some();
    /// ```
    pub fn issues(&self) -> Signal<Option<Issues>> {
        self.issues.into()
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

/// Sends a form with files (a `multipart/form-data` function), reporting
/// the upload's progress, and reads the answer as the function's result.
#[cfg_attr(
    not(any(feature = "hydrate", feature = "csr")),
    allow(unused_variables)
)]
async fn upload<S>(
    data: &leptos::web_sys::FormData,
    progress: RwSignal<Option<(u64, u64)>>,
    notes: crate::ui::page::CallNotes,
) -> Called<S>
where
    S: ServerFn,
    S::Output: DeserializeOwned,
    S::Error: FromServerFnError,
{
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        let sent = crate::ui::upload::send_form(S::PATH, data, move |sent, total| {
            progress.try_set(Some((sent, total)));
        })
        .await;
        match sent {
            Ok(sent) => {
                if let Some(envelope) = &sent.envelope {
                    notes.note(envelope.effects.issues.clone(), envelope.error_id.clone());
                }
                let result = if sent.status < 400 {
                    serde_json::from_slice::<S::Output>(&sent.body).map_err(|e| {
                        S::Error::from_server_fn_error(ServerFnErrorErr::Deserialization(
                            e.to_string(),
                        ))
                    })
                } else {
                    Err(S::Error::de(sent.body.into()))
                };
                (result, notes.take())
            }
            Err(e) => (
                Err(S::Error::from_server_fn_error(ServerFnErrorErr::Request(e))),
                notes.take(),
            ),
        }
    }
    #[cfg(not(any(feature = "hydrate", feature = "csr")))]
    (
        Err(S::Error::from_server_fn_error(ServerFnErrorErr::Request(
            "a form with files is sent from the browser".into(),
        ))),
        notes.take(),
    )
}

/// The state, error and issues an action starts from: the answer to a post
/// without JavaScript, else `initial`.
fn seeded<S>(
    outcome: Option<Outcome>,
    initial: Option<S::Output>,
) -> (Option<S::Output>, Option<S::Error>)
where
    S: ServerFn,
    S::Output: DeserializeOwned,
    S::Error: FromServerFnError,
{
    match outcome {
        // Refused field by field: the issues say it, not an error.
        Some(outcome) if outcome.issues.is_some() => (initial, None),
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
    S: ServerFn + Send + 'static,
    S::Protocol: HttpCodec,
    S::Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S::Error: FromServerFnError + Display + Clone + Send + Sync + 'static,
{
    fn from(fa: FormAction<S>) -> Self {
        let FormAction {
            state,
            error,
            error_id,
            issues,
            progress,
            initial,
            with_prev,
            decode,
            action,
        } = fa;
        let multipart = crate::wire::is_multipart::<S>();
        AnyFormAction {
            path: S::PATH,
            pending: fa.pending(),
            prev: with_prev.is_some().then(|| {
                Signal::derive(move || state.with(|s| serde_json::to_string(s).unwrap_or_default()))
            }),
            error: Signal::derive(move || error.with(|e| e.as_ref().map(|e| e.to_string()))),
            error_id: error_id.into(),
            issues: issues.into(),
            progress: progress.into(),
            multipart,
            reset: Arc::new(move || {
                state.try_set(initial.try_get_value().flatten());
                error.try_set(None);
                error_id.try_set(None);
                issues.try_set(None);
            }),
            seed: Arc::new(move |outcome: &Outcome| {
                let (seed, seed_error) = seeded::<S>(Some(outcome.clone()), None);
                if let Some(seed) = seed {
                    state.try_set(Some(seed));
                }
                error.try_set(seed_error);
                error_id.try_set(outcome.error_id.clone());
                issues.try_set(outcome.issues.clone());
            }),
            dispatch_form: Arc::new(move |form: &leptos::web_sys::FormData| match decode(form) {
                Ok(submission) => action.dispatch(submission),
                Err(message) => error.set(Some(S::Error::from_server_fn_error(
                    ServerFnErrorErr::Args(message),
                ))),
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

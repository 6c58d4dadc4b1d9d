//! Progressive forms: a native POST without JavaScript, a fetch with it.
//!
//! [`Form`] renders a real `<form method="post">` aimed at the current page,
//! with a hidden field naming its server function. Without JavaScript (or
//! before the wasm has loaded and the pre-hydration queue gave up) the
//! browser posts it; Tandem's server runs the function and renders the page
//! in place with the result (or answers `303` on a redirect). Once hydrated,
//! submitting dispatches the action through the queue instead, and nothing
//! reloads.
//!
//! A [`SubmitButton`] with its own `action` runs another server function for
//! the same form: the `formAction` counterpart.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::{use_form_action, Form, SubmitButton};
//!
//! #[tandem::server(endpoint = "set_name")]
//! pub async fn set_name() -> Result<(), ServerFnError> {
//!     tandem::cookies().set("name", "Delba");
//!     Ok(())
//! }
//! #[tandem::server(endpoint = "clear_name")]
//! pub async fn clear_name() -> Result<(), ServerFnError> {
//!     tandem::cookies().delete("name");
//!     Ok(())
//! }
//!
//! #[component]
//! fn CookieButtons() -> impl IntoView {
//!     let set = use_form_action::<SetName>();
//!     let clear = use_form_action::<ClearName>();
//!     view! {
//!         <Form>
//!             <SubmitButton action=set>"Set"</SubmitButton>
//!             <SubmitButton action=clear>"Delete"</SubmitButton>
//!         </Form>
//!     }
//! }
//! ```

use crate::wire::{SubmittedAction, ACTION_FIELD, BUTTON_ACTION_FIELD, FORM_KEY_FIELD};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::sync::Arc;

/// What an action's SSR seed needs from a no-JS submission.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Outcome {
    pub ok: bool,
    pub body: String,
}

/// The submission of this request, when rendering on the server.
fn submitted_action() -> Option<SubmittedAction> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<SubmittedAction>().cloned())
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// The result of `path` if this request ran it for a form post of a form
/// without a key (a keyed [`Form`] gives its action the result itself).
pub(crate) fn submitted_outcome(path: &str) -> Option<Outcome> {
    submitted_action()
        .filter(|s| s.action == path && s.form_key().is_none())
        .map(|s| Outcome {
            ok: s.succeeded(),
            body: s.body,
        })
}

/// Decodes a browser form into the server function's arguments, the way
/// the server decodes the same form posted without JavaScript.
pub(crate) fn decode_form<S: DeserializeOwned>(
    form: &leptos::web_sys::FormData,
) -> Result<S, String> {
    use leptos::form::FromFormData;
    S::from_form_data(form).map_err(|e| e.to_string())
}

/// A form action with its types erased: what [`Form`] and [`SubmitButton`]
/// take. Made from a [`FormAction`](crate::FormAction) with `.into()`
/// (props do it for you).
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[tandem::server(endpoint = "noop")]
/// # pub async fn noop() -> Result<(), ServerFnError> { Ok(()) }
/// let any: tandem::AnyFormAction = tandem::use_form_action::<Noop>().into();
/// assert_eq!(any.path(), "/api/noop");
/// ```
#[derive(Clone)]
pub struct AnyFormAction {
    pub(crate) path: &'static str,
    pub(crate) pending: Signal<bool>,
    pub(crate) prev: Option<Signal<String>>,
    pub(crate) error: Signal<Option<String>>,
    pub(crate) dispatch_form: Arc<dyn Fn(&leptos::web_sys::FormData) + Send + Sync>,
    /// Puts the state back to where it started (after a redirect).
    #[cfg_attr(not(any(feature = "hydrate", feature = "csr")), allow(dead_code))]
    pub(crate) reset: Arc<dyn Fn() + Send + Sync>,
    /// Starts the state from the answer to a post without JavaScript.
    pub(crate) seed: Arc<dyn Fn(&Outcome) + Send + Sync>,
}

impl AnyFormAction {
    /// The server function's URL path.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[tandem::server(endpoint = "noop2")]
    /// # pub async fn noop2() -> Result<(), ServerFnError> { Ok(()) }
    /// let any: tandem::AnyFormAction = tandem::use_form_action::<Noop2>().into();
    /// assert!(any.path().ends_with("noop2"));
    /// ```
    pub fn path(&self) -> &'static str {
        self.path
    }
}

/// The status of the enclosing [`Form`] (React's `useFormStatus`).
///
/// ```no_run
/// use leptos::prelude::*;
/// #[component]
/// fn Spinner() -> impl IntoView {
///     let status = tandem::use_form_status();
///     view! { <Show when=move || status.pending.get()>"Saving…"</Show> }
/// }
/// ```
#[derive(Clone, Copy)]
pub struct FormStatus {
    /// An action of this form is queued or running.
    pub pending: Signal<bool>,
    /// The path of the action this form last submitted.
    pub action: Signal<Option<&'static str>>,
}

/// An action of a [`Form`] failed unexpectedly (its server function
/// returned `Err`). The form renders it as an error, so the nearest
/// `<ErrorBoundary>` shows it; the message is the server's.
///
/// ```
/// let e = tandem::ui::form::ActionError { action: "/api/save".into(), message: "disk full".into() };
/// assert_eq!(e.to_string(), "/api/save failed: disk full");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{action} failed: {message}")]
pub struct ActionError {
    /// The server function's path.
    pub action: String,
    /// What it said.
    pub message: String,
}

/// An action's path and its last error message.
type ActionErrorSignal = (&'static str, Signal<Option<String>>);

#[derive(Clone, Copy)]
struct FormContext {
    buttons: StoredValue<Vec<AnyFormAction>>,
    pending_buttons: RwSignal<Vec<Signal<bool>>>,
    errors: RwSignal<Vec<ActionErrorSignal>>,
    last: RwSignal<Option<&'static str>>,
    submitted: StoredValue<Option<SubmittedAction>>,
}

/// The status of the nearest enclosing [`Form`]; outside a form, never
/// pending.
///
/// ```no_run
/// let status = tandem::use_form_status();
/// ```
pub fn use_form_status() -> FormStatus {
    use_context::<FormStatus>().unwrap_or(FormStatus {
        pending: Signal::derive(|| false),
        action: Signal::derive(|| None),
    })
}

/// What was submitted for field `name` of the enclosing [`Form`], when the
/// page is the server's answer to that form posted without JavaScript.
pub(crate) fn submitted_field(name: &str) -> Option<String> {
    let ctx = use_context::<FormContext>()?;
    ctx.submitted
        .with_value(|s| s.as_ref().and_then(|s| s.field(name).map(str::to_string)))
}

/// A progressive form (see the [module docs](self)). `action` is the
/// default server function; [`SubmitButton`]s inside may name others.
///
/// ```no_run
/// use leptos::prelude::*;
/// # #[tandem::server(endpoint = "save")]
/// # pub async fn save(title: String) -> Result<(), ServerFnError> { Ok(()) }
/// let save = tandem::use_form_action::<Save>();
/// view! {
///     <tandem::Form action=save attr:data-testid="save-form">
///         <input name="title"/>
///         <button type="submit">"Save"</button>
///     </tandem::Form>
/// };
/// ```
#[component]
pub fn Form(
    /// The server function the form runs when its button names none.
    #[prop(optional, into)]
    action: Option<AnyFormAction>,
    /// Reset the fields after an action returns `Ok` (they are always reset
    /// after a redirect).
    #[prop(optional)]
    reset_on_success: bool,
    /// This form's own key among the forms of the same function on the page
    /// (a row's id, in a list): the answer to a post without JavaScript, its
    /// submitted values and its errors go back to this form only.
    #[prop(optional, into)]
    key: Option<String>,
    children: Children,
) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let target = move || {
        let (path, search) = (location.pathname.get(), location.search.get());
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    };
    let default_path = action.as_ref().map(|a| a.path);
    let own_key = key.clone();
    let submitted = submitted_action().filter(|s| {
        let own_action = s
            .fields
            .iter()
            .any(|(k, v)| k == ACTION_FIELD && Some(v.as_str()) == default_path);
        own_action && s.form_key() == own_key.as_deref()
    });
    // The submission reaches the browser too, so hydration matches.
    let submitted =
        SharedValue::new(move || submitted.map(|s| (s.action, s.status, s.body, s.fields)))
            .into_inner()
            .map(|(action, status, body, fields)| SubmittedAction {
                action,
                status,
                body,
                fields,
            });
    // A keyed form gives its action the result (its action is one of many
    // of the same function on the page).
    if let (Some(_), Some(s), Some(a)) = (&key, &submitted, &action) {
        if Some(s.action.as_str()) == default_path {
            (a.seed)(&Outcome {
                ok: s.succeeded(),
                body: s.body.clone(),
            });
        }
    }
    let seeded_last = submitted
        .as_ref()
        .and_then(|s| default_path.filter(|p| *p == s.action));
    let ctx = FormContext {
        buttons: StoredValue::new(Vec::new()),
        pending_buttons: RwSignal::new(Vec::new()),
        errors: RwSignal::new(action.iter().map(|a| (a.path, a.error)).collect()),
        last: RwSignal::new(seeded_last),
        submitted: StoredValue::new(submitted),
    };
    provide_context(ctx);
    let own_pending = action.as_ref().map(|a| a.pending);
    let pending = Signal::derive(move || {
        own_pending.is_some_and(|p| p.get())
            || ctx.pending_buttons.with(|b| b.iter().any(|p| p.get()))
    });
    provide_context(FormStatus {
        pending,
        action: ctx.last.into(),
    });
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let handler = FormHandler {
        default: action.clone(),
        ctx,
        form_ref,
        reset_on_success,
    };
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        let handler = handler.clone();
        Effect::new(move |_| {
            if let Some(form) = form_ref.get() {
                let handler = handler.clone();
                crate::ui::hydration::register_form(
                    form,
                    std::rc::Rc::new(move |data: &leptos::web_sys::FormData| handler.submit(data)),
                );
            }
        });
    }
    let on_submit = {
        let handler = handler.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            match leptos::form::form_data_from_event(&ev) {
                Ok(data) => handler.submit(&data),
                Err(e) => leptos::logging::error!("tandem: cannot read the form: {e}"),
            }
        }
    };
    let hidden_action = action.as_ref().map(|a| {
        view! { <input type="hidden" name=ACTION_FIELD value=a.path/> }
    });
    let hidden_key = key.map(|key| {
        view! { <input type="hidden" name=FORM_KEY_FIELD value=key/> }
    });
    let hidden_prev = action.as_ref().and_then(|a| a.prev).map(|prev| {
        view! { <input type="hidden" name=crate::wire::PREV_FIELD prop:value=prev value=prev/> }
    });
    // The error of the action this form ran last, for the error boundary.
    let failure = move || {
        let last = ctx.last.get()?;
        ctx.errors.with(|errors| {
            errors
                .iter()
                .find(|(path, _)| *path == last)
                .and_then(|(path, e)| {
                    e.get().map(|message| {
                        Err::<(), _>(ActionError {
                            action: path.to_string(),
                            message,
                        })
                    })
                })
        })
    };
    view! {
        <form method="post" action=target data-tandem="" node_ref=form_ref on:submit=on_submit>
            {hidden_action}
            {hidden_key}
            {hidden_prev}
            {children()}
            {failure}
        </form>
    }
}

/// Dispatches a submitted form to the right action.
#[derive(Clone)]
pub(crate) struct FormHandler {
    default: Option<AnyFormAction>,
    ctx: FormContext,
    #[cfg_attr(not(any(feature = "hydrate", feature = "csr")), allow(dead_code))]
    form_ref: NodeRef<leptos::html::Form>,
    #[cfg_attr(not(any(feature = "hydrate", feature = "csr")), allow(dead_code))]
    reset_on_success: bool,
}

impl FormHandler {
    /// Runs the action a submission names: the submit button's, else the
    /// form's default.
    pub(crate) fn submit(&self, data: &leptos::web_sys::FormData) {
        let button = data
            .get(BUTTON_ACTION_FIELD)
            .as_string()
            .filter(|s| !s.is_empty());
        let action = match &button {
            Some(path) => self
                .ctx
                .buttons
                .with_value(|b| b.iter().find(|a| a.path == path.as_str()).cloned()),
            None => self.default.clone(),
        };
        let Some(action) = action else {
            leptos::logging::error!(
                "tandem: this form has no action for {:?}",
                button.as_deref().unwrap_or("its default")
            );
            return;
        };
        self.ctx.last.set(Some(action.path));
        (action.dispatch_form)(data);
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        self.reset_when_settled(action);
    }

    #[cfg(any(feature = "hydrate", feature = "csr"))]
    fn reset_when_settled(&self, action: AnyFormAction) {
        let redirects_before = crate::ui::page::redirects();
        let form_ref = self.form_ref;
        let reset_on_success = self.reset_on_success;
        let pending = action.pending;
        let error = action.error;
        // Wait for the action to settle, then reset if it redirected (a new
        // page) or succeeded and the form asked for it.
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) || pending.get() {
                return done.unwrap_or(false);
            }
            let redirected = crate::ui::page::redirects() != redirects_before;
            let ok = error.get_untracked().is_none();
            if redirected {
                (action.reset)();
            }
            if redirected || (reset_on_success && ok) {
                if let Some(form) = form_ref.get_untracked() {
                    form.reset();
                }
            }
            true
        });
    }
}

/// A submit button that runs its own server function for the enclosing
/// [`Form`] (React's `<button formAction>`).
///
/// ```no_run
/// use leptos::prelude::*;
/// # #[tandem::server(endpoint = "archive")]
/// # pub async fn archive() -> Result<(), ServerFnError> { Ok(()) }
/// let archive = tandem::use_form_action::<Archive>();
/// view! {
///     <tandem::Form>
///         <tandem::SubmitButton action=archive attr:data-testid="archive">
///             "Archive"
///         </tandem::SubmitButton>
///     </tandem::Form>
/// };
/// ```
#[component]
pub fn SubmitButton(
    /// The server function this button runs.
    #[prop(into)]
    action: AnyFormAction,
    children: Children,
) -> impl IntoView {
    let path = action.path;
    if let Some(ctx) = use_context::<FormContext>() {
        ctx.pending_buttons.update(|p| p.push(action.pending));
        ctx.errors.update(|e| e.push((action.path, action.error)));
        ctx.buttons.update_value(|b| b.push(action));
    } else {
        #[cfg(feature = "ssr")]
        tracing::warn!("tandem::SubmitButton for {path} outside a tandem::Form");
        #[cfg(not(feature = "ssr"))]
        leptos::logging::warn!("tandem::SubmitButton for {path} outside a tandem::Form");
    }
    view! {
        <button type="submit" name=BUTTON_ACTION_FIELD value=path>
            {children()}
        </button>
    }
}

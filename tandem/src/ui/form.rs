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
//! A function that refuses what was sent ([`invalid`](crate::invalid),
//! [`deny`](crate::deny)) sends issues, field by field: [`FieldIssues`]
//! shows them beside each field ([`use_field_issues`] reads them), with
//! JavaScript and without. A function that takes `multipart/form-data` (a
//! form with files) makes the form a multipart one: the browser sends it
//! natively without JavaScript and before hydration, and with JavaScript
//! Tandem uploads it with its progress in [`use_form_status`]. An
//! unexpected failure reaches the nearest `<ErrorBoundary>` as an
//! [`ActionError`] with the id the server logged it with; [`reset_errors`]
//! clears them so the boundary can reset.
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

use crate::wire::{
    Issues, SubmittedAction, ACTION_FIELD, BUTTON_ACTION_FIELD, FORM_KEY_FIELD, SENSITIVE_FIELD,
};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::sync::Arc;

/// What an action's SSR seed needs from a no-JS submission.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Outcome {
    pub ok: bool,
    pub body: String,
    pub issues: Option<Issues>,
    pub error_id: Option<String>,
}

impl Outcome {
    fn of(s: &SubmittedAction) -> Self {
        Outcome {
            ok: s.succeeded(),
            body: s.body.clone(),
            issues: s.issues.clone(),
            error_id: s.error_id.clone(),
        }
    }
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
        .map(|s| Outcome::of(&s))
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
    pub(crate) error_id: Signal<Option<String>>,
    pub(crate) issues: Signal<Option<Issues>>,
    pub(crate) progress: Signal<Option<(u64, u64)>>,
    /// Whether its function takes `multipart/form-data`.
    pub(crate) multipart: bool,
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
    /// While a form with files uploads: the bytes sent and the total.
    pub progress: Signal<Option<(u64, u64)>>,
}

/// An action of a [`Form`] failed unexpectedly (its server function
/// returned `Err`, or panicked). The form renders it as an error, so the
/// nearest `<ErrorBoundary>` shows it, with the id the server logged the
/// failure with ([`reset_errors`] clears it).
///
/// ```
/// let e = tandem::ui::form::ActionError { action: "/api/save".into(), message: "disk full".into(), id: None };
/// assert_eq!(e.to_string(), "/api/save failed: disk full");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{action} failed: {message}")]
pub struct ActionError {
    /// The server function's path.
    pub action: String,
    /// What it said (in a release build, never the internal message).
    pub message: String,
    /// The id the server logged the failure with, when it was unexpected.
    pub id: Option<String>,
}

#[derive(Clone, Copy)]
struct FormContext {
    /// The form's default action and its buttons' actions.
    actions: RwSignal<Vec<AnyFormAction>>,
    last: RwSignal<Option<&'static str>>,
    submitted: StoredValue<Option<SubmittedAction>>,
    /// Fields never sent back to the page (a password).
    sensitive: RwSignal<Vec<String>>,
}

impl FormContext {
    /// The action this form ran last.
    fn last_action(&self) -> Option<AnyFormAction> {
        let last = self.last.get()?;
        self.actions
            .with(|actions| actions.iter().find(|a| a.path == last).cloned())
    }
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
        progress: Signal::derive(|| None),
    })
}

/// What the enclosing [`Form`]'s last action refused about the field
/// `name` (see [`invalid`](crate::invalid)); empty when nothing was.
///
/// ```no_run
/// use leptos::prelude::*;
/// let email = tandem::use_field_issues("email");
/// view! { <Show when=move || !email.get().is_empty()><p>{move || email.get().join(" ")}</p></Show> };
/// ```
pub fn use_field_issues(name: &str) -> Signal<Vec<String>> {
    let name = name.to_string();
    let ctx = use_context::<FormContext>();
    Signal::derive(move || {
        ctx.and_then(|ctx| ctx.last_action())
            .and_then(|a| a.issues.get())
            .map(|issues| issues.of(&name).map(str::to_string).collect())
            .unwrap_or_default()
    })
}

/// What the enclosing [`Form`]'s last action refused about the form as a
/// whole (a guard's message, see [`deny`](crate::deny)).
///
/// ```no_run
/// let messages = tandem::use_form_issues();
/// ```
pub fn use_form_issues() -> Signal<Vec<String>> {
    let ctx = use_context::<FormContext>();
    Signal::derive(move || {
        ctx.and_then(|ctx| ctx.last_action())
            .and_then(|a| a.issues.get())
            .map(|issues| issues.of_form().map(str::to_string).collect())
            .unwrap_or_default()
    })
}

/// The issues about one field of the enclosing [`Form`] (or, without a
/// `name`, about the form as a whole), in a `<p role="alert">` that is
/// there only when there are some. Attributes go on with `attr:`.
///
/// ```no_run
/// use leptos::prelude::*;
/// view! {
///     <tandem::Input name="email" kind="email"/>
///     <tandem::FieldIssues name="email" attr:data-testid="error-email"/>
/// };
/// ```
#[component]
pub fn FieldIssues(
    /// The field (none: the form as a whole).
    #[prop(optional, into)]
    name: Option<String>,
) -> impl IntoView {
    let messages = match &name {
        Some(name) => use_field_issues(name),
        None => use_form_issues(),
    };
    move || {
        let messages = messages.get();
        (!messages.is_empty()).then(|| {
            view! { <p class="issue" role="alert">{messages.join(" ")}</p> }
        })
    }
}

/// What was submitted for field `name` of the enclosing [`Form`], when the
/// page is the server's answer to that form posted without JavaScript.
pub(crate) fn submitted_field(name: &str) -> Option<String> {
    let ctx = use_context::<FormContext>()?;
    ctx.submitted
        .with_value(|s| s.as_ref().and_then(|s| s.field(name).map(str::to_string)))
}

/// Marks the field `name` of the enclosing [`Form`] as sensitive: it is
/// never sent back to the page, and is emptied after a refusal.
pub(crate) fn mark_sensitive(name: &str) {
    if let Some(ctx) = use_context::<FormContext>() {
        ctx.sensitive.update(|s| {
            if !s.iter().any(|n| n == name) {
                s.push(name.to_string());
            }
        });
    }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
thread_local! {
    /// How to clear each form action's unexpected error (see
    /// [`reset_errors`]).
    static RESETS: std::cell::RefCell<Vec<Arc<dyn Fn() + Send + Sync>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Keeps `reset` for [`reset_errors`].
pub(crate) fn keep_for_reset(reset: Arc<dyn Fn() + Send + Sync>) {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    RESETS.with(|r| r.borrow_mut().push(reset));
    #[cfg(not(any(feature = "hydrate", feature = "csr")))]
    let _ = reset;
}

/// Clears the unexpected errors of every form action on the page, so that
/// an `<ErrorBoundary>` showing one can reset (clear its own errors too).
///
/// ```no_run
/// use leptos::prelude::*;
/// # let errors: ArcRwSignal<leptos::error::Errors> = ArcRwSignal::new(Default::default());
/// let reset = move |_: leptos::ev::MouseEvent| {
///     tandem::reset_errors();
///     errors.update(|e| *e = Default::default());
/// };
/// ```
pub fn reset_errors() {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        let resets: Vec<_> = RESETS.with(|r| r.borrow().clone());
        for reset in resets {
            reset();
        }
    }
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
    let submitted = SharedValue::new(move || submitted).into_inner();
    // A keyed form gives its action the result (its action is one of many
    // of the same function on the page).
    if let (Some(_), Some(s), Some(a)) = (&key, &submitted, &action) {
        if Some(s.action.as_str()) == default_path {
            (a.seed)(&Outcome::of(s));
        }
    }
    let seeded_last = submitted
        .as_ref()
        .and_then(|s| default_path.filter(|p| *p == s.action));
    let ctx = FormContext {
        actions: RwSignal::new(action.iter().cloned().collect()),
        last: RwSignal::new(seeded_last),
        submitted: StoredValue::new(submitted),
        sensitive: RwSignal::new(Vec::new()),
    };
    provide_context(ctx);
    let pending = Signal::derive(move || {
        ctx.actions
            .with(|actions| actions.iter().any(|a| a.pending.get()))
    });
    let progress = Signal::derive(move || ctx.last_action().and_then(|a| a.progress.get()));
    provide_context(FormStatus {
        pending,
        action: ctx.last.into(),
        progress,
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
    // Which fields are never sent back: known once the children rendered.
    let hidden_sensitive = move || {
        let names = ctx.sensitive.get();
        (!names.is_empty()).then(|| {
            view! { <input type="hidden" name=SENSITIVE_FIELD value=names.join(",")/> }
        })
    };
    // A function that takes files makes a multipart form (the browser
    // posts files natively before hydration and without JavaScript).
    let enctype = move || {
        ctx.actions
            .with(|actions| actions.iter().any(|a| a.multipart))
            .then_some("multipart/form-data")
    };
    // The unexpected error of the action this form ran last (not a
    // refusal: its issues show beside the fields), for the error boundary.
    let failure = move || {
        let action = ctx.last_action()?;
        if action.issues.get().is_some() {
            return None;
        }
        action.error.get().map(|message| {
            Err::<(), _>(ActionError {
                action: action.path.to_string(),
                message,
                id: action.error_id.get(),
            })
        })
    };
    view! {
        <form
            method="post"
            action=target
            enctype=enctype
            data-tandem=""
            node_ref=form_ref
            on:submit=on_submit
        >
            {hidden_action}
            {hidden_key}
            {hidden_prev}
            {children()}
            {hidden_sensitive}
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
            Some(path) => self.ctx.actions.with_untracked(|actions| {
                actions.iter().find(|a| a.path == path.as_str()).cloned()
            }),
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
        let sensitive = self.ctx.sensitive;
        let pending = action.pending;
        let error = action.error;
        let issues = action.issues;
        // Wait for the action to settle, then reset if it redirected (a new
        // page) or succeeded and the form asked for it; after a refusal,
        // empty the sensitive fields (as the page after a post without
        // JavaScript has them).
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) || pending.get() {
                return done.unwrap_or(false);
            }
            let redirected = crate::ui::page::redirects() != redirects_before;
            let refused = issues.get_untracked().is_some();
            let ok = error.get_untracked().is_none() && !refused;
            if redirected {
                (action.reset)();
            }
            if let Some(form) = form_ref.get_untracked() {
                if redirected || (reset_on_success && ok) {
                    form.reset();
                } else if refused {
                    clear_fields(&form, &sensitive.get_untracked());
                }
            }
            true
        });
    }
}

/// Empties the fields named `names` of `form`.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn clear_fields(form: &leptos::web_sys::HtmlFormElement, names: &[String]) {
    use leptos::wasm_bindgen::JsCast;
    let elements = form.elements();
    for name in names {
        if let Some(input) = elements
            .named_item(name)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
        {
            input.set_value("");
        }
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
        ctx.actions.update(|actions| actions.push(action));
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

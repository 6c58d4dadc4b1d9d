//! The page before and after the wasm arrives: the pre-hydration queue, its
//! replay, and the marker that says the page is live.
//!
//! Put [`Runtime`] once inside your `<Router>`. It renders a tiny inline
//! script (about 1 KB) that catches the submissions of every Tandem
//! [`Form`](crate::Form) not yet live (its element not yet hydrated: the
//! wasm is loading, or the form sits in a `<Suspense>` still hydrating),
//! keeps their data in order, and stops the browser from posting them. As
//! each form goes live (`data-tandem-live` on the element, set when its
//! handler is in place), the queued submissions are replayed through their
//! actions, in the order they were made; once the app has hydrated,
//! `<html data-hydrated="true">` is set. If something is still queued
//! [`FALLBACK_MS`] after the first submission (the wasm failed to load),
//! the queue falls back to the browser: each submission is posted
//! natively, in order, the last one as a navigation, so the server renders
//! its result. Either way each submission is sent exactly once. A form
//! with files (`multipart/form-data`) is not queued: the browser posts it
//! as it is, files and all, and the server renders its result.
//!
//! Tests wait for the marker instead of sleeping:
//!
//! ```text
//! await page.waitForSelector('html[data-hydrated="true"]')
//! ```
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos_router::components::Router;
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     view! { <Router><tandem::Runtime/><main>"…"</main></Router> }
//! }
//! ```

use leptos::prelude::*;

/// The attribute set on `<html>` once the app is interactive.
///
/// ```
/// assert_eq!(tandem::HYDRATED_ATTRIBUTE, "data-hydrated");
/// ```
pub const HYDRATED_ATTRIBUTE: &str = "data-hydrated";

/// How long queued submissions wait for hydration before the browser posts
/// them itself, in milliseconds.
///
/// ```
/// assert!(tandem::ui::hydration::FALLBACK_MS >= 1000);
/// ```
pub const FALLBACK_MS: u32 = 4000;

/// The pre-hydration queue (see the module docs). Kept tiny and free of
/// dependencies: it runs before anything else.
const QUEUE_SCRIPT: &str = r#"(function(){var q=[],t=0,d=document;
function on(e){var f=e.target;if(!f||f.tagName!=="FORM"||!f.hasAttribute("data-tandem")||f.hasAttribute("data-tandem-live")||f.enctype==="multipart/form-data")return;
e.preventDefault();e.stopImmediatePropagation();var s=e.submitter,fd;try{fd=new FormData(f,s)}catch(_){fd=new FormData(f);if(s&&s.name)fd.append(s.name,s.value)}
q.push({form:f,data:fd});if(!t)t=setTimeout(fall,__MS__)}
d.addEventListener("submit",on,true);
window.__tandemTake=function(){var n=0;while(n<q.length&&q[n].form.hasAttribute("data-tandem-live"))n++;var out=q.splice(0,n);if(!q.length&&t){clearTimeout(t);t=0}return out};
function post(it){return fetch(it.form.action,{method:"POST",body:new URLSearchParams(it.data),credentials:"same-origin",redirect:"manual"})}
function fall(){t=0;var items=q.splice(0),last=items.pop(),c=Promise.resolve();
items.forEach(function(it){c=c.then(function(){return post(it)}).catch(function(){})});
c.then(function(){if(!last)return;var f=d.createElement("form");f.method="post";f.action=last.form.action;f.style.display="none";
last.data.forEach(function(v,k){var i=d.createElement("input");i.type="hidden";i.name=k;i.value=v;f.appendChild(i)});
d.body.appendChild(f);HTMLFormElement.prototype.submit.call(f)})}})();"#;

/// The inline script, with the fallback delay filled in.
pub(crate) fn queue_script() -> String {
    QUEUE_SCRIPT.replace("__MS__", &FALLBACK_MS.to_string())
}

/// Tandem's per-page runtime: the pre-hydration queue script, its replay,
/// the hydration marker, and soft navigation for redirects. Place it once,
/// inside `<Router>`.
///
/// ```no_run
/// use leptos::prelude::*;
/// view! { <tandem::Runtime/> };
/// ```
#[component]
pub fn Runtime() -> impl IntoView {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        let navigate = leptos_router::hooks::use_navigate();
        crate::ui::page::set_navigate(std::rc::Rc::new(move |to: &str| {
            navigate(to, Default::default())
        }));
        // After every component's effects have run (forms registered).
        Effect::new(move |_| {
            request_animation_frame(browser::go_live);
        });
    }
    let nonce = leptos::nonce::use_nonce();
    view! { <script nonce=nonce inner_html=queue_script()></script> }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(crate) use browser::register_form;

#[cfg(any(feature = "hydrate", feature = "csr"))]
mod browser {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// What submits a form's data through its actions.
    pub(crate) type Submit = Rc<dyn Fn(&web_sys::FormData)>;

    thread_local! {
        static FORMS: RefCell<Vec<(web_sys::HtmlFormElement, Submit)>> = const { RefCell::new(Vec::new()) };
    }

    /// Marks `form` live (the inline script lets its submissions through
    /// from now on), lets the replay find how to submit it, and replays
    /// what is queued for it (and for the live forms after it).
    pub(crate) fn register_form(form: web_sys::HtmlFormElement, handler: Submit) {
        let _ = form.set_attribute(LIVE_ATTRIBUTE, "");
        FORMS.with(|f| {
            let mut forms = f.borrow_mut();
            forms.retain(|(el, _)| el.is_connected());
            forms.push((form, handler));
        });
        replay();
    }

    /// The attribute set on a form once its submissions go to its actions.
    const LIVE_ATTRIBUTE: &str = "data-tandem-live";

    /// Marks the page live and replays what the inline script queued.
    pub(super) fn go_live() {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute(super::HYDRATED_ATTRIBUTE, "true");
        }
        replay();
    }

    /// Replays the queued submissions whose forms are live, in order, up to
    /// the first whose form is not yet.
    fn replay() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let take = js_sys::Reflect::get(&window, &JsValue::from_str("__tandemTake"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let Some(take) = take else {
            return; // client-only build: no server-rendered script
        };
        let Ok(items) = take.call0(&JsValue::NULL) else {
            return;
        };
        for item in js_sys::Array::from(&items).iter() {
            let form = js_sys::Reflect::get(&item, &JsValue::from_str("form"))
                .ok()
                .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok());
            let data = js_sys::Reflect::get(&item, &JsValue::from_str("data"))
                .ok()
                .and_then(|d| d.dyn_into::<web_sys::FormData>().ok());
            let (Some(form), Some(data)) = (form, data) else {
                continue;
            };
            let handler = FORMS.with(|f| {
                f.borrow()
                    .iter()
                    .find(|(el, _)| el == &form)
                    .map(|(_, h)| h.clone())
            });
            match handler {
                Some(submit) => submit(&data),
                None => {
                    // Not a form this app renders any more: let the browser
                    // post it, as it would have without the queue.
                    leptos::logging::warn!("tandem: replaying a queued form natively");
                    let _ = form.submit();
                }
            }
        }
    }
}

//! Knowing when the page is live: a marker the app sets once it hydrated.
//!
//! Clicks that land before the wasm has hydrated the page reach plain HTML
//! and do nothing. [`HydrationMarker`] sets `data-hydrated="true"` on the
//! `<html>` element as soon as the app runs in the browser, so tests (and
//! Tandem's own pre-hydration queue) wait for a fact instead of sleeping:
//!
//! ```text
//! await page.waitForSelector('html[data-hydrated="true"]')
//! ```

use leptos::prelude::*;

/// The attribute set on `<html>` once the app is interactive.
///
/// ```
/// assert_eq!(tandem::HYDRATED_ATTRIBUTE, "data-hydrated");
/// ```
pub const HYDRATED_ATTRIBUTE: &str = "data-hydrated";

/// Renders nothing; in the browser, marks `<html data-hydrated="true">` once
/// the app has hydrated (or mounted, in a client-only build). Put it once in
/// the root component.
///
/// ```no_run
/// use leptos::prelude::*;
/// use tandem::HydrationMarker;
///
/// #[component]
/// fn App() -> impl IntoView {
///     view! { <HydrationMarker/> <main>"…"</main> }
/// }
/// ```
#[component]
pub fn HydrationMarker() -> impl IntoView {
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| mark_hydrated());
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
fn mark_hydrated() {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        // Failing to set an attribute only loses the marker, never the app.
        let _ = root.set_attribute(HYDRATED_ATTRIBUTE, "true");
    }
}

#[cfg(not(any(feature = "hydrate", feature = "csr")))]
fn mark_hydrated() {}

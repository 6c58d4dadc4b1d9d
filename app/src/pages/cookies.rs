//! `/cookies`: cookies set and deleted inside actions, one submit button per
//! action (the `formAction` counterpart). The value shown is read by the
//! server; after each action Tandem reads it again while the client-only
//! counter keeps its value.

use leptos::prelude::*;
use shared::cookies::GetCookieName;
use shared::cookies::{DeleteNameCookie, SetNameCookie};
use tandem::{use_form_action, Form, SubmitButton};

/// The cookies page.
#[component]
pub fn CookiesPage() -> impl IntoView {
    let name = tandem::use_query(|| GetCookieName {});
    let shown = move || {
        name.get().map(|value| match value {
            Ok(Some(v)) => v,
            Ok(None) => "(none)".to_string(),
            Err(e) => e.to_string(),
        })
    };
    let set = use_form_action::<SetNameCookie>();
    let delete = use_form_action::<DeleteNameCookie>();
    view! {
        <h1>"Cookies"</h1>
        <p>
            "Cookie " <code>"name"</code> " as read by the server: "
            <Suspense fallback=|| "…">
                <span data-testid="cookie-value">{shown}</span>
            </Suspense>
        </p>
        <Form>
            <SubmitButton action=set attr:data-testid="set-cookie">
                "Set name=Delba"
            </SubmitButton>
            " "
            <SubmitButton action=delete attr:data-testid="delete-cookie">
                "Delete name"
            </SubmitButton>
        </Form>
        <ClientCounter/>
    }
}

/// Client-only state that must survive the actions.
#[component]
fn ClientCounter() -> impl IntoView {
    let count = RwSignal::new(0);
    view! {
        <p>
            "Client counter: " <span data-testid="client-counter">{count}</span> " "
            <button type="button" data-testid="client-increment" on:click=move |_| *count.write() += 1>
                "+1"
            </button>
        </p>
    }
}

//! `/refresh`: a mutation that refreshes the page. The server counter is
//! read fresh on every render; `bump_counter` calls `refresh()`, and the
//! response to the bump carries the new count. "Read again" reads the
//! page's data again from the browser (`refresh_page`), through an action
//! that may overlap with others (`use_concurrent_action`).

use leptos::prelude::*;
use shared::refresh::{BumpCounter, GetServerCount};
use tandem::{use_form_action, Form};

/// The refresh page.
#[component]
pub fn RefreshPage() -> impl IntoView {
    let count = tandem::use_query(|| GetServerCount {});
    let bump = use_form_action::<BumpCounter>();
    // Another tab or client may have bumped the counter: read it again.
    let reload = tandem::use_concurrent_action(|_: &()| tandem::refresh_page());
    view! {
        <h1>"Refresh"</h1>
        <p>
            "Server counter: "
            <Suspense fallback=|| "…">
                <span data-testid="server-count">
                    {move || count.get().map(|c| c.map(|n| n.to_string()))}
                </span>
            </Suspense>
        </p>
        <Form action=bump>
            <button type="submit" data-testid="bump">"Bump"</button>
        </Form>
        <p>
            <button type="button" data-testid="reload-data" on:click=move |_| reload.dispatch(())>
                "Read again"
            </button>
        </p>
    }
}

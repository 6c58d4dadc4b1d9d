//! `/refresh`: a mutation that refreshes the page. The server counter is
//! read fresh on every render; `bump_counter` calls `refresh()`, and the
//! response to the bump carries the new count.

use leptos::prelude::*;
use shared::refresh::{BumpCounter, GetServerCount};
use tandem::{use_form_action, Form};

/// The refresh page.
#[component]
pub fn RefreshPage() -> impl IntoView {
    let count = tandem::use_query(|| GetServerCount {});
    let bump = use_form_action::<BumpCounter>();
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
    }
}

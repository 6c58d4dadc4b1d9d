//! `/`: links to every example.

use leptos::prelude::*;

/// The index of examples.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <h1>"Tandem: updating data"</h1>
        <ul class="examples">
            <li><a href="/likes">"/likes"</a>" — a server function from an event handler"</li>
        </ul>
    }
}

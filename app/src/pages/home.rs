//! `/`: links to every example.

use leptos::prelude::*;

/// The index of examples.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <h1>"Tandem: updating data"</h1>
        <p>"One route per example of the \"Updating Data\" guide:"</p>
        <ul class="examples">
            <li><a href="/posts">"/posts"</a>" — forms, revalidate_path, redirect (works without JavaScript)"</li>
            <li><a href="/posts/new">"/posts/new"</a>" — use_action_state with a pending state, action passed as a prop"</li>
            <li><a href="/likes">"/likes"</a>" — a server function from an event handler"</li>
            <li><a href="/views">"/views"</a>" — a server function on mount, inside a transition"</li>
            <li><a href="/cookies">"/cookies"</a>" — cookies set and deleted in actions (a submit button per action)"</li>
            <li><a href="/refresh">"/refresh"</a>" — refresh() after a mutation"</li>
            <li><a href="/tags">"/tags"</a>" — the tagged data cache: update_tag, revalidate_tag"</li>
        </ul>
    }
}

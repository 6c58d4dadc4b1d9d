//! `/views`: a server function run once on mount, inside a transition.

use leptos::prelude::*;
use shared::increment_views;
use shared::views::GetViews;

/// The views page.
#[component]
pub fn ViewsPage() -> impl IntoView {
    let initial = tandem::use_query(|| GetViews {});
    view! {
        <h1>"Views"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(total) => view! { <ViewCount initial=total/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Counts this mount as a view, in a transition, and shows the total.
#[component]
fn ViewCount(initial: i64) -> impl IntoView {
    let views = RwSignal::new(initial);
    let (is_pending, start_transition) = tandem::use_transition();
    // Effects run in the browser only, once per mount.
    Effect::new(move |_| {
        start_transition.start(async move {
            if let Ok(total) = increment_views().await {
                views.set(total);
            }
        })
    });
    view! {
        <p data-testid="views">"Total Views: " {views}</p>
        <Show when=move || is_pending.get()>
            <span data-testid="views-pending">"Counting…"</span>
        </Show>
    }
}

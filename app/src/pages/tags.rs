//! `/tags`: a value read through the tagged data cache (tag `price`),
//! changed silently, with `update_tag` (fresh at once), or with
//! `revalidate_tag` (stale while it revalidates).

use leptos::prelude::*;
use shared::tags::{
    ChangePriceAndRevalidateTag, ChangePriceAndUpdateTag, ChangePriceSilently, GetPrice,
};
use tandem::{use_form_action, Form, SubmitButton};

/// The tags page.
#[component]
pub fn TagsPage() -> impl IntoView {
    let price = tandem::use_query(|| GetPrice {});
    let silently = use_form_action::<ChangePriceSilently>();
    let update = use_form_action::<ChangePriceAndUpdateTag>();
    let revalidate = use_form_action::<ChangePriceAndRevalidateTag>();
    view! {
        <h1>"Tags"</h1>
        <p>
            "Cached price (tag " <code>"price"</code> "): "
            <Suspense fallback=|| "…">
                <span data-testid="cached-value">
                    {move || price.get().map(|p| p.map(|n| n.to_string()))}
                </span>
            </Suspense>
        </p>
        <Form>
            <p>
                <SubmitButton action=silently attr:data-testid="change-silently">
                    "Change price (cache untouched)"
                </SubmitButton>
            </p>
            <p>
                <SubmitButton action=update attr:data-testid="change-and-update-tag">
                    "Change price + update_tag(\"price\")"
                </SubmitButton>
            </p>
            <p>
                <SubmitButton action=revalidate attr:data-testid="change-and-revalidate-tag">
                    "Change price + revalidate_tag(\"price\")"
                </SubmitButton>
            </p>
        </Form>
    }
}

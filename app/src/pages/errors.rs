//! `/errors`: an expected failure, typed and shown where the action's state
//! is, and an unexpected one (a panic) that reaches the app's error
//! boundary with the id the server logged it with.

use leptos::prelude::*;
use shared::failures::{Explode, OrderItem};
use tandem::{use_form_action, Form};

/// The errors page.
#[component]
pub fn ErrorsPage() -> impl IntoView {
    let order = use_form_action::<OrderItem>();
    let explode = use_form_action::<Explode>();
    let ordered = order.value();
    view! {
        <h1>"Errors"</h1>
        <p data-testid="errors-intro">"One order that cannot be filled, one server function that panics."</p>
        <Form action=order>
            <button type="submit" data-testid="fail-expected">"Order the last one"</button>
            {move || match ordered.get() {
                Some(Ok(message)) => Some(view! { <p data-testid="order-result">{message}</p> }.into_any()),
                Some(Err(why)) => Some(view! {
                    <p data-testid="expected-error" role="alert" class="error">{why.to_string()}</p>
                }.into_any()),
                None => None,
            }}
        </Form>
        <Form action=explode>
            <button type="submit" data-testid="fail-unexpected">"Fail unexpectedly"</button>
        </Form>
    }
}

//! `/posts/new`: action state with a pending indicator; the form is a
//! component that receives the action as a prop.

use leptos::prelude::*;
use shared::posts::CreatePostWithState;
use tandem::{use_action_state, use_form_status, Form, FormAction, Input, TextArea};

/// The new-post page.
#[component]
pub fn NewPostPage() -> impl IntoView {
    let (_state, action, _pending) = use_action_state::<CreatePostWithState>(String::new());
    view! {
        <h1>"New post"</h1>
        <PostForm action/>
    }
}

/// A form for any action whose state is a message.
#[component]
pub fn PostForm(action: FormAction<CreatePostWithState>) -> impl IntoView {
    let state = action.value();
    let pending = action.pending();
    view! {
        <Form action>
            <p><label>"Title " <Input name="title"/></label></p>
            <p><label>"Content " <TextArea name="content"/></label></p>
            <button type="submit" data-testid="pending-submit" disabled=pending>"Create Post"</button>
            <Spinner/>
            <p data-testid="action-state">{move || state.get().unwrap_or_default()}</p>
        </Form>
    }
}

/// Shown while the enclosing form's action runs (`use_form_status`).
#[component]
fn Spinner() -> impl IntoView {
    let status = use_form_status();
    view! {
        <Show when=move || status.pending.get()>
            <span data-testid="spinner" role="status" aria-label="Saving">"⏳ Saving…"</span>
        </Show>
    }
}

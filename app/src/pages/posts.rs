//! `/posts`: forms in a server-rendered page, `revalidate_path`, `redirect`.
//! Everything here works without JavaScript too.

use leptos::prelude::*;
use shared::posts::GetPosts;
use shared::posts::{CreatePost, DeletePost, Post};
use tandem::{use_action_state, use_form_action, Form, Input, TextArea};

/// The posts page.
#[component]
pub fn PostsPage() -> impl IntoView {
    let posts = tandem::use_query(|| GetPosts {});
    let (error, create, _pending) = use_action_state::<CreatePost>(None);
    view! {
        <h1>"Posts"</h1>
        <Form action=create attr:data-testid="create-post-form">
            <p>
                <label>"Title " <Input name="title"/></label>
            </p>
            <p>
                <label>"Content " <TextArea name="content"/></label>
            </p>
            <button type="submit" data-testid="create-post-submit">"Create"</button>
            {move || error.get().map(|message| view! {
                <p data-testid="form-error" role="alert" class="error">{message}</p>
            })}
        </Form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            <ul data-testid="post-list">
                {move || posts.get().map(|list| list.map(|list| {
                    list.into_iter().map(|post| view! { <PostItem post/> }).collect_view()
                }))}
            </ul>
        </Suspense>
    }
}

/// One post with its delete form.
#[component]
fn PostItem(post: Post) -> impl IntoView {
    let delete = use_form_action::<DeletePost>();
    let content = (!post.content.is_empty()).then(|| view! { <p>{post.content.clone()}</p> });
    view! {
        <li data-testid="post">
            <strong data-testid="post-title">{post.title}</strong>
            {content}
            <Form action=delete>
                <input type="hidden" name="id" value=post.delete_token.map(|t| t.to_string())/>
                <button type="submit" data-testid="delete-post">"Delete"</button>
            </Form>
        </li>
    }
}

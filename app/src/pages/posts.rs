//! `/posts`: forms in a server-rendered page, `revalidate_path`, `redirect`,
//! and a list of forms: each row links to its post, and has a like and a
//! delete form of its own. Everything here works without JavaScript too.

use leptos::prelude::*;
use shared::posts::{CreatePost, DeletePost, GetPosts, LikePost, Post};
use tandem::{use_action_state, use_form_action, use_optimistic, Form, Input, TextArea};

/// The posts page.
#[component]
pub fn PostsPage() -> impl IntoView {
    let posts = tandem::use_query(|| GetPosts {});
    let (error, create, _pending) = use_action_state::<CreatePost>(None);
    let list = move || posts.get().and_then(Result::ok).unwrap_or_default();
    let failure = move || {
        posts
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
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
            {failure}
            <ul data-testid="post-list">
                // Keyed by id and likes: a row is made again when its count
                // changes, never confused with another row.
                <For each=list key=|post| (post.id, post.likes) let:post>
                    <PostItem post/>
                </For>
            </ul>
        </Suspense>
    }
}

/// One post: its link, its likes with a like form, its delete form. Each
/// form is keyed by the post's id, so the answer to a post without
/// JavaScript comes back to this row's form only.
#[component]
fn PostItem(post: Post) -> impl IntoView {
    let delete = use_form_action::<DeletePost>();
    let like = use_form_action::<LikePost>();
    // The count goes up at once; the server's count replaces it when the
    // like settles (or the old one, if it fails).
    let likes = use_optimistic(
        Signal::stored(post.likes),
        like.pending(),
        |n: &i64, by: &i64| n + by,
    );
    let content = (!post.content.is_empty()).then(|| view! { <p>{post.content.clone()}</p> });
    let key = post.id.to_string();
    view! {
        <li data-testid="post">
            <a data-testid="post-link" href=format!("/posts/{}", post.id)>
                <strong data-testid="post-title">{post.title}</strong>
            </a>
            {content}
            <span data-testid="post-likes">"Likes: " {move || likes.value().get()}</span>
            <Form action=like key=key.clone() on:submit=move |_| likes.add(1)>
                <input type="hidden" name="post" value=post.id/>
                <button type="submit" data-testid="post-like">"Like"</button>
            </Form>
            <Form action=delete key=key>
                <input type="hidden" name="id" value=post.delete_token.map(|t| t.to_string())/>
                <button type="submit" data-testid="delete-post">"Delete"</button>
            </Form>
        </li>
    }
}

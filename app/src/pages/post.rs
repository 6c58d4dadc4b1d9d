//! `/posts/:id`: a page with a parameter. Its queries follow the URL's id;
//! a post that does not exist answers 404. Comments are added and deleted
//! in one request each (only the comments are read again), and deleting
//! the post redirects to `/posts` with that page's data in the same
//! answer. Everything here works without JavaScript too.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::comments::{AddComment, Comment, DeleteComment, GetComments};
use shared::posts::{DeleteThisPost, GetPost, LikePost, PostDetail};
use tandem::{use_action_state, use_form_action, Form, TextArea};

/// The post page.
#[component]
pub fn PostPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let post = tandem::use_query(move || GetPost { id: id() });
    // `post.get()` is `None` while the data of the id in the URL loads:
    // the previous post is never shown for the next one.
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || post.get().map(|post| match post {
                Ok(Some(detail)) => view! { <PostView detail/> }.into_any(),
                Ok(None) => {
                    tandem::not_found();
                    view! { <p data-testid="not-found">"Post not found"</p> }.into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// One post, its likes, its comments and its forms.
#[component]
fn PostView(detail: PostDetail) -> impl IntoView {
    let PostDetail { post, older } = detail;
    let id = post.id;
    let like = use_form_action::<LikePost>();
    let delete = use_form_action::<DeleteThisPost>();
    let older = older.map(|older| {
        view! { <a data-testid="older-post" href=format!("/posts/{older}")>"Older post"</a> }
    });
    view! {
        <h1 data-testid="post-detail-title">{post.title}</h1>
        <p data-testid="post-detail-content">{post.content}</p>
        // A form cannot sit inside a <p>: the browser would move it out.
        <div class="likes">
            <span data-testid="post-detail-likes">"Likes: " {post.likes}</span>
            " "
            <Form action=like>
                <input type="hidden" name="post" value=id/>
                <button type="submit" data-testid="post-detail-like">"Like"</button>
            </Form>
        </div>
        <nav>{older}</nav>
        <Comments post_id=id/>
        <Form action=delete>
            <input type="hidden" name="id" value=post.delete_token.map(|t| t.to_string())/>
            <button type="submit" data-testid="delete-this-post">"Delete post"</button>
        </Form>
    }
}

/// The post's comments, oldest first, and the form that adds one.
#[component]
fn Comments(post_id: i64) -> impl IntoView {
    let comments = tandem::use_query(move || GetComments { post_id });
    let (error, add, _pending) = use_action_state::<AddComment>(None);
    let list = move || comments.get().and_then(Result::ok).unwrap_or_default();
    view! {
        <h2>"Comments"</h2>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            <ul data-testid="comment-list">
                <For each=list key=|comment| comment.id let:comment>
                    <CommentItem comment/>
                </For>
            </ul>
        </Suspense>
        <Form action=add reset_on_success=true attr:data-testid="comment-form">
            <input type="hidden" name="post_id" value=post_id/>
            <p><label>"Comment " <TextArea name="body"/></label></p>
            <button type="submit" data-testid="comment-submit">"Comment"</button>
            {move || error.get().map(|message| view! {
                <p data-testid="comment-error" role="alert" class="error">{message}</p>
            })}
        </Form>
    }
}

/// One comment and its delete form (keyed by the comment's id).
#[component]
fn CommentItem(comment: Comment) -> impl IntoView {
    let delete = use_form_action::<DeleteComment>();
    view! {
        <li data-testid="comment">
            <span data-testid="comment-body">{comment.body}</span>
            " "
            <Form action=delete key=comment.id.to_string()>
                <input
                    type="hidden"
                    name="comment"
                    value=comment.delete_token.map(|t| t.to_string())
                />
                <button type="submit" data-testid="delete-comment">"Delete"</button>
            </Form>
        </li>
    }
}

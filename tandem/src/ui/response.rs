//! The page's own answer: `not_found()`, as in Next.js.

/// Answers the page being rendered with `404 Not Found` (during server
/// rendering, with JavaScript or without; in the browser the page simply
/// shows what you render next). Render your not-found view after it.
///
/// ```no_run
/// use leptos::prelude::*;
/// # #[derive(Clone)] struct Post { title: String }
/// fn post_view(post: Option<Post>) -> AnyView {
///     match post {
///         Some(post) => view! { <h1>{post.title}</h1> }.into_any(),
///         None => {
///             tandem::not_found();
///             view! { <p>"Post not found"</p> }.into_any()
///         }
///     }
/// }
/// ```
pub fn not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

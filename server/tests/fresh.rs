//! A mutation's answer over real HTTP carries the fresh data of the page it
//! was made from, however many times it is made: what the page's queries
//! read through the cache is kept under that page's path, so the next
//! `revalidate_path` of it reaches them.

mod common;

use common::start;
use serde_json::Value;

/// `like_post` as the browser's client sends it from `/posts`, with
/// `get_posts` mounted: the likes of post `id` in the fresh `get_posts` the
/// envelope carries.
fn like_from_posts_page(s: &common::Server, id: i64) -> i64 {
    let r = s.post_form(
        "/api/like_post",
        &[
            ("x-tandem", "1"),
            ("x-tandem-page", "/posts"),
            ("x-tandem-queries", r#"[["/api/get_posts",""]]"#),
        ],
        &format!("post={id}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let envelope: Value = serde_json::from_str(&r.body).expect("an envelope");
    let fresh = envelope["queries"]
        .as_array()
        .and_then(|queries| queries.iter().find(|q| q["query"][0] == "/api/get_posts"))
        .unwrap_or_else(|| panic!("fresh get_posts in {}", r.body));
    let posts: Value =
        serde_json::from_str(fresh["body"].as_str().expect("a JSON body")).expect("posts");
    posts
        .as_array()
        .and_then(|posts| posts.iter().find(|p| p["id"] == id))
        .and_then(|post| post["likes"].as_i64())
        .unwrap_or_else(|| panic!("post {id} and its likes in {posts}"))
}

#[test]
fn each_like_on_the_posts_page_answers_with_the_fresh_count() {
    let s = start("fresh");
    s.create_post("Liked");
    // Read as the page reads it (a read without a page is kept under the
    // function's own path, which no page's revalidation names).
    let posts = s.post_form("/api/get_posts", &[("x-tandem-page", "/posts")], "");
    let posts: Value = serde_json::from_str(&posts.body).expect("posts");
    let id = posts[0]["id"].as_i64().expect("the new post's id");
    for expected in 1..=3 {
        assert_eq!(like_from_posts_page(&s, id), expected, "like {expected}");
    }
}

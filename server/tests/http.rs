//! Bad requests over real HTTP against the real server binary: each gets the
//! right 4xx with a message, and none changes any state. And 200 concurrent
//! likes raise the total by exactly 200.
//!
//! Every test starts its own server (port 0, its own SQLite file), so tests
//! run in parallel without seeing each other's writes.

mod common;

use common::{start, Server};

#[test]
fn get_on_a_server_function_is_405_with_allow() {
    let s = start("get");
    let before = s.likes();
    let r = s.request("GET", "/api/increment_like", &[], b"");
    assert_eq!(r.status, 405);
    assert!(r.headers.contains("allow: post"), "{}", r.headers);
    assert!(r.body.contains("POST"), "{}", r.body);
    let r = s.request("PUT", "/api/increment_like", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(s.likes(), before);
}

#[test]
fn a_foreign_origin_is_403_and_changes_nothing() {
    let s = start("origin");
    let before = s.likes();
    let r = s.post_form(
        "/api/increment_like",
        &[("Origin", "http://evil.example")],
        "",
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("evil.example"), "{}", r.body);
    let r = s.post_form(
        "/api/increment_like",
        &[("Sec-Fetch-Site", "cross-site")],
        "",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = s.post_form(
        "/api/increment_like",
        &[("Referer", "http://evil.example/page")],
        "",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // A form posted to a page from another site: refused the same way.
    let posts = s.post_count();
    let r = s.post_form(
        "/posts/new",
        &[("Origin", "http://evil.example")],
        "__tandem_action=%2Fapi%2Fcreate_post_with_state&prev=%22%22&title=Evil&content=x",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(s.likes(), before);
    assert_eq!(s.post_count(), posts);
    // The same origin is fine.
    let own = format!("http://{}", s.addr);
    let r = s.post_form("/api/increment_like", &[("Origin", own.as_str())], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.likes(), before + 1);
}

#[test]
fn a_body_over_the_limit_is_413_and_changes_nothing() {
    let s = start("limit");
    let posts = s.post_count();
    let big = format!("prev=%22%22&title=Big&content={}", "x".repeat(2 << 20));
    let r = s.post_form("/api/create_post_with_state", &[], &big);
    assert_eq!(r.status, 413);
    assert!(r.body.contains("limit"), "{}", r.body);
    assert_eq!(s.post_count(), posts);
}

#[test]
fn malformed_input_is_400_naming_the_field_and_changes_nothing() {
    let s = start("malformed");
    let posts = s.post_count();
    let r = s.post_form(
        "/api/create_post_with_state",
        &[],
        "prev=%22%22&content=no+title",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("title"), "{}", r.body);
    let r = s.post_form("/api/delete_post", &[], "");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id"), "{}", r.body);
    let r = s.post_form(
        "/api/create_post_with_state",
        &[],
        "prev=%7Bbroken&title=x&content=y",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("prev"), "{}", r.body);
    assert_eq!(s.post_count(), posts);
}

/// The `delete_token` of the newest post, as `get_posts` hands it out.
fn newest_token(s: &Server) -> String {
    let r = s.post_form("/api/get_posts", &[], "");
    let start = r.body.find("\"delete_token\":\"").expect("a token") + 16;
    r.body[start..]
        .split('"')
        .next()
        .expect("token")
        .to_string()
}

#[test]
fn a_forged_or_tampered_bound_argument_is_403_and_deletes_nothing() {
    let s = start("bound");
    s.create_post("Keep");
    let posts = s.post_count();
    let token = newest_token(&s);
    // The raw id, as a page would post it without the server's seal.
    let r = s.post_form("/api/delete_post", &[], "id=1");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("refused bound argument"), "{}", r.body);
    // One character in the middle changed.
    let mut tampered: Vec<char> = token.chars().collect();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let r = s.post_form("/api/delete_post", &[], &format!("id={tampered}"));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(s.post_count(), posts);
    // The real token works.
    let r = s.post_form("/api/delete_post", &[], &format!("id={token}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.post_count(), posts - 1);
}

#[test]
fn an_unsupported_content_type_is_415() {
    let s = start("type");
    let before = s.likes();
    let r = s.request(
        "POST",
        "/api/increment_like",
        &[("Content-Type", "text/xml")],
        b"<like/>",
    );
    assert_eq!(r.status, 415, "{}", r.body);
    assert!(r.body.contains("text/xml"), "{}", r.body);
    assert_eq!(s.likes(), before);
}

#[test]
fn an_unknown_function_is_404() {
    let s = start("unknown");
    let r = s.post_form("/api/drop_all_tables", &[], "");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("/api/drop_all_tables"), "{}", r.body);
    let r = s.post_form(
        "/posts",
        &[],
        "__tandem_action=%2Fapi%2Fdrop_all_tables&title=x",
    );
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn too_many_mounted_queries_is_400_and_changes_nothing() {
    let s = start("queries");
    let before = s.likes();
    let many = format!("[{}]", vec![r#"["/api/get_likes",""]"#; 33].join(","));
    let r = s.post_form(
        "/api/increment_like",
        &[("x-tandem", "1"), ("x-tandem-queries", many.as_str())],
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("at most 32"), "{}", r.body);
    let r = s.post_form(
        "/api/increment_like",
        &[("x-tandem", "1"), ("x-tandem-queries", "not json")],
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(s.likes(), before);
}

#[test]
fn two_hundred_concurrent_likes_add_exactly_two_hundred() {
    let s = start("concurrent");
    let before = s.likes();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..200)
            .map(|_| scope.spawn(|| s.post_form("/api/increment_like", &[], "").status))
            .collect();
        for h in handles {
            assert_eq!(h.join().expect("thread"), 200);
        }
    });
    assert_eq!(s.likes(), before + 200);
}

#[test]
fn a_mutation_named_as_a_query_is_400_and_runs_nothing() {
    let s = start("not-a-query");
    let before = s.likes();
    // increment_like named among the queries to read again: the whole
    // request is refused, the action (another increment_like) included.
    let r = s.post_form(
        "/api/increment_like",
        &[
            ("x-tandem", "1"),
            ("x-tandem-queries", r#"[["/api/increment_like",""]]"#),
        ],
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("not a declared query"), "{}", r.body);
    // Behind a harmless action too.
    let r = s.post_form(
        "/api/get_likes",
        &[
            ("x-tandem", "1"),
            (
                "x-tandem-queries",
                r#"[["/api/get_likes",""],["/api/increment_like",""]]"#,
            ),
        ],
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(s.likes(), before);
}

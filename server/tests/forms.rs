//! Forms over real HTTP: multipart bodies within their limits, issues per
//! field, a guarded function, the rate limit of `sign_up`.

mod common;

use common::{start, start_with, temp_dir, Server};

const BOUNDARY: &str = "tandemTestBoundary";

/// A 1×1 PNG's signature and then `extra` bytes.
fn png(extra: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(8 + extra, 0);
    bytes
}

/// A multipart body: text fields, then the file `avatar` if given.
fn multipart(fields: &[(&str, &str)], avatar: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(bytes) = avatar {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Valid sign-up fields for `username`.
fn fields(username: &str) -> Vec<(&str, &str)> {
    vec![
        ("username", username),
        ("email", "ann@example.com"),
        ("password", "correct horse"),
    ]
}

/// `sign_up` called as a plain POST.
fn sign_up(s: &Server, username: &str, avatar: Option<&[u8]>) -> common::Reply {
    let ct = content_type();
    s.request(
        "POST",
        "/api/sign_up",
        &[("Content-Type", ct.as_str())],
        &multipart(&fields(username), avatar),
    )
}

/// Whether `username` is stored (by whether a second sign-up says it is
/// taken).
fn is_stored(s: &Server, username: &str) -> bool {
    let r = sign_up(s, username, None);
    match r.status {
        200 => false,
        422 if r.body.contains("Username is taken") => true,
        other => panic!("sign_up answered {other}: {}", r.body),
    }
}

#[test]
fn a_multipart_body_over_the_limit_is_413_and_stores_nothing() {
    let s = start("multipart-413");
    // 2 MiB: over the 1 MiB body limit, whatever the avatar's own limit.
    let big = png(2 << 20);
    let r = sign_up(&s, "too_big", Some(&big));
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("limit"), "says what was wrong: {}", r.body);
    // Posted natively (no JavaScript) to the page: the same.
    let mut body = multipart(&[("__tandem_action", "/api/sign_up")], None);
    body.truncate(body.len() - format!("--{BOUNDARY}--\r\n").len());
    body.extend_from_slice(&multipart(&fields("too_big"), Some(&big)));
    let ct = content_type();
    let r = s.request(
        "POST",
        "/signup",
        &[
            ("Content-Type", ct.as_str()),
            ("Origin", &format!("http://{}", s.addr)),
        ],
        &body,
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        !is_stored(&s, "too_big"),
        "the refused sign-ups stored nothing"
    );
}

#[test]
fn a_file_over_its_own_limit_is_that_fields_issue_and_stores_nothing() {
    let s = start("multipart-file-limit");
    // 300 KiB: within the body limit, over the avatar's 256 KiB. Asked
    // for Tandem's envelope (a 200 holding the function's status and the
    // issues), as its client does.
    let ct = content_type();
    let r = s.request(
        "POST",
        "/api/sign_up",
        &[("Content-Type", ct.as_str()), ("x-tandem", "1")],
        &multipart(&fields("big_avatar"), Some(&png(300 * 1024))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let envelope: serde_json::Value = serde_json::from_str(&r.body).expect("an envelope");
    assert_eq!(envelope["status"], 422, "{}", r.body);
    assert_eq!(
        envelope["effects"]["issues"],
        serde_json::json!([{ "field": "avatar", "message": "Avatar must be at most 256 KiB" }]),
        "{}",
        r.body
    );
    assert!(!is_stored(&s, "big_avatar"));
    assert_eq!(
        s.request("GET", "/avatars/big_avatar", &[], b"").status,
        404,
        "no avatar stored"
    );

    // Without the envelope, the body still says what was wrong.
    let ct = content_type();
    let r = s.request(
        "POST",
        "/api/sign_up",
        &[("Content-Type", ct.as_str())],
        &multipart(&[("username", "x"), ("email", "nope")], None),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("email: Email must contain @"), "{}", r.body);
}

#[test]
fn a_signed_up_user_gets_an_http_only_session_and_their_avatar_back() {
    let s = start("sign-up");
    let avatar = png(1000);
    let r = sign_up(&s, "ann_1", Some(&avatar));
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r
        .headers
        .lines()
        .find(|l| l.starts_with("set-cookie: session="))
        .unwrap_or_else(|| panic!("a session cookie: {}", r.headers));
    assert!(cookie.contains("httponly"), "{cookie}");
    let served = s.request("GET", "/avatars/ann_1", &[], b"");
    assert_eq!(served.status, 200);
    assert!(
        served.headers.contains("content-type: image/png"),
        "{}",
        served.headers
    );
    // The bytes as they were sent (the reply is read as text, lossily:
    // compare their length; the browser test compares every byte).
    assert!(
        served
            .headers
            .contains(&format!("content-length: {}", avatar.len())),
        "{}",
        served.headers
    );
}

/// The guestbook as `get_guestbook` returns it.
fn guestbook(s: &Server) -> String {
    let r = s.post_form("/api/get_guestbook", &[], "");
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[test]
fn a_guarded_function_without_a_session_is_401_and_changes_nothing() {
    let s = start("guarded");
    let before = guestbook(&s);
    // No cookie at all.
    let r = s.post_form("/api/sign_guestbook", &[], "message=hello");
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("Sign up or sign in first"), "{}", r.body);
    // The guard runs before the body: an empty message is not even
    // looked at (the body would say 422, "Message is required").
    let r = s.post_form("/api/sign_guestbook", &[], "message=");
    assert_eq!(r.status, 401, "{}", r.body);
    // A cookie the server did not seal.
    let r = s.post_form(
        "/api/sign_guestbook",
        &[("Cookie", "session=forged")],
        "message=hello",
    );
    assert_eq!(r.status, 401, "{}", r.body);
    // Posted natively to the page: the page, with 401.
    let origin = format!("http://{}", s.addr);
    let r = s.post_form(
        "/signup",
        &[("Origin", origin.as_str())],
        "__tandem_action=%2Fapi%2Fsign_guestbook&message=hello",
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Sign up or sign in first"));
    assert_eq!(guestbook(&s), before, "nothing was written");

    // With the session sign_up set, the same call goes through.
    let r = sign_up(&s, "bob_2", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let session = r.cookie("session").expect("a session cookie");
    let r = s.post_form(
        "/api/sign_guestbook",
        &[("Cookie", session.as_str())],
        "message=hello",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(guestbook(&s).contains("\"username\":\"bob_2\""));
}

#[test]
fn sign_up_is_rate_limited_per_client_with_429() {
    let dir = temp_dir("rate-limit");
    let s = start_with(&dir, &[("TANDEM_DEMO_SIGNUP_LIMIT", "3")]);
    for i in 0..3 {
        // Refused or not, each call counts.
        let r = sign_up(&s, "x", None);
        assert_eq!(r.status, 422, "call {i}: {}", r.body);
    }
    let r = sign_up(&s, "limited_1", Some(&png(10)));
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many sign-ups"), "{}", r.body);
    assert_eq!(
        s.request("GET", "/avatars/limited_1", &[], b"").status,
        404,
        "a limited call stores nothing"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
}

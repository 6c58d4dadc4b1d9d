//! The server probed as an attacker would, over real HTTP against the real
//! server binary: one test per finding of the security review (values
//! written back into pages, requests leptos_axum cannot handle, the
//! origin's scheme, foreign hosts, slow clients, statuses without JS,
//! loose parsing, security headers). Each asserts that nothing changed.

mod common;

use common::{start, start_with, temp_dir, Reply, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Values that would be live markup if written back raw.
const PAYLOADS: &[&str] = &[
    "</textarea><script>window.__xss=1</script>",
    "\"><img src=x onerror=\"window.__xss=2\">",
];

/// What must never appear verbatim in a page.
const LIVE: &[&str] = &["<script>window.__xss", "<img src=x onerror"];

fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn assert_no_live_markup(what: &str, reply: &Reply) {
    for live in LIVE {
        assert!(
            !reply.body.contains(live),
            "{what}: the page holds live markup {live:?}:\n{}",
            reply.body
        );
    }
}

/// Finding 1: a value written back into a form never breaks out of its
/// element, for every demo form, whatever the fields hold.
#[test]
fn values_written_back_into_forms_stay_inside_them() {
    let s = start("xss");
    let likes = s.likes();
    // (page, the form's hidden fields)
    let forms: &[(&str, &str)] = &[
        ("/posts", "__tandem_action=%2Fapi%2Fcreate_post&prev=null"),
        ("/posts", "__tandem_action=%2Fapi%2Fdelete_post"),
        (
            "/posts/new",
            "__tandem_action=%2Fapi%2Fcreate_post_with_state&prev=%22%22",
        ),
        ("/cookies", "__tandem_button=%2Fapi%2Fset_name_cookie"),
        ("/refresh", "__tandem_action=%2Fapi%2Fbump_counter"),
        ("/tags", "__tandem_button=%2Fapi%2Fchange_price_silently"),
        // A button of another function, with text fields of its own.
        ("/posts", "__tandem_button=%2Fapi%2Fincrement_like"),
    ];
    for (page, hidden) in forms {
        for payload in PAYLOADS {
            let p = encode(payload);
            // A blank title keeps the create forms on the page (refused).
            let body = format!("{hidden}&title=%20&content={p}&id={p}&name={p}&extra={p}");
            let reply = s.post_form(page, &[], &body);
            assert!(
                reply.status == 200 || (400..500).contains(&reply.status),
                "{page} {hidden}: {}",
                reply.status
            );
            assert_no_live_markup(&format!("{page} {hidden}"), &reply);
            // A refused field that is written back shows as text.
            if page.starts_with("/posts") && reply.body.contains("name=\"content\"") {
                assert!(
                    !reply.body.contains("</textarea><script>"),
                    "{page}: {}",
                    reply.body
                );
            }
        }
    }
    // increment_like ran once per payload, through its own button.
    assert_eq!(s.likes(), likes + 2);
    // A stored title with markup is shown as text.
    for payload in PAYLOADS {
        let r = s.post_form(
            "/api/create_post_with_state",
            &[],
            &format!(
                "prev=%22%22&title={}&content={}",
                encode(payload),
                encode(payload)
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_no_live_markup("GET /posts", &s.request("GET", "/posts", &[], b""));
    }
    // The textarea shows what was typed, escaped.
    let reply = s.post_form(
        "/posts",
        &[],
        &format!(
            "__tandem_action=%2Fapi%2Fcreate_post&prev=null&title=%20&content={}",
            encode(PAYLOADS[0])
        ),
    );
    assert!(
        reply
            .body
            .contains("&lt;/textarea&gt;&lt;script&gt;window.__xss=1&lt;/script&gt;"),
        "{}",
        reply.body
    );
}

/// Finding 2: requests leptos_axum cannot handle are answered 400 before
/// they reach it, and nothing runs.
#[test]
fn request_targets_that_are_not_paths_are_400_and_run_nothing() {
    let s = start("targets");
    let likes = s.likes();
    let body = "__tandem_action=%2Fapi%2Fincrement_like";
    let targets = [
        format!("POST {} HTTP/1.1", s.addr),
        format!("GET {} HTTP/1.1", s.addr),
        "OPTIONS * HTTP/1.1".to_string(),
        "POST http://evil.example/posts HTTP/1.1".to_string(),
        "GET http://evil.example/likes HTTP/1.1".to_string(),
    ];
    for line in targets {
        let request = format!(
            "{line}\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            s.addr,
            body.len()
        );
        let reply = s.raw(request.as_bytes());
        assert_eq!(reply.status, 400, "{line}: {}", reply.body);
    }
    assert_eq!(s.likes(), likes, "nothing ran");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!s.logged("panicked"), "no panic: {:?}", s.log.lock());
}

/// Finding 3: the origin means scheme, host and port.
#[test]
fn an_origin_of_another_scheme_is_403() {
    let s = start("scheme");
    let likes = s.likes();
    for scheme in ["ftp", "https"] {
        let origin = format!("{scheme}://{}", s.addr);
        let r = s.post_form("/api/increment_like", &[("Origin", origin.as_str())], "");
        assert_eq!(r.status, 403, "{origin}: {}", r.body);
    }
    let other_port = format!("http://{}", s.addr.replace(':', ":1"));
    let r = s.post_form(
        "/api/increment_like",
        &[("Origin", other_port.as_str())],
        "",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(s.likes(), likes);
    let own = format!("http://{}", s.addr);
    assert_eq!(
        s.post_form("/api/increment_like", &[("Origin", own.as_str())], "")
            .status,
        200
    );
}

/// Finding 4: a Host that is not the site's own is refused on every
/// request, pages included (DNS rebinding).
#[test]
fn a_foreign_host_is_400_on_every_request() {
    let s = start("host");
    let likes = s.likes();
    let raw = |head: &str, body: &str| {
        s.raw(
            format!(
                "{head}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
    };
    let r = raw(
        "POST /api/increment_like HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example",
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("evil.example"), "{}", r.body);
    let r = raw("GET /likes HTTP/1.1\r\nHost: evil.example:80", "");
    assert_eq!(r.status, 400, "{}", r.body);
    let r = raw(
        "POST /posts HTTP/1.1\r\nHost: evil.example",
        "__tandem_action=%2Fapi%2Fincrement_like",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(s.likes(), likes);
    // localhost is this loopback server's own name; so is its address.
    let port = s.addr.rsplit(':').next().unwrap_or_default();
    let r = raw(
        &format!("GET /likes HTTP/1.1\r\nHost: localhost:{port}"),
        "",
    );
    assert_eq!(r.status, 200);
}

/// A listed host is the site's own; `TANDEM_ALLOWED_HOSTS` lists them.
#[test]
fn allowed_hosts_come_from_the_environment() {
    let dir = temp_dir("allowed-hosts");
    let s = start_with(
        &dir,
        &[("TANDEM_ALLOWED_HOSTS", "shop.example, admin.example")],
    );
    let get = |host: &str| {
        s.raw(
            format!("GET /likes HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .status
    };
    assert_eq!(get("shop.example"), 200);
    assert_eq!(get("admin.example:8080"), 200);
    assert_eq!(get("evil.example"), 400);
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
}

/// Finding 5: slow clients are dropped: a half-sent request head after the
/// header-read timeout, a half-sent body after the body timeout (408).
#[test]
fn slow_clients_are_dropped() {
    let dir = temp_dir("slow");
    let s = start_with(
        &dir,
        &[("TANDEM_HEADER_TIMEOUT", "2"), ("TANDEM_BODY_TIMEOUT", "2")],
    );
    let likes = s.likes();
    // 200 connections, each with half a request head.
    let mut held: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut c = TcpStream::connect(&s.addr).expect("connect");
            c.write_all(b"POST /api/increment_like HTTP/1.1\r\nHost: ")
                .expect("write");
            c
        })
        .collect();
    let start = Instant::now();
    let mut closed = 0;
    for c in held.iter_mut() {
        c.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut buf = [0u8; 256];
        match c.read(&mut buf) {
            Ok(0) | Err(_) => closed += 1,
            Ok(_) => closed += 1, // answered and closed
        }
    }
    assert_eq!(closed, 200);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "all dropped within the timeout: {:?}",
        start.elapsed()
    );
    // A whole head, half a body: 408, and the connection closes.
    let mut c = TcpStream::connect(&s.addr).expect("connect");
    write!(
        c,
        "POST /api/increment_like HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nabc",
        s.addr
    )
    .expect("write");
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut reply = String::new();
    let _ = c.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert_eq!(s.likes(), likes);
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
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

/// Finding 6: a refused post without JavaScript renders the page with the
/// function's status, not 200.
#[test]
fn a_refused_post_without_js_keeps_its_status() {
    let s = start("nojs-status");
    let r = s.create_post("Keep");
    let id: String = r.body.chars().filter(char::is_ascii_digit).collect();
    let posts = s.post_count();
    let token = newest_token(&s);
    // A forged bound argument, posted by that row's delete form: 403, the
    // page.
    let r = s.post_form(
        "/posts",
        &[],
        &format!("__tandem_action=%2Fapi%2Fdelete_post&__tandem_form={id}&id=forged"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.headers.contains("text/html"), "{}", r.headers);
    // The page, with the refusal in its error boundary.
    assert!(
        r.body.contains("data-testid=\"error-boundary\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("refused bound argument"), "{}", r.body);
    // Arguments that do not decode: 400, the page.
    let r = s.post_form(
        "/posts/new",
        &[],
        "__tandem_action=%2Fapi%2Fcreate_post_with_state&prev=%7Bbroken&title=x&content=y",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.headers.contains("text/html"), "{}", r.headers);
    assert_eq!(s.post_count(), posts);
    // The real token still works without JS: the page, 200.
    let r = s.post_form(
        "/posts",
        &[],
        &format!("__tandem_action=%2Fapi%2Fdelete_post&__tandem_form={id}&id={token}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.post_count(), posts - 1);
}

/// Finding 7: content types are parsed, a repeated queries header is
/// refused, and pages carry the security headers with Leptos's nonce.
#[test]
fn strict_parsing_and_security_headers() {
    let s = start("strict");
    let likes = s.likes();
    // Not a form: the app's route answers, no function runs.
    let r = s.request(
        "POST",
        "/posts",
        &[("Content-Type", "application/x-www-form-urlencodedXYZ")],
        b"__tandem_action=%2Fapi%2Fincrement_like",
    );
    assert_ne!(r.status, 200, "{}", r.body);
    let r = s.request(
        "POST",
        "/api/increment_like",
        &[("Content-Type", "application/x-www-form-urlencodedXYZ")],
        b"",
    );
    assert_eq!(r.status, 415, "{}", r.body);
    // A repeated x-tandem-queries header.
    let one = r#"[["/api/get_likes",""]]"#;
    let r = s.post_form(
        "/api/increment_like",
        &[
            ("x-tandem", "1"),
            ("x-tandem-queries", one),
            ("x-tandem-queries", one),
        ],
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(s.likes(), likes);

    let page = s.request("GET", "/likes", &[], b"");
    assert_eq!(page.status, 200);
    let header = |name: &str| {
        page.headers
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_default()
            .to_string()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The headers are lower-cased by the helper; the nonce is in the page.
    let nonce_start = page.body.find("nonce=\"").expect("a script nonce") + 7;
    let nonce = &page.body[nonce_start..].split('"').next().expect("nonce");
    assert!(
        csp.contains(&format!("'nonce-{}'", nonce.to_ascii_lowercase())),
        "{csp} names {nonce}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
    // Every script in the page carries the nonce.
    for (i, _) in page.body.match_indices("<script") {
        let tag = &page.body[i..i + page.body[i..].find('>').unwrap_or(0)];
        assert!(tag.contains("nonce="), "a script without the nonce: {tag}");
    }
}

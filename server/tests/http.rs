//! Bad requests over real HTTP against the real server binary: each gets the
//! right 4xx with a message, and none changes any state. And 200 concurrent
//! likes raise the total by exactly 200.
//!
//! Every test starts its own server (port 0, its own SQLite file), so tests
//! run in parallel without seeing each other's writes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(name: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("tandem-http-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "tandem-demo")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/test.db", dir.display()),
        )
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server exited before listening")
            .expect("read stdout");
        if let Some(url) = line.split("listening on http://").nth(1) {
            break url.trim().to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr, dir }
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Server {
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("write head");
        // The server may answer (413) before reading a large body.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Reply {
            status,
            headers: head.to_ascii_lowercase(),
            body: dechunk(head, body),
        }
    }

    fn post_form(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.request("POST", path, &all, body.as_bytes())
    }

    fn likes(&self) -> i64 {
        let r = self.post_form("/api/get_likes", &[], "");
        assert_eq!(r.status, 200, "get_likes: {}", r.body);
        r.body.trim().parse().expect("a number")
    }

    fn post_count(&self) -> usize {
        let r = self.post_form("/api/get_posts", &[], "");
        assert_eq!(r.status, 200, "get_posts: {}", r.body);
        r.body.matches("\"id\"").count()
    }
}

fn dechunk(head: &str, body: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

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
    let r = s.post_form(
        "/api/create_post_with_state",
        &[],
        "prev=%22%22&title=Keep&content=x",
    );
    assert_eq!(r.status, 200, "{}", r.body);
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

//! The real server binary over real HTTP, shared by the integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running server binary.
pub(crate) struct Server {
    child: Child,
    /// `host:port`.
    pub(crate) addr: String,
    /// Removed on drop, when it is this server's own.
    own_dir: Option<PathBuf>,
    /// What it printed (stdout and stderr), line by line.
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.own_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A server with its own SQLite file in a fresh temp dir.
pub(crate) fn start(name: &str) -> Server {
    let dir = temp_dir(name);
    let mut server = start_with(&dir, &[]);
    server.own_dir = Some(dir);
    server
}

/// A fresh temp dir for `name`.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tandem-http-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A server on `dir/test.db` (which other servers may share) with extra
/// environment.
pub(crate) fn start_with(dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "tandem-demo")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/test.db", dir.display()),
        )
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start the server binary");
    let log = Arc::new(Mutex::new(Vec::new()));
    // Keep draining both pipes so the server never blocks on a full one.
    let stderr = child.stderr.take().expect("stderr");
    let err_log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            err_log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the server exited before listening: {:?}", log.lock()))
            .expect("read stdout");
        if let Some(url) = line.split("listening on http://").nth(1) {
            break url.trim().to_string();
        }
        log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    };
    let out_log = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            out_log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    Server {
        child,
        addr,
        own_dir: None,
        log,
    }
}

impl Server {
    /// Kills it.
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether a line it printed contains `text`.
    pub(crate) fn logged(&self, text: &str) -> bool {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|l| l.contains(text))
    }
}

/// A response.
pub(crate) struct Reply {
    /// Its status code.
    pub(crate) status: u16,
    /// Its head, lower-cased.
    pub(crate) headers: String,
    /// Its head as it came.
    pub(crate) head: String,
    /// Its body, de-chunked.
    pub(crate) body: String,
}

impl Server {
    /// One request on a fresh connection.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
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
        // The body is written while the reply is read, as a browser does:
        // the server may answer (413) before it has read all of it.
        let mut writer = stream.try_clone().expect("clone the stream");
        let body = body.to_vec();
        let sending = std::thread::spawn(move || {
            let _ = writer.write_all(&body);
        });
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let _ = sending.join();
        parse_reply(&raw)
    }

    /// Sends `bytes` as they are on a fresh connection and reads the reply
    /// until the server closes the connection (or 30 s pass).
    pub(crate) fn raw(&self, bytes: &[u8]) -> Reply {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream.write_all(bytes).expect("write");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_reply(&raw)
    }

    /// A URL-encoded POST.
    pub(crate) fn post_form(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.request("POST", path, &all, body.as_bytes())
    }

    /// Creates a post titled `title` (content `x`) through
    /// `create_post_with_state`, as a script would: its `200` answer.
    pub(crate) fn create_post(&self, title: &str) -> Reply {
        let r = self.post_form(
            "/api/create_post_with_state",
            &[],
            &format!("prev=%22%22&title={title}&content=x"),
        );
        assert_eq!(r.status, 200, "create_post_with_state: {}", r.body);
        r
    }

    /// The stored likes.
    pub(crate) fn likes(&self) -> i64 {
        let r = self.post_form("/api/get_likes", &[], "");
        assert_eq!(r.status, 200, "get_likes: {}", r.body);
        r.body.trim().parse().expect("a number")
    }

    /// How many posts are stored.
    pub(crate) fn post_count(&self) -> usize {
        let r = self.post_form("/api/get_posts", &[], "");
        assert_eq!(r.status, 200, "get_posts: {}", r.body);
        r.body.matches("\"id\"").count()
    }
}

impl Reply {
    /// `name=value` of the cookie `name` it sets, as it came.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            let pair = value.trim().split(';').next()?;
            (key.eq_ignore_ascii_case("set-cookie") && pair.starts_with(&format!("{name}=")))
                .then(|| pair.to_string())
        })
    }
}

/// A reply read off the wire (status 0: none).
fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: head.to_ascii_lowercase(),
        head: head.to_string(),
        body: dechunk(head, body),
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

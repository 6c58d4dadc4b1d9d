//! `cargo xtask test`: every test, against real parts.
//!
//! Rust unit and doc tests; the browser features of `tandem` compiled for
//! wasm32; the release site built and served on a free loopback port with a
//! fresh SQLite file; the Playwright suite in headless Chromium against it;
//! the client-only Trunk build, served by `trunk serve` with `/api` proxied
//! to the same server, and its browser test. Servers stop when this ends,
//! whatever happened.

use crate::build;
use crate::setup::{self, chromium_path, Purpose};
use crate::util::{cmd, fail, free_port, root, timed, Error, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub(crate) fn run() -> Result<()> {
    let start = Instant::now();
    setup::run(Purpose::Test)?;
    let root = root();

    timed("formatting (cargo fmt --all --check)", || {
        cmd("cargo")
            .args(["fmt", "--all", "--check"])
            .current_dir(&root)
            .status_ok()
    })?;
    timed(
        "the import rule of tandem/src, no import circles (cargo xtask layout)",
        crate::layout::run,
    )?;
    timed(
        "lints (cargo clippy --workspace --all-targets -- -D warnings)",
        || {
            cmd("cargo")
                .args(["clippy", "--workspace", "--all-targets"])
                .args(["--", "-D", "warnings"])
                .current_dir(&root)
                .status_ok()
        },
    )?;

    timed("Rust tests (cargo test --workspace)", || {
        cmd("cargo")
            .args(["test", "--workspace", "--", "--skip", "many_instances_"])
            .current_dir(&root)
            .status_ok()
    })?;
    timed(
        "many instances: redis-server and two demo servers on one database",
        || {
            cmd("cargo")
                .args(["test", "-p", "server", "--test", "scale_out"])
                .args(["--", "--nocapture", "many_instances_"])
                .current_dir(&root)
                .status_ok()
        },
    )?;
    timed(
        "the browser builds of tandem and the app compile for wasm32, lint-free (hydrate, csr)",
        || {
            for feature in ["hydrate", "csr"] {
                cmd("cargo")
                    .args(["clippy", "-p", "tandem", "-p", "app"])
                    .args(["--target", "wasm32-unknown-unknown"])
                    .args(["--features", feature, "--", "-D", "warnings"])
                    .current_dir(&root)
                    .status_ok()?;
            }
            Ok(())
        },
    )?;

    build::release_site()?;

    let scratch = root.join("target/e2e");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let server = timed(
        "starting the release server on a free loopback port",
        || Server::start(&scratch),
    )?;
    println!("    {} (log: {})", server.url, server.log.display());

    timed("browser tests (Playwright, headless Chromium)", || {
        // The error-id test finds the id in the server's log.
        let log = server.log.display().to_string();
        playwright(
            "ssr",
            &[
                ("BASE_URL", server.url.as_str()),
                ("SERVER_LOG", log.as_str()),
            ],
        )
    })?;

    timed("client-only build (trunk build --release)", || {
        cmd("trunk")
            .args(["build", "--release"])
            .current_dir(&root)
            .status_ok()
    })?;
    let spa = timed(
        "serving the client-only build (trunk serve, /api proxied)",
        || TrunkServe::start(&scratch, &server.url),
    )?;
    timed("browser test of the client-only build", || {
        playwright(
            "csr",
            &[
                ("BASE_URL", server.url.as_str()),
                ("CSR_URL", spa.url.as_str()),
            ],
        )
    })?;
    drop(spa);
    drop(server);

    // What `cargo xtask dev` gives a user: `cargo leptos watch`, an edit,
    // live reload.
    crate::devloop::run()?;

    println!(
        "\nall tests passed in {:.0}s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn playwright(project: &str, env: &[(&str, &str)]) -> Result<()> {
    let mut c = cmd("npx")
        .args(["playwright", "test", "--project", project])
        .current_dir(root().join("end2end"))
        .env("CHROMIUM_PATH", chromium_path());
    for (k, v) in env {
        c = c.env(k, v);
    }
    c.status_ok()
}

/// A child process killed when dropped.
pub(crate) struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The release server, on a port the OS picked, with its own database.
pub(crate) struct Server {
    child: Guard,
    pub(crate) url: String,
    pub(crate) log: PathBuf,
}

impl Server {
    /// Starts `target/release/server` with its data and log under `dir` and
    /// waits for its "listening on" line.
    pub(crate) fn start(dir: &Path) -> Result<Self> {
        let log = dir.join("server.log");
        let db = dir.join("e2e.db");
        let child = cmd(build::server_binary())
            .current_dir(root())
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("LEPTOS_SITE_ROOT", build::site_root())
            .env("LEPTOS_ENV", "PROD")
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            // Release builds need the key of bound arguments.
            .env("TANDEM_SECRET", test_secret())
            // The browser tests sign up more than the demo's 10 a minute
            // from one address (server/tests/http.rs checks the limit).
            .env("TANDEM_DEMO_SIGNUP_LIMIT", "1000")
            .into_inner()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error(format!("cannot start the server: {e}")))?;
        let mut child = Guard(child);
        let url = wait_for_line(&mut child.0, &log, "listening on ", Duration::from_secs(60))?;
        Ok(Server { child, url, log })
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.0.id()
    }
}

/// `trunk serve` of the client-only build, proxying `/api` to `backend`.
struct TrunkServe {
    _child: Guard,
    url: String,
}

impl TrunkServe {
    fn start(dir: &Path, backend: &str) -> Result<Self> {
        let root = root();
        let port = free_port()?;
        // The checked-in Trunk.toml proxies to :3000 (the dev server); this
        // copy points at the test server instead, with absolute paths.
        let config = dir.join("Trunk.toml");
        let text = format!(
            "[build]\ntarget = {target:?}\ndist = {dist:?}\noffline = true\nrelease = true\n\n\
             [tools]\nwasm_bindgen = {wb:?}\nwasm_opt = \"version_{wo}\"\n\n\
             [serve]\naddresses = [\"127.0.0.1\"]\nport = {port}\nopen = false\nno_autoreload = true\n\n\
             [[proxy]]\nbackend = \"{backend}/api\"\n",
            target = root.join("client/index.html").display().to_string(),
            dist = root.join("target/trunk-dist").display().to_string(),
            wb = crate::util::locked_version("wasm-bindgen")?,
            wo = setup::WASM_OPT_VERSION,
        );
        std::fs::File::create(&config)?.write_all(text.as_bytes())?;
        let log = dir.join("trunk-serve.log");
        let child = cmd("trunk")
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .current_dir(&root)
            .into_inner()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error(format!("cannot start trunk serve: {e}")))?;
        let mut child = Guard(child);
        // Trunk logs "server listening at:" once the first build is served.
        wait_for_line(
            &mut child.0,
            &log,
            "server listening at",
            Duration::from_secs(300),
        )?;
        Ok(TrunkServe {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

/// A fresh 32-byte key, base64, for the test server.
pub(crate) fn test_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    // 32 bytes = 10 groups of 3 and 2 left over: 43 characters and one '='.
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, b| acc << 8 | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out.push('=');
    out
}

/// Copies the child's stdout and stderr into `log` and waits for a line
/// containing `marker`. Returns the `http://…` URL on that line, if any, or
/// the line itself.
pub(crate) fn wait_for_line(
    child: &mut Child,
    log: &Path,
    marker: &str,
    timeout: Duration,
) -> Result<String> {
    let file = std::fs::File::create(log)?;
    let (tx, rx) = mpsc::channel::<String>();
    let streams: Vec<Box<dyn std::io::Read + Send>> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for stream in streams {
        let tx = tx.clone();
        let mut file = file.try_clone()?;
        let marker = marker.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(|l| l.ok()) {
                let _ = writeln!(file, "{line}");
                if line.contains(&marker) {
                    let _ = tx.send(line);
                }
            }
        });
    }
    drop(tx);
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return fail(format!(
                "it exited ({status}) before it was ready; see {}",
                log.display()
            ));
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let url = line
                    .find("http://")
                    .map(|i| {
                        line[i..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .unwrap_or(line);
                return Ok(url);
            }
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => continue,
            Err(_) => {
                return fail(format!(
                    "not ready after {}s; see {}",
                    timeout.as_secs(),
                    log.display()
                ))
            }
        }
    }
}

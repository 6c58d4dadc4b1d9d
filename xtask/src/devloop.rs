//! The dev loop, tested: what `cargo xtask dev` gives a user, end to end.
//!
//! `cargo leptos watch` runs in a scratch copy of the workspace
//! (`target/devloop/ws`), so nothing in the checkout is touched, with its
//! own target directory (`target/devloop/target`, kept between runs: the
//! second run rebuilds only what changed) and free ports. Then, in
//! headless Chromium (`end2end/devloop/devloop.spec.ts`):
//!
//! 1. `GET /likes` answers 200;
//! 2. the page hydrates: a Like click updates the total;
//! 3. the text of a view in `app/src/pages/likes.rs` is edited in the copy;
//! 4. the served page shows the new text, and the open page reloads by
//!    itself (live reload) and shows it too.
//!
//! The watch process and everything it started are stopped whatever
//! happened (they run in a process group of their own). The times from the
//! edit to the fresh page are printed and written to
//! `target/devloop/timing.json`.

use crate::setup::{self, chromium_path, Purpose};
use crate::util::{cmd, fail, free_port, root, timed, Error, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The file the test edits, relative to the workspace.
const EDITED: &str = "app/src/pages/likes.rs";

/// How long the first build may take (a cold one on 2 cores is ~6 min).
const FIRST_BUILD: Duration = Duration::from_secs(30 * 60);

/// Where the scratch copy, its target directory and the logs live.
fn base() -> PathBuf {
    root().join("target/devloop")
}

pub(crate) fn run() -> Result<()> {
    setup::run(Purpose::Dev)?;
    let base = base();
    let ws = base.join("ws");
    timed("copying the workspace into target/devloop/ws", || {
        let copied = sync(&root(), &ws)?;
        println!("    {copied} files written (unchanged files are kept, for incremental builds)");
        // `cargo leptos end-to-end` runs Playwright in the copy's end2end:
        // it uses the checkout's npm packages.
        let modules = ws.join("end2end/node_modules");
        if std::fs::symlink_metadata(&modules).is_err() {
            std::os::unix::fs::symlink(root().join("end2end/node_modules"), &modules)?;
        }
        Ok(())
    })?;
    let site_port = free_port()?;
    let mut reload_port = free_port()?;
    while reload_port == site_port {
        reload_port = free_port()?;
    }
    let url = format!("http://127.0.0.1:{site_port}");
    let log = base.join("watch.log");
    let db = base.join("dev.db");
    for suffix in ["", "-shm", "-wal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mut watch = timed(
        &format!("cargo leptos watch in the copy (log: {})", log.display()),
        || Watch::start(&ws, &base.join("target"), &log, site_port, reload_port, &db),
    )?;
    timed(
        &format!("waiting for GET {url}/likes to answer 200"),
        || watch.wait_for_page(site_port, "/likes", FIRST_BUILD),
    )?;
    let timing = base.join("timing.json");
    let _ = std::fs::remove_file(&timing);
    timed(
        "dev loop in Chromium: hydrated, edit a view, served and reloaded",
        || {
            cmd("npx")
                .args(["playwright", "test", "--project", "devloop"])
                .current_dir(root().join("end2end"))
                .env("CHROMIUM_PATH", chromium_path())
                .env("BASE_URL", &url)
                .env("DEVLOOP_FILE", ws.join(EDITED))
                .env("DEVLOOP_TIMING", &timing)
                .status_ok()
                .map_err(|e| watch.explain(e))
        },
    )?;
    drop(watch);
    if let Ok(text) = std::fs::read_to_string(&timing) {
        println!("    dev loop timing: {}", text.trim());
    }
    timed(
        "cargo leptos end-to-end in the copy (the /likes browser tests)",
        || {
            let port = free_port()?;
            let out = cmd("cargo")
                .args(["leptos", "end-to-end", crate::build::SPLIT])
                .current_dir(&ws)
                .env_remove("CARGO_INCREMENTAL")
                .env("CARGO_TARGET_DIR", base.join("target"))
                .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", format!("sqlite://{}", db.display()))
                .env("BASE_URL", format!("http://127.0.0.1:{port}"))
                .env("E2E_GREP", "likes\\.spec")
                .env("CHROMIUM_PATH", chromium_path())
                .output()?;
            println!("{out}");
            // cargo-leptos exits 0 when its build fails, without running
            // the tests: a run counts only if the tests passed.
            if out.contains(" passed") && !out.contains(" failed") {
                Ok(())
            } else {
                fail("cargo leptos end-to-end did not run the browser tests to a pass (see above)")
            }
        },
    )?;
    Ok(())
}

/// Copies the workspace's sources into `to`, writing only the files whose
/// content differs (cargo then rebuilds only what changed). Skips build
/// output, git, node modules and data. Returns how many files it wrote.
pub(crate) fn sync(from: &Path, to: &Path) -> Result<usize> {
    const SKIP: &[&str] = &[
        "target",
        ".git",
        "node_modules",
        "data",
        "results",
        "test-results",
        "playwright-report",
        "fuzz",
    ];
    std::fs::create_dir_all(to)?;
    let mut written = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) {
            continue;
        }
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            written += sync(&entry.path(), &target)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path())?;
            if std::fs::read(&target).ok().as_deref() != Some(bytes.as_slice()) {
                std::fs::write(&target, bytes)?;
                written += 1;
            }
        }
    }
    Ok(written)
}

/// `cargo leptos watch` in a process group of its own, stopped (the whole
/// group) when dropped.
struct Watch {
    child: Child,
    log: PathBuf,
}

impl Watch {
    fn start(
        ws: &Path,
        target: &Path,
        log: &Path,
        site_port: u16,
        reload_port: u16,
        db: &Path,
    ) -> Result<Self> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let mut command = cmd("cargo")
            .args(crate::DEV_COMMAND)
            .current_dir(ws)
            .env("CARGO_TARGET_DIR", target)
            // cargo-leptos lets the environment override its configuration.
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{site_port}"))
            .env("LEPTOS_RELOAD_PORT", reload_port.to_string())
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            // What a user's `cargo leptos watch` does: incremental builds,
            // even where CI turns them off for the one-shot builds.
            .env_remove("CARGO_INCREMENTAL")
            .into_inner();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0);
        let child = command
            .spawn()
            .map_err(|e| Error(format!("cannot start cargo leptos watch: {e}")))?;
        Ok(Self {
            child,
            log: log.to_path_buf(),
        })
    }

    /// Waits until `GET path` answers 200, failing at once if the watch
    /// process exits.
    fn wait_for_page(&mut self, port: u16, path: &str, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        let mut last;
        loop {
            if let Some(status) = self.exited() {
                return fail(format!(
                    "cargo leptos watch exited ({status}) before serving {path}\n{}",
                    self.tail()
                ));
            }
            match get(port, path) {
                Ok(200) => return Ok(()),
                Ok(status) => last = format!("status {status}"),
                Err(e) => last = e,
            }
            if start.elapsed() > timeout {
                return fail(format!(
                    "GET {path} did not answer 200 within {}s (last: {last})\n{}",
                    timeout.as_secs(),
                    self.tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The exit status, if the process has exited.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// The last lines of the log.
    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "--- last lines of {} ---\n{}",
            self.log.display(),
            lines[from..].join("\n")
        )
    }

    /// A failure, with the end of the watch log.
    fn explain(&self, e: Error) -> Error {
        Error(format!("{e}\n{}", self.tail()))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        for signal in ["-TERM", "-KILL"] {
            let _ = std::process::Command::new("kill")
                .args([signal, "--", group.as_str()])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.wait();
    }
}

/// The status of `GET path` on the loopback port, over a raw socket (no
/// HTTP client needed).
fn get(port: u16, path: &str) -> std::result::Result<u16, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&head[..n]);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {text:?}"))
}

//! Running commands, timing steps, and where things are.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Everything xtask reports as a failure.
#[derive(Debug)]
pub(crate) struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

/// Builds an error from anything printable.
pub(crate) fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error(msg.into()))
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub(crate) fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// PATH with the project's npm tools (wasm-opt from binaryen) and
/// `$CARGO_HOME/bin` first, so cargo-leptos and trunk find the right ones.
pub(crate) fn tool_path() -> std::ffi::OsString {
    let mut dirs = vec![
        root().join("tools/node_modules/.bin"),
        cargo_home().join("bin"),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Prints a step header.
pub(crate) fn step(what: &str) {
    println!("\n==> {what}");
}

/// Runs `f` as a named step and prints how long it took.
pub(crate) fn timed<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    step(what);
    let start = Instant::now();
    let out = f();
    let secs = start.elapsed().as_secs_f64();
    match &out {
        Ok(_) => println!("    done in {secs:.1}s"),
        Err(_) => println!("    failed after {secs:.1}s"),
    }
    out
}

/// A command with the project's tool PATH.
pub(crate) fn cmd(program: impl AsRef<OsStr>) -> Cmd {
    let mut c = Command::new(program);
    c.env("PATH", tool_path());
    Cmd(c)
}

/// A thin wrapper over `Command` whose runs turn failures into [`Error`]s
/// naming the command.
pub(crate) struct Cmd(pub Command);

impl Cmd {
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.0.args(args);
        self
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.0.arg(arg);
        self
    }

    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.0.env(key, value);
        self
    }

    pub(crate) fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.0.env_remove(key);
        self
    }

    pub(crate) fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.0.current_dir(dir);
        self
    }

    fn describe(&self) -> String {
        let mut s = self.0.get_program().to_string_lossy().into_owned();
        for a in self.0.get_args() {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    /// Runs with inherited output; fails unless it exits 0.
    pub(crate) fn status_ok(mut self) -> Result<()> {
        let what = self.describe();
        println!("    $ {what}");
        let status = self
            .0
            .status()
            .map_err(|e| Error(format!("cannot run `{what}`: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            fail(format!("`{what}` failed ({status})"))
        }
    }

    /// Runs capturing stdout and stderr (together, in order of lines
    /// read); fails unless it exits 0.
    pub(crate) fn output(mut self) -> Result<String> {
        let what = self.describe();
        println!("    $ {what}");
        let out = self
            .0
            .output()
            .map_err(|e| Error(format!("cannot run `{what}`: {e}")))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            fail(format!("`{what}` failed ({}):\n{text}", out.status))
        }
    }

    /// Runs capturing output; the trimmed stdout if it exits 0, else `None`
    /// (also when the program is missing).
    pub(crate) fn stdout_if_ok(mut self) -> Option<String> {
        let out = self.0.output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    pub(crate) fn into_inner(self) -> Command {
        self.0
    }
}

/// The version of `name` recorded in the workspace's Cargo.lock.
pub(crate) fn locked_version(name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))?;
    let needle = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(v.trim_matches('"').to_string());
            }
        }
    }
    fail(format!("{name} is not in Cargo.lock"))
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// A port the OS says is free on loopback.
pub(crate) fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

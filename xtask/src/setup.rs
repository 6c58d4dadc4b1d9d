//! Installing what is missing, and skipping what is already right.
//!
//! Every tool is checked by version first, so a second run takes seconds.
//! The recipes follow `shared/toolchain.md`: only package registries are
//! reachable, so nothing here downloads a prebuilt binary.

use crate::util::{self, cmd, fail, root, timed, Result};
use std::path::PathBuf;

/// What the tools are for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `cargo leptos watch`.
    Dev,
    /// The release build only (`cargo leptos build --release`).
    Build,
    /// Every test, browsers, Redis and the dev loop (cargo-leptos) included.
    Test,
    /// `cargo xtask bench`: the release build, Chromium, wrk.
    Bench,
    /// All of the above.
    All,
}

pub(crate) const CARGO_LEPTOS_VERSION: &str = "0.3.11";
pub(crate) const TRUNK_VERSION: &str = "0.21.14";
/// binaryen's wasm-opt from npm; Debian's (108) breaks Rust 1.95 output.
pub(crate) const WASM_OPT_VERSION: &str = "132";

pub(crate) fn run(purpose: Purpose) -> Result<()> {
    let dev = matches!(purpose, Purpose::Dev | Purpose::All);
    let test = matches!(purpose, Purpose::Test | Purpose::All);
    wasm_target()?;
    wasm_bindgen_cli()?;
    wasm_opt()?;
    // Every build goes through it: `cargo leptos watch` for dev, `cargo
    // leptos build --release` for the tests and the bench.
    cargo_leptos()?;
    let bench = matches!(purpose, Purpose::Bench | Purpose::All);
    if dev || test || bench {
        end2end_packages()?;
    }
    // Debian's packages, in one apt run: the browser for the browser tests
    // and the bench, redis-server for the many-instances tests, wrk for the
    // bench's load.
    let mut wanted: Vec<(&str, String)> = Vec::new();
    if test || bench {
        wanted.push(("chromium", chromium_path()));
    }
    if test {
        wanted.push(("redis-server", "redis-server".into()));
    }
    if bench {
        wanted.push(("wrk", "wrk".into()));
    }
    apt_packages(&wanted)?;
    if test {
        trunk()?;
    }
    Ok(())
}

fn wasm_target() -> Result<()> {
    let installed = cmd("rustup")
        .args(["target", "list", "--installed"])
        .stdout_if_ok()
        .unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    timed("adding the wasm32-unknown-unknown target (rustup)", || {
        cmd("rustup")
            .args(["target", "add", "wasm32-unknown-unknown"])
            .status_ok()
    })
}

/// The first line of `program --version`, if it runs.
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    cmd(program)
        .args(args)
        .stdout_if_ok()
        .and_then(|s| s.lines().next().map(str::to_string))
}

fn wasm_bindgen_cli() -> Result<()> {
    let version = util::locked_version("wasm-bindgen")?;
    if version_of("wasm-bindgen", &["--version"]) == Some(format!("wasm-bindgen {version}")) {
        return Ok(());
    }
    timed(
        &format!("installing wasm-bindgen-cli {version} (the Cargo.lock version; ~2 min)"),
        // Its lock names webpki-roots 1.0.11, which the registry here lacks.
        || cargo_install("wasm-bindgen-cli", &version, &[("webpki-roots", "1.0.10")]),
    )
}

fn cargo_leptos() -> Result<()> {
    let have = version_of("cargo", &["leptos", "--version"]).unwrap_or_default();
    if have.ends_with(CARGO_LEPTOS_VERSION) {
        return Ok(());
    }
    timed(
        &format!("installing cargo-leptos {CARGO_LEPTOS_VERSION} (~14 min on 2 cores)"),
        // cargo-util-schemas 0.14.2 in its lock needs rustc 1.96.
        || {
            cargo_install(
                "cargo-leptos",
                CARGO_LEPTOS_VERSION,
                &[("cargo-util-schemas", "0.14.1")],
            )
        },
    )
}

fn trunk() -> Result<()> {
    if version_of("trunk", &["--version"]) == Some(format!("trunk {TRUNK_VERSION}")) {
        return Ok(());
    }
    timed(
        &format!("installing trunk {TRUNK_VERSION} (~6 min on 2 cores)"),
        || cargo_install("trunk", TRUNK_VERSION, &[]),
    )
}

/// `cargo install --locked`; when the published lock cannot be used here,
/// installs from the source that attempt extracted, with `pins` applied.
fn cargo_install(krate: &str, version: &str, pins: &[(&str, &str)]) -> Result<()> {
    let locked = cmd("cargo")
        .args(["install", krate, "--locked", "--version", version])
        .status_ok();
    if locked.is_ok() || pins.is_empty() {
        return locked;
    }
    println!("    (expected on this toolchain) retrying from source with pinned lock entries");
    let src = registry_source(krate, version)?;
    let work = std::env::temp_dir().join(format!("xtask-install-{krate}-{version}"));
    let _ = std::fs::remove_dir_all(&work);
    util::copy_dir(&src, &work)?;
    for (package, precise) in pins {
        cmd("cargo")
            .args(["update", "-p", package, "--precise", precise])
            .current_dir(&work)
            .status_ok()?;
    }
    let installed = cmd("cargo")
        .args(["install", "--path", ".", "--locked"])
        .current_dir(&work)
        .status_ok();
    let _ = std::fs::remove_dir_all(&work);
    installed
}

/// Where cargo extracted `krate-version` in its registry cache.
fn registry_source(krate: &str, version: &str) -> Result<PathBuf> {
    let src = util::cargo_home().join("registry/src");
    let wanted = format!("{krate}-{version}");
    if let Ok(indexes) = std::fs::read_dir(&src) {
        for index in indexes.flatten() {
            let candidate = index.path().join(&wanted);
            if candidate.join("Cargo.toml").is_file() {
                return Ok(candidate);
            }
        }
    }
    fail(format!(
        "the source of {wanted} is not under {}",
        src.display()
    ))
}

fn wasm_opt() -> Result<()> {
    let bin = root().join("tools/node_modules/.bin/wasm-opt");
    let have = version_of(&bin.to_string_lossy(), &["--version"]).unwrap_or_default();
    if have.contains(&format!("version {WASM_OPT_VERSION}")) {
        return Ok(());
    }
    timed(
        &format!("installing wasm-opt {WASM_OPT_VERSION} (npm binaryen) into tools/"),
        || npm_ci(root().join("tools")),
    )
}

fn end2end_packages() -> Result<()> {
    let dir = root().join("end2end");
    let wanted = package_version(&dir.join("package.json"), "@playwright/test");
    let have = package_version(
        &dir.join("node_modules/@playwright/test/package.json"),
        "version",
    );
    if wanted.is_some() && wanted == have {
        return Ok(());
    }
    timed(
        "installing the Playwright test runner (npm ci in end2end/)",
        || npm_ci(dir),
    )
}

fn npm_ci(dir: PathBuf) -> Result<()> {
    cmd("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status_ok()
}

/// A `"key": "value"` string from a small JSON file (enough for
/// package.json; avoids a JSON dependency in xtask).
fn package_version(file: &std::path::Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let needle = format!("\"{key}\"");
    let rest = &text[text.find(&needle)? + needle.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// Installs the Debian packages whose program is missing: `(package,
/// program)` pairs.
fn apt_packages(wanted: &[(&str, String)]) -> Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(_, program)| !runs(program))
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    timed(
        &format!(
            "installing {} from Debian (apt-get; ~2 min)",
            missing.join(", ")
        ),
        || {
            let sudo = !is_root();
            let apt = |args: &[&str]| {
                let (program, rest): (&str, Vec<&str>) = if sudo {
                    (
                        "sudo",
                        std::iter::once("apt-get")
                            .chain(args.iter().copied())
                            .collect(),
                    )
                } else {
                    ("apt-get", args.to_vec())
                };
                cmd(program)
                    .args(rest)
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .status_ok()
            };
            apt(&["update", "-qq"])?;
            let mut args = vec!["install", "-y", "-qq"];
            args.extend(&missing);
            apt(&args)
        },
    )
}

/// Whether `program` is installed (found on PATH, or at that path).
fn runs(program: &str) -> bool {
    if program.contains('/') {
        return std::path::Path::new(program).is_file();
    }
    std::env::split_paths(&util::tool_path()).any(|dir| dir.join(program).is_file())
}

/// The browser the tests drive: `CHROMIUM_PATH`, or Debian's.
pub(crate) fn chromium_path() -> String {
    std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn is_root() -> bool {
    cmd("id").arg("-u").stdout_if_ok().as_deref() == Some("0")
}
